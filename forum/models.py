"""The forum's tables: forums and their member agencies, meetings, the
attendance register and observers, cases, who heard each case, actions and
the revisions of the minutes.

A case names the woman only by ``service_user_id``; everything meant to be
shown to more than her audience (agendas, lists, emails, prints, the
calendar) carries its ``label``. Who may hear a case is not stored while the
meeting is being prepared: it is computed at each question from her valid
consents and safeguarding decisions and the agencies invited or present
(:mod:`forum.audience`), so a change of attendance or a withdrawn consent
counts at once. When the meeting is held, who heard each case, on what
basis, is written down (:class:`CaseHearing`) and each is a disclosure.

Uniqueness: one meeting of a forum at a moment (``uq_forum_meetings_forum_starts``),
one register line per agency and meeting, one member row per agency and
forum, a woman nominated once per meeting while the case stands.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import Agency, Contact
from consent.sharing import SharedOnBasis
from hub.db import Model, TimestampMixin, enum_column, utcnow

DEFAULT_CONFIDENTIALITY = (
    "Those present are reminded that this meeting is strictly confidential. What is discussed is not "
    "shared outside the meeting, and the minutes are not copied or passed on without the agreement of the "
    "agencies concerned. Each case is heard only by the agencies her consent, or a safeguarding decision, "
    "allows; the others leave the room for that item."
)


class MeetingStatus(enum.StrEnum):
    PLANNED = "planned"
    AGENDA_SENT = "agenda_sent"
    HELD = "held"
    MINUTES_AGREED = "minutes_agreed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"planned": "Planned", "agenda_sent": "Agenda sent", "held": "Held",
                "minutes_agreed": "Minutes agreed", "cancelled": "Cancelled"}[self.value]  # fmt: skip


UPCOMING = (MeetingStatus.PLANNED, MeetingStatus.AGENDA_SENT)


class AttendanceStatus(enum.StrEnum):
    INVITED = "invited"
    PRESENT = "present"
    APOLOGIES = "apologies"
    ABSENT = "absent"

    @property
    def label(self) -> str:
        return {"invited": "Invited", "present": "Present", "apologies": "Apologies", "absent": "Absent"}[self.value]


IN_THE_ROOM = (AttendanceStatus.INVITED, AttendanceStatus.PRESENT)  # who a case's audience is drawn from


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    NOT_DONE_CIRCUMSTANCES = "not_done_circumstances"  # not possible: her circumstances changed
    NOT_DONE_AGENCY = "not_done_agency"  # the agency did not do it

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    ActionStatus.OPEN: "Open",
    ActionStatus.DONE: "Done",
    ActionStatus.NOT_DONE_CIRCUMSTANCES: "Not done: circumstances changed",
    ActionStatus.NOT_DONE_AGENCY: "Not done by the agency",
}


class Forum(TimestampMixin, Model):
    """A standing multi-agency forum, meeting on the n-th weekday of each month."""

    __tablename__ = "forums"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    venue: Mapped[str] = mapped_column(sa.String(300), default="")
    chair_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    weekday: Mapped[int] = mapped_column(default=1)  # 0 Monday .. 6 Sunday
    week_of_month: Mapped[int] = mapped_column(default=2)  # 1..4, or 5 for the last in the month
    starts_at: Mapped[dt.time] = mapped_column(default=dt.time(10, 0))
    duration_minutes: Mapped[int] = mapped_column(default=120)
    agenda_days: Mapped[int] = mapped_column(default=5)  # working days before, the agenda goes out
    minutes_days: Mapped[int] = mapped_column(default=3)  # working days after, the minutes go out
    confidentiality: Mapped[str] = mapped_column(sa.Text, default=DEFAULT_CONFIDENTIALITY)
    standing_items: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    members: Mapped[list[ForumMember]] = relationship(order_by="ForumMember.id", back_populates="forum")

    @property
    def pattern(self) -> str:
        days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        nth = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "last"}[self.week_of_month]
        return f"The {nth} {days[self.weekday]} of each month, {self.starts_at:%H:%M}"


class ForumMember(Model):
    """A member agency, with its named representative and deputy from the directory."""

    __tablename__ = "forum_members"
    __table_args__ = (sa.UniqueConstraint("forum_id", "agency_id", name="uq_forum_members_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(sa.ForeignKey("forums.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    representative_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    deputy_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)

    forum: Mapped[Forum] = relationship(back_populates="members")
    agency: Mapped[Agency] = relationship()
    representative: Mapped[Contact | None] = relationship(foreign_keys=[representative_contact_id])
    deputy: Mapped[Contact | None] = relationship(foreign_keys=[deputy_contact_id])


class Meeting(TimestampMixin, Model):
    __tablename__ = "forum_meetings"
    __table_args__ = (
        sa.UniqueConstraint("forum_id", "starts_at", name="uq_forum_meetings_forum_starts"),
        sa.Index("ix_forum_meetings_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(sa.ForeignKey("forums.id"), index=True)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    venue: Mapped[str] = mapped_column(sa.String(300), default="")
    status: Mapped[MeetingStatus] = mapped_column(
        enum_column(MeetingStatus, "forum_meeting_status"), default=MeetingStatus.PLANNED
    )
    agenda_sent_at: Mapped[dt.datetime | None]
    held_at: Mapped[dt.datetime | None]
    # The confidentiality statement as read at this meeting, and when.
    confidentiality: Mapped[str] = mapped_column(sa.Text, default="")
    confidentiality_read_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    minutes: Mapped[str] = mapped_column(sa.Text, default="")
    minutes_due_on: Mapped[dt.date | None]
    minutes_circulated_at: Mapped[dt.datetime | None]
    minutes_reminded_at: Mapped[dt.datetime | None]
    minutes_agreed_at: Mapped[dt.datetime | None]
    minutes_agreed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    forum: Mapped[Forum] = relationship()

    @property
    def locked(self) -> bool:
        """Nothing about it changes any more: its minutes are agreed, or it was cancelled."""
        return self.status in (MeetingStatus.MINUTES_AGREED, MeetingStatus.CANCELLED)

    @property
    def upcoming(self) -> bool:
        return self.status in UPCOMING


class MeetingAttendance(Model):
    """The register: one line per agency invited (every member, and any agency added)."""

    __tablename__ = "forum_attendance"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "agency_id", name="uq_forum_attendance_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_meetings.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    status: Mapped[AttendanceStatus] = mapped_column(
        enum_column(AttendanceStatus, "forum_attendance_status"), default=AttendanceStatus.INVITED
    )
    representative_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    information_sent: Mapped[bool | None]  # with apologies: whether the agency sent its information
    information_received_on: Mapped[dt.date | None]

    agency: Mapped[Agency] = relationship()
    representative: Mapped[Contact | None] = relationship()


class MeetingObserver(Model):
    """Someone observing (a student, a new worker): they confirm the confidentiality statement first."""

    __tablename__ = "forum_observers"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_meetings.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    organisation: Mapped[str] = mapped_column(sa.String(160), default="")
    confirmed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ForumCase(TimestampMixin, Model):
    """A woman nominated for discussion at one meeting, shown everywhere but to her audience by ``label``."""

    __tablename__ = "forum_cases"
    __table_args__ = (sa.Index("ix_forum_cases_person_created", "service_user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_meetings.id"), index=True)
    service_user_id: Mapped[int] = mapped_column(sa.ForeignKey("service_users.id"))
    label: Mapped[str] = mapped_column(sa.String(16), unique=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    nominated_by_kind: Mapped[str] = mapped_column(sa.String(16))
    nominated_by_id: Mapped[int | None]
    repeat: Mapped[bool] = mapped_column(default=False)  # discussed at a meeting in the 12 months before
    withdrawn_at: Mapped[dt.datetime | None]
    withdrawn_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    # Its section of the minutes: shown only to her audience.
    discussion: Mapped[str] = mapped_column(sa.Text, default="")

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class CaseHearing(SharedOnBasis, Model):
    """An agency present when a case was heard, and the basis that allowed it (written when the meeting is held)."""

    __tablename__ = "forum_case_hearings"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_cases.id"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), primary_key=True, index=True)


class ForumAction(TimestampMixin, Model):
    """What an agency agreed to do: carried to every later meeting of the forum until closed."""

    __tablename__ = "forum_actions"
    __table_args__ = (
        sa.Index("ix_forum_actions_forum_status", "forum_id", "status"),
        sa.Index("ix_forum_actions_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True)
    forum_id: Mapped[int] = mapped_column(sa.ForeignKey("forums.id"))
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_meetings.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("forum_cases.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    owner_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    due_on: Mapped[dt.date]
    status: Mapped[ActionStatus] = mapped_column(enum_column(ActionStatus, "forum_action_status"),
                                                 default=ActionStatus.OPEN)  # fmt: skip
    closed_at: Mapped[dt.datetime | None]
    closed_on: Mapped[dt.date | None]  # the London day it was closed: whether it was done on time
    closed_by_kind: Mapped[str] = mapped_column(sa.String(16), default="")
    closed_by_id: Mapped[int | None]
    close_note: Mapped[str] = mapped_column(sa.String(1000), default="")
    referral_id: Mapped[int | None] = mapped_column(sa.ForeignKey("referrals.id"))
    reminded_at: Mapped[dt.datetime | None]
    overdue_told_at: Mapped[dt.datetime | None]

    agency: Mapped[Agency] = relationship()
    owner: Mapped[Contact | None] = relationship()
    meeting: Mapped[Meeting] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status is ActionStatus.OPEN

    @property
    def on_time(self) -> bool | None:
        if self.status is not ActionStatus.DONE or self.closed_on is None:
            return None
        return self.closed_on <= self.due_on


class MinutesRevision(Model):
    """Each saved draft of a meeting's minutes (the record and its case sections), kept."""

    __tablename__ = "forum_minutes_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_meetings.id"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    case_notes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    author_kind: Mapped[str] = mapped_column(sa.String(16))
    author_id: Mapped[int | None]
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
