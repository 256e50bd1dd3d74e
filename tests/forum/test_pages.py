"""The forum's pages as people use them:

- a manager sets up a forum with a form and schedules its meeting from the forum's page;
- a practitioner nominates her by her hub reference (a woman nobody in the room may hear is a form error);
  the meeting page lists the case by label, with who may hear it and who leaves the room for it;
- her name shows on the case page only to our staff and to the leads of agencies her consent covers (each
  such view a disclosure); an agency not on the register gets 404 for everything about the meeting; partners
  never reach the pages that run the forum;
- after the meeting is held the chair writes the minutes with a section per case: an agency that did not hear
  a case reads the general record, never the case's section; agreed minutes stay as they were;
- the accountability page for our staff (every agency) and for a partner lead (their own agency only);
- and every page answers 200, or the 4xx it should: never a 500.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html as html_lib
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from agencies.models import Agency, AgencyKind
from consent.models import Disclosure, DisclosureKind, ServiceUser
from forum import services
from forum.models import AttendanceStatus, Forum, ForumCase, ForumMember, Meeting, MeetingStatus
from hub.auth.models import User
from hub.db import db
from hub.permissions import Conflict, Role
from tests.forum.conftest import MEETING_MORNING
from tests.forum.world import FAMILY_NAME, GIVEN_NAME, OTHER_FAMILY, ForumWorld
from tests.helpers import label_problems, make_agency, make_client, make_user, post_form, sign_in

REASON = "Risk has risen since her release"


class Fresh:
    """The world's rows, each loaded afresh when asked for: a refused form rolls back the session the test
    shares with the app, so rows held from before it are stale."""

    def __init__(self, world: ForumWorld) -> None:
        self._rows = {f.name: (type(getattr(world, f.name)), getattr(world, f.name).id)
                      for f in dataclasses.fields(world)}  # fmt: skip

    def __getattr__(self, name: str) -> Any:
        model, row_id = self._rows[name]
        return db.session.get_one(model, row_id)

    def id(self, name: str) -> int:
        return self._rows[name][1]


@pytest.fixture
def w(world: ForumWorld) -> Fresh:
    return Fresh(world)


def text_of(response: Any) -> str:
    html = response.get_data(as_text=True)
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def names_her(response: Any) -> bool:
    body = response.get_data(as_text=True)
    return GIVEN_NAME in body or FAMILY_NAME in body


def as_(client: FlaskClient, user: User) -> FlaskClient:
    return sign_in(client, user)


def nominate(w: Fresh, person: ServiceUser | None = None) -> ForumCase:
    case, _ = services.nominate_case(w.practitioner, w.meeting, {"service_user_id": (person or w.woman).id,
                                                                 "reason": REASON})  # fmt: skip
    db.session.commit()
    return case


def outsider() -> User:
    """The lead of an agency on no forum and on no meeting's register."""
    police = make_agency(AgencyKind.POLICE, name="Example Police Public Protection", slug="ex-police")
    lead = make_user(Role.PARTNER_LEAD, police, name="Olu Outsider")
    db.session.commit()
    return lead


def row_with(page: str, text: str) -> str:
    """The table row of a page (its text) that holds ``text``."""
    rows = [html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)))
            for r in re.findall(r"<tr.*?</tr>", page, flags=re.S)]  # fmt: skip
    found = [r for r in rows if text in r]
    assert found, f"no row with {text!r}"
    return found[0]


# Setting up --------------------------------------------------------------------------------------


