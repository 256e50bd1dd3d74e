"""A code from an authenticator app signs in once, even when sent from
several browsers at the same moment (security review M2).

The rollback-per-test fixture cannot see across threads, so (as in
``tests/referrals/test_concurrency.py``) the server gets a database of its
own, built by the migrations, and serves it with werkzeug in a thread; each
browser is a separate cookie jar and connection.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import flask_migrate
import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask

from hub.app import create_app
from hub.auth import totp
from hub.auth.models import AuthSession, User
from hub.db import db
from hub.permissions import Role
from tests.conftest import TEST_SECRET, _drop_database, _recreate_database, make_settings, own_database_url
from tests.helpers import PASSWORD, make_user, serving

pytestmark = pytest.mark.own_database

BROWSERS = 4
TIMEOUT = 60


def _database_url() -> str:
    return own_database_url(f"totp_race_{os.getpid()}")


@dataclass(frozen=True)
class Live:
    url: str
    app: Flask
    user_id: int
    email: str
    secret: str


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    url = _database_url()
    _recreate_database(url)
    hub = create_app(make_settings(database_url=url))
    try:
        with hub.app_context():
            flask_migrate.upgrade()
            user = make_user(Role.PRACTITIONER, email="racer@example.org")
            secret = pyotp.random_base32()
            user.totp_secret_enc = totp.encrypt(secret, TEST_SECRET)
            user.totp_enabled_at = user.created_at
            db.session.commit()
            user_id = user.id
        with serving(hub) as base_url:
            yield Live(base_url, hub, user_id, "racer@example.org", secret)
    finally:
        with hub.app_context():
            db.engine.dispose()
        _drop_database(url)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the test reads each redirect itself
        return None


class Browser:
    """One browser: its own cookies and connections."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data)  # noqa: S310 - http://127.0.0.1
        try:
            with self.opener.open(request, timeout=TIMEOUT) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def csrf(self, path: str) -> str:
        _status, _location, page = self.request(path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)


def test_one_code_sent_from_four_browsers_at_once_signs_in_one(live: Live) -> None:
    """M2: four sign-ins past the password step send the same code at the same moment: one is signed in."""
    browsers = [Browser(live.url) for _ in range(BROWSERS)]
    tokens = []
    for browser in browsers:
        form = {"csrf_token": browser.csrf("/sign-in"), "email": live.email, "password": PASSWORD}
        status, location, _page = browser.request("/sign-in", form)
        assert status == 302 and location.endswith("/sign-in/code"), (status, location)
        tokens.append(browser.csrf("/sign-in/code"))

    code = pyotp.TOTP(live.secret).now()
    barrier = threading.Barrier(BROWSERS)
    results: list[tuple[int, str] | None] = [None] * BROWSERS

    def submit(i: int) -> None:
        barrier.wait(timeout=TIMEOUT)
        try:
            status, location, _page = browsers[i].request("/sign-in/code", {"csrf_token": tokens[i], "code": code})
            results[i] = (status, location)
        except Exception as error:  # report it as the thread's result, not a hang
            results[i] = (0, repr(error))

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(BROWSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert not any(t.is_alive() for t in threads), "a request hung"

    signed_in = [r for r in results if r is not None and r[0] == 302 and r[1].endswith("/")]
    assert len(signed_in) == 1, results
    assert sorted(r[0] for r in results if r is not None) == [302] + [401] * (BROWSERS - 1), results
    with live.app.app_context():
        sessions = db.session.scalar(
            sa.select(sa.func.count()).select_from(AuthSession).where(AuthSession.user_id == live.user_id)
        )
        assert sessions == 1
        assert db.session.get(User, live.user_id).totp_last_step is not None
