"""Bad input on every form and API endpoint of the directory: a clear 4xx,
never a 500, and nothing changes.

Forms answer with the GOV.UK error summary ("There is a problem") and show
the form again; the API answers with an RFC 9457 problem document
(``type``, ``title``, ``status``, ``detail``, and ``errors`` for fields).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from agencies.models import Agency, AgencyKind, Contact, ContactStatus
from hub.auth.models import User
from hub.db import db
from hub.permissions import Role
from tests.helpers import (
    PASSWORD,
    bearer,
    csrf_token,
    host_agency,
    make_agency,
    make_client,
    make_contact,
    make_user,
    sign_in,
)

TODAY = dt.date.today()
TODAY_FORM = f"{TODAY.day}/{TODAY.month}/{TODAY.year}"
BIG = 2**31  # one beyond the largest PostgreSQL integer
HUGE = 10**30
LONG_TEXT = "x" * 100_000  # fits in a form, breaks every length rule
ENORMOUS = "x" * 1_000_000


@dataclass
class World:
    own: Agency  # the partner lead's agency
    other: Agency
    key: Contact
    second: Contact
    left: Contact
    elsewhere: Contact  # an active contact of the other agency
    manager: User
    lead: User
    partner: User
    leaver: User  # staff, owns the relationship with `own`


@pytest.fixture
def world(app: Any) -> World:
    host = host_agency()
    own = make_agency(AgencyKind.PROBATION, name="Own Partner", slug="own-partner")
    other = make_agency(AgencyKind.HOUSING, name="Other Partner", slug="other-partner")
    key, second = make_contact(own, name="Key Person"), make_contact(own, name="Second Person")
    left = make_contact(own, name="Gone Person", status=ContactStatus.LEFT, left_on=TODAY - dt.timedelta(days=9))
    elsewhere = make_contact(other, name="Elsewhere Person")
    own.key_contact_id, own.deputy_contact_id = key.id, second.id
    other.key_contact_id = elsewhere.id
    leaver = make_user(Role.PRACTITIONER, host, name="Lee Leaving")
    own.relationship_owner_id = leaver.id
    db.session.flush()
    return World(
        own,
        other,
        key,
        second,
        left,
        elsewhere,
        make_user(Role.MANAGER, host),
        make_user(Role.PARTNER_LEAD, own),
        make_user(Role.PARTNER, own),
        leaver,
    )


def snapshot() -> dict[str, list[Any]]:
    tables = ("agencies", "contacts", "interactions", "handovers", "users")
    return {t: db.session.execute(sa.text(f"SELECT * FROM {t} ORDER BY id")).all() for t in tables}


def assert_unchanged(before: dict[str, list[Any]]) -> None:
    after = snapshot()
    for table, rows in before.items():
        assert after[table] == rows, f"bad input changed {table}"


# HTML forms -------------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    role: str  # "manager" or "lead"
    path: Callable[[World], str]
    valid: Callable[[World], dict[str, str]]  # a submission that would be accepted


FORMS = {
    "create agency": Form("manager", lambda w: "/agencies/new", lambda w: {"name": "Good Agency", "kind": "housing"}),
    "edit agency (manager)": Form(
        "manager", lambda w: f"/agencies/{w.own.id}/edit", lambda w: {"services": "Good services"}
    ),
    "edit agency (lead)": Form("lead", lambda w: f"/agencies/{w.own.id}/edit", lambda w: {"services": "Good services"}),
    "add contact": Form("lead", lambda w: f"/agencies/{w.own.id}/contacts/new", lambda w: {"name": "New Person"}),
    "edit contact": Form("manager", lambda w: f"/contacts/{w.key.id}/edit", lambda w: {"role": "Good role"}),
    "record leaver": Form("lead", lambda w: f"/contacts/{w.second.id}/leave", lambda w: {"left_on": TODAY_FORM}),
    "log interaction": Form(
        "manager",
        lambda w: f"/agencies/{w.own.id}/log",
        lambda w: {"kind": "call", "occurred_on": TODAY_FORM, "summary": "Spoke about beds"},
    ),
    "offboard staff": Form(
        "manager", lambda w: f"/staff/{w.leaver.id}/offboard", lambda w: {"default_user_id": str(w.manager.id)}
    ),
}

# (form, what is wrong, fields to send on top of the valid submission, the field named in the error)
FORM_CASES: list[tuple[str, str, Callable[[World], dict[str, str]], str]] = [
    ("create agency", "no name", lambda w: {"name": ""}, "name"),
    ("create agency", "one-letter name", lambda w: {"name": "A"}, "name"),
    ("create agency", "very long name", lambda w: {"name": LONG_TEXT}, "name"),
    ("create agency", "no kind", lambda w: {"kind": ""}, "kind"),
    ("create agency", "unknown kind", lambda w: {"kind": "spaceship"}, "kind"),
    ("create agency", "a second host", lambda w: {"kind": "host"}, "kind"),
    ("create agency", "bad slug", lambda w: {"slug": "Bad Slug!"}, "slug"),
    ("create agency", "taken slug", lambda w: {"slug": "other-partner"}, "slug"),
    ("create agency", "bad email", lambda w: {"email": "not-an-email"}, "email"),
    ("create agency", "script website", lambda w: {"website": "javascript:alert(1)"}, "website"),
    ("create agency", "not yes or no", lambda w: {"has_agreement": "maybe"}, "has_agreement"),
    ("create agency", "30 February", lambda w: {"agreement_agreed_on": "30/2/2026"}, "agreement_agreed_on"),
    ("create agency", "ISO 30 February", lambda w: {"agreement_agreed_on": "2026-02-30"}, "agreement_agreed_on"),
    ("create agency", "month 13", lambda w: {"agreement_review_on": "1/13/2026"}, "agreement_review_on"),
    (
        "create agency",
        "review before agreed",
        lambda w: {"agreement_agreed_on": "2/2/2026", "agreement_review_on": "1/2/2026"},
        "agreement_review_on",
    ),
    ("create agency", "key contact before contacts", lambda w: {"key_contact_id": str(w.key.id)}, "key_contact_id"),
    ("create agency", "text for an id", lambda w: {"relationship_owner_id": "abc"}, "relationship_owner_id"),
    ("create agency", "id beyond 2**31", lambda w: {"relationship_owner_id": str(BIG)}, "relationship_owner_id"),
    ("create agency", "enormous id", lambda w: {"relationship_owner_id": str(HUGE)}, "relationship_owner_id"),
    ("create agency", "negative id", lambda w: {"relationship_owner_id": "-1"}, "relationship_owner_id"),
    ("create agency", "unicode digit id", lambda w: {"relationship_owner_id": "²"}, "relationship_owner_id"),
    (
        "create agency",
        "partner as our lead",
        lambda w: {"relationship_owner_id": str(w.lead.id)},
        "relationship_owner_id",
    ),
    ("create agency", "unknown field", lambda w: {"status": "left"}, "status"),
    ("edit agency (manager)", "name blanked", lambda w: {"name": ""}, "name"),
    ("edit agency (manager)", "name of spaces", lambda w: {"name": "   "}, "name"),
    ("edit agency (manager)", "kind blanked", lambda w: {"kind": ""}, "kind"),
    ("edit agency (manager)", "agreement blanked", lambda w: {"has_agreement": ""}, "has_agreement"),
    ("edit agency (manager)", "unknown kind", lambda w: {"kind": "spaceship"}, "kind"),
    ("edit agency (manager)", "made the host", lambda w: {"kind": "host"}, "kind"),
    (
        "edit agency (manager)",
        "other agency's contact",
        lambda w: {"key_contact_id": str(w.elsewhere.id)},
        "key_contact_id",
    ),
    (
        "edit agency (manager)",
        "a leaver as deputy",
        lambda w: {"deputy_contact_id": str(w.left.id)},
        "deputy_contact_id",
    ),
    (
        "edit agency (manager)",
        "key contact as deputy",
        lambda w: {"deputy_contact_id": str(w.key.id)},
        "deputy_contact_id",
    ),
    ("edit agency (manager)", "id beyond 2**31", lambda w: {"key_contact_id": str(BIG)}, "key_contact_id"),
    ("edit agency (manager)", "negative id", lambda w: {"key_contact_id": "-4"}, "key_contact_id"),
    (
        "edit agency (manager)",
        "no such user",
        lambda w: {"relationship_owner_id": "2147483647"},
        "relationship_owner_id",
    ),
    ("edit agency (manager)", "30 February", lambda w: {"agreement_review_on": "2026-02-30"}, "agreement_review_on"),
    ("edit agency (manager)", "unknown field", lambda w: {"slug": "new-slug"}, "slug"),
    ("edit agency (lead)", "text for an id", lambda w: {"key_contact_id": "abc"}, "key_contact_id"),
    ("edit agency (lead)", "a leaver as key contact", lambda w: {"key_contact_id": str(w.left.id)}, "key_contact_id"),
    (
        "edit agency (lead)",
        "other agency's contact",
        lambda w: {"deputy_contact_id": str(w.elsewhere.id)},
        "deputy_contact_id",
    ),
    ("edit agency (lead)", "very long services", lambda w: {"services": LONG_TEXT}, "services"),
    ("edit agency (lead)", "website without a scheme", lambda w: {"website": "www example org"}, "website"),
    ("add contact", "no name", lambda w: {"name": ""}, "name"),
    ("add contact", "one-letter name", lambda w: {"name": "A"}, "name"),
    ("add contact", "bad email", lambda w: {"email": "someone at example"}, "email"),
    ("add contact", "unknown channel", lambda w: {"preferred_channel": "pigeon"}, "preferred_channel"),
    ("add contact", "30 February", lambda w: {"started_on": "30/2/2026"}, "started_on"),
    ("add contact", "nonsense date", lambda w: {"last_verified_on": "last tuesday"}, "last_verified_on"),
    ("add contact", "very long knowledge", lambda w: {"knowledge": LONG_TEXT}, "knowledge"),
    ("add contact", "an agency id", lambda w: {"agency_id": str(w.other.id)}, "agency_id"),
    ("edit contact", "name blanked", lambda w: {"name": ""}, "name"),
    ("edit contact", "partner as known by", lambda w: {"known_by_id": str(w.lead.id)}, "known_by_id"),
    ("edit contact", "id beyond 2**31", lambda w: {"known_by_id": str(BIG)}, "known_by_id"),
    ("edit contact", "text for an id", lambda w: {"known_by_id": "someone"}, "known_by_id"),
    ("edit contact", "30 February", lambda w: {"last_spoken_on": "2026-02-30"}, "last_spoken_on"),
    ("edit contact", "unknown field", lambda w: {"status": "left"}, "status"),
    ("record leaver", "no date", lambda w: {"left_on": ""}, "left_on"),
    ("record leaver", "30 February", lambda w: {"left_on": "30/2/2026"}, "left_on"),
    ("record leaver", "ISO 30 February", lambda w: {"left_on": "2026-02-30"}, "left_on"),
    ("record leaver", "far future", lambda w: {"left_on": "1/1/2100"}, "left_on"),
    ("record leaver", "a year beyond any calendar", lambda w: {"left_on": f"1/1/{HUGE}"}, "left_on"),
    ("record leaver", "a day beyond any calendar", lambda w: {"left_on": f"{HUGE}/1/2026"}, "left_on"),
    ("record leaver", "too many parts", lambda w: {"left_on": "1/1/2026/1"}, "left_on"),
    ("record leaver", "other agency's successor", lambda w: {"successor_id": str(w.elsewhere.id)}, "successor_id"),
    ("record leaver", "a leaver as successor", lambda w: {"successor_id": str(w.left.id)}, "successor_id"),
    ("record leaver", "themself as successor", lambda w: {"successor_id": str(w.second.id)}, "successor_id"),
    ("record leaver", "text for an id", lambda w: {"successor_id": "abc"}, "successor_id"),
    ("record leaver", "id beyond 2**31", lambda w: {"successor_id": str(BIG)}, "successor_id"),
    ("record leaver", "negative id", lambda w: {"successor_id": "-1"}, "successor_id"),
    ("record leaver", "very long note", lambda w: {"handover_note": LONG_TEXT}, "handover_note"),
    ("record leaver", "unknown field", lambda w: {"status": "active"}, "status"),
    ("log interaction", "unknown kind", lambda w: {"kind": "seance"}, "kind"),
    ("log interaction", "in the future", lambda w: {"occurred_on": "1/1/2100"}, "occurred_on"),
    ("log interaction", "30 February", lambda w: {"occurred_on": "2026-02-30"}, "occurred_on"),
    ("log interaction", "no summary", lambda w: {"summary": ""}, "summary"),
    ("log interaction", "very long summary", lambda w: {"summary": LONG_TEXT}, "summary"),
    ("log interaction", "other agency's contact", lambda w: {"contact_id": str(w.elsewhere.id)}, "contact_id"),
    ("log interaction", "id beyond 2**31", lambda w: {"contact_id": str(BIG)}, "contact_id"),
    ("log interaction", "text for an id", lambda w: {"contact_id": "abc"}, "contact_id"),
    ("offboard staff", "nobody chosen", lambda w: {"default_user_id": ""}, "agency-{own}"),
    ("offboard staff", "text for an id", lambda w: {"default_user_id": "abc"}, "default_user_id"),
    ("offboard staff", "id beyond 2**31", lambda w: {"default_user_id": str(BIG)}, "default_user_id"),
    ("offboard staff", "enormous id", lambda w: {"default_user_id": str(HUGE)}, "default_user_id"),
    ("offboard staff", "unicode digit id", lambda w: {"default_user_id": "²"}, "default_user_id"),
    ("offboard staff", "the leaver", lambda w: {"default_user_id": str(w.leaver.id)}, "agency-{own}"),
    ("offboard staff", "a partner", lambda w: {"default_user_id": str(w.lead.id)}, "agency-{own}"),
    ("offboard staff", "no such user", lambda w: {f"agency-{w.own.id}": "2147483647"}, "agency-{own}"),
    ("offboard staff", "negative id", lambda w: {f"agency-{w.own.id}": "-3"}, "agency-{own}"),
]


def _sign_in_as(client: FlaskClient, world: World, role: str) -> None:
    sign_in(client, {"manager": world.manager, "lead": world.lead}[role])


@pytest.mark.parametrize(
    ("form", "problem", "bad", "field"), FORM_CASES, ids=[f"{f}: {p}" for f, p, _b, _f in FORM_CASES]
)
def test_bad_form_input_is_shown_as_an_error_and_changes_nothing(
    client: FlaskClient, world: World, form: str, problem: str, bad: Callable[[World], dict[str, str]], field: Any
) -> None:
    spec = FORMS[form]
    _sign_in_as(client, world, spec.role)
    path = spec.path(world)
    token = csrf_token(client, path)
    before = snapshot()
    response = client.post(path, data={"csrf_token": token, **spec.valid(world), **bad(world)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:3000]
    assert "There is a problem" in html
    assert f'href="#{field.format(own=world.own.id)}"' in html, html[:3000]
    assert '<form method="post"' in html  # the form is shown again
    assert_unchanged(before)


@pytest.mark.parametrize("form", FORMS)
def test_the_valid_submissions_are_accepted(client: FlaskClient, world: World, form: str) -> None:
    """The baseline: every bad case above differs from an accepted submission only in what it breaks."""
    spec = FORMS[form]
    _sign_in_as(client, world, spec.role)
    path = spec.path(world)
    response = client.post(path, data={"csrf_token": csrf_token(client, path), **spec.valid(world)})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]


POST_ONLY = {
    "confirm roles": ("lead", lambda w: f"/agencies/{w.own.id}/confirm-roles"),
    "complete handover": ("manager", lambda w: "/handovers/1/complete"),
}


@pytest.mark.parametrize("form", [*FORMS, *POST_ONLY])
@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_a_form_without_its_csrf_token_is_refused(client: FlaskClient, world: World, form: str, token: str) -> None:
    if form in FORMS:
        role, path, data = FORMS[form].role, FORMS[form].path(world), FORMS[form].valid(world)
    else:
        role, path, data = POST_ONLY[form][0], POST_ONLY[form][1](world), {}
    _sign_in_as(client, world, role)
    client.get("/directory")  # the session holds a token; the form does not send it
    if token == "wrong":
        data = {**data, "csrf_token": "not-the-token"}
    before = snapshot()
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "Your form has expired" in response.get_data(as_text=True)
    assert_unchanged(before)


@pytest.mark.parametrize("form", FORMS)
def test_an_enormous_form_field_is_refused(client: FlaskClient, world: World, form: str) -> None:
    spec = FORMS[form]
    _sign_in_as(client, world, spec.role)
    path = spec.path(world)
    data = {"csrf_token": csrf_token(client, path), **spec.valid(world)}
    field = next(iter(spec.valid(world)))
    before = snapshot()
    response = client.post(path, data={**data, field: ENORMOUS})
    assert response.status_code in {413, 422}, response.get_data(as_text=True)[:2000]
    assert_unchanged(before)


@pytest.mark.parametrize("form", FORMS)
def test_a_nul_character_in_a_form_is_refused(client: FlaskClient, world: World, form: str) -> None:
    """PostgreSQL cannot store or compare text with a NUL in it: refused at the edge, not a 500."""
    spec = FORMS[form]
    _sign_in_as(client, world, spec.role)
    path = spec.path(world)
    data = {"csrf_token": csrf_token(client, path), **spec.valid(world)}
    field = next(iter(spec.valid(world)))
    before = snapshot()
    response = client.post(path, data={**data, field: f"a\x00{data[field]}"})
    assert response.status_code == 400, response.get_data(as_text=True)[:2000]
    assert_unchanged(before)


@pytest.mark.parametrize("path", ["/directory?q=a%00b", "/directory?kind=%00", "/audit?action=a%00b"])
def test_a_nul_character_in_a_search_is_refused(client: FlaskClient, world: World, path: str) -> None:
    sign_in(client, make_user(Role.ADMIN, host_agency()))
    assert client.get(path).status_code == 400


@pytest.mark.parametrize("size", [1_000_000, 100_000])
def test_sign_in_with_an_enormous_email_or_password_is_a_clear_4xx(
    client: FlaskClient, world: World, size: int
) -> None:
    for data in (
        {"email": "a" * size + "@example.org", "password": PASSWORD},
        {"email": world.manager.email, "password": "p" * size},
    ):
        response = client.post("/sign-in", data={"csrf_token": csrf_token(client, "/sign-in"), **data})
        assert 400 <= response.status_code < 500, response.status_code
        with client.session_transaction() as session:
            assert "sid" not in session


@pytest.mark.parametrize("field", ["email", "password"])
def test_sign_in_with_a_nul_character_is_a_clear_4xx(client: FlaskClient, world: World, field: str) -> None:
    data = {"email": world.manager.email, "password": PASSWORD, field: "a\x00b"}
    response = client.post("/sign-in", data={"csrf_token": csrf_token(client, "/sign-in"), **data})
    assert response.status_code == 400
    with client.session_transaction() as session:
        assert "sid" not in session


def test_sign_in_without_a_csrf_token_is_refused(client: FlaskClient, world: World) -> None:
    client.get("/sign-in")
    response = client.post("/sign-in", data={"email": world.manager.email, "password": PASSWORD})
    assert response.status_code == 400


# Ids in web addresses ----------------------------------------------------------------

BAD_IDS = ["abc", "-1", "0", "1.5", "1e3", str(BIG), str(HUGE), "²", "١٢", "0x10", " 1"]
PAGES_WITH_IDS = [
    ("GET", "/agencies/{}"),
    ("GET", "/agencies/{}/edit"),
    ("POST", "/agencies/{}/edit"),
    ("POST", "/agencies/{}/confirm-roles"),
    ("GET", "/agencies/{}/contacts/new"),
    ("POST", "/agencies/{}/contacts/new"),
    ("GET", "/agencies/{}/log"),
    ("POST", "/agencies/{}/log"),
    ("GET", "/contacts/{}"),
    ("GET", "/contacts/{}/edit"),
    ("POST", "/contacts/{}/edit"),
    ("GET", "/contacts/{}/leave"),
    ("POST", "/contacts/{}/leave"),
    ("GET", "/staff/{}/offboard"),
    ("POST", "/staff/{}/offboard"),
    ("GET", "/handovers/{}"),
    ("POST", "/handovers/{}/complete"),
]


@pytest.mark.parametrize(("method", "pattern"), PAGES_WITH_IDS)
def test_a_bad_id_in_a_page_address_is_not_found(client: FlaskClient, world: World, method: str, pattern: str) -> None:
    sign_in(client, world.manager)
    token = csrf_token(client, "/directory")
    for bad in BAD_IDS:
        path = pattern.format(bad)
        response = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=-4",
        "page=0",
        f"page={HUGE}",
        "page=" + "9" * 5000,
        "kind=spaceship",
        "q=" + "x" * 5000,
        "page=²",
        "kind=",
    ],
)
def test_odd_directory_searches_still_answer(client: FlaskClient, world: World, query: str) -> None:
    sign_in(client, world.lead)
    assert client.get(f"/directory?{query}").status_code == 200


@pytest.mark.parametrize("contact_id", ["abc", "²", str(BIG), "-1"])
def test_an_odd_contact_on_the_log_form_address_is_ignored(client: FlaskClient, world: World, contact_id: str) -> None:
    sign_in(client, world.manager)
    assert client.get(f"/agencies/{world.own.id}/log?contact_id={contact_id}").status_code == 200


# The JSON API ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: Callable[[World], str]
    valid: Callable[[World], dict[str, Any]]


ENDPOINTS = {
    "create agency": Endpoint(
        "POST", lambda w: "/api/v1/agencies", lambda w: {"name": "Good Agency", "kind": "housing"}
    ),
    "change agency": Endpoint("PATCH", lambda w: f"/api/v1/agencies/{w.own.id}", lambda w: {"services": "Good"}),
    "add contact": Endpoint(
        "POST", lambda w: f"/api/v1/agencies/{w.own.id}/contacts", lambda w: {"name": "New Person"}
    ),
    "change contact": Endpoint("PATCH", lambda w: f"/api/v1/contacts/{w.key.id}", lambda w: {"role": "Good"}),
    "record leaver": Endpoint(
        "POST", lambda w: f"/api/v1/contacts/{w.second.id}/leave", lambda w: {"left_on": TODAY.isoformat()}
    ),
}


@pytest.fixture
def api_headers(client: FlaskClient, world: World) -> dict[str, str]:
    """A host-organisation system: it may call every endpoint, so only the input is wrong."""
    oauth_client, secret = make_client(host_agency(), "directory:read directory:write")
    return bearer(client, oauth_client, secret)


def assert_problem(response: Any, status: int | set[int], field: str | None = None) -> None:
    statuses = {status} if isinstance(status, int) else status
    body = response.get_data(as_text=True)
    assert response.status_code in statuses, body[:2000]
    assert response.mimetype == "application/problem+json", body[:2000]
    problem = json.loads(body)
    assert {"type", "title", "status", "detail"} <= set(problem), problem
    assert problem["status"] == response.status_code
    assert problem["detail"]
    assert problem["title"]
    if field is not None:
        assert field in problem.get("errors", {}), problem


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_valid_api_calls_are_accepted(
    client: FlaskClient, world: World, api_headers: dict[str, str], endpoint: str
) -> None:
    spec = ENDPOINTS[endpoint]
    response = client.open(spec.path(world), method=spec.method, json=spec.valid(world), headers=api_headers)
    assert response.status_code in {200, 201}, response.get_data(as_text=True)


# Bodies that are not a JSON object: (what, raw body, content type, expected status)
BAD_BODIES = [
    ("malformed JSON", b'{"name": ', "application/json", 400),
    ("trailing garbage", b'{"name": "Good Agency"} x', "application/json", 400),
    ("not UTF-8", b'{"name": "\xff\xfe"}', "application/json", 400),
    ("a JSON array", b"[]", "application/json", 422),
    ("an array of objects", b'[{"name": "Good Agency", "kind": "housing"}]', "application/json", 422),
    ("a JSON string", b'"Good Agency"', "application/json", 422),
    ("a JSON number", b"42", "application/json", 422),
    ("JSON null", b"null", "application/json", 422),
    ("JSON true", b"true", "application/json", 422),
    ("an empty body", b"", "application/json", 400),
    ("nested too deep", b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
    ("an integer of 5000 digits", b'{"x": 1' + b"0" * 5000 + b"}", "application/json", 400),
    ("a byte-order mark", b'\xef\xbb\xbf{"name": "Good Agency"}', "application/json", 400),
    ("a form instead of JSON", b"name=Good+Agency&kind=housing", "application/x-www-form-urlencoded", 415),
    ("no content type", b'{"name": "Good Agency"}', "", 415),
    ("no body at all", b"", "", 415),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("what", "body", "content_type", "expected"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_a_body_that_is_not_a_json_object_is_refused(
    client: FlaskClient,
    world: World,
    api_headers: dict[str, str],
    endpoint: str,
    what: str,
    body: bytes,
    content_type: str,
    expected: Any,
) -> None:
    spec = ENDPOINTS[endpoint]
    headers = dict(api_headers)
    if content_type:
        headers["Content-Type"] = content_type
    before = snapshot()
    response = client.open(spec.path(world), method=spec.method, data=body, headers=headers)
    assert_problem(response, expected)
    assert_unchanged(before)


# Fields with the wrong type or breaking a rule: (endpoint, what, fields over the valid body, field in errors)
API_FIELD_CASES: list[tuple[str, str, Callable[[World], dict[str, Any]], str]] = [
    ("create agency", "unknown field", lambda w: {"bogus": 1}, "bogus"),
    ("create agency", "an id", lambda w: {"id": 7}, "id"),
    ("create agency", "number for a name", lambda w: {"name": 123}, "name"),
    ("create agency", "null name", lambda w: {"name": None}, "name"),
    ("create agency", "list for a name", lambda w: {"name": ["Good", "Agency"]}, "name"),
    ("create agency", "object for a name", lambda w: {"name": {"en": "Good Agency"}}, "name"),
    ("create agency", "one-letter name", lambda w: {"name": "A"}, "name"),
    ("create agency", "enormous name", lambda w: {"name": ENORMOUS}, "name"),
    ("create agency", "unknown kind", lambda w: {"kind": "spaceship"}, "kind"),
    ("create agency", "kind by label", lambda w: {"kind": "Housing"}, "kind"),
    ("create agency", "a second host", lambda w: {"kind": "host"}, "kind"),
    ("create agency", "bad slug", lambda w: {"slug": "Bad Slug"}, "slug"),
    ("create agency", "taken slug", lambda w: {"slug": "other-partner"}, "slug"),
    ("create agency", '"yes" for a boolean', lambda w: {"has_agreement": "yes"}, "has_agreement"),
    ("create agency", '"true" for a boolean', lambda w: {"has_agreement": "true"}, "has_agreement"),
    ("create agency", "1 for a boolean", lambda w: {"has_agreement": 1}, "has_agreement"),
    ("create agency", "null for a boolean", lambda w: {"has_agreement": None}, "has_agreement"),
    ("create agency", "30 February", lambda w: {"agreement_agreed_on": "2026-02-30"}, "agreement_agreed_on"),
    ("create agency", "number for a date", lambda w: {"agreement_agreed_on": 20260101}, "agreement_agreed_on"),
    (
        "create agency",
        "datetime for a date",
        lambda w: {"agreement_agreed_on": "2026-01-01Tnonsense"},
        "agreement_agreed_on",
    ),
    (
        "create agency",
        "string for an id",
        lambda w: {"relationship_owner_id": str(w.manager.id)},
        "relationship_owner_id",
    ),
    (
        "create agency",
        "float for an id",
        lambda w: {"relationship_owner_id": float(w.manager.id)},
        "relationship_owner_id",
    ),
    ("create agency", "true for an id", lambda w: {"relationship_owner_id": True}, "relationship_owner_id"),
    ("create agency", "id beyond 2**31", lambda w: {"relationship_owner_id": BIG}, "relationship_owner_id"),
    ("create agency", "enormous id", lambda w: {"relationship_owner_id": HUGE}, "relationship_owner_id"),
    ("create agency", "negative id", lambda w: {"relationship_owner_id": -1}, "relationship_owner_id"),
    ("create agency", "zero id", lambda w: {"relationship_owner_id": 0}, "relationship_owner_id"),
    ("create agency", "partner as our lead", lambda w: {"relationship_owner_id": w.lead.id}, "relationship_owner_id"),
    ("create agency", "key contact before contacts", lambda w: {"key_contact_id": w.key.id}, "key_contact_id"),
    ("change agency", "unknown field", lambda w: {"status": "closed"}, "status"),
    ("change agency", "empty name", lambda w: {"name": ""}, "name"),
    ("change agency", "null kind", lambda w: {"kind": None}, "kind"),
    ("change agency", "made the host", lambda w: {"kind": "host"}, "kind"),
    ("change agency", "null services", lambda w: {"services": None}, "services"),
    ("change agency", "bad email", lambda w: {"email": "nobody"}, "email"),
    ("change agency", "ftp website", lambda w: {"website": "ftp://example.org"}, "website"),
    ("change agency", '"yes" for a boolean', lambda w: {"has_agreement": "yes"}, "has_agreement"),
    ("change agency", "0 for a boolean", lambda w: {"has_agreement": 0}, "has_agreement"),
    ("change agency", "other agency's contact", lambda w: {"key_contact_id": w.elsewhere.id}, "key_contact_id"),
    ("change agency", "a leaver as key contact", lambda w: {"key_contact_id": w.left.id}, "key_contact_id"),
    ("change agency", "key contact as deputy", lambda w: {"deputy_contact_id": w.key.id}, "deputy_contact_id"),
    ("change agency", "string for an id", lambda w: {"key_contact_id": str(w.second.id)}, "key_contact_id"),
    ("change agency", "id beyond 2**31", lambda w: {"key_contact_id": BIG}, "key_contact_id"),
    ("change agency", "negative id", lambda w: {"deputy_contact_id": -5}, "deputy_contact_id"),
    ("change agency", "no such contact", lambda w: {"key_contact_id": 2**31 - 1}, "key_contact_id"),
    (
        "change agency",
        "review before agreed",
        lambda w: {"agreement_agreed_on": "2026-02-02", "agreement_review_on": "2026-02-01"},
        "agreement_review_on",
    ),
    ("add contact", "no name", lambda w: {"name": None}, "name"),
    ("add contact", "number for a name", lambda w: {"name": 42}, "name"),
    ("add contact", "enormous knowledge", lambda w: {"knowledge": ENORMOUS}, "knowledge"),
    ("add contact", "unknown channel", lambda w: {"preferred_channel": "pigeon"}, "preferred_channel"),
    ("add contact", "30 February", lambda w: {"started_on": "2026-02-30"}, "started_on"),
    ("add contact", "an agency id", lambda w: {"agency_id": w.other.id}, "agency_id"),
    ("add contact", "a status", lambda w: {"status": "left"}, "status"),
    ("add contact", "partner as known by", lambda w: {"known_by_id": w.lead.id}, "known_by_id"),
    ("add contact", "string for an id", lambda w: {"known_by_id": str(w.manager.id)}, "known_by_id"),
    ("change contact", "empty name", lambda w: {"name": ""}, "name"),
    ("change contact", "bad email", lambda w: {"email": "@"}, "email"),
    ("change contact", "id beyond 2**31", lambda w: {"known_by_id": BIG}, "known_by_id"),
    ("change contact", "no such user", lambda w: {"known_by_id": 2**31 - 1}, "known_by_id"),
    ("change contact", "a successor", lambda w: {"successor_id": w.second.id}, "successor_id"),
    ("change contact", "13th month", lambda w: {"last_verified_on": "2026-13-01"}, "last_verified_on"),
    ("record leaver", "no date", lambda w: {"left_on": None}, "left_on"),
    ("record leaver", "30 February", lambda w: {"left_on": "2026-02-30"}, "left_on"),
    ("record leaver", "a word for a date", lambda w: {"left_on": "yesterday"}, "left_on"),
    ("record leaver", "far future", lambda w: {"left_on": "2100-01-01"}, "left_on"),
    ("record leaver", "a year beyond any calendar", lambda w: {"left_on": f"1/1/{HUGE}"}, "left_on"),
    ("record leaver", "other agency's successor", lambda w: {"successor_id": w.elsewhere.id}, "successor_id"),
    ("record leaver", "a leaver as successor", lambda w: {"successor_id": w.left.id}, "successor_id"),
    ("record leaver", "themself as successor", lambda w: {"successor_id": w.second.id}, "successor_id"),
    ("record leaver", "string for an id", lambda w: {"successor_id": str(w.key.id)}, "successor_id"),
    ("record leaver", "id beyond 2**31", lambda w: {"successor_id": BIG}, "successor_id"),
    ("record leaver", "negative id", lambda w: {"successor_id": -1}, "successor_id"),
    ("record leaver", "number for a note", lambda w: {"handover_note": 5}, "handover_note"),
    ("record leaver", "enormous note", lambda w: {"handover_note": ENORMOUS}, "handover_note"),
    ("record leaver", "a status", lambda w: {"status": "left"}, "status"),
]


@pytest.mark.parametrize(
    ("endpoint", "what", "bad", "field"), API_FIELD_CASES, ids=[f"{e}: {w}" for e, w, _b, _f in API_FIELD_CASES]
)
def test_bad_fields_are_a_422_problem_and_change_nothing(
    client: FlaskClient,
    world: World,
    api_headers: dict[str, str],
    endpoint: str,
    what: str,
    bad: Callable[[World], dict[str, Any]],
    field: str,
) -> None:
    spec = ENDPOINTS[endpoint]
    before = snapshot()
    response = client.open(
        spec.path(world), method=spec.method, json={**spec.valid(world), **bad(world)}, headers=api_headers
    )
    assert_problem(response, 422, field)
    assert_unchanged(before)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("what", "text"),
    [
        ("NUL character", '"a\\u0000b"'),
        ("unpaired surrogate", '"a\\ud800b"'),
        ("NUL in a nested value", '["a\\u0000b"]'),
    ],
)
def test_text_postgresql_cannot_store_is_a_400_problem(
    client: FlaskClient, world: World, api_headers: dict[str, str], endpoint: str, what: str, text: str
) -> None:
    spec = ENDPOINTS[endpoint]
    valid = spec.valid(world)
    field = next(iter(valid))
    body = json.dumps(valid)[:-1] + f', "{field}": {text}}}'  # the field again, last wins
    before = snapshot()
    response = client.open(
        spec.path(world), method=spec.method, data=body, headers={**api_headers, "Content-Type": "application/json"}
    )
    assert_problem(response, 400, field)
    assert_unchanged(before)


@pytest.mark.parametrize("query", ["q=a%00b", "kind=%00", "q=%ED%A0%80"])
def test_odd_text_in_list_parameters_is_a_4xx_problem(
    client: FlaskClient, world: World, api_headers: dict[str, str], query: str
) -> None:
    response = client.get(f"/api/v1/agencies?{query}", headers=api_headers)
    if response.status_code == 200:  # undecodable bytes arrive as U+FFFD, which is harmless text
        assert query == "q=%ED%A0%80"
        return
    assert_problem(response, {400, 422})


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_body_beyond_the_size_limit_is_413(
    client: FlaskClient, world: World, api_headers: dict[str, str], endpoint: str
) -> None:
    spec = ENDPOINTS[endpoint]
    before = snapshot()
    response = client.open(
        spec.path(world), method=spec.method, json={**spec.valid(world), "name": "x" * 3_000_000}, headers=api_headers
    )
    assert_problem(response, 413)
    assert_unchanged(before)


API_PATHS_WITH_IDS = [
    ("GET", "/api/v1/agencies/{}"),
    ("PATCH", "/api/v1/agencies/{}"),
    ("GET", "/api/v1/agencies/{}/contacts"),
    ("POST", "/api/v1/agencies/{}/contacts"),
    ("GET", "/api/v1/contacts/{}"),
    ("PATCH", "/api/v1/contacts/{}"),
    ("POST", "/api/v1/contacts/{}/leave"),
]
API_BODIES = {  # valid bodies, so only the id is wrong
    "/api/v1/agencies/{}": {"services": "Good"},
    "/api/v1/agencies/{}/contacts": {"name": "New Person"},
    "/api/v1/contacts/{}": {"role": "Good"},
    "/api/v1/contacts/{}/leave": {"left_on": TODAY.isoformat()},
}


@pytest.mark.parametrize(("method", "pattern"), API_PATHS_WITH_IDS)
def test_a_bad_id_in_an_api_address_is_not_found(
    client: FlaskClient, world: World, api_headers: dict[str, str], method: str, pattern: str
) -> None:
    for bad in [*BAD_IDS, str(2**63), str(2**64)]:
        path = pattern.format(bad)
        body = API_BODIES[pattern] if method != "GET" else None
        response = client.open(path, method=method, json=body, headers=api_headers)
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=abc", "page"),
        ("page=0", "page"),
        (f"page={HUGE}", "page"),
        ("per_page=1000", "per_page"),
        ("per_page=-1", "per_page"),
        ("kind=spaceship", "kind"),
        ("q=" + "x" * 500, "q"),
        ("page=²", "page"),
        ("page=" + "9" * 5000, "page"),
    ],
)
def test_bad_list_parameters_are_a_422_problem(
    client: FlaskClient, world: World, api_headers: dict[str, str], query: str, field: str
) -> None:
    response = client.get(f"/api/v1/agencies?{query}", headers=api_headers)
    assert_problem(response, 422, field)
