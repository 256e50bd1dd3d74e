"""Chasing referrals that miss their deadlines.

For each deadline (acknowledge by; decide by, once acknowledged), after it
passes:

| stage | when (working days after the deadline) | who is told                                  |
|-------|----------------------------------------|----------------------------------------------|
| 1     | 1 (the first working day after)        | the recipient (or the agency's partner leads) |
| 2     | 2                                      | the agency's key contact and deputy           |
| 3     | 3                                      | our managers (the sender's line of escalation) |

Each stage is recorded in ``referral_reminders`` (unique per referral,
deadline, due date and stage), so running the job again sends nothing twice;
people who have left, or whose accounts are closed, are never told.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from agencies import messaging
from agencies.models import Agency, Contact
from hub.auth.services import active_managers
from hub.db import db, today
from hub.notifications.services import notify
from hub.workdays import working_days_between
from referrals import notify as tell
from referrals.models import Referral, ReferralReminder
from referrals.states import Status

STAGES = (1, 2, 3)


def _deadline(referral: Referral) -> tuple[str, dt.date] | None:
    if referral.status is Status.SENT and referral.acknowledge_by is not None:
        return "acknowledge", referral.acknowledge_by
    if referral.status is Status.ACKNOWLEDGED and referral.decide_by is not None:
        return "decide", referral.decide_by
    return None


def overdue_stage(due_on: dt.date, on: dt.date) -> int:
    """How many stages are due: working days since the deadline, at most 3."""
    return min(working_days_between(due_on, on), len(STAGES))


def _already_sent(referral_id: int) -> set[tuple[str, dt.date, int]]:
    rows = db.session.execute(
        sa.select(ReferralReminder.deadline, ReferralReminder.due_on, ReferralReminder.stage).where(
            ReferralReminder.referral_id == referral_id
        )
    ).all()
    return {(d, due, s) for d, due, s in rows}


def _send_stage(referral: Referral, deadline: str, due_on: dt.date, stage: int) -> int:
    agency = db.session.get(Agency, referral.agency_id)
    assert agency is not None
    what = "acknowledge" if deadline == "acknowledge" else "accept or decline"
    subject = f"Overdue: referral {referral.reference} for {agency.name}"
    body = (
        f"Referral {referral.reference} to {agency.name} was due to be {what}d by {due_on:%-d %B %Y} "
        f"and is still {referral.status.label.lower()}."
    )
    dedupe = f"chase:{referral.id}:{deadline}:{due_on.isoformat()}:{stage}"
    if stage == 1:
        return tell.tell_recipient(referral, "referral.overdue", subject, body + " Please do it now.", dedupe)
    if stage == 2:
        told = 0
        for contact_id in {agency.key_contact_id, agency.deputy_contact_id} - {None}:
            contact = db.session.get(Contact, contact_id)
            if contact is not None and contact.is_active:
                told += messaging.tell_contact(
                    contact,
                    kind="referral.escalated",
                    subject=subject,
                    body=body + " You are told as the agency's key contact or deputy.",
                    link=f"/referrals/{referral.id}",
                    dedupe_key=f"{dedupe}:c{contact.id}",
                )
        return told
    told = 0
    for manager in active_managers():
        told += bool(
            notify(
                user=manager,
                kind="referral.escalated",
                subject=subject,
                body=body + " The agency's key contacts have been reminded.",
                link=f"/referrals/{referral.id}",
                dedupe_key=f"{dedupe}:u{manager.id}",
            )
        )
    return told


def chase_overdue_referrals(on: dt.date | None = None) -> int:
    """Send every reminder and escalation that is due and not yet sent."""
    on = on or today()
    candidates = db.session.scalars(
        sa.select(Referral)
        .where(
            sa.or_(
                sa.and_(Referral.status == Status.SENT, Referral.acknowledge_by < on),
                sa.and_(Referral.status == Status.ACKNOWLEDGED, Referral.decide_by < on),
            )
        )
        .order_by(Referral.id)
    ).all()
    sent = 0
    for referral in candidates:
        deadline = _deadline(referral)
        if deadline is None:
            continue
        kind, due_on = deadline
        done = _already_sent(referral.id)
        for stage in STAGES[: overdue_stage(due_on, on)]:
            if (kind, due_on, stage) in done:
                continue
            recipients = _send_stage(referral, kind, due_on, stage)
            db.session.add(
                ReferralReminder(
                    referral_id=referral.id, deadline=kind, due_on=due_on, stage=stage, recipients=recipients
                )
            )
            sent += 1
    db.session.flush()
    return sent
