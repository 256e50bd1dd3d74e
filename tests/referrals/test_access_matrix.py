"""Who may see and do what with a referral, in every status: the table in
``referrals/policies.py``, checked through the JSON API (and the HTML pages
further down).

The referral is addressed to the "own" partner agency. The callers:

- host: a system of the host organisation (acts like a manager; the sender's side)
- own: a system of the receiving agency (acts like its partner lead; the recipient's side)
- other: a system of another partner agency (must learn nothing: 404)

Expected answers: 200/201 done; 403 "may see it but not do this" (a partner
sending or cancelling, our staff acknowledging); 404 "not visible to you"
(another agency's referral, any draft for a partner); 409 "not from this
status". A refused request must leave every table exactly as it was; an
allowed change must land, with the status the state machine says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient

from consent import services as consent_services
from consent.models import ConsentRecord, Disclosure, DisclosureKind
from hub.db import today
from hub.permissions import SYSTEM
from referrals.models import Referral, ReferralMessage
from referrals.states import Status
from tests.helpers import csrf_token, sign_in
from tests.referrals.world import (
    FAMILY_NAME,
    GIVEN_NAME,
    REASON,
    World,
    assert_unchanged,
    build_world,
    count,
    fresh,
    referral_in,
    snapshot,
)


def parse_grid(text: str) -> list[tuple[str, str, int]]:
    """Rows of ``action status status ...`` under a header of column names."""
    lines = [line.split() for line in text.strip().splitlines() if line.strip()]
    header, rows = lines[0][1:], lines[1:]
    cases = []
    for action, *statuses in rows:
        assert len(statuses) == len(header), f"row {action} has {len(statuses)} columns, not {len(header)}"
        cases.extend((action, column, int(status)) for column, status in zip(header, statuses, strict=True))
    return cases


# Column names: the status the referral is in ("cdraft" is a draft cancelled before it was sent).
COLUMNS = {
    "draft": "draft",
    "sent": "sent",
    "ackd": "acknowledged",
    "accd": "accepted",
    "decl": "declined",
    "prog": "in_progress",
    "hold": "on_hold",
    "done": "completed",
    "canc": "cancelled",
    "cdraft": "cancelled_draft",
}

# What each action is in the API: method, path, body.
Request = tuple[str, str, dict[str, Any] | None]
API: dict[str, Callable[[int], Request]] = {
    "view": lambda r: ("GET", f"/api/v1/referrals/{r}", None),
    "events": lambda r: ("GET", f"/api/v1/referrals/{r}/events", None),
    "messages": lambda r: ("GET", f"/api/v1/referrals/{r}/messages", None),
    "message": lambda r: ("POST", f"/api/v1/referrals/{r}/messages", {"body": "Planted message"}),
    "send": lambda r: ("POST", f"/api/v1/referrals/{r}/send", None),
    "acknowledge": lambda r: ("POST", f"/api/v1/referrals/{r}/acknowledge", None),
    "accept": lambda r: ("POST", f"/api/v1/referrals/{r}/accept", {}),
    "decline": lambda r: ("POST", f"/api/v1/referrals/{r}/decline", {"reason": "Not our area"}),
    "start": lambda r: ("POST", f"/api/v1/referrals/{r}/start", None),
    "hold": lambda r: ("POST", f"/api/v1/referrals/{r}/hold", {"reason": "She is in hospital"}),
    "resume": lambda r: ("POST", f"/api/v1/referrals/{r}/resume", None),
    "complete": lambda r: ("POST", f"/api/v1/referrals/{r}/complete", {"outcome": "Housed"}),
    "cancel": lambda r: ("POST", f"/api/v1/referrals/{r}/cancel", {"reason": "Sent by mistake"}),
}

# The status an allowed action leads to (resume: back to work, as the agency held it).
TARGET = {
    "send": Status.SENT,
    "acknowledge": Status.ACKNOWLEDGED,
    "accept": Status.ACCEPTED,
    "decline": Status.DECLINED,
    "start": Status.IN_PROGRESS,
    "hold": Status.ON_HOLD,
    "resume": Status.IN_PROGRESS,
    "complete": Status.COMPLETED,
    "cancel": Status.CANCELLED,
}

HOST_GRID = parse_grid("""
action      draft sent ackd accd decl prog hold done canc cdraft
view        200   200  200  200  200  200  200  200  200  200
events      200   200  200  200  200  200  200  200  200  200
messages    200   200  200  200  200  200  200  200  200  200
message     403   201  201  201  201  201  201  201  201  403
send        200   409  409  409  409  409  409  409  409  409
acknowledge 403   403  403  403  403  403  403  403  403  403
accept      403   403  403  403  403  403  403  403  403  403
decline     403   403  403  403  403  403  403  403  403  403
start       403   403  403  403  403  403  403  403  403  403
hold        403   403  403  403  403  403  403  403  403  403
resume      403   403  403  403  403  403  403  403  403  403
complete    403   403  403  403  403  403  403  403  403  403
cancel      200   200  200  200  409  200  200  409  409  409
""")

OWN_GRID = parse_grid("""
action      draft sent ackd accd decl prog hold done canc cdraft
view        404   200  200  200  200  200  200  200  200  404
events      404   200  200  200  200  200  200  200  200  404
messages    404   200  200  200  200  200  200  200  200  404
message     404   201  201  201  201  201  201  201  201  404
send        404   403  403  403  403  403  403  403  403  404
acknowledge 404   200  409  409  409  409  409  409  409  404
accept      404   200  200  409  409  409  409  409  409  404
decline     404   200  200  409  409  409  409  409  409  404
start       404   409  409  200  409  409  409  409  409  404
hold        404   409  409  200  409  200  409  409  409  404
resume      404   409  409  409  409  409  200  409  409  404
complete    404   409  409  409  409  200  409  409  409  404
cancel      404   403  403  403  403  403  403  403  403  404
""")

OTHER_GRID = [(action, column, 404) for action, column, _ in HOST_GRID]
# Calls that read, and so may share one referral with the refusals (which change nothing).
READS = {"view", "events", "messages"}


def by_column(grid: list[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """{column: {action: expected}}: each test takes one status and runs its column as subtests."""
    table: dict[str, dict[str, int]] = {}
    for action, column, expected in grid:
        table.setdefault(column, {})[action] = expected
    return table


API_TABLE = {"host": by_column(HOST_GRID), "own": by_column(OWN_GRID), "other": by_column(OTHER_GRID)}


@pytest.fixture
def world(client: FlaskClient) -> World:
    return build_world(client)


def check_status(who: str, action: str, response: Any, expected: int) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == expected, f"{who} {action}: {response.status_code}\n{body[:2000]}"


def _subject(world: World, column: str, action: str, expected: int, shared: int, target: Any = None) -> int:
    """The referral to act on: the shared one for reads and refusals, a fresh one for a change that lands."""
    if expected >= 400 or action in READS:
        return shared
    return referral_in(world, COLUMNS[column], target)


def _check_landed(action: str, referral_id: int, status_before: Status) -> None:
    if action in TARGET:
        assert fresh(Referral, referral_id).status is TARGET[action]
    elif action == "message":
        assert count(ReferralMessage, ReferralMessage.referral_id == referral_id) == 1
    else:
        assert fresh(Referral, referral_id).status is status_before


@pytest.mark.parametrize(("who", "column"), [(who, column) for who in API_TABLE for column in COLUMNS])
def test_api(client: FlaskClient, world: World, subtests: Any, who: str, column: str) -> None:
    shared = referral_in(world, COLUMNS[column])
    headers = world.headers(who)
    for action, expected in API_TABLE[who][column].items():
        with subtests.test(action=action, expected=expected):
            referral_id = _subject(world, column, action, expected, shared)
            status_before = fresh(Referral, referral_id).status
            method, path, body = API[action](referral_id)
            before = snapshot()
            response = client.open(path, method=method, json=body, headers=headers)
            check_status(who, action, response, expected)
            text = response.get_data(as_text=True)
            if expected >= 400:
                assert response.mimetype == "application/problem+json"
                assert response.json["status"] == expected
                assert GIVEN_NAME not in text and REASON not in text
                assert_unchanged(before)
                continue
            if action in TARGET:
                assert response.json["status"] == TARGET[action].value
            _check_landed(action, referral_id, status_before)
            if action == "view":
                # A partner sees her details while the consent holds; we always do
                assert response.json["details_available"] is True
                assert response.json["service_user"]["family_name"] == FAMILY_NAME


# Lists: each caller sees exactly what it may, in every status ------------------------


def test_the_list_shows_each_caller_exactly_what_it_may_see(client: FlaskClient, world: World) -> None:
    ours = {column: referral_in(world, status) for column, status in COLUMNS.items()}
    theirs = {column: referral_in(world, status, world.other) for column, status in COLUMNS.items()}
    sent_ever = {c for c in COLUMNS if c not in {"draft", "cdraft"}}

    def listed(who: str, query: str = "") -> set[int]:
        response = client.get(f"/api/v1/referrals?per_page=200{query}", headers=world.headers(who))
        assert response.status_code == 200
        assert int(response.headers["X-Total-Count"]) == len(response.json)
        return {r["id"] for r in response.json}

    assert listed("host") == set(ours.values()) | set(theirs.values())
    assert listed("own") == {ours[c] for c in sent_ever}
    assert listed("other") == {theirs[c] for c in sent_ever}
    # Asking for another agency's referrals, or for drafts, finds nothing
    assert listed("own", f"&agency_id={world.other.id}") == set()
    assert listed("own", "&status=draft") == set()
    # Filtering by the woman is for the host organisation only: a partner could use it to link referrals.
    refused = client.get(f"/api/v1/referrals?service_user_id={world.person.id}", headers=world.headers("other"))
    assert refused.status_code == 422
    assert "service_user_id" in refused.json["errors"]
    assert listed("own", "&status=cancelled") == {ours["canc"]}


# Her details: only while the basis for sharing is valid -------------------------------

SHARED = [c for c in COLUMNS if c not in {"draft", "cdraft"}]


def _view(client: FlaskClient, world: World, who: str, referral_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/referrals/{referral_id}", headers=world.headers(who))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json  # type: ignore[no-any-return]


def _hidden(out: dict[str, Any]) -> bool:
    return out["details_available"] is False and out["service_user"] is None and out["reason"] is None


@pytest.mark.parametrize("column", SHARED)
def test_after_withdrawal_the_partner_never_sees_her_details(client: FlaskClient, world: World, column: str) -> None:
    referral_id = referral_in(world, COLUMNS[column])
    status = fresh(Referral, referral_id).status
    consent_services.withdraw_consent(world.staff, fresh(ConsentRecord, world.consent.id), "She asked us to stop")
    views_before = count(Disclosure, Disclosure.kind == DisclosureKind.VIEWED)
    for path in ("", "/events", "/messages"):
        response = client.get(f"/api/v1/referrals/{referral_id}{path}", headers=world.headers("own"))
        assert response.status_code == 200
        assert GIVEN_NAME not in response.get_data(as_text=True)
        assert REASON not in response.get_data(as_text=True)
    assert _hidden(_view(client, world, "own", referral_id))
    listed = client.get("/api/v1/referrals", headers=world.headers("own"))
    assert GIVEN_NAME not in listed.get_data(as_text=True) and REASON not in listed.get_data(as_text=True)
    assert count(Disclosure, Disclosure.kind == DisclosureKind.VIEWED) == views_before  # nothing shown, nothing logged
    # Open ones went on hold at once; closed ones stay closed
    expected = Status.ON_HOLD if status in {Status.SENT, Status.ACKNOWLEDGED, Status.ACCEPTED} else status
    if status is Status.IN_PROGRESS:
        expected = Status.ON_HOLD
    assert fresh(Referral, referral_id).status is expected
    # We still see everything
    assert _view(client, world, "host", referral_id)["service_user"]["family_name"] == FAMILY_NAME


@pytest.mark.parametrize("column", SHARED)
def test_after_expiry_the_partner_never_sees_her_details(client: FlaskClient, world: World, column: str) -> None:
    referral_id = referral_in(world, COLUMNS[column])
    assert not _hidden(_view(client, world, "own", referral_id))
    expires_on = fresh(ConsentRecord, world.consent.id).expires_on
    later = dt.datetime.combine(expires_on + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    with time_machine.travel(later, tick=True):
        assert today() > expires_on
        world._headers.clear()  # the tokens issued months ago have expired
        # Before the nightly job has run: hidden already, checked at the moment of access
        assert _hidden(_view(client, world, "own", referral_id))
        consent_services.expire_lapsed_consents(SYSTEM)
        out = _view(client, world, "own", referral_id)
        assert _hidden(out)
        if column in {"sent", "ackd", "accd", "prog"}:
            assert out["status"] == "on_hold"
        assert GIVEN_NAME not in client.get("/api/v1/referrals", headers=world.headers("own")).get_data(as_text=True)


def test_the_other_agency_sees_nothing_even_with_its_own_consent(client: FlaskClient, world: World) -> None:
    """She consented to sharing with both agencies; a referral to one is still not the other's business."""
    referral_id = referral_in(world, "accepted")
    for action in API:
        method, path, body = API[action](referral_id)
        response = client.open(path, method=method, json=body, headers=world.headers("other"))
        assert response.status_code == 404, action


