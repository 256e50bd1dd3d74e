"""A fictional drop-in rota for the demo, loaded by ``flask hub demo`` after the directory.

Wonder Women Wednesdays at the Northgate centre, 10:00 to 14:00, wanting housing support, an IDVA and
drug and alcohol support at every session, twelve weeks ahead:

- Safer Homes IDVA comes every week (its key contact attends).
- Riverside Housing Options comes on the first and third Wednesdays of the month, Alia Khan attending:
  the other weeks show as housing gaps.
- Pathways has taken next week's drug and alcohol slot, Elena Rossi named, and has confirmed.
- The session five weeks ahead is cancelled (the centre is closed that week), so its gaps do not count.
- The last two Wednesdays happened: one is recorded and finalised (counts only), so the record page and
  the reliability page have something to show.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

import sqlalchemy as sa

from agencies.models import Agency, Contact
from hub.auth.models import User
from hub.db import db, today, utcnow
from rota import generation, services
from rota.models import Attendance, RotaSeries, RotaSession, RotaSlot, RotaSlotEvent, Service, SlotStatus

VENUE = "The Old Library, 3 Mill Lane, Northgate"
_T = TypeVar("_T")


def _one(model: type[_T], **where: object) -> _T:
    found = db.session.scalar(sa.select(model).filter_by(**where))
    assert found is not None, where
    return found


def _slot(session: RotaSession, service: Service) -> RotaSlot:
    return db.session.scalars(
        sa.select(RotaSlot).where(RotaSlot.session_id == session.id, RotaSlot.service == service)
        .order_by(RotaSlot.position)).first()  # type: ignore[return-value]  # fmt: skip


def _history(session: RotaSession, holders: list[tuple[Service, Agency]]) -> None:
    """Past weeks cannot be booked through the services (they refuse a day gone by): set them as they were."""
    for service, agency in holders:
        slot = _slot(session, service)
        slot.status, slot.agency_id, slot.confirmed_at = SlotStatus.CONFIRMED, agency.id, utcnow()
        db.session.add(RotaSlotEvent(slot_id=slot.id, agency_id=agency.id, kind="taken"))
    db.session.flush()


def load() -> bool:
    if db.session.scalar(sa.select(sa.func.count(RotaSeries.id))):
        return False
    manager = _one(User, email="manager@northgate.example.org")
    practitioner = _one(User, email="practitioner@northgate.example.org")
    housing = _one(Agency, slug="riverside-housing-options")
    idva = _one(Agency, slug="safer-homes-idva")
    drugs = _one(Agency, slug="pathways-drug-alcohol")
    alia = _one(Contact, name="Alia Khan")
    elena = _one(Contact, name="Elena Rossi")

    on = today()
    first_wednesday = on + dt.timedelta(days=(2 - on.weekday()) % 7)
    series = services.save_series(manager, None, {
        "name": "Wonder Women Wednesdays", "weekday": 2, "starts_at": dt.time(10), "ends_at": dt.time(14),
        "venue": VENUE, "weeks_ahead": 12, "wanted_services": ["housing", "idva", "substance_use"],
    })  # fmt: skip
    # The drop-in has run for a while: the last two Wednesdays too.
    series.starts_on = first_wednesday - dt.timedelta(weeks=2)
    generation.generate(series.starts_on)
    found = db.session.scalars(sa.select(RotaSession).where(RotaSession.series_id == series.id))
    sessions = {s.date: s for s in found}
    two_ago = sessions[first_wednesday - dt.timedelta(weeks=2)]
    last = sessions[first_wednesday - dt.timedelta(weeks=1)]
    _history(two_ago, [(Service.HOUSING, housing), (Service.IDVA, idva), (Service.SUBSTANCE_USE, drugs)])
    _history(last, [(Service.IDVA, idva), (Service.SUBSTANCE_USE, drugs)])
    services.record_session(practitioner, two_ago, {
        "women_attended": 14, "new_women": 3, "finalise": True, "agencies": [
            {"agency_id": housing.id, "attendance": Attendance.ATTENDED, "women_seen": 5},
            {"agency_id": idva.id, "attendance": Attendance.LATE, "women_seen": 3},
            {"agency_id": drugs.id, "attendance": Attendance.CANCELLED_WITH_NOTICE, "women_seen": 0},
        ]})  # fmt: skip

    services.create_commitment(manager, {"agency_id": idva.id, "service": Service.IDVA, "starts_on": on})
    services.create_commitment(manager, {"agency_id": housing.id, "service": Service.HOUSING, "contact_id": alia.id,
                                         "weekdays_of_month": [1, 3], "starts_on": on})  # fmt: skip
    upcoming = sorted(day for day in sessions if day >= on)
    next_week = sessions[upcoming[1]] if len(upcoming) > 1 else sessions[upcoming[0]]
    slot = _slot(next_week, Service.SUBSTANCE_USE)
    services.take_slot(manager, slot, drugs.id, elena.id)
    services.confirm_slot(manager, slot)
    if len(upcoming) > 5:
        services.cancel_session(manager, sessions[upcoming[5]], "The centre is closed that week for repairs")
    db.session.flush()
    return True
