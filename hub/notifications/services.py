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
- Every email has a plain-text part and an HTML part, both rendered from one
  template (templates/notifications/email/message.jinja), and ``Date``,
  ``Message-ID`` (the same for every attempt at one message, so a receiving
  server can drop a second copy) and ``Auto-Submitted`` headers.
- A message that could not be sent is tried again later, MAX_ATTEMPTS times in
  all, spread over about two hours (RETRY_AFTER), then marked failed.
- Messages held while no mail server was configured are sent once one is,
  if they were queued in the last ``HUB_EMAIL_HELD_DAYS`` days and their
  recipient can still be told; older ones stay held (readable in the outbox).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

import sqlalchemy as sa
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.auth.models import User
from hub.db import db, is_postgres, utcnow
from hub.notifications.models import EmailStatus, Notification
from hub.settings_access import settings
from hub.text import one_line

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
# How long after it was queued a message's next attempt may be made, by the attempts made so far: a
# mail server that is down for up to two hours loses nothing.
RETRY_AFTER = (
    dt.timedelta(0),
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
)
assert len(RETRY_AFTER) == MAX_ATTEMPTS
EMAIL_TEMPLATES = Path(__file__).parent / "templates" / "notifications" / "email"


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
    or the work address of a contact who has left), held ones too (they would go once a mail
    server is configured); they stay readable in the outbox."""
    if user_id is None and not email:
        return 0
    who = Notification.user_id == user_id if user_id is not None else sa.func.lower(Notification.email) == email.lower()
    result = db.session.execute(
        sa.update(Notification)
        .where(who, Notification.email_status.in_((EmailStatus.PENDING, EmailStatus.HELD)))
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


# Composing -------------------------------------------------------------------------------


def _paragraphs(text: str) -> list[str]:
    return [part.strip("\n") for part in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip()) if part.strip()]


def _text_para(value: str, quiet: bool = False) -> str:
    return value + "\n"  # and the template's line break: a blank line after each paragraph


def _text_link(url: str) -> str:
    return url


def _html_para(value: str, quiet: bool = False) -> Markup:
    style = "margin: 0 0 16px;" + (" color: #505a5f; font-size: 14px;" if quiet else "")
    inner = value if isinstance(value, Markup) else Markup("<br>\n").join(escape(line) for line in value.split("\n"))
    return Markup('<p style="{}">{}</p>').format(style, inner)


def _html_link(url: str) -> Markup:
    return Markup('<a href="{0}" style="color: #1d70b8;">{0}</a>').format(url)


@functools.cache
def _email_environment(html: bool) -> Environment:
    """The message template's environment: HTML escapes every value; plain text escapes nothing."""
    environment = Environment(
        loader=FileSystemLoader(EMAIL_TEMPLATES),
        autoescape=html,  # noqa: S701 - the plain-text part is not HTML; the HTML part escapes every value
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )
    environment.filters["paragraphs"] = _paragraphs
    environment.globals.update(
        layout="layout.html" if html else "layout.txt",
        para=_html_para if html else _text_para,
        link_to=_html_link if html else _text_link,
    )
    return environment


def render_email(subject: str, body: str, link: str) -> tuple[str, str]:
    """The plain-text and HTML versions of one message, from the one template."""
    values = {"subject": one_line(subject), "body": body, "link": link}
    text = _email_environment(False).get_template("message.jinja").render(values)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.splitlines())).strip() + "\n"
    html = _email_environment(True).get_template("message.jinja").render(values)
    return text, html


def message_id(message: Notification, sender: str) -> str:
    """The same Message-ID for every attempt at one message (a receiving server can drop a copy sent
    twice), opaque (no counts of anything), at the sender's domain."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "partnership-hub.invalid"
    seed = f"{message.id}:{message.created_at.isoformat()}:{message.email}".encode()
    return f"<{hashlib.sha256(seed).hexdigest()[:32]}.hub@{domain}>"


def _compose(message: Notification, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.email
    email["Subject"] = one_line(message.subject)
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id(message, sender)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to the hub
    text, html = render_email(message.subject, message.body, message.link)
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    return email


# Delivering ------------------------------------------------------------------------------


def _release_held(now: dt.datetime, days: int) -> int:
    """Send what was held while no mail server was configured: messages queued in the last ``days``
    days to someone who can still be told (withhold_pending fails those to a closed account or a
    leaver's address)."""
    if days <= 0:
        return 0
    open_accounts = sa.select(User.id).where(User.disabled_at.is_(None))
    result = db.session.execute(
        sa.update(Notification)
        .where(
            Notification.email_status == EmailStatus.HELD,
            Notification.created_at >= now - dt.timedelta(days=days),
            Notification.email != "",
            sa.or_(Notification.user_id.is_(None), Notification.user_id.in_(open_accounts)),
        )
        .values(email_status=EmailStatus.PENDING)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _due(now: dt.datetime) -> sa.ColumnElement[bool]:
    """Pending messages whose next attempt is due (RETRY_AFTER after they were queued)."""
    return sa.or_(
        Notification.attempts == 0,
        *(
            sa.and_(Notification.attempts == attempts, Notification.created_at <= now - wait)
            for attempts, wait in enumerate(RETRY_AFTER)
            if attempts
        ),
    )


def deliver_pending(limit: int = 200) -> str:
    """Send pending emails (the delivery job). Returns a summary."""
    cfg = settings()
    if not cfg.smtp_host:
        return "no mail server configured"
    now = utcnow()
    released = _release_held(now, cfg.email_held_days)
    summary = _send_due(now, limit)
    return f"{released} held released; {summary}" if released else summary


def _send_due(now: dt.datetime, limit: int) -> str:
    cfg = settings()
    query = (
        sa.select(Notification)
        .where(Notification.email_status == EmailStatus.PENDING, _due(now))
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
