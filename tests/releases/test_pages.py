"""The release-planning pages as people use them: the board, a partner's view of
the releases shared with them, recording custody and changing its dates, the
plan and its referrals, release, first night and recall, her release day card,
the calculator, her page's section and the home page's lines."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest
import sqlalchemy as sa
import time_machine

from agencies.models import AgencyKind
from consent.models import Disclosure
from hub.db import db
from hub.permissions import Role
from referrals.models import Referral
from releases import queries, services
from releases.models import CustodyEpisode, CustodyStatus, ItemStatus, NightOne, PlanItem
from tests.conftest import count_queries
from tests.consent.test_pages import error_summary, fresh
from tests.consent.test_pages import text_of as _raw_text
from tests.helpers import make_agency, make_user, post_form, sign_in
from tests.releases.world import FAMILY_NAME, GIVEN_NAME, build, consent_to, custody

FRIDAY = dt.date(2027, 3, 5)  # expected Thursday 4, earliest Wednesday 3 March 2027
WINDOW = "between Wednesday 3 and Friday 5 March 2027; plan for Wednesday 3 March"
WINDOW_SENTENCE = "B" + WINDOW[1:]
FORBIDDEN = ("prison", "offence", "drug", "alcohol", "abuse", "recall", "substance", "domestic", "sexual")
PATHWAYS = ("accommodation", "health", "drugs and alcohol", "finance and id", "children, families",
            "education, skills", "attitudes, thinking", "the day of release")  # fmt: skip


@pytest.fixture(autouse=True)
def _monday() -> object:
    with time_machine.travel(dt.datetime(2027, 2, 1, 10, 0, tzinfo=dt.UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def world():
    return build()


def text_of(response) -> str:
    """What a reader sees: tags removed, spaces collapsed, entities ("&#39;") read."""
    return html_lib.unescape(_raw_text(response))


def _d(day: dt.date) -> str:
    return f"{day.day}/{day.month}/{day.year}"


def _custody_form(world, **overrides):
    data = {
        "prison_agency_id": str(world.prison.id), "custody_type": "sentenced", "sentence_kind": "determinate",
        "sentenced_on": _d(FRIDAY - dt.timedelta(days=120)), "term_days": "240", "release_type": "automatic",
        "nominal_release_on": _d(FRIDAY), "date_told_by": "OMU by phone", "date_told_on": "",
        "probation_contact_id": str(world.po.id), "needs": ["gp_register", "meet"],
    }  # fmt: skip
    data.update(overrides)
    return data


def _episodes() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CustodyEpisode)) or 0


def _disclosures(context: str) -> list[Disclosure]:
    return list(db.session.scalars(sa.select(Disclosure).where(Disclosure.context == context)))


# The board and partners' views ----------------------------------------------------------------------


def test_the_board_shows_each_release_with_its_window_colour_and_reasons(client, world):
    episode = custody(world, FRIDAY, needs=("gp_register",))
    later = custody(world, FRIDAY + dt.timedelta(weeks=10))  # beyond 8 weeks: not on the board
    sign_in(client, world.staff)
    page = text_of(client.get("/releases"))
    assert f"{GIVEN_NAME} {FAMILY_NAME}" in page and episode.reference in page and later.reference not in page
    assert WINDOW_SENTENCE in page and "HMP Example Women's Prison" in page
    assert "30 days" in page  # to Wednesday 3 March, the earliest day
    # GP registration is due 28 days before the earliest day (3 February): within two weeks, so amber.
    assert "Amber" in page and "1 due within 2 weeks" in page
    html = client.get("/releases").get_data(as_text=True)
    assert f'href="/custody/{episode.id}"' in html and "govuk-tag--yellow" in html


def test_a_partner_sees_a_release_only_where_her_consent_covers_it_and_each_view_is_logged(client, world):
    episode = custody(world, FRIDAY)
    services.add_plan_item(world.staff, episode, {"pathway": "health", "title": "Register with a GP",
                                                   "agency_id": world.health.id})  # fmt: skip
    services.add_plan_item(world.staff, episode, {"pathway": "accommodation", "title": "A bed for night one",
                                                   "agency_id": world.housing.id})  # fmt: skip
    sign_in(client, world.gp_lead)
    page = text_of(client.get("/releases"))
    assert f"{GIVEN_NAME} {FAMILY_NAME}" in page and WINDOW_SENTENCE in page and "Register with a GP" in page
    listed = _disclosures("release_list")
    assert [(d.agency_id, d.context_id, d.kind.value) for d in listed] == [(world.health.id, episode.id, "viewed")]
    assert sorted(listed[0].data_categories) == ["criminal_justice", "identity"]
    one = client.get(f"/releases/{episode.id}")
    assert one.status_code == 200
    text = text_of(one)
    assert "Kim Keyworker" in text and "The prison's date is authoritative" in text
    assert [d.context_id for d in _disclosures("release")] == [episode.id]
    # Housing is in her plan but her consent there is not for planning her release: no trace of it.
    sign_in(client, world.housing_lead)
    page = text_of(client.get("/releases"))
    assert GIVEN_NAME not in page and episode.reference not in page
    assert client.get(f"/releases/{episode.id}").status_code == 404
    for path in (f"/custody/{episode.id}", f"/custody/{episode.id}/card", f"/custody/{episode.id}/edit",
                 f"/service-users/{world.person.id}/custody/new"):  # fmt: skip
        assert client.get(path).status_code == 403, path
    assert [d.agency_id for d in db.session.scalars(sa.select(Disclosure).where(Disclosure.kind == "viewed"))] == [
        world.health.id, world.health.id,
    ]  # fmt: skip


def test_without_identity_in_her_consent_a_partner_sees_the_reference_never_her_name(client, world):
    idva = make_agency(AgencyKind.IDVA, name="Example Advocacy Service", slug="example-advocacy")
    lead = make_user(Role.PARTNER_LEAD, idva, name="Ivy Advocate")
    consent_to(world.staff, world.person, idva, ["release_planning"], ["criminal_justice"])
    episode = custody(world, FRIDAY)
    services.add_plan_item(world.staff, episode, {"pathway": "children_and_family", "title": "Safety planning",
                                                   "agency_id": idva.id})  # fmt: skip
    sign_in(client, lead)
    for path in ("/releases", f"/releases/{episode.id}"):
        page = text_of(client.get(path))
        assert episode.reference in page and GIVEN_NAME not in page and FAMILY_NAME not in page, path
    assert [sorted(d.data_categories) for d in _disclosures("release_list")] == [["criminal_justice"]]
    assert [sorted(d.data_categories) for d in _disclosures("release")] == [["criminal_justice"]]


def test_staff_opening_a_partner_release_address_go_to_her_custody(client, world):
    episode = custody(world, FRIDAY)
    sign_in(client, world.staff)
    response = client.get(f"/releases/{episode.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/custody/{episode.id}")
    assert client.get("/releases/99999999").status_code == 302  # staff never learn anything from this address
    assert client.get("/custody/99999999").status_code == 404


# Recording and changing custody --------------------------------------------------------------------------


def test_recording_custody_shows_the_usual_needs_ticked_then_starts_her_plan(client, world):
    sign_in(client, world.staff)
    form = client.get(f"/service-users/{world.person.id}/custody/new").get_data(as_text=True)
    assert re.search(r'value="gp_register"\s+checked', form) and not re.search(r'value="storage"\s+checked', form)
    assert "HMP Example Women&#39;s Prison" in form and "Paula Officer, Example Probation Delivery Unit" in form
    response = post_form(client, f"/service-users/{world.person.id}/custody/new", _custody_form(world))
    assert response.status_code == 302
    episode = db.session.scalars(sa.select(CustodyEpisode)).one()
    assert (episode.expected_on, episode.plan_on, episode.date_told_by) == (
        dt.date(2027, 3, 4), dt.date(2027, 3, 3), "OMU by phone",
    )  # fmt: skip
    assert sorted(i.title for i in queries.plan_items(episode)) == [
        "Meet her at the gate or the station", "Register with a GP before release",
    ]  # fmt: skip
    page = client.get(response.headers["Location"])
    assert WINDOW in text_of(page) and "Custody " + episode.reference in text_of(page)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"nominal_release_on": ""}, "nominal_release_on", "Enter the release date"),
        ({"nominal_release_on": "31/2/2027"}, "nominal_release_on", "Enter a real date"),
        ({"sentenced_on": _d(FRIDAY + dt.timedelta(days=1))}, "sentenced_on", "on or before the release date"),
        ({"prison_agency_id": ""}, "prison_agency_id", "Choose the prison"),
        ({"term_days": "0"}, "term_days", "between 1 day and 100 years"),
        ({"needs": ["no_such_need"]}, "needs", "Choose from the list"),
    ],
)
def test_a_custody_form_with_bad_input_shows_the_errors_and_records_nothing(client, world, overrides, field, message):
    sign_in(client, world.staff)
    response = post_form(client, f"/service-users/{world.person.id}/custody/new", _custody_form(world, **overrides))
    assert response.status_code == 422
    assert message in error_summary(response) and f'href="#{field}"' in response.get_data(as_text=True)
    assert _episodes() == 0


def test_the_probation_choice_must_be_a_probation_practitioner(client, world):
    sign_in(client, world.staff)
    response = post_form(
        client, f"/service-users/{world.person.id}/custody/new",
        _custody_form(world, probation_contact_id=str(world.gp_contact.id)),
    )  # fmt: skip
    assert response.status_code == 422 and "probation practitioner" in error_summary(response)
    assert _episodes() == 0


def test_changing_the_dates_moves_her_plan_and_says_so(client, world):
    episode = custody(world, FRIDAY, needs=("gp_register",))
    sign_in(client, world.staff)
    form = text_of(client.get(f"/custody/{episode.id}/edit"))
    assert "Change the release dates" in form
    earlier = FRIDAY - dt.timedelta(days=7)
    response = post_form(client, f"/custody/{episode.id}/edit",
                         _custody_form(world, nominal_release_on=_d(earlier), needs=[]))  # fmt: skip
    assert response.status_code == 302
    moved = fresh(episode)
    assert moved.plan_on == dt.date(2027, 2, 24)
    assert queries.plan_items(moved)[0].due_on == dt.date(2027, 2, 24) - dt.timedelta(days=28)
    page = text_of(client.get(response.headers["Location"]))
    assert "Every agency in her plan has been told" in page
    # Blank optional fields mean "not known": the date of sentence goes, and the prison must be asked.
    post_form(client, f"/custody/{episode.id}/edit", _custody_form(world, sentenced_on="", needs=[]))
    assert fresh(episode).sentenced_on is None and fresh(episode).ask_the_prison
    assert "Ask the prison" in text_of(client.get(f"/custody/{episode.id}"))


# Her custody page and her plan ------------------------------------------------------------------------------


def test_her_custody_page_shows_the_dates_who_knows_with_gaps_first_and_the_plan(client, world):
    episode = custody(world, FRIDAY, needs=("gp_register", "release_pack"))
    services.add_plan_item(world.staff, episode, {"pathway": "accommodation", "title": "A bed for night one",
                                                   "agency_id": world.housing.id})  # fmt: skip
    world.po.phone = "0113 496 0111"
    sign_in(client, world.staff)
    response = client.get(f"/custody/{episode.id}")
    page = text_of(response)
    for text in ("Friday 5 March 2027", "Thursday 4 March 2027", "Wednesday 3 March 2027", WINDOW_SENTENCE,
                 "The prison's date is authoritative", "Friday and pre-bank-holiday release scheme"):  # fmt: skip
        assert text in page, text
    who = page[page.index("Who knows about this release?") :]
    assert who.index("Example Council Housing") < who.index("Example Probation Delivery Unit")
    assert "Her consent here is not for planning her release" in who
    html = response.get_data(as_text=True)
    assert 'href="tel:01134960111"' in html and "mailto:" in html
    plan = page[page.index("Her release plan") :]
    assert plan.index("Accommodation") < plan.index("Health") < plan.index("The day of release")
    assert "Print her release day card" in page and "Record the release" in page


def test_an_item_status_changes_and_a_bad_one_changes_nothing(client, world):
    episode = custody(world, FRIDAY, needs=("gp_register",))
    item = queries.plan_items(episode)[0]
    sign_in(client, world.staff)
    path = f"/plan-items/{item.id}/status"
    bad = post_form(client, path, {"status": "finished"}, token_from=f"/custody/{episode.id}")
    assert bad.status_code == 422 and "Choose a status from the list" in error_summary(bad)
    assert fresh(item).status is ItemStatus.NOT_STARTED
    done = post_form(client, path, {"status": "done"}, token_from=f"/custody/{episode.id}")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"#item-{item.id}")
    assert fresh(item).status is ItemStatus.DONE and fresh(item).done_on == dt.date(2027, 2, 1)


def test_adding_an_item_and_a_bad_one_adds_nothing(client, world):
    episode = custody(world, FRIDAY)
    sign_in(client, world.staff)
    path = f"/custody/{episode.id}/items/new"
    bad = post_form(client, path, {"pathway": "health", "title": ""})
    assert bad.status_code == 422 and "Say what needs to be done" in error_summary(bad)
    assert queries.plan_items(fresh(episode)) == []
    form = {"pathway": "health", "title": "Dentist appointment", "due_on": "20/2/2027",
            "agency_id": str(world.health.id), "owner_user_id": str(world.staff.id)}  # fmt: skip
    good = post_form(client, path, form)
    assert good.status_code == 302
    (item,) = queries.plan_items(fresh(episode))
    assert (item.title, item.agency_id, item.due_on, item.owner_user_id) == (
        "Dentist appointment", world.health.id, dt.date(2027, 2, 20), world.staff.id,
    )  # fmt: skip


def test_referring_an_item_goes_through_the_consent_gate(client, world):
    episode = custody(world, FRIDAY, needs=("night_one",))
    item = queries.plan_items(episode)[0]
    sign_in(client, world.staff)
    path = f"/plan-items/{item.id}/refer"
    assert "Which agency?" in text_of(client.get(path))
    step_two = text_of(client.get(f"{path}?agency_id={world.housing.id}"))
    assert "What we may share with Example Council Housing to plan her release" in step_two
    refused = post_form(client, path, {"agency_id": str(world.housing.id), "data_categories": ["identity"],
                                       "reason": "A bed for night one", "urgency": "routine"},
                        token_from=f"{path}?agency_id={world.housing.id}")  # fmt: skip
    assert refused.status_code == 422
    assert "is not for release planning" in error_summary(refused)
    assert 'href="#coverage"' in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0
    assert fresh(item).referral_id is None
    sent = post_form(client, path, {"agency_id": str(world.health.id), "data_categories": ["identity"],
                                    "reason": "Somewhere to stay", "urgency": "urgent"},
                     token_from=f"{path}?agency_id={world.health.id}")  # fmt: skip
    assert sent.status_code == 302
    referral = db.session.scalars(sa.select(Referral)).one()
    assert referral.purpose == "release_planning" and fresh(item).referral_id == referral.id
    page = client.get(sent.headers["Location"])
    assert f"Referral {referral.reference} has been sent to Riverside GP Practice" in text_of(page)
    assert f'href="/referrals/{referral.id}"' in page.get_data(as_text=True)


def test_release_first_night_and_recall_are_recorded_in_turn(client, world):
    episode = custody(world, FRIDAY, needs=("gp_register",))
    sign_in(client, world.staff)
    assert client.get(f"/custody/{episode.id}/recall").status_code == 409  # not released yet
    future = post_form(client, f"/custody/{episode.id}/release", {"released_on": "3/2/2027"})
    assert future.status_code == 422 and "cannot be in the future" in error_summary(future)
    assert fresh(episode).status is CustodyStatus.IN_CUSTODY
    left = post_form(client, f"/custody/{episode.id}/release", {"released_on": "1/2/2027"})
    assert left.status_code == 302 and fresh(episode).status is CustodyStatus.RELEASED
    post_form(client, f"/custody/{episode.id}/night-one", {"night_one": "homeless"})
    assert fresh(episode).night_one is NightOne.HOMELESS
    assert "Homeless (not rough sleeping)" in text_of(client.get(f"/custody/{episode.id}"))
    post_form(client, f"/custody/{episode.id}/recall", {"nominal_release_on": "7/5/2027"})
    recalled = fresh(episode)
    assert recalled.status is CustodyStatus.IN_CUSTODY and recalled.cycle == 2
    assert queries.plan_items(recalled)[0].due_on == recalled.plan_on - dt.timedelta(days=28)


# Her release day card ---------------------------------------------------------------------------------------


def test_her_card_has_the_day_the_people_and_nothing_she_would_not_want_found_on_her(client, world):
    world.po.phone = "0113 496 0111"
    episode = custody(world, FRIDAY, needs=("meet", "release_pack", "probation_appointment", "gp_appointment",
                                            "script", "treatment", "naloxone", "idva", "medication"))  # fmt: skip
    services.add_plan_item(world.staff, episode, {"pathway": "day_of_release", "title": "Drug test at the clinic"})
    services.add_plan_item(world.staff, episode, {"pathway": "day_of_release", "title": "Collect her bag from Sal's"})
    sign_in(client, world.staff)
    response = client.get(f"/custody/{episode.id}/card")
    assert response.status_code == 200
    page = text_of(response)
    assert "You could be released on Wednesday 3 March; at the latest Friday 5 March." in page
    assert f"Your release day, {GIVEN_NAME}" in page
    said_on_card = (
        "Someone meets you as you leave",
        "Your first appointment with your probation practitioner",
        "Paula Officer",
        "Kim Keyworker",
        "Collect her bag from Sal's",
        "Something arranged for you",
    )
    for said in said_on_card:
        assert said in page, said
    assert 'href="tel:01134960111"' in response.get_data(as_text=True)
    lowered = page.lower()
    for word in FORBIDDEN + PATHWAYS:
        assert word not in lowered, word
    for secret in (FAMILY_NAME, world.person.reference, episode.reference):
        assert secret not in page and secret not in response.get_data(as_text=True), secret


# The calculator ----------------------------------------------------------------------------------------------


def test_the_calculator_works_out_the_day_and_stores_nothing(app, client, world):
    sign_in(client, world.gp_lead)  # anyone signed in
    path = ("/releases/calculator?nominal_on=5/3/2027&custody_type=sentenced&sentence_kind=determinate"
            "&sentenced_on=1/10/2026&term_days=240&release_type=automatic")  # fmt: skip
    client.get(path)
    with count_queries(app) as statements:
        response = client.get(path)
    assert response.status_code == 200
    page = text_of(response)
    for text in ("Friday 5 March 2027", "Thursday 4 March 2027", "Wednesday 3 March 2027", WINDOW_SENTENCE,
                 "Friday and pre-bank-holiday release scheme"):  # fmt: skip
        assert text in page, text
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    bad = client.get("/releases/calculator?nominal_on=5/3/2027&custody_type=sentenced&release_type=automatic"
                     "&sentenced_on=6/3/2027")  # fmt: skip
    assert bad.status_code == 422 and "on or before the release date" in error_summary(bad)
    assert client.get("/releases/calculator").status_code == 200


# Her page, the home page, the navigation ------------------------------------------------------------------


def test_her_page_lists_her_custody_with_a_button_to_record_it(client, world):
    episode = custody(world, FRIDAY)
    sign_in(client, world.staff)
    html = client.get(f"/service-users/{world.person.id}").get_data(as_text=True)
    assert "Custody and release" in html and f'href="/custody/{episode.id}"' in html
    assert f'href="/service-users/{world.person.id}/custody/new"' in html
    assert WINDOW_SENTENCE in text_of(client.get(f"/service-users/{world.person.id}"))


def _need(client, text: str) -> str | None:
    html = client.get("/").get_data(as_text=True)
    match = re.search(r"(\d+\+?)\s*</[^>]+>\s*(?:<[^>]+>\s*)*" + re.escape(text), html)
    return match.group(1) if match else ("0" if text not in html else "?")


def test_what_needs_you_counts_the_releases_not_green_and_overdue_items_as_the_board_does(client, world):
    soon = custody(world, dt.date(2027, 2, 12), needs=("gp_register",))  # 11 days to go, an item overdue
    custody(world, dt.date(2027, 2, 10), release_type="hdc")  # nothing open, probation told: green
    custody(world, FRIDAY)  # beyond 14 days
    item = queries.plan_items(soon)[0]
    services.change_plan_item(world.staff, item, {"owner_user_id": world.staff.id})
    rows = [r for r in queries.board(world.staff).rows if r.custody.expected_on <= dt.date(2027, 2, 15)]
    assert sorted(r.colour for r in rows) == ["green", "red"]
    db.session.commit()
    from releases.needs import not_green_soon

    assert db.session.scalars(not_green_soon()).all() == [soon.id]
    sign_in(client, world.staff)
    page = text_of(client.get("/"))
    assert "Releases in the next 14 days not yet green" in page
    assert "Your release plan items that are overdue" in page
    sign_in(client, world.gp_lead)
    assert "Releases shared with your agency" not in text_of(client.get("/"))  # health is not in these plans
    sign_in(client, world.probation_lead)
    assert "Releases shared with your agency in the next 8 weeks" in text_of(client.get("/"))


def test_releases_are_in_the_navigation_for_staff_and_partners(client, world):
    for user in (world.staff, world.gp_lead):
        sign_in(client, user)
        html = client.get("/releases").get_data(as_text=True)
        nav = html[html.index('aria-label="Main"') :]
        nav = nav[: nav.index("</nav>")]
        current = re.search(r'href="/releases" aria-current="true">\s*<strong[^>]*>Releases</strong>', nav)
        assert current, f"Releases is not the current section for {user.name}"


def test_an_item_of_a_plan_is_not_reachable_by_partners(client, world):
    episode = custody(world, FRIDAY, needs=("gp_register",))
    item = db.session.scalars(sa.select(PlanItem).where(PlanItem.custody_id == episode.id)).one()
    sign_in(client, world.gp_lead)
    assert client.get(f"/plan-items/{item.id}/refer").status_code == 403
    assert (
        post_form(client, f"/plan-items/{item.id}/status", {"status": "done"}, token_from="/releases").status_code
        == 403
    )
    assert fresh(item).status is ItemStatus.NOT_STARTED
