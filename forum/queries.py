"""Reads for the forum, scoped to what the acting person may see.

- Our staff see every forum, meeting, case and action.
- A partner sees a meeting only while its agency is on the meeting's
  register, and a forum only while it is a member or on a register; any
  other answers 404, as if it did not exist.
- Who a case is about is never read here for a partner: the pages and the
  API ask :func:`forum.services.view_cases`, which checks the audience now
  and records each view as a disclosure.

Lists are built with a fixed number of statements for a page of any size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from agencies.models import Agency, Contact
from consent.models import ServiceUser
from forum.models import (
    ActionStatus,
    Forum,
    ForumAction,
    ForumCase,
    ForumMember,
    Meeting,
    MeetingAttendance,
    MeetingObserver,
    MeetingStatus,
    MinutesRevision,
)
from hub.db import db, london_date, today
from hub.permissions import Actor, NotFound

GONE = "No such forum, meeting, case or action."


def _on_register(agency_id: int | None) -> sa.ColumnElement[bool]:
    return sa.exists().where(MeetingAttendance.meeting_id == Meeting.id, MeetingAttendance.agency_id == agency_id)


def _forum_visible(actor: Actor) -> sa.ColumnElement[bool]:
    if actor.is_staff:
        return sa.true()
    member = sa.exists().where(ForumMember.forum_id == Forum.id, ForumMember.agency_id == actor.agency_id)
    attended = sa.exists().where(Meeting.forum_id == Forum.id, _on_register(actor.agency_id))
    return sa.or_(member, attended)


def forums_for(actor: Actor) -> list[Forum]:
    return list(db.session.scalars(sa.select(Forum).where(_forum_visible(actor)).order_by(Forum.name, Forum.id)))


def get_forum(actor: Actor, forum_id: int) -> Forum:
    found = db.session.scalar(sa.select(Forum).where(Forum.id == forum_id, _forum_visible(actor)))
    if found is None:
        raise NotFound(GONE)
    return found


def members_of(forum_id: int) -> list[ForumMember]:
    return list(db.session.scalars(
        sa.select(ForumMember).where(ForumMember.forum_id == forum_id)
        .options(joinedload(ForumMember.agency), joinedload(ForumMember.representative),
                 joinedload(ForumMember.deputy))
        .order_by(ForumMember.id)
    ).unique())  # fmt: skip


def meetings_of(actor: Actor, forum_id: int, *, limit: int = 50) -> list[Meeting]:
    """The forum's meetings the actor may see, latest first."""
    query = sa.select(Meeting).where(Meeting.forum_id == forum_id)
    if not actor.is_staff:
        query = query.where(_on_register(actor.agency_id))
    return list(db.session.scalars(query.order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(limit)))


def upcoming_for(actor: Actor, *, limit: int = 20) -> list[Meeting]:
    query = (
        sa.select(Meeting)
        .where(Meeting.status.in_((MeetingStatus.PLANNED, MeetingStatus.AGENDA_SENT, MeetingStatus.HELD)))
        .options(joinedload(Meeting.forum))
    )
    if not actor.is_staff:
        query = query.where(_on_register(actor.agency_id))
    return list(db.session.scalars(query.order_by(Meeting.starts_at, Meeting.id).limit(limit)))


def get_meeting(actor: Actor, meeting_id: int) -> Meeting:
    query = sa.select(Meeting).where(Meeting.id == meeting_id).options(joinedload(Meeting.forum))
    if not actor.is_staff:
        query = query.where(_on_register(actor.agency_id))
    found = db.session.scalar(query)
    if found is None:
        raise NotFound(GONE)
    return found


def register(meeting_id: int) -> list[MeetingAttendance]:
    return list(db.session.scalars(
        sa.select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id)
        .options(joinedload(MeetingAttendance.agency), joinedload(MeetingAttendance.representative))
        .order_by(MeetingAttendance.id)
    ))  # fmt: skip


def observers(meeting_id: int) -> list[MeetingObserver]:
    return list(
        db.session.scalars(
            sa.select(MeetingObserver).where(MeetingObserver.meeting_id == meeting_id).order_by(MeetingObserver.id)
        )
    )