# ID tampering in bodies: other agencies' ids, our ids from a partner -------------------


def _create(client: FlaskClient, world: World, who: str, **body: Any) -> Any:
    data = {
        "service_user_id": world.person.id,
        "agency_id": world.own.id,
        "data_categories": ["housing"],
        "reason": REASON,
        **body,
    }
    return client.post("/api/v1/referrals", json=data, headers=world.headers(who))


TAMPERING: list[tuple[str, str, Callable[[World], dict[str, Any]], int, str | None]] = [
    ("host", "a contact of another agency", lambda w: {"contact_id": w.other_key.id}, 422, "contact_id"),
    ("host", "no such contact", lambda w: {"contact_id": 2**31 - 1}, 422, "contact_id"),
    ("host", "the host organisation as recipient", lambda w: {"agency_id": w.host.id}, 422, "agency_id"),
    ("host", "no such agency", lambda w: {"agency_id": 2**31 - 1}, 422, "agency_id"),
    ("host", "no such service user", lambda w: {"service_user_id": 2**31 - 1}, 422, "service_user_id"),
    ("host", "a status", lambda w: {"status": "sent"}, 422, "status"),
    ("host", "a sent date", lambda w: {"sent_at": "2026-01-01T00:00:00Z"}, 422, "sent_at"),
    ("host", "a recipient", lambda w: {"recipient_contact_id": w.own_key.id}, 422, "recipient_contact_id"),
    ("host", "a consent to send on", lambda w: {"consent_id": w.consent.id}, 422, "consent_id"),
    ("host", "an id", lambda w: {"id": 1}, 422, "id"),
    ("own", "a referral to itself", lambda w: {}, 403, None),
    ("own", "a referral to another agency", lambda w: {"agency_id": w.other.id}, 403, None),
    ("own", "no such service user", lambda w: {"service_user_id": 2**31 - 1}, 403, None),
    ("other", "a referral to the own agency", lambda w: {"contact_id": w.own_key.id}, 403, None),
]


