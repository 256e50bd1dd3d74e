"""Agencies, named contacts, the interaction log and staff handovers."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.auth.models import User
from hub.db import Model, TimestampMixin, enum_column, utcnow


class AgencyKind(enum.StrEnum):
    PROBATION = "probation"
    PRISON = "prison"
    HOUSING = "housing"
    SUBSTANCE_USE = "substance_use"
    IDVA = "idva"
    ISVA = "isva"
    POLICE = "police"
    HEALTH = "health"
    MENTAL_HEALTH = "mental_health"
    SEXUAL_HEALTH = "sexual_health"
    LEGAL = "legal"
    SOCIAL_CARE = "social_care"
    HOST = "host"
    OTHER = "other"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    AgencyKind.PROBATION: "Probation",
    AgencyKind.PRISON: "Prison",
    AgencyKind.HOUSING: "Housing",
    AgencyKind.SUBSTANCE_USE: "Drug and alcohol",
    AgencyKind.IDVA: "IDVA service",
    AgencyKind.ISVA: "ISVA service",
    AgencyKind.POLICE: "Police",
    AgencyKind.HEALTH: "Health",
    AgencyKind.MENTAL_HEALTH: "Mental health",
    AgencyKind.SEXUAL_HEALTH: "Sexual health",
    AgencyKind.LEGAL: "Legal advice",
    AgencyKind.SOCIAL_CARE: "Children's social care",
    AgencyKind.HOST: "Host organisation",
    AgencyKind.OTHER: "Other",
}


class ContactStatus(enum.StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class Channel(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    TEXT = "text"
    VIDEO = "video"
    IN_PERSON = "in_person"

    @property
    def label(self) -> str:
        return {
            "email": "Email",
            "phone": "Phone",
            "text": "Text message",
            "video": "Video call",
            "in_person": "In person",
        }[self.value]


class InteractionKind(enum.StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    VISIT = "visit"
    NOTE = "note"

    @property
    def label(self) -> str:
        return {
            "call": "Phone call",
            "email": "Email",
            "meeting": "Meeting",
            "visit": "Visit",
            "note": "Internal note",
        }[self.value]


class Agency(TimestampMixin, Model):
    """A partner organisation (or a team within one), or the host organisation."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Its id in the public Open Referral UK feed (a UUID, never reused).
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True, default=lambda: str(uuid.uuid4()))
    name: Mapped[str] = mapped_column(sa.String(160), index=True)
    kind: Mapped[AgencyKind] = mapped_column(enum_column(AgencyKind, "agency_kind"), index=True)
    services: Mapped[str] = mapped_column(sa.Text, default="")
    how_to_refer: Mapped[str] = mapped_column(sa.Text, default="")
    address: Mapped[str] = mapped_column(sa.String(400), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    website: Mapped[str] = mapped_column(sa.String(400), default="")
    # The working agreement (service level agreement) with this agency.
    has_agreement: Mapped[bool] = mapped_column(default=False)
    agreement_agreed_on: Mapped[dt.date | None]
    agreement_review_on: Mapped[dt.date | None]
    agreement_summary: Mapped[str] = mapped_column(sa.Text, default="")
    key_contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", use_alter=True, name="fk_agencies_key_contact_id_contacts")
    )
    deputy_contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", use_alter=True, name="fk_agencies_deputy_contact_id_contacts")
    )
    # Our member of staff who leads the relationship with this agency.
    relationship_owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", use_alter=True, name="fk_agencies_relationship_owner_id_users"), index=True
    )
    # Working days to acknowledge / decide on a referral, if the working agreement sets them.
    acknowledge_days: Mapped[int | None]
    decide_days: Mapped[int | None]
    # Set when a key-contact or deputy role moved automatically; cleared when confirmed.
    roles_to_confirm: Mapped[str | None] = mapped_column(sa.String(400))

    key_contact: Mapped[Contact | None] = relationship(foreign_keys=[key_contact_id], post_update=True)
    deputy_contact: Mapped[Contact | None] = relationship(foreign_keys=[deputy_contact_id], post_update=True)
    relationship_owner: Mapped[User | None] = relationship(foreign_keys=[relationship_owner_id])

    @property
    def is_host(self) -> bool:
        return self.kind is AgencyKind.HOST

    def __repr__(self) -> str:
        return f"<Agency {self.id} {self.slug}>"


