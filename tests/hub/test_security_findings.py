"""Findings of the security review (``reviews/security.md``), each reproduced
as a user would notice it, and fixed.

Here: control characters in names (M4), where a sign-in ends (M1), the
two-factor set-up secret (L3) and a password change ending other sessions
(L2). Elsewhere, beside the fixtures they need: the parallel-code race (M2)
in ``test_totp_race.py``, the token endpoint's throttle (M3) in
``test_oauth.py``, the poisoned email batch (M4) in ``test_email.py``, the
audit chain's witnessed head (M5) and the audit page number (L6) in
``test_audit.py``, the password blocklist (L8) in ``test_passwords.py``.
"""

from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa

from agencies.models import Agency, AgencyKind, Contact
from consent.models import ServiceUser
from hub.auth import totp
from hub.auth.models import AuthSession, User
from hub.db import db
from hub.permissions import Role
from tests.helpers import PASSWORD, bearer, csrf_token, host_agency, make_agency, make_client, make_user, sign_in

POISON = "Harbour Housing\nBcc: x@evil.example"
NOT_ONE_LINE = "Use letters, numbers and punctuation only: no line breaks or control characters"


# M4b: single-line fields refuse control characters ---------------------------------------


def test_api_refuses_a_line_break_in_an_agency_name_and_changes_nothing(client):
    """M4: a host system's PATCH cannot put a line break (an email header) into an agency's name."""
    agency = make_agency(AgencyKind.HOUSING, name="Harbour Housing")
    system, secret = make_client(host_agency(), "directory:read directory:write")
    headers = bearer(client, system, secret)
    for field, value in (
        ("name", POISON),
        ("name", "Harbour\rHousing"),
        ("name", "Harbour\tHousing"),
        ("name", "Harbour\x7fHousing"),
        ("name", "Harbour\u2028Housing"),
        ("phone", "0161 000\n0000"),
    ):
        response = client.patch(f"/api/v1/agencies/{agency.id}", json={field: value}, headers=headers)
        assert response.status_code == 422, (field, value, response.json)
        assert response.mimetype == "application/problem+json"
        assert response.json["errors"][field] == [NOT_ONE_LINE]
    db.session.expire_all()
    stored = db.session.get(Agency, agency.id)
    assert (stored.name, stored.phone) == ("Harbour Housing", "")
    created = client.post("/api/v1/agencies", json={"name": POISON, "kind": "housing"}, headers=headers)
    assert created.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).where(Agency.name.contains("evil"))) == 0


def test_api_refuses_control_characters_in_a_contacts_name_role_and_phone(client):
    """M4: contact name, role and phone are single-line; nothing is created."""
    agency = make_agency()
    system, secret = make_client(host_agency(), "directory:read directory:write")
    headers = bearer(client, system, secret)
    good = {"name": "Kim Key", "role": "Officer", "phone": "0161 000 0000"}
    for field, bad in (("name", "Kim\nKey"), ("role", "Officer\r\nBcc: x"), ("phone", "0161\x00000")):
        response = client.post(f"/api/v1/agencies/{agency.id}/contacts", json={**good, field: bad}, headers=headers)
        assert response.status_code in (400, 422), (field, response.json)
        assert response.status_code != 500
    assert db.session.scalar(sa.select(sa.func.count()).where(Contact.agency_id == agency.id)) == 0
    # Multi-line fields keep their line breaks.
    ok = client.post(
        f"/api/v1/agencies/{agency.id}/contacts",
        json={**good, "knowledge": "Knows the housing team.\nCall before 10."},
        headers=headers,
    )
    assert ok.status_code == 201, ok.json
    address = client.patch(f"/api/v1/agencies/{agency.id}", json={"address": "1 High Street\nTown"}, headers=headers)
    assert address.status_code == 200 and address.json["address"] == "1 High Street\nTown"


