"""Signing in: password, then a code; no user enumeration; throttling that
cannot lock a real person out for ever; CSRF on the forms."""

from __future__ import annotations

import re
import time

import pyotp
import sqlalchemy as sa
import time_machine

from hub.audit import AuditEvent
from hub.auth import totp
from hub.auth.models import AuthSession, LoginAttempt, User
from hub.db import db
from hub.permissions import Role
from tests.helpers import PASSWORD, csrf_token, make_user


def _password_step(client, email, password=PASSWORD, ip="10.0.0.1"):
    token = csrf_token(client, "/sign-in")
    return client.post(
        "/sign-in", data={"csrf_token": token, "email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def _enrolled(user: User, settings) -> str:
    secret = pyotp.random_base32()
    user.totp_secret_enc = totp.encrypt(secret, settings.secret_key)
    user.totp_enabled_at = user.created_at
    db.session.flush()
    return secret


def _code_step(client, code, ip="10.0.0.1", path="/sign-in/code"):
    token = csrf_token(client, path)
    return client.post(path, data={"csrf_token": token, "code": code}, environ_base={"REMOTE_ADDR": ip})


def _sid(client):
    with client.session_transaction() as session:
        return session.get("sid")


def test_password_alone_never_signs_in_when_two_factor_is_required(client, settings):
    user = make_user()
    _enrolled(user, settings)
    response = _password_step(client, user.email)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sign-in/code")
    assert _sid(client) is None
    assert client.get("/directory").status_code == 302  # still not signed in


def test_password_and_code_sign_in_and_code_cannot_be_replayed(client, settings):
    user = make_user()
    secret = _enrolled(user, settings)
    _password_step(client, user.email)
    code = pyotp.TOTP(secret).now()
    response = _code_step(client, code)
    assert response.status_code == 302
    assert _sid(client) is not None
    assert client.get("/directory").status_code == 200
    # The same code again, in a second browser, is refused.
    other = client.application.test_client()
    _password_step(other, user.email)
    assert _code_step(other, code).status_code == 401


def test_first_sign_in_sets_up_an_authenticator(client, settings):
    user = make_user()
    response = _password_step(client, user.email)
    assert response.headers["Location"].endswith("/sign-in/set-up-code")
    page = client.get("/sign-in/set-up-code").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret"[^>]*>([A-Z2-7]+)</code>', page).group(1)
    assert "<svg" in page  # the QR code is inline, no image request
    # Posted from the page just shown (each visit to the page shows a new secret).
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def submit(code):
        return client.post("/sign-in/set-up-code", data={"csrf_token": token, "code": code})

    assert submit("000000").status_code in (401, 200)
    response = submit(pyotp.TOTP(secret).now())
    assert response.status_code == 302
    assert db.session.get(User, user.id).totp_enabled_at is not None
    # The stored secret is encrypted, not the secret itself.
    assert secret not in db.session.get(User, user.id).totp_secret_enc


def test_unknown_email_and_wrong_password_look_the_same(client):
    user = make_user()
    wrong = _password_step(client, user.email, "not the password at all")
    unknown = _password_step(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401

    def strip(html):
        return re.sub(r'value="[^"]*"|nonce="[^"]*"', "", html)

    assert strip(wrong.get_data(as_text=True)) == strip(unknown.get_data(as_text=True))


def test_disabled_account_cannot_sign_in(client):
    user = make_user()
    user.disabled_at = user.created_at
    db.session.flush()
    assert _password_step(client, user.email).status_code == 401


def test_failures_are_audited_without_the_email_in_clear(client):
    user = make_user()
    _password_step(client, user.email, "wrong password here")
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")).all()[-1]
    assert user.email not in str(event.data)
    assert event.ip == "10.0.0.1"


def test_throttling_blocks_one_address_but_not_the_real_user_elsewhere(client, settings):
    user = make_user()
    for _ in range(settings.login_max_failures):
        assert _password_step(client, user.email, "wrong password", ip="203.0.113.9").status_code == 401
    # Now even the right password from the attacker's address waits ...
    assert _password_step(client, user.email, ip="203.0.113.9").status_code == 429
    # ... but the real user, at her own address, signs in as usual.
    response = _password_step(client.application.test_client(), user.email, ip="198.51.100.7")
    assert response.status_code == 302


def test_throttling_lifts_when_the_window_passes(client, settings):
    user = make_user()
    for _ in range(settings.login_max_failures):
        _password_step(client, user.email, "wrong password", ip="203.0.113.9")
    assert _password_step(client, user.email, ip="203.0.113.9").status_code == 429
    with time_machine.travel(time.time() + settings.login_window_minutes * 60 + 5, tick=False):
        assert _password_step(client, user.email, ip="203.0.113.9").status_code == 302


def test_throttled_unknown_account_answers_like_a_known_one(client, settings):
    for _ in range(settings.login_max_failures):
        _password_step(client, "ghost@example.org", "wrong password", ip="203.0.113.10")
    assert _password_step(client, "ghost@example.org", ip="203.0.113.10").status_code == 429


def test_wrong_codes_are_limited(client, settings):
    user = make_user()
    _enrolled(user, settings)
    _password_step(client, user.email)
    for _ in range(4):
        assert _code_step(client, "123456").status_code == 401
    response = _code_step(client, "123456")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    assert client.get("/sign-in/code").status_code == 302  # must start again


def test_successful_sign_in_clears_failures_for_that_address(client, settings):
    user = make_user()
    _enrolled(user, settings)
    for _ in range(2):
        _password_step(client, user.email, "wrong password")
    _password_step(client, user.email)
    _code_step(client, pyotp.TOTP(pyotp.random_base32()).now())  # wrong code: one more failure
    assert db.session.scalar(sa.select(sa.func.count(LoginAttempt.id))) == 3


def test_forms_without_csrf_token_are_refused(client):
    user = make_user()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(AuthSession.id))) == 0


def test_open_redirect_after_sign_in_is_refused(app, settings):
    client = app.test_client()
    user = make_user()
    _enrolled(user, settings)
    token = csrf_token(client, "/sign-in")
    client.post("/sign-in?next=//evil.example/", data={"csrf_token": token, "email": user.email, "password": PASSWORD})
    response = _code_step(client, pyotp.TOTP("A" * 32).now())
    assert "evil.example" not in response.headers.get("Location", "")


def test_one_time_password_must_be_changed_first(client):
    from tests.helpers import sign_in

    user = make_user(Role.MANAGER, must_change_password=True)
    sign_in(client, user)
    response = client.get("/directory")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    token = csrf_token(client, "/account/password")
    bad = client.post("/account/password", data={"csrf_token": token, "new_password": "short"})
    assert bad.status_code == 422
    assert "12 characters" in bad.get_data(as_text=True)
    good = client.post("/account/password", data={"csrf_token": token, "new_password": "a long and memorable phrase"})
    assert good.status_code == 302
    assert client.get("/directory").status_code == 200