class Contact(TimestampMixin, Model):
    """A named person at an agency. Kept after they leave, with their successor."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[str] = mapped_column(sa.String(120), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    preferred_channel: Mapped[Channel | None] = mapped_column(enum_column(Channel, "channel"))
    # What this person is good for: visible to every signed-in user.
    knowledge: Mapped[str] = mapped_column(sa.Text, default="")
    # Our member of staff who knows them.
    known_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    started_on: Mapped[dt.date | None]
    last_spoken_on: Mapped[dt.date | None]
    last_verified_on: Mapped[dt.date | None]
    status: Mapped[ContactStatus] = mapped_column(
        enum_column(ContactStatus, "contact_status"), default=ContactStatus.ACTIVE, index=True
    )
    left_on: Mapped[dt.date | None]
    successor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"))
    # The contact's own hub account, if they have one (a partner user).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    handover_note: Mapped[str] = mapped_column(sa.Text, default="")

    agency: Mapped[Agency] = relationship(foreign_keys=[agency_id])
    known_by: Mapped[User | None] = relationship(foreign_keys=[known_by_id])
    successor: Mapped[Contact | None] = relationship(remote_side=[id], foreign_keys=[successor_id])

    @property
    def is_active(self) -> bool:
        return self.status is ContactStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.status}>"


class ServiceStatus(enum.StrEnum):
    """As Open Referral UK has it (its "temporarily closed" is stored and sent with a space)."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DEFUNCT = "defunct"
    TEMPORARILY_CLOSED = "temporarily_closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def oruk(self) -> str:
        return self.value.replace("_", " ")


class AgencyService(TimestampMixin, Model):
    """A service an agency offers, as a record: shown on its page, and (``publish``) in the public Open
    Referral UK feed. Only the agency's own lead (or its system) publishes a partner's service: that is
    the partner agreeing. ``drop_in`` marks our service that is the weekly drop-in: the feed gives it the
    rota's venue and weekly schedule. ``public_id`` is its id in the feed."""

    __tablename__ = "agency_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True, default=lambda: str(uuid.uuid4()))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[ServiceStatus] = mapped_column(enum_column(ServiceStatus, "service_status"),
                                                  default=ServiceStatus.ACTIVE)  # fmt: skip
    publish: Mapped[bool] = mapped_column(default=False, index=True)
    drop_in: Mapped[bool] = mapped_column(default=False)
    url: Mapped[str] = mapped_column(sa.String(400), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    eligibility: Mapped[str] = mapped_column(sa.Text, default="")
    # When someone last confirmed it is right: the feed's assured_date.
    last_verified_on: Mapped[dt.date | None]

    agency: Mapped[Agency] = relationship()

    def __repr__(self) -> str:
        return f"<AgencyService {self.id} {self.name!r}>"


class Interaction(Model):
    """A dated entry in the log of our dealings with an agency or a contact.

    Internal: visible to host-organisation staff only.
    """

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[InteractionKind] = mapped_column(enum_column(InteractionKind, "interaction_kind"))
    occurred_on: Mapped[dt.date]
    summary: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()
    contact: Mapped[Contact | None] = relationship()


class Handover(Model):
    """The record of one member of staff's relationships being handed over.

    ``assignments`` maps each item's key (``"agency:<id>"``, ``"referral:<id>"``,
    see :mod:`hub.work`) to the id of the member of staff who took it over;
    ``items`` keeps how each item was described when it was handed over
    (key, section, label, link, taker_id), for the pack.
    """

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    leaver_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[dt.datetime | None]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    assignments: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    items: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON, default=list)

    leaver: Mapped[User] = relationship(foreign_keys=[leaver_id])
    by: Mapped[User | None] = relationship(foreign_keys=[by_id])