@pytest.mark.parametrize(
    ("who", "what", "body", "expected", "field"), TAMPERING, ids=[f"{t[0]}: {t[1]}" for t in TAMPERING]
)
def test_tampered_ids_in_a_new_referral_are_refused(
    client: FlaskClient,
    world: World,
    who: str,
    what: str,
    body: Callable[[World], dict[str, Any]],
    expected: int,
    field: str | None,
) -> None:
    before = snapshot()
    response = _create(client, world, who, **body(world))
    check_status(who, what, response, expected)
    assert response.mimetype == "application/problem+json"
    if field:
        assert field in response.json["errors"], response.json
    assert_unchanged(before)


def test_tampered_ids_in_a_consent_are_refused(client: FlaskClient, world: World) -> None:
    path = f"/api/v1/service-users/{world.person.id}/consents"
    valid = {
        "agency_id": world.own.id,
        "purposes": ["referral"],
        "data_categories": ["housing"],
        "method": "verbal",
        "given_on": today().isoformat(),
    }
    before = snapshot()
    for agency_id in (world.host.id, 2**31 - 1):
        response = client.post(path, json={**valid, "agency_id": agency_id}, headers=world.headers("host"))
        assert response.status_code == 422 and "agency_id" in response.json["errors"]
    for smuggled in ({"service_user_id": world.person.id}, {"status": "withdrawn"}, {"recorded_by_id": 1}):
        response = client.post(path, json={**valid, **smuggled}, headers=world.headers("host"))
        assert response.status_code == 422 and next(iter(smuggled)) in response.json["errors"]
    assert_unchanged(before)


