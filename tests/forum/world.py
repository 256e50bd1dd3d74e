"""The world forum tests act in, built through the services.

- ``host``: the charity, with a ``manager`` (chair of the forum) and a ``practitioner``.
- Four partner agencies, each with a lead who is its key contact and its representative at the forum:
  ``probation``, ``housing``, ``drugs`` and ``idva``; at housing also a partner-staff ``worker``.
- ``woman`` (unusual names, so a leak into a page, a message or a feed is easy to find): her consent to
  discussion at the forum (``forum_discussion``, ``identity``) covers probation and housing only.
- ``other``: a second woman with no consent for the forum at all.
- ``forum``: the four agencies as members, meeting the second Tuesday of each month at 10:00;
  ``meeting``: its meeting on Tuesday 8 December 2026 (every member invited).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from agencies.models import Agency, AgencyKind, Contact
from consent import services as consent_services
from consent.models import ConsentMethod, ServiceUser
from forum import services
from forum.models import Forum, Meeting
from forum.recurrence import at_london
from hub.auth.models import User
from hub.db import db
from hub.permissions import Role
from tests.helpers import host_agency, make_agency, make_user

GIVEN_NAME, FAMILY_NAME = "Theodora", "Wintergreen-Oyelaran"
OTHER_GIVEN, OTHER_FAMILY = "Marisol", "Featherstonehaugh"
MEETING_DAY = dt.date(2026, 12, 8)  # the second Tuesday of December 2026


@dataclass
class ForumWorld:
    host: Agency
    probation: Agency
    housing: Agency
    drugs: Agency
    idva: Agency
    manager: User
    practitioner: User
    probation_lead: User
    housing_lead: User
    drugs_lead: User
    idva_lead: User
    worker: User
    woman: ServiceUser
    other: ServiceUser
    forum: Forum
    meeting: Meeting

    @property
    def partners(self) -> list[Agency]:
        return [self.probation, self.housing, self.drugs, self.idva]

    def lead_of(self, agency: Agency) -> User:
        return {self.probation.id: self.probation_lead, self.housing.id: self.housing_lead,
                self.drugs.id: self.drugs_lead, self.idva.id: self.idva_lead}[agency.id]  # fmt: skip


def contact_of(user: User) -> Contact:
    return db.session.scalars(sa.select(Contact).where(Contact.user_id == user.id)).one()


def consent_for_forum(by: User, person: ServiceUser, agency: Agency, given_on: dt.date = dt.date(2026, 11, 1)) -> None:
    consent_services.record_consent(by, person, {
        "agency_id": agency.id, "purposes": ["forum_discussion"], "data_categories": ["identity", "housing"],
        "method": ConsentMethod.WRITTEN, "given_on": given_on, "expires_on": given_on + dt.timedelta(days=365),
    })  # fmt: skip


def build() -> ForumWorld:
    host = host_agency()
    manager = make_user(Role.MANAGER, host, name="Mina Manager")
    practitioner = make_user(Role.PRACTITIONER, host, name="Pip Practitioner")
    probation = make_agency(AgencyKind.PROBATION, name="Example Probation Delivery Unit", slug="ex-probation")
    housing = make_agency(AgencyKind.HOUSING, name="Example Housing Options", slug="ex-housing")
    drugs = make_agency(AgencyKind.SUBSTANCE_USE, name="Example Recovery Service", slug="ex-recovery")
    idva = make_agency(AgencyKind.IDVA, name="Example IDVA Service", slug="ex-idva")
    leads = {}
    for agency, name in ((probation, "Pat Probation"), (housing, "Hal Housing"), (drugs, "Dee Recovery"),
                         (idva, "Iris Idva")):  # fmt: skip
        leads[agency.id] = make_user(Role.PARTNER_LEAD, agency, name=name)
        agency.key_contact_id = contact_of(leads[agency.id]).id
    worker = make_user(Role.PARTNER, housing, name="Wyn Worker")
    woman = consent_services.create_service_user(practitioner, {"given_name": GIVEN_NAME, "family_name": FAMILY_NAME})
    other = consent_services.create_service_user(practitioner, {"given_name": OTHER_GIVEN, "family_name": OTHER_FAMILY})
    consent_for_forum(practitioner, woman, probation)
    consent_for_forum(practitioner, woman, housing)
    forum = services.create_forum(manager, {
        "name": "Example Women's Safeguarding Forum", "venue": "The Example Women's Centre",
        "member_agency_ids": [probation.id, housing.id, drugs.id, idva.id], "chair_user_id": manager.id,
        "weekday": 1, "week_of_month": 2, "starts_at": dt.time(10, 0),
        "standing_items": ["Welcome and confidentiality statement", "Any other business"],
    })  # fmt: skip
    for agency in (probation, housing, drugs, idva):
        services.set_member(manager, forum, agency.id, {"representative_contact_id": contact_of(leads[agency.id]).id})
    meeting = services.schedule_meeting(manager, forum, {"starts_at": at_london(MEETING_DAY, dt.time(10, 0))})
    db.session.flush()
    return ForumWorld(host, probation, housing, drugs, idva, manager, practitioner, leads[probation.id],
                      leads[housing.id], leads[drugs.id], leads[idva.id], worker, woman, other, forum,
                      meeting)  # fmt: skip
