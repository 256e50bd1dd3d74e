"""Registered partner systems and the access tokens issued to them."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Model, utcnow


def secret_hash(value: str) -> str:
    # Secrets and tokens are 256-bit random strings, so a fast hash is enough
    # (no dictionary to guess from); they are never stored in clear.
    return hashlib.sha256(value.encode()).hexdigest()


class OAuthClient(Model):
    """A partner system. It acts for one agency, within its scopes."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(120))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    # Whether the agency is the host organisation, fixed when registered.
    acts_for_host: Mapped[bool] = mapped_column(default=False)
    scope: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[dt.datetime | None]

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    # Authlib ClientMixin ------------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = set(self.scope.split())
        if not scope:
            return " ".join(sorted(allowed))
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return self.is_active and hmac.compare_digest(self.secret_hash, secret_hash(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class OAuthToken(Model):
    """An access token. Only its SHA-256 is kept; revocation marks, never deletes."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(sa.ForeignKey("oauth_clients.id"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(255))
    issued_at: Mapped[dt.datetime]
    expires_in: Mapped[int]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]

    client: Mapped[OAuthClient] = relationship(lazy="joined")

    # Authlib TokenMixin ------------------------------------------------------
    def check_client(self, client: OAuthClient) -> bool:
        return self.client_pk == client.id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return utcnow() >= self.issued_at + dt.timedelta(seconds=self.expires_in)

    def is_revoked(self) -> bool:
        return self.revoked_at is not None or not self.client.is_active

    def get_user(self) -> None:
        return None

    def get_client(self) -> OAuthClient:
        return self.client
