"""OAuth 2.0 client credentials for partner systems: tokens, scopes,
revocation, and problem documents for every refusal."""

from __future__ import annotations

import time

import sqlalchemy as sa
import time_machine

from agencies.models import AgencyKind
from hub.audit import AuditEvent
from hub.db import db
from hub.oauth.models import OAuthClient, OAuthToken
from tests.helpers import bearer, make_agency, make_client


def _token(http, client, secret, **data):
    return http.post("/oauth/token", data={"grant_type": "client_credentials", **data}, auth=(client.client_id, secret))


def test_token_response_has_the_contract_fields(client):
    oauth_client, secret = make_client(make_agency(AgencyKind.PROBATION), "directory:read directory:write")
    response = _token(client, oauth_client, secret)
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert set(body["scope"].split()) == {"directory:read", "directory:write"}
    assert response.headers["Cache-Control"] == "no-store"
    # Only a hash of the token is stored.
    stored = db.session.scalars(sa.select(OAuthToken)).one()
    assert body["access_token"] not in stored.token_hash


def test_requested_scope_is_narrowed_to_what_the_client_has(client):
    oauth_client, secret = make_client(make_agency(), "directory:read")
    response = _token(client, oauth_client, secret, scope="directory:read referrals:write")
    assert response.status_code == 200
    assert response.json["scope"] == "directory:read"


def test_wrong_secret_is_a_401_problem_and_is_audited(client):
    oauth_client, _secret = make_client(make_agency(), "directory:read")
    response = _token(client, oauth_client, "not-the-secret")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 401 and response.json["error"] == "invalid_client"
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "oauth.client_auth_failed")) == 1


def test_other_grant_types_are_refused(client):
    oauth_client, secret = make_client(make_agency(), "directory:read")
    response = client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "x", "password": "y"},
        auth=(oauth_client.client_id, secret),
    )
    assert response.status_code == 400
    assert response.json["error"] == "unsupported_grant_type"


def test_api_without_token_is_401_problem(client):
    response = client.get("/api/v1/agencies")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert {"type", "title", "status", "detail"} <= set(response.json)


def test_api_with_garbage_token_is_401(client):
    response = client.get("/api/v1/agencies", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401


def test_missing_scope_is_403(client):
    oauth_client, secret = make_client(make_agency(), "referrals:read")
    headers = bearer(client, oauth_client, secret)
    response = client.get("/api/v1/agencies", headers=headers)
    assert response.status_code == 403
    assert response.json["error"] == "insufficient_scope"


def test_revoked_token_stops_working_at_once(client):
    oauth_client, secret = make_client(make_agency(), "directory:read")
    headers = bearer(client, oauth_client, secret)
    assert client.get("/api/v1/agencies", headers=headers).status_code == 200
    token = headers["Authorization"].split()[1]
    response = client.post("/oauth/revoke", data={"token": token}, auth=(oauth_client.client_id, secret))
    assert response.status_code == 200
    assert client.get("/api/v1/agencies", headers=headers).status_code == 401


def test_a_client_cannot_revoke_another_clients_token(client):
    agency = make_agency()
    first, first_secret = make_client(agency, "directory:read")
    second, second_secret = make_client(agency, "directory:read")
    headers = bearer(client, first, first_secret)
    token = headers["Authorization"].split()[1]
    response = client.post("/oauth/revoke", data={"token": token}, auth=(second.client_id, second_secret))
    assert response.status_code == 400
    assert client.get("/api/v1/agencies", headers=headers).status_code == 200


def test_disabled_client_tokens_stop_working_at_once(app, client):
    oauth_client, secret = make_client(make_agency(), "directory:read")
    headers = bearer(client, oauth_client, secret)
    result = app.test_cli_runner().invoke(args=["hub", "disable-client", "--client-id", oauth_client.client_id])
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/agencies", headers=headers).status_code == 401
    assert _token(client, oauth_client, secret).status_code == 401
    assert db.session.get(OAuthClient, oauth_client.id).disabled_at is not None


def test_expired_token_is_refused(client):
    import time

    import time_machine

    oauth_client, secret = make_client(make_agency(), "directory:read")
    headers = bearer(client, oauth_client, secret)
    with time_machine.travel(time.time() + 901, tick=False):
        assert client.get("/api/v1/agencies", headers=headers).status_code == 401


def test_openapi_document_and_docs_are_served(client):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    paths = spec.json["paths"]
    for path in (
        "/api/v1/agencies",
        "/api/v1/agencies/{agency_id}",
        "/api/v1/agencies/{agency_id}/contacts",
        "/api/v1/contacts/{contact_id}/leave",
    ):
        assert path in paths
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "/api/v1/agencies" in docs.get_data(as_text=True)


# Throttling failed client authentication (security review M3) ---------------------------------


def _token_from(http, client_id, secret, ip):
    return http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        environ_base={"REMOTE_ADDR": ip},
    )


def _audit_rows(action: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == action)) or 0


def test_wrong_secrets_are_throttled_and_audited_a_bounded_number_of_times(client, settings):
    """M3: 300 wrong secrets from one address: a few audited 401s, then 429s; the right secret elsewhere works."""
    system, secret = make_client(make_agency(), "directory:read")
    statuses = [_token_from(client, system.client_id, "wrong-secret", "203.0.113.5").status_code for _ in range(300)]
    assert statuses[: settings.login_max_failures] == [401] * settings.login_max_failures
    assert set(statuses[settings.login_max_failures :]) == {429}
    assert _audit_rows("oauth.client_auth_failed") <= settings.login_max_failures
    # Now even the right secret from that address waits, with a problem document and Retry-After ...
    throttled = _token_from(client, system.client_id, secret, "203.0.113.5")
    assert throttled.status_code == 429
    assert throttled.mimetype == "application/problem+json"
    assert throttled.json["status"] == 429 and throttled.json["title"] and throttled.json["detail"]
    assert 0 < int(throttled.headers["Retry-After"]) <= settings.login_window_minutes * 60 + 1
    assert _audit_rows("oauth.client_auth_failed") <= settings.login_max_failures
    # ... but the partner system at its own address gets a token.
    assert _token_from(client, system.client_id, secret, "198.51.100.20").status_code == 200


def test_guessing_many_client_ids_from_one_address_is_throttled_too(client, settings):
    """M3: rotating client ids does not get round the limit: the address has its own."""
    statuses = [_token_from(client, f"guess-{i}", "wrong-secret", "203.0.113.6").status_code for i in range(120)]
    limit = settings.login_ip_max_failures
    assert statuses[:limit] == [401] * limit
    assert set(statuses[limit:]) == {429}
    assert _audit_rows("oauth.client_auth_failed") == limit


def test_the_token_throttle_lifts_when_the_window_passes(client, settings):
    """M3: the block is temporary."""
    system, secret = make_client(make_agency(), "directory:read")
    for _ in range(settings.login_max_failures):
        _token_from(client, system.client_id, "wrong-secret", "203.0.113.7")
    assert _token_from(client, system.client_id, secret, "203.0.113.7").status_code == 429
    with time_machine.travel(time.time() + settings.login_window_minutes * 60 + 5, tick=False):
        assert _token_from(client, system.client_id, secret, "203.0.113.7").status_code == 200
