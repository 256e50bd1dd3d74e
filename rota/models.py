"""The drop-in rota's tables: series of sessions, sessions, slots, agency
commitments, what each agency offers, the record of each session, and
calendar feeds.

Nothing here names a woman: the session record holds counts only.

Uniqueness does the idempotency: one session per series and date
(``uq_rota_sessions_series_date``), one slot per session, service and
position (``uq_rota_slots_position``: the slots the hub wants are position
1), and a commitment applied to a session once (``rota_commitment_dates``),
so the generation job run twice, or in two processes, adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import Agency, Contact
from hub.db import Model, TimestampMixin, enum_column, utcnow


class Service(enum.StrEnum):
    HOUSING = "housing"
    IDVA = "idva"
    ISVA = "isva"
    SUBSTANCE_USE = "substance_use"
    LEGAL = "legal"
    THERAPY = "therapy"
    SEXUAL_HEALTH = "sexual_health"
    PROBATION = "probation"
    HEALTH = "health"
    BENEFITS = "benefits"
    OTHER = "other"

    @property
    def label(self) -> str:
        return SERVICE_LABELS[self]


SERVICE_LABELS = {
    Service.HOUSING: "Housing support",
    Service.IDVA: "IDVA (domestic abuse advocate)",
    Service.ISVA: "ISVA (sexual violence advocate)",
    Service.SUBSTANCE_USE: "Drug and alcohol support",
    Service.LEGAL: "Legal advice",
    Service.THERAPY: "Therapy",
    Service.SEXUAL_HEALTH: "Sexual health",
    Service.PROBATION: "Probation",
    Service.HEALTH: "Health",
    Service.BENEFITS: "Benefits advice",
    Service.OTHER: "Other support",
}


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class SlotStatus(enum.StrEnum):
    OPEN = "open"
    TAKEN = "taken"
    CONFIRMED = "confirmed"
    CANT_ATTEND = "cant_attend"  # the agency that held it cannot come: open again, cover asked for

    @property
    def label(self) -> str:
        return {"open": "Open", "taken": "Taken", "confirmed": "Confirmed", "cant_attend": "Needs cover"}[self.value]


HELD = (SlotStatus.TAKEN, SlotStatus.CONFIRMED)
FREE = (SlotStatus.OPEN, SlotStatus.CANT_ATTEND)


class Attendance(enum.StrEnum):
    """How an agency's visit went, in neutral words: a record, never a penalty."""

    ATTENDED = "attended"
    LATE = "late"
    LEFT_EARLY = "left_early"
    CANCELLED_WITH_NOTICE = "cancelled_with_notice"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return ATTENDANCE_LABELS[self]

    @property
    def came(self) -> bool:
        return self in (Attendance.ATTENDED, Attendance.LATE, Attendance.LEFT_EARLY)


ATTENDANCE_LABELS = {
    Attendance.ATTENDED: "Came",
    Attendance.LATE: "Came, later than planned",
    Attendance.LEFT_EARLY: "Came, left earlier than planned",
    Attendance.CANCELLED_WITH_NOTICE: "Could not come, and told us",
    Attendance.NO_SHOW: "Did not come",
}


class RotaSeries(TimestampMixin, Model):
    """A weekly session the hub generates ahead (by default the Wednesday drop-in)."""

    __tablename__ = "rota_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    weekday: Mapped[int]  # 0 Monday .. 6 Sunday
    starts_at: Mapped[dt.time]
    ends_at: Mapped[dt.time]
    venue: Mapped[str] = mapped_column(sa.String(300))
    weeks_ahead: Mapped[int] = mapped_column(default=12)
    # The services the charity wants at every session ("must haves"): a slot each, position 1.
    wanted_services: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date | None]


class RotaSession(TimestampMixin, Model):
    __tablename__ = "rota_sessions"
    __table_args__ = (sa.UniqueConstraint("series_id", "date", name="uq_rota_sessions_series_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rota_series.id"))
    date: Mapped[dt.date] = mapped_column(index=True)
    starts_at: Mapped[dt.time]
    ends_at: Mapped[dt.time]
    venue: Mapped[str] = mapped_column(sa.String(300))
    status: Mapped[SessionStatus] = mapped_column(
        enum_column(SessionStatus, "rota_session_status"), default=SessionStatus.SCHEDULED
    )
    cancel_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    cancelled_at: Mapped[dt.datetime | None]
    bank_holiday: Mapped[str] = mapped_column(sa.String(120), default="")  # its name, when it falls on one
    # Changed "this week only": a change to all future weeks of the series leaves it as it is.
    edited: Mapped[bool] = mapped_column(default=False)

    series: Mapped[RotaSeries | None] = relationship()

    @property
    def is_cancelled(self) -> bool:
        return self.status is SessionStatus.CANCELLED


