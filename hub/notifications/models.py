"""One row per message to one person: shown in the hub, and emailed."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Model, enum_column, utcnow


class EmailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the delivery job
    SENT = "sent"
    FAILED = "failed"  # gave up after several tries
    HELD = "held"  # no mail server configured (the demo): readable in the hub only


class Notification(Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The person told: a user of the hub, or only an email address (a partner
    # contact without an account).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    kind: Mapped[str] = mapped_column(sa.String(48))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str] = mapped_column(sa.String(400), default="")
    # Makes "send once" a database rule: the same key is never queued twice.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(160), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]
    email_status: Mapped[EmailStatus] = mapped_column(
        enum_column(EmailStatus, "email_status"), default=EmailStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(200))


# Every page shows the signed-in person's unread count: read from an index of their unread messages
# only, so it costs the same however many they have read.
sa.Index(
    "ix_notifications_unread",
    Notification.user_id,
    postgresql_where=Notification.read_at.is_(None),
    sqlite_where=Notification.read_at.is_(None),
)
# Unread messages by the page they link to: opening a referral, or acting on it, marks read what
# was waiting about it (hub.notifications.services.mark_read_about) without reading anyone else's.
sa.Index(
    "ix_notifications_unread_link",
    Notification.link,
    postgresql_where=Notification.read_at.is_(None),
    sqlite_where=Notification.read_at.is_(None),
)
