"""Calendar feeds (RFC 5545), written with the ``icalendar`` package.

A feed is a private, revocable address: ``/calendar/<token>.ics``, the token
stored only as its SHA-256. One per agency (its rota slots, and what other
packages add for it: the forum's meetings) and one for the whole rota.

- Each event's ``UID`` is stable (``rota-slot-12@<host>``): a calendar that
  subscribes twice, or an invitation and the feed, never show it twice.
- A cancelled session stays in the feed with ``STATUS:CANCELLED``, so
  subscribers see it go rather than silently disappear.
- Events name the session, the venue, the agency and the service: never a
  woman, and never who is named to attend another agency's slot.

Other packages add events through the ``calendar_events`` registry: a
callable ``(agency_id or None, start, end) -> list[Event]``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from hub import registry
from hub.db import db, today, utcnow
from hub.settings_access import settings
from rota.models import HELD, RotaSession, RotaSlot, SessionStatus

REGISTRY = "calendar_events"
LONDON = ZoneInfo("Europe/London")
PAST_DAYS, AHEAD_DAYS = 56, 120  # what a feed holds: eight weeks back, about four months ahead


@dataclass(frozen=True)
class Event:
    uid: str  # stable: "<kind>-<id>"; the feed adds "@<host>"
    summary: str
    starts: dt.datetime
    ends: dt.datetime
    location: str = ""
    description: str = ""
    cancelled: bool = False
    changed_at: dt.datetime | None = None


EventSource = Callable[[int | None, dt.date, dt.date], list[Event]]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=LONDON)


def rota_events(agency_id: int | None, start: dt.date, end: dt.date) -> list[Event]:
    """The whole rota: a session each, saying who is coming. An agency's: its own slots. Two queries."""
    sessions = list(db.session.scalars(
        sa.select(RotaSession).where(RotaSession.date.between(start, end)).order_by(RotaSession.date)))  # fmt: skip
    by_id = {s.id: s for s in sessions}
    held = sa.select(RotaSlot).where(RotaSlot.session_id.in_(by_id), RotaSlot.status.in_(HELD))
    if agency_id is not None:
        held = held.where(RotaSlot.agency_id == agency_id)
    slots = list(db.session.scalars(held.options(joinedload(RotaSlot.agency)).order_by(RotaSlot.service)))
    if agency_id is not None:
        return [_slot_event(by_id[slot.session_id], slot) for slot in slots]
    coming: dict[int, list[str]] = {}
    for slot in slots:
        coming.setdefault(slot.session_id, []).append(
            f"{slot.service.label}: {slot.agency.name if slot.agency else ''}"
        )
    return [
        Event(f"rota-session-{s.id}", f"Drop-in ({s.venue})" if s.venue else "Drop-in", _at(s.date, s.starts_at),
              _at(s.date, s.ends_at), s.venue,
              ("Cancelled: " + s.cancel_reason) if s.is_cancelled else "\n".join(coming.get(s.id, [])) or
              "No agency is down yet.", s.is_cancelled, s.updated_at)
        for s in sessions
    ]  # fmt: skip


def _slot_event(session: RotaSession, slot: RotaSlot) -> Event:
    cancelled = session.status is SessionStatus.CANCELLED
    text = f"{slot.service.label} at the drop-in."
    if cancelled:
        text = f"The session is cancelled: {session.cancel_reason}"
    agency = slot.agency.name if slot.agency else ""
    return Event(f"rota-slot-{slot.id}", f"Drop-in: {agency}, {slot.service.label}",
                 _at(session.date, session.starts_at), _at(session.date, session.ends_at), session.venue, text,
                 cancelled, max(slot.updated_at, session.updated_at))  # fmt: skip


def events_for(agency_id: int | None, start: dt.date | None = None, end: dt.date | None = None) -> list[Event]:
    on = today()
    start = start or on - dt.timedelta(days=PAST_DAYS)
    end = end or on + dt.timedelta(days=AHEAD_DAYS)
    sources: list[EventSource] = registry.providers(REGISTRY)
    return [event for source in sources for event in source(agency_id, start, end)]


def calendar(name: str, events: list[Event]) -> bytes:
    host = settings().base_url.split("//")[-1].split("/")[0].split(":")[0] or "partnership-hub"
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Partnership Hub//Drop-in rota//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/London")
    stamp = utcnow()
    for e in events:
        event = icalendar.Event()
        event.add("uid", f"{e.uid}@{host}")
        event.add("dtstamp", stamp)
        event.add("summary", e.summary)
        event.add("dtstart", e.starts)
        event.add("dtend", e.ends)
        if e.location:
            event.add("location", e.location)
        if e.description:
            event.add("description", e.description)
        event.add("status", "CANCELLED" if e.cancelled else "CONFIRMED")
        if e.changed_at is not None:
            event.add("last-modified", e.changed_at.astimezone(dt.UTC))
        cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