def test_ids_of_another_agency_in_addresses_are_404(client: FlaskClient, world: World) -> None:
    """The own agency's system, trying the other agency's referrals, in every status and every way."""
    theirs = [referral_in(world, status, world.other) for status in COLUMNS.values()]
    before = snapshot()
    for referral_id in theirs:
        for action in API:
            method, path, body = API[action](referral_id)
            response = client.open(path, method=method, json=body, headers=world.headers("own"))
            assert response.status_code == 404, f"{action} {referral_id}: {response.status_code}"
    assert_unchanged(before)


# The HTML pages -----------------------------------------------------------------------
# The same table, for people: our staff (admin, manager, practitioner) stand where the
# host system does; the receiving agency's partner lead and partner where its system
# does. "other" is a referral to another partner agency: our staff see it as any
# other, partner staff get 404. A change that lands redirects (302).

HTML_ACTIONS = ["view", "message", *TARGET]
STAFF = ("admin", "manager", "practitioner")
PARTNERS = ("partner_lead", "partner")


def _html_request(action: str, referral_id: int) -> Request:
    if action == "view":
        return ("GET", f"/referrals/{referral_id}", None)
    if action == "message":
        return ("POST", f"/referrals/{referral_id}/messages", {"body": "Planted message"})
    form = {"decline": {"reason": "Not our area"}, "hold": {"reason": "In hospital"}, "cancel": {"reason": "Mistake"}}
    return (
        "POST",
        f"/referrals/{referral_id}/actions/{action}",
        form.get(action, {"outcome": "Housed"} if action == "complete" else {}),
    )


