"""Sign-in, sessions, two-factor enrolment and account changes.

Invariants:
- An unknown email and a wrong password look the same, take as long, and are
  throttled the same way.
- Throttling counts failures per (account, IP address) and per IP address,
  in a sliding window. Failures from elsewhere never lock a person out of
  their own address, and every block lifts when the window passes. Partner
  systems asking for a token are throttled the same way, per (client id,
  address) and per address.
- A session exists only as an ``auth_sessions`` row; ending the row ends the
  session, whatever the browser still holds. A password change ends every
  other session of the account at once.
- A code from an authenticator app signs in once only, even when the same
  code is sent from several browsers at the same moment: the time-step is
  taken by one conditional UPDATE, which only one of them can win.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from hub import audit, registry
from hub.auth import passwords, totp
from hub.auth.models import AuthSession, LoginAttempt, User
from hub.db import db, utcnow
from hub.notifications.services import withhold_pending
from hub.permissions import MANAGERS, Actor, Invalid, Role
from hub.settings_access import settings


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def account_key(email: str) -> str:
    return audit.pseudonym(normalise_email(email), settings().secret_key)


def client_key(client_id: str) -> str:
    """The throttling key of a partner system's client id (never equal to an account's)."""
    return audit.pseudonym("oauth-client:" + client_id, settings().secret_key)


# Throttling -----------------------------------------------------------------
# One mechanism for people signing in and partner systems asking for tokens:
# failures are rows in ``login_attempts`` keyed by a keyed hash (an account
# or a client id) and the address, counted in a sliding window per (key,
# address) and per address. The per-address count covers both, so rotating
# emails or client ids does not get round it.


def failure_wait(key: str, ip: str) -> int:
    """Seconds until this (key, address) may try again; 0 if it may now."""
    cfg = settings()
    window = dt.timedelta(minutes=cfg.login_window_minutes)
    since = utcnow() - window
    pair = sa.select(LoginAttempt.at).where(
        LoginAttempt.account_key == key, LoginAttempt.ip == ip, LoginAttempt.at > since
    )
    by_ip = sa.select(LoginAttempt.at).where(LoginAttempt.ip == ip, LoginAttempt.at > since)
    waits = []
    for query, limit in ((pair, cfg.login_max_failures), (by_ip, cfg.login_ip_max_failures)):
        recent = db.session.scalars(query.order_by(LoginAttempt.at.desc()).limit(limit)).all()
        if len(recent) >= limit:
            # Blocked until the oldest counted failure leaves the window.
            waits.append(int((recent[-1] + window - utcnow()).total_seconds()) + 1)
    return max(waits, default=0)


def count_failure(key: str, ip: str) -> None:
    """Count one failure against (key, address); only call it when :func:`failure_wait` allowed the try."""
    db.session.add(LoginAttempt(account_key=key, ip=ip, at=utcnow()))


def clear_counted_failures(key: str, ip: str) -> None:
    db.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.account_key == key, LoginAttempt.ip == ip))


def retry_after(email: str, ip: str) -> int:
    """Seconds until this (account, address) may try to sign in again; 0 if it may now."""
    return failure_wait(account_key(email), ip)


def note_failure(email: str, ip: str, step: str) -> None:
    key = account_key(email)
    count_failure(key, ip)
    audit.record(None, "auth.sign_in_failed", step=step, account=key)


def clear_failures(email: str, ip: str) -> None:
    clear_counted_failures(account_key(email), ip)


# Passwords and second factor ------------------------------------------------


ACCOUNT_STANDING = "account_standing"


def standing() -> sa.ColumnElement[bool]:
    """Every package's rule about accounts, as one SQL condition on ``users`` (the directory: a
    partner account belongs to a contact who is still there). Rules are callables
    ``() -> ColumnElement[bool]`` in the ``account_standing`` registry, so a session or sign-in
    reads the account and its standing in one query."""
    return sa.and_(sa.true(), *(rule() for rule in registry.providers(ACCOUNT_STANDING)))


def may_act(user: User, in_standing: bool | None = None) -> bool:
    """Whether this account may sign in and act: it is open, and every rule about accounts agrees.
    ``in_standing`` is the rules' answer when the caller already read it with the account."""
    if not user.is_active:
        return False
    if in_standing is None:
        in_standing = bool(db.session.scalar(sa.select(standing()).where(User.id == user.id)))
    return in_standing


def check_password(email: str, password: str) -> User | None:
    """The enabled user with this email and password, or None (same cost either way)."""
    found = db.session.execute(sa.select(User, standing()).where(User.email == normalise_email(email))).first()
    if found is None or not may_act(found[0], found[1]):
        passwords.verify_password(passwords.DUMMY_HASH, password)
        return None
    user: User = found[0]
    if not passwords.verify_password(user.password_hash, password):
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def needs_second_factor(user: User) -> bool:
    return user.totp_enabled_at is not None or settings().require_2fa


def verify_second_factor(user: User, code: str, secret: str | None = None) -> bool:
    """Check a code against the user's secret (or a secret being enrolled); no replays."""
    if secret is None:
        if user.totp_secret_enc is None:
            return False
        secret = totp.decrypt(user.totp_secret_enc, settings().secret_key)
        if secret is None:
            return False
    step = totp.matching_step(secret, code)
    if step is None:
        return False
    # Check and take the step in one statement: a parallel request with the
    # same code waits for this row and then finds the step already taken.
    taken = db.session.execute(
        sa.update(User)
        .where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(taken, "rowcount", 0) or 0) != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def enrol_second_factor(user: User, secret: str, code: str) -> bool:
    if not verify_second_factor(user, code, secret=secret):
        return False
    user.totp_secret_enc = totp.encrypt(secret, settings().secret_key)
    user.totp_enabled_at = utcnow()
    audit.record(user, "auth.two_factor_enrolled", user)
    return True


