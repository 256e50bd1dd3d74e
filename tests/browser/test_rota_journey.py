"""End to end: the weekly drop-in wants housing support and an IDVA, and nobody is down for either; a
manager sees the housing row missing week after week. The housing agency's partner lead commits to
bring housing support to every session, then confirms the last one; the manager sees the housing gap
close (at risk within a week, covered after, the last confirmed) while the IDVA row stays missing.
Every page is checked with axe-core (WCAG 2.2 AA) at a desktop width, and the rota pages again at a
phone's (375 px).

The live server runs on today's date (not a frozen one), so the Wednesdays are counted from today.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from hub.db import today as hub_today
from rota.queries import AT_RISK_DAYS, GRID_WEEKS
from tests.browser.conftest import SEED
from tests.browser.test_directory_journey import check_axe, sign_in
from tests.browser.test_release_journey import _at_phone_width, _heading, _new_page

pytestmark = pytest.mark.browser
HOUSING, IDVA = "Housing support", "IDVA (domestic abuse advocate)"
GAP_LINE = "Services missing at the drop-in in the next 4 weeks"


def _wednesdays(weeks: int) -> list[dt.date]:
    """The drop-in's days from today (included) for ``weeks`` weeks, as the grid shows them."""
    today = hub_today()
    first = today + dt.timedelta(days=(2 - today.weekday()) % 7)
    end = today + dt.timedelta(weeks=weeks)
    return [first + dt.timedelta(weeks=n) for n in range(weeks + 1) if first + dt.timedelta(weeks=n) < end]


def _cell(row: Locator, state: str, service: str, day: dt.date) -> Locator:
    """The grid's link for one service on one day, named by its state (the visually hidden text says which)."""
    return row.get_by_role("link", name=f"{state} ({service}, {day:%-d %B})", exact=True)


def _grid_row(page: Page, service: str) -> Locator:
    grid = page.get_by_role("table", name="The drop-in rota, service by week")
    return grid.locator("tbody tr").filter(has=page.get_by_text(service, exact=True))


def _gap_count(page: Page) -> Locator:
    return page.locator(".hub-needs .govuk-summary-list__row").filter(has_text=GAP_LINE).locator("a")


