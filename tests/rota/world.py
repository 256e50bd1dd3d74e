"""The world rota tests act in, built through the services.

- ``host``: the charity, with a ``manager`` and a ``practitioner``.
- ``housing`` and ``advice``: two partner agencies offering housing support,
  each with a partner lead who is its key contact (``housing_lead``,
  ``advice_lead``) and, at housing, a second contact (``worker``) with a
  partner-staff account.
- ``idva``: a third agency, with a lead, offering the IDVA service.
- ``woman``: a woman the charity supports (unusual names, so a leak into a
  feed or a message is easy to find). The rota never holds anything about
  her: she is here only to prove that.
- ``series``: the Wednesday drop-in, 10:00 to 14:00, wanting housing and an
  IDVA at every session, generated 8 weeks ahead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from agencies.models import Agency, AgencyKind, Contact
from consent import services as consent_services
from hub.auth.models import User
from hub.db import db
from hub.permissions import Role
from rota import services
from rota.models import RotaSeries, RotaSession, RotaSlot, Service
from tests.helpers import host_agency, make_agency, make_user

GIVEN_NAME, FAMILY_NAME = "Philippa", "Quennell-Ashdown"
VENUE = "The Example Women's Centre, 1 Sample Street"


@dataclass
class RotaWorld:
    host: Agency
    housing: Agency
    advice: Agency
    idva: Agency
    manager: User
    practitioner: User
    housing_lead: User
    advice_lead: User
    idva_lead: User
    worker: User
    worker_contact: Contact
    series: RotaSeries


def contact_of(user: User) -> Contact:
    return db.session.scalars(sa.select(Contact).where(Contact.user_id == user.id)).one()


def build(weekday: int = 2, weeks: int = 8) -> RotaWorld:
    host = host_agency()
    manager = make_user(Role.MANAGER, host, name="Mona Manager")
    practitioner = make_user(Role.PRACTITIONER, host, name="Pia Practitioner")
    housing = make_agency(AgencyKind.HOUSING, name="Example Housing Options", slug="example-housing")
    advice = make_agency(AgencyKind.HOUSING, name="Example Tenancy Advice", slug="example-advice")
    idva = make_agency(AgencyKind.IDVA, name="Example IDVA Service", slug="example-idva")
    housing_lead = make_user(Role.PARTNER_LEAD, housing, name="Hana Housing")
    advice_lead = make_user(Role.PARTNER_LEAD, advice, name="Ada Advice")
    idva_lead = make_user(Role.PARTNER_LEAD, idva, name="Ivy Idva")
    worker = make_user(Role.PARTNER, housing, name="Wes Worker")
    for agency, lead in ((housing, housing_lead), (advice, advice_lead), (idva, idva_lead)):
        agency.key_contact_id = contact_of(lead).id
    consent_services.create_service_user(practitioner, {"given_name": GIVEN_NAME, "family_name": FAMILY_NAME})
    series = services.save_series(manager, None, {
        "name": "Wonder Women Wednesdays", "weekday": weekday, "starts_at": dt.time(10), "ends_at": dt.time(14),
        "venue": VENUE, "weeks_ahead": weeks, "wanted_services": ["housing", "idva"],
    })  # fmt: skip
    for agency, service in ((housing, Service.HOUSING), (advice, Service.HOUSING), (idva, Service.IDVA)):
        services._offer(agency.id, service)
    db.session.flush()
    return RotaWorld(host, housing, advice, idva, manager, practitioner, housing_lead, advice_lead, idva_lead,
                     worker, contact_of(worker), series)  # fmt: skip


def session_on(day: dt.date) -> RotaSession:
    return db.session.scalars(sa.select(RotaSession).where(RotaSession.date == day)).one()


def slot_for(day: dt.date, service: Service = Service.HOUSING) -> RotaSlot:
    return db.session.scalars(
        sa.select(RotaSlot).join(RotaSession).where(RotaSession.date == day, RotaSlot.service == service)
        .order_by(RotaSlot.position)).first()  # fmt: skip


def count(model: type, *where: object) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]
