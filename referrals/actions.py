"""The referral actions as the web pages and the API offer them: one row per
action, naming the use case that does it and the words it asks for first.

Who may take which action, and when, is ``policies.can_<action>_referral``
(:func:`referrals.policies.available_actions`); this table only connects an
action's name in a URL to its use case and its input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import marshmallow as ma

from hub.permissions import Actor
from referrals import schemas, services
from referrals.models import Referral


@dataclass(frozen=True)
class Action:
    run: Callable[[Actor, Referral, dict[str, Any]], Referral]
    schema: type[ma.Schema]
    asks_for: str | None  # the field a person fills in first ("reason", "outcome"), if any
    summary: str


ACTIONS: dict[str, Action] = {
    "send": Action(
        lambda actor, r, _d: services.send_referral(actor, r),
        schemas.EmptyIn,
        None,
        "Send a draft (host organisation). 422 with `missing` unless a valid consent or safeguarding decision "
        "covers the agency, the referral's `purpose` and every data category; sets `acknowledge_by` (no later "
        "than `needed_by`) and `recipient_contact_id`.",
    ),
    "acknowledge": Action(
        lambda actor, r, _d: services.acknowledge_referral(actor, r),
        schemas.EmptyIn,
        None,
        "Acknowledge a sent referral (the receiving agency); sets `decide_by` (no later than `needed_by`).",
    ),
    "accept": Action(
        lambda actor, r, _d: services.accept_referral(actor, r),
        schemas.EmptyIn,
        None,
        "Accept a sent or acknowledged referral (the receiving agency).",
    ),
    "decline": Action(
        lambda actor, r, d: services.decline_referral(actor, r, d.get("reason", "")),
        schemas.ReasonIn,
        "reason",
        "Decline a sent or acknowledged referral, with a `reason` (the receiving agency).",
    ),
    "start": Action(
        lambda actor, r, _d: services.start_referral(actor, r),
        schemas.EmptyIn,
        None,
        "Start work on an accepted referral (the receiving agency).",
    ),
    "hold": Action(
        lambda actor, r, d: services.hold_referral(actor, r, d.get("reason", "")),
        schemas.ReasonIn,
        "reason",
        "Put an accepted or in-progress referral on hold, with a `reason` (the receiving agency).",
    ),
    "resume": Action(
        lambda actor, r, _d: services.resume_referral(actor, r),
        schemas.EmptyIn,
        None,
        "Resume a referral on hold. The receiving agency resumes its own holds; a hold caused by a lost basis "
        "for sharing is resumed by the host organisation once a valid basis covers it again (422 `missing`).",
    ),
    "complete": Action(
        lambda actor, r, d: services.complete_referral(actor, r, d.get("outcome", "")),
        schemas.CompleteIn,
        "outcome",
        "Complete a referral in progress, with an optional `outcome` (the receiving agency).",
    ),
    "cancel": Action(
        lambda actor, r, d: services.cancel_referral(actor, r, d.get("reason", "")),
        schemas.ReasonIn,
        "reason",
        "Cancel an open referral, with a `reason` (host organisation).",
    ),
}
