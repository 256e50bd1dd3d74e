"""Queue notifications (in the caller's transaction) and deliver email.

Invariants:
- Never queued for a disabled account.
- A ``dedupe_key`` is queued at most once, however often a job runs.
- Delivery claims rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two
  delivery runs never send the same message.
- One bad message never stops the others: any error composing or sending it
  counts as a failed attempt for that message alone, and the run carries on,
  so nothing already sent is sent again by the next run.
- A subject is always one line: control characters become spaces, so a value
  stored with a line break cannot split the message's headers.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.auth.models import User
from hub.db import db, is_postgres, utcnow
from hub.notifications.models import EmailStatus, Notification
from hub.settings_access import settings
from hub.text import one_line

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def notify(
    *,
    user: User | None = None,
    email: str = "",
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    dedupe_key: str | None = None,
) -> Notification | None:
    """Queue one message. Returns None if it was not queued (duplicate, disabled account, nobody to tell)."""
    if user is not None:
        if not user.is_active:
            return None
        email = user.email
    if user is None and not email:
        return None
    if dedupe_key is not None and db.session.scalar(
        sa.select(Notification.id).where(Notification.dedupe_key == dedupe_key)
    ):
        return None
    message = _message(user.id if user is not None else None, email, kind, subject, body, link, dedupe_key)
    if dedupe_key is None:
        db.session.add(message)
        db.session.flush()
        return message
    with db.session.begin_nested():  # a concurrent duplicate key loses quietly
        db.session.add(message)
        try:
            db.session.flush()
        except sa.exc.IntegrityError:
            return None
    return message


def _message(
    user_id: int | None, email: str, kind: str, subject: str, body: str, link: str, dedupe_key: str | None
) -> Notification:
    cfg = settings()
    return Notification(
        user_id=user_id,
        email=email,
        kind=kind,
        subject=subject[:200],
        body=body,
        link=(cfg.base_url + link) if link.startswith("/") else link,
        dedupe_key=dedupe_key,
        email_status=EmailStatus.PENDING if cfg.smtp_host else EmailStatus.HELD,
    )


def notify_users(users: Sequence[User], *, kind: str, subject: str, body: str, link: str = "") -> int:
    """Queue one message to each of these people whose account is open, in one statement (no
    de-duplication: for messages about a step just taken). Returns how many were queued."""
    messages = [_message(u.id, u.email, kind, subject, body, link, None) for u in users if u.is_active]
    db.session.add_all(messages)
    db.session.flush()
    return len(messages)


@dataclass(frozen=True)
class Message:
    """One message for :func:`notify_many`: to a user (by account) or to an email address."""

    kind: str
    subject: str
    body: str
    link: str
    dedupe_key: str
    user: User | None = None
    email: str = ""


def notify_many(messages: Sequence[Message]) -> set[str]:
    """Queue many messages in one statement, each at most once (by ``dedupe_key``): for jobs that
    tell hundreds of people at a time. Returns the keys queued now (the others were already queued,
    or had nobody to tell: a closed account, no address)."""
    cfg = settings()
    status = EmailStatus.PENDING if cfg.smtp_host else EmailStatus.HELD
    now = utcnow()
    rows = [
        {
            "user_id": m.user.id if m.user is not None else None,
            "email": m.user.email if m.user is not None else m.email,
            "kind": m.kind,
            "subject": m.subject[:200],
            "body": m.body,
            "link": (cfg.base_url + m.link) if m.link.startswith("/") else m.link,
            "dedupe_key": m.dedupe_key,
            "email_status": status,
            "created_at": now,
            "attempts": 0,
        }
        for m in messages
        if (m.user.is_active if m.user is not None else bool(m.email))
    ]
    if not rows:
        return set()
    insert = sqlite_insert if db.session.get_bind().dialect.name == "sqlite" else pg_insert
    statement = (
        insert(Notification).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Notification.dedupe_key)
    )
    return set(db.session.scalars(statement, rows))


def withhold_pending(*, user_id: int | None = None, email: str = "") -> int:
    """Stop emails still waiting to go to someone who can no longer be told (a closed account,
    or the work address of a contact who has left); they stay readable in the outbox."""
    if user_id is None and not email:
        return 0
    who = Notification.user_id == user_id if user_id is not None else sa.func.lower(Notification.email) == email.lower()
    result = db.session.execute(
        sa.update(Notification)
        .where(who, Notification.email_status == EmailStatus.PENDING)
        .values(email_status=EmailStatus.FAILED, last_error="withheld: they can no longer be told")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def unread_count(user_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def _compose(message: Notification, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.email
    email["Subject"] = one_line(message.subject)
    text = message.body + (f"\n\n{message.link}\n" if message.link else "\n")
    text += "\nThis message was sent by the Partnership Hub. Sign in to see more.\n"
    email.set_content(text)
    return email


def deliver_pending(limit: int = 200) -> str:
    """Send pending emails (the delivery job). Returns a summary."""
    cfg = settings()
    if not cfg.smtp_host:
        return "no mail server configured"
    query = (
        sa.select(Notification)
        .where(Notification.email_status == EmailStatus.PENDING)
        .order_by(Notification.id)
        .limit(limit)
    )
    if is_postgres():
        query = query.with_for_update(skip_locked=True)
    batch = db.session.scalars(query).all()
    if not batch:
        return "0 sent"
    sent = failed = 0
    try:
        smtp = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=20)
    except OSError as exc:
        for message in batch:
            _failed(message, f"connect: {type(exc).__name__}")
        return f"mail server unreachable: {len(batch)} deferred"
    with smtp:
        try:
            if cfg.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if cfg.smtp_username:
                smtp.login(cfg.smtp_username, cfg.smtp_password)
        except Exception as exc:  # refused, unsupported, a bad certificate: try the whole batch again later
            log.warning("mail server refused STARTTLS or the sign-in: %s", type(exc).__name__)
            for message in batch:
                _failed(message, f"starttls or login: {type(exc).__name__}")
            return f"mail server refused the secure connection or the sign-in: {len(batch)} deferred"
        for index, message in enumerate(batch):
            try:
                smtp.send_message(_compose(message, cfg.mail_from))
            except smtplib.SMTPServerDisconnected as exc:
                # The connection is gone: this message and the rest wait for the next run.
                for waiting in batch[index:]:
                    _failed(waiting, type(exc).__name__)
                failed += len(batch) - index
                break
            except Exception as exc:  # whatever is wrong with one message stops only that message
                log.warning("notification %s: not sent (%s)", message.id, type(exc).__name__)
                _failed(message, type(exc).__name__)
                failed += 1
            else:
                message.email_status, message.sent_at = EmailStatus.SENT, utcnow()
                message.attempts += 1
                sent += 1
    return f"{sent} sent, {failed} failed"


def _failed(message: Notification, error: str) -> None:
    message.attempts += 1
    message.last_error = error[:200]
    if message.attempts >= MAX_ATTEMPTS:
        message.email_status = EmailStatus.FAILED
        log.error("notification %s: email failed %s times, giving up", message.id, message.attempts)


# The in-app list and the outbox ------------------------------------------------


def notifications_for(user_id: int, page: int = 1, per_page: int = 50) -> tuple[list[Notification], int]:
    """A user's in-app notifications, newest first, and how many there are."""
    where = Notification.user_id == user_id
    total = db.session.scalar(sa.select(sa.func.count(Notification.id)).where(where)) or 0
    items = db.session.scalars(
        sa.select(Notification)
        .where(where)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(items), total


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications read (or all of them); only ever the user's own."""
    query = sa.update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    result = db.session.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def mark_read_about(user_ids: sa.ColumnElement[bool] | None, path: str, kinds: tuple[str, ...] = ()) -> int:
    """Mark read the unread notifications linking to ``path`` (a page in the hub, such as
    ``/referrals/12``) of the users ``user_ids`` selects (a condition on ``Notification.user_id``),
    of these ``kinds`` if given:
    what someone opened, or what their side has now acted on, no longer waits for them."""
    link = settings().base_url + path
    query = sa.update(Notification).where(Notification.read_at.is_(None), Notification.link == link)
    if user_ids is not None:
        query = query.where(user_ids)
    if kinds:
        query = query.where(Notification.kind.in_(kinds))
    result = db.session.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def outbox(status: EmailStatus | None = None, page: int = 1, per_page: int = 50) -> tuple[list[Notification], int]:
    """Emails queued, held, sent or failed, newest first (for administrators)."""
    where = [Notification.email != ""]
    if status is not None:
        where.append(Notification.email_status == status)
    total = db.session.scalar(sa.select(sa.func.count(Notification.id)).where(*where)) or 0
    items = db.session.scalars(
        sa.select(Notification)
        .where(*where)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(items), total
