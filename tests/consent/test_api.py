"""The service-user and consent API keeps to /work/shared/API.md: host
organisation systems only (404 for every partner system, whatever it asks),
the fields and statuses named there, and problem documents for what it refuses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from flask.testing import FlaskClient

from consent.models import ConsentRecord, ConsentStatus
from hub.db import today
from referrals.models import Referral
from referrals.states import Status
from tests.referrals.world import (
    CATEGORIES,
    GIVEN_NAME,
    World,
    assert_unchanged,
    build_world,
    fresh,
    referral_in,
    snapshot,
)

SERVICE_USER_FIELDS = {"id", "reference", "given_name", "family_name", "date_of_birth", "key_worker_id", "created_at"}
CONSENT_FIELDS = {
    "id",
    "service_user_id",
    "agency_id",
    "purposes",
    "data_categories",
    "method",
    "given_on",
    "expires_on",
    "status",
    "information_version",
    "recorded_by_id",
    "withdrawn_at",
}


@pytest.fixture
def world(client: FlaskClient) -> World:
    return build_world(client)


def consent_body(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "agency_id": world.own.id,
        "purposes": ["referral", "release_planning"],
        "data_categories": ["identity", "housing"],
        "method": "written",
        "given_on": today().isoformat(),
        **overrides,
    }


def test_create_and_read_a_service_user(client: FlaskClient, world: World) -> None:
    headers = world.headers("host")
    response = client.post(
        "/api/v1/service-users",
        json={"given_name": "Mira", "family_name": "Okoro", "date_of_birth": "1985-02-28"},
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    out = response.json
    assert set(out) == SERVICE_USER_FIELDS
    assert out["reference"].startswith("SU-")
    assert (out["given_name"], out["family_name"], out["date_of_birth"]) == ("Mira", "Okoro", "1985-02-28")
    got = client.get(f"/api/v1/service-users/{out['id']}", headers=headers)
    assert got.status_code == 200 and got.json == out
    # Date of birth is optional
    response = client.post("/api/v1/service-users", json={"given_name": "Jo", "family_name": "Ng"}, headers=headers)
    assert response.status_code == 201 and response.json["date_of_birth"] is None


def test_record_list_and_withdraw_consent(client: FlaskClient, world: World) -> None:
    headers = world.headers("host")
    path = f"/api/v1/service-users/{world.person.id}/consents"
    response = client.post(path, json=consent_body(world), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    out = response.json
    assert set(out) == CONSENT_FIELDS
    assert out["status"] == "active"
    assert out["purposes"] == ["referral", "release_planning"]
    assert out["data_categories"] == ["housing", "identity"]
    assert out["method"] == "written"
    # The default expiry, as configured
    assert dt.date.fromisoformat(out["expires_on"]) > today()
    listed = client.get(path, headers=headers)
    assert listed.status_code == 200
    assert {c["id"] for c in listed.json} == {world.consent.id, world.other_consent.id, out["id"]}
    withdrawn = client.post(f"/api/v1/consents/{out['id']}/withdraw", json={"reason": "She asked"}, headers=headers)
    assert withdrawn.status_code == 200
    assert withdrawn.json["status"] == "withdrawn" and withdrawn.json["withdrawn_at"]
    # Only once: withdrawing again is not allowed in its current state
    before = snapshot()
    again = client.post(f"/api/v1/consents/{out['id']}/withdraw", json={"reason": "Again"}, headers=headers)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert_unchanged(before)


def test_an_explicit_expiry_and_the_three_year_limit(client: FlaskClient, world: World) -> None:
    headers = world.headers("host")
    path = f"/api/v1/service-users/{world.person.id}/consents"
    expires = today() + relativedelta(months=6)
    response = client.post(path, json=consent_body(world, expires_on=expires.isoformat()), headers=headers)
    assert response.status_code == 201 and response.json["expires_on"] == expires.isoformat()
    too_long = (today() + relativedelta(years=3, days=1)).isoformat()
    response = client.post(path, json=consent_body(world, expires_on=too_long), headers=headers)
    assert response.status_code == 422 and "expires_on" in response.json["errors"]


def test_withdrawal_puts_the_open_referrals_it_covered_on_hold(client: FlaskClient, world: World) -> None:
    open_ids = [referral_in(world, s) for s in ("sent", "acknowledged", "accepted", "in_progress")]
    closed = referral_in(world, "completed")
    drafted = referral_in(world, "draft")
    elsewhere = referral_in(world, "sent", world.other)
    response = client.post(
        f"/api/v1/consents/{world.consent.id}/withdraw", json={"reason": "She asked"}, headers=world.headers("host")
    )
    assert response.status_code == 200
    for referral_id in open_ids:
        referral = fresh(Referral, referral_id)
        assert referral.status is Status.ON_HOLD and referral.basis_lost, referral_id
    assert fresh(Referral, closed).status is Status.COMPLETED
    assert fresh(Referral, drafted).status is Status.DRAFT
    assert fresh(Referral, elsewhere).status is Status.SENT  # another agency, another consent


def test_disclosures_say_who_was_given_or_shown_what_on_what_basis(client: FlaskClient, world: World) -> None:
    referral_id = referral_in(world, "sent")
    assert client.get(f"/api/v1/referrals/{referral_id}", headers=world.headers("own")).status_code == 200
    response = client.get(f"/api/v1/service-users/{world.person.id}/disclosures", headers=world.headers("host"))
    assert response.status_code == 200
    rows = response.json
    assert [r["kind"] for r in rows] == ["sent", "viewed"]
    sent, viewed = rows
    assert sent["agency_id"] == viewed["agency_id"] == world.own.id
    assert sent["data_categories"] == sorted(CATEGORIES)
    assert sent["purpose"] == "referral"
    assert sent["basis"] == "consent" and sent["consent_id"] == world.consent.id
    assert (sent["actor_kind"], sent["actor_id"]) == ("user", world.staff.id)
    assert viewed["actor_kind"] == "client"
    assert (sent["context"], sent["context_id"]) == ("referral", referral_id)
    assert sent["occurred_at"] <= viewed["occurred_at"]


# Partner systems: nothing here exists for them -----------------------------------


def _partner_calls(world: World) -> list[tuple[str, str, dict[str, Any] | None]]:
    person = world.person.id
    return [
        ("POST", "/api/v1/service-users", {"given_name": "Planted", "family_name": "Person"}),
        ("GET", f"/api/v1/service-users/{person}", None),
        ("GET", f"/api/v1/service-users/{person}/consents", None),
        ("POST", f"/api/v1/service-users/{person}/consents", consent_body(world)),
        ("POST", f"/api/v1/consents/{world.consent.id}/withdraw", {"reason": "Partner says so"}),
        ("GET", f"/api/v1/service-users/{person}/disclosures", None),
        # Bad input and unknown ids answer the same: nothing to learn by probing
        ("POST", "/api/v1/service-users", {"bogus": True}),
        ("GET", "/api/v1/service-users/2147483647", None),
        ("POST", "/api/v1/consents/2147483647/withdraw", {"reason": "x"}),
    ]


@pytest.mark.parametrize("who", ["own", "other"])
def test_partner_systems_get_404_for_every_service_user_endpoint(client: FlaskClient, world: World, who: str) -> None:
    headers = world.headers(who)
    before = snapshot()
    for method, path, body in _partner_calls(world):
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code == 404, f"{who} {method} {path}: {response.status_code}"
        assert response.mimetype == "application/problem+json"
        assert GIVEN_NAME not in response.get_data(as_text=True)
    assert_unchanged(before)
    assert fresh(ConsentRecord, world.consent.id).status is ConsentStatus.ACTIVE


SCOPE_CASES = [
    ("POST", "/api/v1/service-users", "service-users:read consent:write"),
    ("GET", "/api/v1/service-users/{person}", "service-users:write consent:write"),
    ("GET", "/api/v1/service-users/{person}/consents", "service-users:write consent:write"),
    ("POST", "/api/v1/service-users/{person}/consents", "service-users:read service-users:write"),
    ("POST", "/api/v1/consents/{consent}/withdraw", "service-users:read service-users:write"),
    ("GET", "/api/v1/service-users/{person}/disclosures", "consent:write referrals:read"),
]


@pytest.mark.parametrize(("method", "pattern", "scope"), SCOPE_CASES)
def test_each_endpoint_needs_its_scope(
    client: FlaskClient, world: World, method: str, pattern: str, scope: str
) -> None:
    path = pattern.format(person=world.person.id, consent=world.consent.id)
    body = {
        "/api/v1/service-users": {"given_name": "A", "family_name": "B"},
        "/api/v1/service-users/{person}/consents": consent_body(world),
        "/api/v1/consents/{consent}/withdraw": {"reason": "x"},
    }.get(pattern)
    without = world.headers("host", scope)
    before = snapshot()
    response = client.open(path, method=method, json=body if method == "POST" else None, headers=without)
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    response = client.open(path, method=method, json=body if method == "POST" else None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert_unchanged(before)
