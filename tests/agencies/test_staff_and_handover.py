"""Staff and handover: the pack stays reachable after the account is closed, a colleague who left
without a handover can still be handed over, step 1 can be left, and the health page puts beside
each item the action that fixes it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from agencies.models import Agency, AgencyKind, Contact, Handover
from hub.auth import services as auth_services
from hub.auth.models import User
from hub.db import db, today
from hub.permissions import SYSTEM, Role
from tests.conftest import count_queries
from tests.helpers import make_agency, make_contact, make_user, post_form, sign_in


def _text(response) -> str:
    html = response.get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _row_of(html: str, name: str) -> str:
    """The Staff page's table row that names ``name``."""
    rows = re.findall(r"<tr\b.*?</tr>", html, re.S)
    found = [r for r in rows if f">{name}<" in r]
    assert found, f"no row for {name}"
    return found[0]


def _left(name: str, role: Role = Role.PRACTITIONER) -> User:
    user = make_user(role, name=name)
    auth_services.disable_user(SYSTEM, user, reason="left")
    return user


@pytest.fixture
def manager(client):
    user = make_user(Role.MANAGER, name="Priya Natt")
    sign_in(client, user)
    return user


def _hand_over_and_close(client, leaver: User, taker: User) -> str:
    response = post_form(client, f"/staff/{leaver.id}/offboard", {"default_user_id": str(taker.id)})
    assert response.status_code == 302
    pack = response.headers["Location"]
    assert post_form(client, f"{pack}/complete", {}, token_from=pack).status_code == 302
    return pack


def test_the_staff_page_links_to_the_pack_of_someone_whose_account_is_closed(client, manager):
    leaver = make_user(Role.PRACTITIONER, name="Kit Brennan")
    taker = make_user(Role.PRACTITIONER, name="Sam Okafor")
    make_agency(name="Harbour Housing", relationship_owner_id=leaver.id)
    pack = _hand_over_and_close(client, leaver, taker)
    assert not db.session.get(User, leaver.id).is_active

    row = _row_of(client.get("/staff").get_data(as_text=True), "Kit Brennan")
    assert f'href="{pack}"' in row and "Handover pack" in row and "Left" in row
    page = client.get(pack)
    assert page.status_code == 200
    text = _text(page)
    assert "Handover pack: Kit Brennan" in text and "Harbour Housing" in text and "Sam Okafor" in text
    assert "close the account" not in text  # step 3 is done


def test_a_handover_in_progress_is_continued_from_the_staff_page(client, manager):
    leaver = make_user(Role.PRACTITIONER, name="Kit Brennan")
    taker = make_user(Role.PRACTITIONER)
    response = post_form(client, f"/staff/{leaver.id}/offboard", {"default_user_id": str(taker.id)})
    row = _row_of(client.get("/staff").get_data(as_text=True), "Kit Brennan")
    assert "Handover started" in row and f'href="{response.headers["Location"]}"' in row
    assert "Continue the handover" in row


def test_someone_who_left_without_a_handover_gets_the_action_that_fixes_it(client, manager):
    dee = _left("Dee Walsh")
    taker = make_user(Role.PRACTITIONER, name="Sam Okafor")
    agency = make_agency(name="Hope Street Food Bank", relationship_owner_id=dee.id)
    contact = make_contact(agency, name="Una Fields", known_by_id=dee.id)

    row = _row_of(client.get("/staff").get_data(as_text=True), "Dee Walsh")
    assert "No handover" in row
    assert f'href="/staff/{dee.id}/offboard"' in row and "Hand over what they held" in row
    health = client.get("/health").get_data(as_text=True)
    assert health.count(f'href="/staff/{dee.id}/offboard"') == 2  # her agency and her contact
    assert "Hand over Dee Walsh&#39;s relationships" in health or "Hand over Dee Walsh's relationships" in health

    step1 = client.get(f"/staff/{dee.id}/offboard")
    assert step1.status_code == 200
    text = _text(step1)
    assert "Step 1 of 2" in text and "without a handover" in text
    response = post_form(client, f"/staff/{dee.id}/offboard", {"default_user_id": str(taker.id)})
    assert response.status_code == 302
    handover = db.session.scalar(sa.select(Handover).where(Handover.leaver_id == dee.id))
    assert handover.completed_at is not None  # her account was already closed: nothing more to do
    assert db.session.get(Agency, agency.id).relationship_owner_id == taker.id
    assert db.session.get(Contact, contact.id).known_by_id == taker.id

    pack = _text(client.get(response.headers["Location"]))
    assert "account was closed on" in pack and "before this handover" in pack
    row = _row_of(client.get("/staff").get_data(as_text=True), "Dee Walsh")
    assert f'href="/handovers/{handover.id}"' in row and "No handover" not in row
    assert f'href="/staff/{dee.id}/offboard"' not in client.get("/health").get_data(as_text=True)