def cases_of(meeting_id: int, *, withdrawn: bool = False) -> list[ForumCase]:
    query = sa.select(ForumCase).where(ForumCase.meeting_id == meeting_id)
    if not withdrawn:
        query = query.where(ForumCase.withdrawn_at.is_(None))
    return list(db.session.scalars(query.order_by(ForumCase.id)))


def get_case(actor: Actor, case_id: int) -> tuple[ForumCase, Meeting]:
    case = db.session.get(ForumCase, case_id)
    if case is None:
        raise NotFound(GONE)
    return case, get_meeting(actor, case.meeting_id)


def cases_by_id(ids: Iterable[int]) -> dict[int, ForumCase]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {c.id: c for c in db.session.scalars(sa.select(ForumCase).where(ForumCase.id.in_(wanted)))}


def _with_parts(query: sa.Select[tuple[ForumAction]]) -> sa.Select[tuple[ForumAction]]:
    return query.options(joinedload(ForumAction.agency), joinedload(ForumAction.owner),
                         joinedload(ForumAction.meeting))  # fmt: skip


def actions_raised(meeting_id: int) -> list[ForumAction]:
    return list(db.session.scalars(
        _with_parts(sa.select(ForumAction).where(ForumAction.meeting_id == meeting_id))
        .order_by(ForumAction.id)))  # fmt: skip


def previous_meeting(meeting: Meeting) -> Meeting | None:
    return db.session.scalar(
        sa.select(Meeting).where(Meeting.forum_id == meeting.forum_id, Meeting.starts_at < meeting.starts_at,
                                 Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.starts_at.desc()).limit(1))  # fmt: skip


def carried_actions(meeting: Meeting) -> list[ForumAction]:
    """For review at this meeting: every action of the forum raised at an earlier meeting and still
    open (never dropped, however many meetings ago), and those closed since the last meeting."""
    earlier = sa.select(Meeting.id).where(Meeting.forum_id == meeting.forum_id,
                                          Meeting.starts_at < meeting.starts_at)  # fmt: skip
    last = (  # when the last meeting was held (actions closed since are reported once)
        sa.select(sa.func.coalesce(Meeting.held_at, Meeting.starts_at))
        .where(Meeting.forum_id == meeting.forum_id, Meeting.starts_at < meeting.starts_at,
               Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.starts_at.desc()).limit(1).scalar_subquery()
    )  # fmt: skip
    return list(db.session.scalars(
        _with_parts(sa.select(ForumAction).where(
            ForumAction.forum_id == meeting.forum_id, ForumAction.meeting_id.in_(earlier),
            sa.or_(ForumAction.status == ActionStatus.OPEN, ForumAction.closed_at >= last)))
        .order_by(ForumAction.due_on, ForumAction.id)
    ))  # fmt: skip


def get_action(actor: Actor, action_id: int) -> ForumAction:
    action = db.session.get(ForumAction, action_id)
    if action is None:
        raise NotFound(GONE)
    if not actor.is_staff and action.agency_id != actor.agency_id:
        get_meeting(actor, action.meeting_id)  # on the register of the meeting that agreed it, or 404
    return action


def agency_actions(agency_id: int | None, *, open_only: bool = False, limit: int = 200) -> list[ForumAction]:
    query = _with_parts(sa.select(ForumAction))
    if agency_id is not None:
        query = query.where(ForumAction.agency_id == agency_id)
    if open_only:
        query = query.where(ForumAction.status == ActionStatus.OPEN)
    return list(db.session.scalars(query.order_by(ForumAction.due_on.desc(), ForumAction.id.desc()).limit(limit)))


@dataclass
class Accountability:
    agency: Agency
    open: int = 0
    overdue: int = 0
    done_on_time: int = 0
    done_late: int = 0
    not_done_circumstances: int = 0
    not_done_agency: int = 0
    meetings: int = 0
    present: int = 0
    apologies: int = 0
    absent: int = 0

    @property
    def done(self) -> int:
        return self.done_on_time + self.done_late


@dataclass
class AccountabilityView:
    rows: list[Accountability] = field(default_factory=list)


