"""The busiest pages cost the same number of database queries whether the
partnership has 10 agencies or 1,000.

Each test builds a small partnership, counts the queries one request makes,
grows the partnership a hundredfold (in bulk, inside the test's transaction)
and counts again. A lazy load in a template or a serialiser (an N+1) shows up
as a difference. The identity map is emptied before each counted request, as
a real request starts with an empty session: otherwise objects the test
built would answer lazy loads without a query and hide the N+1.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from agencies.models import Agency, AgencyKind, Contact, ContactStatus, Interaction, InteractionKind
from hub.auth.models import User
from hub.db import db, today, utcnow
from hub.permissions import Role
from tests.conftest import count_queries
from tests.helpers import _HASH, bearer, host_agency, make_client, make_user, sign_in

PARTNER_KINDS = [k for k in AgencyKind if k is not AgencyKind.HOST]
_batch = itertools.count(1)


def _insert(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many rows in one statement; their ids, in the order given."""
    if not rows:
        return []
    statement = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(db.session.scalars(statement, rows, execution_options={"render_nulls": True}))


def _days_ago(n: int) -> dt.date:
    return today() - dt.timedelta(days=n)


@dataclass(frozen=True)
class Staff:
    active: list[int]
    left: list[int]

    @property
    def everyone(self) -> list[int]:
        return self.active + self.left


def add_staff(n: int) -> Staff:
    """``n`` members of staff; every third has left (account disabled)."""
    host = host_agency()
    batch = next(_batch)
    ids = _insert(
        User,
        [
            {
                "email": f"staff{batch}-{i}@example.org",
                "name": f"Staff {batch}-{i}",
                "agency_id": host.id,
                "role": Role.PRACTITIONER,
                "password_hash": _HASH,
                "must_change_password": False,
                "disabled_at": utcnow() if i % 3 == 2 else None,
            }
            for i in range(n)
        ],
    )
    return Staff(active=[u for i, u in enumerate(ids) if i % 3 != 2], left=[u for i, u in enumerate(ids) if i % 3 == 2])


def add_agencies(n: int, staff: Staff) -> list[int]:
    """``n`` partner agencies, each with two active contacts (key contact and
    deputy), one who left (succeeded by the key contact) and two log entries.

    Agencies take turns to show one risk each from the health page, so that
    every list on it grows with the partnership, and stale contacts and
    contacts known by leavers sit at agencies listed nowhere else (their
    agency is then loaded for them alone): healthy, no key contact, key
    contact left, a contact not verified, a contact not spoken to, no working
    agreement, agreement due for review, relationship lead has left, a contact
    known by staff who left, key-contact change to confirm and one contact only.
    """
    batch = next(_batch)
    recent, long_ago, soon, later = _days_ago(5), _days_ago(400), _days_ago(-10), _days_ago(-300)

    def someone(i: int) -> int:
        return staff.active[i % len(staff.active)]

    agency_ids = _insert(
        Agency,
        [
            {
                "slug": f"bulk-{batch}-{i}",
                "name": f"Bulk agency {batch}-{i}",
                "kind": PARTNER_KINDS[i % len(PARTNER_KINDS)],
                "services": "Support",
                "has_agreement": i % 10 != 5,
                "agreement_review_on": soon if i % 10 == 6 else later,
                "relationship_owner_id": staff.left[i % len(staff.left)] if i % 10 == 7 else someone(i),
                "roles_to_confirm": "A became key contact when B left" if i % 10 == 9 else None,
            }
            for i in range(n)
        ],
    )
    contact_rows = []
    for i, agency_id in enumerate(agency_ids):
        for j, status in enumerate([ContactStatus.ACTIVE, ContactStatus.ACTIVE, ContactStatus.LEFT]):
            if i % 10 == 9 and j == 1:
                status = ContactStatus.LEFT  # rests on one person
            contact_rows.append(
                {
                    "agency_id": agency_id,
                    "name": f"Contact {batch}-{i}-{j}",
                    "role": "Officer",
                    "email": f"c{batch}-{i}-{j}@example.org",
                    "knowledge": "Knows the housing register",
                    "known_by_id": staff.left[i % len(staff.left)] if (i % 10, j) == (8, 1) else someone(i + j),
                    "last_verified_on": long_ago if (i % 10, j) == (3, 1) else recent,
                    "last_spoken_on": long_ago if (i % 10, j) == (4, 1) else recent,
                    "status": status,
                    "left_on": _days_ago(30) if status is ContactStatus.LEFT else None,
                }
            )
    contact_ids = _insert(Contact, contact_rows)
    mine: dict[int, list[int]] = {}
    for contact_id, contact in zip(contact_ids, contact_rows, strict=True):
        mine.setdefault(contact["agency_id"], []).append(contact_id)
    db.session.execute(
        sa.update(Agency),
        [
            {"id": agency_id, "key_contact_id": {1: None, 2: ids[2]}.get(i % 10, ids[0]), "deputy_contact_id": ids[1]}
            for i, (agency_id, ids) in enumerate(mine.items())
        ],
    )
    db.session.execute(sa.update(Contact), [{"id": ids[2], "successor_id": ids[0]} for ids in mine.values()])
    _insert(
        Interaction,
        [
            {
                "agency_id": agency_id,
                "contact_id": ids[0] if k % 2 else None,
                "author_id": someone(i + k),
                "kind": InteractionKind.CALL,
                "occurred_on": _days_ago(k + 1),
                "summary": "Talked about referrals",
            }
            for i, (agency_id, ids) in enumerate(mine.items())
            for k in range(2)
        ],
    )
    return agency_ids


