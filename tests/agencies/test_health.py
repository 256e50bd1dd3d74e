"""The partnership health page: where knowledge of a partner is at risk.

Each test builds one partner with one problem and reads the page as a
manager would: the agency (or contact) is named in the section for that
problem, and nowhere else. Healthy agencies and the host organisation are
never listed. The staleness thresholds come from the app's settings.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from agencies import services
from agencies.models import Agency, AgencyKind, Contact, ContactStatus
from hub.auth import services as auth_services
from hub.auth.models import User
from hub.config import Settings
from hub.db import db, today
from hub.permissions import SYSTEM, Role
from tests.helpers import host_agency, make_agency, make_contact, make_user, sign_in

SECTIONS = (
    "confirm",
    "no-key-contact",
    "single-contact",
    "owned-by-leavers",
    "not-spoken",
    "not-verified",
    "agreement-missing",
    "agreement-due",
)


def days_from_now(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def staff(name: str, *, left: bool = False) -> User:
    user = make_user(Role.PRACTITIONER, name=name)
    if left:
        auth_services.disable_user(SYSTEM, user, reason="left")
    return user


def healthy_agency(name: str, **changes: object) -> Agency:
    """A partner with nothing wrong: a working agreement not due for review, a
    lead on our side, and an active key contact and deputy, both verified and
    spoken to recently and known by current staff. ``changes`` then spoil it."""
    lead = staff(f"{name} lead")
    agency = make_agency(
        AgencyKind.HOUSING,
        name=name,
        has_agreement=True,
        agreement_agreed_on=days_from_now(-100),
        agreement_review_on=days_from_now(200),
        relationship_owner_id=lead.id,
    )
    key = make_contact(
        agency,
        name=f"{name} Key",
        known_by_id=lead.id,
        last_verified_on=days_from_now(-10),
        last_spoken_on=days_from_now(-10),
    )
    deputy = make_contact(
        agency,
        name=f"{name} Deputy",
        known_by_id=lead.id,
        last_verified_on=days_from_now(-10),
        last_spoken_on=days_from_now(-10),
    )
    agency.key_contact_id, agency.deputy_contact_id = key.id, deputy.id
    for field, value in changes.items():
        setattr(agency, field, value)
    db.session.flush()
    return agency


def key_of(agency: Agency) -> Contact:
    contact = db.session.get(Contact, agency.key_contact_id)
    assert contact is not None
    return contact


def deputy_of(agency: Agency) -> Contact:
    contact = db.session.get(Contact, agency.deputy_contact_id)
    assert contact is not None
    return contact


def _text(fragment: str) -> str:
    inline_tags_gone = re.sub(r"</?(?:a|strong|span|em|b)\b[^>]*>", "", fragment)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline_tags_gone)).split())


def health_page(client) -> dict[str, str]:
    """The page's text, section by section (keyed by the heading's id), plus
    the whole page under "all"."""
    response = client.get("/health")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    main = page[page.index("<main") : page.index("</main>")]
    found = {"all": _text(main)}
    for section in SECTIONS:
        start = main.index(f'id="{section}"')
        end = main.find("<h2", start)
        found[section] = _text(main[main.rindex("<h2", 0, start) : end if end != -1 else len(main)])
    return found


def listed_in(page: dict[str, str], name: str) -> list[str]:
    """The sections that name ``name``."""
    return [s for s in SECTIONS if name in page[s]]


@pytest.fixture
def manager(client):
    sign_in(client, make_user(Role.MANAGER, name="Mina Manager"))
    return client


# Nothing to report ------------------------------------------------------------------


def test_a_healthy_agency_is_not_listed(manager):
    healthy_agency("Harbour Housing")

    page = health_page(manager)

    assert listed_in(page, "Harbour Housing") == []
    assert "0 things to look at" in page["all"]


def test_the_host_organisation_is_never_listed_whatever_its_state(manager):
    host = host_agency()
    gone = staff("Gone Colleague", left=True)
    only = make_contact(host, name="Host Only Contact", known_by_id=gone.id, last_verified_on=None, last_spoken_on=None)
    leaver = make_contact(host, name="Host Leaver", status=ContactStatus.LEFT, left_on=days_from_now(-5))
    host.key_contact_id = leaver.id
    host.relationship_owner_id = gone.id
    host.has_agreement = False
    host.roles_to_confirm = "Host Only Contact became key contact"
    db.session.flush()

    page = health_page(manager)

    assert listed_in(page, host.name) == []
    assert listed_in(page, only.name) == []
    assert "0 things to look at" in page["all"]


# Key contacts --------------------------------------------------------------------------


def test_an_agency_with_no_key_contact_is_listed(manager):
    healthy_agency("Beacon ISVA", key_contact_id=None)

    assert listed_in(health_page(manager), "Beacon ISVA") == ["no-key-contact"]


def test_an_agency_whose_key_contact_has_left_is_listed(manager):
    agency = healthy_agency("Open Minds CMHT")
    key = key_of(agency)
    key.status, key.left_on = ContactStatus.LEFT, days_from_now(-3)  # as an older import may have left it
    extra = make_contact(
        agency, name="Oren Blake", last_verified_on=days_from_now(-1), last_spoken_on=days_from_now(-1)
    )
    db.session.flush()

    page = health_page(manager)

    assert listed_in(page, "Open Minds CMHT") == ["no-key-contact"]
    assert listed_in(page, key.name) == []  # a leaver is not chased for verification
    assert listed_in(page, extra.name) == []


def test_a_key_contact_leaving_with_nobody_to_take_over_is_listed_until_someone_is_chosen(manager):
    agency = healthy_agency("Fairway Law Centre", deputy_contact_id=None)
    make_contact(agency, name="Rhea Patel", last_verified_on=days_from_now(-1), last_spoken_on=days_from_now(-1))
    services.record_leaver(SYSTEM, key_of(agency), left_on=days_from_now(-1))

    page = health_page(manager)

    assert listed_in(page, "Fairway Law Centre") == ["confirm", "no-key-contact"]


def test_a_key_contact_change_awaiting_confirmation_is_listed_until_confirmed(manager):
    agency = healthy_agency("Safer Homes IDVA")
    services.record_leaver(SYSTEM, key_of(agency), left_on=days_from_now(-1))  # the deputy steps up
    make_contact(agency, name="Imogen Shaw", last_verified_on=days_from_now(-1), last_spoken_on=days_from_now(-1))

    assert listed_in(health_page(manager), "Safer Homes IDVA") == ["confirm"]

    # (a request ends the session the test's objects belong to: load the agency afresh)
    services.confirm_key_roles(SYSTEM, db.session.get(Agency, agency.id))

    assert listed_in(health_page(manager), "Safer Homes IDVA") == []


# Resting on one person ----------------------------------------------------------------


def test_an_agency_resting_on_a_single_active_contact_is_listed(manager):
    agency = healthy_agency("Millbrook Medical", deputy_contact_id=None)
    deputy = db.session.query(Contact).filter_by(name="Millbrook Medical Deputy").one()
    deputy.status, deputy.left_on = ContactStatus.LEFT, days_from_now(-20)
    db.session.flush()

    page = health_page(manager)

    assert listed_in(page, "Millbrook Medical") == ["single-contact"]
    assert agency.key_contact_id is not None


def test_an_agency_with_no_contacts_at_all_is_listed(manager):
    make_agency(
        AgencyKind.OTHER, name="Hope Street Food Bank", has_agreement=True, agreement_review_on=days_from_now(300)
    )

    assert listed_in(health_page(manager), "Hope Street Food Bank") == ["no-key-contact", "single-contact"]


# Stale contacts, against the app's thresholds -----------------------------------------


def test_the_app_runs_with_the_default_thresholds(manager, settings):
    defaults = Settings()
    assert (settings.stale_verified_days, settings.stale_spoken_days, settings.agreement_review_warning_days) == (
        defaults.stale_verified_days,
        defaults.stale_spoken_days,
        defaults.agreement_review_warning_days,
    )

    page = health_page(manager)

    assert f"not verified for {defaults.stale_verified_days} days" in page["not-verified"]
    assert f"not spoken to for {defaults.stale_spoken_days} days" in page["not-spoken"]
    assert f"within {defaults.agreement_review_warning_days} days" in page["agreement-due"]


def test_contacts_not_verified_for_longer_than_the_threshold_are_listed(manager, settings):
    limit = settings.stale_verified_days
    agency = healthy_agency("City Probation")
    key_of(agency).last_verified_on = days_from_now(-(limit + 1))
    deputy_of(agency).last_verified_on = days_from_now(-limit)  # on the day: not yet stale
    never = make_contact(agency, name="Gareth Lowe", last_verified_on=None, last_spoken_on=days_from_now(-1))
    make_contact(
        agency,
        name="Paula Strand",
        status=ContactStatus.LEFT,
        left_on=days_from_now(-400),
        last_verified_on=None,
        last_spoken_on=None,
    )
    db.session.flush()

    page = health_page(manager)

    assert listed_in(page, "City Probation Key") == ["not-verified"]
    assert listed_in(page, never.name) == ["not-verified"]
    assert "Never" in page["not-verified"]
    assert listed_in(page, "City Probation Deputy") == []
    assert listed_in(page, "Paula Strand") == []


def test_contacts_not_spoken_to_for_longer_than_the_threshold_are_listed(manager, settings):
    limit = settings.stale_spoken_days
    agency = healthy_agency("Pathways")
    key_of(agency).last_spoken_on = days_from_now(-(limit + 1))
    deputy_of(agency).last_spoken_on = days_from_now(-limit)
    never = make_contact(agency, name="Grace Lin", last_verified_on=days_from_now(-1), last_spoken_on=None)
    db.session.flush()

    page = health_page(manager)

    assert listed_in(page, "Pathways Key") == ["not-spoken"]
    assert listed_in(page, never.name) == ["not-spoken"]
    assert listed_in(page, "Pathways Deputy") == []


def test_thresholds_set_for_the_hub_are_honoured(manager, app, settings, monkeypatch):
    monkeypatch.setitem(app.extensions, "hub_settings", settings.with_(stale_verified_days=30, stale_spoken_days=14))
    agency = healthy_agency("Clearview Sexual Health")
    key_of(agency).last_verified_on = days_from_now(-31)
    deputy_of(agency).last_spoken_on = days_from_now(-15)
    db.session.flush()

    page = health_page(manager)

    assert "not verified for 30 days" in page["not-verified"]
    assert listed_in(page, "Clearview Sexual Health Key") == ["not-verified"]
    assert listed_in(page, "Clearview Sexual Health Deputy") == ["not-spoken"]


# Working agreements ----------------------------------------------------------------------


def test_an_agency_with_no_working_agreement_is_listed(manager):
    healthy_agency("Quiet Room Therapy", has_agreement=False)

    assert listed_in(health_page(manager), "Quiet Room Therapy") == ["agreement-missing"]


REVIEWS = {  # when the review falls, against the warning period W: listed?
    "overdue": (lambda w: -5, True),
    "due today": (lambda w: 0, True),
    "within the warning period": (lambda w: w - 1, True),
    "on its last day": (lambda w: w, True),
    "after it": (lambda w: w + 1, False),
}


@pytest.mark.parametrize(("review_in", "listed"), REVIEWS.values(), ids=REVIEWS.keys())
def test_an_agreement_due_for_review_is_listed(manager, settings, review_in, listed):
    days = review_in(settings.agreement_review_warning_days)
    healthy_agency("Riverside Housing Options", agreement_review_on=days_from_now(days))

    page = health_page(manager)

    assert listed_in(page, "Riverside Housing Options") == (["agreement-due"] if listed else [])


def test_an_agreement_with_no_review_date_is_listed(manager):
    healthy_agency("HMP Eastbrook", agreement_review_on=None)

    page = health_page(manager)

    assert listed_in(page, "HMP Eastbrook") == ["agreement-due"]
    assert "HMP Eastbrook: no review date" in page["agreement-due"]


# Relationships held by staff who have left ------------------------------------------------


def test_an_agency_led_by_staff_who_have_left_is_listed(manager):
    gone = staff("Dee Walsh", left=True)
    healthy_agency("Northshire Police", relationship_owner_id=gone.id)

    page = health_page(manager)

    assert listed_in(page, "Northshire Police") == ["owned-by-leavers"]
    assert "Northshire Police: relationship lead Dee Walsh has left" in page["owned-by-leavers"]


def test_a_contact_known_by_staff_who_have_left_is_listed(manager):
    gone = staff("Kit Brennan", left=True)
    agency = healthy_agency("Northshire Childrens Services")
    key_of(agency).known_by_id = gone.id
    make_contact(agency, name="Tariq Aziz", known_by_id=gone.id, status=ContactStatus.LEFT, left_on=days_from_now(-10))
    db.session.flush()

    page = health_page(manager)

    assert listed_in(page, "Northshire Childrens Services Key") == ["owned-by-leavers"]
    assert (
        "Northshire Childrens Services Key (Northshire Childrens Services): known by Kit Brennan, who has left"
        in page["owned-by-leavers"]
    )
    assert listed_in(page, "Tariq Aziz") == []


def test_every_problem_is_counted(manager):
    healthy_agency("Harbour Housing")
    healthy_agency("Beacon ISVA", key_contact_id=None, has_agreement=False)
    healthy_agency("Millbrook Medical", relationship_owner_id=staff("Dee Walsh", left=True).id)

    page = health_page(manager)

    assert "3 things to look at" in page["all"]


# Who may see it -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_managers_and_admins_may_open_it(client, role):
    sign_in(client, make_user(role))

    assert client.get("/health").status_code == 200
    # Reached through the navigation's Manage section.
    assert 'href="/manage"' in client.get("/directory").get_data(as_text=True)
    assert 'href="/health"' in client.get("/manage").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.PARTNER_LEAD, Role.PARTNER])
def test_nobody_else_may_open_it(client, role):
    sign_in(client, make_user(role))

    assert client.get("/health").status_code == 403
    assert 'href="/health"' not in client.get("/directory").get_data(as_text=True)


def test_someone_not_signed_in_is_sent_to_sign_in(client):
    response = client.get("/health")

    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
