"""End to end: a key worker records a woman's consent for planning her release with a GP
practice, records her custody with a Friday release, sees the window and her plan, refers the GP
registration item to the practice; the practice's lead sees the release shared with them and
acknowledges the referral; the board turns from amber to green. Every page is checked with
axe-core (WCAG 2.2 AA) at a desktop width, and the release pages again at a phone's (375 px).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from releases import dates
from tests.browser.conftest import SEED
from tests.browser.test_directory_journey import check_axe, sign_in

pytestmark = pytest.mark.browser
GIVEN, FAMILY = "Nell", "Quarry"


def _new_page(browser: Any, live_server: str) -> Page:
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return context.new_page()


def _heading(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


def _friday() -> tuple[dt.date, dates.ReleaseDay]:
    """A Friday six to seven weeks away whose plan, counted back from the earliest day, has its GP
    registration (28 days before) more than two weeks off: amber only while a referral waits."""
    today = dt.date.today()
    for ahead in range(42, 56):
        day = today + dt.timedelta(days=ahead)
        if day.weekday() != 4:
            continue
        release = dates.release_day(day, custody_type=dates.CustodyType.SENTENCED,
                                    release_type=dates.ReleaseType.AUTOMATIC,
                                    sentence_kind=dates.SentenceKind.DETERMINATE,
                                    sentenced_on=today - dt.timedelta(days=30), term_days=240)  # fmt: skip
        if release.plan_on - dt.timedelta(days=28) > today + dt.timedelta(days=14) and release.rule.value == (
            "friday_scheme"
        ):
            return day, release
    raise AssertionError("no Friday in range")  # every 14 days hold two Fridays, one without bank holidays


def _at_phone_width(page: Page, checked: list[str]) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    check_axe(page, checked)
    wide = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
    assert not wide, f"{page.url} is wider than a 375 px screen"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_friday_release_planned_referred_acknowledged_and_green(browser: Any, live_server: str) -> None:
    checked: list[str] = []
    friday, release = _friday()
    worker = _new_page(browser, live_server)
    lead = _new_page(browser, live_server)
    try:
        # Her consent: planning her release with the GP practice, including her sentence and release
        sign_in(worker, checked, SEED.planner_email)
        worker.get_by_role("navigation", name="Main").get_by_role("link", name="Service users").click()
        worker.get_by_role("link", name="Add a service user").click()
        worker.get_by_label("First name").fill(GIVEN)
        worker.get_by_label("Last name").fill(FAMILY)
        worker.get_by_role("button", name="Add service user").click()
        expect(_heading(worker)).to_have_text(f"{GIVEN} {FAMILY}")
        worker.get_by_role("link", name="Record consent").click()
        worker.get_by_label("Agency").select_option(label=SEED.practice_name)
        worker.get_by_role("button", name="Continue").click()
        worker.get_by_label("Referrals", exact=True).check()
        worker.get_by_label("Planning her release").check()
        worker.get_by_label("Who she is (name and date of birth)").check()
        worker.get_by_label("Offending, sentence, licence and probation").check()
        worker.get_by_label("Physical health").check()
        worker.get_by_label("She said so (verbal)").check()
        worker.get_by_role("button", name="Record consent").click()
        expect(_heading(worker)).to_have_text(f"{GIVEN} {FAMILY}")

        # Her custody, with a Friday release: the window opens two working days before
        worker.get_by_role("link", name="Record custody").click()
        expect(_heading(worker)).to_have_text("Record custody")
        check_axe(worker, checked)
        worker.get_by_label("Prison", exact=True).select_option(label=SEED.prison_name)
        worker.get_by_label("The release date the prison or probation gave").fill(f"{friday:%-d/%-m/%Y}")
        worker.get_by_label("Sentenced", exact=True).check()
        worker.get_by_label("Kind of sentence").select_option(label="Determinate sentence")
        sentenced = dt.date.today() - dt.timedelta(days=30)
        worker.get_by_label("Date of sentence (if known)").fill(f"{sentenced:%-d/%-m/%Y}")
        worker.get_by_label("Length of the term, in days (if known)").fill("240")
        worker.get_by_label("How she will be released").select_option(label="Automatic release")
        worker.get_by_label("Who told us the date").fill("Offender management unit, by phone")
        for ticked in worker.locator("input[name=needs]").all():
            ticked.uncheck()
        worker.get_by_label("Register with a GP before release").check()
        worker.get_by_role("button", name="Record custody").click()
        expect(_heading(worker)).to_have_text(re.compile(r"^Custody C"))
        window = release.window_text
        expect(worker.locator(".govuk-notification-banner--success")).to_contain_text(window)
        expect(worker.locator(".govuk-body-l")).to_contain_text(f"Release {window}")
        assert window.startswith("between ") and f"{friday:%A} {friday.day}" in window
        plan = worker.get_by_role("table", name="Health")
        expect(plan).to_contain_text("Register with a GP before release")
        expect(plan).to_contain_text(f"{release.plan_on - dt.timedelta(days=28):%-d %B %Y}")
        check_axe(worker, checked)
        custody_url = worker.url

        # The GP item, referred to the practice through the consent gate
        worker.get_by_role("link", name=re.compile(r"^Refer to a partner\W+Register with a GP")).click()
        worker.get_by_label("Which agency?").select_option(label=SEED.practice_name)
        worker.get_by_role("button", name="Continue").click()
        expect(_heading(worker)).to_contain_text("Refer")
        coverage = worker.get_by_role("table", name=re.compile("What her consent covers"))
        expect(coverage.get_by_role("row", name=re.compile("^Physical health"))).to_contain_text("Yes")
        check_axe(worker, checked)
        worker.get_by_label("Physical health").check()
        worker.get_by_role("button", name="Send the referral").click()
        expect(worker.locator(".govuk-notification-banner--success")).to_contain_text(
            f"has been sent to {SEED.practice_name}"
        )
        knows = worker.get_by_role("table", name="Who knows about this release")
        expect(knows).to_contain_text(SEED.practice_name)
        expect(knows).to_contain_text(SEED.practice_lead_name)
        reference = knows.get_by_role("link", name=re.compile(r"^R-")).inner_text().strip()
        check_axe(worker, checked)
        _at_phone_width(worker, checked)

        # The board: amber while the practice has not acknowledged
        worker.get_by_role("navigation", name="Main").get_by_role("link", name="Releases").click()
        expect(_heading(worker)).to_have_text("Releases in the next 8 weeks")
        row = worker.get_by_role("row").filter(has=worker.get_by_role("link", name=f"{GIVEN} {FAMILY}"))
        expect(row).to_contain_text("Amber")
        expect(row).to_contain_text("1 waiting for acknowledgement")
        check_axe(worker, checked)
        _at_phone_width(worker, checked)

        # The practice's lead: the release shared with them, then the referral acknowledged
        sign_in(lead, checked, SEED.practice_lead_email)
        lead.get_by_role("navigation", name="Main").get_by_role("link", name="Releases").click()
        expect(_heading(lead)).to_have_text("Releases shared with your agency")
        expect(lead.locator("main")).to_contain_text(f"{GIVEN} {FAMILY}")
        check_axe(lead, checked)
        _at_phone_width(lead, checked)
        lead.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
        lead.get_by_role("link", name=reference).click()
        expect(_heading(lead)).to_have_text(f"Referral {reference}")
        lead.get_by_role("button", name="Acknowledge").click()
        expect(lead.locator("#referral-status")).to_contain_text("Acknowledged")
        check_axe(lead, checked)
        # Her custody page is ours: the partner cannot open it
        assert lead.goto(custody_url).status == 403  # type: ignore[union-attr]

        # The board turns green
        worker.reload()
        row = worker.get_by_role("row").filter(has=worker.get_by_role("link", name=f"{GIVEN} {FAMILY}"))
        expect(row).to_contain_text("Green")
        expect(row).to_contain_text("Nothing pressing")
        check_axe(worker, checked)
        worker.goto(custody_url)
        worker.get_by_role("link", name="Print her release day card").click()
        expect(_heading(worker)).to_contain_text(GIVEN)
        expect(worker.locator("main")).not_to_contain_text(FAMILY)
        check_axe(worker, checked)
        _at_phone_width(worker, checked)
    finally:
        worker.context.close()
        lead.context.close()
