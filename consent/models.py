"""Service users, consent records, safeguarding decisions and disclosures."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import Agency
from hub.auth.models import User
from hub.db import Model, enum_column, utcnow


class Purpose(enum.StrEnum):
    REFERRAL = "referral"
    RELEASE_PLANNING = "release_planning"
    FORUM_DISCUSSION = "forum_discussion"

    @property
    def label(self) -> str:
        return {
            "referral": "Referrals",
            "release_planning": "Planning her release",
            "forum_discussion": "Discussion at the multi-agency forum",
        }[self.value]


class DataCategory(enum.StrEnum):
    IDENTITY = "identity"
    CONTACT_DETAILS = "contact_details"
    CRIMINAL_JUSTICE = "criminal_justice"
    SUBSTANCE_USE = "substance_use"
    PHYSICAL_HEALTH = "physical_health"
    MENTAL_HEALTH = "mental_health"
    SEXUAL_EXPLOITATION = "sexual_exploitation"
    DOMESTIC_ABUSE = "domestic_abuse"
    HOUSING = "housing"
    CHILDREN_AND_FAMILY = "children_and_family"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    DataCategory.IDENTITY: "Who she is (name and date of birth)",
    DataCategory.CONTACT_DETAILS: "How to contact her",
    DataCategory.CRIMINAL_JUSTICE: "Offending, sentence, licence and probation",
    DataCategory.SUBSTANCE_USE: "Drug and alcohol use",
    DataCategory.PHYSICAL_HEALTH: "Physical health",
    DataCategory.MENTAL_HEALTH: "Mental health",
    DataCategory.SEXUAL_EXPLOITATION: "Sexual exploitation",
    DataCategory.DOMESTIC_ABUSE: "Domestic abuse",
    DataCategory.HOUSING: "Housing",
    DataCategory.CHILDREN_AND_FAMILY: "Children and family",
}


class ConsentMethod(enum.StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"
    ELECTRONIC = "electronic"


class ConsentStatus(enum.StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class ServiceUser(Model):
    """A woman the charity supports. The least data needed: names, date of
    birth, a hub reference and her key worker."""

    __tablename__ = "service_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True)
    given_name: Mapped[str] = mapped_column(sa.String(80), comment="personal data")
    family_name: Mapped[str] = mapped_column(sa.String(80), comment="personal data")
    date_of_birth: Mapped[dt.date | None] = mapped_column(comment="personal data")
    key_worker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Retention: when her personal data was erased (the record stays, anonymous, for the counts).
    erased_at: Mapped[dt.datetime | None]
    # Restricted on her request (UK GDPR Art. 18): kept, but no partner sees it and nothing is sent.
    restricted_at: Mapped[dt.datetime | None]

    key_worker: Mapped[User | None] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class ConsentRecord(Model):
    """Her permission to share named categories with one named agency, for named purposes."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_user_id: Mapped[int] = mapped_column(sa.ForeignKey("service_users.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    purposes: Mapped[list[str]] = mapped_column(sa.JSON)
    data_categories: Mapped[list[str]] = mapped_column(sa.JSON)
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod, "consent_method"))
    given_on: Mapped[dt.date]
    expires_on: Mapped[dt.date]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    evidence_note: Mapped[str] = mapped_column(sa.Text, default="")
    # Which version of the plain-language information was read to her.
    information_version: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[ConsentStatus] = mapped_column(
        enum_column(ConsentStatus, "consent_status"), default=ConsentStatus.ACTIVE, index=True
    )
    withdrawn_at: Mapped[dt.datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdrawal_reason: Mapped[str] = mapped_column(sa.Text, default="")
    expired_at: Mapped[dt.datetime | None]
    expiry_reminder_sent_at: Mapped[dt.datetime | None]

    agency: Mapped[Agency] = relationship()
    service_user: Mapped[ServiceUser] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    kind = "consent"

    def valid_at(self, moment: dt.datetime, on: dt.date) -> bool:
        """Whether this consent was a basis for sharing at ``moment`` (``on`` is its London date)."""
        if self.withdrawn_at is not None and self.withdrawn_at <= moment:
            return False
        return self.given_on <= on <= self.expires_on

    @property
    def last_day(self) -> dt.date:
        """The last day it can be a basis, as things stand."""
        return self.expires_on

    def covers(self, purpose: str, categories: set[str]) -> bool:
        return purpose in self.purposes and categories <= set(self.data_categories)


# Active consents by the day they end: the home page's "ending soon" and the expiry job read them here.
sa.Index("ix_consent_records_expiring", ConsentRecord.expires_on, postgresql_where=sa.text("status = 'active'"))


class SafeguardingStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a second manager: nothing is shared
    EMERGENCY = "emergency"  # shared at once; second approval overdue-flagged until given
    APPROVED = "approved"
    REJECTED = "rejected"
    ENDED = "ended"


class Art6Basis(enum.StrEnum):
    VITAL_INTERESTS = "6(1)(d)"
    PUBLIC_TASK = "6(1)(e)"
    LEGITIMATE_INTERESTS = "6(1)(f)"


class Art9Condition(enum.StrEnum):
    SUBSTANTIAL_PUBLIC_INTEREST = "9(2)(g)+sch1-18"  # DPA 2018 Sch. 1 para 18: safeguarding individuals at risk
    VITAL_INTERESTS = "9(2)(c)"


class Para18Reason(enum.StrEnum):
    """DPA 2018 Sch. 1 para 18(2): why consent is not the basis."""

    CANNOT_GIVE = "cannot_give"  # (a) in the circumstances, consent cannot be given by her
    CANNOT_OBTAIN = "cannot_obtain"  # (b) we cannot reasonably be expected to obtain it
    WOULD_PREJUDICE = "would_prejudice"  # (c) obtaining it would prejudice the protection

    @property
    def label(self) -> str:
        return {
            "cannot_give": "In the circumstances, she cannot give consent",
            "cannot_obtain": "We cannot reasonably be expected to obtain her consent",
            "would_prejudice": "Asking for consent would put her protection at risk",
        }[self.value]


class SafeguardingDecision(Model):
    """A manager's decision to share without consent, because of serious risk of harm."""

    __tablename__ = "safeguarding_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_user_id: Mapped[int] = mapped_column(sa.ForeignKey("service_users.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    purposes: Mapped[list[str]] = mapped_column(sa.JSON)
    data_categories: Mapped[list[str]] = mapped_column(sa.JSON)
    art6_basis: Mapped[Art6Basis] = mapped_column(enum_column(Art6Basis, "art6_basis"))
    art9_condition: Mapped[Art9Condition] = mapped_column(enum_column(Art9Condition, "art9_condition"))
    para18_reason: Mapped[Para18Reason] = mapped_column(enum_column(Para18Reason, "para18_reason"))
    justification: Mapped[str] = mapped_column(sa.Text)
    she_was_told: Mapped[bool]
    not_told_reason: Mapped[str] = mapped_column(sa.Text, default="")
    review_on: Mapped[dt.date]
    emergency: Mapped[bool] = mapped_column(default=False)
    approval_due_on: Mapped[dt.date | None]
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None]
    status: Mapped[SafeguardingStatus] = mapped_column(
        enum_column(SafeguardingStatus, "safeguarding_status"), index=True
    )
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str] = mapped_column(sa.Text, default="")

    agency: Mapped[Agency] = relationship()
    service_user: Mapped[ServiceUser] = relationship()
    decided_by: Mapped[User] = relationship(foreign_keys=[decided_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    kind = "safeguarding"

    def shares_from(self) -> dt.datetime | None:
        """When sharing on this basis became allowed: at once for an emergency, else at approval."""
        if self.emergency:
            return self.decided_at
        return self.approved_at

    @property
    def awaiting_approval(self) -> bool:
        """An emergency share that no second manager has approved yet."""
        return self.emergency and self.approved_at is None

    @property
    def last_day(self) -> dt.date:
        """The last day it can be a basis, as things stand: an unapproved emergency share
        only until its approval falls due, anything else until its review date."""
        if self.awaiting_approval and self.approval_due_on is not None:
            return min(self.approval_due_on, self.review_on)
        return self.review_on

    def valid_at(self, moment: dt.datetime, on: dt.date) -> bool:
        """Whether it was a basis at ``moment`` (``on`` is its London date), from the
        timestamps alone: shared from approval (an emergency: from the decision, but
        only until its approval falls due), never after it ended or its last day."""
        start = self.shares_from()
        if start is None or start > moment:
            return False
        if self.ended_at is not None and self.ended_at <= moment:
            return False
        return on <= self.last_day

    def covers(self, purpose: str, categories: set[str]) -> bool:
        return purpose in self.purposes and categories <= set(self.data_categories)


class DisclosureKind(enum.StrEnum):
    SENT = "sent"  # the hub sent her information to an agency
    VIEWED = "viewed"  # someone outside the host organisation viewed it


class Disclosure(Model):
    """One disclosure of a service user's information outside the host organisation."""

    __tablename__ = "disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_user_id: Mapped[int] = mapped_column(sa.ForeignKey("service_users.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    kind: Mapped[DisclosureKind] = mapped_column(enum_column(DisclosureKind, "disclosure_kind"))
    data_categories: Mapped[list[str]] = mapped_column(sa.JSON)
    purpose: Mapped[str] = mapped_column(sa.String(32))
    consent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("consent_records.id"))
    safeguarding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("safeguarding_decisions.id"))
    actor_kind: Mapped[str] = mapped_column(sa.String(16))
    actor_id: Mapped[int | None]
    # What it was part of, e.g. ("referral", 12).
    context: Mapped[str] = mapped_column(sa.String(32))
    context_id: Mapped[int | None]
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    agency: Mapped[Agency] = relationship()

    @property
    def basis(self) -> str:
        return f"consent {self.consent_id}" if self.consent_id else f"safeguarding decision {self.safeguarding_id}"


class SubjectAccessPack(Model):
    """Her subject-access pack, as it was given to her: every section of what the hub held about her and
    everyone it told, when, on what basis (UK GDPR Art. 15). The giving is itself a disclosure, to her."""

    __tablename__ = "subject_access_packs"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_user_id: Mapped[int] = mapped_column(sa.ForeignKey("service_users.id"), index=True)
    made_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    made_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    contents: Mapped[dict[str, Any]] = mapped_column(sa.JSON, comment="personal data: the pack as given to her")


class LegalHold(Model):
    """Her record is kept past its retention while a hold stands (a claim, an inquiry, a court order)."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_user_id: Mapped[int] = mapped_column(sa.ForeignKey("service_users.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    placed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    placed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[dt.datetime | None]
