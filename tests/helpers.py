"""Factories and helpers shared by the tests.

``make_*`` build rows straight into the test's transaction; ``sign_in``
gives a test client a live server-side session for a user without going
through the password and code screens (tests/hub/test_sign_in.py covers those).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from agencies.models import Agency, AgencyKind, Contact, ContactStatus
from hub.auth import passwords
from hub.auth import services as auth_services
from hub.auth.models import User
from hub.db import db
from hub.oauth.models import OAuthClient, secret_hash
from hub.permissions import Role

PASSWORD = "correct horse battery staple"
_HASH = passwords.hash_password(PASSWORD)
_seq = itertools.count(1)


def make_agency(kind: AgencyKind = AgencyKind.HOUSING, **kw: Any) -> Agency:
    n = next(_seq)
    agency = Agency(slug=kw.pop("slug", f"agency-{n}"), name=kw.pop("name", f"Agency {n}"), kind=kind, **kw)
    db.session.add(agency)
    db.session.flush()
    return agency


def host_agency() -> Agency:
    host = db.session.query(Agency).filter_by(kind=AgencyKind.HOST).one_or_none()
    return host or make_agency(AgencyKind.HOST, slug="host", name="Test Women's Centre")


def make_contact(agency: Agency, **kw: Any) -> Contact:
    n = next(_seq)
    contact = Contact(
        agency_id=agency.id,
        name=kw.pop("name", f"Contact {n}"),
        role=kw.pop("role", "Officer"),
        email=kw.pop("email", f"contact{n}@example.org"),
        status=kw.pop("status", ContactStatus.ACTIVE),
        **kw,
    )
    db.session.add(contact)
    db.session.flush()
    return contact


def make_user(role: Role = Role.PRACTITIONER, agency: Agency | None = None, linked: bool = True, **kw: Any) -> User:
    """A user; a partner account belongs to a contact of its agency, as every real one does
    (``linked=False`` makes one of the unlinked accounts an old hub may still have)."""
    n = next(_seq)
    if agency is None:
        agency = host_agency() if role.is_staff else make_agency()
    user = User(
        email=kw.pop("email", f"user{n}@example.org"),
        name=kw.pop("name", f"User {n}"),
        agency_id=agency.id,
        role=role,
        password_hash=_HASH,
        must_change_password=kw.pop("must_change_password", False),
        **kw,
    )
    db.session.add(user)
    db.session.flush()
    if linked and not role.is_staff:
        make_contact(agency, name=user.name, email=user.email, user_id=user.id)
    return user


def sign_in(client: FlaskClient, user: User) -> FlaskClient:
    token = auth_services.start_session(user, "127.0.0.1")
    db.session.commit()
    with client.session_transaction() as session:
        session["sid"] = token
    return client


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    """The CSRF token from a page the client can see."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: FlaskClient, path: str, data: dict[str, Any], token_from: str | None = None) -> Any:
    token = csrf_token(client, token_from or path)
    return client.post(path, data={"csrf_token": token, **data})


def make_client(agency: Agency, scope: str) -> tuple[OAuthClient, str]:
    n = next(_seq)
    secret = f"secret-{n}-abcdefghijklmnop"
    client = OAuthClient(
        client_id=f"client-{n}",
        secret_hash=secret_hash(secret),
        name=f"System {n}",
        agency_id=agency.id,
        acts_for_host=agency.is_host,
        scope=scope,
    )
    db.session.add(client)
    db.session.flush()
    return client, secret


def bearer(http: FlaskClient, oauth_client: OAuthClient, secret: str, scope: str | None = None) -> dict[str, str]:
    """Get a token through the real token endpoint; return the auth header."""
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    response = http.post("/oauth/token", data=data, auth=(oauth_client.client_id, secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def run_command(app: Any, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run a command as an operator would: against what is already committed."""
    from hub.audit import current_origin, set_origin

    db.session.commit()
    origin = current_origin()
    try:
        return app.test_cli_runner().invoke(args=list(args), env=env)
    finally:
        set_origin(origin)  # commands mark what follows as coming from the command line


def days_ago(n: int) -> dt.date:
    return dt.date.today() - dt.timedelta(days=n)


@pytest.fixture
def host(app: Any) -> Agency:
    return host_agency()


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free local port from a thread (tests that need real HTTP and real commits):
    yields its base URL, and stops the server afterwards."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="hub-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def label_problems(html: str) -> list[str]:
    """What is wrong with a page's form fields: ids used twice, ids that are not plain names (an escaped quote
    in one means a template mangled the markup), and labels that name no field."""
    ids = re.findall(r'\sid=("?)([^\s">]+)\1', html)
    names = [value for _quote, value in ids]
    problems = [f"id {value!r} is used {names.count(value)} times" for value in sorted(set(names))
                if names.count(value) > 1]  # fmt: skip
    problems += [f"id {value!r} is not a plain name" for quote, value in ids if not quote or "&" in value]
    problems += [f"a label is for {target!r}, which is no field" for target in re.findall(r'\sfor="([^"]+)"', html)
                 if target not in names]  # fmt: skip
    return problems