def test_a_partner_lead_takes_a_standing_slot_and_the_gap_closes(browser: Any, live_server: str) -> None:
    checked: list[str] = []
    today = hub_today()  # the server's (London's) date, as the rota counts it
    days = _wednesdays(GRID_WEEKS)
    soon = [d for d in days if d <= today + dt.timedelta(weeks=4)]  # the home page's 4 weeks
    assert len(days) == GRID_WEEKS
    manager = _new_page(browser, live_server)
    lead = _new_page(browser, live_server)
    try:
        # The manager: every wanted service missing, week after week
        sign_in(manager, checked, SEED.manager_email)
        expect(manager.get_by_text(f"Signed in as {SEED.manager_name} (Manager)")).to_be_visible()
        expect(_gap_count(manager)).to_have_text(re.compile(rf"^{2 * len(soon)} "))
        check_axe(manager, checked)
        manager.get_by_role("navigation", name="Main").get_by_role("link", name="Rota").click()
        expect(_heading(manager)).to_have_text("Drop-in rota")
        expect(manager.locator("main")).to_contain_text(f"{SEED.series_name}: every Wednesday, 10:00 to 14:00")
        expect(manager.locator("main")).to_contain_text(SEED.rota_venue)
        housing, idva = _grid_row(manager, HOUSING), _grid_row(manager, IDVA)
        expect(housing).to_have_count(1)
        for day in days:
            expect(_cell(housing, "Missing", HOUSING, day)).to_be_visible()
            expect(_cell(idva, "Missing", IDVA, day)).to_be_visible()
        expect(housing).not_to_contain_text(SEED.agency_name)
        gaps = manager.get_by_role("table", name="Services nobody is down for").locator("tbody tr")
        expect(gaps).to_have_count(2 * len(days))
        expect(gaps.filter(has_text=HOUSING)).to_have_count(len(days))
        check_axe(manager, checked)
        _at_phone_width(manager, checked)

        # The housing agency's lead: nothing down for them yet, then a commitment to every session
        sign_in(lead, checked, SEED.rota_lead_email)
        expect(lead.get_by_text(f"Signed in as {SEED.rota_lead_name} (Partner lead)")).to_be_visible()
        check_axe(lead, checked)
        lead.get_by_role("navigation", name="Main").get_by_role("link", name="Rota").click()
        expect(_heading(lead)).to_have_text("Drop-in rota")
        yours = lead.get_by_role("table", name="Your agency's slots in the next 8 weeks")
        expect(yours).to_contain_text("Your agency is not down for any session in the next 8 weeks.")
        check_axe(lead, checked)
        _at_phone_width(lead, checked)
        lead.get_by_role("link", name=re.compile("^Commit to the drop-in")).click()
        expect(lead).to_have_url(re.compile(r"/rota/commitments/new$"))
        expect(_heading(lead)).to_have_text("Commit to the drop-in")
        check_axe(lead, checked)
        _at_phone_width(lead, checked)
        # First without a service, to see the error summary
        lead.get_by_role("button", name="Commit").click()
        summary = lead.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        expect(summary.get_by_role("link", name="Choose the service")).to_have_attribute("href", "#service")
        expect(lead).to_have_title(re.compile(r"^Error: "))
        check_axe(lead, checked)
        lead.get_by_label("Which service will you bring?").select_option(label=HOUSING)
        weeks = lead.get_by_role("group", name=re.compile("^Which weeks of the month"))
        for box in weeks.get_by_role("checkbox").all():
            expect(box).not_to_be_checked()  # all unticked: every week
        lead.get_by_label("Who will usually come?").select_option(label=f"{SEED.rota_lead_name}, Partnerships lead")
        expect(lead.get_by_label("From", exact=True)).to_have_value(f"{today:%-d/%-m/%Y}")
        lead.get_by_role("button", name="Commit").click()
        expect(lead).to_have_url(re.compile(r"/rota/commitments$"))
        expect(_heading(lead)).to_have_text("Standing commitments")
        expect(lead.locator(".govuk-notification-banner--success")).to_contain_text(
            "Committed: every session, housing support. The matching slots are yours."
        )
        row = lead.get_by_role("table", name="Standing commitments").locator("tbody tr")
        expect(row).to_have_count(1)
        for text in (SEED.agency_name, HOUSING, "Every session", SEED.rota_lead_name,
                     f"{today:%-d %B %Y}, no end date"):  # fmt: skip
            expect(row).to_contain_text(text)
        check_axe(lead, checked)
        _at_phone_width(lead, checked)

        # Their slots: every Wednesday, taken; the last confirmed from its session's page
        lead.get_by_role("link", name="Drop-in rota").click()
        slots = lead.get_by_role("table", name="Your agency's slots in the next 8 weeks").locator("tbody tr")
        expect(slots).to_have_count(len(days))
        for n in range(len(days)):
            expect(slots.nth(n)).to_contain_text("Taken")
            expect(slots.nth(n)).to_contain_text(SEED.rota_lead_name)
        check_axe(lead, checked)
        last = days[-1]
        slots.last.get_by_role("link", name=f"{last:%A} {last.day} {last:%B %Y}").click()
        expect(_heading(lead)).to_have_text(f"Drop-in, {last:%A} {last.day} {last:%B %Y}")
        card = lead.locator(".govuk-summary-card").filter(has=lead.get_by_role("heading", name=HOUSING))
        expect(card).to_contain_text("Taken")
        expect(card).to_contain_text(SEED.agency_name)
        check_axe(lead, checked)
        _at_phone_width(lead, checked)
        card.get_by_role("button", name=re.compile("^Confirm we are coming")).click()
        expect(lead.locator(".govuk-notification-banner--success")).to_contain_text("Confirmed: thank you.")
        expect(card).to_contain_text("Confirmed")
        check_axe(lead, checked)

        # The manager: the housing gap closed (at risk within a week, covered after, the last confirmed); IDVA still
        # missing
        manager.reload()
        expect(_heading(manager)).to_have_text("Drop-in rota")
        housing, idva = _grid_row(manager, HOUSING), _grid_row(manager, IDVA)
        expect(housing.get_by_role("link", name=re.compile(r"^Missing"))).to_have_count(0)
        expect(_cell(housing, "At risk", HOUSING, days[0])).to_be_visible()  # within a week, not confirmed
        for day in days:
            state = "Confirmed" if day == last else "At risk" if (day - today).days <= AT_RISK_DAYS else "Covered"
            expect(_cell(housing, state, HOUSING, day)).to_be_visible()
            expect(_cell(idva, "Missing", IDVA, day)).to_be_visible()
        expect(housing.locator(".hub-block").filter(has_text=SEED.agency_name)).to_have_count(len(days))
        gaps = manager.get_by_role("table", name="Services nobody is down for").locator("tbody tr")
        expect(gaps).to_have_count(len(days))
        expect(gaps.filter(has_text=HOUSING)).to_have_count(0)
        check_axe(manager, checked)
        _at_phone_width(manager, checked)
        manager.get_by_role("link", name="Standing commitments").first.click()
        expect(_heading(manager)).to_have_text("Standing commitments")
        expect(manager.get_by_role("table", name="Standing commitments")).to_contain_text(SEED.agency_name)
        check_axe(manager, checked)
        _at_phone_width(manager, checked)
        manager.goto("/")
        expect(_gap_count(manager)).to_have_text(re.compile(rf"^{len(soon)} "))
        check_axe(manager, checked)
    finally:
        manager.context.close()
        lead.context.close()

    assert len(checked) == 24, "\n".join(checked)
