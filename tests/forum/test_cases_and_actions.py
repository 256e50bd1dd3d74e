"""The forum as it must behave, through its services and pages:

- her case's audience is the two of four invited agencies her consent covers; the other two never see
  her name (case page, meeting page, agenda, minutes, emails); a fifth agency added recomputes it; with
  no agency covered the case is refused with ``missing``;
- holding the meeting records who heard each case as a disclosure, and the next meeting is planned;
- open actions carry across three meetings until closed; a leaver's actions move to their successor;
- reminders go once under frozen time, and no email names her;
- agreed minutes are locked (a change is a 409).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from agencies import services as agency_services
from agencies.models import AgencyKind, ContactStatus
from consent import services as consent_services
from consent.models import ConsentMethod, Disclosure, DisclosureKind
from forum import agenda, jobs, queries, services
from forum.audience import of_case_meeting
from forum.models import CaseHearing, ForumAction, Meeting, MeetingStatus
from hub import work
from hub.db import db
from hub.notifications.models import Notification
from hub.permissions import Conflict, Invalid
from referrals.models import Referral
from tests.forum.conftest import MEETING_MORNING
from tests.forum.world import FAMILY_NAME, GIVEN_NAME, MEETING_DAY, ForumWorld, consent_for_forum, contact_of
from tests.helpers import make_agency, sign_in


def _nominate(world: ForumWorld, person: Any = None, meeting: Meeting | None = None) -> Any:
    case, heard = services.nominate_case(world.practitioner, meeting or world.meeting,
                                         {"service_user_id": (person or world.woman).id,
                                          "reason": "Risk has risen since her release"})  # fmt: skip
    db.session.commit()
    return case, heard


def _names_her(text: str) -> bool:
    return GIVEN_NAME in text or FAMILY_NAME in text


def test_the_audience_is_the_agencies_her_consent_covers(world: ForumWorld) -> None:
    case, heard = _nominate(world)
    assert heard.included == [world.probation.id, world.housing.id]
    assert heard.excluded == [world.drugs.id, world.idva.id]
    assert case.label.startswith("FC-") and not case.repeat


def test_a_fifth_agency_covered_or_not_recomputes_the_audience(world: ForumWorld) -> None:
    case, _ = _nominate(world)
    police = make_agency(AgencyKind.POLICE, name="Example Police Safeguarding Unit", slug="ex-police")
    health = make_agency(AgencyKind.HEALTH, name="Example Health Centre", slug="ex-health")
    consent_for_forum(world.practitioner, world.woman, police)
    db.session.commit()
    services.set_attendance(world.manager, world.meeting, police.id, {"status": "invited"})
    services.set_attendance(world.manager, world.meeting, health.id, {"status": "invited"})
    heard = of_case_meeting(world.meeting, [case])[case.id]
    assert police.id in heard.included and health.id in heard.excluded
    # Apologies take an agency out of the room, and out of the audience.
    services.set_attendance(world.housing_lead, world.meeting, world.housing.id, {"status": "apologies",
                                                                                 "information_sent": True})  # fmt: skip
    heard = of_case_meeting(world.meeting, [case])[case.id]
    assert world.housing.id not in heard.included + heard.excluded


def test_no_agency_covered_is_refused_with_missing_and_nothing_kept(world: ForumWorld) -> None:
    with pytest.raises(Invalid) as refused:
        services.nominate_case(world.practitioner, world.meeting,
                               {"service_user_id": world.other.id, "reason": "Worried"})  # fmt: skip
    assert refused.value.extra["missing"]["purpose"] == "forum_discussion"
    assert {a["agency_id"] for a in refused.value.extra["missing"]["agencies"]} == {a.id for a in world.partners}
    db.session.rollback()
    assert queries.cases_of(world.meeting.id) == []


def test_excluded_agencies_never_see_her_name(world: ForumWorld, app: Any) -> None:
    case, _ = _nominate(world)
    services.send_agenda(world.manager, world.meeting)
    db.session.commit()
    for lead, sees in ((world.probation_lead, True), (world.drugs_lead, False), (world.idva_lead, False)):
        http = sign_in(app.test_client(), lead)
        for path in (f"/forum/cases/{case.id}", f"/forum/meetings/{world.meeting.id}",
                     f"/forum/meetings/{world.meeting.id}/agenda", "/forum"):  # fmt: skip
            page = http.get(path)
            assert page.status_code == 200, path
            body = page.get_data(as_text=True)
            assert case.label in body or path == "/forum"
            if path == f"/forum/cases/{case.id}":
                assert _names_her(body) is sees, (lead.name, path)
            else:
                assert not _names_her(body), (lead.name, path)
    viewed = db.session.scalars(sa.select(Disclosure).where(Disclosure.context == "forum_case")).all()
    assert [(d.agency_id, d.kind) for d in viewed] == [(world.probation.id, DisclosureKind.VIEWED)]
    # No email (agenda included) names her; every agency on the register was sent the link.
    mails = db.session.scalars(sa.select(Notification)).all()
    assert mails and not any(_names_her(n.subject + n.body) for n in mails)
    assert any(n.kind == "forum.agenda" and "/agenda" in n.link for n in mails)


def test_holding_records_who_heard_it_and_plans_the_next_meeting(world: ForumWorld, clock: Any) -> None:
    case, _ = _nominate(world)
    clock.move_to(MEETING_MORNING)
    for agency in world.partners:
        services.set_attendance(world.manager, world.meeting, agency.id,
                                {"status": "absent" if agency is world.housing else "present"})  # fmt: skip
    with pytest.raises(Invalid):
        services.hold_meeting(world.manager, world.meeting, {"confidentiality_read": False})
    following = services.hold_meeting(world.manager, world.meeting, {"confidentiality_read": True})
    db.session.commit()
    hearings = db.session.scalars(sa.select(CaseHearing)).all()
    assert [(h.case_id, h.agency_id) for h in hearings] == [(case.id, world.probation.id)]  # housing was absent
    sent = db.session.scalars(sa.select(Disclosure).where(Disclosure.kind == DisclosureKind.SENT)).all()
    assert [(d.agency_id, d.context) for d in sent] == [(world.probation.id, "forum_case")]
    assert following is not None and following.starts_at.date() == dt.date(2027, 1, 12)  # second Tuesday
    assert world.meeting.confidentiality and world.meeting.minutes_due_on == dt.date(2026, 12, 11)


def _hold(world: ForumWorld, clock: Any, meeting: Meeting) -> Meeting:
    day = meeting.starts_at.date()
    clock.move_to(dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC))
    for line in queries.register(meeting.id):
        services.set_attendance(world.manager, meeting, line.agency_id, {"status": "present"})
    following = services.hold_meeting(world.manager, meeting, {"confidentiality_read": True})
    db.session.commit()
    assert following is not None
    return following


def test_open_actions_carry_across_three_meetings_until_closed(world: ForumWorld, clock: Any) -> None:
    first = world.meeting
    action = services.add_action(world.practitioner, first, {"text": "Assess for emergency accommodation",
                                                             "agency_id": world.housing.id,
                                                             "due_on": dt.date(2026, 12, 22)})  # fmt: skip
    share = {"text": "Share the risk plan", "agency_id": world.probation.id, "due_on": dt.date(2026, 12, 15)}
    done_soon = services.add_action(world.practitioner, first, share)
    db.session.commit()
    second = _hold(world, clock, first)
    services.close_action(world.probation_lead, done_soon, "done", "Shared")
    db.session.commit()
    reviewed = [i for i in agenda.build(second, second.forum) if i.kind == "action_review"]
    assert {i.extra["action_id"] for i in reviewed} == {action.id, done_soon.id}  # closed since: reported once
    third = _hold(world, clock, second)
    reviewed = [i for i in agenda.build(third, third.forum) if i.kind == "action_review"]
    assert [i.extra["action_id"] for i in reviewed] == [action.id]  # still open, never dropped
    assert reviewed[0].extra["overdue"] is True
    services.close_action(world.manager, action, "not_done_circumstances", "She moved out of the area")
    db.session.commit()
    fourth = _hold(world, clock, third)
    assert [i for i in agenda.build(fourth, fourth.forum) if i.kind == "action_review"] == []
    with pytest.raises(Conflict):
        services.close_action(world.manager, action, "done", "")


def test_a_leavers_actions_move_to_their_successor(world: ForumWorld) -> None:
    leaver = contact_of(world.housing_lead)
    successor = contact_of(world.worker)
    action = services.add_action(world.practitioner, world.meeting, {"text": "Visit", "agency_id": world.housing.id,
                                                                     "owner_contact_id": leaver.id,
                                                                     "due_on": dt.date(2026, 12, 20)})  # fmt: skip
    db.session.commit()
    held = {i.key for i in work.held_by_contact(leaver.id)}
    assert f"forum_action:{action.id}" in held and any(k.startswith("forum_member:") for k in held)
    agency_services.record_leaver(world.manager, leaver, left_on=dt.date(2026, 12, 7), successor_id=successor.id)
    db.session.commit()
    assert work.held_by_contact(leaver.id) == []
    db.session.refresh(action)
    assert action.owner_contact_id == successor.id
    assert leaver.status is ContactStatus.LEFT


def test_reminders_are_sent_once_and_never_name_her(world: ForumWorld, clock: Any) -> None:
    case, _ = _nominate(world)
    action = services.add_action(world.practitioner, world.meeting, {"text": f"Call {GIVEN_NAME} about housing",
                                                                     "agency_id": world.housing.id,
                                                                     "case_id": case.id,
                                                                     "due_on": dt.date(2026, 12, 9)})  # fmt: skip
    db.session.commit()
    first = jobs.action_reminders()
    again = jobs.action_reminders()
    db.session.commit()
    assert first >= 1 and again == 0
    clock.move_to(dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC))
    overdue = jobs.action_reminders()
    assert overdue >= 1 and jobs.action_reminders() == 0
    db.session.commit()
    mails = db.session.scalars(sa.select(Notification).where(Notification.kind == "forum.action")).all()
    assert len(mails) == first + overdue
    assert all(action.reference in m.subject and not _names_her(m.subject + m.body) for m in mails)
    assert any(case.label in m.body for m in mails)


def test_agreed_minutes_are_locked(world: ForumWorld, clock: Any) -> None:
    _hold(world, clock, world.meeting)
    with pytest.raises(Invalid):
        services.agree_minutes(world.manager, world.meeting)  # nothing written yet
    services.save_minutes(world.manager, world.meeting, "Present: all members. Two actions agreed.")
    services.save_minutes(world.manager, world.meeting, "Present: all four members. Two actions agreed.")
    services.agree_minutes(world.manager, world.meeting)
    db.session.commit()
    assert world.meeting.status is MeetingStatus.MINUTES_AGREED and queries.revision_count(world.meeting.id) == 2
    for change in (lambda: services.save_minutes(world.manager, world.meeting, "Changed"),
                   lambda: services.agree_minutes(world.manager, world.meeting),
                   lambda: services.add_action(world.practitioner, world.meeting,
                                               {"text": "x", "agency_id": world.idva.id,
                                                "due_on": MEETING_DAY})):  # fmt: skip
        with pytest.raises(Conflict):
            change()
    assert db.session.get(Meeting, world.meeting.id).minutes.startswith("Present: all four")
    assert db.session.scalar(sa.select(sa.func.count(ForumAction.id))) == 0


def test_an_action_asking_for_a_service_is_sent_as_a_referral_through_the_consent_gate(world: ForumWorld) -> None:
    case, _ = _nominate(world)
    action = services.add_action(world.practitioner, world.meeting, {
        "text": "Assess her for emergency accommodation", "agency_id": world.housing.id, "case_id": case.id,
        "due_on": dt.date(2026, 12, 18)})  # fmt: skip
    db.session.commit()
    with pytest.raises(Invalid) as refused:  # her forum consent is not a consent to a referral
        services.refer_action(world.practitioner, action, {"data_categories": ["identity", "housing"]})
    assert refused.value.extra["missing"]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Referral.id))) == 0
    consent_services.record_consent(world.practitioner, world.woman, {
        "agency_id": world.housing.id, "purposes": ["referral"], "data_categories": ["identity", "housing"],
        "method": ConsentMethod.WRITTEN, "given_on": dt.date(2026, 12, 1)})  # fmt: skip
    referral = services.refer_action(world.practitioner, action, {"data_categories": ["identity", "housing"]})
    db.session.commit()
    assert referral.status.value == "sent" and referral.needed_by == action.due_on
    assert db.session.get(ForumAction, action.id).referral_id == referral.id
    with pytest.raises(Conflict):
        services.refer_action(world.practitioner, action, {"data_categories": ["identity"]})
    # An action about her case is for an agency that may hear it.
    call = {"text": "Call her", "agency_id": world.idva.id, "case_id": case.id, "due_on": dt.date(2026, 12, 18)}
    with pytest.raises(Invalid):
        services.add_action(world.practitioner, world.meeting, call)


def test_done_on_time_counts_the_london_day_it_was_closed(world: ForumWorld, clock: Any) -> None:
    due = dt.date(2027, 6, 10)  # summer time: London is an hour ahead of UTC
    on_the_day, next_morning = (
        services.add_action(
            world.practitioner, world.meeting, {"text": text, "agency_id": world.idva.id, "due_on": due}
        )
        for text in ("Call her back", "Send the safety plan")
    )
    clock.move_to(dt.datetime(2027, 6, 10, 22, 30, tzinfo=dt.UTC))  # 23:30 in London, the day it was due
    services.close_action(world.idva_lead, on_the_day, "done", "")
    clock.move_to(dt.datetime(2027, 6, 10, 23, 30, tzinfo=dt.UTC))  # 00:30 in London the next day: late
    services.close_action(world.idva_lead, next_morning, "done", "")
    db.session.commit()
    assert (on_the_day.on_time, next_morning.on_time) == (True, False)
    (idva,) = queries.accountability(world.idva.id)
    assert (idva.done_on_time, idva.done_late) == (1, 1)
