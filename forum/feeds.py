"""Forum meetings in each member agency's calendar feed (:mod:`rota.feeds`'s ``calendar_events``).

An agency's feed holds the meetings whose register it is on; the whole-rota
feed holds none. An event names the forum and the venue: never a case.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from forum.models import Meeting, MeetingAttendance, MeetingStatus
from forum.recurrence import at_london
from hub.db import db
from rota.feeds import Event


def forum_events(agency_id: int | None, start: dt.date, end: dt.date) -> list[Event]:
    if agency_id is None:
        return []
    on_register = sa.exists().where(
        MeetingAttendance.meeting_id == Meeting.id, MeetingAttendance.agency_id == agency_id
    )
    meetings = db.session.scalars(
        sa.select(Meeting).where(on_register, Meeting.starts_at >= at_london(start, dt.time(0, 0)),
                                 Meeting.starts_at < at_london(end + dt.timedelta(days=1), dt.time(0, 0)))
        .options(joinedload(Meeting.forum)).order_by(Meeting.starts_at))  # fmt: skip
    return [
        Event(f"forum-meeting-{m.id}", f"Forum: {m.forum.name}", m.starts_at, m.ends_at, m.venue,
              f"Cancelled: {m.cancel_reason}" if m.status is MeetingStatus.CANCELLED else
              "The agenda is in the hub (sign in). Cases are heard only by the agencies allowed to hear them.",
              m.status is MeetingStatus.CANCELLED, m.updated_at)
        for m in meetings
    ]  # fmt: skip
