"""OAuth 2.0 client credentials for partner systems: tokens, scopes,
revocation, and problem documents for every refusal."""

from __future__ import annotations

import sqlalchemy as sa

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
