"""Chasing referrals that miss their deadlines, in sets.

For each deadline (acknowledge by; decide by, once acknowledged), after it
passes:

| stage | when (working days after the deadline) | who is told                                  |
|-------|----------------------------------------|----------------------------------------------|
| 1     | 1 (the first working day after)        | the recipient (or the agency's partner leads) |
| 2     | 2                                      | the agency's key contact and deputy           |
| 3     | 3                                      | our managers (the sender's line of escalation) |

The job works stage by stage, in bounded batches: one query finds the
referrals due for a stage and not yet chased for it (``Referral.due_on`` is
indexed, and a reminder row marks what was done), a few queries find whom to
tell, and one statement each queues the messages and records the reminders.
Each reminder is unique per referral, deadline, due date and stage, and each
message per dedupe key, so running it twice, or in two processes at once,
sends nothing twice; people who have left, or whose accounts are closed, are
never told. Nothing due costs one indexed query per stage, at any size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from agencies import messaging
from agencies.models import Agency
from hub.auth.models import User
from hub.auth.services import active_managers
from hub.db import db, today, utcnow
from hub.notifications.services import Message, notify_many
from hub.workdays import is_working_day
from referrals.models import Referral, ReferralReminder
from referrals.states import Status

STAGES = (1, 2, 3)
BATCH = 500  # referrals per batch: each batch is one short transaction when the job commits it


def stage_cutoff(on: dt.date, stage: int) -> dt.date:
    """A deadline before this date has had at least ``stage`` working days pass by ``on``: the
    ``stage``-th working day counting back from ``on`` (``on`` included)."""
    day, counted = on, 0
    while True:
        if is_working_day(day):
            counted += 1
            if counted == stage:
                return day
        day -= dt.timedelta(days=1)


_KIND = sa.case((Referral.status == Status.SENT, sa.literal("acknowledge")), else_=sa.literal("decide"))


def _due(stage: int, on: dt.date, limit: int) -> Sequence[sa.Row[Any]]:
    chased = (
        sa.select(ReferralReminder.id)
        .where(
            ReferralReminder.referral_id == Referral.id,
            ReferralReminder.deadline == _KIND,
            ReferralReminder.due_on == Referral.due_on,
            ReferralReminder.stage == stage,
        )
        .exists()
    )
    return db.session.execute(
        sa.select(
            Referral.id,
            Referral.reference,
            Referral.status,
            Referral.due_on,
            Referral.recipient_contact_id,
            Referral.agency_id,
            Agency.name,
            Agency.key_contact_id,
            Agency.deputy_contact_id,
        )
        .join(Agency, Agency.id == Referral.agency_id)
        .where(Referral.due_on < stage_cutoff(on, stage), ~chased)
        .order_by(Referral.due_on.asc().nullslast(), Referral.id.desc())
        .limit(limit)
    ).all()


def _texts(reference: str, agency: str, status: Status, due_on: dt.date) -> tuple[str, str]:
    what = "acknowledge" if status is Status.SENT else "accept or decline"
    subject = f"Overdue: referral {reference} for {agency}"
    body = (
        f"Referral {reference} to {agency} was due to be {what}d by {due_on:%-d %B %Y} "
        f"and is still {status.label.lower()}."
    )
    return subject, body


def chase_stage(stage: int, on: dt.date | None = None, limit: int = BATCH) -> int:
    """Send one batch of the reminders or escalations of ``stage`` that are due and not yet sent.
    Returns how many referrals were chased (0: nothing more is due for this stage)."""
    on = on or today()
    due = _due(stage, on, limit)
    if not due:
        return 0
    messages: list[Message] = []
    told: dict[int, list[str]] = {}  # referral id -> dedupe keys of the messages meant for it
    reach = messaging.reach_of(
        [r.recipient_contact_id for r in due if r.recipient_contact_id]
        if stage == 1
        else [c for r in due for c in (r.key_contact_id, r.deputy_contact_id) if c]
    )
    leads: dict[int, list[User]] = {}
    if stage == 1:  # no reachable addressee: the agency's partner leads
        leads = messaging.leads_of(
            r.agency_id for r in due if not (r.recipient_contact_id and reach[r.recipient_contact_id].reachable)
        )
    managers: list[User] = active_managers() if stage == 3 else []
    for r in due:
        kind = "acknowledge" if r.status is Status.SENT else "decide"
        subject, body = _texts(r.reference, r.name, r.status, r.due_on)
        key = f"chase:{r.id}:{kind}:{r.due_on.isoformat()}:{stage}"
        # (who, account, address) for each person told about this referral at this stage
        people: list[tuple[str, User | None, str]] = []
        if stage == 1:
            event, text = "referral.overdue", " Please do it now."
            addressee = reach.get(r.recipient_contact_id) if r.recipient_contact_id else None
            if addressee is not None and addressee.reachable:
                people.append((f"c{addressee.contact.id}", addressee.user, addressee.contact.email))
            else:
                people += [(f"u{lead.id}", lead, "") for lead in leads.get(r.agency_id, [])]
        elif stage == 2:
            event, text = "referral.escalated", " You are told as the agency's key contact or deputy."
            for contact_id in dict.fromkeys(c for c in (r.key_contact_id, r.deputy_contact_id) if c):
                if reach[contact_id].reachable:
                    people.append((f"c{contact_id}", reach[contact_id].user, reach[contact_id].contact.email))
        else:
            event, text = "referral.escalated", " The agency's key contacts have been reminded."
            people += [(f"u{manager.id}", manager, "") for manager in managers]
        told[r.id] = [f"{key}:{who}" for who, _user, _email in people]
        messages += [
            Message(event, subject, body + text, f"/referrals/{r.id}", f"{key}:{who}", user=user, email=email)
            for who, user, email in people
        ]
    queued = notify_many(messages)
    insert = sqlite_insert if db.session.get_bind().dialect.name == "sqlite" else pg_insert
    db.session.execute(
        insert(ReferralReminder).on_conflict_do_nothing(),
        [
            {
                "referral_id": r.id,
                "deadline": "acknowledge" if r.status is Status.SENT else "decide",
                "due_on": r.due_on,
                "stage": stage,
                "sent_at": utcnow(),
                "recipients": sum(k in queued for k in told[r.id]),
            }
            for r in due
        ],
    )
    return len(due)


def chase_overdue_referrals(on: dt.date | None = None, commit: bool = False) -> int:
    """Send every reminder and escalation that is due and not yet sent, stage by stage, batch by
    batch (each committed when ``commit``: a crash loses nothing done, and nothing is sent twice)."""
    on = on or today()
    sent = 0
    for stage in STAGES:
        while batch := chase_stage(stage, on):
            sent += batch
            if commit:
                db.session.commit()
            if batch < BATCH:
                break
    db.session.flush()
    return sent