def test_web_form_refuses_a_line_break_in_an_agency_name_and_changes_nothing(client):
    """M4: the manager's edit form refuses the name with a clear error, and keeps the old one."""
    agency = make_agency(AgencyKind.HOUSING, name="Harbour Housing")
    sign_in(client, make_user(Role.MANAGER))
    path = f"/agencies/{agency.id}/edit"
    response = client.post(
        path, data={"csrf_token": csrf_token(client, path), "name": POISON, "kind": "housing", "has_agreement": "no"}
    )
    assert response.status_code == 422
    assert NOT_ONE_LINE in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).name == "Harbour Housing"


def test_a_service_users_names_are_single_line(client):
    """M4: her given and family names refuse line breaks, in the API and the form."""
    system, secret = make_client(host_agency(), "service-users:read service-users:write")
    headers = bearer(client, system, secret)
    for body in ({"given_name": "Ann\nBcc: x", "family_name": "Example"}, {"given_name": "Ann", "family_name": "Ex\r"}):
        response = client.post("/api/v1/service-users", json=body, headers=headers)
        assert response.status_code == 422, response.json
    sign_in(client, make_user(Role.PRACTITIONER))
    token = csrf_token(client, "/service-users/new")
    form = client.post(
        "/service-users/new", data={"csrf_token": token, "given_name": "Ann", "family_name": "Ex\tample"}
    )
    assert form.status_code == 422
    assert NOT_ONE_LINE in form.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceUser)) == 0


def test_create_user_refuses_a_name_with_a_line_break(app):
    """M4: ``flask hub create-user --name`` refuses control characters; no account is made."""
    host = host_agency()
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=[
            "hub",
            "create-user",
            "--email",
            "new@example.org",
            "--agency",
            host.slug,
            "--role",
            "practitioner",
            "--name",
            "New\nPerson",
        ]
    )
    assert result.exit_code == 2, result.output
    assert NOT_ONE_LINE in result.output
    assert db.session.scalar(sa.select(User.id).where(User.email == "new@example.org")) is None


# Signing in ---------------------------------------------------------------------------------


