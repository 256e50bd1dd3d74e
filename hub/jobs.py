"""The kernel's own periodic jobs."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from hub import idempotency
from hub.auth.models import AuthSession, LoginAttempt
from hub.db import db, utcnow
from hub.scheduler import Job, JobRun
from hub.settings_access import settings

SESSION_RECORD_DAYS = 30
JOB_RUN_DAYS = 30  # the scheduler's record of each run (hub.deliver-email alone writes 1,440 a day)


def purge_sign_in_records() -> str:
    """Forget failed sign-in attempts after a day, and ended sessions after 30
    days (the audit log keeps the history)."""
    now = utcnow()
    attempts = db.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at < now - dt.timedelta(days=1)))
    sessions = db.session.execute(
        sa.delete(AuthSession).where(AuthSession.ended_at < now - dt.timedelta(days=SESSION_RECORD_DAYS))
    )
    return f"{attempts.rowcount} attempts, {sessions.rowcount} sessions"  # type: ignore[attr-defined]


def purge_housekeeping_records() -> str:
    """Forget the scheduler's records of runs after 30 days, and API Idempotency-Keys after
    HUB_IDEMPOTENCY_KEY_DAYS (a partner system retrying later than that creates anew). Set-based:
    one statement each, however many rows."""
    now = utcnow()
    runs = db.session.execute(sa.delete(JobRun).where(JobRun.started_at < now - dt.timedelta(days=JOB_RUN_DAYS)))
    keys = idempotency.purge(now - dt.timedelta(days=settings().idempotency_key_days))
    notes, tokens = purge_messages_and_tokens(now)
    return (f"{runs.rowcount} job runs, {keys} idempotency keys, {notes} notifications, "  # type: ignore[attr-defined]
            f"{tokens} access tokens")  # fmt: skip


TOKEN_RECORD_DAYS = 30  # access tokens live minutes; their rows (hashes only) are kept this long for the record


def purge_messages_and_tokens(now: dt.datetime) -> tuple[int, int]:
    """Retention: notifications older than HUB_NOTIFICATION_DAYS once dealt with (read in the hub, or their
    email sent, held or given up on; never one still waiting to go), and access tokens 30 days after they were
    issued (they expire in minutes). One statement each."""
    from hub.notifications.models import EmailStatus, Notification
    from hub.oauth.models import OAuthToken

    before = now - dt.timedelta(days=settings().notification_days)
    notes = db.session.execute(sa.delete(Notification).where(
        Notification.created_at < before,
        sa.or_(Notification.read_at.is_not(None), Notification.email_status != EmailStatus.PENDING)))  # fmt: skip
    tokens = db.session.execute(sa.delete(OAuthToken).where(
        OAuthToken.issued_at < now - dt.timedelta(days=TOKEN_RECORD_DAYS)))  # fmt: skip
    return int(notes.rowcount), int(tokens.rowcount)  # type: ignore[attr-defined]


def seal_audit() -> str:
    """Link the audit entries written since the last run into the chain (a short transaction)."""
    from hub.audit import seal

    return f"{seal()} entries sealed"


def remind_restore_drill() -> str:
    """Tell the administrators, at most once a week, when no restore drill has passed for
    HUB_RESTORE_DRILL_DAYS (or none ever has)."""
    from hub import backups
    from hub.auth.models import User
    from hub.notifications.models import Notification
    from hub.notifications.services import notify_users
    from hub.permissions import Role

    now, days = utcnow(), settings().restore_drill_days
    last = backups.last_passed()
    if last is not None and last.ran_at >= now - dt.timedelta(days=days):
        return "a drill passed recently"
    told = db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.kind == "backup.drill_due", Notification.created_at >= now - dt.timedelta(days=7)))  # fmt: skip
    if told:
        return "already reminded this week"
    admins = db.session.scalars(sa.select(User).where(User.role == Role.ADMIN, User.disabled_at.is_(None))).all()
    since = f"since {last.ran_at:%-d %B %Y}" if last is not None else "ever"
    sent = notify_users(admins, kind="backup.drill_due", subject="No restore drill has passed recently",
                        body=f"No restore drill has passed {since}: a backup is only known to work once it has been "
                        "restored. Run `hub backup --to FILE` and then `hub restore-drill --from FILE` (the README's "
                        "\"Backups\" says how).")  # fmt: skip
    return f"{sent} administrators reminded"


def deliver_email() -> str:
    from hub.notifications.services import deliver_pending

    return deliver_pending()


JOBS = [
    Job(
        "hub.restore-drill-reminder",
        remind_restore_drill,
        cron={"hour": 8, "minute": 15},
        description="Remind the administrators when no restore drill has passed for HUB_RESTORE_DRILL_DAYS",
    ),
    Job("hub.deliver-email", deliver_email, cron={"minute": "*"}, description="Send queued emails"),
    Job(
        "hub.seal-audit",
        seal_audit,
        cron={"second": "*/10"},
        description="Link new audit entries into the hash chain (writers never wait on one lock)",
    ),
    Job(
        "hub.purge-sign-in-records",
        purge_sign_in_records,
        cron={"hour": 3, "minute": 15},
        description="Forget old failed sign-ins and ended sessions",
    ),
    Job(
        "hub.purge-housekeeping-records",
        purge_housekeeping_records,
        cron={"hour": 3, "minute": 25},
        description="Forget old job-run records, API idempotency keys, old notifications and access tokens",
    ),
]