def add_to_agency(agency_id: int, contacts: int, entries: int) -> None:
    """Give one agency many contacts (known by many colleagues; every fourth
    one a leaver with a successor) and many log entries (written by yet other
    colleagues, each about a contact)."""
    batch = next(_batch)
    knowers, authors = add_staff(60).everyone, add_staff(30).everyone
    rows = [
        {
            "agency_id": agency_id,
            "name": f"Person {batch}-{j}",
            "role": "Worker",
            "email": f"p{batch}-{j}@example.org",
            "known_by_id": knowers[j % len(knowers)],
            "status": ContactStatus.LEFT if j % 4 == 3 else ContactStatus.ACTIVE,
            "left_on": _days_ago(10) if j % 4 == 3 else None,
        }
        for j in range(contacts)
    ]
    ids = _insert(Contact, rows)
    db.session.execute(
        sa.update(Contact),
        [{"id": contact_id, "successor_id": ids[j - 1]} for j, contact_id in enumerate(ids) if j % 4 == 3],
    )
    _insert(
        Interaction,
        [
            {
                "agency_id": agency_id,
                "contact_id": ids[k % len(ids)],
                "author_id": authors[k % len(authors)],
                "kind": InteractionKind.MEETING,
                "occurred_on": _days_ago(k % 30),
                "summary": f"Meeting {k}",
            }
            for k in range(entries)
        ],
    )