class RotaCommitment(TimestampMixin, Model):
    """An agency's standing offer: a service at every session, or at the n-th of its weekday in the month."""

    __tablename__ = "rota_commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    service: Mapped[Service] = mapped_column(enum_column(Service, "rota_service"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    weekdays_of_month: Mapped[list[int] | None] = mapped_column(sa.JSON)  # None: every session
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date | None]

    agency: Mapped[Agency] = relationship()
    contact: Mapped[Contact | None] = relationship()

    def matches(self, day: dt.date) -> bool:
        if day < self.starts_on or (self.ends_on is not None and day > self.ends_on):
            return False
        return not self.weekdays_of_month or (day.day - 1) // 7 + 1 in self.weekdays_of_month

    @property
    def pattern(self) -> str:
        if not self.weekdays_of_month:
            return "Every session"
        names = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}
        parts = [names[n] for n in sorted(self.weekdays_of_month)]
        said = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"The {said} of each month"


class RotaSlot(TimestampMixin, Model):
    """A place at a session for one agency offering one service."""

    __tablename__ = "rota_slots"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "service", "position", name="uq_rota_slots_position"),
        sa.Index("ix_rota_slots_agency_status", "agency_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("rota_sessions.id"), index=True)
    service: Mapped[Service] = mapped_column(enum_column(Service, "rota_service"))
    position: Mapped[int] = mapped_column(default=1)
    wanted: Mapped[bool] = mapped_column(default=False)  # one of the services the charity wants every week
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)  # None: key contact
    commitment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rota_commitments.id"), index=True)
    status: Mapped[SlotStatus] = mapped_column(enum_column(SlotStatus, "rota_slot_status"), default=SlotStatus.OPEN)
    taken_at: Mapped[dt.datetime | None]
    confirmed_at: Mapped[dt.datetime | None]
    reason: Mapped[str] = mapped_column(sa.String(500), default="")  # why the last holder could not come

    session: Mapped[RotaSession] = relationship()
    agency: Mapped[Agency | None] = relationship()
    contact: Mapped[Contact | None] = relationship()

    @property
    def is_held(self) -> bool:
        return self.status in HELD


class RotaCommitmentDate(Model):
    """A standing commitment was applied to this session (taken, or found no slot to take): once."""

    __tablename__ = "rota_commitment_dates"

    commitment_id: Mapped[int] = mapped_column(sa.ForeignKey("rota_commitments.id"), primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("rota_sessions.id"), primary_key=True, index=True)


class RotaOffer(Model):
    """A service an agency can bring to the drop-in: whom to ask when a slot needs cover."""

    __tablename__ = "rota_offers"

    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), primary_key=True)
    service: Mapped[Service] = mapped_column(enum_column(Service, "rota_service"), primary_key=True)


class RotaSlotEvent(Model):
    """What happened to a slot: taken, confirmed, could not come, released, asked to cover."""

    __tablename__ = "rota_slot_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(sa.ForeignKey("rota_slots.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SessionRecord(TimestampMixin, Model):
    """After the session: counts only, never names."""

    __tablename__ = "rota_session_records"

    session_id: Mapped[int] = mapped_column(sa.ForeignKey("rota_sessions.id"), primary_key=True)
    women_attended: Mapped[int]
    new_women: Mapped[int]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    finalised_at: Mapped[dt.datetime | None]
    finalised_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    @property
    def is_final(self) -> bool:
        return self.finalised_at is not None


class AgencyAttendance(Model):
    __tablename__ = "rota_attendance"
    __table_args__ = (sa.UniqueConstraint("session_id", "agency_id", name="uq_rota_attendance_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("rota_sessions.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    attendance: Mapped[Attendance] = mapped_column(enum_column(Attendance, "rota_attendance_kind"))
    women_seen: Mapped[int] = mapped_column(default=0)


class RecordChange(Model):
    """A finalised record changed: why, by whom, and what it said before (counts only)."""

    __tablename__ = "rota_record_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("rota_sessions.id"), index=True)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    changed_by_kind: Mapped[str] = mapped_column(sa.String(16))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(sa.String(1000))
    before: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


class CalendarFeed(Model):
    """A private calendar address: the token is shown once and stored hashed; revoked, it answers 404."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)  # None: the whole rota
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_kind: Mapped[str] = mapped_column(sa.String(16))
    created_by_id: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]

    agency: Mapped[Agency | None] = relationship()
