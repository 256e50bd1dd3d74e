"""When a referral's deadlines fall: acknowledge by, once sent; decide by, once acknowledged.

Invariants:
- A deadline is the agency's own number of working days (or the hub's default; an urgent
  referral never waits longer than the urgent default) from the day the step began.
- It is never later than the working day on or before the referral's ``needed_by``, and never
  brought forward to before today: work needed by a day already past leaves today to act.
- Being needed by a day never gives an agency longer than its usual time.
"""

from __future__ import annotations

import datetime as dt

from agencies.models import Agency
from hub.db import today
from hub.settings_access import settings
from hub.workdays import add_working_days, working_day_on_or_before
from referrals.models import Urgency


def acknowledge_days(agency: Agency, urgency: Urgency) -> int:
    cfg = settings()
    if urgency is Urgency.URGENT:
        return min(cfg.acknowledge_days_urgent, agency.acknowledge_days or cfg.acknowledge_days_urgent)
    return agency.acknowledge_days or cfg.acknowledge_days


def decide_days(agency: Agency) -> int:
    return agency.decide_days or settings().decide_days


def capped(usual: dt.date, needed_by: dt.date | None) -> dt.date:
    """``usual``, brought forward to the working day the work is needed by, but not to before today."""
    if needed_by is None:
        return usual
    return min(usual, max(today(), working_day_on_or_before(needed_by)))


def acknowledge_by(agency: Agency, urgency: Urgency, sent_on: dt.date, needed_by: dt.date | None) -> dt.date:
    return capped(add_working_days(sent_on, acknowledge_days(agency, urgency)), needed_by)


def decide_by(agency: Agency, acknowledged_on: dt.date, needed_by: dt.date | None) -> dt.date:
    return capped(add_working_days(acknowledged_on, decide_days(agency)), needed_by)
