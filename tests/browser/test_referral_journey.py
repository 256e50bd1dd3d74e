"""End to end: a key worker adds a woman, records her consent (reading her the
plain-language information) and sends a referral to probation; the probation
officer it is addressed to signs in, finds it in the inbox, reads it and
acknowledges it; the key worker sees it acknowledged. Every page is checked
with axe-core against WCAG 2.2 AA.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SEED
from tests.browser.test_directory_journey import SCREENSHOTS, check_axe, sign_in

pytestmark = pytest.mark.browser


def _new_page(browser: Any, live_server: str) -> Page:
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return context.new_page()


def _heading(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


def test_consent_referral_and_acknowledgement(browser: Any, live_server: str) -> None:
    checked: list[str] = []
    worker = _new_page(browser, live_server)
    officer = _new_page(browser, live_server)
    try:
        # The key worker adds her: first with nothing filled in, to see the error summary
        sign_in(worker, checked, SEED.keyworker_email)
        expect(worker.get_by_text(f"Signed in as {SEED.keyworker_name} (Practitioner)")).to_be_visible()
        check_axe(worker, checked)
        worker.get_by_role("navigation", name="Main").get_by_role("link", name="Service users").click()
        expect(_heading(worker)).to_have_text("Service users")
        check_axe(worker, checked)
        worker.get_by_role("link", name="Add a service user").click()
        expect(_heading(worker)).to_have_text("Add a service user")
        check_axe(worker, checked)
        worker.get_by_role("button", name="Add service user").click()
        summary = worker.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        expect(summary.get_by_role("link", name="Enter her first name")).to_have_attribute("href", "#given_name")
        check_axe(worker, checked)
        worker.get_by_label("First name").fill("Jess")
        worker.get_by_label("Last name").fill("Walker")
        worker.get_by_label("Date of birth (optional)").fill("14/6/1991")
        worker.get_by_role("button", name="Add service user").click()
        expect(_heading(worker)).to_have_text("Jess Walker")
        expect(worker.locator(".govuk-notification-banner--success")).to_contain_text("Jess Walker has been added")
        check_axe(worker, checked)

        # Her consent to share with probation, with the text read to her
        worker.get_by_role("link", name="Record consent").click()
        expect(_heading(worker)).to_have_text("Which agency does she agree we can share with?")
        check_axe(worker, checked)
        worker.get_by_label("Agency").select_option(label=SEED.other_agency_name)
        worker.get_by_role("button", name="Continue").click()
        expect(_heading(worker)).to_have_text(f"Record consent to share with {SEED.other_agency_name}")
        expect(worker.locator(".govuk-inset-text")).to_contain_text(
            f"We would like to share some information about you with {SEED.other_agency_name}"
        )
        check_axe(worker, checked)
        worker.screenshot(path=SCREENSHOTS / "hub-record-consent.png", full_page=True)
        worker.get_by_label("Referrals", exact=True).check()
        worker.get_by_label("Who she is (name and date of birth)").check()
        worker.get_by_label("Offending, sentence, licence and probation").check()
        worker.get_by_label("She said so (verbal)").check()
        worker.get_by_label("Note of the evidence (optional)").fill("Read to her at the Wednesday drop-in.")
        worker.get_by_role("button", name="Record consent").click()
        expect(_heading(worker)).to_have_text("Jess Walker")
        consents = worker.get_by_role("table", name="Her consents")
        expect(consents).to_contain_text(SEED.other_agency_name)
        expect(consents).to_contain_text("Active")
        check_axe(worker, checked)
        worker.screenshot(path=SCREENSHOTS / "hub-service-user.png", full_page=True)

        # The referral: the page shows what her consent covers
        worker.get_by_role("link", name="Send a referral").click()
        expect(_heading(worker)).to_have_text("Which agency are you referring her to?")
        check_axe(worker, checked)
        worker.get_by_label("Agency").select_option(label=SEED.other_agency_name)
        worker.get_by_role("button", name="Continue").click()
        expect(_heading(worker)).to_have_text(f"Refer Jess Walker to {SEED.other_agency_name}")
        coverage = worker.get_by_role("table", name=re.compile("For referrals to"))
        expect(coverage.get_by_role("row", name=re.compile("^Offending, sentence"))).to_contain_text("Yes")
        expect(coverage.get_by_role("row", name=re.compile("^Housing"))).to_contain_text("No")
        check_axe(worker, checked)
        worker.screenshot(path=SCREENSHOTS / "hub-send-referral.png", full_page=True)
        worker.get_by_label("Who she is (name and date of birth)").check()
        worker.get_by_label("Offending, sentence, licence and probation").check()
        worker.get_by_label("What are you asking them to do, and why?").fill(
            "Released on licence on Friday: please book her induction appointment at the hub on Wednesday."
        )
        worker.get_by_label("Urgent").check()
        worker.get_by_role("button", name="Send referral").click()
        expect(_heading(worker)).to_have_text(re.compile(r"^Referral R-"))
        reference = _heading(worker).inner_text().removeprefix("Referral ").strip()
        expect(worker.locator("#referral-status")).to_contain_text("Sent")
        expect(worker.locator(".govuk-summary-list").nth(1)).to_contain_text(SEED.officer_name)
        check_axe(worker, checked)
        referral_url = worker.url

        # The officer it is addressed to finds it in the inbox and acknowledges it
        sign_in(officer, checked, SEED.officer_email)
        expect(officer.get_by_text(f"Signed in as {SEED.officer_name} (Partner staff)")).to_be_visible()
        check_axe(officer, checked)
        nav = officer.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Notifications (1 unread)")).to_be_visible()
        expect(nav.get_by_role("link", name="Service users")).to_have_count(0)
        nav.get_by_role("link", name="Inbox").click()
        expect(_heading(officer)).to_have_text("Referrals inbox")
        row = officer.get_by_role("row").filter(has=officer.get_by_role("link", name=reference))
        expect(row).to_contain_text("Addressed to you")
        expect(row).to_contain_text("Sent")
        # Her consent covers who she is for this agency: the inbox names her (and logs it).
        expect(row).to_contain_text("Jess Walker")
        check_axe(officer, checked)
        officer.screenshot(path=SCREENSHOTS / "hub-inbox.png", full_page=True)
        row.get_by_role("link", name=reference).click()
        expect(_heading(officer)).to_have_text(f"Referral {reference}")
        expect(officer.locator("#about-her")).to_be_visible()
        expect(officer.get_by_text("Jess Walker")).to_be_visible()
        expect(officer.get_by_text("please book her induction appointment")).to_be_visible()
        check_axe(officer, checked)
        officer.get_by_role("button", name="Acknowledge").click()
        expect(officer.locator(".govuk-notification-banner--success")).to_contain_text(
            f"Referral {reference} is now acknowledged."
        )
        expect(officer.locator("#referral-status")).to_contain_text("Acknowledged")
        check_axe(officer, checked)
        officer.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("^Notifications")).click()
        expect(_heading(officer)).to_have_text("Notifications")
        expect(officer.get_by_role("link", name=re.compile(f"New referral {reference}"))).to_be_visible()
        check_axe(officer, checked)

        # The key worker sees it acknowledged, and told
        worker.goto(referral_url)
        expect(worker.locator("#referral-status")).to_contain_text("Acknowledged")
        history = worker.locator("#history + ol")
        expect(history).to_contain_text("Acknowledged")
        expect(history).to_contain_text(SEED.officer_name)
        check_axe(worker, checked)
        worker.screenshot(path=SCREENSHOTS / "hub-referral.png", full_page=True)
        worker.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals").click()
        expect(worker.get_by_role("row").filter(has=worker.get_by_role("link", name=reference))).to_contain_text(
            "Acknowledged"
        )
        check_axe(worker, checked)
        worker.goto("/overdue")  # from the home page's line, not the navigation
        expect(_heading(worker)).to_have_text("Overdue referrals")
        check_axe(worker, checked)
        worker.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("^Notifications")).click()
        expect(worker.get_by_role("link", name=re.compile(f"Referral {reference}.*acknowledged"))).to_be_visible()
        check_axe(worker, checked)
    finally:
        worker.context.close()
        officer.context.close()

    assert len(checked) == 24, "\n".join(checked)
