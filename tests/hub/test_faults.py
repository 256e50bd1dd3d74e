"""While the database cannot be reached the hub answers 503 with Retry-After (a problem document
for systems, a plain page for people), never a 500; it needs no restart once the database is back.
(``bench/`` restarts a real PostgreSQL under load; this is the unit-sized version.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from hub.app import create_app
from hub.db import db
from tests.conftest import make_settings

pytestmark = pytest.mark.own_database


@pytest.fixture
def unreachable() -> Iterator[Flask]:
    # Port 1 on the loopback: nothing listens there, so every connection is refused at once.
    app = create_app(make_settings(database_url="postgresql://postgres@127.0.0.1:1/nowhere"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/referrals", {"Authorization": "Bearer some-token"}),
        ("/api/v1/agencies", {"Authorization": "Bearer some-token"}),
    ],
)
def test_the_api_answers_503_with_retry_after_while_the_database_is_down(unreachable: Flask, path, headers) -> None:
    response = unreachable.test_client().get(path, headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 503 and "database" in response.json["detail"]


def test_a_signed_in_page_answers_503_while_the_database_is_down(unreachable: Flask) -> None:
    client = unreachable.test_client()
    with client.session_transaction() as session:
        session["sid"] = "a-session-token"
    response = client.get("/directory")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "try again" in response.get_data(as_text=True)


def test_the_token_endpoint_answers_503_too(unreachable: Flask) -> None:
    response = unreachable.test_client().post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("client", "secret")
    )
    assert response.status_code == 503