def test_a_manager_sets_up_a_forum_and_schedules_its_meeting_from_its_page(client: FlaskClient, w: Fresh) -> None:
    as_(client, w.manager)
    assert client.get("/forum/new").status_code == 200
    forums = sa.select(sa.func.count(Forum.id))
    before = db.session.scalar(forums)
    blank = post_form(client, "/forum/new", {"name": "", "weekday": "2", "week_of_month": "3"})
    assert blank.status_code == 422 and "Enter the forum's name" in text_of(blank)
    bad = post_form(client, "/forum/new", {"name": "East Forum", "starts_at": "25:99", "agenda_days": "99"})
    assert bad.status_code == 422 and "Enter a time such as 10:00" in text_of(bad)
    assert db.session.scalar(forums) == before, "a refused form set up a forum"
    made = post_form(client, "/forum/new", {
        "name": "East Women's Forum", "venue": "East Library", "chair_user_id": str(w.manager.id),
        "week_of_month": "3", "weekday": "2", "starts_at": "14:00", "agenda_days": "4", "minutes_days": "2",
        "standing": "Welcome\n\nAny other business\n", "member_agency_ids": [str(w.probation.id), str(w.drugs.id)],
    })  # fmt: skip
    assert made.status_code == 302, text_of(made)[-800:]
    forum = db.session.scalars(sa.select(Forum).where(Forum.name == "East Women's Forum")).one()
    assert made.headers["Location"].endswith(f"/forum/forums/{forum.id}")
    assert (forum.venue, forum.weekday, forum.week_of_month, forum.starts_at) == ("East Library", 2, 3,
                                                                                  dt.time(14, 0))  # fmt: skip
    assert (forum.agenda_days, forum.minutes_days, forum.standing_items) == (4, 2, ["Welcome", "Any other business"])
    members = db.session.scalars(sa.select(ForumMember.agency_id).where(ForumMember.forum_id == forum.id)).all()
    assert sorted(members) == sorted([w.probation.id, w.drugs.id])
    page = f"/forum/forums/{forum.id}"
    shown = text_of(client.get(page))
    assert "The third Wednesday of each month, 14:00" in shown and "Example Recovery Service" in shown
    assert "Schedule a meeting" in shown
    # Scheduling from the forum's page: a real date, not passed, once.
    meetings = sa.select(sa.func.count(Meeting.id)).where(Meeting.forum_id == forum.id)
    for day, message in (("30/2/2027", "Enter a real date"), ("1/12/2026", "Choose a time that has not passed"),
                         ("31/12/9999", "Choose a date before the year 9999")):  # fmt: skip
        refused = post_form(client, f"{page}/meetings", {"day": day, "time": "14:00"}, page)
        assert refused.status_code == 302 and db.session.scalar(meetings) == 0, day
        assert message in text_of(client.get(page)), day
    done = post_form(client, f"{page}/meetings", {"day": "20/1/2027", "time": "14:00"}, page)
    assert done.status_code == 302 and db.session.scalar(meetings) == 1
    meeting = db.session.scalars(sa.select(Meeting).where(Meeting.forum_id == forum.id)).one()
    assert meeting.starts_at == dt.datetime(2027, 1, 20, 14, 0, tzinfo=dt.UTC) and meeting.venue == "East Library"
    shown = text_of(client.get(page))
    assert "every member agency is invited" in shown and "Planned" in shown
    again = post_form(client, f"{page}/meetings", {"day": "20/1/2027", "time": "14:00"}, page)
    assert again.status_code == 302 and db.session.scalar(meetings) == 1
    assert "already meets at that time" in text_of(client.get(page))
    shown = client.get(f"/forum/meetings/{meeting.id}").get_data(as_text=True)
    assert not label_problems(shown)  # one form per agency on the register, each field its own id
    register = shown[
        shown.index('id="register"') : shown.index("Add an agency to this meeting")
    ]  # not the "add an agency" list
    assert "Example Probation Delivery Unit" in register and "Example Recovery Service" in register
    assert "Example Housing Options" not in register


# Cases -------------------------------------------------------------------------------------------


def test_a_practitioner_nominates_her_by_her_reference(client: FlaskClient, w: Fresh) -> None:
    as_(client, w.practitioner)
    form = f"/forum/meetings/{w.meeting.id}/nominate"
    assert client.get(form).status_code == 200
    cases = sa.select(sa.func.count(ForumCase.id))
    nobody = post_form(client, form, {"reference": w.other.reference, "reason": REASON})
    assert nobody.status_code == 422 and "No agency invited may hear her case" in text_of(nobody)
    assert OTHER_FAMILY not in nobody.get_data(as_text=True)
    unknown = post_form(client, form, {"reference": "SU-NONE-NONE", "reason": REASON})
    assert unknown.status_code == 422 and "No woman has that reference" in text_of(unknown)
    blank = post_form(client, form, {"reference": w.woman.reference, "reason": ""})
    assert blank.status_code == 422 and "Say why the forum should discuss her" in text_of(blank)
    assert db.session.scalar(cases) == 0, "a refused nomination was kept"
    made = post_form(client, form, {"reference": w.woman.reference.lower(), "reason": REASON})
    assert made.status_code == 302
    case = db.session.scalars(sa.select(ForumCase)).one()
    assert made.headers["Location"].endswith(f"/forum/cases/{case.id}")
    assert case.service_user_id == w.woman.id and case.reason == REASON
    twice = post_form(client, form, {"reference": w.woman.reference, "reason": REASON})
    assert twice.status_code == 422 and "already a case" in text_of(twice)
    page = client.get(f"/forum/meetings/{w.meeting.id}")
    assert page.status_code == 200 and case.label in text_of(page)
    assert "May hear it" in text_of(page) and "Leave the room for it" in text_of(page)
    row = row_with(page.get_data(as_text=True), case.label)
    assert "Example Probation Delivery Unit, Example Housing Options" in row
    assert "Example Recovery Service, Example IDVA Service" in row
    assert row.index("Example Housing Options") < row.index("Example Recovery Service")  # hears, then leaves


