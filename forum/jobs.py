"""The forum's periodic jobs. Each is set-based and safe to run twice.

- ``forum.send-agendas``: a meeting's agenda goes out, as a link, the
  forum's set number of working days before it (or at once, for a meeting
  scheduled later than that).
- ``forum.action-reminders``: an open action's owner (else its agency's key
  contact, else its leads) hears once, 3 working days before it is due, and
  once more the working day after it fell overdue; our chair hears of it
  then too. Each is marked on the action in one statement, so a second run
  sends nothing.
- ``forum.minutes-due``: the chair (else our managers) hears once when a
  held meeting's minutes are past their due day and not circulated.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from forum import notices, services
from forum.models import ActionStatus, Forum, ForumAction, ForumCase, Meeting, MeetingStatus
from hub.auth.models import User
from hub.auth.services import active_managers
from hub.db import db, london_date, today, utcnow
from hub.notifications.services import Message, notify_many
from hub.permissions import SYSTEM
from hub.scheduler import Job
from hub.workdays import add_working_days, working_day_on_or_before

REMIND_WORKING_DAYS = 3


def send_agendas(on: dt.date | None = None) -> int:
    """Send every agenda now due and not yet sent; returns how many meetings."""
    on = on or today()
    meetings = list(db.session.scalars(
        sa.select(Meeting).where(Meeting.status == MeetingStatus.PLANNED, Meeting.starts_at > utcnow())
        .options(joinedload(Meeting.forum)).order_by(Meeting.starts_at)))  # fmt: skip
    sent = 0
    for meeting in meetings:
        day = london_date(meeting.starts_at)
        due = working_day_on_or_before(day)
        for _ in range(meeting.forum.agenda_days):
            due = working_day_on_or_before(due - dt.timedelta(days=1))
        if on >= due:
            services.send_agenda(SYSTEM, meeting)
            sent += 1
    return sent


def _chairs(forum_ids: set[int]) -> dict[int, list[User]]:
    forums = list(db.session.scalars(sa.select(Forum).where(Forum.id.in_(forum_ids))))
    chairs = {u.id: u for u in db.session.scalars(
        sa.select(User).where(User.id.in_([f.chair_user_id for f in forums if f.chair_user_id])))}  # fmt: skip
    managers = active_managers()
    return {f.id: [chairs[f.chair_user_id]] if f.chair_user_id in chairs and chairs[f.chair_user_id].is_active
            else managers for f in forums}  # fmt: skip


def action_reminders(on: dt.date | None = None) -> int:
    """Queue the reminders and overdue notices due today and not yet sent; returns how many were queued."""
    on = on or today()
    soon = add_working_days(on, REMIND_WORKING_DAYS)
    due = list(db.session.scalars(
        sa.select(ForumAction).where(ForumAction.status == ActionStatus.OPEN, ForumAction.reminded_at.is_(None),
                                     ForumAction.due_on >= on, ForumAction.due_on <= soon)))  # fmt: skip
    overdue = list(db.session.scalars(
        sa.select(ForumAction).where(ForumAction.status == ActionStatus.OPEN, ForumAction.overdue_told_at.is_(None),
                                     ForumAction.due_on < on)))  # fmt: skip
    everything = due + overdue
    if not everything:
        return 0
    forums = {
        f.id: f for f in db.session.scalars(sa.select(Forum).where(Forum.id.in_({a.forum_id for a in everything})))
    }
    labels = dict(db.session.execute(sa.select(ForumCase.id, ForumCase.label).where(
        ForumCase.id.in_({a.case_id for a in everything if a.case_id}))).tuples().all())  # fmt: skip
    people = notices.action_recipients(everything)
    chairs = _chairs({a.forum_id for a in overdue}) if overdue else {}
    messages: list[Message] = []
    for batch, kind in ((due, "due"), (overdue, "overdue")):
        for action in batch:
            subject, body = notices.action_message(action, forums[action.forum_id], labels.get(action.case_id or 0, ""),
                                                   kind, on)  # fmt: skip
            key = f"forum:action:{action.id}:{kind}"
            link = f"/forum/actions/{action.id}"
            messages += [Message("forum.action", subject, body, link, f"{key}:{p.key}", user=p.user, email=p.email)
                         for p in people.get(action.id, [])]  # fmt: skip
            if kind == "overdue":
                messages += [Message("forum.action", subject, body, link, f"{key}:u{u.id}", user=u)
                             for u in chairs.get(action.forum_id, [])]  # fmt: skip
    queued = notify_many(messages)
    now = utcnow()
    if due:
        db.session.execute(sa.update(ForumAction).where(ForumAction.id.in_([a.id for a in due]))
                           .values(reminded_at=now).execution_options(synchronize_session=False))  # fmt: skip
    if overdue:
        db.session.execute(sa.update(ForumAction).where(ForumAction.id.in_([a.id for a in overdue]))
                           .values(overdue_told_at=now).execution_options(synchronize_session=False))  # fmt: skip
    return len(queued)


def minutes_due(on: dt.date | None = None) -> int:
    on = on or today()
    late = list(db.session.scalars(
        sa.select(Meeting).where(Meeting.status == MeetingStatus.HELD, Meeting.minutes_due_on < on,
                                 Meeting.minutes_circulated_at.is_(None), Meeting.minutes_reminded_at.is_(None))
        .options(joinedload(Meeting.forum))))  # fmt: skip
    if not late:
        return 0
    chairs = _chairs({m.forum_id for m in late})
    messages = [
        Message("forum.minutes_due", f"Minutes late: {m.forum.name}, {notices.when(m)}",
                f"The minutes of {m.forum.name} on {notices.when(m)} were due to go out by "
                f"{m.minutes_due_on:%-d %B %Y}.", f"/forum/meetings/{m.id}/minutes",
                f"forum:minutes-due:{m.id}:u{u.id}",
                user=u)
        for m in late for u in chairs.get(m.forum_id, [])
    ]  # fmt: skip
    queued = notify_many(messages)
    db.session.execute(sa.update(Meeting).where(Meeting.id.in_([m.id for m in late]))
                       .values(minutes_reminded_at=utcnow())
                       .execution_options(synchronize_session=False))  # fmt: skip
    return len(queued)


def _agendas() -> str:
    return f"{send_agendas()} agendas sent"


def _reminders() -> str:
    return f"{action_reminders()} action reminders queued"


def _minutes() -> str:
    return f"{minutes_due()} late-minutes reminders queued"


JOBS = [
    Job(
        "forum.send-agendas",
        _agendas,
        cron={"hour": 7, "minute": 30},
        description="Send forum agendas, as links, the set number of working days before each meeting",
    ),
    Job(
        "forum.action-reminders",
        _reminders,
        cron={"hour": 8, "minute": 10},
        description="Remind owners of forum actions before they are due, and once when overdue",
    ),
    Job(
        "forum.minutes-due",
        _minutes,
        cron={"hour": 8, "minute": 20},
        description="Tell the chair when a meeting's minutes are late to circulate",
    ),
]
