"""Accounts, their server-side sessions and sign-in attempts."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Model, TimestampMixin, enum_column
from hub.permissions import MANAGERS, Role


class User(TimestampMixin, Model):
    """A person who signs in: host-organisation staff or partner-agency staff.

    ``agency_id`` names the organisation the user works for (the host
    organisation for staff). The kernel refers to the agencies table by name
    only, and never imports the package that owns it.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    # The TOTP secret, encrypted with a key derived from SECRET_KEY.
    totp_secret_enc: Mapped[str | None] = mapped_column(sa.String(255))
    totp_enabled_at: Mapped[dt.datetime | None]
    # The last time-step accepted, so a code cannot be replayed.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    must_change_password: Mapped[bool] = mapped_column(default=True)
    last_sign_in_at: Mapped[dt.datetime | None]
    disabled_at: Mapped[dt.datetime | None]

    # Flask-Login protocol -------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    # Actor protocol -------------------------------------------------------
    @property
    def actor_kind(self) -> str:
        return "user"

    @property
    def actor_id(self) -> int:
        return self.id

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGERS

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class AuthSession(Model):
    """One signed-in browser. The cookie holds a token; we store its hash."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(sa.String(32))
    ip: Mapped[str | None] = mapped_column(sa.String(45))


class LoginAttempt(Model):
    """A failed sign-in step or client authentication, kept for throttling.

    ``account_key`` is a keyed hash of the email (or of the partner system's client id).
    """

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(sa.String(32))
    ip: Mapped[str] = mapped_column(sa.String(45))
    at: Mapped[dt.datetime]

    __table_args__ = (
        sa.Index("ix_login_attempts_account_ip", "account_key", "ip", "at"),
        sa.Index("ix_login_attempts_ip", "ip", "at"),
    )