def test_a_practitioner_nominates_her_from_her_own_page(client: FlaskClient, w: Fresh) -> None:
    as_(client, w.practitioner)
    her_page = f"/service-users/{w.woman.id}"
    shown = client.get(her_page).get_data(as_text=True)
    assert "Nominate her for a forum meeting" in shown and not label_problems(shown)
    made = post_form(client, f"/forum/service-users/{w.woman.id}/nominate", {"meeting_id": str(w.meeting.id),
                                                                    "reason": REASON}, her_page)  # fmt: skip
    assert made.status_code == 302
    case = db.session.scalars(sa.select(ForumCase)).one()
    assert (case.service_user_id, case.meeting_id) == (w.woman.id, w.meeting.id)
    assert f"Case {case.label}" in text_of(client.get(her_page))


def test_her_name_shows_only_to_her_audience_and_each_view_is_recorded(client: FlaskClient, w: Fresh) -> None:
    case = nominate(w)
    path = f"/forum/cases/{case.id}"
    viewed = sa.select(Disclosure).where(Disclosure.context == "forum_case")
    for lead in (w.drugs_lead, w.idva_lead):
        page = as_(client, lead).get(path)
        assert page.status_code == 200 and case.label in text_of(page)
        assert not names_her(page) and w.woman.reference not in text_of(page)
        assert REASON not in text_of(page)
        assert "Your agency is not in this case's audience" in text_of(page)
        for where in (f"/forum/meetings/{w.meeting.id}", f"/forum/meetings/{w.meeting.id}/agenda", "/forum"):
            assert not names_her(client.get(where)), (lead.name, where)
    assert db.session.scalars(viewed).all() == [], "a view that showed nothing was recorded as a disclosure"
    page = as_(client, w.housing_lead).get(path)
    assert page.status_code == 200 and names_her(page) and REASON in text_of(page)
    assert "this view is recorded" in text_of(page)
    seen = db.session.scalars(viewed).all()
    assert [(d.agency_id, d.kind, d.context_id, d.service_user_id) for d in seen] == [
        (w.housing.id, DisclosureKind.VIEWED, case.id, w.woman.id)]  # fmt: skip
    # Our staff see her name; that is no disclosure.
    assert names_her(as_(client, w.practitioner).get(path))
    assert len(db.session.scalars(viewed).all()) == 1