def test_handing_over_someone_who_left_and_holds_nothing_more_is_refused_and_changes_nothing(client, manager):
    dee = _left("Dee Walsh")
    taker = make_user(Role.PRACTITIONER)
    first = post_form(client, f"/staff/{dee.id}/offboard", {"default_user_id": str(taker.id)})
    assert first.status_code == 302  # the record that nothing was left with her
    again = post_form(client, f"/staff/{dee.id}/offboard", {"default_user_id": str(taker.id)})
    assert again.status_code == 422
    assert "holds nothing more to hand over" in _text(again)
    assert db.session.scalar(sa.select(sa.func.count(Handover.id)).where(Handover.leaver_id == dee.id)) == 1


def test_a_manager_cannot_hand_over_an_administrator_who_left(client, manager):
    admin = _left("Ada Admin", Role.ADMIN)
    make_agency(name="Clearview Clinic", relationship_owner_id=admin.id)
    row = _row_of(client.get("/staff").get_data(as_text=True), "Ada Admin")
    assert "offboard" not in row and "An administrator hands this over" in row
    assert client.get(f"/staff/{admin.id}/offboard").status_code == 403
    health = client.get("/health").get_data(as_text=True)
    assert f"/staff/{admin.id}/offboard" not in health
    assert "An administrator hands over Ada Admin" in health


def test_step_one_of_offboarding_has_back_and_cancel(client, manager):
    leaver = make_user(Role.PRACTITIONER, name="Kit Brennan")
    html = client.get(f"/staff/{leaver.id}/offboard").get_data(as_text=True)
    assert re.search(
        r'<a[^>]*class="govuk-back-link"[^>]*href="/staff"|<a[^>]*href="/staff"[^>]*class="govuk-back-link"', html
    )
    assert re.search(r'<a class="govuk-link" href="/staff">Cancel</a>', html)


def test_the_navigation_highlights_staff_and_handover_on_its_pages(client, manager):
    leaver = make_user(Role.PRACTITIONER)
    taker = make_user(Role.PRACTITIONER)
    response = post_form(client, f"/staff/{leaver.id}/offboard", {"default_user_id": str(taker.id)})
    for path in ("/staff", f"/staff/{leaver.id}/offboard", response.headers["Location"], "/health"):
        html = client.get(path).get_data(as_text=True)
        nav = html[html.index('aria-label="Main"') :]
        nav = nav[: nav.index("</nav>")]
        active = re.findall(
            r'govuk-service-navigation__item--active">\s*<a[^>]*>\s*(?:<strong[^>]*>)?\s*([^<]+?)\s*<', nav
        )
        assert active == ["Manage"], f"{path}: {active}"


def test_the_staff_page_costs_the_same_however_many_staff_and_handovers(app, client, manager):
    def staff_with_handovers(n: int) -> None:
        taker = make_user(Role.PRACTITIONER)
        for i in range(n):
            gone = _left(f"Gone {i}")
            db.session.add(Handover(leaver_id=gone.id, by_id=manager.id, assignments={}, items=[]))
            make_user(Role.PRACTITIONER)
        db.session.add(Handover(leaver_id=taker.id, by_id=manager.id, assignments={}, items=[]))
        db.session.flush()

    def cost() -> int:
        assert client.get("/staff").status_code == 200
        db.session.commit()
        db.session.expunge_all()
        with count_queries(app) as statements:
            assert client.get("/staff").status_code == 200
        return len(statements)

    staff_with_handovers(2)
    small = cost()
    staff_with_handovers(40)
    assert cost() == small


