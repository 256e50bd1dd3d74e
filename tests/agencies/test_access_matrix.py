"""Who may see and change what in the directory: the table in
``agencies/policies.py``, checked through the HTML pages and the JSON API.

Every role acts on its OWN agency (the host organisation for our staff, the
partner agency for partner staff) and on ANOTHER partner agency. A refused
change must leave the database exactly as it was; an allowed one must land.

Expected answers: pages 200, a saved form 302, 403 for "may see but not do",
404 for "not visible to you", 422 for a broken rule. The API answers as
/work/shared/API.md says (201 created, 401 no or bad token, 403 also for a
missing scope).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from agencies import services
from agencies.models import Agency, AgencyKind, Contact, ContactStatus, Handover, Interaction, InteractionKind
from hub.auth.models import User
from hub.db import db
from hub.permissions import SYSTEM, Role
from tests.helpers import bearer, host_agency, make_agency, make_client, make_contact, make_user, post_form, sign_in

ROLES = ("admin", "manager", "practitioner", "partner_lead", "partner")
TODAY = dt.date.today()
LOG_SUMMARY = "Internal note: {agency} waiting list is closed until spring"
KNOWER_NAME = "Kit Knowsthem"
HANDOVER_NOTE = "Handover note: ask for the duty desk, not the inbox"


# The world every test acts in -----------------------------------------------------


@dataclass
class Side:
    """One agency with a key contact, a second active contact, a leaver and a log."""

    agency: Agency
    key: Contact
    second: Contact
    left: Contact

    @property
    def summary(self) -> str:
        return LOG_SUMMARY.format(agency=self.agency.slug)


@dataclass
class World:
    host: Side
    own_partner: Side  # the partner roles' own agency
    other: Side  # a partner agency that is nobody's own agency here
    users: dict[str, User]
    knower: User
    leaver: User  # a member of staff to offboard

    def side(self, role: str, target: str) -> Side:
        if target == "other":
            return self.other
        return self.host if Role(role).is_staff else self.own_partner


def _side(agency: Agency, knower: User, author: User) -> Side:
    key = make_contact(agency, name=f"Key at {agency.slug}", known_by_id=knower.id)
    second = make_contact(agency, name=f"Second at {agency.slug}")
    left = make_contact(
        agency,
        name=f"Leaver at {agency.slug}",
        status=ContactStatus.LEFT,
        left_on=TODAY - dt.timedelta(days=30),
        successor_id=key.id,
        known_by_id=knower.id,
        handover_note=HANDOVER_NOTE,
    )
    agency.key_contact_id = key.id
    side = Side(agency, key, second, left)
    # Logged against the leaver: staff see it on the agency, the leaver and their successor.
    db.session.add(
        Interaction(
            agency_id=agency.id,
            contact_id=left.id,
            author_id=author.id,
            kind=InteractionKind.CALL,
            occurred_on=TODAY,
            summary=side.summary,
        )
    )
    db.session.flush()
    return side


@pytest.fixture
def world(app: Any) -> World:
    host = host_agency()
    own_partner = make_agency(AgencyKind.PROBATION, name="Own Partner", slug="own-partner")
    other = make_agency(AgencyKind.HOUSING, name="Other Partner", slug="other-partner")
    knower = make_user(Role.PRACTITIONER, host, name=KNOWER_NAME)
    leaver = make_user(Role.PRACTITIONER, host, name="Lee Leaving")
    author = make_user(Role.PRACTITIONER, host, name="Aude Author")  # not the knower: each check sees one thing
    for agency in (own_partner, other):
        agency.relationship_owner_id = knower.id
    users = {role: make_user(Role(role), host if Role(role).is_staff else own_partner) for role in ROLES}
    sides = [_side(agency, knower, author) for agency in (host, own_partner, other)]
    return World(*sides, users, knower, leaver)


def snapshot() -> dict[str, list[Any]]:
    """Every row of the tables a directory change could touch."""
    tables = ("agencies", "contacts", "interactions", "handovers", "users", "oauth_clients")
    return {t: db.session.execute(sa.text(f"SELECT * FROM {t} ORDER BY id")).all() for t in tables}


def assert_unchanged(before: dict[str, list[Any]]) -> None:
    after = snapshot()
    for table, rows in before.items():
        assert after[table] == rows, f"a refused request changed {table}"


def fresh(model: type, pk: int) -> Any:
    db.session.expire_all()
    return db.session.get(model, pk)


def parse_grid(text: str) -> list[tuple[str, str, int]]:
    """Rows of ``action status status ...`` under a header of column names."""
    lines = [line.split() for line in text.strip().splitlines() if line.strip()]
    header, rows = lines[0][1:], lines[1:]
    cases = []
    for action, *statuses in rows:
        assert len(statuses) == len(header), f"row {action} has {len(statuses)} columns, not {len(header)}"
        cases.extend((action, column, int(status)) for column, status in zip(header, statuses, strict=True))
    return cases


# What each action does, and how to tell that it happened ---------------------------

Request = tuple[str, str, dict[str, Any] | None]  # method, path, form or JSON body


def _today_form() -> str:
    return f"{TODAY.day}/{TODAY.month}/{TODAY.year}"


HTML: dict[str, Callable[[World, Side], Request]] = {
    "list_directory": lambda w, s: ("GET", "/directory", None),
    "view_agency": lambda w, s: ("GET", f"/agencies/{s.agency.id}", None),
    "view_contact": lambda w, s: ("GET", f"/contacts/{s.key.id}", None),
    "view_left_contact": lambda w, s: ("GET", f"/contacts/{s.left.id}", None),
    "edit_agency_page": lambda w, s: ("GET", f"/agencies/{s.agency.id}/edit", None),
    "add_contact_page": lambda w, s: ("GET", f"/agencies/{s.agency.id}/contacts/new", None),
    "edit_contact_page": lambda w, s: ("GET", f"/contacts/{s.key.id}/edit", None),
    "leave_page": lambda w, s: ("GET", f"/contacts/{s.second.id}/leave", None),
    "log_page": lambda w, s: ("GET", f"/agencies/{s.agency.id}/log", None),
    "create_agency": lambda w, s: ("POST", "/agencies/new", {"name": "Created Agency", "kind": "housing"}),
    "edit_public": lambda w, s: ("POST", f"/agencies/{s.agency.id}/edit", {"services": "Updated services"}),
    "edit_agreement": lambda w, s: (
        "POST",
        f"/agencies/{s.agency.id}/edit",
        {"has_agreement": "yes", "agreement_agreed_on": _today_form()},
    ),
    "set_key_contact": lambda w, s: ("POST", f"/agencies/{s.agency.id}/edit", {"key_contact_id": str(s.second.id)}),
    "add_contact": lambda w, s: (
        "POST",
        f"/agencies/{s.agency.id}/contacts/new",
        {"name": "New Person", "role": "Worker"},
    ),
    "edit_contact": lambda w, s: ("POST", f"/contacts/{s.key.id}/edit", {"role": "Updated role"}),
    "record_leaver": lambda w, s: ("POST", f"/contacts/{s.second.id}/leave", {"left_on": _today_form()}),
    "log_interaction": lambda w, s: (
        "POST",
        f"/agencies/{s.agency.id}/log",
        {"kind": "call", "occurred_on": _today_form(), "summary": "Logged by test"},
    ),
    "health": lambda w, s: ("GET", "/health", None),
    "staff": lambda w, s: ("GET", "/staff", None),
    "offboard_page": lambda w, s: ("GET", f"/staff/{w.leaver.id}/offboard", None),
    "offboard": lambda w, s: ("POST", f"/staff/{w.leaver.id}/offboard", {"note": "Moving on"}),
    "audit": lambda w, s: ("GET", "/audit", None),
}

API: dict[str, Callable[[World, Side], Request]] = {
    "list_directory": lambda w, s: ("GET", "/api/v1/agencies", None),
    "view_agency": lambda w, s: ("GET", f"/api/v1/agencies/{s.agency.id}", None),
    "list_contacts": lambda w, s: ("GET", f"/api/v1/agencies/{s.agency.id}/contacts", None),
    "view_contact": lambda w, s: ("GET", f"/api/v1/contacts/{s.key.id}", None),
    "view_left_contact": lambda w, s: ("GET", f"/api/v1/contacts/{s.left.id}", None),
    "create_agency": lambda w, s: ("POST", "/api/v1/agencies", {"name": "Created Agency", "kind": "housing"}),
    "edit_public": lambda w, s: ("PATCH", f"/api/v1/agencies/{s.agency.id}", {"services": "Updated services"}),
    "edit_agreement": lambda w, s: (
        "PATCH",
        f"/api/v1/agencies/{s.agency.id}",
        {"has_agreement": True, "agreement_agreed_on": TODAY.isoformat()},
    ),
    "set_key_contact": lambda w, s: ("PATCH", f"/api/v1/agencies/{s.agency.id}", {"key_contact_id": s.second.id}),
    "add_contact": lambda w, s: (
        "POST",
        f"/api/v1/agencies/{s.agency.id}/contacts",
        {"name": "New Person", "role": "Worker"},
    ),
    "edit_contact": lambda w, s: ("PATCH", f"/api/v1/contacts/{s.key.id}", {"role": "Updated role"}),
    "record_leaver": lambda w, s: ("POST", f"/api/v1/contacts/{s.second.id}/leave", {"left_on": TODAY.isoformat()}),
}


def _created_agency(w: World, s: Side) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).where(Agency.name == "Created Agency")) == 1


def _added_contact(w: World, s: Side) -> bool:
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(Contact.agency_id == s.agency.id, Contact.name == "New Person")
        )
        == 1
    )


# For each change: did it land?
EFFECTS: dict[str, Callable[[World, Side], bool]] = {
    "create_agency": _created_agency,
    "edit_public": lambda w, s: fresh(Agency, s.agency.id).services == "Updated services",
    "edit_agreement": lambda w, s: fresh(Agency, s.agency.id).has_agreement is True,
    "set_key_contact": lambda w, s: fresh(Agency, s.agency.id).key_contact_id == s.second.id,
    "add_contact": _added_contact,
    "edit_contact": lambda w, s: fresh(Contact, s.key.id).role == "Updated role",
    "record_leaver": lambda w, s: fresh(Contact, s.second.id).status is ContactStatus.LEFT,
    "log_interaction": lambda w, s: (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Interaction.agency_id == s.agency.id, Interaction.summary == "Logged by test"
            )
        )
        == 1
    ),
    "offboard": lambda w, s: (
        db.session.scalar(sa.select(sa.func.count()).where(Handover.leaver_id == w.leaver.id)) == 1
    ),
}


def check_status(who: str, action: str, response: Any, expected: int) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == expected, f"{who} {action}: {response.status_code}\n{body[:2000]}"


# The HTML pages ---------------------------------------------------------------------
# own = the host organisation for admin, manager and practitioner; the partner
# agency for partner_lead and partner. other = another partner agency.

# Columns are role/target; roles abbreviated as in COLUMN_ROLES.
HTML_PER_AGENCY = parse_grid("""
action            admin/own admin/oth mgr/own mgr/oth prac/own prac/oth lead/own lead/oth ptnr/own ptnr/oth
view_agency       200       200       200     200     200      200      200      200      200      200
view_contact      200       200       200     200     200      200      200      200      200      200
view_left_contact 200       200       200     200     200      200      200      404      200      404
edit_agency_page  200       200       200     200     200      200      200      403      403      403
add_contact_page  200       200       200     200     200      200      200      403      403      403
edit_contact_page 200       200       200     200     200      200      200      403      403      403
leave_page        200       200       200     200     200      200      200      403      403      403
log_page          200       200       200     200     200      200      403      403      403      403
edit_public       302       302       302     302     302      302      302      403      403      403
edit_agreement    302       302       302     302     403      403      403      403      403      403
set_key_contact   302       302       302     302     302      302      302      403      403      403
add_contact       302       302       302     302     302      302      302      403      403      403
edit_contact      302       302       302     302     302      302      302      403      403      403
record_leaver     302       302       302     302     302      302      302      403      403      403
log_interaction   302       302       302     302     302      302      403      403      403      403
""")
COLUMN_ROLES = {"admin": "admin", "mgr": "manager", "prac": "practitioner", "lead": "partner_lead", "ptnr": "partner"}
COLUMN_TARGETS = {"own": "own", "oth": "other"}

HTML_GLOBAL = parse_grid("""
action          admin manager practitioner partner_lead partner
list_directory  200   200     200          200          200
create_agency   302   302     403          403          403
health          200   200     403          403          403
staff           200   200     403          403          403
offboard_page   200   200     403          403          403
offboard        302   302     403          403          403
audit           200   403     403          403          403
""")


def _html_case(client: FlaskClient, world: World, role: str, side: Side, action: str, expected: int) -> None:
    sign_in(client, world.users[role])
    method, path, form = HTML[action](world, side)
    before = snapshot()
    if method == "GET":
        response = client.get(path)
    else:
        response = post_form(client, path, form or {}, token_from="/directory")
    check_status(role, action, response, expected)
    if action in EFFECTS:
        if expected == 302:
            assert EFFECTS[action](world, side), f"{role} {action} was accepted but did not happen"
        else:
            assert_unchanged(before)


@pytest.mark.parametrize(("action", "column", "expected"), HTML_PER_AGENCY)
def test_html_per_agency(client: FlaskClient, world: World, action: str, column: str, expected: int) -> None:
    alias, target = column.split("/")
    role = COLUMN_ROLES[alias]
    _html_case(client, world, role, world.side(role, COLUMN_TARGETS[target]), action, expected)


@pytest.mark.parametrize(("action", "role", "expected"), HTML_GLOBAL)
def test_html_global(client: FlaskClient, world: World, action: str, role: str, expected: int) -> None:
    _html_case(client, world, role, world.side(role, "own"), action, expected)


def test_html_signed_out_is_sent_to_sign_in(client: FlaskClient, world: World) -> None:
    for action in HTML:
        method, path, _form = HTML[action](world, world.other)
        response = client.get(path) if method == "GET" else client.post(path, data={})
        if method == "GET":
            assert response.status_code == 302, path
            assert "/sign-in" in response.headers["Location"], path
        else:
            assert response.status_code in {302, 400}, path  # no session and no CSRF token


# Internal notes, the interaction log and "known by": our staff only -----------------

SEES_INTERNAL = [
    ("admin", True),
    ("manager", True),
    ("practitioner", True),
    ("partner_lead", False),
    ("partner", False),
]


@pytest.mark.parametrize(("role", "sees"), SEES_INTERNAL)
@pytest.mark.parametrize("target", ["own", "other"])
@pytest.mark.parametrize("page", ["agency", "contact", "left_contact"])
def test_internal_details_are_for_staff_only(
    client: FlaskClient, world: World, role: str, sees: bool, target: str, page: str
) -> None:
    sign_in(client, world.users[role])
    side = world.side(role, target)
    path = {
        "agency": f"/agencies/{side.agency.id}",
        "contact": f"/contacts/{side.key.id}",
        "left_contact": f"/contacts/{side.left.id}",
    }[page]
    response = client.get(path)
    if page == "left_contact" and role in {"partner_lead", "partner"} and target == "other":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    secrets = {"log entry": side.summary, "known by": KNOWER_NAME, "handover note": HANDOVER_NOTE}
    if page == "agency":
        secrets.pop("handover note")  # shown with the contact and their successor, not on the agency page
    for what, text in secrets.items():
        assert (text in html) is sees, f"{role} {'should' if sees else 'should not'} see the {what} on {path}"


@pytest.mark.parametrize(
    ("role", "sees_left"),
    [
        ("admin", True),
        ("manager", True),
        ("practitioner", True),
        ("partner_lead", False),
        ("partner", False),
    ],
)
def test_leavers_of_another_agency_are_not_shown(client: FlaskClient, world: World, role: str, sees_left: bool) -> None:
    sign_in(client, world.users[role])
    html = client.get(f"/agencies/{world.other.agency.id}").get_data(as_text=True)
    assert world.other.key.name in html
    assert (world.other.left.name in html) is sees_left
    # Nor named on the page of the contact who took over from them
    html = client.get(f"/contacts/{world.other.key.id}").get_data(as_text=True)
    assert (world.other.left.name in html) is sees_left
    # Nor found by searching the directory for them, by anyone
    html = client.get("/directory", query_string={"q": world.other.left.name}).get_data(as_text=True)
    assert world.other.agency.name not in html


@pytest.mark.parametrize(
    ("role", "target", "sees_note"),
    [
        ("admin", "other", True),
        ("manager", "other", True),
        ("practitioner", "other", True),
        ("partner_lead", "own", True),
        ("partner", "own", True),
        ("partner_lead", "other", False),
        ("partner", "other", False),
    ],
)
def test_the_note_that_a_key_contact_left_is_not_shown_to_other_agencies(
    client: FlaskClient, world: World, role: str, target: str, sees_note: bool
) -> None:
    """The note names the leaver, whom partners of other agencies may not see."""
    side = world.side(role, target)
    leaver_name = side.key.name
    services.record_leaver(SYSTEM, side.key, left_on=TODAY)  # the deputy-less key contact leaves
    assert fresh(Agency, side.agency.id).roles_to_confirm
    sign_in(client, world.users[role])
    html = client.get(f"/agencies/{side.agency.id}").get_data(as_text=True)
    assert (leaver_name in html) is sees_note
    assert ("Key contacts changed" in html) is sees_note


# The JSON API -----------------------------------------------------------------------
# host = a system of the host organisation (acts like a manager); lead = a system
# of the partner agency (acts like its partner lead). Both hold directory:read
# and directory:write.

API_MATRIX = parse_grid("""
action             host/own host/oth lead/own lead/oth
list_directory     200      200      200      200
view_agency        200      200      200      200
list_contacts      200      200      200      200
view_contact       200      200      200      200
view_left_contact  200      200      200      404
create_agency      201      201      403      403
edit_public        200      200      200      403
edit_agreement     200      200      403      403
set_key_contact    200      200      200      403
add_contact        201      201      201      403
edit_contact       200      200      200      403
record_leaver      200      200      200      403
""")

API_SUCCESS = {200, 201}
BOTH_SCOPES = "directory:read directory:write"


def _api_headers(client: FlaskClient, world: World, who: str, scope: str | None = None) -> dict[str, str]:
    agency = world.host.agency if who == "host" else world.own_partner.agency
    oauth_client, secret = make_client(agency, BOTH_SCOPES)
    return bearer(client, oauth_client, secret, scope)


def _call(client: FlaskClient, request: Request, headers: dict[str, str]) -> Any:
    method, path, body = request
    return client.open(path, method=method, json=body, headers=headers)


@pytest.mark.parametrize(("action", "column", "expected"), API_MATRIX)
def test_api(client: FlaskClient, world: World, action: str, column: str, expected: int) -> None:
    who, target = column.split("/")
    side = world.side("manager" if who == "host" else "partner_lead", COLUMN_TARGETS[target])
    headers = _api_headers(client, world, who)
    before = snapshot()
    response = _call(client, API[action](world, side), headers)
    check_status(f"{column} system", action, response, expected)
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
        assert {"type", "title", "status", "detail"} <= set(response.json)
        assert response.json["status"] == expected
    if action in EFFECTS:
        if expected in API_SUCCESS:
            assert EFFECTS[action](world, side), f"{column} {action} was accepted but did not happen"
        else:
            assert_unchanged(before)


@pytest.mark.parametrize(
    ("who", "target", "sees_left"),
    [
        ("host", "own", True),
        ("host", "other", True),
        ("lead", "own", True),
        ("lead", "other", False),
    ],
)
def test_api_contact_list_shows_leavers_only_to_their_agency_and_staff(
    client: FlaskClient, world: World, who: str, target: str, sees_left: bool
) -> None:
    side = world.side("manager" if who == "host" else "partner_lead", target)
    response = client.get(f"/api/v1/agencies/{side.agency.id}/contacts", headers=_api_headers(client, world, who))
    ids = {c["id"] for c in response.json}
    assert {side.key.id, side.second.id} <= ids
    assert (side.left.id in ids) is sees_left


INTERNAL_FIELDS = {
    "known_by_id",
    "handover_note",
    "last_spoken_on",
    "agreement_summary",
    "relationship_owner_id",
    "roles_to_confirm",
}


@pytest.mark.parametrize("target", ["own", "other"])
def test_api_never_gives_a_partner_system_internal_fields(client: FlaskClient, world: World, target: str) -> None:
    side = world.side("partner_lead", target)
    headers = _api_headers(client, world, "lead")
    bodies = [
        client.get(f"/api/v1/agencies/{side.agency.id}", headers=headers).json,
        client.get(f"/api/v1/contacts/{side.key.id}", headers=headers).json,
        *client.get(f"/api/v1/agencies/{side.agency.id}/contacts", headers=headers).json,
        *client.get("/api/v1/agencies", headers=headers).json,
    ]
    for body in bodies:
        assert not INTERNAL_FIELDS & set(body), body
    assert side.summary not in str(bodies)


# Tokens and scopes: 401 without a live token, 403 without the scope -----------------

READS = ["list_directory", "view_agency", "list_contacts", "view_contact"]
WRITES = ["create_agency", "edit_public", "add_contact", "edit_contact", "record_leaver"]
TOKEN_CASES = (
    [("none", a, 401) for a in READS + WRITES]
    + [("garbage", a, 401) for a in READS + WRITES]
    + [("revoked", a, 401) for a in ["view_agency", "edit_public"]]
    + [("read_only", a, 200) for a in READS]
    + [("read_only", a, 403) for a in WRITES]
    + [("write_only", a, 403) for a in READS]
)


@pytest.mark.parametrize(("token", "action", "expected"), TOKEN_CASES)
def test_api_tokens_and_scopes(client: FlaskClient, world: World, token: str, action: str, expected: int) -> None:
    headers: dict[str, str] = {}
    if token == "garbage":
        headers = {"Authorization": "Bearer not-a-token"}
    elif token == "read_only":
        headers = _api_headers(client, world, "host", scope="directory:read")
    elif token == "write_only":
        headers = _api_headers(client, world, "host", scope="directory:write")
    elif token == "revoked":
        oauth_client, secret = make_client(world.host.agency, BOTH_SCOPES)
        headers = bearer(client, oauth_client, secret)
        revoked = client.post(
            "/oauth/revoke", data={"token": headers["Authorization"].split()[1]}, auth=(oauth_client.client_id, secret)
        )
        assert revoked.status_code == 200
    before = snapshot()
    response = _call(client, API[action](world, world.own_partner), headers)
    assert response.status_code == expected, response.get_data(as_text=True)
    if expected >= 400:
        assert response.mimetype == "application/problem+json"
        assert response.json["status"] == expected
        assert_unchanged(before)
    if expected == 401:
        assert response.headers.get("WWW-Authenticate", "").lower().startswith("bearer")


def test_a_client_with_only_read_scope_registered_cannot_widen_it(client: FlaskClient, world: World) -> None:
    oauth_client, secret = make_client(world.own_partner.agency, "directory:read")
    headers = bearer(client, oauth_client, secret, scope=BOTH_SCOPES)
    before = snapshot()
    response = _call(client, API["edit_public"](world, world.own_partner), headers)
    assert response.status_code == 403
    assert_unchanged(before)


# ID tampering and fields the caller may not set -------------------------------------
# Each case: who acts, what they send, the answer, and (for a 422) the field
# the error is about. Nothing may change.


@dataclass(frozen=True)
class Tamper:
    role: str
    method: str
    path: Callable[[World], str]
    body: Callable[[World], dict[str, Any]]
    expected: int
    field: str | None = None


HTML_TAMPERING = {
    "lead adds a contact to another agency": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/agencies/{w.other.agency.id}/contacts/new",
        lambda w: {"name": "Planted Person"},
        403,
    ),
    "lead edits another agency's contact": Tamper(
        "partner_lead", "POST", lambda w: f"/contacts/{w.other.key.id}/edit", lambda w: {"role": "Hijacked"}, 403
    ),
    "lead edits another agency's leaver": Tamper(
        "partner_lead", "POST", lambda w: f"/contacts/{w.other.left.id}/edit", lambda w: {"role": "Hijacked"}, 404
    ),
    "lead records another agency's contact as left": Tamper(
        "partner_lead", "POST", lambda w: f"/contacts/{w.other.key.id}/leave", lambda w: {"left_on": _today_form()}, 403
    ),
    "lead confirms another agency's key roles": Tamper(
        "partner_lead", "POST", lambda w: f"/agencies/{w.other.agency.id}/confirm-roles", lambda w: {}, 403
    ),
    "lead makes another agency's contact their key contact": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/agencies/{w.own_partner.agency.id}/edit",
        lambda w: {"key_contact_id": str(w.other.key.id)},
        422,
        "key_contact_id",
    ),
    "lead makes another agency's contact their deputy": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/agencies/{w.own_partner.agency.id}/edit",
        lambda w: {"deputy_contact_id": str(w.other.second.id)},
        422,
        "deputy_contact_id",
    ),
    "lead makes a leaver their key contact": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/agencies/{w.own_partner.agency.id}/edit",
        lambda w: {"key_contact_id": str(w.own_partner.left.id)},
        422,
        "key_contact_id",
    ),
    "lead names another agency's contact as successor": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/contacts/{w.own_partner.second.id}/leave",
        lambda w: {"left_on": _today_form(), "successor_id": str(w.other.key.id)},
        422,
        "successor_id",
    ),
    "lead names the leaver as their own successor": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/contacts/{w.own_partner.second.id}/leave",
        lambda w: {"left_on": _today_form(), "successor_id": str(w.own_partner.second.id)},
        422,
        "successor_id",
    ),
    "lead sets the working agreement": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/agencies/{w.own_partner.agency.id}/edit",
        lambda w: {"has_agreement": "yes"},
        403,
    ),
    "lead sets our relationship lead": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/agencies/{w.own_partner.agency.id}/edit",
        lambda w: {"relationship_owner_id": str(w.users["manager"].id)},
        403,
    ),
    "lead renames their agency": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/agencies/{w.own_partner.agency.id}/edit",
        lambda w: {"name": "Renamed"},
        403,
    ),
    "lead changes their agency's kind": Tamper(
        "partner_lead", "POST", lambda w: f"/agencies/{w.own_partner.agency.id}/edit", lambda w: {"kind": "police"}, 403
    ),
    "lead sets who knows a new contact": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/agencies/{w.own_partner.agency.id}/contacts/new",
        lambda w: {"name": "Planted Person", "known_by_id": str(w.knower.id)},
        403,
    ),
    "lead sets who knows a contact": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/contacts/{w.own_partner.key.id}/edit",
        lambda w: {"known_by_id": str(w.users["manager"].id)},
        403,
    ),
    "lead sets when we last spoke to a contact": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/contacts/{w.own_partner.key.id}/edit",
        lambda w: {"last_spoken_on": _today_form()},
        403,
    ),
    "lead smuggles an agency_id into a new contact": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/agencies/{w.own_partner.agency.id}/contacts/new",
        lambda w: {"name": "Planted Person", "agency_id": str(w.other.agency.id)},
        422,
        "agency_id",
    ),
    "lead smuggles a status into a contact": Tamper(
        "partner_lead",
        "POST",
        lambda w: f"/contacts/{w.own_partner.key.id}/edit",
        lambda w: {"status": "left"},
        422,
        "status",
    ),
    "lead offboards a member of staff": Tamper(
        "partner_lead", "POST", lambda w: f"/staff/{w.leaver.id}/offboard", lambda w: {}, 403
    ),
    "partner edits their own agency": Tamper(
        "partner", "POST", lambda w: f"/agencies/{w.own_partner.agency.id}/edit", lambda w: {"services": "Changed"}, 403
    ),
    "partner adds a contact to their own agency": Tamper(
        "partner",
        "POST",
        lambda w: f"/agencies/{w.own_partner.agency.id}/contacts/new",
        lambda w: {"name": "Planted Person"},
        403,
    ),
    "partner logs an interaction": Tamper(
        "partner",
        "POST",
        lambda w: f"/agencies/{w.own_partner.agency.id}/log",
        lambda w: {"kind": "note", "occurred_on": _today_form(), "summary": "Planted"},
        403,
    ),
    "practitioner sets the working agreement": Tamper(
        "practitioner", "POST", lambda w: f"/agencies/{w.other.agency.id}/edit", lambda w: {"has_agreement": "yes"}, 403
    ),
    "practitioner renames an agency": Tamper(
        "practitioner", "POST", lambda w: f"/agencies/{w.other.agency.id}/edit", lambda w: {"name": "Renamed"}, 403
    ),
    "practitioner logs against another agency's contact": Tamper(
        "practitioner",
        "POST",
        lambda w: f"/agencies/{w.own_partner.agency.id}/log",
        lambda w: {
            "kind": "call",
            "occurred_on": _today_form(),
            "summary": "Misfiled",
            "contact_id": str(w.other.key.id),
        },
        422,
        "contact_id",
    ),
    "manager makes a partner user the relationship lead": Tamper(
        "manager",
        "POST",
        lambda w: f"/agencies/{w.other.agency.id}/edit",
        lambda w: {"relationship_owner_id": str(w.users["partner_lead"].id)},
        422,
        "relationship_owner_id",
    ),
    "manager says a partner user knows a contact": Tamper(
        "manager",
        "POST",
        lambda w: f"/contacts/{w.other.key.id}/edit",
        lambda w: {"known_by_id": str(w.users["partner"].id)},
        422,
        "known_by_id",
    ),
    "manager makes another agency's contact this agency's key contact": Tamper(
        "manager",
        "POST",
        lambda w: f"/agencies/{w.own_partner.agency.id}/edit",
        lambda w: {"key_contact_id": str(w.other.key.id)},
        422,
        "key_contact_id",
    ),
}


@pytest.mark.parametrize("case", HTML_TAMPERING.values(), ids=HTML_TAMPERING.keys())
def test_html_tampering_is_refused_and_changes_nothing(client: FlaskClient, world: World, case: Tamper) -> None:
    sign_in(client, world.users[case.role])
    before = snapshot()
    response = post_form(client, case.path(world), case.body(world), token_from="/directory")
    html = response.get_data(as_text=True)
    assert response.status_code == case.expected, html[:2000]
    if case.field:
        assert "There is a problem" in html
        assert f'href="#{case.field}"' in html
    assert_unchanged(before)


API_TAMPERING = {
    "lead changes another agency": Tamper(
        "lead", "PATCH", lambda w: f"/api/v1/agencies/{w.other.agency.id}", lambda w: {"services": "Hijacked"}, 403
    ),
    "lead adds a contact to another agency": Tamper(
        "lead",
        "POST",
        lambda w: f"/api/v1/agencies/{w.other.agency.id}/contacts",
        lambda w: {"name": "Planted Person"},
        403,
    ),
    "lead edits another agency's contact": Tamper(
        "lead", "PATCH", lambda w: f"/api/v1/contacts/{w.other.key.id}", lambda w: {"role": "Hijacked"}, 403
    ),
    "lead edits another agency's leaver": Tamper(
        "lead", "PATCH", lambda w: f"/api/v1/contacts/{w.other.left.id}", lambda w: {"role": "Hijacked"}, 404
    ),
    "lead records another agency's contact as left": Tamper(
        "lead",
        "POST",
        lambda w: f"/api/v1/contacts/{w.other.key.id}/leave",
        lambda w: {"left_on": TODAY.isoformat()},
        403,
    ),
    "lead records another agency's leaver as left again": Tamper(
        "lead",
        "POST",
        lambda w: f"/api/v1/contacts/{w.other.left.id}/leave",
        lambda w: {"left_on": TODAY.isoformat()},
        404,
    ),
    "lead makes another agency's contact their key contact": Tamper(
        "lead",
        "PATCH",
        lambda w: f"/api/v1/agencies/{w.own_partner.agency.id}",
        lambda w: {"key_contact_id": w.other.key.id},
        422,
        "key_contact_id",
    ),
    "lead makes another agency's contact their deputy": Tamper(
        "lead",
        "PATCH",
        lambda w: f"/api/v1/agencies/{w.own_partner.agency.id}",
        lambda w: {"deputy_contact_id": w.other.second.id},
        422,
        "deputy_contact_id",
    ),
    "lead names another agency's contact as successor": Tamper(
        "lead",
        "POST",
        lambda w: f"/api/v1/contacts/{w.own_partner.second.id}/leave",
        lambda w: {"left_on": TODAY.isoformat(), "successor_id": w.other.key.id},
        422,
        "successor_id",
    ),
    "lead sets the working agreement": Tamper(
        "lead", "PATCH", lambda w: f"/api/v1/agencies/{w.own_partner.agency.id}", lambda w: {"has_agreement": True}, 403
    ),
    "lead sets our relationship lead": Tamper(
        "lead",
        "PATCH",
        lambda w: f"/api/v1/agencies/{w.own_partner.agency.id}",
        lambda w: {"relationship_owner_id": w.users["manager"].id},
        403,
    ),
    "lead renames their agency": Tamper(
        "lead", "PATCH", lambda w: f"/api/v1/agencies/{w.own_partner.agency.id}", lambda w: {"name": "Renamed"}, 403
    ),
    "lead sets who knows a new contact": Tamper(
        "lead",
        "POST",
        lambda w: f"/api/v1/agencies/{w.own_partner.agency.id}/contacts",
        lambda w: {"name": "Planted Person", "known_by_id": w.knower.id},
        403,
    ),
    "lead sets who knows a contact": Tamper(
        "lead",
        "PATCH",
        lambda w: f"/api/v1/contacts/{w.own_partner.key.id}",
        lambda w: {"known_by_id": w.users["manager"].id},
        403,
    ),
    "lead smuggles an agency_id into a new contact": Tamper(
        "lead",
        "POST",
        lambda w: f"/api/v1/agencies/{w.own_partner.agency.id}/contacts",
        lambda w: {"name": "Planted Person", "agency_id": w.other.agency.id},
        422,
        "agency_id",
    ),
    "lead smuggles a status into a contact": Tamper(
        "lead",
        "PATCH",
        lambda w: f"/api/v1/contacts/{w.own_partner.key.id}",
        lambda w: {"status": "left"},
        422,
        "status",
    ),
    "lead smuggles an id into their agency": Tamper(
        "lead",
        "PATCH",
        lambda w: f"/api/v1/agencies/{w.own_partner.agency.id}",
        lambda w: {"id": w.other.agency.id},
        422,
        "id",
    ),
    "lead creates an agency": Tamper(
        "lead", "POST", lambda w: "/api/v1/agencies", lambda w: {"name": "Planted Agency", "kind": "housing"}, 403
    ),
    "host system makes a partner user the relationship lead": Tamper(
        "host",
        "PATCH",
        lambda w: f"/api/v1/agencies/{w.other.agency.id}",
        lambda w: {"relationship_owner_id": w.users["partner_lead"].id},
        422,
        "relationship_owner_id",
    ),
    "host system makes another agency's contact this agency's key contact": Tamper(
        "host",
        "PATCH",
        lambda w: f"/api/v1/agencies/{w.own_partner.agency.id}",
        lambda w: {"key_contact_id": w.other.key.id},
        422,
        "key_contact_id",
    ),
}


@pytest.mark.parametrize("case", API_TAMPERING.values(), ids=API_TAMPERING.keys())
def test_api_tampering_is_refused_and_changes_nothing(client: FlaskClient, world: World, case: Tamper) -> None:
    headers = _api_headers(client, world, case.role)
    before = snapshot()
    response = client.open(case.path(world), method=case.method, json=case.body(world), headers=headers)
    assert response.status_code == case.expected, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == case.expected
    if case.field:
        assert case.field in response.json["errors"], response.json
    assert_unchanged(before)
