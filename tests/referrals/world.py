"""The world the referral and consent API tests act in, built through the
services: the host organisation, the partner agency a referral goes to
("own"), another partner agency ("other"), staff and partner users, one
API client of each, a woman with consent to share with both agencies, and
referrals in any status.

``referral_in(world, status)`` walks a referral there through the real
transitions, so every row (events, disclosures, deadlines) is as the hub
would leave it.

Every test request ends the session it ran in, detaching what the test had
loaded: the world's objects are good for their ids and loaded columns; load
a row again (``fresh``) before handing it to a service that changes it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from agencies.models import Agency, AgencyKind, Contact
from consent import services as consent_services
from consent.models import ConsentMethod, ConsentRecord, ServiceUser
from hub.auth.models import User
from hub.db import db, today, utcnow
from hub.oauth.models import OAuthToken, secret_hash
from hub.permissions import Role
from referrals import services
from referrals.actions import ACTIONS
from referrals.models import Referral
from referrals.states import Status
from tests.helpers import host_agency, make_agency, make_client, make_contact, make_user

ALL_SCOPES = (
    "directory:read directory:write service-users:read service-users:write consent:write referrals:read referrals:write"
)
STATUSES = [s.value for s in Status]
GIVEN_NAME, FAMILY_NAME = "Zelda", "Quennell"  # unusual, so a leak is easy to find in any text
REASON = "Needs a safe tenancy on release; history of domestic abuse"
CATEGORIES = ["domestic_abuse", "housing", "identity"]
# Tables an API call could change: a refused call must leave all of them as they were.
TABLES = (
    "service_users",
    "consent_records",
    "safeguarding_decisions",
    "disclosures",
    "referrals",
    "referral_events",
    "referral_messages",
    "idempotency_keys",
    "notifications",
    "audit_events",
    "agencies",
    "contacts",
)


@dataclass
class World:
    host: Agency
    own: Agency
    other: Agency
    own_key: Contact
    other_key: Contact
    users: dict[str, User]  # by role; partner roles belong to ``own``
    other_lead: User  # a partner lead of ``other``
    person: ServiceUser
    consent: ConsentRecord  # to ``own``
    other_consent: ConsentRecord  # to ``other``
    http: FlaskClient
    _headers: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    @property
    def staff(self) -> User:
        return self.users["practitioner"]

    @property
    def partner(self) -> User:
        return self.users["partner_lead"]

    def headers(self, who: str, scope: str = ALL_SCOPES) -> dict[str, str]:
        """A bearer token for an API client of: ``host``, ``own`` or ``other``,
        minted straight into the database (``tests/hub/test_oauth.py`` covers
        the token endpoint; going through it here would triple each test's setup)."""
        if (who, scope) not in self._headers:
            agency = {"host": self.host, "own": self.own, "other": self.other}[who]
            oauth_client, _secret = make_client(agency, scope)
            token = secrets.token_urlsafe(32)
            db.session.add(
                OAuthToken(
                    token_hash=secret_hash(token),
                    client_pk=oauth_client.id,
                    scope=scope,
                    issued_at=utcnow(),
                    expires_in=3600,
                )
            )
            db.session.flush()
            self._headers[(who, scope)] = {"Authorization": f"Bearer {token}"}
        return self._headers[(who, scope)]


def give_consent(
    staff: User, person: ServiceUser, agency: Agency, categories: list[str] | None = None
) -> ConsentRecord:
    return consent_services.record_consent(
        staff,
        person,
        {
            "agency_id": agency.id,
            "purposes": ["referral"],
            "data_categories": categories or CATEGORIES,
            "method": ConsentMethod.WRITTEN,
            "given_on": today(),
        },
    )


def build_world(http: FlaskClient) -> World:
    host = host_agency()
    own = make_agency(AgencyKind.PROBATION, name="Own Partner", slug="own-partner")
    other = make_agency(AgencyKind.HOUSING, name="Other Partner", slug="other-partner")
    own_key, other_key = make_contact(own, name="Kay Key"), make_contact(other, name="Olu Other")
    own.key_contact_id, other.key_contact_id = own_key.id, other_key.id
    users = {
        role.value: make_user(role, host if role.is_staff else own)
        for role in (Role.ADMIN, Role.MANAGER, Role.PRACTITIONER, Role.PARTNER_LEAD, Role.PARTNER)
    }
    other_lead = make_user(Role.PARTNER_LEAD, other)
    person = consent_services.create_service_user(
        users["practitioner"],
        {"given_name": GIVEN_NAME, "family_name": FAMILY_NAME, "date_of_birth": dt.date(1990, 5, 17)},
    )
    consent = give_consent(users["practitioner"], person, own)
    other_consent = give_consent(users["practitioner"], person, other)
    db.session.flush()
    world = World(host, own, other, own_key, other_key, users, other_lead, person, consent, other_consent, http)
    for who in ("host", "own", "other"):
        world.headers(who)  # now, so that a snapshot taken later does not see the tokens issued
    # Detach the world with everything loaded: a request that rolls back (sharing
    # the test's session) must not expire what the test reads from it later.
    db.session.commit()
    db.session.expunge_all()
    return world


def draft(world: World, agency: Agency | None = None, **overrides: Any) -> Referral:
    data = {
        "service_user_id": world.person.id,
        "agency_id": (agency or world.own).id,
        "data_categories": CATEGORIES,
        "reason": REASON,
        **overrides,
    }
    return services.create_referral(world.staff, data)


# How to reach each status from a draft: (actor, action) steps.
PATHS: dict[str, list[tuple[str, str]]] = {
    "draft": [],
    "sent": [("sender", "send")],
    "acknowledged": [("sender", "send"), ("recipient", "acknowledge")],
    "accepted": [("sender", "send"), ("recipient", "acknowledge"), ("recipient", "accept")],
    "declined": [("sender", "send"), ("recipient", "acknowledge"), ("recipient", "decline")],
    "in_progress": [("sender", "send"), ("recipient", "accept"), ("recipient", "start")],
    "on_hold": [("sender", "send"), ("recipient", "accept"), ("recipient", "start"), ("recipient", "hold")],
    "completed": [("sender", "send"), ("recipient", "accept"), ("recipient", "start"), ("recipient", "complete")],
    "cancelled": [("sender", "send"), ("sender", "cancel")],
    "cancelled_draft": [("sender", "cancel")],  # cancelled before it was ever sent
}


def referral_in(world: World, status: str, agency: Agency | None = None) -> int:
    """A referral in ``status`` (or ``cancelled_draft``), by id: see the module's note on sessions."""
    agency = agency or world.own
    recipient = world.partner if agency.id == world.own.id else world.other_lead
    referral = draft(world, agency)
    for who, action in PATHS[status]:
        actor = world.staff if who == "sender" else recipient
        if action == "send":
            services.send_referral(actor, referral)
        else:
            ACTIONS[action].run(actor, referral, {"reason": "A reason given", "outcome": "Housed"})
    db.session.flush()
    assert referral.status.value == status.removesuffix("_draft")
    return referral.id


def snapshot() -> dict[str, list[Any]]:
    return {t: db.session.execute(sa.text(f"SELECT * FROM {t} ORDER BY id")).all() for t in TABLES}


def assert_unchanged(
    before: dict[str, list[Any]], what: str = "a refused request", but: set[str] = frozenset()
) -> None:
    after = snapshot()
    for table, rows in before.items():
        if table not in but:
            assert after[table] == rows, f"{what} changed {table}"


def fresh(model: type, pk: int) -> Any:
    """The row as it is now. (Each test request ends its session, so objects the
    test built before a request are detached: read their ids, re-load the rest.)"""
    return db.session.get(model, pk, populate_existing=True)


def count(model: type, *where: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0
