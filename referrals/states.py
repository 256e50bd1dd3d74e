"""Referral statuses and the transitions between them (``API.md``).

Statuses map to FHIR Task statuses: draft (draft), sent (requested),
acknowledged (received), accepted (accepted), declined (rejected),
in_progress (in-progress), on_hold (on-hold), completed (completed),
cancelled (cancelled).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class Status(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


OPEN = frozenset({Status.DRAFT, Status.SENT, Status.ACKNOWLEDGED, Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD})
# Open and already shared with the agency: what a lost basis puts on hold.
SHARED_OPEN = OPEN - {Status.DRAFT, Status.ON_HOLD}


class Side(enum.StrEnum):
    SENDER = "sender"  # the host organisation
    RECIPIENT = "recipient"  # the receiving agency


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status | None  # None: decided by the referral (resume goes back where it was)
    side: Side
    needs_reason: bool = False


TRANSITIONS: dict[str, Transition] = {
    "send": Transition(frozenset({Status.DRAFT}), Status.SENT, Side.SENDER),
    "acknowledge": Transition(frozenset({Status.SENT}), Status.ACKNOWLEDGED, Side.RECIPIENT),
    "accept": Transition(frozenset({Status.SENT, Status.ACKNOWLEDGED}), Status.ACCEPTED, Side.RECIPIENT),
    "decline": Transition(frozenset({Status.SENT, Status.ACKNOWLEDGED}), Status.DECLINED, Side.RECIPIENT, True),
    "start": Transition(frozenset({Status.ACCEPTED}), Status.IN_PROGRESS, Side.RECIPIENT),
    "hold": Transition(frozenset({Status.ACCEPTED, Status.IN_PROGRESS}), Status.ON_HOLD, Side.RECIPIENT, True),
    "resume": Transition(frozenset({Status.ON_HOLD}), None, Side.RECIPIENT),
    "complete": Transition(frozenset({Status.IN_PROGRESS}), Status.COMPLETED, Side.RECIPIENT),
    "cancel": Transition(OPEN, Status.CANCELLED, Side.SENDER, True),
}

ACTION_LABELS = {
    "send": "Send",
    "acknowledge": "Acknowledge",
    "accept": "Accept",
    "decline": "Decline",
    "start": "Start work",
    "hold": "Put on hold",
    "resume": "Resume",
    "complete": "Complete",
    "cancel": "Cancel referral",
}


def due_on(status: Status, acknowledge_by: dt.date | None, decide_by: dt.date | None) -> dt.date | None:
    """The deadline a referral in ``status`` waits on: acknowledging while sent, deciding once
    acknowledged, none otherwise. The one statement of this rule; ``Referral.due_on`` stores it."""
    if status is Status.SENT:
        return acknowledge_by
    if status is Status.ACKNOWLEDGED:
        return decide_by
    return None
