"""A live hub server and a headless Chromium for the end-to-end tests.

Unlike the rest of the suite these tests need real commits: the browser
talks to a real HTTP server in another thread, so the savepoint-rollback
``app``/``client`` fixtures cannot be used. The server gets its own
database (``hub_test_browser``, plus the xdist worker's suffix), built by
the migrations and seeded through the services, and serves it with
werkzeug for the whole session.

Chromium is Debian's (``/usr/bin/chromium``), never one downloaded by
``playwright install``. Without it the tests are skipped locally and fail
in CI (``CI=true``), so a CI image that lost its browser cannot pass quietly.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask_migrate
import pytest

from agencies import services as agency_services
from agencies.models import AgencyKind, Channel
from consent import services as consent_services
from consent.models import ConsentMethod
from hub.app import create_app
from hub.auth import services as auth_services
from hub.db import db, today
from hub.permissions import SYSTEM, Role
from rota import services as rota_services
from tests.conftest import _recreate_database, make_settings, own_database_url
from tests.helpers import serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists() or _in_ci():
        return  # in CI a missing browser fails in the ``browser`` fixture instead
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium); browser tests skipped")
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(skip)


def _database_url() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return own_database_url("browser" + (f"_{worker}" if worker else ""))


@dataclass(frozen=True)
class Seed:
    """What the journey starts from."""

    user_email: str
    user_name: str
    agency_name: str
    other_agency_name: str
    leaver_name: str
    colleague_name: str
    # The referral journey: a key worker, and a probation officer who has an
    # account and is the probation agency's key contact.
    keyworker_email: str = "robin.keyworker@example.org"
    keyworker_name: str = "Robin Keyworker"
    officer_email: str = "pat.officer@example.org"
    officer_name: str = "Pat Officer"
    # The release journey: a key worker, a prison, and a GP practice whose lead has an account.
    planner_email: str = "jo.planner@example.org"
    planner_name: str = "Jo Planner"
    prison_name: str = "HMP Testmoor"
    practice_name: str = "Brookside GP Practice"
    practice_lead_email: str = "gail.surgery@example.org"
    practice_lead_name: str = "Gail Surgery"
    # The rota journey: a manager at the charity, the weekly drop-in (wanting housing support and an IDVA,
    # nobody down for either), and a partner lead at the housing agency (``agency_name``) with an account.
    manager_email: str = "mo.manager@example.org"
    manager_name: str = "Mo Manager"
    series_name: str = "Wonder Women Wednesdays"
    rota_venue: str = "The Test Women's Centre, 7 Example Row, Testford"
    rota_lead_email: str = "rhea.rota@example.org"
    rota_lead_name: str = "Rhea Rota"
    # The forum journey: a manager who sets up and chairs a forum, a practitioner who nominates a woman, and
    # the woman, who agreed to be discussed at the forum (named) with the housing agency only.
    chair_email: str = "cleo.chair@example.org"
    chair_name: str = "Cleo Chair"
    nominator_email: str = "nia.nominator@example.org"
    nominator_name: str = "Nia Nominator"
    forum_woman_given: str = "Wren"
    forum_woman_family: str = "Hollis"
    # The reports' page: a manager of our own who reads the figures and downloads them.
    reports_email: str = "rae.reports@example.org"
    reports_name: str = "Rae Reports"


SEED = Seed(
    user_email="sam.practitioner@example.org",
    user_name="Sam Practitioner",
    agency_name="Northside Housing Options",
    other_agency_name="Riverside Probation Delivery Unit",
    leaver_name="Dana Okafor",
    colleague_name="Priya Shah",
)


def _seed() -> None:
    host = agency_services.create_agency(SYSTEM, {"name": "Test Women's Centre", "kind": AgencyKind.HOST})
    housing = agency_services.create_agency(
        SYSTEM,
        {
            "name": SEED.agency_name,
            "kind": AgencyKind.HOUSING,
            "services": "Homelessness assessments, emergency beds, the housing register.",
            "how_to_refer": "Email the duty officer before noon; same-day beds are possible.",
            "phone": "0161 496 0000",
            "email": "duty@northside.example.org",
        },
    )
    probation = agency_services.create_agency(SYSTEM, {"name": SEED.other_agency_name, "kind": AgencyKind.PROBATION})
    leaver = agency_services.add_contact(
        SYSTEM,
        housing,
        {
            "name": SEED.leaver_name,
            "role": "Senior housing officer",
            "email": "dana@northside.example.org",
            "phone": "0161 496 0001",
            "preferred_channel": Channel.EMAIL,
            "knowledge": "Knows the housing register inside out; can get an emergency bed the same day.",
        },
    )
    colleague = agency_services.add_contact(
        SYSTEM,
        housing,
        {
            "name": SEED.colleague_name,
            "role": "Housing officer",
            "email": "priya@northside.example.org",
        },
    )
    agency_services.update_agency(SYSTEM, housing, {"key_contact_id": leaver.id, "deputy_contact_id": colleague.id})
    user, _ = auth_services.create_user(
        SYSTEM,
        email=SEED.user_email,
        name=SEED.user_name,
        agency_id=host.id,
        role=Role.PRACTITIONER,
        password=PASSWORD,
    )
    user.must_change_password = False
    keyworker, _ = auth_services.create_user(
        SYSTEM,
        email=SEED.keyworker_email,
        name=SEED.keyworker_name,
        agency_id=host.id,
        role=Role.PRACTITIONER,
        password=PASSWORD,
    )
    keyworker.must_change_password = False
    officer, _ = auth_services.create_user(
        SYSTEM,
        email=SEED.officer_email,
        name=SEED.officer_name,
        agency_id=probation.id,
        role=Role.PARTNER,
        password=PASSWORD,
    )
    officer.must_change_password = False
    officer_contact = agency_services.add_contact(
        SYSTEM, probation, {"name": SEED.officer_name, "role": "Probation officer", "email": SEED.officer_email}
    )
    officer_contact.user_id = officer.id
    agency_services.update_agency(SYSTEM, probation, {"key_contact_id": officer_contact.id})
    agency_services.create_agency(SYSTEM, {"name": SEED.prison_name, "kind": AgencyKind.PRISON})
    practice = agency_services.create_agency(SYSTEM, {"name": SEED.practice_name, "kind": AgencyKind.HEALTH})
    for email, name, agency, role in ((SEED.planner_email, SEED.planner_name, host, Role.PRACTITIONER),
                                      (SEED.practice_lead_email, SEED.practice_lead_name, practice,
                                       Role.PARTNER_LEAD)):  # fmt: skip
        account, _ = auth_services.create_user(
            SYSTEM, email=email, name=name, agency_id=agency.id, role=role, password=PASSWORD
        )
        account.must_change_password = False
        if agency is practice:  # a partner account belongs to a contact of its agency; here the key contact
            lead = agency_services.add_contact(
                SYSTEM, practice, {"name": name, "role": "Practice manager", "email": email, "phone": "0161 496 0200"}
            )
            lead.user_id = account.id
            agency_services.update_agency(SYSTEM, practice, {"key_contact_id": lead.id})
    manager, _ = auth_services.create_user(
        SYSTEM, email=SEED.manager_email, name=SEED.manager_name, agency_id=host.id, role=Role.MANAGER,
        password=PASSWORD,
    )  # fmt: skip
    manager.must_change_password = False
    # The housing agency's partner lead: one of its contacts, not its key contact (the directory journey
    # records that key contact leaving), so the rota journey names her as the one who comes.
    rota_lead, _ = auth_services.create_user(
        SYSTEM, email=SEED.rota_lead_email, name=SEED.rota_lead_name, agency_id=housing.id,
        role=Role.PARTNER_LEAD, password=PASSWORD,
    )  # fmt: skip
    rota_lead.must_change_password = False
    rota_contact = agency_services.add_contact(
        SYSTEM, housing, {"name": SEED.rota_lead_name, "role": "Partnerships lead", "email": SEED.rota_lead_email}
    )
    rota_contact.user_id = rota_lead.id
    for email, name, role in ((SEED.chair_email, SEED.chair_name, Role.MANAGER),
                              (SEED.reports_email, SEED.reports_name, Role.MANAGER),
                              (SEED.nominator_email, SEED.nominator_name, Role.PRACTITIONER)):  # fmt: skip
        account, _ = auth_services.create_user(
            SYSTEM, email=email, name=name, agency_id=host.id, role=role, password=PASSWORD
        )
        account.must_change_password = False
        if role is Role.PRACTITIONER:
            woman = consent_services.create_service_user(
                account, {"given_name": SEED.forum_woman_given, "family_name": SEED.forum_woman_family}
            )
            consent_services.record_consent(account, woman, {
                "agency_id": housing.id, "purposes": ["forum_discussion"], "data_categories": ["identity"],
                "method": ConsentMethod.WRITTEN, "given_on": today(),
                "evidence_note": "She agreed to be discussed at the forum with housing only.",
            })  # fmt: skip
    rota_services.save_series(manager, None, {
        "name": SEED.series_name, "weekday": 2, "starts_at": dt.time(10), "ends_at": dt.time(14),
        "venue": SEED.rota_venue, "weeks_ahead": 8, "wanted_services": ["housing", "idva"],
    })  # fmt: skip
    db.session.commit()


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The base URL of a real hub server on a fresh, seeded database."""
    url = _database_url()
    _recreate_database(url)
    hub = create_app(make_settings(database_url=url, require_2fa=True))
    with hub.app_context():
        flask_migrate.upgrade()
        _seed()
    with serving(hub) as base_url:
        yield base_url
        with hub.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing and CI=true: the browser tests must run in CI")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """A fresh browser context (no cookies) with a page, its URLs relative to the live server."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
