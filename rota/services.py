"""The rota's use cases: one function each, ``verb_noun(actor, ...)``.

Each checks its policy, enforces the rota's rules, changes state, writes
the audit event and queues its messages, then flushes: the caller commits.

Invariants:
- A slot is held by at most one agency: taking it is one conditional UPDATE
  (``WHERE status IN ('open', 'cant_attend')``), so of two agencies taking
  the last open slot at the same moment exactly one succeeds and the other
  gets a 409.
- A past or cancelled session cannot be booked, and a session's record is
  made only once it has happened; once finalised, every change needs a
  reason, kept with what the record said before.
- Changing "all future weeks" of a series moves the future sessions not
  changed one by one, and adds or retires the wanted slots: it never adds a
  second session on a day or a second wanted slot for a service.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa

from agencies.models import Agency, AgencyKind, Contact, ContactStatus
from hub import audit
from hub.db import db, today, utcnow
from hub.notifications.services import notify_many
from hub.permissions import Actor, Conflict, Denied, Invalid, NotFound, require
from rota import feeds, generation, notices, policies
from rota.models import (
    FREE,
    HELD,
    AgencyAttendance,
    CalendarFeed,
    RecordChange,
    RotaCommitment,
    RotaCommitmentDate,
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

KIND = "rota"


def _event(slot: RotaSlot, kind: str, agency_id: int | None, reason: str = "") -> None:
    db.session.add(RotaSlotEvent(slot_id=slot.id, agency_id=agency_id, kind=kind, reason=reason))


def _bookable(session: RotaSession) -> None:
    if session.is_cancelled:
        raise Conflict("This session is cancelled.")
    if session.date < today():
        raise Conflict("This session has already happened.")


def _check_contact(agency_id: int, contact_id: int | None, field: str = "contact_id") -> None:
    if contact_id is None:
        return
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.agency_id != agency_id or contact.status is not ContactStatus.ACTIVE:
        raise Invalid.on_field(field, "Choose someone who works at that agency now")


def _partner_agency(agency_id: int, field: str = "agency_id") -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise Invalid.on_field(field, "No such agency")
    return agency


def _offer(agency_id: int, service: Service) -> None:
    """Remember that this agency brings this service (whom to ask when it needs cover)."""
    if db.session.get(RotaOffer, (agency_id, service)) is None:
        db.session.add(RotaOffer(agency_id=agency_id, service=service))


def _tell(slots: list[RotaSlot], subject: str, body: str, key: str) -> int:
    people = notices.recipients(slots)
    queued = notify_many([
        m for s in slots
        for m in notices.messages(KIND, subject, body, f"/rota/sessions/{s.session_id}", f"{key}:s{s.id}",
                                  people.get(s.id, []))
    ])  # fmt: skip
    return len(queued)


# Series and sessions ---------------------------------------------------------------------------


def _check_times(data: dict[str, Any], current: Any = None) -> None:
    starts = data.get("starts_at", getattr(current, "starts_at", None))
    ends = data.get("ends_at", getattr(current, "ends_at", None))
    if starts is not None and ends is not None and ends <= starts:
        raise Invalid.on_field("ends_at", "The end time must be after the start time")


def save_series(actor: Actor, series: RotaSeries | None, data: dict[str, Any]) -> RotaSeries:
    """Create the weekly session, or change it for all future weeks (sessions changed "this week only"
    keep their own time and place), then generate the weeks ahead at once."""
    require(policies.can_save_series(actor), "Only a manager can set up the drop-in.")
    _check_times(data, series)
    if "wanted_services" in data:
        data["wanted_services"] = sorted({Service(s).value for s in data["wanted_services"]})
    if series is None:
        series = RotaSeries(**{"starts_on": today(), "weeks_ahead": 12, **data})
        db.session.add(series)
        db.session.flush()
        audit.record(actor, "rota_series.created", series)
    else:
        if "weekday" in data and data["weekday"] != series.weekday:
            raise Invalid.on_field("weekday", "To move the drop-in to another day, end this one and set up another")
        changed = [k for k, v in data.items() if getattr(series, k) != v]
        for key, value in data.items():
            setattr(series, key, value)
        future = sa.and_(RotaSession.series_id == series.id, RotaSession.date >= today())
        moved = {k: data[k] for k in ("starts_at", "ends_at", "venue") if k in changed}
        if moved:
            db.session.execute(sa.update(RotaSession).where(future, RotaSession.edited.is_(False)).values(**moved))
        if "wanted_services" in changed:
            generation.rewant(series)
        if series.ends_on is not None:
            _end_series_sessions(actor, series)
        audit.record(actor, "rota_series.changed", series, fields=changed)
    db.session.flush()
    generation.generate(today(), series_ids=[series.id])
    return series


def _end_series_sessions(actor: Actor, series: RotaSeries) -> None:
    after = db.session.scalars(sa.select(RotaSession).where(
        RotaSession.series_id == series.id, RotaSession.date > series.ends_on,
        RotaSession.status == SessionStatus.SCHEDULED))  # fmt: skip
    for session in after:
        cancel_session(actor, session, "The drop-in no longer runs on this day.")


def create_session(actor: Actor, data: dict[str, Any]) -> RotaSession:
    """A one-off session (the weekly ones are generated): with a slot for each service the drop-in wants."""
    require(policies.can_create_session(actor), "Only a manager can add sessions.")
    _check_times(data)
    if data["date"] < today():
        raise Invalid.on_field("date", "The date must be today or later")
    clash = db.session.scalar(sa.select(RotaSession.id).where(
        RotaSession.date == data["date"], RotaSession.status == SessionStatus.SCHEDULED))  # fmt: skip
    if clash is not None:
        raise Conflict("There is already a session on that day.")
    session = RotaSession(**data, bank_holiday=generation.bank_holiday_name(data["date"]))
    db.session.add(session)
    db.session.flush()
    for service in generation.default_wanted():
        db.session.add(RotaSlot(session_id=session.id, service=Service(service), position=1, wanted=True))
    audit.record(actor, "rota_session.created", session)
    db.session.flush()
    generation.apply_commitments(today(), session_ids=[session.id])
    return session


def edit_session(actor: Actor, session: RotaSession, data: dict[str, Any]) -> list[str]:
    """Change this week only (time or place); everyone booked is told."""
    require(policies.can_edit_session(actor), "Only a manager can change a session.")
    _bookable(session)
    _check_times(data, session)
    changed = [k for k, v in data.items() if getattr(session, k) != v]
    if not changed:
        return []
    for key in changed:
        setattr(session, key, data[key])
    session.edited = True
    audit.record(actor, "rota_session.changed", session, fields=changed)
    stamp = utcnow().strftime("%Y%m%d%H%M%S")
    _tell(
        _held_slots(session),
        f"Drop-in on {session.date:%-d %B}: the time or place has changed",
        f"The drop-in is now on {notices.when(session)} at {session.venue}.",
        f"rota:moved:{session.id}:{stamp}",
    )
    db.session.flush()
    return changed


def cancel_session(actor: Actor, session: RotaSession, reason: str) -> int:
    """Cancel a session; every agency booked is told. Returns how many were told."""
    require(policies.can_cancel_session(actor), "Only a manager can cancel a session.")
    _bookable(session)
    session.status, session.cancel_reason, session.cancelled_at = SessionStatus.CANCELLED, reason, utcnow()
    audit.record(actor, "rota_session.cancelled", session)
    told = _tell(_held_slots(session), f"Drop-in on {session.date:%-d %B} is cancelled",
                 f"The drop-in on {notices.when(session)} at {session.venue} is cancelled: {reason}\n\n"
                 "Nothing more is needed from you for that day.", f"rota:cancelled:{session.id}")  # fmt: skip
    db.session.flush()
    return told


def _held_slots(session: RotaSession) -> list[RotaSlot]:
    return list(db.session.scalars(
        sa.select(RotaSlot).where(RotaSlot.session_id == session.id, RotaSlot.status.in_(HELD))))  # fmt: skip


def add_slot(actor: Actor, session: RotaSession, service: Service) -> RotaSlot:
    require(policies.can_add_slot(actor), "Only a manager can add slots.")
    _bookable(session)
    last = db.session.scalar(sa.select(sa.func.max(RotaSlot.position)).where(
        RotaSlot.session_id == session.id, RotaSlot.service == service))  # fmt: skip
    slot = RotaSlot(session_id=session.id, service=service, position=(last or 0) + 1, wanted=last is None)
    db.session.add(slot)
    db.session.flush()
    audit.record(actor, "rota_slot.added", slot, session_id=session.id, service=service.value)
    return slot


# Slots ---------------------------------------------------------------------------------------


def take_slot(actor: Actor, slot: RotaSlot, agency_id: int, contact_id: int | None = None,
              commitment_id: int | None = None) -> RotaSlot:  # fmt: skip
    """An agency takes an open slot: first come, first served (409 for everyone after)."""
    session = db.session.get_one(RotaSession, slot.session_id)
    agency = _partner_agency(agency_id)
    if agency.kind is AgencyKind.HOST and not actor.is_staff:
        raise Denied("You may take slots for your own agency only.")
    require(policies.can_take_slot(actor, agency_id), "You may take slots for your own agency only.")
    _bookable(session)
    _check_contact(agency_id, contact_id)
    taken = db.session.execute(
        sa.update(RotaSlot)
        .where(RotaSlot.id == slot.id, RotaSlot.status.in_(FREE))
        .values(status=SlotStatus.TAKEN, agency_id=agency_id, contact_id=contact_id, commitment_id=commitment_id,
                taken_at=utcnow(), confirmed_at=None, reason="", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Another agency has just taken this slot.")
    db.session.refresh(slot)
    _event(slot, "taken", agency_id)
    _offer(agency_id, slot.service)
    audit.record(actor, "rota_slot.taken", slot, agency_id=agency_id, contact_id=contact_id)
    db.session.flush()
    return slot


def _refusal(actor: Actor, slot: RotaSlot) -> Denied:
    if slot.agency_id is None or actor.agency_id != slot.agency_id:
        return Denied("Only the agency holding this slot can answer for it.")
    return Denied("Only your agency's partner lead, or the person named to attend, can answer for this slot.")


def confirm_slot(actor: Actor, slot: RotaSlot, contact_id_of_actor: int | None = None, by_link: str = "") -> RotaSlot:
    """The agency confirms it is coming (again: no change). ``by_link``: the recipient of the reminder whose
    answer link was followed (:mod:`rota.links`), recorded in the audit log."""
    if slot.status not in HELD:
        raise Conflict("Nobody holds this slot: take it first.")
    if not policies.can_confirm_slot(actor, slot, contact_id_of_actor):
        raise _refusal(actor, slot)
    _bookable(db.session.get_one(RotaSession, slot.session_id))
    if slot.status is SlotStatus.TAKEN:
        slot.status, slot.confirmed_at = SlotStatus.CONFIRMED, utcnow()
        _event(slot, "confirmed", slot.agency_id)
        audit.record(actor, "rota_slot.confirmed", slot, agency_id=slot.agency_id, **_via(by_link))
    db.session.flush()
    return slot


def _via(by_link: str) -> dict[str, Any]:
    return {"by_link": by_link} if by_link else {}


def cant_attend(actor: Actor, slot: RotaSlot, reason: str, contact_id_of_actor: int | None = None,
                by_link: str = "") -> int:  # fmt: skip
    """The agency cannot come: the slot is open again and the other agencies offering the service are asked
    to cover (the first to take it has it). Returns how many agencies were asked."""
    if slot.status not in HELD:
        raise Conflict("Nobody holds this slot.")
    if not policies.can_cant_attend(actor, slot, contact_id_of_actor):
        raise _refusal(actor, slot)
    session = db.session.get_one(RotaSession, slot.session_id)
    _bookable(session)
    leaving = slot.agency_id
    slot.status, slot.reason = SlotStatus.CANT_ATTEND, reason
    slot.agency_id = slot.contact_id = slot.commitment_id = None
    slot.taken_at = slot.confirmed_at = None
    db.session.flush()
    _event(slot, "cant_attend", leaving, reason)
    audit.record(actor, "rota_slot.cant_attend", slot, agency_id=leaving, **_via(by_link))
    return _ask_for_cover(slot, session, exclude={leaving} if leaving else set())


def _ask_for_cover(slot: RotaSlot, session: RotaSession, exclude: set[int]) -> int:
    asked = list(db.session.scalars(sa.select(RotaOffer.agency_id).where(
        RotaOffer.service == slot.service, RotaOffer.agency_id.not_in(exclude or {0}))))  # fmt: skip
    people = notices.agency_recipients(asked)
    body = (
        f"{slot.service.label} needs cover at the drop-in on {notices.when(session)} at {session.venue}: the agency "
        "that was coming cannot. If your agency can come, take the slot: the first agency to take it has it."
    )
    stamp = utcnow().strftime("%Y%m%d%H%M%S")
    queued = notify_many([
        m for agency_id in asked
        for m in notices.messages(KIND, f"Cover needed: {slot.service.label}, drop-in on {session.date:%-d %B}",
                                  body, f"/rota/sessions/{session.id}", f"rota:cover:{slot.id}:{stamp}:a{agency_id}",
                                  people.get(agency_id, []))
    ])  # fmt: skip
    for agency_id in asked:
        _event(slot, "cover_asked", agency_id)
    db.session.flush()
    return len({k.split(":a")[1].split(":")[0] for k in queued})


def ask_agency(actor: Actor, slot: RotaSlot, agency_id: int) -> int:
    """A manager asks one agency to fill a gap."""
    require(policies.can_ask_agency(actor), "Only a manager can ask an agency to fill a gap.")
    session = db.session.get_one(RotaSession, slot.session_id)
    _bookable(session)
    if slot.status not in FREE:
        raise Conflict("This slot is already taken.")
    agency = _partner_agency(agency_id)
    people = notices.agency_recipients([agency.id]).get(agency.id, [])
    if not people:
        raise Invalid.on_field("agency_id", "Nobody at that agency can be told: add a key contact first")
    body = (
        f"Could {agency.name} bring {slot.service.label.lower()} to the drop-in on {notices.when(session)} at "
        f"{session.venue}? Nobody is down for it yet. Take the slot if you can come."
    )
    stamp = utcnow().strftime("%Y%m%d%H%M%S")
    queued = notify_many(
        notices.messages(
            KIND,
            f"Can you come to the drop-in on {session.date:%-d %B}?",
            body,
            f"/rota/sessions/{session.id}",
            f"rota:ask:{slot.id}:{stamp}",
            people,
        )
    )
    _event(slot, "asked", agency.id)
    audit.record(actor, "rota_slot.asked", slot, agency_id=agency.id)
    db.session.flush()
    return len(queued)


def set_attendee(actor: Actor, slot: RotaSlot, contact_id: int | None) -> RotaSlot:
    """The agency's lead names who comes (None: the agency's key contact)."""
    if slot.status not in HELD:
        raise Conflict("Nobody holds this slot.")
    require(policies.can_set_attendee(actor, slot), "Only the agency holding this slot can name who comes.")
    _bookable(db.session.get_one(RotaSession, slot.session_id))
    assert slot.agency_id is not None
    _check_contact(slot.agency_id, contact_id)
    slot.contact_id = contact_id
    audit.record(actor, "rota_slot.attendee", slot, contact_id=contact_id)
    db.session.flush()
    return slot


# Commitments ------------------------------------------------------------------------------------


def _check_pattern(weekdays: list[int] | None) -> list[int] | None:
    if not weekdays:
        return None
    if any(not 1 <= n <= 5 for n in weekdays):
        raise Invalid.on_field("weekdays_of_month", "Use 1 to 5: the first to the fifth of its day in the month")
    return sorted(set(weekdays))


def create_commitment(actor: Actor, data: dict[str, Any]) -> RotaCommitment:
    """A standing offer; the hub takes the matching slots now and as sessions are generated."""
    agency = _partner_agency(data["agency_id"])
    require(policies.can_create_commitment(actor, agency.id), "You may make commitments for your own agency only.")
    _check_contact(agency.id, data.get("contact_id"))
    data["weekdays_of_month"] = _check_pattern(data.get("weekdays_of_month"))
    if data["starts_on"] < today():
        raise Invalid.on_field("starts_on", "The first day must be today or later")
    if data.get("ends_on") is not None and data["ends_on"] < data["starts_on"]:
        raise Invalid.on_field("ends_on", "The last day must be on or after the first")
    commitment = RotaCommitment(**data)
    db.session.add(commitment)
    db.session.flush()
    _offer(agency.id, commitment.service)
    audit.record(actor, "rota_commitment.created", commitment, agency_id=agency.id)
    generation.apply_commitments(today(), commitment_ids=[commitment.id])
    return commitment


def _release_future(actor: Actor, commitment: RotaCommitment, keep: Any = None) -> int:
    """Give back the future slots this commitment holds (all, or those on days ``keep`` refuses)."""
    rows = db.session.execute(
        sa.select(RotaSlot, RotaSession)
        .join(RotaSession, RotaSession.id == RotaSlot.session_id)
        .where(RotaSlot.commitment_id == commitment.id, RotaSlot.status.in_(HELD), RotaSession.date >= today())
    ).all()
    released = 0
    for slot, session in rows:
        if keep is not None and keep(session.date):
            continue
        slot.status, slot.agency_id, slot.contact_id, slot.commitment_id = SlotStatus.OPEN, None, None, None
        slot.taken_at = slot.confirmed_at = None
        _event(slot, "released", commitment.agency_id)
        db.session.execute(sa.delete(RotaCommitmentDate).where(
            RotaCommitmentDate.commitment_id == commitment.id,
            RotaCommitmentDate.session_id == session.id))  # fmt: skip
        released += 1
    db.session.flush()
    return released


def end_commitment(actor: Actor, commitment: RotaCommitment) -> int:
    """End it from today: its future slots open again. Returns how many."""
    require(policies.can_end_commitment(actor, commitment), "You may end your own agency's commitments only.")
    if commitment.ends_on is not None and commitment.ends_on < today():
        raise Conflict("This commitment has already ended.")
    commitment.ends_on = today() - dt.timedelta(days=1)  # from today on, no session matches it
    released = _release_future(actor, commitment)
    audit.record(actor, "rota_commitment.ended", commitment, slots_released=released)
    db.session.flush()
    return released


def change_commitment(actor: Actor, commitment: RotaCommitment, data: dict[str, Any]) -> RotaCommitment:
    """Change the pattern or who comes: slots on days no longer in it open again, new days are taken."""
    require(policies.can_change_commitment(actor, commitment), "You may change your own agency's commitments only.")
    if commitment.ends_on is not None and commitment.ends_on < today():
        raise Conflict("This commitment has ended.")
    if "contact_id" in data:
        _check_contact(commitment.agency_id, data["contact_id"])
    if "weekdays_of_month" in data:
        data["weekdays_of_month"] = _check_pattern(data["weekdays_of_month"])
    if data.get("ends_on") is not None and data["ends_on"] < max(commitment.starts_on, today()):
        raise Invalid.on_field("ends_on", "The last day must be today or later")
    changed = [k for k, v in data.items() if getattr(commitment, k) != v]
    for key in changed:
        setattr(commitment, key, data[key])
    db.session.flush()
    released = _release_future(actor, commitment, keep=commitment.matches)
    if "contact_id" in changed:
        db.session.execute(
            sa.update(RotaSlot)
            .where(RotaSlot.commitment_id == commitment.id, RotaSlot.status.in_(HELD),
                   RotaSlot.session_id.in_(sa.select(RotaSession.id).where(RotaSession.date >= today())))
            .values(contact_id=commitment.contact_id)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
    audit.record(actor, "rota_commitment.changed", commitment, fields=changed, slots_released=released)
    generation.apply_commitments(today(), commitment_ids=[commitment.id])
    db.session.flush()
    return commitment


# The session record ----------------------------------------------------------------------------


def _record_state(session: RotaSession, record: SessionRecord | None) -> dict[str, Any]:
    if record is None:
        return {}
    rows = db.session.scalars(sa.select(AgencyAttendance).where(AgencyAttendance.session_id == session.id))
    return {
        "women_attended": record.women_attended, "new_women": record.new_women,
        "agencies": [{"agency_id": a.agency_id, "attendance": a.attendance.value, "women_seen": a.women_seen}
                     for a in sorted(rows, key=lambda a: a.agency_id)],
    }  # fmt: skip


def record_session(actor: Actor, session: RotaSession, data: dict[str, Any]) -> SessionRecord:
    """Counts only: how many women came, how many were new, and how each agency's visit went. Once
    finalised, a change needs a reason, kept with what the record said before."""
    require(policies.can_record_session(actor), "Only the charity's staff record a session.")
    if session.is_cancelled:
        raise Conflict("This session was cancelled: there is nothing to record.")
    if session.date > today():
        raise Conflict("This session has not happened yet.")
    if data["new_women"] > data["women_attended"]:
        raise Invalid.on_field("new_women", "New women cannot be more than the women who came")
    agencies = data.get("agencies", [])
    ids = [a["agency_id"] for a in agencies]
    if len(ids) != len(set(ids)):
        raise Invalid.on_field("agencies", "Each agency once")
    known = set(db.session.scalars(sa.select(Agency.id).where(Agency.id.in_(ids))))
    if unknown := [i for i in ids if i not in known]:
        raise Invalid.on_field("agencies", f"No such agency: {unknown[0]}")
    for line in agencies:
        if not line["attendance"].came and line.get("women_seen", 0):
            raise Invalid.on_field("agencies", "An agency that did not come saw nobody")
    record = db.session.get(SessionRecord, session.id)
    reason = (data.get("reason") or "").strip()
    if record is not None and record.is_final:
        if not reason:
            raise Invalid.on_field("reason", "This record is finalised: say why you are changing it")
        by = actor.actor_id if actor.actor_kind == "user" else None  # a system is named by its kind
        db.session.add(RecordChange(session_id=session.id, changed_by_id=by,
                                    changed_by_kind=actor.actor_kind, reason=reason,
                                    before=_record_state(session, record)))  # fmt: skip
    if record is None:
        record = SessionRecord(session_id=session.id, women_attended=0, new_women=0)
        db.session.add(record)
    record.women_attended, record.new_women = data["women_attended"], data["new_women"]
    record.recorded_by_id = actor.actor_id if actor.actor_kind == "user" else None
    if data.get("finalise") and not record.is_final:
        record.finalised_at = utcnow()
        record.finalised_by_id = record.recorded_by_id
    db.session.execute(sa.delete(AgencyAttendance).where(AgencyAttendance.session_id == session.id))
    db.session.add_all(
        AgencyAttendance(session_id=session.id, agency_id=a["agency_id"], attendance=a["attendance"],
                         women_seen=a.get("women_seen", 0))
        for a in agencies
    )  # fmt: skip
    db.session.flush()
    audit.record(actor, "rota_record.saved", object_type="rota_session", object_id=session.id,
                 finalised=record.is_final, amended=bool(reason))  # fmt: skip
    return record


# Calendar feeds ---------------------------------------------------------------------------------


def create_feed(actor: Actor, agency_id: int | None) -> tuple[CalendarFeed, str]:
    """A private calendar address; the token is returned once, and only its hash is kept."""
    if agency_id is not None:
        _partner_agency(agency_id)
    if not policies.can_create_feed(actor, agency_id):
        raise Denied("You may make a calendar feed for your own agency only.")
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(agency_id=agency_id, token_hash=feeds.token_hash(token), created_by_kind=actor.actor_kind,
                        created_by_id=actor.actor_id)  # fmt: skip
    db.session.add(feed)
    db.session.flush()
    audit.record(actor, "calendar_feed.created", feed, agency_id=agency_id)
    return feed, token


def revoke_feed(actor: Actor, feed: CalendarFeed) -> None:
    if not policies.can_revoke_feed(actor, feed):
        raise NotFound("No such calendar feed.")
    if feed.revoked_at is None:
        feed.revoked_at = utcnow()
        audit.record(actor, "calendar_feed.revoked", feed)
    db.session.flush()
