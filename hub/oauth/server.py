"""The Authlib authorisation server and resource protector, wired to our models.

Only the client-credentials grant is registered; clients authenticate with
HTTP Basic. Issued tokens, revocations and failed client authentications are
audited.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from flask import Flask, g, request

from hub import audit
from hub.db import db, utcnow
from hub.oauth.models import OAuthClient, OAuthToken, secret_hash
from hub.permissions import ALL_SCOPES, ClientActor


class OAuthProblem(Exception):
    """A bearer-token failure, rendered as a problem document by the web layer."""

    def __init__(self, status: int, error: str, description: str, headers: list[tuple[str, str]]):
        super().__init__(description)
        self.status, self.error, self.description, self.headers = status, error, description, headers


class _Protector(ResourceProtector):
    def raise_error_response(self, error: Any) -> None:
        raise OAuthProblem(
            error.status_code, error.error, error.get_error_description() or "", list(error.get_headers())
        )


authorization = AuthorizationServer()
require_oauth = _Protector()


def _query_client(client_id: str) -> OAuthClient | None:
    client = db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == client_id))
    return client if client is not None and client.is_active else None


def _save_token(token: dict[str, Any], request: Any) -> None:
    client: OAuthClient = request.client
    row = OAuthToken(
        token_hash=secret_hash(token["access_token"]),
        client_pk=client.id,
        scope=token.get("scope", ""),
        issued_at=utcnow(),
        expires_in=int(token["expires_in"]),
    )
    db.session.add(row)
    db.session.flush()
    audit.record(client_actor(client), "oauth.token_issued", object_type="oauth_client", object_id=client.id)


def token_by_value(token_string: str) -> OAuthToken | None:
    return db.session.scalar(sa.select(OAuthToken).where(OAuthToken.token_hash == secret_hash(token_string)))


class _Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> OAuthToken | None:
        return token_by_value(token_string)

    def revoke_token(self, token: OAuthToken, request: Any) -> None:
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            audit.record(
                client_actor(token.client), "oauth.token_revoked", object_type="oauth_client", object_id=token.client_pk
            )


def _memo_token(token_string: str) -> OAuthToken | None:
    """The token row for this string, read once per request (the rate limiter asks for it
    before the view's guard does)."""
    seen = g.get("_hub_bearer")
    if seen is not None and seen[0] == token_string:
        token: OAuthToken | None = seen[1]
        return token
    token = token_by_value(token_string)
    g._hub_bearer = (token_string, token)
    return token


def request_token() -> OAuthToken | None:
    """The row of the request's bearer token, if it sends one that exists (usable or not)."""
    kind, _, token_string = (request.headers.get("Authorization") or "").partition(" ")
    if kind.lower() != "bearer" or not token_string.strip():
        return None
    return _memo_token(token_string.strip())


class _Bearer(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> OAuthToken | None:
        return _memo_token(token_string)


def client_actor(client: OAuthClient, scope: str | None = None) -> ClientActor:
    scopes = frozenset((scope if scope is not None else client.scope).split())
    return ClientActor(client.id, client.agency_id, client.acts_for_host, scopes)


def new_client_credentials() -> tuple[str, str]:
    return "hub_" + secrets.token_urlsafe(16), secrets.token_urlsafe(32)


def init_app(app: Flask, token_lifetime: int) -> None:
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"client_credentials": token_lifetime}
    app.config["OAUTH2_SCOPES_SUPPORTED"] = sorted(ALL_SCOPES)
    authorization.init_app(app, query_client=_query_client, save_token=_save_token)
    authorization.register_grant(grants.ClientCredentialsGrant)
    authorization.register_endpoint(_Revocation)
    require_oauth.register_token_validator(_Bearer())
