"""A fictional forum for the demo, loaded by ``flask hub demo`` after the women and the rota.

The Northgate Women's Safeguarding Forum meets on the second Tuesday of each month at 10:00, with
five member agencies (probation, housing, drug and alcohol, the IDVA service and the police), Priya
Natt in the chair:

- last month's meeting was held and its minutes agreed: one action done on time, one still open
  (so it is carried onto the next agenda);
- the next meeting has a case nominated: Ria Calder, who agreed to be discussed with probation and
  housing only, so the other three agencies leave the room for her item.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from agencies.models import Agency
from consent import services as consent_services
from consent.models import ConsentMethod, ServiceUser
from forum import services
from forum.models import ActionStatus, AttendanceStatus, ForumAction, Meeting, MeetingAttendance, MeetingStatus
from forum.recurrence import at_london, nth_weekday
from hub.auth.models import User
from hub.db import db, new_reference, today, utcnow
from hub.workdays import add_working_days

MEMBERS = ["city-probation", "riverside-housing-options", "pathways-drug-alcohol", "safer-homes-idva",
           "northshire-police-vulnerability"]  # fmt: skip


def _user(email: str) -> User:
    found = db.session.scalar(sa.select(User).where(User.email == email))
    assert found is not None, email
    return found


def _month_before(day: dt.date) -> tuple[int, int]:
    return (day.year - 1, 12) if day.month == 1 else (day.year, day.month - 1)


def load() -> bool:
    if db.session.scalar(sa.select(sa.func.count(Meeting.id))):
        return False
    chair = _user("manager@northgate.example.org")
    practitioner = _user("practitioner@northgate.example.org")
    agencies = {a.slug: a for a in db.session.scalars(sa.select(Agency).where(Agency.slug.in_(MEMBERS)))}
    members = [agencies[slug] for slug in MEMBERS]
    forum = services.create_forum(chair, {
        "name": "Northgate Women's Safeguarding Forum", "venue": "The Old Library, 3 Mill Lane, Northgate",
        "member_agency_ids": [a.id for a in members], "chair_user_id": chair.id, "weekday": 1, "week_of_month": 2,
        "starts_at": dt.time(10, 0),
        "standing_items": ["Welcome, apologies and the confidentiality statement",
                           "Partnership news and changes of staff", "Any other business"],
    })  # fmt: skip
    for agency in members:
        services.set_member(chair, forum, agency.id, {"representative_contact_id": agency.key_contact_id,
                                                      "deputy_contact_id": agency.deputy_contact_id})  # fmt: skip
    # Last month's meeting, held and its minutes agreed (written as it stands: the hub never holds a
    # meeting in the past through its services).
    on = today()
    year, month = _month_before(on)
    last_day = nth_weekday(year, month, 1, 2)
    if last_day >= on:
        year, month = _month_before(last_day)
        last_day = nth_weekday(year, month, 1, 2)
    starts = at_london(last_day, dt.time(10, 0))
    held = Meeting(forum_id=forum.id, starts_at=starts, ends_at=starts + dt.timedelta(hours=2), venue=forum.venue,
                   status=MeetingStatus.MINUTES_AGREED, held_at=starts, confidentiality=forum.confidentiality,
                   confidentiality_read_at=starts, minutes_due_on=add_working_days(last_day, forum.minutes_days),
                   minutes="Present: all five member agencies. The forum reviewed the drop-in's housing gaps and "
                   "agreed two actions.", minutes_circulated_at=starts + dt.timedelta(days=2),
                   minutes_agreed_at=starts + dt.timedelta(days=2), minutes_agreed_by_id=chair.id)  # fmt: skip
    db.session.add(held)
    db.session.flush()
    for agency in members:
        status = AttendanceStatus.APOLOGIES if agency.slug == "northshire-police-vulnerability" else \
            AttendanceStatus.PRESENT  # fmt: skip
        db.session.add(MeetingAttendance(meeting_id=held.id, agency_id=agency.id, status=status,
                                         representative_contact_id=agency.key_contact_id,
                                         information_sent=True if status is AttendanceStatus.APOLOGIES else None,
                                         information_received_on=last_day if status is AttendanceStatus.APOLOGIES
                                         else None))  # fmt: skip
    for text, slug, due, done in (
        ("Cover the housing gaps at the drop-in on the second and fourth Wednesdays", "riverside-housing-options",
         add_working_days(last_day, 10), True),
        ("Offer a named worker for women released on a Friday", "pathways-drug-alcohol",
         on + dt.timedelta(days=5), False),
    ):  # fmt: skip
        db.session.add(ForumAction(
            reference=new_reference("FA", ForumAction.reference), forum_id=forum.id, meeting_id=held.id,
            text=text, agency_id=agencies[slug].id, due_on=due,
            status=ActionStatus.DONE if done else ActionStatus.OPEN,
            closed_at=utcnow() - dt.timedelta(days=3) if done else None,
            closed_on=today() - dt.timedelta(days=3) if done else None, closed_by_kind="user" if done else "",
            closed_by_id=chair.id if done else None, close_note="Both Wednesdays now covered" if done else "",
        ))  # fmt: skip
    # The next meeting, with Ria Calder's case for probation and housing only.
    upcoming_day = nth_weekday(on.year, on.month, 1, 2)
    if upcoming_day <= on:
        upcoming_day = nth_weekday(on.year + (on.month == 12), on.month % 12 + 1, 1, 2)
    upcoming = services.schedule_meeting(chair, forum, {"starts_at": at_london(upcoming_day, dt.time(10, 0))})
    ria = db.session.scalar(sa.select(ServiceUser).where(ServiceUser.given_name == "Ria",
                                                         ServiceUser.family_name == "Calder"))  # fmt: skip
    if ria is not None:
        for slug in ("city-probation", "riverside-housing-options"):
            consent_services.record_consent(practitioner, ria, {
                "agency_id": agencies[slug].id, "purposes": ["forum_discussion"], "data_categories": ["identity"],
                "method": ConsentMethod.WRITTEN, "given_on": on - dt.timedelta(days=7),
                "expires_on": on + dt.timedelta(days=180),
                "evidence_note": "She agreed to be discussed at the forum with probation and housing only.",
            })  # fmt: skip
        services.nominate_case(practitioner, upcoming, {
            "service_user_id": ria.id,
            "reason": "Housing offer fell through two weeks after release; probation and housing to agree a plan.",
        })  # fmt: skip
    db.session.flush()
    return True