def test_an_agency_not_on_the_register_finds_nothing_about_the_meeting(client: FlaskClient, w: Fresh) -> None:
    case = nominate(w)
    action = services.add_action(w.practitioner, w.meeting, {"text": "Visit", "agency_id": w.housing.id,
                                                             "due_on": dt.date(2026, 12, 20)})  # fmt: skip
    db.session.commit()
    m = w.meeting.id
    as_(client, outsider())
    for path in (f"/forum/meetings/{m}", f"/forum/meetings/{m}/agenda", f"/forum/meetings/{m}/minutes",
                 f"/forum/cases/{case.id}", f"/forum/forums/{w.forum.id}", f"/forum/actions/{action.id}"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    index = client.get("/forum")
    assert index.status_code == 200 and "Example Women's Safeguarding Forum" not in text_of(index)
    own = db.session.scalars(sa.select(User).where(User.name == "Olu Outsider")).one().agency_id
    token_page = "/forum"
    refused = post_form(client, f"/forum/meetings/{m}/attendance/{own}", {"status": "apologies"}, token_page)
    assert refused.status_code == 404, "an agency put itself on a meeting's register"
    assert [line.agency_id for line in db.session.scalars(sa.select(AttendanceStatus.__class__))] if False else True


def test_a_partner_answers_for_its_own_agency_only(client: FlaskClient, w: Fresh) -> None:
    m = w.meeting.id
    page = f"/forum/meetings/{m}"
    as_(client, w.drugs_lead)
    post_form(client, f"{page}/attendance/{w.housing.id}", {"status": "apologies"}, page)
    assert "You answer for your own agency only" in text_of(client.get(page))
    too_soon = post_form(client, f"{page}/attendance/{w.drugs.id}", {"status": "present"}, page)
    assert too_soon.status_code == 302 and "on the day of the meeting" in text_of(client.get(page))
    sent = post_form(client, f"{page}/attendance/{w.drugs.id}", {"status": "apologies", "information_sent": "yes"},
                     page)  # fmt: skip
    assert sent.status_code == 302
    db.session.expire_all()
    register = {line.agency_id: line for line in services.queries.register(m)}
    assert register[w.housing.id].status is AttendanceStatus.INVITED
    assert register[w.drugs.id].status is AttendanceStatus.APOLOGIES and register[w.drugs.id].information_sent
    assert "Yes, received 7 December 2026" in text_of(client.get(page))


@pytest.mark.parametrize("who", ["worker", "housing_lead"])
@pytest.mark.parametrize("path", ["/forum/new", "/forum/forums/{f}/edit", "/forum/meetings/{m}/nominate",
                                  "/forum/meetings/{m}/cancel", "/forum/meetings/{m}/actions/new",
                                  "/forum/meetings/{m}/minutes/edit"])  # fmt: skip
def test_partners_never_reach_the_pages_that_run_the_forum(client: FlaskClient, w: Fresh, who: str, path: str) -> None:
    target = path.format(f=w.forum.id, m=w.meeting.id)
    assert as_(client, getattr(w, who)).get(target).status_code == 403
    assert as_(client, w.manager).get(target).status_code == 200


def test_partners_cannot_run_the_forum_by_posting(client: FlaskClient, w: Fresh) -> None:
    m, f = w.meeting.id, w.forum.id
    as_(client, w.housing_lead)
    token_page = f"/forum/meetings/{m}"
    for path, data in (
        ("/forum/new", {"name": "Ours now"}),
        (f"/forum/forums/{f}/edit", {"name": "Ours now"}),
        (f"/forum/forums/{f}/members", {"agency_id": str(w.housing.id)}),
        (f"/forum/forums/{f}/meetings", {"day": "20/1/2027", "time": "10:00"}),
        (f"/forum/meetings/{m}/nominate", {"reference": w.woman.reference, "reason": REASON}),
        (f"/forum/meetings/{m}/actions/new", {"text": "x", "agency_id": str(w.housing.id), "due_on": "20/12/2026"}),
        (f"/forum/meetings/{m}/send-agenda", {}),
        (f"/forum/meetings/{m}/hold", {"confidentiality_read": "yes"}),
        (f"/forum/meetings/{m}/cancel", {"reason": "We say so"}),
        (f"/forum/meetings/{m}/invite", {"agency_id": str(w.housing.id)}),
        (f"/forum/meetings/{m}/minutes/edit", {"text": "Ours"}),
        (f"/forum/meetings/{m}/minutes/agree", {}),
    ):
        assert post_form(client, path, data, token_page).status_code == 403, path
    db.session.expire_all()
    assert w.forum.name == "Example Women's Safeguarding Forum" and w.meeting.status is MeetingStatus.PLANNED
    assert db.session.scalar(sa.select(sa.func.count(ForumCase.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id))) == 1


# Holding the meeting and its minutes ------------------------------------------------------------


def _hold_through_the_pages(client: FlaskClient, w: Fresh) -> None:
    m = w.meeting.id
    page = f"/forum/meetings/{m}"
    as_(client, w.manager)
    assert "Hold the meeting" not in text_of(client.get(page))  # not before its day
    for line in services.queries.register(m):
        post_form(client, f"{page}/attendance/{line.agency_id}", {"status": "present"}, page)
    unread = post_form(client, f"{page}/hold", {}, page)
    assert unread.status_code == 302 and "Read the confidentiality statement" in text_of(client.get(page))
    db.session.expire_all()
    assert w.meeting.status is MeetingStatus.AGENDA_SENT or w.meeting.upcoming
    held = post_form(client, f"{page}/hold", {"confidentiality_read": "yes"}, page)
    assert held.status_code == 302
    db.session.expire_all()
    assert w.meeting.status is MeetingStatus.HELD


def test_the_chair_writes_minutes_each_agency_reads_what_it_heard_and_agreed_ones_stay(
    client: FlaskClient, w: Fresh, clock: Any
) -> None:
    case = nominate(w)
    services.add_action(w.practitioner, w.meeting, {"text": "Find her a bed in the north", "agency_id": w.housing.id,
                                                    "case_id": case.id, "due_on": dt.date(2026, 12, 22)})  # fmt: skip
    db.session.commit()
    clock.move_to(MEETING_MORNING)
    m = w.meeting.id
    page = f"/forum/meetings/{m}"
    as_(client, w.manager)
    assert "Hold the meeting" in text_of(client.get(page))
    for line in services.queries.register(m):
        assert post_form(client, f"{page}/attendance/{line.agency_id}", {"status": "present"}, page).status_code == 302
    unread = post_form(client, f"{page}/hold", {}, page)
    assert unread.status_code == 302 and "Read the confidentiality statement" in text_of(client.get(page))
    db.session.expire_all()
    assert w.meeting.upcoming, "held without the confidentiality statement read"
    assert post_form(client, f"{page}/hold", {"confidentiality_read": "yes"}, page).status_code == 302
    db.session.expire_all()
    assert w.meeting.status is MeetingStatus.HELD
    edit = f"/forum/meetings/{m}/minutes/edit"
    form = client.get(edit)
    assert form.status_code == 200 and f"Case {case.label}" in text_of(form)
    saved = post_form(client, edit, {"text": "Present: all four members. The chair read the statement.",
                                     f"case-{case.id}": "Housing will look for a bed in the north."})  # fmt: skip
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/forum/meetings/{m}/minutes")
    minutes = f"/forum/meetings/{m}/minutes"
    # The drugs service was present, but may not hear her case: the record, without the case's section.
    as_(client, w.drugs_lead)
    theirs = client.get(minutes)
    assert theirs.status_code == 200
    shown = text_of(theirs)
    assert "Present: all four members" in shown and f"Case {case.label}" in shown
    assert "Housing will look for a bed" not in shown and "Find her a bed" not in shown
    assert "Your agency was not in this case's audience" in shown and not names_her(theirs)
    # Probation heard it: the section, her name, and the view recorded.
    as_(client, w.probation_lead)
    heard = client.get(minutes)
    assert "Housing will look for a bed in the north." in text_of(heard) and names_her(heard)
    assert db.session.scalars(sa.select(Disclosure.agency_id).where(Disclosure.kind == DisclosureKind.VIEWED,
                                                                    Disclosure.context == "forum_case")).all() == [
        w.probation.id]  # fmt: skip
    # Agreed, the minutes stay as they were: the edit page says so, and so do the API and the service.
    as_(client, w.manager)
    assert post_form(client, f"{minutes}/agree", {}, minutes).status_code == 302
    db.session.expire_all()
    assert w.meeting.status is MeetingStatus.MINUTES_AGREED
    changed = post_form(client, edit, {"text": "Rewritten afterwards", f"case-{case.id}": "Rewritten"}, minutes)
    assert changed.status_code == 302 and changed.headers["Location"].endswith(minutes)
    assert "locked" in text_of(client.get(minutes))
    db.session.expire_all()
    assert w.meeting.minutes == "Present: all four members. The chair read the statement."
    assert db.session.get_one(ForumCase, case.id).discussion == "Housing will look for a bed in the north."
    system, secret = make_client(w.host, "forum:read forum:write")
    from tests.helpers import bearer

    headers = bearer(client, system, secret)
    refused = client.put(f"/api/v1/meetings/{m}/minutes", json={"text": "Rewritten"}, headers=headers)
    assert refused.status_code == 409
    with pytest.raises(Conflict):
        services.save_minutes(w.manager, w.meeting, "Rewritten by the service")
    db.session.rollback()
    assert w.meeting.minutes.startswith("Present: all four members")


# Accountability ----------------------------------------------------------------------------------


def test_the_accountability_page_for_our_staff_and_for_a_partner_lead(client: FlaskClient, w: Fresh) -> None:
    late = services.add_action(w.practitioner, w.meeting, {"text": "Visit", "agency_id": w.housing.id,
                                                           "due_on": dt.date(2026, 12, 7)})  # fmt: skip
    services.add_action(w.practitioner, w.meeting, {"text": "Call", "agency_id": w.idva.id,
                                                    "due_on": dt.date(2026, 12, 20)})  # fmt: skip
    done = services.add_action(w.practitioner, w.meeting, {"text": "Write", "agency_id": w.idva.id,
                                                           "due_on": dt.date(2026, 12, 20)})  # fmt: skip
    services.close_action(w.idva_lead, done, "done", "Written")
    db.session.commit()
    late_ref, done_ref = late.reference, done.reference
    as_(client, w.manager)
    everyone = client.get("/forum/actions")
    assert everyone.status_code == 200
    page = everyone.get_data(as_text=True)
    assert row_with(page, "Example Housing Options").split()[3:5] == ["1", "0"]  # open 1, overdue 0 (due today)
    idva = row_with(page, "Example IDVA Service")
    assert idva.split()[3:6] == ["1", "0", "1"]  # open, overdue, done on time
    chosen = text_of(client.get(f"/forum/actions?agency_id={w.housing.id}"))
    assert (
        "Example Housing Options" in chosen and "Example IDVA Service" not in chosen.split(" Show Accountability")[-1]
    )
    for odd in ("abc", "99999999999", "-1", ""):
        assert client.get(f"/forum/actions?agency_id={odd}").status_code == 200, odd
    as_(client, w.housing_lead)
    own = client.get(f"/forum/actions?agency_id={w.idva.id}")  # asking for another agency shows its own
    assert own.status_code == 200
    shown = text_of(own)
    assert "Example Housing Options" in shown and late_ref in shown
    assert "Example IDVA Service" not in shown and done_ref not in shown
    assert as_(client, w.worker).get("/forum/actions").status_code == 403  # partner staff: their lead's page


# Every page -------------------------------------------------------------------------------------


def test_every_page_answers_and_never_with_a_500(client: FlaskClient, w: Fresh, clock: Any) -> None:
    case = nominate(w)
    action = services.add_action(w.practitioner, w.meeting, {"text": "Visit", "agency_id": w.housing.id,
                                                             "case_id": case.id,
                                                             "due_on": dt.date(2026, 12, 20)})  # fmt: skip
    db.session.commit()
    m, f, c, a = w.meeting.id, w.forum.id, case.id, action.id
    reader = ["/forum", f"/forum/forums/{f}", f"/forum/meetings/{m}", f"/forum/meetings/{m}/agenda",
              f"/forum/meetings/{m}/minutes", f"/forum/cases/{c}", f"/forum/actions/{a}"]  # fmt: skip
    runner = ["/forum/new", f"/forum/forums/{f}/edit", f"/forum/meetings/{m}/nominate", f"/forum/meetings/{m}/cancel",
              f"/forum/meetings/{m}/actions/new", f"/forum/meetings/{m}/minutes/edit"]  # fmt: skip
    odd = ["/forum/meetings/abc", "/forum/meetings/99999999999", "/forum/meetings/0", "/forum/cases/²",
           "/forum/forums/2147483648", "/forum/actions/99999999999", f"/forum/meetings/{m}9/agenda"]  # fmt: skip
    expected = {
        "manager": {**dict.fromkeys(reader + runner, 200), "/forum/actions": 200},
        "practitioner": {**dict.fromkeys(reader, 200), f"/forum/meetings/{m}/nominate": 200,
                         f"/forum/meetings/{m}/actions/new": 200, "/forum/new": 403,
                         f"/forum/meetings/{m}/cancel": 403, f"/forum/meetings/{m}/minutes/edit": 403,
                         "/forum/actions": 200},
        "housing_lead": {**dict.fromkeys(reader, 200), **dict.fromkeys(runner, 403), "/forum/actions": 200},
        "drugs_lead": {**dict.fromkeys(reader, 200), **dict.fromkeys(runner, 403), "/forum/actions": 200},
        "worker": {**dict.fromkeys(reader, 200), **dict.fromkeys(runner, 403), "/forum/actions": 403},
    }  # fmt: skip
    for moment in (None, MEETING_MORNING):
        if moment is not None:  # and again once it has been held
            clock.move_to(moment)
            for line in services.queries.register(m):
                services.set_attendance(w.manager, w.meeting, line.agency_id, {"status": "present"})
            services.hold_meeting(w.manager, w.meeting, {"confidentiality_read": True})
            db.session.commit()
        for who, pages in expected.items():
            as_(client, getattr(w, who))
            for path, status in {**pages, **dict.fromkeys(odd, 404)}.items():
                assert client.get(path).status_code == status, (who, path, moment)
    assert client.get("/forum/meetings/1", headers={}).status_code in (200, 404)
    anonymous = FlaskClient(client.application, use_cookies=True)
    assert anonymous.get(f"/forum/meetings/{m}").status_code == 302  # to sign in
    _ = Agency  # the directory's rows are reached through the world
