"""Server-side sessions: a copied cookie dies with sign-out, disabling or a
time-out; every sign-in gets a new session id."""

from __future__ import annotations

import time

import pyotp
import sqlalchemy as sa
import time_machine

from hub.auth import services as auth_services
from hub.auth import totp
from hub.auth.models import AuthSession, User
from hub.db import db
from hub.permissions import SYSTEM, Role
from tests.conftest import make_settings
from tests.helpers import PASSWORD, csrf_token, make_user, sign_in


def _cookie(client):
    cookie = client.get_cookie("hub_session")
    return cookie.value if cookie else None


def test_cookie_from_before_sign_out_is_refused_after_it(app, client):
    user = make_user()
    sign_in(client, user)
    assert client.get("/directory").status_code == 200
    stolen = _cookie(client)
    token = csrf_token(client, "/directory")
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("hub_session", stolen)
    response = replay.get("/directory")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_sign_in_issues_a_new_session_id(app, settings):
    client = app.test_client()
    user = make_user()
    secret = pyotp.random_base32()
    user.totp_secret_enc = totp.encrypt(secret, settings.secret_key)
    user.totp_enabled_at = user.created_at
    db.session.flush()
    with client.session_transaction() as session:
        session["sid"] = "planted-by-an-attacker"
    token = csrf_token(client, "/sign-in")
    client.post("/sign-in", data={"csrf_token": token, "email": user.email, "password": PASSWORD})
    token = csrf_token(client, "/sign-in/code")
    client.post("/sign-in/code", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    with client.session_transaction() as session:
        assert session["sid"] != "planted-by-an-attacker"
    first = session["sid"]
    # Signing in again (after signing out) gives yet another id.
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/directory")})
    sign_in(client, user)
    with client.session_transaction() as session:
        assert session["sid"] != first


def test_disabling_a_user_ends_their_sessions_at_once(client):
    user = make_user(Role.PARTNER)
    sign_in(client, user)
    second = client.application.test_client()
    sign_in(second, user)
    assert client.get("/directory").status_code == 200
    auth_services.disable_user(SYSTEM, db.session.get(User, user.id))
    db.session.commit()
    for browser in (client, second):
        response = browser.get("/directory")
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    ended = db.session.scalars(sa.select(AuthSession).where(AuthSession.user_id == user.id)).all()
    assert all(s.ended_at is not None for s in ended)


def test_idle_timeout(client, settings):
    user = make_user()
    sign_in(client, user)
    later = time.time() + settings.session_idle_minutes * 60 + 10
    with time_machine.travel(later, tick=False):
        response = client.get("/directory")
        assert response.status_code == 302
        assert "ended=idle" in response.headers["Location"]


def test_activity_keeps_a_session_alive_until_the_absolute_limit(client, settings):
    user = make_user()
    sign_in(client, user)
    start = time.time()
    step = (settings.session_idle_minutes - 1) * 60
    t = start
    while t + step < start + settings.session_absolute_hours * 3600 - 60:
        t += step
        with time_machine.travel(t, tick=False):
            assert client.get("/directory").status_code == 200
    with time_machine.travel(start + settings.session_absolute_hours * 3600 + 5, tick=False):
        assert client.get("/directory").status_code == 302


def test_session_cookie_flags_in_production_settings(database_url):
    from hub.app import create_app

    app = create_app(make_settings(database_url=database_url, secure_cookies=True))
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-hub"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    with app.app_context():
        response = app.test_client().get("/sign-in", base_url="https://hub.example")
    cookie = response.headers.get("Set-Cookie", "")
    assert "__Host-hub=" in cookie and "Secure" in cookie and "HttpOnly" in cookie and "Domain" not in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_security_headers_on_pages(client):
    user = make_user()
    sign_in(client, user)
    response = client.get("/directory")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "default-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_two_factor_cannot_be_switched_off_outside_the_demo():
    import pytest

    from hub.config import Settings

    with pytest.raises(ValueError, match="HUB_REQUIRE_2FA"):
        Settings.from_env({"HUB_REQUIRE_2FA": "false", "SECRET_KEY": "x" * 40})
    assert Settings.from_env({"HUB_REQUIRE_2FA": "false", "HUB_DEMO": "true"}).require_2fa is False
