"""End to end: a practitioner signs in (setting up two-factor sign-in), finds
an agency in the directory, adds a contact and records that another contact
has left with the new one as successor. Every page is checked with axe-core
against WCAG 2.2 AA.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, SEED

AXE_JS = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
NEW_CONTACT = "Jordan Mensah"
# Screenshots of the main pages, for a person to look at (CI can keep them as artefacts).
SCREENSHOTS = Path(os.environ.get("HUB_SCREENSHOT_DIR") or tempfile.gettempdir())

pytestmark = pytest.mark.browser


@functools.cache
def axe_source() -> str:
    assert AXE_JS.exists(), f"{AXE_JS} is missing: run bin/setup (it installs the front-end packages)"
    return AXE_JS.read_text(encoding="utf-8")


def check_axe(page: Page, checked: list[str]) -> None:
    """Run axe-core on the page as it is now and fail on any violation.

    The script is evaluated through the DevTools protocol rather than added
    as a <script> tag, so the page's strict CSP stays in force during the test.
    """
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;undefined")
    result: dict[str, Any] = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})
                   .then(r => ({passes: r.passes.length, violations: r.violations}))""",
        AXE_TAGS,
    )
    assert result["passes"] > 0, f"axe checked nothing on {page.url}"
    violations = result["violations"]
    checked.append(page.url)
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>\n"
        + "\n".join(f"    {n['target']}: {n.get('failureSummary', '')}".replace("\n", "\n      ") for n in v["nodes"])
        for v in violations
    )
    assert not violations, f"axe found accessibility problems on {page.url}:\n{report}"


def sign_in(page: Page, checked: list[str], email: str = SEED.user_email) -> None:
    """Sign in through the real pages, setting up the authenticator on the way."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the Partnership Hub")
    check_axe(page, checked)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    check_axe(page, checked)
    page.get_by_text("I can't scan the QR code").click()
    secret = page.locator("#totp-secret")
    expect(secret).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret.inner_text().strip()).now())
    page.get_by_role("button", name="Confirm and sign in").click()


def test_practitioner_records_a_leaver_and_successor(page: Page) -> None:
    checked: list[str] = []
    sign_in(page, checked)

    # Home page
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_text(f"Signed in as {SEED.user_name} (Practitioner)")).to_be_visible()
    check_axe(page, checked)

    # Directory, then a search by name
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Directory").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Partner directory")
    # The charity, housing, probation, and the prison and GP practice of the release journey
    expect(page.locator("#result-count")).to_have_text("5 agencies")
    check_axe(page, checked)
    page.get_by_label("Search agencies and contacts").fill("Northside")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/directory\?q=Northside"))
    expect(page.locator("#result-count")).to_have_text("1 agency found")
    results = page.get_by_role("table", name="Agencies")
    expect(results.get_by_role("link", name=SEED.other_agency_name)).to_have_count(0)
    check_axe(page, checked)
    page.screenshot(path=SCREENSHOTS / "hub-directory.png", full_page=True)

    # The agency page
    results.get_by_role("link", name=SEED.agency_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED.agency_name)
    agency_url = page.url
    check_axe(page, checked)
    page.screenshot(path=SCREENSHOTS / "hub-agency.png", full_page=True)

    # Add a contact: first without a name, to see the error summary
    page.get_by_role("link", name="Add a contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a contact")
    check_axe(page, checked)
    page.get_by_label("Job title or role").fill("Housing options officer")
    page.get_by_role("button", name="Save contact").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()  # GOV.UK Frontend's JavaScript runs under the CSP
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(summary.get_by_role("link", name="Enter their full name")).to_have_attribute("href", "#name")
    expect(page.locator("#name-error")).to_contain_text("Enter their full name")
    expect(page.get_by_label("Job title or role")).to_have_value("Housing options officer")
    check_axe(page, checked)
    page.get_by_label("Full name").fill(NEW_CONTACT)
    page.get_by_label("Work email").fill("jordan@northside.example.org")
    page.get_by_label("How they prefer to be contacted").select_option(label="Phone")
    page.get_by_label("What they are good for").fill("Emergency beds and the housing register.")
    page.get_by_role("button", name="Save contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NEW_CONTACT)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(f"{NEW_CONTACT} has been added.")
    check_axe(page, checked)

    # Record that the key contact has left, with the new contact as successor
    page.goto(agency_url)
    check_axe(page, checked)
    page.get_by_role("table", name=f"Contacts at {SEED.agency_name}").get_by_role("link", name=SEED.leaver_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED.leaver_name)
    check_axe(page, checked)
    page.get_by_role("link", name=f"Record that {SEED.leaver_name} has left").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Record that {SEED.leaver_name} has left")
    check_axe(page, checked)
    today = dt.date.today()
    page.get_by_label("Date they left (or will leave)").fill(f"{today.day}/{today.month}/{today.year}")
    page.get_by_label("Who is taking over their work").select_option(label=f"{NEW_CONTACT}, Housing options officer")
    page.get_by_label("Handover note (optional)").fill("Two emergency-bed requests in progress.")
    page.get_by_role("button", name="Record leaver").click()

    # Back on the agency page: the leaver is shown as left, with their successor
    expect(page).to_have_url(agency_url)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        f"{SEED.leaver_name} is recorded as having left."
    )
    leaver_row = page.get_by_role("row").filter(has=page.get_by_role("link", name=SEED.leaver_name))
    expect(leaver_row).to_contain_text(f"Left on {today.day} {today:%B %Y}")
    expect(leaver_row).to_contain_text(f"Succeeded by {NEW_CONTACT}")
    expect(leaver_row.get_by_role("link", name=NEW_CONTACT)).to_be_visible()
    expect(page.locator("#confirm-roles")).to_contain_text("Key contacts changed")
    check_axe(page, checked)

    # Following "Succeeded by" to the successor's page, which lists who they took over from
    leaver_row.get_by_role("link", name=NEW_CONTACT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NEW_CONTACT)
    expect(page.get_by_role("heading", name="Took over from", exact=True)).to_be_visible()
    expect(page.locator("#took-over + ul")).to_contain_text(SEED.leaver_name)
    check_axe(page, checked)

    assert len(checked) == 14, checked
