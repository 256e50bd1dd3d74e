"""The referral list, the partner inbox and the overdue dashboard issue the same
number of queries for 10 referrals as for 1,000: nothing is loaded row by row."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import sqlalchemy as sa

from agencies.models import AgencyKind
from consent.models import ServiceUser
from hub.db import db, utcnow
from hub.permissions import Role
from referrals.models import Referral, Urgency
from referrals.states import Status, due_on
from tests.conftest import count_queries
from tests.helpers import bearer, make_agency, make_client, make_contact, make_user, sign_in

TODAY = dt.date.today()
STATUSES = [Status.SENT, Status.ACKNOWLEDGED, Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED]
_n = itertools.count(1)


@pytest.fixture
def world():
    agency = make_agency(AgencyKind.PROBATION)
    officer = make_user(Role.PARTNER, agency=agency, linked=False)
    # Several contacts (one of them the signed-in officer) and several senders,
    # so a lazy load per row would show as extra queries.
    contacts = [make_contact(agency, user_id=officer.id)] + [make_contact(agency) for _ in range(4)]
    senders = [make_user(Role.PRACTITIONER) for _ in range(4)]
    return agency, officer, contacts, senders


def _add_referrals(count: int, agency, contacts, senders) -> None:
    """Many referrals, each for a different woman, straight into the tables."""
    people = []
    for _ in range(count):
        n = next(_n)
        people.append(
            {
                "reference": f"SU-Q{n:07d}",
                "given_name": f"Given{n}",
                "family_name": f"Family{n}",
                "created_at": utcnow(),
            }
        )
    ids = db.session.scalars(sa.insert(ServiceUser).returning(ServiceUser.id), people).all()
    now = utcnow()
    rows = []
    for i, person_id in enumerate(ids):
        n = next(_n)
        status = STATUSES[i % len(STATUSES)]
        acknowledge_by = TODAY + dt.timedelta(days=(i % 9) - 4)
        decide_by = TODAY + dt.timedelta(days=(i % 5) - 2) if status is not Status.SENT else None
        rows.append(
            {
                "reference": f"R-Q{n:07d}",
                "service_user_id": person_id,
                "agency_id": agency.id,
                "recipient_contact_id": contacts[i % len(contacts)].id,
                "sender_user_id": senders[i % len(senders)].id,
                "data_categories": ["identity"],
                "reason": "Query count",
                "urgency": Urgency.URGENT if i % 7 == 0 else Urgency.ROUTINE,
                "status": status,
                "sent_at": now,
                "acknowledge_by": acknowledge_by,
                "decide_by": decide_by,
                "due_on": due_on(status, acknowledge_by, decide_by),
                "created_at": now,
                "updated_at": now,
            }
        )
    db.session.execute(sa.insert(Referral), rows)
    db.session.flush()


def _queries(app, client, path: str) -> int:
    client.get(path)  # the same start each time: nothing about the signed-in user left in the session
    with count_queries(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(statements)


@pytest.mark.parametrize("path", ["/referrals", "/referrals?status=sent", "/overdue"])
def test_staff_pages_do_not_grow_with_the_number_of_referrals(app, client, world, path):
    agency, _officer, contacts, senders = world
    sign_in(client, make_user(Role.MANAGER))
    _add_referrals(10, agency, contacts, senders)
    few = _queries(app, client, path)
    _add_referrals(990, agency, contacts, senders)
    many = _queries(app, client, path)
    assert few == many, f"{path}: {few} queries for 10 referrals, {many} for 1,000"
    assert many <= 7, many


@pytest.mark.parametrize("path", ["/inbox", "/inbox?page=3", "/overdue"])
def test_partner_pages_do_not_grow_with_the_number_of_referrals(app, client, world, path):
    agency, officer, contacts, senders = world
    sign_in(client, officer)
    _add_referrals(10, agency, contacts, senders)
    few = _queries(app, client, "/inbox" if path == "/inbox?page=3" else path)
    _add_referrals(990, agency, contacts, senders)
    many = _queries(app, client, path)
    assert few == many, f"{path}: {few} queries for 10 referrals, {many} for 1,000"
    # The session with the account and its standing; the capped count; the page; the unread count;
    # and on the inbox, her consents and safeguarding decisions for the page's referrals (two queries
    # for the page: what may be shown of each woman).
    assert many == (6 if path.startswith("/inbox") else 4), many
    html = client.get(path).get_data(as_text=True)
    assert "Addressed to you" in html


def _api_statements(app, client, method: str, path: str, headers) -> int:
    with count_queries(app) as statements:
        response = client.open(path, method=method, headers=headers)
    assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True))
    return len(statements)


def test_the_api_answers_in_the_same_few_statements_at_any_size(app, client, world):
    """A partner system's list, read and acknowledgement: the token in one query, then only what the
    answer needs (an acknowledgement: the referral, its update, its event and audit entry, the
    people on our side to tell, and one insert telling them all)."""
    agency, _officer, contacts, senders = world
    oauth_client, secret = make_client(agency, "referrals:read referrals:write")
    headers = bearer(client, oauth_client, secret)
    counts = []
    for size in (10, 990):
        _add_referrals(size, agency, contacts, senders)
        sent = db.session.scalars(
            sa.select(Referral.id).where(Referral.agency_id == agency.id, Referral.status == Status.SENT)
        ).all()
        counts.append(
            (
                _api_statements(app, client, "GET", "/api/v1/referrals?status=sent&per_page=25", headers),
                _api_statements(app, client, "GET", f"/api/v1/referrals/{sent[0]}", headers),
                _api_statements(app, client, "POST", f"/api/v1/referrals/{sent[-1]}/acknowledge", headers),
            )
        )
    assert counts[0] == counts[1], counts
    list_, read, acknowledge = counts[1]
    assert list_ == 3, list_  # token, capped count, page
    assert read == 4, read  # token, referral, consents, safeguarding decisions (none valid: nothing logged)
    assert acknowledge <= 8, acknowledge  # ... and one update marking read what its side was told about it
