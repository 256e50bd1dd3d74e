"""Bad input on every service-user, consent and referral API endpoint: a
clear 4xx problem document (RFC 9457), never a 500, and nothing changes.

Each endpoint is called by a caller allowed to call it, on a referral in a
status where the call is valid, so the only thing wrong is the input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from flask.testing import FlaskClient

from hub.db import today
from tests.referrals.world import CATEGORIES, REASON, World, assert_unchanged, build_world, referral_in, snapshot

BIG = 2**31  # one beyond the largest PostgreSQL integer
HUGE = 10**30
ENORMOUS = "x" * 1_000_000
TOMORROW = (today() + relativedelta(days=1)).isoformat()


@dataclass(frozen=True)
class Endpoint:
    method: str
    who: str  # host | own: a caller allowed to make this call
    path: Callable[[World, int], str]  # (world, referral id) -> path
    valid: Callable[[World], dict[str, Any]]
    status: str | None = None  # the referral status in which the call is valid
    body_optional: bool = False  # bodiless actions: no body at all is fine too


def _referral_path(action: str) -> Callable[[World, int], str]:
    return lambda w, r: f"/api/v1/referrals/{r}/{action}"


def _consent(w: World) -> dict[str, Any]:
    return {
        "agency_id": w.own.id,
        "purposes": ["referral"],
        "data_categories": ["identity", "housing"],
        "method": "written",
        "given_on": today().isoformat(),
    }


def _referral(w: World) -> dict[str, Any]:
    return {
        "service_user_id": w.person.id,
        "agency_id": w.own.id,
        "contact_id": w.own_key.id,
        "data_categories": CATEGORIES,
        "reason": REASON,
        "urgency": "urgent",
    }


ENDPOINTS = {
    "create service user": Endpoint(
        "POST",
        "host",
        lambda w, r: "/api/v1/service-users",
        lambda w: {"given_name": "Mira", "family_name": "Okoro", "date_of_birth": "1985-02-28"},
    ),
    "record consent": Endpoint("POST", "host", lambda w, r: f"/api/v1/service-users/{w.person.id}/consents", _consent),
    "withdraw consent": Endpoint(
        "POST", "host", lambda w, r: f"/api/v1/consents/{w.consent.id}/withdraw", lambda w: {"reason": "She asked"}
    ),
    "create referral": Endpoint("POST", "host", lambda w, r: "/api/v1/referrals", _referral),
    "send": Endpoint("POST", "host", _referral_path("send"), lambda w: {}, "draft", True),
    "acknowledge": Endpoint("POST", "own", _referral_path("acknowledge"), lambda w: {}, "sent", True),
    "accept": Endpoint("POST", "own", _referral_path("accept"), lambda w: {}, "sent", True),
    "decline": Endpoint("POST", "own", _referral_path("decline"), lambda w: {"reason": "Not our area"}, "sent"),
    "start": Endpoint("POST", "own", _referral_path("start"), lambda w: {}, "accepted", True),
    "hold": Endpoint("POST", "own", _referral_path("hold"), lambda w: {"reason": "In hospital"}, "accepted"),
    "resume": Endpoint("POST", "own", _referral_path("resume"), lambda w: {}, "on_hold", True),
    "complete": Endpoint(
        "POST", "own", _referral_path("complete"), lambda w: {"outcome": "Housed"}, "in_progress", True
    ),
    "cancel": Endpoint("POST", "host", _referral_path("cancel"), lambda w: {"reason": "Sent by mistake"}, "sent"),
    "message": Endpoint("POST", "own", _referral_path("messages"), lambda w: {"body": "Seen her today"}, "sent"),
}
# Endpoints whose valid body has a field to spoil.
WITH_FIELDS = [
    "create service user",
    "record consent",
    "withdraw consent",
    "create referral",
    "decline",
    "hold",
    "complete",
    "cancel",
    "message",
]


@pytest.fixture
def world(client: FlaskClient) -> World:
    return build_world(client)


def _call(client: FlaskClient, world: World, name: str, **kwargs: Any) -> Any:
    spec = ENDPOINTS[name]
    referral_id = referral_in(world, spec.status) if spec.status else 0
    headers = {**world.headers(spec.who), **kwargs.pop("headers", {})}
    before = snapshot()
    response = client.open(spec.path(world, referral_id), method=spec.method, headers=headers, **kwargs)
    return response, before


def assert_problem(response: Any, status: int | set[int], field: str | None = None) -> None:
    statuses = {status} if isinstance(status, int) else status
    body = response.get_data(as_text=True)
    assert response.status_code in statuses, body[:2000]
    assert response.mimetype == "application/problem+json", body[:2000]
    problem = json.loads(body)
    assert {"type", "title", "status", "detail"} <= set(problem), problem
    assert problem["status"] == response.status_code
    assert problem["detail"] and problem["title"]
    if field is not None:
        assert field in problem.get("errors", {}), problem


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_valid_calls_are_accepted(client: FlaskClient, world: World, endpoint: str) -> None:
    response, _ = _call(client, world, endpoint, json=ENDPOINTS[endpoint].valid(world))
    assert response.status_code in {200, 201}, response.get_data(as_text=True)


# Bodies that are not a JSON object: (what, raw body, content type, expected status)
BAD_BODIES = [
    ("malformed JSON", b'{"reason": ', "application/json", 400),
    ("trailing garbage", b'{"reason": "Fine"} x', "application/json", 400),
    ("not UTF-8", b'{"reason": "\xff\xfe"}', "application/json", 400),
    ("a JSON array", b"[]", "application/json", 422),
    ("an array of objects", b'[{"reason": "Fine reason"}]', "application/json", 422),
    ("a JSON string", b'"Fine reason"', "application/json", 422),
    ("a JSON number", b"42", "application/json", 422),
    ("JSON null", b"null", "application/json", 422),
    ("JSON true", b"true", "application/json", 422),
    ("an empty body", b"", "application/json", 400),
    ("nested too deep", b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
    ("an integer of 5000 digits", b'{"x": 1' + b"0" * 5000 + b"}", "application/json", 400),
    ("a byte-order mark", b'\xef\xbb\xbf{"reason": "Fine reason"}', "application/json", 400),
    ("a form instead of JSON", b"reason=Fine+reason", "application/x-www-form-urlencoded", 415),
    ("no content type", b'{"reason": "Fine reason"}', "", 415),
    ("no body at all", b"", "", 415),
]
# A bodiless action takes no body at all, or an empty one, as "nothing to add".
NO_BODY = {"an empty body", "no body at all"}
BODY_CASES = [
    (endpoint, *case)
    for endpoint, spec in ENDPOINTS.items()
    for case in BAD_BODIES
    if not (spec.body_optional and case[0] in NO_BODY)
]


@pytest.mark.parametrize(
    ("endpoint", "what", "body", "content_type", "expected"),
    BODY_CASES,
    ids=[f"{c[0]}: {c[1]}" for c in BODY_CASES],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    client: FlaskClient, world: World, endpoint: str, what: str, body: bytes, content_type: str, expected: int
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response, before = _call(client, world, endpoint, data=body, headers=headers)
    assert_problem(response, expected)
    assert_unchanged(before, "bad input")


# Fields with the wrong type or breaking a rule: (endpoint, what, fields over the valid body, field in errors)
FIELD_CASES: list[tuple[str, str, Callable[[World], dict[str, Any]], str]] = [
    ("create service user", "unknown field", lambda w: {"bogus": 1}, "bogus"),
    ("create service user", "a reference", lambda w: {"reference": "SU-AAAA-BBBB"}, "reference"),
    ("create service user", "number for a name", lambda w: {"given_name": 5}, "given_name"),
    ("create service user", "empty name", lambda w: {"given_name": ""}, "given_name"),
    ("create service user", "null name", lambda w: {"family_name": None}, "family_name"),
    ("create service user", "list for a name", lambda w: {"family_name": ["O", "K"]}, "family_name"),
    ("create service user", "enormous name", lambda w: {"family_name": ENORMOUS}, "family_name"),
    ("create service user", "30 February", lambda w: {"date_of_birth": "2026-02-30"}, "date_of_birth"),
    ("create service user", "13th month", lambda w: {"date_of_birth": "1990-13-01"}, "date_of_birth"),
    ("create service user", "a word for a date", lambda w: {"date_of_birth": "yesterday"}, "date_of_birth"),
    ("create service user", "number for a date", lambda w: {"date_of_birth": 19900101}, "date_of_birth"),
    ("create service user", "born tomorrow", lambda w: {"date_of_birth": TOMORROW}, "date_of_birth"),
    ("create service user", "a year beyond any calendar", lambda w: {"date_of_birth": f"1/1/{HUGE}"}, "date_of_birth"),
    ("create service user", "a partner as key worker", lambda w: {"key_worker_id": w.partner.id}, "key_worker_id"),
    ("create service user", "string for an id", lambda w: {"key_worker_id": str(w.staff.id)}, "key_worker_id"),
    ("create service user", "id beyond 2**31", lambda w: {"key_worker_id": BIG}, "key_worker_id"),
    ("create service user", "no such key worker", lambda w: {"key_worker_id": BIG - 1}, "key_worker_id"),
    ("record consent", "unknown field", lambda w: {"status": "withdrawn"}, "status"),
    ("record consent", "a service user id", lambda w: {"service_user_id": w.person.id}, "service_user_id"),
    ("record consent", "unknown purpose", lambda w: {"purposes": ["marketing"]}, "purposes"),
    ("record consent", "no purposes", lambda w: {"purposes": []}, "purposes"),
    ("record consent", "a string for purposes", lambda w: {"purposes": "referral"}, "purposes"),
    ("record consent", "a purpose by label", lambda w: {"purposes": ["Referrals"]}, "purposes"),
    ("record consent", "a thousand purposes", lambda w: {"purposes": ["referral"] * 1000}, "purposes"),
    ("record consent", "unknown category", lambda w: {"data_categories": ["bank_details"]}, "data_categories"),
    ("record consent", "a category in capitals", lambda w: {"data_categories": ["IDENTITY"]}, "data_categories"),
    ("record consent", "null category", lambda w: {"data_categories": [None]}, "data_categories"),
    ("record consent", "no categories", lambda w: {"data_categories": []}, "data_categories"),
    ("record consent", "object for categories", lambda w: {"data_categories": {"identity": True}}, "data_categories"),
    ("record consent", "unknown method", lambda w: {"method": "telepathy"}, "method"),
    ("record consent", "null method", lambda w: {"method": None}, "method"),
    ("record consent", "30 February", lambda w: {"given_on": "2026-02-30"}, "given_on"),
    ("record consent", "given tomorrow", lambda w: {"given_on": TOMORROW}, "given_on"),
    ("record consent", "datetime for a date", lambda w: {"given_on": "2026-01-01Tnonsense"}, "given_on"),
    ("record consent", "expires 30 February", lambda w: {"expires_on": "2027-02-30"}, "expires_on"),
    ("record consent", "expires before given", lambda w: {"expires_on": today().isoformat()}, "expires_on"),
    ("record consent", "expires in ten years", lambda w: {"expires_on": "2099-01-01"}, "expires_on"),
    ("record consent", "the host as recipient", lambda w: {"agency_id": w.host.id}, "agency_id"),
    ("record consent", "string for an id", lambda w: {"agency_id": str(w.own.id)}, "agency_id"),
    ("record consent", "float for an id", lambda w: {"agency_id": float(w.own.id)}, "agency_id"),
    ("record consent", "true for an id", lambda w: {"agency_id": True}, "agency_id"),
    ("record consent", "id beyond 2**31", lambda w: {"agency_id": BIG}, "agency_id"),
    ("record consent", "enormous id", lambda w: {"agency_id": HUGE}, "agency_id"),
    ("record consent", "no such agency", lambda w: {"agency_id": BIG - 1}, "agency_id"),
    ("record consent", "enormous note", lambda w: {"evidence_note": ENORMOUS}, "evidence_note"),
    ("withdraw consent", "no reason", lambda w: {"reason": ""}, "reason"),
    ("withdraw consent", "null reason", lambda w: {"reason": None}, "reason"),
    ("withdraw consent", "number for a reason", lambda w: {"reason": 5}, "reason"),
    ("withdraw consent", "enormous reason", lambda w: {"reason": ENORMOUS}, "reason"),
    ("withdraw consent", "unknown field", lambda w: {"withdrawn_at": "2026-01-01"}, "withdrawn_at"),
    ("create referral", "unknown field", lambda w: {"priority": "high"}, "priority"),
    ("create referral", "unknown category", lambda w: {"data_categories": ["bank_details"]}, "data_categories"),
    ("create referral", "no categories", lambda w: {"data_categories": []}, "data_categories"),
    ("create referral", "a string for categories", lambda w: {"data_categories": "housing"}, "data_categories"),
    ("create referral", "a thousand categories", lambda w: {"data_categories": ["housing"] * 1000}, "data_categories"),
    ("create referral", "unknown urgency", lambda w: {"urgency": "asap"}, "urgency"),
    ("create referral", "null urgency", lambda w: {"urgency": None}, "urgency"),
    ("create referral", "urgency by label", lambda w: {"urgency": "Urgent"}, "urgency"),
    ("create referral", "short reason", lambda w: {"reason": "help"}, "reason"),
    ("create referral", "number for a reason", lambda w: {"reason": 12345}, "reason"),
    ("create referral", "enormous reason", lambda w: {"reason": ENORMOUS}, "reason"),
    ("create referral", "null reason", lambda w: {"reason": None}, "reason"),
    ("create referral", "string for an id", lambda w: {"service_user_id": str(w.person.id)}, "service_user_id"),
    ("create referral", "float for an id", lambda w: {"agency_id": float(w.own.id)}, "agency_id"),
    ("create referral", "true for an id", lambda w: {"contact_id": True}, "contact_id"),
    ("create referral", "negative id", lambda w: {"service_user_id": -1}, "service_user_id"),
    ("create referral", "zero id", lambda w: {"agency_id": 0}, "agency_id"),
    ("create referral", "id beyond 2**31", lambda w: {"contact_id": BIG}, "contact_id"),
    ("create referral", "enormous id", lambda w: {"service_user_id": HUGE}, "service_user_id"),
    ("create referral", "a contact of another agency", lambda w: {"contact_id": w.other_key.id}, "contact_id"),
    ("decline", "number for a reason", lambda w: {"reason": 5}, "reason"),
    ("decline", "enormous reason", lambda w: {"reason": ENORMOUS}, "reason"),
    ("decline", "blank reason", lambda w: {"reason": "  \n "}, "reason"),
    ("decline", "unknown field", lambda w: {"status": "accepted"}, "status"),
    ("hold", "null reason", lambda w: {"reason": None}, "reason"),
    ("hold", "list for a reason", lambda w: {"reason": ["a", "b"]}, "reason"),
    ("cancel", "enormous reason", lambda w: {"reason": ENORMOUS}, "reason"),
    ("cancel", "empty reason", lambda w: {"reason": ""}, "reason"),
    ("complete", "number for an outcome", lambda w: {"outcome": 1}, "outcome"),
    ("complete", "enormous outcome", lambda w: {"outcome": ENORMOUS}, "outcome"),
    ("complete", "unknown field", lambda w: {"closed_at": "2026-01-01"}, "closed_at"),
    ("message", "empty message", lambda w: {"body": ""}, "body"),
    ("message", "blank message", lambda w: {"body": "   "}, "body"),
    ("message", "null message", lambda w: {"body": None}, "body"),
    ("message", "object for a message", lambda w: {"body": {"text": "hi"}}, "body"),
    ("message", "enormous message", lambda w: {"body": ENORMOUS}, "body"),
    ("message", "unknown field", lambda w: {"author_name": "Someone else"}, "author_name"),
    *[(action, "unknown field", lambda w: {"note": "hello"}, "note") for action in ("send", "acknowledge")],
    *[(action, "unknown field", lambda w: {"reason": "why not"}, "reason") for action in ("accept", "start", "resume")],
]


@pytest.mark.parametrize(
    ("endpoint", "what", "bad", "field"), FIELD_CASES, ids=[f"{e}: {w}" for e, w, _b, _f in FIELD_CASES]
)
def test_bad_fields_are_a_422_problem_and_change_nothing(
    client: FlaskClient, world: World, endpoint: str, what: str, bad: Callable[[World], dict[str, Any]], field: str
) -> None:
    response, before = _call(client, world, endpoint, json={**ENDPOINTS[endpoint].valid(world), **bad(world)})
    assert_problem(response, 422, field)
    assert_unchanged(before, "bad input")


@pytest.mark.parametrize("endpoint", WITH_FIELDS)
@pytest.mark.parametrize(
    ("what", "text"),
    [("NUL character", '"a\\u0000b"'), ("unpaired surrogate", '"a\\ud800b"'), ("NUL in a list", '["a\\u0000b"]')],
)
def test_text_postgresql_cannot_store_is_a_400_problem(
    client: FlaskClient, world: World, endpoint: str, what: str, text: str
) -> None:
    valid = ENDPOINTS[endpoint].valid(world)
    field = next(iter(valid))
    body = json.dumps(valid)[:-1] + f', "{field}": {text}}}'  # the field again, last wins
    response, before = _call(client, world, endpoint, data=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 400, field)
    assert_unchanged(before, "bad input")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_body_beyond_the_size_limit_is_413(client: FlaskClient, world: World, endpoint: str) -> None:
    response, before = _call(
        client, world, endpoint, json={**ENDPOINTS[endpoint].valid(world), "padding": "x" * 3_000_000}
    )
    assert_problem(response, 413)
    assert_unchanged(before, "bad input")


BAD_IDS = ["abc", "-1", "0", "1.5", "1e3", str(BIG), str(HUGE), "²", "١٢", "0x10", " 1", str(2**63), str(2**64)]
PATHS_WITH_IDS = [
    ("GET", "/api/v1/service-users/{}", None),
    ("GET", "/api/v1/service-users/{}/consents", None),
    ("POST", "/api/v1/service-users/{}/consents", "consent"),
    ("GET", "/api/v1/service-users/{}/disclosures", None),
    ("POST", "/api/v1/consents/{}/withdraw", {"reason": "She asked"}),
    ("GET", "/api/v1/referrals/{}", None),
    ("GET", "/api/v1/referrals/{}/events", None),
    ("GET", "/api/v1/referrals/{}/messages", None),
    ("POST", "/api/v1/referrals/{}/messages", {"body": "Hello"}),
    *[
        (
            "POST",
            f"/api/v1/referrals/{{}}/{action}",
            {"reason": "A reason"} if action in {"decline", "hold", "cancel"} else {},
        )
        for action in "send acknowledge accept decline start hold resume complete cancel".split()
    ],
]


@pytest.mark.parametrize(("method", "pattern", "body"), PATHS_WITH_IDS)
def test_a_bad_id_in_an_address_is_not_found(
    client: FlaskClient, world: World, method: str, pattern: str, body: Any
) -> None:
    if body == "consent":
        body = _consent(world)
    headers = world.headers("host")
    before = snapshot()
    for bad in BAD_IDS:
        path = pattern.format(bad)
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
        assert response.mimetype == "application/problem+json"
    assert_unchanged(before, "a bad id")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("status=Sent", "status"),
        ("agency_id=abc", "agency_id"),
        (f"agency_id={BIG}", "agency_id"),
        ("service_user_id=-1", "service_user_id"),
        ("service_user_id=" + "9" * 5000, "service_user_id"),
        ("overdue=maybe", "overdue"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=²", "page"),
        (f"page={HUGE}", "page"),
        ("per_page=1000", "per_page"),
        ("per_page=-1", "per_page"),
    ],
)
def test_bad_list_parameters_are_a_422_problem(client: FlaskClient, world: World, query: str, field: str) -> None:
    for who in ("host", "own"):
        response = client.get(f"/api/v1/referrals?{query}", headers=world.headers(who))
        assert_problem(response, 422, field)


@pytest.mark.parametrize("query", ["status=%00", "agency_id=%00", "status=%ED%A0%80"])
def test_odd_text_in_list_parameters_is_a_4xx_problem(client: FlaskClient, world: World, query: str) -> None:
    response = client.get(f"/api/v1/referrals?{query}", headers=world.headers("own"))
    assert_problem(response, {400, 422})
