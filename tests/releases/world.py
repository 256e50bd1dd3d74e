"""The world release-planning tests act in, built through the services.

- ``prison``: where she is; ``probation``: her probation practitioner
  (``po``) works there; ``health``: a GP practice whose lead (``gp_lead``)
  has a hub account; ``housing``: a council with no consent from her.
- ``person``: a woman (unusual names, so a leak is easy to find) whose
  consent covers ``referral`` and ``release_planning`` for probation and
  health, with who she is, her sentence and release, and physical health;
  and a consent for ``referral`` only with housing.
- ``staff``: her key worker; ``manager``.
- ``custody(world, nominal)`` records a sentenced, determinate, automatic
  release through the service (no plan items unless ``needs`` is given).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from agencies.models import Agency, AgencyKind, Contact
from consent import services as consent_services
from consent.models import ConsentMethod, ServiceUser
from hub.auth.models import User
from hub.db import db, today
from hub.permissions import Role
from releases import services
from releases.models import CustodyEpisode
from tests.helpers import host_agency, make_agency, make_contact, make_user

GIVEN_NAME, FAMILY_NAME = "Ottilie", "Brackenbury"
RELEASE_CATEGORIES = ["identity", "criminal_justice", "physical_health"]


@dataclass
class ReleaseWorld:
    host: Agency
    prison: Agency
    probation: Agency
    health: Agency
    housing: Agency
    po: Contact
    gp_contact: Contact
    gp_lead: User
    probation_lead: User
    housing_lead: User
    staff: User
    manager: User
    person: ServiceUser


def consent_to(staff: User, person: ServiceUser, agency: Agency, purposes: list[str], categories: list[str]) -> Any:
    return consent_services.record_consent(
        staff,
        person,
        {"agency_id": agency.id, "purposes": purposes, "data_categories": categories,
         "method": ConsentMethod.WRITTEN, "given_on": today()},
    )  # fmt: skip


def build(**person: Any) -> ReleaseWorld:
    host = host_agency()
    prison = make_agency(AgencyKind.PRISON, name="HMP Example Women's Prison", slug="hmp-example")
    probation = make_agency(AgencyKind.PROBATION, name="Example Probation Delivery Unit", slug="example-pdu")
    health = make_agency(AgencyKind.HEALTH, name="Riverside GP Practice", slug="riverside-gp")
    housing = make_agency(AgencyKind.HOUSING, name="Example Council Housing", slug="example-housing")
    staff = make_user(Role.PRACTITIONER, host, name="Kim Keyworker")
    manager = make_user(Role.MANAGER, host, name="Mo Manager")
    gp_lead = make_user(Role.PARTNER_LEAD, health, name="Gina Practice")
    probation_lead = make_user(Role.PARTNER_LEAD, probation, name="Pat Lead")
    housing_lead = make_user(Role.PARTNER_LEAD, housing, name="Hal Housing")
    po = make_contact(probation, name="Paula Officer", role="Community offender manager")
    gp_contact = db.session.query(Contact).filter_by(user_id=gp_lead.id).one()
    health.key_contact_id = gp_contact.id
    probation.key_contact_id = po.id
    woman = consent_services.create_service_user(
        staff,
        {"given_name": person.get("given_name", GIVEN_NAME), "family_name": FAMILY_NAME,
         "date_of_birth": dt.date(1988, 2, 3), "key_worker_id": staff.id},
    )  # fmt: skip
    for agency in (probation, health):
        consent_to(staff, woman, agency, ["referral", "release_planning"], RELEASE_CATEGORIES)
    consent_to(staff, woman, housing, ["referral"], RELEASE_CATEGORIES)
    db.session.flush()
    return ReleaseWorld(host, prison, probation, health, housing, po, gp_contact, gp_lead, probation_lead,
                        housing_lead, staff, manager, woman)  # fmt: skip


def custody(world: ReleaseWorld, nominal: dt.date, *, needs: tuple[str, ...] = (), **data: Any) -> CustodyEpisode:
    sentenced_on = data.pop("sentenced_on", nominal - dt.timedelta(days=120))
    return services.record_custody(
        world.staff,
        world.person,
        {"prison_agency_id": world.prison.id, "custody_type": "sentenced", "sentence_kind": "determinate",
         "sentenced_on": sentenced_on, "term_days": 240, "release_type": "automatic", "nominal_release_on": nominal,
         "probation_contact_id": world.po.id, "date_told_by": "OMU by phone", "needs": list(needs), **data},
    )  # fmt: skip