def queries_for(app: Flask, http: FlaskClient, path: str, headers: dict[str, str] | None = None) -> list[str]:
    """The SQL statements one GET makes, starting from an empty session.

    A first, uncounted GET does the book-keeping a request may do now and then
    (noting that a sign-in session is still in use), so it is not counted.
    """
    assert http.get(path, headers=headers or {}).status_code == 200
    db.session.commit()
    db.session.expunge_all()
    with count_queries(app) as statements:
        response = http.get(path, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return statements


def same_count(small: list[str], big: list[str]) -> None:
    extra = "\n\n".join(s for s in big if s not in small) or "\n\n".join(big)
    assert len(big) == len(small), f"{len(small)} queries for 10 agencies, {len(big)} for 1,000:\n\n{extra}"


def signed_in_manager(http: FlaskClient) -> User:
    manager = make_user(Role.MANAGER)
    sign_in(http, manager)
    return manager


# Pages ------------------------------------------------------------------------------


def test_directory_costs_the_same_for_10_agencies_as_for_1000(app, client):
    staff = add_staff(3)
    add_agencies(10, staff)
    signed_in_manager(client)
    small = queries_for(app, client, "/directory")

    add_agencies(990, add_staff(60))
    big = queries_for(app, client, "/directory")
    searched = queries_for(app, client, "/directory?q=bulk&kind=housing")

    same_count(small, big)
    same_count(small, searched)


def test_an_agency_page_costs_the_same_however_many_contacts_and_log_entries(app, client):
    staff = add_staff(3)
    agency_id = add_agencies(10, staff)[1]
    signed_in_manager(client)
    small = queries_for(app, client, f"/agencies/{agency_id}")

    add_agencies(990, add_staff(60))
    add_to_agency(agency_id, contacts=200, entries=100)
    big = queries_for(app, client, f"/agencies/{agency_id}")

    same_count(small, big)


def test_health_page_costs_the_same_for_10_agencies_as_for_1000(app, client):
    staff = add_staff(3)
    add_agencies(10, staff)
    signed_in_manager(client)
    small = queries_for(app, client, "/health")

    add_agencies(990, add_staff(60))
    big = queries_for(app, client, "/health")

    same_count(small, big)


# API ---------------------------------------------------------------------------------


def test_api_agency_list_costs_the_same_for_10_agencies_as_for_1000(app, client):
    add_agencies(10, add_staff(3))
    system, secret = make_client(host_agency(), "directory:read")
    headers = bearer(client, system, secret)
    small = queries_for(app, client, "/api/v1/agencies", headers)

    add_agencies(990, add_staff(60))
    big = queries_for(app, client, "/api/v1/agencies?per_page=200", headers)  # the largest page

    same_count(small, big)


def test_api_contact_list_costs_the_same_however_many_contacts(app, client):
    staff = add_staff(3)
    agency_id = add_agencies(10, staff)[1]
    system, secret = make_client(host_agency(), "directory:read")
    headers = bearer(client, system, secret)
    small = queries_for(app, client, f"/api/v1/agencies/{agency_id}/contacts", headers)

    add_agencies(990, add_staff(60))
    add_to_agency(agency_id, contacts=200, entries=100)
    response_rows = client.get(f"/api/v1/agencies/{agency_id}/contacts", headers=headers).json
    big = queries_for(app, client, f"/api/v1/agencies/{agency_id}/contacts", headers)

    same_count(small, big)
    assert len(response_rows) == 203  # three of its own, then the 200 added, leavers included for the host


# Accounts -------------------------------------------------------------------------------------------


def _accounts(agency: Agency, n: int) -> None:
    """``n`` partner accounts of ``agency``, each linked to a contact of its own."""
    batch = next(_batch)
    user_ids = _insert(
        User,
        [
            {
                "email": f"a{batch}-{i}@accounts.example.org",
                "name": f"Account {i}",
                "agency_id": agency.id,
                "role": Role.PARTNER,
                "password_hash": _HASH,
                "must_change_password": False,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            for i in range(n)
        ],
    )
    _insert(
        Contact,
        [
            {"agency_id": agency.id, "name": f"Account {i}", "user_id": uid, "status": ContactStatus.ACTIVE}
            for i, uid in enumerate(user_ids)
        ],
    )


def test_the_accounts_page_and_the_users_api_cost_the_same_for_10_accounts_as_for_1000(
    app: Flask, client: FlaskClient
) -> None:
    agency = Agency(slug="many-accounts", name="Many Accounts", kind=AgencyKind.HOUSING)
    db.session.add(agency)
    db.session.flush()
    _accounts(agency, 10)
    admin = make_user(Role.ADMIN)
    system, secret = make_client(host_agency(), "admin")
    headers = bearer(client, system, secret)
    sign_in(client, admin)

    def cost() -> tuple[int, int]:
        db.session.commit()
        db.session.expunge_all()
        with count_queries(app) as page:
            assert client.get(f"/agencies/{agency.id}/accounts").status_code == 200
        with count_queries(app) as api:
            assert client.get(f"/api/v1/users?agency_id={agency.id}&per_page=200", headers=headers).status_code == 200
        return len(page), len(api)

    small = cost()
    _accounts(agency, 990)
    assert cost() == small  # measured 2026-12-02: page 7 = 7, API 3 = 3
