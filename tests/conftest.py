"""Test fixtures: a real PostgreSQL database built by the migrations, one
savepoint rollback per test, and helpers to act as each kind of user.

Set HUB_TEST_DATABASE_URL to point at another server; each xdist worker
gets its own database (``<name>_<worker>``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import flask_migrate
import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy.orm import scoped_session, sessionmaker

from hub.app import create_app
from hub.config import Settings
from hub.db import db

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hub_test"
TEST_SECRET = "test-secret-key-not-for-production-use-0123456789"


def _worker_url(worker_id: str) -> str:
    """One database per test process, so parallel runs never share one."""
    base = os.environ.get("HUB_TEST_DATABASE_URL", DEFAULT_URL)
    return f"{base}_{os.getpid()}"


def own_database_url(name: str) -> str:
    """The address of a database of a test's own (for a live server with real commits),
    on the same server as the rolled-back ones: ``hub_test_<name>``."""
    base = os.environ.get("HUB_TEST_DATABASE_URL", DEFAULT_URL)
    match = re.match(r"^(postgres(?:ql)?://[^/]+)/\w+$", base)
    assert match, f"unsupported test database URL {base}"
    return f"{match.group(1)}/hub_test_{name}"


def _drop_database(url: str) -> None:
    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _recreate_database(url: str) -> None:
    match = re.match(r"^(postgres(?:ql)?://[^/]+)/(\w+)$", url)
    assert match, f"unsupported test database URL {url}"
    server, name = match.groups()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own application context,
    as in production (so ``g``, the signed-in user and the database session
    do not leak from the test, or from one request into the next)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # What the test set up is committed first, as it would be in real life
        # (into the test's outer transaction, which is still rolled back).
        if has_app_context():
            db.session.commit()
        token = _cv_app.set(None)  # type: ignore[arg-type]
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


def make_settings(**overrides: Any) -> Settings:
    base = Settings(
        testing=True,
        secret_key=TEST_SECRET,
        secret_key_is_dev=False,
        secure_cookies=False,
        require_2fa=True,
        # Every test's requests come from one address (127.0.0.1) in one process: the API rate
        # limits are exercised by tests/hub/test_rate_limits.py, not by the whole suite.
        ratelimit_api="100000 per minute",
        ratelimit_token="100000 per minute",
    )
    return base.with_(**overrides)


@pytest.fixture(scope="session")
def database_url(worker_id: str) -> Iterator[str]:
    url = _worker_url(worker_id)
    _recreate_database(url)
    yield url
    _drop_database(url)


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(make_settings(database_url=database_url))
    app.test_client_class = IsolatedClient
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run each test inside a transaction that is rolled back afterwards.

    Requests made by the test client share the connection; their commits
    release savepoints, so they never reach the database for real.
    """
    if request.node.get_closest_marker("browser") or request.node.get_closest_marker("own_database"):
        yield  # these run against a database (and server) of their own
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def settings(app: Flask) -> Settings:
    return app.extensions["hub_settings"]  # type: ignore[no-any-return]


def count_queries(app: Flask) -> Any:
    """A context manager counting SQL statements sent while it is open."""
    import contextlib

    @contextlib.contextmanager
    def counter() -> Iterator[list[str]]:
        statements: list[str] = []

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                statements.append(statement)

        engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return counter()


pytest_plugins = ["tests.helpers"]
