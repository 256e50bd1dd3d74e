"""How a referral's row changes: atomically, and into its history.

Invariants:
- A status change is a compare-and-set UPDATE: it happens only if the referral is still in a status
  it may leave from (else 409), so of two simultaneous steps exactly one succeeds.
- ``due_on`` (the deadline it waits on) moves with every change of status or deadline, through
  :func:`move`, and nowhere else.
- Each step is one row of its timeline (:func:`record_event`): who (kind, id, agency), from, to, and
  a note (a reason or an outcome, which is personal data: shown only while a basis is valid).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from hub.db import db, london_date, utcnow
from hub.permissions import Actor, Conflict
from hub.workdays import working_days_between
from referrals.models import Referral, ReferralEvent
from referrals.states import Status, due_on


def record_event(actor: Actor, referral: Referral, action: str, before: Status | None, note: str = "") -> None:
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            action=action,
            from_status=before.value if before else None,
            to_status=referral.status.value,
            actor_kind=actor.actor_kind,
            actor_id=actor.actor_id,
            actor_agency_id=actor.agency_id,
            note=note,
        )
    )


def _working_days(referral: Referral, values: dict[str, Any]) -> dict[str, int]:
    """The working days an acknowledgement or a decision took, when this step makes one."""
    found: dict[str, int] = {}
    acknowledged = values.get("acknowledged_at") or referral.acknowledged_at
    if values.get("acknowledged_at") and referral.acknowledged_at is None and referral.sent_at is not None:
        found["acknowledge_working_days"] = working_days_between(london_date(referral.sent_at),
                                                                 london_date(values["acknowledged_at"]))  # fmt: skip
    if values.get("decided_at") and acknowledged is not None:
        found["decide_working_days"] = working_days_between(london_date(acknowledged),
                                                            london_date(values["decided_at"]))  # fmt: skip
    return found


_COLUMNS = [(prop.key, prop.columns[0]) for prop in sa.inspect(Referral).column_attrs]


def move(referral: Referral, sources: set[Status] | frozenset[Status], target: Status, **values: Any) -> None:
    """Change status atomically: only if it is still in ``sources`` (a compare-and-set UPDATE; else 409),
    keeping ``due_on`` (the deadline it waits on) in step with the new status."""
    values["due_on"] = due_on(
        target, values.get("acknowledge_by", referral.acknowledge_by), values.get("decide_by", referral.decide_by)
    )
    values.update(_working_days(referral, values))
    # UPDATE ... RETURNING refreshes the referral's columns in the same round trip, leaving what was
    # loaded with it (agency, contact, the woman) in place rather than loading each again.
    row = db.session.execute(
        sa.update(Referral)
        .where(Referral.id == referral.id, Referral.status.in_([s.value for s in sources]))
        .values(status=target, updated_at=utcnow(), **values)
        .returning(*(column for _, column in _COLUMNS))
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        db.session.refresh(referral)
        raise Conflict(
            f"This referral is now {referral.status.label.lower()}: it cannot go from there to {target.label.lower()}."
        )
    for (key, _), value in zip(_COLUMNS, row, strict=True):
        set_committed_value(referral, key, value)
