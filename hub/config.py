"""Settings for one hub instance, read from the environment at start-up.

Nothing reads the environment at import time: ``create_app`` calls
:meth:`Settings.from_env` (or takes a ``Settings`` from a test).
"""

from __future__ import annotations

import os
import secrets
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEV_SECRET_WARNING = (
    "SECRET_KEY is not set: using a throwaway development key. "  # noqa: S105 - a message, not a secret
    "Sessions will not survive a restart. Set SECRET_KEY in production."
)


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from exc


def _check_rate_limit(name: str, value: str) -> None:
    """A rate limit as Flask-Limiter reads it ("300 per minute", "10/second; 1000/hour"), or a clear error."""
    from limits import parse_many

    try:
        if parse_many(value):
            return
    except ValueError:
        pass
    raise ValueError(f'{name} must be a rate such as "300 per minute" or "10/second; 1000/hour", not {value!r}')


@dataclass(frozen=True)
class Settings:
    """Everything configurable about a hub instance. See README, "Configuration"."""

    database_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    secret_key_is_dev: bool = True
    # Sign-in and sessions.
    require_2fa: bool = True
    secure_cookies: bool = True
    session_idle_minutes: int = 30
    session_absolute_hours: int = 10
    login_max_failures: int = 5
    login_window_minutes: int = 15
    login_ip_max_failures: int = 50
    # OAuth 2.0 access tokens for partner systems.
    token_lifetime_seconds: int = 900
    # API rate limits (Flask-Limiter): every call of one partner system together, and token or
    # revocation requests per address. Counted in each worker's memory unless a storage URI is set.
    ratelimit_api: str = "300 per minute"
    ratelimit_token: str = "30 per minute"  # noqa: S105 - a rate, not a secret
    ratelimit_storage_uri: str = "memory://"
    # Partnership health thresholds.
    stale_verified_days: int = 180
    stale_spoken_days: int = 90
    agreement_review_warning_days: int = 30
    # Where the hub is reachable, for links in messages and the demo banner.
    # Email (SMTP). With no host, emails are held and readable in the hub only; once a host is set,
    # the held ones queued in the last email_held_days days are sent too (older ones stay held).
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = "Partnership Hub <hub@localhost>"
    email_held_days: int = 7
    # API Idempotency-Key records are kept at least this many days (then purged nightly).
    idempotency_key_days: int = 7
    # Backups: the administrators are reminded when no restore drill has passed for this many days.
    restore_drill_days: int = 30
    # Retention: a partner stops seeing a closed (completed, declined, cancelled) referral's details this
    # many days after it closed.
    partner_view_days: int = 30
    # Retention: her personal data is erased this many years after her last contact (unless held).
    retention_years: int = 6
    # Retention: notifications (in the hub and the email outbox) are forgotten this many days after they
    # were made, once read or sent.
    notification_days: int = 180
    # Referrals: working days to acknowledge, and to decide after acknowledging.
    acknowledge_days: int = 2
    acknowledge_days_urgent: int = 1
    decide_days: int = 5
    # Consent: default validity and how early the key worker is reminded.
    consent_default_months: int = 12
    consent_reminder_days: int = 14
    # Safeguarding: working days within which an emergency share must be approved.
    emergency_approval_days: int = 2
    # Safeguarding: how far ahead a decision to share without consent may set its review (months).
    safeguarding_review_months: int = 3
    # How many reverse proxies in front of the hub to trust for client IPs.
    proxy_hops: int = 0
    base_url: str = "http://127.0.0.1:8000"
    demo: bool = False
    testing: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        secret = env.get("SECRET_KEY")
        demo = _bool(env.get("HUB_DEMO"), False)
        settings = cls(
            database_url=env.get("DATABASE_URL") or None,
            secret_key=secret or secrets.token_urlsafe(48),
            secret_key_is_dev=not secret,
            require_2fa=_bool(env.get("HUB_REQUIRE_2FA"), True),
            secure_cookies=_bool(env.get("HUB_SECURE_COOKIES"), not demo),
            session_idle_minutes=_int(env, "HUB_SESSION_IDLE_MINUTES", 30),
            session_absolute_hours=_int(env, "HUB_SESSION_ABSOLUTE_HOURS", 10),
            login_max_failures=_int(env, "HUB_LOGIN_MAX_FAILURES", 5),
            login_window_minutes=_int(env, "HUB_LOGIN_WINDOW_MINUTES", 15),
            login_ip_max_failures=_int(env, "HUB_LOGIN_IP_MAX_FAILURES", 50),
            token_lifetime_seconds=_int(env, "HUB_TOKEN_LIFETIME_SECONDS", 900),
            ratelimit_api=env.get("HUB_RATELIMIT_API") or "300 per minute",
            ratelimit_token=env.get("HUB_RATELIMIT_TOKEN") or "30 per minute",
            ratelimit_storage_uri=env.get("HUB_RATELIMIT_STORAGE_URI") or "memory://",
            stale_verified_days=_int(env, "HUB_STALE_VERIFIED_DAYS", 180),
            stale_spoken_days=_int(env, "HUB_STALE_SPOKEN_DAYS", 90),
            agreement_review_warning_days=_int(env, "HUB_AGREEMENT_REVIEW_WARNING_DAYS", 30),
            proxy_hops=_int(env, "HUB_PROXY_HOPS", 0),
            smtp_host=env.get("HUB_SMTP_HOST", ""),
            smtp_port=_int(env, "HUB_SMTP_PORT", 25),
            smtp_starttls=_bool(env.get("HUB_SMTP_STARTTLS"), False),
            smtp_username=env.get("HUB_SMTP_USERNAME", ""),
            smtp_password=env.get("HUB_SMTP_PASSWORD", ""),
            mail_from=env.get("HUB_MAIL_FROM", "Partnership Hub <hub@localhost>"),
            email_held_days=_int(env, "HUB_EMAIL_HELD_DAYS", 7),
            idempotency_key_days=_int(env, "HUB_IDEMPOTENCY_KEY_DAYS", 7),
            restore_drill_days=_int(env, "HUB_RESTORE_DRILL_DAYS", 30),
            partner_view_days=_int(env, "HUB_RETENTION_PARTNER_VIEW_DAYS", 30),
            retention_years=_int(env, "HUB_RETENTION_YEARS", 6),
            notification_days=_int(env, "HUB_NOTIFICATION_DAYS", 180),
            acknowledge_days=_int(env, "HUB_ACKNOWLEDGE_DAYS", 2),
            acknowledge_days_urgent=_int(env, "HUB_ACKNOWLEDGE_DAYS_URGENT", 1),
            decide_days=_int(env, "HUB_DECIDE_DAYS", 5),
            consent_default_months=_int(env, "HUB_CONSENT_DEFAULT_MONTHS", 12),
            consent_reminder_days=_int(env, "HUB_CONSENT_REMINDER_DAYS", 14),
            emergency_approval_days=_int(env, "HUB_EMERGENCY_APPROVAL_DAYS", 2),
            safeguarding_review_months=_int(env, "HUB_SAFEGUARDING_REVIEW_MONTHS", 3),
            base_url=env.get("HUB_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            demo=demo,
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse settings that would make the hub unsafe or unusable."""
        if not self.require_2fa and not (self.demo or self.testing):
            raise ValueError(
                "HUB_REQUIRE_2FA=false is allowed only with HUB_DEMO=true: two-factor sign-in protects women's data."
            )
        if self.session_idle_minutes < 1 or self.session_absolute_hours < 1:
            raise ValueError("session time-outs must be positive")
        if self.email_held_days < 0:
            raise ValueError("HUB_EMAIL_HELD_DAYS must be 0 (send no held email) or more")
        if self.notification_days < 1:
            raise ValueError("HUB_NOTIFICATION_DAYS must be at least 1")
        if self.retention_years < 1:
            raise ValueError("HUB_RETENTION_YEARS must be at least 1")
        if self.partner_view_days < 0:
            raise ValueError("HUB_RETENTION_PARTNER_VIEW_DAYS must not be negative")
        if self.restore_drill_days < 1:
            raise ValueError("HUB_RESTORE_DRILL_DAYS must be at least 1")
        if self.idempotency_key_days < 1:
            raise ValueError("HUB_IDEMPOTENCY_KEY_DAYS must be at least 1: partner systems retry within a day")
        for name, value in (("HUB_RATELIMIT_API", self.ratelimit_api), ("HUB_RATELIMIT_TOKEN", self.ratelimit_token)):
            _check_rate_limit(name, value)
        if self.secret_key_is_dev and not (self.demo or self.testing):
            warnings.warn(DEV_SECRET_WARNING, RuntimeWarning, stacklevel=2)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def sqlalchemy_url(self, instance_path: str) -> str:
        """The SQLAlchemy URL: DATABASE_URL, or an embedded SQLite file."""
        url = self.database_url
        if not url:
            return "sqlite:///" + str(Path(instance_path) / "hub.sqlite3")
        # Accept the usual postgres:// and postgresql:// forms; use psycopg 3.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
