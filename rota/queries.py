"""Reads of the rota, scoped to the caller.

- Sessions, slots, which agency holds each and the gaps are for everyone
  signed in: the rota is the partnership's shared timetable. Who is named
  to attend is shown to our staff and to that agency only.
- A commitment or a calendar feed of another agency answers 404 to a
  partner.
- The grid costs the same few statements for any number of weeks and
  agencies: the sessions (``ix_rota_sessions_date``), their slots with the
  agencies' names, and nothing per cell.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from agencies.models import Agency
from hub.db import db, today
from hub.permissions import Actor, NotFound
from rota import policies
from rota.models import (
    FREE,
    HELD,
    AgencyAttendance,
    Attendance,
    CalendarFeed,
    RecordChange,
    RotaCommitment,
    RotaOffer,
    RotaSeries,
    RotaSession,
    RotaSlot,
    RotaSlotEvent,
    Service,
    SessionRecord,
    SessionStatus,
    SlotStatus,
)

GRID_WEEKS = 8
AT_RISK_DAYS = 7  # a slot not confirmed this close to its session is at risk


def get_session(actor: Actor, session_id: int) -> RotaSession:
    session = db.session.get(RotaSession, session_id) if policies.can_view_rota(actor) else None
    if session is None:
        raise NotFound("No such session.")
    return session


def get_slot(actor: Actor, slot_id: int) -> RotaSlot:
    slot = db.session.get(RotaSlot, slot_id) if policies.can_view_rota(actor) else None
    if slot is None:
        raise NotFound("No such slot.")
    return slot


def get_commitment(actor: Actor, commitment_id: int) -> RotaCommitment:
    commitment = db.session.get(RotaCommitment, commitment_id)
    if commitment is None or not (actor.is_staff or actor.agency_id == commitment.agency_id):
        raise NotFound("No such commitment.")
    return commitment


def get_feed(actor: Actor, feed_id: int) -> CalendarFeed:
    feed = db.session.get(CalendarFeed, feed_id)
    if feed is None or not policies.can_revoke_feed(actor, feed):
        raise NotFound("No such calendar feed.")
    return feed


def series() -> list[RotaSeries]:
    return list(db.session.scalars(sa.select(RotaSeries).order_by(RotaSeries.ends_on.is_not(None), RotaSeries.id)))


def sessions_between(start: dt.date, end: dt.date, limit: int = 200) -> list[RotaSession]:
    return list(db.session.scalars(
        sa.select(RotaSession).where(RotaSession.date.between(start, end))
        .order_by(RotaSession.date, RotaSession.starts_at, RotaSession.id).limit(limit)))  # fmt: skip


def slots_of(session_ids: Sequence[int]) -> dict[int, list[RotaSlot]]:
    """The slots of these sessions, with their agencies and contacts, in one query."""
    found: dict[int, list[RotaSlot]] = {sid: [] for sid in session_ids}
    if not session_ids:
        return found
    for slot in db.session.scalars(
        sa.select(RotaSlot).where(RotaSlot.session_id.in_(session_ids))
        .options(joinedload(RotaSlot.agency), joinedload(RotaSlot.contact))
        .order_by(RotaSlot.session_id, RotaSlot.service, RotaSlot.position)
    ):  # fmt: skip
        found[slot.session_id].append(slot)
    return found


def shows_attendee(actor: Actor, slot: RotaSlot) -> bool:
    return actor.is_staff or (slot.agency_id is not None and actor.agency_id == slot.agency_id)


# The grid ---------------------------------------------------------------------------------------

COVERED, CONFIRMED, AT_RISK, MISSING, NOT_WANTED, CANCELLED = (
    "covered", "confirmed", "at_risk", "missing", "not_wanted", "cancelled")  # fmt: skip
CELL_LABELS = {COVERED: "Covered", CONFIRMED: "Confirmed", AT_RISK: "At risk", MISSING: "Missing",
               NOT_WANTED: "", CANCELLED: "Cancelled"}  # fmt: skip


@dataclass
class Cell:
    state: str
    agencies: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return CELL_LABELS[self.state]


@dataclass
class Grid:
    start: dt.date
    end: dt.date
    sessions: list[RotaSession]
    services: list[Service]
    cells: dict[tuple[int, Service], Cell]

    def counts(self, state: str) -> int:
        return sum(1 for c in self.cells.values() if c.state == state)


def cell_state(session: RotaSession, slots: list[RotaSlot], on: dt.date) -> tuple[str, list[str]]:
    if session.is_cancelled:
        return CANCELLED, []
    held = [s for s in slots if s.status in HELD]
    names = [s.agency.name for s in held if s.agency is not None]
    if not held:
        return (MISSING if any(s.wanted for s in slots) else NOT_WANTED), []
    if all(s.status is SlotStatus.CONFIRMED for s in held):
        return CONFIRMED, names
    if (session.date - on).days <= AT_RISK_DAYS:
        return AT_RISK, names
    return COVERED, names


def grid(start: dt.date | None = None, weeks: int = GRID_WEEKS) -> Grid:
    """Weeks by services from ``start``: what is confirmed, covered, at risk or missing. Two queries."""
    on = today()
    start = start or on
    end = start + dt.timedelta(weeks=weeks) - dt.timedelta(days=1)
    sessions = sessions_between(start, end)
    slots = slots_of([s.id for s in sessions])
    services = sorted({slot.service for group in slots.values() for slot in group},
                      key=lambda s: list(Service).index(s))  # fmt: skip
    cells: dict[tuple[int, Service], Cell] = {}
    for session in sessions:
        for service in services:
            state, names = cell_state(session, [s for s in slots[session.id] if s.service is service], on)
            cells[(session.id, service)] = Cell(state, names)
    return Grid(start, end, sessions, services, cells)


def gaps(start: dt.date, end: dt.date, limit: int = 1000) -> list[tuple[RotaSession, Service, RotaSlot]]:
    """Each wanted service at each scheduled session that no agency has taken (one query): with the slot to
    take for it."""
    wanted = aliased(RotaSlot, name="wanted")
    other = aliased(RotaSlot, name="other")
    covered = sa.exists().where(other.session_id == wanted.session_id, other.service == wanted.service,
                                other.status.in_(HELD))  # fmt: skip
    rows = db.session.execute(
        sa.select(RotaSession, wanted)
        .join(wanted, wanted.session_id == RotaSession.id)
        .where(RotaSession.date.between(start, end), RotaSession.status == SessionStatus.SCHEDULED,
               wanted.wanted.is_(True), wanted.status.in_(FREE), ~covered)
        .order_by(RotaSession.date, RotaSession.id, wanted.service)
        .limit(limit)
    ).all()  # fmt: skip
    return [(session, slot.service, slot) for session, slot in rows]


def at_risk(start: dt.date, end: dt.date) -> list[tuple[RotaSession, RotaSlot]]:
    rows = db.session.execute(
        sa.select(RotaSession, RotaSlot).join(RotaSlot, RotaSlot.session_id == RotaSession.id)
        .where(RotaSession.date.between(start, end), RotaSession.status == SessionStatus.SCHEDULED,
               RotaSlot.status == SlotStatus.TAKEN)
        .options(joinedload(RotaSlot.agency))
        .order_by(RotaSession.date, RotaSlot.service)
    ).all()  # fmt: skip
    return [(session, slot) for session, slot in rows]


# An agency's part -------------------------------------------------------------------------------


def commitments_of(actor: Actor, agency_id: int | None = None, current: bool = True) -> list[RotaCommitment]:
    query = sa.select(RotaCommitment).options(joinedload(RotaCommitment.agency), joinedload(RotaCommitment.contact))
    if not actor.is_staff:
        agency_id = actor.agency_id
    if agency_id is not None:
        query = query.where(RotaCommitment.agency_id == agency_id)
    if current:
        query = query.where(sa.or_(RotaCommitment.ends_on.is_(None), RotaCommitment.ends_on >= today()))
    return list(db.session.scalars(query.order_by(RotaCommitment.agency_id, RotaCommitment.service)).unique())


def agency_slots(agency_id: int, start: dt.date, end: dt.date) -> list[tuple[RotaSession, RotaSlot]]:
    rows = db.session.execute(
        sa.select(RotaSession, RotaSlot).join(RotaSlot, RotaSlot.session_id == RotaSession.id)
        .where(RotaSlot.agency_id == agency_id, RotaSlot.status.in_(HELD), RotaSession.date.between(start, end))
        .options(joinedload(RotaSlot.contact))
        .order_by(RotaSession.date, RotaSlot.service)
    ).all()  # fmt: skip
    return [(session, slot) for session, slot in rows]


def offers_of(agency_id: int) -> list[Service]:
    return list(db.session.scalars(sa.select(RotaOffer.service).where(RotaOffer.agency_id == agency_id)))


def offering(service: Service) -> list[Agency]:
    return list(db.session.scalars(
        sa.select(Agency).join(RotaOffer, RotaOffer.agency_id == Agency.id)
        .where(RotaOffer.service == service).order_by(Agency.name)))  # fmt: skip


def feeds_of(actor: Actor) -> list[CalendarFeed]:
    query = sa.select(CalendarFeed).where(CalendarFeed.revoked_at.is_(None)).options(joinedload(CalendarFeed.agency))
    if not actor.is_staff:
        query = query.where(CalendarFeed.agency_id == actor.agency_id)
    return list(db.session.scalars(query.order_by(CalendarFeed.created_at.desc())))


def live_feed(token_hash: str) -> CalendarFeed | None:
    return db.session.scalar(
        sa.select(CalendarFeed).where(CalendarFeed.token_hash == token_hash, CalendarFeed.revoked_at.is_(None))
    )


# The record and reliability --------------------------------------------------------------------


def record_of(session: RotaSession) -> tuple[SessionRecord | None, list[AgencyAttendance], list[RecordChange]]:
    record = db.session.get(SessionRecord, session.id)
    rows = list(db.session.scalars(sa.select(AgencyAttendance).where(AgencyAttendance.session_id == session.id)))
    changes = list(db.session.scalars(
        sa.select(RecordChange).where(RecordChange.session_id == session.id)
        .order_by(RecordChange.changed_at)))  # fmt: skip
    return record, rows, changes


@dataclass
class Reliability:
    agency_id: int
    agency: str
    committed: int = 0  # sessions it was down for (including those it later said it could not come to)
    attended: int = 0
    cancelled_with_notice: int = 0
    no_show: int = 0
    not_recorded: int = 0


def reliability(start: dt.date, end: dt.date, agency_ids: Sequence[int] | None = None) -> list[Reliability]:
    """For each agency, over past sessions in ``start``..``end``: what it was down for, came to, and told us
    it could not come to. Three grouped queries, whatever the number of sessions or agencies."""
    end = min(end, today())  # sessions that have happened (today's included, once recorded)
    past = sa.and_(RotaSession.date.between(start, end), RotaSession.status == SessionStatus.SCHEDULED)
    held = (
        sa.select(RotaSlot.agency_id, RotaSlot.session_id)
        .join(RotaSession, RotaSession.id == RotaSlot.session_id)
        .where(past, RotaSlot.status.in_(HELD))
    )
    withdrew = (
        sa.select(RotaSlotEvent.agency_id, RotaSlot.session_id)
        .join(RotaSlot, RotaSlot.id == RotaSlotEvent.slot_id)
        .join(RotaSession, RotaSession.id == RotaSlot.session_id)
        .where(past, RotaSlotEvent.kind == "cant_attend")
    )
    if agency_ids is not None:
        held = held.where(RotaSlot.agency_id.in_(agency_ids))
        withdrew = withdrew.where(RotaSlotEvent.agency_id.in_(agency_ids))
    down: dict[int, set[int]] = {}
    for agency_id, session_id in db.session.execute(held):
        down.setdefault(agency_id, set()).add(session_id)
    told: dict[int, set[int]] = {}
    for agency_id, session_id in db.session.execute(withdrew):
        told.setdefault(agency_id, set()).add(session_id)
    outcome: dict[tuple[int, int], Attendance] = {}
    attendance = (
        sa.select(AgencyAttendance.agency_id, AgencyAttendance.session_id, AgencyAttendance.attendance)
        .join(RotaSession, RotaSession.id == AgencyAttendance.session_id)
        .where(past)
    )
    if agency_ids is not None:
        attendance = attendance.where(AgencyAttendance.agency_id.in_(agency_ids))
    for agency_id, session_id, how in db.session.execute(attendance):
        outcome[(agency_id, session_id)] = how
    ids = set(down) | set(told) | {a for a, _ in outcome}
    names = dict(db.session.execute(sa.select(Agency.id, Agency.name).where(Agency.id.in_(ids))).tuples().all())
    found = []
    for agency_id in sorted(ids, key=lambda a: names.get(a, "")):
        row = Reliability(agency_id, names.get(agency_id, ""))
        sessions = down.get(agency_id, set()) | told.get(agency_id, set())
        recorded = {s for (a, s) in outcome if a == agency_id}
        row.committed = len(sessions)
        for session_id in sessions | recorded:
            how = outcome.get((agency_id, session_id))
            if how is None:
                if session_id in told.get(agency_id, set()):
                    row.cancelled_with_notice += 1
                else:
                    row.not_recorded += 1
            elif how.came:
                row.attended += 1
            elif how is Attendance.CANCELLED_WITH_NOTICE:
                row.cancelled_with_notice += 1
            else:
                row.no_show += 1
        found.append(row)
    return found