def _password_step(client, email, password=PASSWORD, ip="10.0.0.1", query=""):
    token = csrf_token(client, "/sign-in")
    return client.post(
        f"/sign-in{query}",
        data={"csrf_token": token, "email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def _code_step(client, code, ip="10.0.0.1", path="/sign-in/code"):
    token = csrf_token(client, path)
    return client.post(path, data={"csrf_token": token, "code": code}, environ_base={"REMOTE_ADDR": ip})


def _enrolled(user: User, settings) -> str:
    secret = pyotp.random_base32()
    user.totp_secret_enc = totp.encrypt(secret, settings.secret_key)
    user.totp_enabled_at = user.created_at
    db.session.flush()
    return secret


def _shown_secret(page: str) -> str:
    match = re.search(r'<code id="totp-secret"[^>]*>([A-Z2-7]+)</code>', page)
    assert match, "no set-up secret on the page"
    return match.group(1)


def _set_up_page(client) -> tuple[str, str]:
    """Visit the set-up page once, as a person does: the secret shown and the form's CSRF token."""
    page = client.get("/sign-in/set-up-code").get_data(as_text=True)
    return _shown_secret(page), re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _set_up_code(client, code, token, ip="10.0.0.1"):
    """Send a code from the set-up page (without visiting it again)."""
    return client.post(
        "/sign-in/set-up-code", data={"csrf_token": token, "code": code}, environ_base={"REMOTE_ADDR": ip}
    )


# M1: where a sign-in ends


@pytest.mark.parametrize(
    "next_query",
    [
        "/%09/evil.example",  # werkzeug drops the tab: //evil.example
        "/%0a/evil.example",  # a line break in a header: was a 500
        "/%0d/evil.example",
        "/%0d%0aSet-Cookie:%20x=1",
        "/%7f/evil.example",
        "/%e2%80%a8/evil.example",  # U+2028, a line separator
        "/%5c/evil.example",  # backslash
        "%5c%5cevil.example",
        "//evil.example",
        "///evil.example",
        "https://evil.example/",
        "https:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_sign_in_never_ends_off_site_or_in_a_500(app, settings, next_query):
    """M1: a crafted ``next`` ends at the home page after the password and the code, never elsewhere."""
    client = app.test_client()
    user = make_user()
    secret = _enrolled(user, settings)
    response = _password_step(client, user.email, query=f"?next={next_query}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in/code")
    response = _code_step(client, pyotp.TOTP(secret).now())
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/directory").status_code == 200  # signed in


def test_sign_in_still_returns_to_a_local_page(app, settings):
    """M1: an ordinary local ``next`` (path and query) is kept."""
    client = app.test_client()
    user = make_user()
    secret = _enrolled(user, settings)
    _password_step(client, user.email, query="?next=/directory%3Fq%3Dhousing%26page%3D2")
    response = _code_step(client, pyotp.TOTP(secret).now())
    assert response.status_code == 302 and response.headers["Location"] == "/directory?q=housing&page=2"


def test_first_sign_in_with_a_crafted_next_ends_at_home(app):
    """M1: the set-up-code step ends at home too."""
    client = app.test_client()
    user = make_user()
    _password_step(client, user.email, query="?next=/%0a/evil.example")
    secret, token = _set_up_page(client)
    response = _set_up_code(client, pyotp.TOTP(secret).now(), token)
    assert response.status_code == 302 and response.headers["Location"] == "/"


# L3: the set-up secret


def test_the_set_up_secret_is_renewed_until_enrolment(app):
    """L3: someone who saw the set-up page first cannot enrol, or sign in later, with the secret they saw."""
    client = app.test_client()
    user = make_user()
    _password_step(client, user.email)
    first, _token = _set_up_page(client)
    last, token = _set_up_page(client)
    assert first != last
    # A code from the secret seen earlier no longer enrols ...
    assert _set_up_code(client, pyotp.TOTP(first).now(), token).status_code == 401
    # ... but a code from the one shown last does.
    response = _set_up_code(client, pyotp.TOTP(last).now(), token)
    assert response.status_code == 302
    assert db.session.get(User, user.id).totp_enabled_at is not None
    # Later, the earlier secret gives no second factor.
    other = app.test_client()
    _password_step(other, user.email, ip="10.0.0.2")
    assert _code_step(other, pyotp.TOTP(first).now(), ip="10.0.0.2").status_code == 401
    assert other.get("/directory").status_code == 302


def test_a_wrong_set_up_code_keeps_the_secret_on_the_page(app):
    """L3: a mistyped code shows the same secret again, so the app already set up still works."""
    client = app.test_client()
    user = make_user()
    _password_step(client, user.email)
    shown, token = _set_up_page(client)
    wrong = _set_up_code(client, "000000", token)
    if wrong.status_code == 401:  # (000000 may, once in a million, be right)
        assert _shown_secret(wrong.get_data(as_text=True)) == shown
        assert _set_up_code(client, pyotp.TOTP(shown).now(), token).status_code == 302


# L2: a password change ends the other sessions


def test_changing_the_password_ends_every_other_session(app):
    """L2: after a password change in one browser, a session in another browser has ended."""
    user = make_user(Role.MANAGER)
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, user)
    sign_in(elsewhere, user)
    assert elsewhere.get("/directory").status_code == 200
    token = csrf_token(here, "/account/password")
    response = here.post(
        "/account/password",
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": "a long and memorable phrase"},
    )
    assert response.status_code == 302
    assert here.get("/directory").status_code == 200  # the browser that changed it stays signed in
    response = elsewhere.get("/directory")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    sessions = db.session.scalars(sa.select(AuthSession).where(AuthSession.user_id == user.id)).all()
    assert sorted((s.ended_at is None, s.end_reason) for s in sessions) == [(False, "password_changed"), (True, None)]


def test_a_refused_password_change_ends_no_session(app):
    """L2: a wrong current password changes nothing, and the other sessions stay."""
    user = make_user(Role.MANAGER)
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, user)
    sign_in(elsewhere, user)
    token = csrf_token(here, "/account/password")
    response = here.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "not my password",
            "new_password": "a long and memorable phrase",
        },
    )
    assert response.status_code == 422
    assert elsewhere.get("/directory").status_code == 200