def accountability(agency_id: int | None = None) -> list[Accountability]:
    """Per agency: its forum actions by outcome and its attendance at held meetings. Three statements."""
    now = today()
    a = ForumAction
    done = a.status == ActionStatus.DONE
    counts = (
        sa.select(a.agency_id, sa.func.count().filter(a.status == ActionStatus.OPEN),
                  sa.func.count().filter(a.status == ActionStatus.OPEN, a.due_on < now),
                  sa.func.count().filter(done, a.closed_on <= a.due_on),
                  sa.func.count().filter(done, a.closed_on > a.due_on),
                  sa.func.count().filter(a.status == ActionStatus.NOT_DONE_CIRCUMSTANCES),
                  sa.func.count().filter(a.status == ActionStatus.NOT_DONE_AGENCY))
        .group_by(a.agency_id)
    )  # fmt: skip
    m = MeetingAttendance
    held = sa.select(Meeting.id).where(Meeting.status.in_((MeetingStatus.HELD, MeetingStatus.MINUTES_AGREED)))
    seen = (
        sa.select(m.agency_id, sa.func.count(), sa.func.count().filter(m.status == "present"),
                  sa.func.count().filter(m.status == "apologies"), sa.func.count().filter(m.status == "absent"))
        .where(m.meeting_id.in_(held)).group_by(m.agency_id)
    )  # fmt: skip
    if agency_id is not None:
        counts, seen = counts.where(a.agency_id == agency_id), seen.where(m.agency_id == agency_id)
    rows: dict[int, list[int]] = {}
    for aid, *figures in db.session.execute(counts):
        rows[aid] = [*figures, 0, 0, 0, 0]
    for aid, *figures in db.session.execute(seen):
        rows.setdefault(aid, [0] * 6)[6:] = figures
    agencies = {x.id: x for x in db.session.scalars(sa.select(Agency).where(Agency.id.in_(rows)))}
    return sorted((Accountability(agencies[aid], *figures) for aid, figures in rows.items()),
                  key=lambda r: r.agency.name)  # fmt: skip


def revisions(meeting_id: int, *, limit: int = 50) -> list[MinutesRevision]:
    return list(db.session.scalars(
        sa.select(MinutesRevision).where(MinutesRevision.meeting_id == meeting_id)
        .order_by(MinutesRevision.id.desc()).limit(limit)))  # fmt: skip


def revision_count(meeting_id: int) -> int:
    return (
        db.session.scalar(sa.select(sa.func.count(MinutesRevision.id)).where(MinutesRevision.meeting_id == meeting_id))
        or 0
    )


def people(ids: Iterable[int]) -> dict[int, ServiceUser]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {p.id: p for p in db.session.scalars(sa.select(ServiceUser).where(ServiceUser.id.in_(wanted)))}


def agencies(ids: Iterable[int]) -> dict[int, Agency]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {x.id: x for x in db.session.scalars(sa.select(Agency).where(Agency.id.in_(wanted)))}


def agency_contacts(agency_ids: Sequence[int]) -> dict[int, list[Contact]]:
    """The active contacts of each agency (for choosing a representative or an action's owner)."""
    found: dict[int, list[Contact]] = {}
    if not agency_ids:
        return found
    for contact in db.session.scalars(
        sa.select(Contact).where(Contact.agency_id.in_(sorted(set(agency_ids))), Contact.status == "active")
        .order_by(Contact.name)):  # fmt: skip
        found.setdefault(contact.agency_id, []).append(contact)
    return found


def discussed_within(service_user_id: int, before: dt.datetime, days: int = 365) -> bool:
    """Whether she was a case at a meeting (not cancelled) in the ``days`` before ``before``."""
    since = before - dt.timedelta(days=days)
    return bool(db.session.scalar(
        sa.select(sa.func.count(ForumCase.id)).join(Meeting, Meeting.id == ForumCase.meeting_id)
        .where(ForumCase.service_user_id == service_user_id, ForumCase.withdrawn_at.is_(None),
               Meeting.status != MeetingStatus.CANCELLED, Meeting.starts_at < before,
               Meeting.starts_at >= since)))  # fmt: skip


def meeting_day(meeting: Meeting) -> dt.date:
    return london_date(meeting.starts_at)
