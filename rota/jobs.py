"""The rota's periodic jobs: generate the weeks ahead, remind agencies, and
tell the managers about gaps. Each is set-based and safe to run twice.

Reminders: 7 days before (sent from 7 to 2 days before, for a slot taken
late) and 1 day before, to the contact named to attend, else the agency's key
contact, else its partner leads (never a leaver: :mod:`rota.notices`), each
once per slot, agency and day (a dedupe key). The day before, our managers
hear of every slot still not confirmed. Every Monday they get the gaps of
the next 8 weeks.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from hub.auth.services import active_managers
from hub.db import db, today
from hub.notifications.services import Message, notify_many
from hub.scheduler import Job
from rota import generation, links, notices, queries
from rota.models import HELD, RotaSession, RotaSlot, SessionStatus, SlotStatus

KIND = "rota.reminder"
FIRST, LAST = 7, 2  # the week-before reminder goes between 7 and 2 days before


def _held_between(start: dt.date, end: dt.date) -> list[tuple[RotaSession, RotaSlot]]:
    rows = db.session.execute(
        sa.select(RotaSession, RotaSlot).join(RotaSlot, RotaSlot.session_id == RotaSession.id)
        .where(RotaSession.date.between(start, end), RotaSession.status == SessionStatus.SCHEDULED,
               RotaSlot.status.in_(HELD))
        .options(joinedload(RotaSlot.agency))
        .order_by(RotaSession.date, RotaSlot.id)
    ).all()  # fmt: skip
    return [(session, slot) for session, slot in rows]


def _reminder(session: RotaSession, slot: RotaSlot, days: int) -> tuple[str, str]:
    agency = slot.agency.name if slot.agency else "Your agency"
    soon = "tomorrow" if days == 1 else f"on {session.date:%A} {session.date.day} {session.date:%B}"
    subject = f"Drop-in {soon}: {slot.service.label}"
    body = f"{agency} is down for {slot.service.label.lower()} at the drop-in on {notices.when(session)}, "
    body += f"at {session.venue}."
    if slot.status is SlotStatus.TAKEN:
        body += (
            "\n\nPlease confirm you are coming, or say you cannot (the charity will find cover), with the "
            "link below. It works without signing in, for this slot only, until the day."
        )
    else:
        body += "\n\nYou have confirmed: thank you. If that has changed, say so as soon as you can with the link below."
    return subject, body


def send_reminders(on: dt.date | None = None) -> int:
    """Queue the reminders due today and not yet sent; returns how many were queued."""
    on = on or today()
    week = _held_between(on + dt.timedelta(days=LAST), on + dt.timedelta(days=FIRST))
    tomorrow = _held_between(on + dt.timedelta(days=1), on + dt.timedelta(days=1))
    people = notices.recipients([slot for _, slot in week + tomorrow])
    messages: list[Message] = []
    for batch, label in ((week, "7d"), (tomorrow, "1d")):
        for session, slot in batch:
            subject, body = _reminder(session, slot, (session.date - on).days)
            key = f"rota:remind:{slot.id}:{label}:{session.date.isoformat()}:a{slot.agency_id}"
            messages += [
                Message(KIND, subject, body, links.answer_path(slot, session, p.key), f"{key}:{p.key}", user=p.user,
                        email=p.email)
                for p in people.get(slot.id, [])
            ]  # fmt: skip
    unconfirmed = [(s, slot) for s, slot in tomorrow if slot.status is SlotStatus.TAKEN]
    if unconfirmed:
        lines = "\n".join(
            f"- {slot.service.label}: {slot.agency.name if slot.agency else ''}" for _, slot in unconfirmed
        )
        session = unconfirmed[0][0]
        for manager in active_managers():
            messages.append(Message(
                KIND, f"Drop-in tomorrow: {len(unconfirmed)} not confirmed",
                f"These agencies have not confirmed they are coming to the drop-in tomorrow:\n{lines}",
                f"/rota/sessions/{session.id}", f"rota:unconfirmed:{session.date.isoformat()}:u{manager.id}",
                user=manager))  # fmt: skip
    return len(notify_many(messages))


def send_gap_digest(on: dt.date | None = None) -> int:
    """The managers' weekly list of gaps and unconfirmed slots in the next 8 weeks (once a week each)."""
    on = on or today()
    end = on + dt.timedelta(weeks=queries.GRID_WEEKS)
    gaps = queries.gaps(on, end)
    risky = queries.at_risk(on, on + dt.timedelta(days=queries.AT_RISK_DAYS))
    if not gaps and not risky:
        return 0
    lines = [f"- {session.date:%a %-d %b}: {service.label}" for session, service, _ in gaps[:60]]
    if len(gaps) > 60:
        lines.append(f"- and {len(gaps) - 60} more")
    body = f"In the next {queries.GRID_WEEKS} weeks, {len(gaps)} wanted service(s) have no agency down:\n" + "\n".join(
        lines
    )
    if risky:
        body += f"\n\n{len(risky)} slot(s) in the next 7 days are not confirmed yet."
    monday = on - dt.timedelta(days=on.weekday())
    messages = [
        Message("rota.digest", f"Drop-in rota: {len(gaps)} gaps in the next {queries.GRID_WEEKS} weeks", body,
                "/rota", f"rota:digest:{monday.isoformat()}:u{m.id}", user=m)
        for m in active_managers()
    ]  # fmt: skip
    return len(notify_many(messages))


def generate_sessions() -> str:
    return f"{generation.generate(today())} sessions added"


def rota_reminders() -> str:
    return f"{send_reminders()} reminders"


def rota_digest() -> str:
    return f"{send_gap_digest()} digests"


JOBS = [
    Job("rota.generate-sessions", generate_sessions, cron={"hour": 2, "minute": 40},
        description="Add the drop-in sessions of the weeks ahead, their wanted slots and standing commitments"),
    Job("rota.reminders", rota_reminders, cron={"hour": 8, "minute": 0},
        description="Remind agencies 7 days and 1 day before their drop-in slots"),
    Job("rota.gap-digest", rota_digest, cron={"day_of_week": "mon", "hour": 7, "minute": 45},
        description="Tell the managers the drop-in's gaps in the next 8 weeks"),
]  # fmt: skip
