"""The forum's jobs under frozen time, and its meetings in the agencies' calendar feeds.

- The agenda goes out, as a link, the forum's set number of working days before the meeting (5 by
  default), once, to each member agency's representative; never naming a case's woman.
- The chair hears once when a held meeting's minutes are late to circulate.
- An agency's calendar feed (RFC 5545, parsed with ``icalendar``) has the meetings it is on the register
  of, with stable UIDs; a cancelled meeting stays in it as ``STATUS:CANCELLED``; the whole-rota feed has none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
import sqlalchemy as sa

from forum import jobs, services
from forum.models import Meeting, MeetingStatus
from hub.db import db
from hub.notifications.models import Notification
from rota import feeds
from tests.forum.world import FAMILY_NAME, GIVEN_NAME, ForumWorld

JANUARY = dt.datetime(2027, 1, 12, 10, 0, tzinfo=dt.UTC)  # the second Tuesday of January 2027


def _at(clock: Any, day: dt.date) -> None:
    clock.move_to(dt.datetime.combine(day, dt.time(7, 30), tzinfo=dt.UTC))


def test_the_agenda_goes_out_five_working_days_before_once(world: ForumWorld, clock: Any) -> None:
    january = services.schedule_meeting(world.manager, world.forum, {"starts_at": JANUARY})
    services.nominate_case(world.practitioner, january, {"service_user_id": world.woman.id, "reason": "Risk"})
    db.session.commit()
    _at(clock, dt.date(2027, 1, 4))  # Monday: six working days before
    assert jobs.send_agendas() == 0
    db.session.commit()
    assert db.session.get(Meeting, january.id).status is MeetingStatus.PLANNED
    _at(clock, dt.date(2027, 1, 5))  # five working days before the 12th
    assert jobs.send_agendas() == 1 and jobs.send_agendas() == 0
    db.session.commit()
    assert db.session.get(Meeting, january.id).status is MeetingStatus.AGENDA_SENT
    agenda = Notification.kind == "forum.agenda"
    sent = db.session.scalars(sa.select(Notification).where(agenda, Notification.link.contains(f"/{january.id}/")))
    sent = list(sent)
    assert len(sent) == 4  # one representative for each of the four member agencies
    assert all(n.link.endswith("/agenda") and GIVEN_NAME not in n.body and FAMILY_NAME not in n.body for n in sent)


def test_the_chair_hears_once_when_the_minutes_are_late(world: ForumWorld, clock: Any) -> None:
    clock.move_to(dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC))
    for agency in world.partners:
        services.set_attendance(world.manager, world.meeting, agency.id, {"status": "present"})
    services.hold_meeting(world.manager, world.meeting, {"confidentiality_read": True})
    db.session.commit()
    assert world.meeting.minutes_due_on == dt.date(2026, 12, 11)
    _at(clock, dt.date(2026, 12, 11))
    assert jobs.minutes_due() == 0  # due today, not late
    _at(clock, dt.date(2026, 12, 14))
    assert jobs.minutes_due() == 1 and jobs.minutes_due() == 0
    db.session.commit()
    told = db.session.scalars(sa.select(Notification).where(Notification.kind == "forum.minutes_due")).all()
    assert [n.user_id for n in told] == [world.manager.id]


def test_meetings_are_in_each_member_agencys_calendar_feed(world: ForumWorld, clock: Any) -> None:
    january = services.schedule_meeting(world.manager, world.forum, {"starts_at": JANUARY})
    services.nominate_case(world.practitioner, world.meeting, {"service_user_id": world.woman.id, "reason": "Risk"})
    services.cancel_meeting(world.manager, january, "The venue is closed")
    db.session.commit()
    feed = icalendar.Calendar.from_ical(feeds.calendar("Example Housing Options", feeds.events_for(world.housing.id)))
    events = {str(e["UID"]).split("@")[0]: e for e in feed.walk("VEVENT")}
    assert f"forum-meeting-{world.meeting.id}" in events and f"forum-meeting-{january.id}" in events
    assert str(events[f"forum-meeting-{january.id}"]["STATUS"]) == "CANCELLED"
    assert str(events[f"forum-meeting-{world.meeting.id}"]["SUMMARY"]) == f"Forum: {world.forum.name}"
    text = feeds.calendar("x", feeds.events_for(world.housing.id)).decode()
    assert GIVEN_NAME not in text and FAMILY_NAME not in text
    assert not [e for e in feeds.events_for(None) if e.uid.startswith("forum-")]
