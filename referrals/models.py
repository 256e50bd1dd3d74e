"""Referrals, their history, messages and the reminders sent about them."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import Agency, Contact
from consent.models import Purpose, ServiceUser
from consent.sharing import SharedOnBasis
from hub.auth.models import User
from hub.db import Model, TimestampMixin, enum_column, utcnow
from referrals.states import Status


class Urgency(enum.StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"


# What a referral may be for: the purposes of her consent that a referral can rest on (a forum
# discussion is shared through the forum, never through a referral).
REFERRAL_PURPOSES = (Purpose.REFERRAL.value, Purpose.RELEASE_PLANNING.value)


class Referral(SharedOnBasis, TimestampMixin, Model):
    """A request to an agency to provide a service to a woman, shared on one basis
    (:class:`consent.sharing.SharedOnBasis`: the consent or safeguarding decision it was sent on)."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True)
    service_user_id: Mapped[int] = mapped_column(sa.ForeignKey("service_users.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    # The contact asked for, and the one it is addressed to now (never someone who has left).
    requested_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))
    recipient_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    sender_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    sender_client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("oauth_clients.id"))
    # Set when the sender left and a colleague took the referral over.
    handed_over_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    data_categories: Mapped[list[str]] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.Text, comment="personal data: shown only while a basis is valid")
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency, "urgency"), default=Urgency.ROUTINE)
    # The purpose of her consent every basis check for this referral asks about (one of
    # REFERRAL_PURPOSES): sending it, showing her details, logging each disclosure.
    purpose: Mapped[str] = mapped_column(
        sa.String(24), default=Purpose.REFERRAL.value, server_default=Purpose.REFERRAL.value
    )
    # The day the work it asks for is needed by (release planning sets it from a plan item's due
    # date): no deadline on it is ever later than this, nor earlier than the day it is set.
    needed_by: Mapped[dt.date | None]
    status: Mapped[Status] = mapped_column(enum_column(Status, "referral_status"), default=Status.DRAFT, index=True)
    sent_at: Mapped[dt.datetime | None]
    acknowledge_by: Mapped[dt.date | None] = mapped_column(index=True)
    acknowledged_at: Mapped[dt.datetime | None]
    decide_by: Mapped[dt.date | None] = mapped_column(index=True)
    # The deadline it is waiting on now: acknowledge_by while sent, decide_by while acknowledged,
    # else none. Stored (and kept in step by every status change, ``changes.move``) so that the
    # inbox's order, "overdue" and the chase job are read from an index at any size.
    due_on: Mapped[dt.date | None]
    decided_at: Mapped[dt.datetime | None]
    # Working days it took (hub.workdays, London days), kept when it happened for the reports: from
    # the day it arrived to the day it was acknowledged, and from then to the day it was decided.
    acknowledge_working_days: Mapped[int | None]
    decide_working_days: Mapped[int | None]
    closed_at: Mapped[dt.datetime | None]
    held_from: Mapped[Status | None] = mapped_column(enum_column(Status, "held_from_status"))
    basis_lost: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str] = mapped_column(sa.Text, default="")

    service_user: Mapped[ServiceUser] = relationship()
    agency: Mapped[Agency] = relationship()
    recipient_contact: Mapped[Contact | None] = relationship(foreign_keys=[recipient_contact_id])
    sender: Mapped[User | None] = relationship(foreign_keys=[sender_user_id])

    __table_args__ = (
        sa.CheckConstraint(
            "purpose IN (" + ", ".join(f"'{p}'" for p in REFERRAL_PURPOSES) + ")", name="purpose_for_referrals"
        ),
    )


# The partner inbox: an agency's referrals from sent on, those waiting on a deadline first (soonest
# first), then the newest. (PostgreSQL sorts nulls last in an ascending index, as the inbox wants.)
sa.Index(
    "ix_referrals_inbox",
    Referral.agency_id,
    Referral.due_on,
    Referral.id.desc(),
    postgresql_where=sa.text("status <> 'draft' AND sent_at IS NOT NULL"),
)
# The same, filtered by status (the inbox's and the API's status filter): counting and paging read
# only the agency's referrals in that status, from the index alone.
sa.Index(
    "ix_referrals_inbox_status",
    Referral.agency_id,
    Referral.status,
    Referral.due_on,
    Referral.id.desc(),
    postgresql_where=sa.text("status <> 'draft' AND sent_at IS NOT NULL"),
)
# Our staff's list of every referral, in the same order; what is overdue; what the chase job takes.
sa.Index("ix_referrals_by_due", Referral.due_on, Referral.id.desc())


class ReferralEvent(Model):
    """One entry in a referral's timeline."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(16))
    to_status: Mapped[str | None] = mapped_column(sa.String(16))
    actor_kind: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[int | None]
    actor_agency_id: Mapped[int | None]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReferralMessage(Model):
    """A message between sender and recipient about a referral."""

    __tablename__ = "referral_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    author_kind: Mapped[str] = mapped_column(sa.String(16))
    author_id: Mapped[int | None]
    author_agency_id: Mapped[int | None]
    author_name: Mapped[str] = mapped_column(sa.String(120), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReferralReminder(Model):
    """A reminder or escalation that has been sent: at most one per stage per deadline."""

    __tablename__ = "referral_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    deadline: Mapped[str] = mapped_column(sa.String(16))  # acknowledge | decide
    due_on: Mapped[dt.date]
    stage: Mapped[int]  # 1 recipient, 2 agency key contacts, 3 our managers
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recipients: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.UniqueConstraint("referral_id", "deadline", "due_on", "stage", name="uq_referral_reminders_once"),
    )


# The reports: referrals sent, and decided, in a period.
sa.Index("ix_referrals_sent_at", Referral.sent_at)
sa.Index("ix_referrals_decided_at", Referral.decided_at)
