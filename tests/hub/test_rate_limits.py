"""Rate limits for partner systems (hub.web.ratelimit, Flask-Limiter).

- Each partner system has one budget for all its API calls: over it, 429 as a problem document
  with ``Retry-After``; other systems, and requests from the same address with another client's
  token, are unaffected.
- ``/oauth/token`` is limited per address; another address is unaffected.
- A request without a usable token counts against its address, never against a client's budget.
- People's pages are not limited here (sign-in keeps its own throttle).
- The limits are settings, checked at start-up.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from agencies.models import AgencyKind
from hub.app import create_app
from hub.config import Settings
from tests.conftest import IsolatedClient, make_settings
from tests.helpers import bearer, make_agency, make_client

PROBLEM_CT = "application/problem+json"


@pytest.fixture
def limited(database_url: str) -> Flask:
    """A hub whose limits are tiny: 3 API calls per client and 2 token requests per address a minute."""
    app = create_app(make_settings(database_url=database_url, ratelimit_api="3 per minute", ratelimit_token="2/minute"))
    app.test_client_class = IsolatedClient
    return app


def _token(http: FlaskClient, scope: str = "directory:read referrals:read", ip: str = "10.0.0.1") -> dict[str, str]:
    oauth_client, secret = make_client(make_agency(AgencyKind.PROBATION), scope)
    response = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(oauth_client.client_id, secret),
        environ_base={"REMOTE_ADDR": ip},
    )
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def _get(http: FlaskClient, path: str, headers: dict[str, str], ip: str = "10.0.0.1") -> Any:
    return http.get(path, headers=headers, environ_base={"REMOTE_ADDR": ip})


def _assert_too_many(response: Any) -> dict[str, Any]:
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_CT
    problem: dict[str, Any] = response.json
    assert problem["status"] == 429 and problem["title"] == "Too many requests" and problem["type"]
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 120
    return problem


def test_a_client_over_its_budget_gets_429_and_others_are_unaffected(limited: Flask) -> None:
    http = limited.test_client()
    first, second = _token(http, ip="10.0.0.1"), _token(http, ip="10.0.0.2")
    for path in ("/api/v1/agencies", "/api/v1/referrals", "/api/v1/agencies"):  # one budget for every endpoint
        assert _get(http, path, first).status_code == 200
    problem = _assert_too_many(_get(http, "/api/v1/referrals", first))
    assert "partner system" in problem["detail"] and "3 per minute" in problem["detail"]
    # Another system, even from the same address, has its own budget.
    assert _get(http, "/api/v1/agencies", second, ip="10.0.0.1").status_code == 200
    # The refusal does nothing else: still refused, with nothing done.
    _assert_too_many(_get(http, "/api/v1/agencies", first, ip="10.0.0.9"))


def test_answers_under_the_limit_carry_no_retry_after(limited: Flask) -> None:
    http = limited.test_client()
    response = _get(http, "/api/v1/agencies", _token(http))
    assert response.status_code == 200 and "Retry-After" not in response.headers


def test_the_token_endpoint_is_limited_per_address(limited: Flask) -> None:
    http = limited.test_client()
    _token(http, ip="10.0.1.1")
    _token(http, ip="10.0.1.1")
    oauth_client, secret = make_client(make_agency(), "directory:read")
    refused = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(oauth_client.client_id, secret),
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )
    problem = _assert_too_many(refused)
    assert "token requests from this address" in problem["detail"]
    _token(http, ip="10.0.1.2")  # another address is unaffected


def test_requests_without_a_usable_token_count_against_their_address(limited: Flask) -> None:
    http = limited.test_client()
    good = _token(http, ip="10.0.2.1")
    bad = {"Authorization": "Bearer not-a-token"}
    for _ in range(3):
        assert _get(http, "/api/v1/agencies", bad, ip="10.0.2.1").status_code == 401
    _assert_too_many(_get(http, "/api/v1/agencies", bad, ip="10.0.2.1"))
    _assert_too_many(_get(http, "/api/v1/agencies", {}, ip="10.0.2.1"))
    # A real client at that address still has its own budget.
    assert _get(http, "/api/v1/agencies", good, ip="10.0.2.1").status_code == 200


def test_pages_for_people_are_not_limited_here(limited: Flask) -> None:
    http = limited.test_client()
    for _ in range(6):
        assert http.get("/sign-in", environ_base={"REMOTE_ADDR": "10.0.3.1"}).status_code == 200
        assert http.get("/api/openapi.json", environ_base={"REMOTE_ADDR": "10.0.3.1"}).status_code == 200


def test_the_default_limits_leave_normal_use_alone(database_url: str) -> None:
    defaults = Settings()
    assert (defaults.ratelimit_api, defaults.ratelimit_token) == ("300 per minute", "30 per minute")
    app = create_app(
        make_settings(
            database_url=database_url, ratelimit_api=defaults.ratelimit_api, ratelimit_token=defaults.ratelimit_token
        )
    )
    app.test_client_class = IsolatedClient
    http = app.test_client()
    oauth_client, secret = make_client(make_agency(), "directory:read")
    headers = bearer(http, oauth_client, secret)
    for _ in range(20):
        assert http.get("/api/v1/agencies", headers=headers).status_code == 200


def test_limits_are_settings_checked_at_start_up() -> None:
    defaults = Settings.from_env({"HUB_DEMO": "true"})
    assert (defaults.ratelimit_api, defaults.ratelimit_token, defaults.ratelimit_storage_uri) == (
        "300 per minute",
        "30 per minute",
        "memory://",
    )
    custom = Settings.from_env(
        {
            "HUB_DEMO": "true",
            "HUB_RATELIMIT_API": "100/minute; 2000/hour",
            "HUB_RATELIMIT_TOKEN": "5 per minute",
            "HUB_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/3",
        }
    )
    assert custom.ratelimit_api == "100/minute; 2000/hour" and custom.ratelimit_storage_uri.startswith("redis://")
    for name in ("HUB_RATELIMIT_API", "HUB_RATELIMIT_TOKEN"):
        with pytest.raises(ValueError, match=name):
            Settings.from_env({"HUB_DEMO": "true", name: "lots"})
