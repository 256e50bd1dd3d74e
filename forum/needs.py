"""The forum's lines of the home page's "what needs you" (:mod:`hub.web.needs`).

- Our staff: forum actions overdue; minutes of held meetings past their due day and not circulated.
- A partner lead: their agency's open forum actions.
Capped counts: a fixed number of statements at any size.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from forum import policies
from forum.models import ActionStatus, ForumAction, Meeting, MeetingStatus
from hub.db import today
from hub.permissions import Actor, Role
from hub.web.needs import Need, capped_count

GROUP = "Forum"


def forum_needs(actor: Actor) -> list[Need]:
    on = today()
    if actor.is_staff:
        overdue = sa.select(ForumAction.id).where(ForumAction.status == ActionStatus.OPEN, ForumAction.due_on < on)
        late = sa.select(Meeting.id).where(Meeting.status == MeetingStatus.HELD, Meeting.minutes_due_on < on,
                                           Meeting.minutes_circulated_at.is_(None))  # fmt: skip
        return [
            Need(GROUP, "Forum actions overdue", capped_count(overdue), url_for("forum.actions"), urgent=True),
            Need(GROUP, "Forum minutes late to circulate", capped_count(late), url_for("forum.index")),
        ]
    if actor.role is Role.PARTNER_LEAD and policies.can_see_accountability(actor, actor.agency_id):
        mine = sa.select(ForumAction.id).where(ForumAction.agency_id == actor.agency_id,
                                               ForumAction.status == ActionStatus.OPEN)  # fmt: skip
        return [Need(GROUP, "Your agency's open forum actions", capped_count(mine), url_for("forum.actions"))]
    return []
