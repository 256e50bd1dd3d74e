"""Sessions generated weeks ahead, the slots each wants, and standing
commitments applied to them: idempotent and set-based.

Each run, for every series running on the day:

1. one INSERT .. ON CONFLICT DO NOTHING adds the sessions of the next
   ``weeks_ahead`` weeks that are not there yet (``uq_rota_sessions_series_date``),
   flagging a bank holiday by its name (a manager decides whether to cancel);
2. one more adds, for each of those sessions, a slot for every service the
   series wants, at position 1 (``uq_rota_slots_position``); a wanted slot a
   manager took away "this week only" stays as a row marked not wanted, so it
   is never added back;
3. each standing commitment is applied once to each matching session
   (``rota_commitment_dates``): it takes a free slot of its service, else
   adds one; a session it was applied to before (even one the agency then
   said it could not come to) is never taken again.

Running twice, or after a change of pattern, adds nothing twice: the unique
keys refuse it. A few statements per run whatever the size of the rota.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub import workdays
from hub.db import db, today, utcnow
from rota.models import (
    FREE,
    RotaCommitment,
    RotaCommitmentDate,
    RotaOffer,
    RotaSeries,
    RotaSession,
    RotaSlot,
    RotaSlotEvent,
    SessionStatus,
    SlotStatus,
)


def _insert(model: type) -> sa.Insert:
    insert = sqlite_insert if db.session.get_bind().dialect.name == "sqlite" else pg_insert
    return insert(model).on_conflict_do_nothing()


def bank_holiday_name(day: dt.date) -> str:
    if not workdays.is_bank_holiday(day):
        return ""
    import holidays

    return str(holidays.country_holidays("GB", subdiv="ENG", years=[day.year]).get(day) or "Bank holiday")


def default_wanted() -> list[str]:
    """The services wanted at a one-off session: those of the first series still running."""
    series = db.session.scalar(sa.select(RotaSeries).where(RotaSeries.ends_on.is_(None)).order_by(RotaSeries.id))
    return list(series.wanted_services) if series else []


def dates_of(series: RotaSeries, on: dt.date) -> list[dt.date]:
    """The days of the series in the next ``weeks_ahead`` weeks from ``on`` (today included)."""
    start = max(on, series.starts_on)
    first = start + dt.timedelta(days=(series.weekday - start.weekday()) % 7)
    last = on + dt.timedelta(weeks=series.weeks_ahead)
    if series.ends_on is not None:
        last = min(last, series.ends_on)
    days = []
    day = first
    while day <= last:
        days.append(day)
        day += dt.timedelta(weeks=1)
    return days


def generate(on: dt.date, series_ids: Sequence[int] | None = None) -> int:
    """Add the sessions and wanted slots that are due and missing, then apply commitments; returns how many
    sessions were added."""
    query = sa.select(RotaSeries).where(sa.or_(RotaSeries.ends_on.is_(None), RotaSeries.ends_on >= on))
    if series_ids is not None:
        query = query.where(RotaSeries.id.in_(series_ids))
    added = 0
    now = utcnow()
    for series in db.session.scalars(query).all():
        days = dates_of(series, on)
        if not days:
            continue
        rows = [
            {"series_id": series.id, "date": day, "starts_at": series.starts_at, "ends_at": series.ends_at,
             "venue": series.venue, "status": SessionStatus.SCHEDULED.value, "cancel_reason": "",
             "bank_holiday": bank_holiday_name(day), "edited": False, "created_at": now, "updated_at": now}
            for day in days
        ]  # fmt: skip
        added += len(db.session.scalars(_insert(RotaSession).returning(RotaSession.id), rows).all())
        if series.wanted_services:
            sessions = db.session.scalars(sa.select(RotaSession.id).where(
                RotaSession.series_id == series.id, RotaSession.date.between(days[0], days[-1]),
                RotaSession.status == SessionStatus.SCHEDULED)).all()  # fmt: skip
            slots = [
                {"session_id": sid, "service": service, "position": 1, "wanted": True,
                 "status": SlotStatus.OPEN.value, "reason": "", "created_at": now, "updated_at": now}
                for sid in sessions for service in series.wanted_services
            ]  # fmt: skip
            if slots:
                db.session.execute(_insert(RotaSlot), slots)
    db.session.flush()
    apply_commitments(on)
    return added


def rewant(series: RotaSeries) -> None:
    """After the wanted services of a series change for all future weeks: future sessions gain a wanted slot
    for each new service (the generation's insert) and lose it for each dropped one (an open slot nobody ever
    held goes; any other stays, no longer counted as a gap)."""
    future = sa.select(RotaSession.id).where(RotaSession.series_id == series.id, RotaSession.date >= today())
    wanted = list(series.wanted_services)
    db.session.execute(
        sa.update(RotaSlot)
        .where(RotaSlot.session_id.in_(future), RotaSlot.position == 1, RotaSlot.service.in_(wanted))
        .values(wanted=True)
        .execution_options(synchronize_session=False)
    )
    dropped = sa.and_(RotaSlot.session_id.in_(future), RotaSlot.wanted.is_(True), RotaSlot.service.not_in(wanted))
    never_held = ~sa.exists().where(RotaSlotEvent.slot_id == RotaSlot.id)
    db.session.execute(
        sa.delete(RotaSlot)
        .where(dropped, RotaSlot.status == SlotStatus.OPEN, never_held)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(RotaSlot).where(dropped).values(wanted=False).execution_options(synchronize_session=False)
    )
    db.session.flush()


def apply_commitments(
    on: dt.date, commitment_ids: Sequence[int] | None = None, session_ids: Sequence[int] | None = None
) -> int:
    """Apply each running commitment once to each future scheduled session it matches; returns how many
    slots were taken. Queries: the commitments, the sessions not yet applied, their free slots; then one
    conditional UPDATE per new booking (a booking a person makes at the same moment wins cleanly)."""
    query = sa.select(RotaCommitment).where(sa.or_(RotaCommitment.ends_on.is_(None), RotaCommitment.ends_on >= on))
    if commitment_ids is not None:
        query = query.where(RotaCommitment.id.in_(commitment_ids))
    commitments = db.session.scalars(query).all()
    if not commitments:
        return 0
    applied = sa.select(RotaCommitmentDate.session_id, RotaCommitmentDate.commitment_id).where(
        RotaCommitmentDate.commitment_id.in_([c.id for c in commitments])
    )
    done = {(sid, cid) for sid, cid in db.session.execute(applied)}
    sessions_query = sa.select(RotaSession).where(RotaSession.date >= on, RotaSession.status == SessionStatus.SCHEDULED)
    if session_ids is not None:
        sessions_query = sessions_query.where(RotaSession.id.in_(session_ids))
    sessions = db.session.scalars(sessions_query.order_by(RotaSession.date)).all()
    todo = [(s, c) for s in sessions for c in commitments if c.matches(s.date) and (s.id, c.id) not in done]
    if not todo:
        return 0
    slots = db.session.scalars(
        sa.select(RotaSlot)
        .where(RotaSlot.session_id.in_({s.id for s, _ in todo}))
        .order_by(RotaSlot.session_id, RotaSlot.service, RotaSlot.position)
    ).all()
    by_key: dict[tuple[int, str], list[RotaSlot]] = {}
    for slot in slots:
        by_key.setdefault((slot.session_id, slot.service.value), []).append(slot)
    now = utcnow()
    taken = 0
    for session, commitment in todo:
        theirs = by_key.setdefault((session.id, commitment.service.value), [])
        if any(s.agency_id == commitment.agency_id and s.status not in FREE for s in theirs):
            pass  # the agency already holds one of these on that day
        else:
            free = [s for s in theirs if s.status in FREE]
            for slot in free:
                result = db.session.execute(
                    sa.update(RotaSlot)
                    .where(RotaSlot.id == slot.id, RotaSlot.status.in_(FREE))
                    .values(status=SlotStatus.TAKEN, agency_id=commitment.agency_id,
                            contact_id=commitment.contact_id, commitment_id=commitment.id, taken_at=now,
                            confirmed_at=None, reason="", updated_at=now)
                    .execution_options(synchronize_session=False)
                )  # fmt: skip
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    db.session.add(RotaSlotEvent(slot_id=slot.id, agency_id=commitment.agency_id, kind="taken"))
                    taken += 1
                    break
            else:
                position = max((s.position for s in theirs), default=0) + 1
                new = RotaSlot(session_id=session.id, service=commitment.service, position=position,
                               wanted=False, agency_id=commitment.agency_id,
                               contact_id=commitment.contact_id, commitment_id=commitment.id,
                               status=SlotStatus.TAKEN, taken_at=now)  # fmt: skip
                db.session.add(new)
                db.session.flush()
                theirs.append(new)
                db.session.add(RotaSlotEvent(slot_id=new.id, agency_id=commitment.agency_id, kind="taken"))
                taken += 1
    db.session.execute(_insert(RotaCommitmentDate), [{"commitment_id": c.id, "session_id": s.id} for s, c in todo])
    for slot in slots:
        db.session.expire(slot)
    offers = {(c.agency_id, c.service.value) for c in commitments}
    db.session.execute(_insert(RotaOffer), [{"agency_id": a, "service": s} for a, s in offers])
    db.session.flush()
    return taken