def _html_expected(grid: list[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """The API's answers as a page gives them: a change that lands is a redirect."""
    return by_column([(a, c, 302 if e in {200, 201} and a != "view" else e) for a, c, e in grid if a in HTML_ACTIONS])


HTML_TABLE = {
    "staff": _html_expected(HOST_GRID),
    "partner/own": _html_expected(OWN_GRID),
    "partner/other": _html_expected([(a, c, 404) for a, c, _e in OWN_GRID]),
}
HTML_CASES = [(role, target, column) for role in STAFF + PARTNERS for target in ("own", "other") for column in COLUMNS]


@pytest.mark.parametrize(("role", "target", "column"), HTML_CASES)
def test_html(client: FlaskClient, world: World, subtests: Any, role: str, target: str, column: str) -> None:
    agency = world.own if target == "own" else world.other
    table = HTML_TABLE["staff" if role in STAFF else f"partner/{target}"]
    shared = referral_in(world, COLUMNS[column], agency)
    sign_in(client, world.users[role])
    token = csrf_token(client, "/directory")
    for action, expected in table[column].items():
        with subtests.test(action=action, expected=expected):
            referral_id = _subject(world, column, action, expected, shared, agency)
            status_before = fresh(Referral, referral_id).status
            method, path, form = _html_request(action, referral_id)
            before = snapshot()
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, data={"csrf_token": token, **(form or {})})
            check_status(role, action, response, expected)
            html = response.get_data(as_text=True)
            if expected in {403, 404}:  # an error page
                assert GIVEN_NAME not in html and REASON not in html
                assert_unchanged(before)
            elif expected == 409:  # the referral page again: for a partner, that view of her details is logged
                assert_unchanged(before, but={"disclosures"})
                new = snapshot()["disclosures"][len(before["disclosures"]) :]
                assert all(row.kind == "viewed" for row in new), new
            else:
                _check_landed(action, referral_id, status_before)
                if action == "view":
                    assert FAMILY_NAME in html  # the consent holds: her details are shown


@pytest.mark.parametrize("role", PARTNERS)
@pytest.mark.parametrize("column", SHARED)
def test_html_after_withdrawal_a_partner_never_sees_her_details(
    client: FlaskClient, world: World, role: str, column: str
) -> None:
    referral_id = referral_in(world, COLUMNS[column])
    sign_in(client, world.users[role])
    assert FAMILY_NAME in client.get(f"/referrals/{referral_id}").get_data(as_text=True)
    consent_services.withdraw_consent(world.staff, fresh(ConsentRecord, world.consent.id), "She asked us to stop")
    for path in (f"/referrals/{referral_id}", "/inbox", "/overdue"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert GIVEN_NAME not in html and FAMILY_NAME not in html and REASON not in html, path


@pytest.mark.parametrize("role", PARTNERS)
@pytest.mark.parametrize("column", ["sent", "prog", "done"])
def test_html_after_expiry_a_partner_never_sees_her_details(
    client: FlaskClient, world: World, role: str, column: str
) -> None:
    referral_id = referral_in(world, COLUMNS[column])
    expires_on = fresh(ConsentRecord, world.consent.id).expires_on
    later = dt.datetime.combine(expires_on + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    with time_machine.travel(later, tick=True):
        sign_in(client, world.users[role])  # the nightly job has not run yet
        for path in (f"/referrals/{referral_id}", "/inbox"):
            html = client.get(path).get_data(as_text=True)
            assert GIVEN_NAME not in html and FAMILY_NAME not in html and REASON not in html, path


@pytest.mark.parametrize("role", PARTNERS)
def test_html_partner_inbox_shows_only_what_was_sent_to_her_agency(
    client: FlaskClient, world: World, role: str
) -> None:
    ours = {column: referral_in(world, status) for column, status in COLUMNS.items()}
    theirs = {column: referral_in(world, status, world.other) for column, status in COLUMNS.items()}
    sign_in(client, world.users[role])
    html = client.get("/inbox?page=1").get_data(as_text=True)
    for column in COLUMNS:
        reference = fresh(Referral, ours[column]).reference
        assert (reference in html) is (column in SHARED), f"{column} {reference}"
        assert fresh(Referral, theirs[column]).reference not in html
    assert client.get("/referrals").status_code == 302  # partners work from the inbox


def _service_user_pages(world: World) -> list[tuple[str, str, dict[str, str] | None]]:
    person, consent = world.person.id, world.consent.id
    return [
        ("GET", "/service-users", None),
        ("GET", f"/service-users/{person}", None),
        ("GET", f"/service-users/{person}/consents/new", None),
        ("POST", f"/service-users/{person}/consents/new", {"agency_id": str(world.own.id)}),
        ("GET", f"/consents/{consent}/withdraw", None),
        ("POST", f"/consents/{consent}/withdraw", {"reason": "Partner says so"}),
        ("GET", f"/service-users/{person}/referrals/new", None),
        ("POST", f"/service-users/{person}/referrals/new", {"agency_id": str(world.own.id)}),
    ]


@pytest.mark.parametrize("role", STAFF + PARTNERS)
def test_html_service_user_and_consent_pages_are_404_for_partners(client: FlaskClient, world: World, role: str) -> None:
    sign_in(client, world.users[role])
    token = csrf_token(client, "/directory")
    before = snapshot()
    for method, path, form in _service_user_pages(world):
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": token, **(form or {})})
        if role in PARTNERS:
            assert response.status_code == 404, f"{role} {method} {path}: {response.status_code}"
            assert GIVEN_NAME not in response.get_data(as_text=True)
        elif method == "GET":
            assert response.status_code == 200, f"{role} {method} {path}: {response.status_code}"
    if role in PARTNERS:
        assert_unchanged(before)
        assert fresh(ConsentRecord, world.consent.id).withdrawn_at is None