def change_password(user: User, current: str, new: str, keep_session: str | None = None) -> None:
    """Change the password and end every other session of the account (not ``keep_session``, the caller's own)."""
    errors: dict[str, list[str]] = {}
    if not user.must_change_password and not passwords.verify_password(user.password_hash, current):
        errors["current_password"] = ["Current password is incorrect"]
    problems = passwords.password_problems(new, user.email)
    if problems:
        errors["new_password"] = problems
    if errors:
        raise Invalid("Your password was not changed.", errors=errors)
    user.password_hash = passwords.hash_password(new)
    user.must_change_password = False
    ended = end_all_sessions(user, "password_changed", keep=keep_session)
    audit.record(user, "auth.password_changed", user, sessions_ended=ended)


# Sessions ---------------------------------------------------------------


@dataclass(frozen=True)
class SessionCheck:
    user: User | None
    reason: str | None = None
    changed: bool = False  # the session row was written: the caller commits


def start_session(user: User, ip: str | None) -> str:
    """Open a new server-side session and return its token (for the cookie only)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(AuthSession(token_hash=_token_hash(token), user_id=user.id, created_at=now, last_seen_at=now, ip=ip))
    user.last_sign_in_at = now
    audit.record(user, "auth.signed_in", user)
    return token


SEEN_EVERY = dt.timedelta(minutes=1)  # a session's last-seen time is written at most this often


def load_session(token: str) -> SessionCheck:
    """The user behind a session token, if the session is still live: one query for the
    session, its account and the account's standing. It writes only when something changed (``SessionCheck.changed``):
    the last-seen time at most once a minute, or the session's ending."""
    found = db.session.execute(
        sa.select(AuthSession, User, standing())
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == _token_hash(token))
    ).first()
    if found is None or found[0].ended_at is not None:
        return SessionCheck(None, "ended")
    row, user, in_standing = found
    cfg, now = settings(), utcnow()
    reason = None
    if now - row.last_seen_at > dt.timedelta(minutes=cfg.session_idle_minutes):
        reason = "idle"
    elif now - row.created_at > dt.timedelta(hours=cfg.session_absolute_hours):
        reason = "expired"
    elif not may_act(user, in_standing):
        reason = "disabled"
    if reason:
        row.ended_at, row.end_reason = now, reason
        return SessionCheck(None, reason, changed=True)
    if now - row.last_seen_at > SEEN_EVERY:
        row.last_seen_at = now
        return SessionCheck(user, changed=True)
    return SessionCheck(user)


def end_session(token: str, reason: str = "signed_out") -> None:
    row = db.session.scalar(sa.select(AuthSession).where(AuthSession.token_hash == _token_hash(token)))
    if row is not None and row.ended_at is None:
        row.ended_at, row.end_reason = utcnow(), reason
        user = db.session.get(User, row.user_id)
        audit.record(user, "auth.signed_out", object_type="user", object_id=row.user_id)


def end_all_sessions(user: User, reason: str, keep: str | None = None) -> int:
    """End every live session of the account, except the one whose token is ``keep``."""
    query = sa.update(AuthSession).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
    if keep:
        query = query.where(AuthSession.token_hash != _token_hash(keep))
    result = db.session.execute(query.values(ended_at=utcnow(), end_reason=reason))
    return int(getattr(result, "rowcount", 0) or 0)


# Accounts ---------------------------------------------------------------


def create_user(
    actor: Actor, *, email: str, name: str, agency_id: int, role: Role, password: str | None = None
) -> tuple[User, str]:
    """Create an account. Returns the user and the one-time password to hand over."""
    email = normalise_email(email)
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Invalid("An account with this email already exists.", errors={"email": ["Already in use"]})
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    if not generated:
        problems = passwords.password_problems(password, email)
        if problems:
            raise Invalid("The password is not acceptable.", errors={"password": problems})
    user = User(
        email=email,
        name=name,
        agency_id=agency_id,
        role=role,
        password_hash=passwords.hash_password(password),
        must_change_password=True,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.created", user, role=role.value, agency_id=agency_id)
    return user, password


def reopen_user(actor: Actor, user: User, *, role: Role, email: str) -> str:
    """Open a closed account again, as if new: a one-time password (returned, to hand over once),
    which must be changed at the first sign-in, and a fresh two-factor enrolment."""
    email = normalise_email(email)
    taken = db.session.scalar(sa.select(User.id).where(User.email == email, User.id != user.id))
    if taken is not None:
        raise Invalid("An account with this email already exists.", errors={"email": ["Already in use"]})
    password = secrets.token_urlsafe(12)
    user.email, user.role = email, role
    user.password_hash = passwords.hash_password(password)
    user.must_change_password = True
    user.totp_secret_enc = user.totp_enabled_at = user.totp_last_step = None
    user.disabled_at = None
    db.session.flush()
    audit.record(actor, "user.reopened", user, role=role.value)
    return password


def active_managers() -> list[User]:
    """The host organisation's managers and administrators whose accounts are open."""
    return list(db.session.scalars(sa.select(User).where(User.role.in_(list(MANAGERS)), User.disabled_at.is_(None))))


def disable_user(actor: Actor, user: User, reason: str = "disabled") -> None:
    """Disable an account, at once: every session it has ends, and no email still
    waiting to be sent to it goes out (it reaches nobody once the account is closed)."""
    if user.disabled_at is None:
        user.disabled_at = utcnow()
    ended = end_all_sessions(user, reason)
    withheld = withhold_pending(user_id=user.id)
    audit.record(actor, "user.disabled", user, sessions_ended=ended, emails_withheld=withheld)
