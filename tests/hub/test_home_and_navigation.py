"""The home page says what needs this person today, from every package's provider; the
navigation is one row of sections from the registry, with the current one highlighted."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask

from consent import services as consent
from consent.models import ConsentRecord
from hub import registry
from hub.db import db
from hub.permissions import Role
from hub.web import needs
from tests.conftest import count_queries
from tests.consent.test_pages import text_of
from tests.helpers import make_user, sign_in
from tests.referrals.test_pages import _consent, _sent, build_world

TODAY = dt.date.today()


@pytest.fixture
def world():
    return build_world()


def _needs(client) -> dict[str, tuple[str, str]]:
    """The home page's lines: text -> (count, link)."""
    html = client.get("/").get_data(as_text=True)
    rows = re.findall(
        r'<dt class="govuk-summary-list__key">\s*(.*?)\s*</dt>\s*<dd class="govuk-summary-list__value">\s*'
        r'<a class="govuk-link[^"]*" href="([^"]+)">(\d+\+?)<',
        html,
        re.S,
    )
    return {text: (count, href) for text, href, count in rows}


def _active(client, path: str) -> list[str]:
    html = client.get(path).get_data(as_text=True)
    nav = html[html.index('aria-label="Main"') :]
    nav = nav[: nav.index("</nav>")]
    return re.findall(r'govuk-service-navigation__item--active">\s*<a[^>]*>\s*(?:<strong[^>]*>)?\s*([^<]+?)\s*<', nav)


def test_a_partner_is_told_what_waits_for_her_agency(client, world):
    practitioner, agency, officer, person = world
    _consent(practitioner, person, agency)
    first = _sent(practitioner, person, agency)
    _sent(practitioner, person, agency)
    first.due_on = TODAY - dt.timedelta(days=3)  # past its acknowledge-by date
    db.session.flush()
    sign_in(client, officer)
    lines = _needs(client)
    assert lines["To acknowledge"] == ("2", "/inbox?status=sent")
    assert lines["Overdue: past the date to acknowledge or decide"] == ("1", "/overdue")
    assert "To accept or decline" not in lines  # nothing acknowledged yet: no line of 0
    assert not any("Safeguarding" in text or "Consents" in text for text in lines)  # our staff's lines only


def test_a_practitioner_sees_her_caseloads_consents_ending_and_a_manager_everyones(client, world):
    practitioner, agency, _officer, person = world
    mine = _consent(practitioner, person, agency)
    other_worker = make_user(Role.PRACTITIONER, name="Other Worker")
    someone_else = consent.create_service_user(other_worker, {"given_name": "Dee", "family_name": "Elsewhere"})
    someone_else.key_worker_id = other_worker.id
    person.key_worker_id = practitioner.id
    theirs = _consent(other_worker, someone_else, agency)
    later = _consent(practitioner, person, agency)
    for record, days in ((mine, 10), (theirs, 20), (later, 90)):
        db.session.get(ConsentRecord, record.id).expires_on = TODAY + dt.timedelta(days=days)
    db.session.flush()
    sign_in(client, practitioner)
    line = _needs(client)["Consents ending in the next 30 days (women you key-work)"]
    assert line == ("1", "/consents/expiring?mine=1")
    page = text_of(client.get(line[1]))
    assert "Ann Example" in page and "Dee Elsewhere" not in page
    manager = make_user(Role.MANAGER)
    sign_in(client, manager)
    assert _needs(client)["Consents ending in the next 30 days"] == ("2", "/consents/expiring")
    assert "Dee Elsewhere" in text_of(client.get("/consents/expiring"))


def test_the_expiring_consents_page_is_for_our_staff_only(client, world):
    _practitioner, _agency, officer, _person = world
    sign_in(client, officer)
    assert client.get("/consents/expiring").status_code == 404


def test_nothing_waiting_says_so(client):
    sign_in(client, make_user(Role.PRACTITIONER))
    page = text_of(client.get("/"))
    assert "Nothing needs you today." in page


def test_a_package_adds_its_own_line_through_the_registry(app: Flask, client):
    def rota_needs(actor):
        return [needs.Need("Drop-in rota", "Rota slots to confirm", 3, "/somewhere")]

    registry.register(app, needs.NEEDS, rota_needs)
    sign_in(client, make_user(Role.PRACTITIONER))
    assert _needs(client)["Rota slots to confirm"] == ("3", "/somewhere")


def test_the_home_page_costs_the_same_whatever_the_numbers(app, client, world):
    practitioner, agency, officer, person = world
    _consent(practitioner, person, agency)
    sign_in(client, officer)
    _sent(practitioner, person, agency)
    client.get("/")
    with count_queries(app) as few:
        client.get("/")
    for _ in range(30):
        _sent(practitioner, person, agency)
    with count_queries(app) as many:
        client.get("/")
    assert len(few) == len(many), (len(few), len(many))


@pytest.mark.parametrize(
    ("role", "path", "active"),
    [
        (Role.PRACTITIONER, "/", []),
        (Role.PRACTITIONER, "/directory", ["Directory"]),
        (Role.PRACTITIONER, "/service-users", ["Service users"]),
        (Role.PRACTITIONER, "/referrals", ["Referrals"]),
        (Role.PRACTITIONER, "/overdue", ["Referrals"]),
        (Role.PRACTITIONER, "/notifications", ["Notifications"]),
        (Role.MANAGER, "/health", ["Manage"]),
        (Role.MANAGER, "/staff", ["Manage"]),
        (Role.MANAGER, "/manage", ["Manage"]),
        (Role.ADMIN, "/audit", ["Manage"]),
    ],
)
def test_exactly_the_current_section_is_highlighted(client, role, path, active):
    sign_in(client, make_user(role))
    assert _active(client, path) == active


def test_a_partner_sees_the_partner_sections_only(client, world):
    _practitioner, _agency, officer, _person = world
    sign_in(client, officer)
    html = client.get("/inbox").get_data(as_text=True)
    nav = html[html.index('aria-label="Main"') :]
    nav = nav[: nav.index("</nav>")]
    assert "Inbox" in nav and "Directory" in nav
    for staff_only in ("Service users", ">Referrals<", "Manage", "Audit log", "Partnership health"):
        assert staff_only not in nav
    assert _active(client, "/inbox") == ["Inbox"]


def test_the_manage_page_lists_what_this_person_may_manage(client):
    sign_in(client, make_user(Role.MANAGER))
    page = text_of(client.get("/manage"))
    assert "Partnership health" in page and "Staff and handover" in page and "Audit log" not in page
    sign_in(client, make_user(Role.ADMIN))
    assert "Audit log" in text_of(client.get("/manage"))
    sign_in(client, make_user(Role.PRACTITIONER))
    assert client.get("/manage").status_code == 404


def test_every_section_leads_to_a_page_that_exists(app: Flask):
    with app.test_request_context("/"):
        for item in registry.providers(needs.NAVIGATION):
            assert item.endpoint in app.view_functions, item.key
