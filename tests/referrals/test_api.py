"""The referrals API keeps to /work/shared/API.md: statuses, fields, problem
documents, ``missing`` when consent does not cover a referral, 409 for a
transition not allowed now, ``X-Total-Count``, and ``Idempotency-Key``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from consent import services as consent_services
from consent.models import ConsentMethod, ConsentRecord, Disclosure, DisclosureKind
from hub.audit import AuditEvent
from hub.db import db, today
from hub.idempotency import IdempotencyKey
from hub.notifications.models import Notification
from referrals.models import Referral, ReferralEvent
from referrals.states import Status
from tests.referrals.world import (
    CATEGORIES,
    FAMILY_NAME,
    GIVEN_NAME,
    REASON,
    World,
    assert_unchanged,
    build_world,
    count,
    fresh,
    give_consent,
    referral_in,
    snapshot,
)

REFERRAL_FIELDS = {
    "id",
    "reference",
    "status",
    "agency_id",
    "service_user_id",
    "contact_id",
    "recipient_contact_id",
    "data_categories",
    "urgency",
    "purpose",
    "needed_by",
    "sent_at",
    "acknowledge_by",
    "acknowledged_at",
    "decide_by",
    "decided_at",
    "closed_at",
    "details_available",
    "reason",
    "service_user",
    "outcome",
    "created_at",
    "updated_at",
}


@pytest.fixture
def world(client: FlaskClient) -> World:
    return build_world(client)


def body(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "service_user_id": world.person.id,
        "agency_id": world.own.id,
        "data_categories": CATEGORIES,
        "reason": REASON,
        "urgency": "routine",
        **overrides,
    }


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:2000]
    assert response.mimetype == "application/problem+json", text[:2000]
    problem = response.json
    assert {"type", "title", "status", "detail"} <= set(problem)
    assert problem["status"] == status
    if field is not None:
        assert field in problem.get("errors", {}), problem
    return problem


def create(client: FlaskClient, world: World, **overrides: Any) -> Any:
    return client.post("/api/v1/referrals", json=body(world, **overrides), headers=world.headers("host"))


def act(client: FlaskClient, world: World, who: str, referral_id: int, action: str, json: Any = None) -> Any:
    """POST an action; ``json=None`` sends no body at all."""
    return client.post(f"/api/v1/referrals/{referral_id}/{action}", json=json, headers=world.headers(who))


# Creating and sending -------------------------------------------------------------


def test_create_gives_a_draft_with_the_contract_fields(client: FlaskClient, world: World) -> None:
    response = create(client, world, contact_id=world.own_key.id, urgency="urgent")
    assert response.status_code == 201, response.get_data(as_text=True)
    out = response.json
    assert set(out) == REFERRAL_FIELDS
    assert out["status"] == "draft"
    assert out["reference"].startswith("R-")
    assert (out["service_user_id"], out["agency_id"], out["contact_id"]) == (
        world.person.id,
        world.own.id,
        world.own_key.id,
    )
    assert out["data_categories"] == sorted(CATEGORIES)
    assert out["urgency"] == "urgent"
    assert out["sent_at"] is None and out["acknowledge_by"] is None and out["recipient_contact_id"] is None
    # Our own systems always see the details; names only because "identity" is shared
    assert out["details_available"] is True
    assert out["reason"] == REASON
    assert out["service_user"] == {
        "id": world.person.id,
        "reference": world.person.reference,
        "given_name": GIVEN_NAME,
        "family_name": FAMILY_NAME,
        "date_of_birth": "1990-05-17",
    }
    referral = fresh(Referral, out["id"])
    assert referral.status is Status.DRAFT and referral.sender_client_id is not None


def test_send_addresses_it_and_starts_the_clock(client: FlaskClient, world: World) -> None:
    referral_id = create(client, world).json["id"]
    response = act(client, world, "host", referral_id, "send")
    assert response.status_code == 200, response.get_data(as_text=True)
    out = response.json
    assert out["status"] == "sent"
    assert out["recipient_contact_id"] == world.own_key.id
    acknowledge_by = dt.date.fromisoformat(out["acknowledge_by"])
    assert acknowledge_by > today()
    assert out["sent_at"] is not None
    sent = db.session.scalars(sa.select(Disclosure).where(Disclosure.context_id == referral_id)).all()
    assert [(d.kind, d.consent_id) for d in sent] == [(DisclosureKind.SENT, world.consent.id)]


def test_send_without_consent_is_422_with_missing_and_changes_nothing(client: FlaskClient, world: World) -> None:
    consent_services.withdraw_consent(world.staff, fresh(ConsentRecord, world.consent.id), "She said stop")
    referral_id = create(client, world).json["id"]
    before = snapshot()
    problem = assert_problem(act(client, world, "host", referral_id, "send"), 422)
    assert problem["missing"]["agency"]
    assert problem["missing"]["data_categories"] == sorted(CATEGORIES)
    assert_unchanged(before)
    assert fresh(Referral, referral_id).status is Status.DRAFT


def test_send_names_the_categories_consent_does_not_cover(client: FlaskClient, world: World) -> None:
    consent_services.withdraw_consent(world.staff, fresh(ConsentRecord, world.consent.id), "Narrowing what she agreed")
    give_consent(world.staff, world.person, world.own, ["identity", "housing"])
    referral_id = create(client, world).json["id"]
    problem = assert_problem(act(client, world, "host", referral_id, "send"), 422)
    assert problem["missing"] == {"data_categories": ["domestic_abuse"]}
    assert "domestic_abuse" in " ".join(problem["errors"]["data_categories"])


def test_send_needs_the_referral_purpose(client: FlaskClient, world: World) -> None:
    consent_services.withdraw_consent(
        world.staff, fresh(ConsentRecord, world.consent.id), "Only for release planning now"
    )
    consent_services.record_consent(
        world.staff,
        world.person,
        {
            "agency_id": world.own.id,
            "purposes": ["release_planning"],
            "data_categories": CATEGORIES,
            "method": ConsentMethod.VERBAL,
            "given_on": today(),
        },
    )
    referral_id = create(client, world).json["id"]
    problem = assert_problem(act(client, world, "host", referral_id, "send"), 422)
    assert problem["missing"]["purpose"]


# The lifecycle ----------------------------------------------------------------------


def test_the_whole_lifecycle_through_the_api(client: FlaskClient, world: World) -> None:
    referral_id = create(client, world).json["id"]
    steps = [
        ("host", "send", {}, "sent"),
        ("own", "acknowledge", {}, "acknowledged"),
        ("own", "accept", {}, "accepted"),
        ("own", "start", {}, "in_progress"),
        ("own", "hold", {"reason": "She is in hospital"}, "on_hold"),
        ("own", "resume", {}, "in_progress"),
        ("own", "complete", {"outcome": "Tenancy signed"}, "completed"),
    ]
    for who, action, json, status in steps:
        response = act(client, world, who, referral_id, action, json or None)
        assert response.status_code == 200, f"{action}: {response.get_data(as_text=True)}"
        assert response.json["status"] == status
    out = response.json
    assert out["outcome"] == "Tenancy signed"
    assert out["acknowledged_at"] and out["decided_at"] and out["closed_at"] and out["decide_by"]
    events = client.get(f"/api/v1/referrals/{referral_id}/events", headers=world.headers("own"))
    assert events.status_code == 200
    assert [e["action"] for e in events.json] == ["create", "send", *[s[1] for s in steps[1:]]]
    assert [e["to_status"] for e in events.json][1:] == [s[3] for s in steps]
    hold = events.json[5]
    assert hold["from_status"] == "in_progress" and hold["note"] == "She is in hospital"
    assert {"id", "action", "from_status", "to_status", "actor_kind", "actor_agency_id", "note", "at"} == set(hold)


@pytest.mark.parametrize(("action", "start"), [("decline", "sent"), ("hold", "accepted"), ("cancel", "sent")])
def test_decline_hold_and_cancel_need_a_reason(client: FlaskClient, world: World, action: str, start: str) -> None:
    referral_id = referral_in(world, start)
    who = "host" if action == "cancel" else "own"
    before = snapshot()
    for json in ({}, {"reason": ""}, {"reason": "   "}):
        assert_problem(act(client, world, who, referral_id, action, json), 422, "reason")
    # No body at all: "send JSON"
    assert_problem(client.post(f"/api/v1/referrals/{referral_id}/{action}", headers=world.headers(who)), 415)
    assert_unchanged(before)
    response = act(client, world, who, referral_id, action, {"reason": "Not our area"})
    assert response.status_code == 200
    assert response.json["status"] == {"decline": "declined", "hold": "on_hold", "cancel": "cancelled"}[action]


def test_actions_without_a_body_take_none_or_an_empty_object(client: FlaskClient, world: World) -> None:
    referral_id = referral_in(world, "sent")
    response = client.post(f"/api/v1/referrals/{referral_id}/acknowledge", headers=world.headers("own"))
    assert response.status_code == 200, response.get_data(as_text=True)
    response = client.post(f"/api/v1/referrals/{referral_id}/accept", json={}, headers=world.headers("own"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_problem(act(client, world, "own", referral_id, "start", {"note": "hello"}), 422, "note")


@pytest.mark.parametrize(
    ("start", "action"),
    [
        ("sent", "send"),
        ("acknowledged", "acknowledge"),
        ("sent", "start"),
        ("sent", "complete"),
        ("sent", "resume"),
        ("accepted", "accept"),
        ("declined", "accept"),
        ("completed", "hold"),
        ("completed", "cancel"),
        ("cancelled", "cancel"),
        ("in_progress", "decline"),
    ],
)
def test_a_transition_not_allowed_now_is_409_and_changes_nothing(
    client: FlaskClient, world: World, start: str, action: str
) -> None:
    referral_id = referral_in(world, start)
    who = "host" if action in {"send", "cancel"} else "own"
    before = snapshot()
    json = {"reason": "A reason"} if action in {"decline", "hold", "cancel"} else None
    problem = assert_problem(act(client, world, who, referral_id, action, json), 409)
    assert problem["detail"]
    assert_unchanged(before)


def test_withdrawal_puts_an_open_referral_on_hold_and_hides_her_details(client: FlaskClient, world: World) -> None:
    referral_id = referral_in(world, "acknowledged")
    seen = client.get(f"/api/v1/referrals/{referral_id}", headers=world.headers("own")).json
    assert seen["details_available"] and seen["service_user"]["family_name"] == FAMILY_NAME
    response = client.post(
        f"/api/v1/consents/{world.consent.id}/withdraw", json={"reason": "She asked"}, headers=world.headers("host")
    )
    assert response.status_code == 200 and response.json["status"] == "withdrawn"
    response = client.get(f"/api/v1/referrals/{referral_id}", headers=world.headers("own"))
    out = response.json
    assert out["status"] == "on_hold"
    assert out["details_available"] is False and out["service_user"] is None and out["reason"] is None
    assert FAMILY_NAME not in response.get_data(as_text=True)
    # Our staff can resume it only once there is a basis again: 422 with what is missing
    problem = assert_problem(act(client, world, "host", referral_id, "resume"), 422)
    assert problem["missing"]["agency"]
    give_consent(world.staff, world.person, world.own)
    # The agency may not lift a hold that the end of her consent caused: our staff do (F1).
    assert act(client, world, "own", referral_id, "resume").status_code == 403
    response = act(client, world, "host", referral_id, "resume")
    assert response.status_code == 200 and response.json["status"] == "acknowledged"
    seen = client.get(f"/api/v1/referrals/{referral_id}", headers=world.headers("own")).json
    assert seen["details_available"] is True


def test_her_details_are_shared_only_as_far_as_the_categories_go(client: FlaskClient, world: World) -> None:
    referral_id = create(client, world, data_categories=["housing"]).json["id"]
    out = act(client, world, "host", referral_id, "send").json
    assert out["service_user"]["reference"] == world.person.reference  # our own staff know who she is
    response = client.get(f"/api/v1/referrals/{referral_id}", headers=world.headers("own"))
    # Without ``identity``, nothing in it identifies her, not even across referrals.
    assert response.json["service_user"] is None and response.json["service_user_id"] is None
    assert response.json["reason"] == REASON
    body = response.get_data(as_text=True)
    assert GIVEN_NAME not in body and world.person.reference not in body


def test_each_view_by_a_partner_system_is_logged_and_ours_are_not(client: FlaskClient, world: World) -> None:
    referral_id = referral_in(world, "sent")

    def views() -> list[Disclosure]:
        return list(
            db.session.scalars(
                sa.select(Disclosure).where(
                    Disclosure.context_id == referral_id, Disclosure.kind == DisclosureKind.VIEWED
                )
            )
        )

    client.get(f"/api/v1/referrals/{referral_id}", headers=world.headers("host"))
    client.get("/api/v1/referrals", headers=world.headers("host"))
    assert views() == []
    client.get(f"/api/v1/referrals/{referral_id}", headers=world.headers("own"))
    listed = client.get("/api/v1/referrals", headers=world.headers("own")).json
    # A list never carries her details, so listing is not a view.
    assert all(item["service_user"] is None and item["reason"] is None for item in listed)
    logged = views()
    assert len(logged) == 1
    assert {(d.actor_kind, d.agency_id, d.consent_id) for d in logged} == {("client", world.own.id, world.consent.id)}
    # The events and messages of a referral show no details, so they are not views
    client.get(f"/api/v1/referrals/{referral_id}/events", headers=world.headers("own"))
    assert len(views()) == 1


# Listing ---------------------------------------------------------------------------


def test_the_list_filters_and_counts(client: FlaskClient, world: World) -> None:
    sent = [referral_in(world, "sent") for _ in range(3)]
    accepted = referral_in(world, "accepted")
    drafted = referral_in(world, "draft")
    elsewhere = referral_in(world, "sent", world.other)
    host = world.headers("host")

    def ids(query: str, headers: dict[str, str] = host) -> tuple[set[int], int]:
        response = client.get(f"/api/v1/referrals?{query}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert isinstance(response.json, list)
        return {r["id"] for r in response.json}, int(response.headers["X-Total-Count"])

    everything = {*sent, accepted, drafted, elsewhere}
    assert ids("") == (everything, 6)
    assert ids("status=sent") == ({*sent, elsewhere}, 4)
    assert ids("status=draft") == ({drafted}, 1)
    assert ids(f"agency_id={world.other.id}") == ({elsewhere}, 1)
    assert ids(f"service_user_id={world.person.id}&status=accepted") == ({accepted}, 1)
    assert ids("service_user_id=999999") == (set(), 0)
    page, total = ids("per_page=2&page=2")
    assert len(page) == 2 and total == 6
    # A partner system: its own agency's, never a draft, whatever it asks for
    own = world.headers("own")
    assert ids("", own) == ({*sent, accepted}, 4)
    assert ids("status=draft", own) == (set(), 0)
    assert ids(f"agency_id={world.other.id}", own) == (set(), 0)
    assert ids("", world.headers("other")) == ({elsewhere}, 1)


# Idempotency-Key ------------------------------------------------------------------


def test_a_retry_with_the_same_key_creates_nothing_new(client: FlaskClient, world: World) -> None:
    headers = {**world.headers("host"), "Idempotency-Key": "c7a4d0f2-5f7e-4c77-9d9a-1f0e7a1b2c3d"}
    first = client.post("/api/v1/referrals", json=body(world), headers=headers)
    assert first.status_code == 201, first.get_data(as_text=True)
    counts = (count(Referral), count(ReferralEvent), count(AuditEvent), count(Notification))
    again = client.post("/api/v1/referrals", json=body(world), headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert (count(Referral), count(ReferralEvent), count(AuditEvent), count(Notification)) == counts
    assert count(Referral, Referral.service_user_id == world.person.id) == 1
    # Her name and the reason are not copied into the key's row
    stored = db.session.scalars(sa.select(IdempotencyKey)).one()
    assert GIVEN_NAME not in str(stored.response) and REASON not in str(stored.response)


def test_the_same_key_with_another_body_is_422(client: FlaskClient, world: World) -> None:
    headers = {**world.headers("host"), "Idempotency-Key": "key-1"}
    assert client.post("/api/v1/referrals", json=body(world), headers=headers).status_code == 201
    before = snapshot()
    response = client.post("/api/v1/referrals", json=body(world, urgency="urgent"), headers=headers)
    assert_problem(response, 422, "Idempotency-Key")
    assert_unchanged(before)


def test_keys_belong_to_their_caller_and_no_key_means_no_replay(client: FlaskClient, world: World) -> None:
    first = client.post(
        "/api/v1/referrals", json=body(world), headers={**world.headers("host"), "Idempotency-Key": "k"}
    )
    other_caller = make_host_headers(world)
    second = client.post("/api/v1/referrals", json=body(world), headers={**other_caller, "Idempotency-Key": "k"})
    assert first.status_code == second.status_code == 201
    assert first.json["id"] != second.json["id"]
    third = client.post("/api/v1/referrals", json=body(world), headers=world.headers("host"))
    fourth = client.post("/api/v1/referrals", json=body(world), headers=world.headers("host"))
    assert len({first.json["id"], second.json["id"], third.json["id"], fourth.json["id"]}) == 4


def make_host_headers(world: World) -> dict[str, str]:
    from tests.helpers import bearer, make_client

    oauth_client, secret = make_client(world.host, "referrals:write referrals:read")
    return bearer(world.http, oauth_client, secret)


@pytest.mark.parametrize("key", ["", "   ", "x" * 201, "tab\there", "new\u2028line"])
def test_a_bad_idempotency_key_is_422(client: FlaskClient, world: World, key: str) -> None:
    before = snapshot()
    response = client.post(
        "/api/v1/referrals", json=body(world), headers={**world.headers("host"), "Idempotency-Key": key}
    )
    assert_problem(response, 422, "Idempotency-Key")
    assert_unchanged(before)


def test_a_refused_create_stores_no_key(client: FlaskClient, world: World) -> None:
    headers = {**world.headers("host"), "Idempotency-Key": "refused"}
    response = client.post("/api/v1/referrals", json=body(world, agency_id=world.host.id), headers=headers)
    assert_problem(response, 422, "agency_id")
    assert count(IdempotencyKey) == 0
    # ...so the corrected request, under the same key, goes through
    assert client.post("/api/v1/referrals", json=body(world), headers=headers).status_code == 201


# Messages ---------------------------------------------------------------------------


def test_sender_and_recipient_exchange_messages(client: FlaskClient, world: World) -> None:
    referral_id = referral_in(world, "sent")
    path = f"/api/v1/referrals/{referral_id}/messages"
    first = client.post(path, json={"body": "Can you see her on Tuesday?"}, headers=world.headers("host"))
    assert first.status_code == 201, first.get_data(as_text=True)
    reply = client.post(path, json={"body": "Yes, at 10."}, headers=world.headers("own"))
    assert reply.status_code == 201
    listed = client.get(path, headers=world.headers("own")).json
    assert [m["body"] for m in listed] == ["Can you see her on Tuesday?", "Yes, at 10."]
    assert {"id", "author_kind", "author_agency_id", "author_name", "body", "at"} == set(listed[0])
    assert listed[1]["author_agency_id"] == world.own.id
    # No message about a draft: the agency has not got it yet
    drafted = referral_in(world, "draft")
    assert_problem(
        client.post(f"/api/v1/referrals/{drafted}/messages", json={"body": "Hi"}, headers=world.headers("host")),
        403,
    )


# The OpenAPI document -------------------------------------------------------------

DOCUMENTED = {
    ("post", "/api/v1/service-users"),
    ("get", "/api/v1/service-users/{service_user_id}"),
    ("get", "/api/v1/service-users/{service_user_id}/consents"),
    ("post", "/api/v1/service-users/{service_user_id}/consents"),
    ("post", "/api/v1/consents/{consent_id}/withdraw"),
    ("get", "/api/v1/service-users/{service_user_id}/disclosures"),
    ("get", "/api/v1/referrals"),
    ("post", "/api/v1/referrals"),
    ("get", "/api/v1/referrals/{referral_id}"),
    ("get", "/api/v1/referrals/{referral_id}/events"),
    ("get", "/api/v1/referrals/{referral_id}/messages"),
    ("post", "/api/v1/referrals/{referral_id}/messages"),
    *(
        ("post", f"/api/v1/referrals/{{referral_id}}/{action}")
        for action in "send acknowledge accept decline start hold resume complete cancel".split()
    ),
}


def test_every_endpoint_is_documented_with_its_scope(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    found = {
        (method, path): op
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method != "parameters"
    }
    for key in DOCUMENTED:
        assert key in found, f"{key} is not in the OpenAPI document"
        security = found[key]["security"]
        assert security and security[0]["oauth2"], key
    create_op = found[("post", "/api/v1/referrals")]
    assert any(p["name"] == "Idempotency-Key" for p in create_op["parameters"])