# Partnership health: the action beside each item ----------------------------------------------


def test_each_health_item_has_the_action_that_fixes_it(client, manager):
    no_key = make_agency(name="Beacon ISVA", has_agreement=False)
    a, b = make_contact(no_key, name="Jade Mensah"), make_contact(no_key, name="Xena Cruz")
    no_key.deputy_contact_id = b.id
    to_confirm = make_agency(name="Safer Homes", roles_to_confirm="Imogen Shaw became key contact when Mina Osei left")
    stale = make_contact(to_confirm, name="Grace Lin", last_spoken_on=None, last_verified_on=None)
    db.session.flush()
    html = client.get("/health").get_data(as_text=True)

    def section(section_id: str) -> str:
        start = html.index(f'id="{section_id}"')
        end = html.find("<h2", start)
        return html[start:end]

    assert f'href="/agencies/{to_confirm.id}#confirm-roles">Confirm key contacts' in section("confirm")
    assert f'href="/agencies/{no_key.id}/edit#key_contact_id">Choose a key contact' in section("no-key-contact")
    assert f'href="/agencies/{no_key.id}/edit#has_agreement">Record the working agreement' in section(
        "agreement-missing"
    )
    assert f'href="/agencies/{to_confirm.id}/contacts/new">Add a contact' in section("single-contact")
    assert f'href="/agencies/{to_confirm.id}/log?contact_id={stale.id}">Log a conversation' in section("not-spoken")
    assert f'href="/contacts/{stale.id}/edit#last_verified_on">Check and update their details' in section(
        "not-verified"
    )
    assert a.id  # Jade is Beacon's second active contact: no deputy is a gap only once someone could be one


def test_an_agency_with_contacts_but_no_deputy_is_listed_with_add_a_deputy(client, manager):
    agency = make_agency(
        name="Open Minds CMHT", has_agreement=True, agreement_review_on=today() + dt.timedelta(days=300)
    )
    key, other = make_contact(agency, name="Nell Parry"), make_contact(agency, name="Oren Blake")
    agency.key_contact_id = key.id
    db.session.flush()
    html = client.get("/health").get_data(as_text=True)
    start = html.index('id="no-deputy"')
    assert f'href="/agencies/{agency.id}/edit#deputy_contact_id">Add a deputy' in html[start : html.find("<h2", start)]
    agency = db.session.get(Agency, agency.id)
    agency.deputy_contact_id = other.id
    db.session.flush()
    html = client.get("/health").get_data(as_text=True)
    start = html.index('id="no-deputy"')
    assert "Open Minds CMHT" not in html[start : html.find("<h2", start)]


def test_a_review_date_in_the_past_is_marked_overdue_and_one_ahead_is_not(client, manager):
    past = make_agency(AgencyKind.IDVA, name="Safer Homes IDVA", has_agreement=True,
                       agreement_review_on=today() - dt.timedelta(days=10))  # fmt: skip
    soon = make_agency(AgencyKind.PROBATION, name="City Probation", has_agreement=True,
                       agreement_review_on=today() + dt.timedelta(days=10))  # fmt: skip
    html = client.get("/health").get_data(as_text=True)
    start = html.index('id="agreement-due"')
    rows = re.findall(r"<tr\b.*?</tr>", html[start:], re.S)
    past_row = next(r for r in rows if past.name in r)
    soon_row = next(r for r in rows if soon.name in r)
    assert "Overdue" in past_row and "review was due" in past_row
    assert "Overdue" not in soon_row and "review due" in soon_row
    assert f'href="/agencies/{past.id}/edit#agreement_review_on">Review the agreement' in past_row
