"""A world built for the reports: every record placed on a known London day, so each indicator's value
is known by hand (the comments give the reasoning), with records just outside the period on each side.

The period is 1 January to 30 June 2026. Five women: Wren (W1), Ash (W2), Bay (W3), Elm (W4), Fir (W5).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from agencies.models import Agency, AgencyKind
from consent.models import ConsentMethod, ConsentRecord, ServiceUser
from forum.models import ActionStatus, Forum, ForumAction, ForumCase, Meeting, MeetingStatus
from hub.db import db, london_date
from hub.indicators import Period
from hub.workdays import working_days_between
from referrals.models import Referral
from referrals.states import Status
from releases.dates import CustodyType, ReleaseType, Rule
from releases.models import CustodyEpisode, CustodyStatus, ItemStatus, NightOne, Pathway, PlanItem, Responsible
from rota.models import AgencyAttendance, Attendance, RotaSession, SessionRecord, SessionStatus
from tests.helpers import host_agency, make_agency

PERIOD = Period(dt.date(2026, 1, 1), dt.date(2026, 6, 30))
_n = itertools.count(1)


def at(day: str, time: str = "10:00") -> dt.datetime:
    """A UTC instant."""
    return dt.datetime.fromisoformat(f"{day}T{time}:00+00:00")


def woman(given: str) -> ServiceUser:
    person = ServiceUser(reference=f"W-TEST-{next(_n):04d}", given_name=given, family_name="Testperson")
    db.session.add(person)
    db.session.flush()
    return person


def consent(person: ServiceUser, agency: Agency, given_on: str) -> ConsentRecord:
    record = ConsentRecord(service_user_id=person.id, agency_id=agency.id, purposes=["referral"],
                           data_categories=["identity"], method=ConsentMethod.VERBAL,
                           given_on=dt.date.fromisoformat(given_on),
                           expires_on=dt.date.fromisoformat(given_on) + dt.timedelta(days=365),
                           information_version="test")  # fmt: skip
    db.session.add(record)
    db.session.flush()
    return record


def referral(person: ServiceUser, agency: Agency, sent_at: dt.datetime, *, status: Status = Status.SENT,
             acknowledge_by: str | None = None, acknowledged_at: dt.datetime | None = None,
             decided_at: dt.datetime | None = None, due_on: str | None = None) -> Referral:  # fmt: skip
    found = Referral(
        reference=f"R-TEST-{next(_n):04d}", service_user_id=person.id, agency_id=agency.id,
        data_categories=["identity"], reason="Test", purpose="referral", status=status, sent_at=sent_at,
        acknowledge_by=dt.date.fromisoformat(acknowledge_by) if acknowledge_by else None,
        acknowledged_at=acknowledged_at, decided_at=decided_at,
        due_on=dt.date.fromisoformat(due_on) if due_on else None,
        # as referrals.changes.move keeps them when the agency acknowledges and decides
        acknowledge_working_days=working_days_between(london_date(sent_at), london_date(acknowledged_at))
        if acknowledged_at else None,
        decide_working_days=working_days_between(london_date(acknowledged_at), london_date(decided_at))
        if acknowledged_at and decided_at else None,
    )  # fmt: skip
    db.session.add(found)
    db.session.flush()
    return found


def custody(person: ServiceUser, prison: Agency, created: str, *, released_on: str | None = None,
            night_one: NightOne | None = None, untold: int | None = None) -> CustodyEpisode:  # fmt: skip
    day = dt.date.fromisoformat(released_on or "2026-09-01")
    episode = CustodyEpisode(
        reference=f"C-TEST-{next(_n):04d}", service_user_id=person.id, prison_agency_id=prison.id,
        custody_type=CustodyType.SENTENCED, release_type=ReleaseType.AUTOMATIC, nominal_release_on=day,
        statutory_on=day, expected_on=day, plan_on=day, rule=Rule.NONE,
        status=CustodyStatus.RELEASED if released_on else CustodyStatus.IN_CUSTODY,
        released_on=dt.date.fromisoformat(released_on) if released_on else None, night_one=night_one,
        agencies_untold=untold, created_at=at(created),
    )  # fmt: skip
    db.session.add(episode)
    db.session.flush()
    return episode


def item(episode: CustodyEpisode, need: str | None, pathway: Pathway, *, done_on: str | None = None,
         status: ItemStatus | None = None) -> PlanItem:  # fmt: skip
    found = PlanItem(custody_id=episode.id, need=need, pathway=pathway, title=need or "Something else",
                     status=status or (ItemStatus.DONE if done_on else ItemStatus.NOT_STARTED),
                     responsible=Responsible.CHARITY,
                     done_on=dt.date.fromisoformat(done_on) if done_on else None)  # fmt: skip
    db.session.add(found)
    db.session.flush()
    return found


def session(day: str, *, cancelled: bool = False, women: int | None = None, new: int = 0,
            attendance: dict[int, Attendance] | None = None) -> RotaSession:  # fmt: skip
    found = RotaSession(date=dt.date.fromisoformat(day), starts_at=dt.time(10), ends_at=dt.time(13), venue="Hall",
                        status=SessionStatus.CANCELLED if cancelled else SessionStatus.SCHEDULED)  # fmt: skip
    db.session.add(found)
    db.session.flush()
    if women is not None:
        db.session.add(SessionRecord(session_id=found.id, women_attended=women, new_women=new))
    for agency_id, kind in (attendance or {}).items():
        db.session.add(AgencyAttendance(session_id=found.id, agency_id=agency_id, attendance=kind))
    db.session.flush()
    return found


@dataclass
class World:
    host: Agency
    probation: Agency
    housing: Agency
    drugs: Agency
    prison: Agency
    women: dict[str, ServiceUser] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def build() -> World:
    w = World(host_agency(), make_agency(AgencyKind.PROBATION, name="Test Probation"),
              make_agency(AgencyKind.HOUSING, name="Test Housing"),
              make_agency(AgencyKind.SUBSTANCE_USE, name="Test Drugs"),
              make_agency(AgencyKind.PRISON, name="Test Prison"))  # fmt: skip
    for name in ("wren", "ash", "bay", "elm", "fir"):
        w.women[name] = woman(name.capitalize())
    wren, ash, bay, elm, fir = (w.women[n] for n in ("wren", "ash", "bay", "elm", "fir"))
    # Consents: Wren in the period; Ash the day before it; Bay on its last day.
    consent(wren, w.probation, "2026-02-01")
    consent(ash, w.probation, "2025-12-31")
    consent(bay, w.housing, "2026-06-30")
    # Referrals.
    # Wren to probation: sent Saturday 10 January, acknowledged Monday 12th (1 working day, on time),
    # accepted Thursday 15th (3 working days after acknowledging).
    referral(
        wren,
        w.probation,
        at("2026-01-10"),
        status=Status.ACCEPTED,
        acknowledge_by="2026-01-13",
        acknowledged_at=at("2026-01-12"),
        decided_at=at("2026-01-15"),
    )
    # Wren to housing: sent Monday 2 March, acknowledged Friday 6th (late: due the 4th, 4 working days),
    # declined Monday 9th (1 working day).
    referral(
        wren,
        w.housing,
        at("2026-03-02"),
        status=Status.DECLINED,
        acknowledge_by="2026-03-04",
        acknowledged_at=at("2026-03-06"),
        decided_at=at("2026-03-09"),
    )
    # Bay to probation: sent and acknowledged on Wednesday 1 April (0 working days, on time), undecided.
    referral(
        bay,
        w.probation,
        at("2026-04-01", "09:00"),
        status=Status.ACKNOWLEDGED,
        acknowledge_by="2026-04-03",
        acknowledged_at=at("2026-04-01", "15:00"),
    )
    # Outside: Ash to probation on 1 July (still waiting, long overdue now); Elm to drugs at 23:30 UTC on
    # 30 June, which is 00:30 on 1 July in London; Fir to drugs at 23:30 UTC on 31 December 2025 (GMT: the
    # 31st in London too).
    referral(ash, w.probation, at("2026-07-01"), acknowledge_by="2026-07-03", due_on="2026-07-03")
    referral(elm, w.drugs, at("2026-06-30", "23:30"))
    referral(fir, w.drugs, at("2025-12-31", "23:30"))
    # Custody. Ash: in since November, released 10 March: met, probation seen, treatment on the 20th (within
    # 3 weeks), housed, one agency not told. Elm: in from February, still in; applied for ID on 1 April.
    # Fir: released in December 2025 (before the period).
    ash_custody = custody(ash, w.prison, "2025-11-01", released_on="2026-03-10", night_one=NightOne.SETTLED, untold=1)
    item(ash_custody, "meet", Pathway.DAY_OF_RELEASE, done_on="2026-03-10")
    item(ash_custody, "probation_appointment", Pathway.DAY_OF_RELEASE, done_on="2026-03-11")
    item(ash_custody, "treatment", Pathway.SUBSTANCE_USE, done_on="2026-03-20")
    elm_custody = custody(elm, w.prison, "2026-02-01")
    item(elm_custody, "id", Pathway.FINANCE_AND_ID, done_on="2026-04-01")
    item(elm_custody, "gp_register", Pathway.HEALTH)
    fir_custody = custody(fir, w.prison, "2025-06-01", released_on="2025-12-01", night_one=NightOne.HOMELESS)
    item(fir_custody, "meet", Pathway.DAY_OF_RELEASE, done_on="2025-12-01")
    # The forum: a meeting held on 12 May heard Fir's case; two actions fell due in the period, one done on
    # time (probation), one done late (housing); a third falls due in August.
    forum = Forum(name="Test forum")
    db.session.add(forum)
    db.session.flush()
    meeting = Meeting(forum_id=forum.id, starts_at=at("2026-05-12"), ends_at=at("2026-05-12", "12:00"),
                      status=MeetingStatus.HELD, held_at=at("2026-05-12", "12:00"))  # fmt: skip
    db.session.add(meeting)
    db.session.flush()
    db.session.add(ForumCase(meeting_id=meeting.id, service_user_id=fir.id, label=f"FC-TEST-{next(_n):04d}",
                             reason="Test", nominated_by_kind="user"))  # fmt: skip
    for agency, due, closed in ((w.probation, "2026-05-20", "2026-05-19"), (w.housing, "2026-05-25", "2026-05-28"),
                                (w.housing, "2026-08-01", None)):  # fmt: skip
        db.session.add(ForumAction(
            reference=f"FA-TEST-{next(_n):04d}", forum_id=forum.id, meeting_id=meeting.id, text="Test",
            agency_id=agency.id,
            due_on=dt.date.fromisoformat(due), status=ActionStatus.DONE if closed else ActionStatus.OPEN,
            closed_on=dt.date.fromisoformat(closed) if closed else None,
        ))  # fmt: skip
    # The drop-in: 7 January held (10 women, 3 new; probation came, housing did not); 14 January cancelled;
    # 1 July outside.
    session(
        "2026-01-07",
        women=10,
        new=3,
        attendance={w.probation.id: Attendance.ATTENDED, w.housing.id: Attendance.NO_SHOW},
    )
    session("2026-01-14", cancelled=True)
    session("2026-07-01", women=9, new=2, attendance={w.probation.id: Attendance.ATTENDED})
    db.session.flush()
    return w
