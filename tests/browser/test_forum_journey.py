"""End to end: a manager sets up a multi-agency forum (housing and the prison, the second Tuesday at 10:00)
and schedules a meeting for late today; a practitioner nominates a woman by her hub reference (she agreed
to be discussed, named, with housing only); the agenda shows her case by its label, never her name; the
chair completes the register, reads the confidentiality statement and records the meeting as held,
records an action on her case for housing, writes the minutes and agrees them, and they lock. The
minutes print as PDF pages, each with its page number and the confidentiality footer and never her name,
read back with pypdf. (The prison, not probation: probation's key contact has an account, and the
referral journey counts her unread notifications; the minutes tell every agency on the register.) The
forum pages are checked with axe-core (WCAG 2.2 AA) at a desktop width and a phone's (375 px), and none
scrolls sideways.

The live server runs on today's date (not a frozen one), and the hub refuses a moment that has passed,
so the meeting is at 23:00 London time today (23:59 late in the evening; in the last minutes of the day
the test waits for midnight). A meeting is held, and its register says present, only on its day.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pypdf
import pytest
from playwright.sync_api import Locator, Page, expect

from forum.recurrence import next_meeting_day
from tests.browser.conftest import SEED
from tests.browser.test_directory_journey import check_axe, sign_in
from tests.browser.test_release_journey import _heading, _new_page

pytestmark = pytest.mark.browser
LONDON = ZoneInfo("Europe/London")
FORUM = "Testford Women's Safeguarding Forum"
VENUE = "The Test Women's Centre, 7 Example Row, Testford"
HOUSING, PRISON = SEED.agency_name, SEED.prison_name
HER = f"{SEED.forum_woman_given} {SEED.forum_woman_family}"
ACTION = "Offer her a housing assessment within the week"
RECORD = "Both member agencies were present. The chair read the confidentiality statement. One case was heard."
CASE_NOTES = "Housing agreed to assess her this week; the prison left the room for this item."


def _meeting_moment() -> dt.datetime:
    """A London moment later today that the hub will accept (it refuses one that has passed)."""
    now = dt.datetime.now(LONDON)
    if now.time() >= dt.time(23, 57):  # too close to midnight: wait for tomorrow, then 23:00 is hours away
        time.sleep((dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0, 0, 5), LONDON) - now)
                   .total_seconds())  # fmt: skip
        now = dt.datetime.now(LONDON)
    at = dt.time(23, 0) if now.time() < dt.time(22, 58) else dt.time(23, 59)
    return dt.datetime.combine(now.date(), at, LONDON)


def _open_the_forum(page: Page) -> None:
    """Through the navigation: its own section of the top row, or (for now) a section of *Manage*."""
    nav = page.get_by_role("navigation", name="Main")
    if nav.get_by_role("link", name="Forum", exact=True).count():
        nav.get_by_role("link", name="Forum", exact=True).click()
    else:
        nav.get_by_role("link", name="Manage", exact=True).click()
        page.locator("main").get_by_role("link", name="Forum", exact=True).click()
    expect(page).to_have_url(re.compile(r"/forum$"))


def _both_widths(page: Page, checked: list[str]) -> None:
    """axe at 1280 px and at 375 px, and the page no wider than either screen."""
    for width, height in ((1280, 900), (375, 800)):
        page.set_viewport_size({"width": width, "height": height})
        check_axe(page, checked)
        wide = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
        assert not wide, f"{page.url} scrolls sideways at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def _banner(page: Page) -> Locator:
    return page.locator(".govuk-notification-banner--success")


def _register_card(page: Page, agency: str) -> Locator:
    return page.locator(".govuk-summary-card").filter(has=page.get_by_role("heading", name=agency, exact=True))


def _name_is_not_on(page: Page) -> None:
    main = page.locator("main")
    expect(main).not_to_contain_text(SEED.forum_woman_given)
    expect(main).not_to_contain_text(SEED.forum_woman_family)


def test_a_forum_hears_a_case_by_its_label_and_agrees_its_minutes(
    browser: Any, live_server: str, tmp_path: Path
) -> None:
    checked: list[str] = []
    starts = _meeting_moment()
    day, at = f"{starts:%-d %B %Y}", f"{starts:%H:%M}"
    chair = _new_page(browser, live_server)
    worker = _new_page(browser, live_server)
    try:
        # 1. The manager sets up the forum, then schedules a meeting for tonight
        sign_in(chair, checked, SEED.chair_email)
        expect(chair.get_by_text(f"Signed in as {SEED.chair_name} (Manager)")).to_be_visible()
        _open_the_forum(chair)
        expect(_heading(chair)).to_have_text("Forum")
        expect(chair.get_by_role("table", name="Forums")).to_contain_text("There is no forum yet.")
        _both_widths(chair, checked)
        chair.get_by_role("link", name="Set up a forum").click()
        expect(chair).to_have_url(re.compile(r"/forum/new$"))
        expect(_heading(chair)).to_have_text("Set up a forum")
        check_axe(chair, checked)
        chair.get_by_label("Name", exact=True).fill(FORUM)
        chair.get_by_label("Usual venue").fill(VENUE)
        chair.get_by_label("Chair", exact=True).select_option(label=SEED.chair_name)
        chair.get_by_label("Which week of the month").select_option(label="Second")
        chair.get_by_label("Day", exact=True).select_option(label="Tuesday")
        chair.get_by_label("Time", exact=True).fill("10:00")
        chair.get_by_label("Standing items").fill(
            "Welcome, apologies and the confidentiality statement\nAny other business"
        )
        members = chair.get_by_role("group", name=re.compile("^Member agencies"))
        members.get_by_label(HOUSING).check()
        members.get_by_label(PRISON).check()
        chair.get_by_role("button", name="Save").click()
        expect(_heading(chair)).to_have_text(FORUM)
        expect(_banner(chair)).to_contain_text("The forum is set up. Schedule its first meeting.")
        forum_url = chair.url
        expect(chair.locator("main")).to_contain_text("The second Tuesday of each month, 10:00")
        expect(chair.locator("main")).to_contain_text(SEED.chair_name)
        table = chair.get_by_role("table", name="Member agencies")
        expect(table).to_contain_text(HOUSING)
        expect(table).to_contain_text(PRISON)
        expect(chair.get_by_role("table", name="Meetings")).to_contain_text("No meetings yet.")
        chair.get_by_label("Date", exact=True).fill(f"{starts:%-d/%-m/%Y}")
        chair.get_by_label("Time", exact=True).fill(at)
        chair.get_by_role("button", name="Schedule it").click()
        expect(_banner(chair)).to_contain_text("The meeting is scheduled; every member agency is invited.")
        meetings = chair.get_by_role("table", name="Meetings")
        expect(meetings.get_by_role("link", name=f"{day}, {at}")).to_be_visible()
        expect(meetings).to_contain_text("Planned")
        _both_widths(chair, checked)
        meetings.get_by_role("link", name=f"{day}, {at}").click()
        expect(_heading(chair)).to_have_text(f"{FORUM}: {day}")
        meeting_path = urlsplit(chair.url).path
        meeting_id = int(meeting_path.rsplit("/", 1)[1])
        for agency in (HOUSING, PRISON):
            expect(_register_card(chair, agency)).to_contain_text("Invited")
        expect(chair.get_by_role("table", name="Cases")).to_contain_text("No cases nominated.")
        check_axe(chair, checked)

        # 2. A practitioner finds her hub reference and nominates her for the meeting
        sign_in(worker, checked, SEED.nominator_email)
        worker.get_by_role("navigation", name="Main").get_by_role("link", name="Service users").click()
        worker.get_by_label("Search by name or reference").fill(SEED.forum_woman_family)
        worker.get_by_role("button", name="Search").click()
        worker.get_by_role("table", name="Service users").get_by_role("link", name=HER).click()
        expect(_heading(worker)).to_contain_text(HER)
        her_url = worker.url
        reference_row = worker.locator(".govuk-summary-list__row").filter(has_text="Hub reference")
        reference = reference_row.locator(".govuk-summary-list__value").inner_text().strip()
        assert re.fullmatch(r"SU-[A-Z0-9-]+", reference), reference
        _open_the_forum(worker)
        upcoming = worker.get_by_role("table", name="Coming meetings")
        expect(upcoming).to_contain_text(FORUM)
        upcoming.get_by_role("link", name=f"{day}, {at}").click()
        expect(_heading(worker)).to_have_text(f"{FORUM}: {day}")
        worker.get_by_role("link", name="Nominate a case").click()
        expect(worker).to_have_url(re.compile(rf"/forum/meetings/{meeting_id}/nominate$"))
        expect(_heading(worker)).to_have_text("Nominate a case")
        check_axe(worker, checked)
        # First without a reason, to see the error summary
        worker.get_by_label("Her hub reference").fill(reference)
        worker.get_by_role("button", name="Nominate her").click()
        summary = worker.locator(".govuk-error-summary")
        expect(summary).to_be_focused()
        expect(summary.get_by_role("link", name="Say why the forum should discuss her")).to_have_attribute(
            "href", "#reason"
        )
        expect(worker).to_have_title(re.compile(r"^Error: "))
        check_axe(worker, checked)
        worker.get_by_label("Her hub reference").fill(reference.lower())  # typed as people type it
        worker.get_by_label("Why should the forum discuss her?").fill(
            "Her housing offer fell through; housing to agree an assessment."
        )
        worker.get_by_role("button", name="Nominate her").click()
        expect(_heading(worker)).to_have_text(re.compile(r"^Case FC-[A-Z0-9-]+$"))
        label = _heading(worker).inner_text().removeprefix("Case ").strip()
        expect(_banner(worker)).to_contain_text(f"Case {label} is on the agenda.")
        case_url = worker.url
        about = worker.locator(".govuk-summary-list")
        expect(about).to_contain_text(f"{HER} ({reference})")  # our staff see who it is about
        expect(about.locator(".govuk-summary-list__row").filter(has_text="May hear it")).to_contain_text(HOUSING)
        leaves = about.locator(".govuk-summary-list__row").filter(has_text="Leave the room for it")
        expect(leaves).to_contain_text(PRISON)
        _both_widths(worker, checked)

        # 3. The agenda: her case by its label, who may hear it and who leaves the room; never her name
        chair.reload()
        cases = chair.get_by_role("table", name="Cases")
        expect(cases.get_by_role("link", name=label)).to_be_visible()
        expect(cases).to_contain_text(PRISON)
        _name_is_not_on(chair)
        _both_widths(chair, checked)
        chair.get_by_role("link", name="The agenda").click()
        expect(chair).to_have_url(re.compile(rf"/forum/meetings/{meeting_id}/agenda$"))
        expect(_heading(chair)).to_have_text(f"Agenda: {FORUM}")
        agenda = chair.locator("main")
        expect(agenda.get_by_role("link", name=f"Case {label}")).to_be_visible()
        expect(agenda).to_contain_text(f"May hear it: {HOUSING}. Leave the room for it: {PRISON}")
        expect(agenda).to_contain_text("Welcome, apologies and the confidentiality statement")
        _name_is_not_on(chair)
        _both_widths(chair, checked)
        chair.goto("/forum")
        _name_is_not_on(chair)

        # 4. On the day: the register, the confidentiality statement, and the meeting held
        chair.goto(meeting_path)
        for agency in (HOUSING, PRISON):
            card = _register_card(chair, agency)
            card.get_by_label("Attendance", exact=True).select_option(label="Present")
            card.get_by_role("button", name=f"Save {agency}").click()
            expect(_banner(chair)).to_contain_text("The register is saved; every case's audience follows it.")
            expect(_register_card(chair, agency).locator(".govuk-summary-list")).to_contain_text("Present")
        check_axe(chair, checked)
        expect(chair.get_by_role("heading", name="Hold the meeting")).to_be_visible()
        chair.get_by_label("I have read the confidentiality statement to everyone present").check()
        chair.get_by_role("button", name="Record the meeting as held").click()
        expect(_banner(chair)).to_contain_text(
            "The meeting is recorded as held, and the next one is planned. Now write the minutes."
        )
        expect(chair.locator("main .govuk-summary-list").first).to_contain_text("Held")
        expect(chair.locator("main")).to_contain_text("Confidentiality statement read")
        expect(chair.get_by_role("button", name="Record the meeting as held")).to_have_count(0)
        _name_is_not_on(chair)
        _both_widths(chair, checked)
        # The next meeting is planned, on the forum's pattern
        chair.goto(forum_url)
        expect(chair.get_by_role("table", name="Meetings").locator("tbody tr")).to_have_count(2)
        _both_widths(chair, checked)

        # 5. An action on her case, for housing (the agency that heard it)
        chair.goto(meeting_path)
        chair.get_by_role("link", name="Record an action").click()
        expect(chair).to_have_url(re.compile(rf"/forum/meetings/{meeting_id}/actions/new$"))
        expect(_heading(chair)).to_have_text("Record an action")
        _both_widths(chair, checked)
        due = dt.datetime.now(LONDON).date() + dt.timedelta(days=14)
        chair.get_by_label("What is to be done?").fill(ACTION)
        chair.get_by_label("Which agency will do it?").select_option(label=HOUSING)
        chair.get_by_label("Due by").fill(f"{due:%-d/%-m/%Y}")
        chair.get_by_label("About a case").select_option(label=f"Case {label}")
        chair.get_by_role("button", name="Record the action").click()
        expect(_banner(chair)).to_contain_text("The action is recorded. It stays on every agenda until it is closed.")
        agreed = chair.get_by_role("table", name="Actions agreed at this meeting")
        expect(agreed).to_contain_text(ACTION)
        expect(agreed).to_contain_text(HOUSING)
        expect(agreed).to_contain_text(f"{due:%-d %B %Y}")
        check_axe(chair, checked)
        worker.goto(case_url)
        expect(worker.locator("main")).to_contain_text(f"{ACTION} ({HOUSING})")

        # 6. The minutes: written, then agreed and locked
        chair.get_by_role("link", name="The minutes").click()
        expect(chair).to_have_url(re.compile(rf"/forum/meetings/{meeting_id}/minutes$"))
        expect(_heading(chair)).to_have_text(f"Minutes: {FORUM}")
        expect(chair.locator("main")).to_contain_text("Draft: not yet agreed.")
        chair.get_by_role("link", name="Write the minutes").click()
        expect(chair).to_have_url(re.compile(rf"/forum/meetings/{meeting_id}/minutes/edit$"))
        expect(_heading(chair)).to_have_text("Write the minutes")
        _both_widths(chair, checked)
        chair.get_by_label("Record of the meeting").fill(RECORD)
        chair.get_by_label(f"Case {label}").fill(CASE_NOTES)
        chair.get_by_role("button", name="Save the minutes").click()
        expect(_banner(chair)).to_contain_text("The minutes are saved (a new revision).")
        expect(chair.locator("main")).to_contain_text(RECORD)
        expect(chair.locator("main")).to_contain_text(CASE_NOTES)
        chair.get_by_role("button", name="Agree and lock the minutes").click()
        expect(_banner(chair)).to_contain_text(
            "The minutes are agreed and locked, and every agency on the register can read them."
        )
        expect(chair.locator("main")).to_contain_text(re.compile(r"Agreed on \d{1,2} \w+ \d{4}, \d\d:\d\d: locked\."))
        expect(chair.locator("main")).not_to_contain_text("Draft: not yet agreed.")
        expect(chair.get_by_role("link", name="Write the minutes")).to_have_count(0)
        expect(chair.get_by_role("button", name="Agree and lock the minutes")).to_have_count(0)
        for line in (f"{HOUSING}: Present", f"{PRISON}: Present", ACTION, CASE_NOTES):
            expect(chair.locator("main")).to_contain_text(line)
        _both_widths(chair, checked)
        # Locked: the minutes can no longer be changed
        chair.goto(f"/forum/meetings/{meeting_id}/minutes/edit")
        chair.get_by_label("Record of the meeting").fill("A change after agreement")
        chair.get_by_role("button", name="Save the minutes").click()
        expect(chair).to_have_url(re.compile(rf"/forum/meetings/{meeting_id}/minutes$"))
        expect(_banner(chair)).to_contain_text("The minutes are agreed and locked: the minutes can no longer change.")
        expect(chair.locator("main")).to_contain_text(RECORD)
        expect(chair.locator("main")).not_to_contain_text("A change after agreement")
        chair.goto(meeting_path)
        expect(chair.locator("main .govuk-summary-list").first).to_contain_text("Minutes agreed")
        _both_widths(chair, checked)

        # She is to be heard again at the next meeting (planned on the forum's pattern), nominated from her own
        # page: a repeat, and the open action carried onto its agenda
        following = next_meeting_day(starts.date(), weekday=1, nth=2)
        worker.goto(her_url)
        worker.get_by_text("Nominate her for a forum meeting").click()
        worker.get_by_label("Meeting", exact=True).select_option(label=f"{FORUM}, {following:%-d %B %Y}, 10:00")
        worker.get_by_label("Why should the forum discuss her?").fill("The assessment is done; an offer to agree.")
        worker.get_by_role("button", name="Nominate her").click()
        expect(_banner(worker)).to_contain_text("She is on the agenda, by her case label.")
        expect(worker.locator("#forum + ul")).to_contain_text(f"Case {label}, {day}, {at}")
        check_axe(worker, checked)
        _open_the_forum(worker)
        worker.get_by_role("table", name="Coming meetings").get_by_role(
            "link", name=f"{following:%-d %B %Y}, 10:00"
        ).click()
        expect(_heading(worker)).to_have_text(f"{FORUM}: {following:%-d %B %Y}")
        repeat = worker.get_by_role("table", name="Cases").locator("tbody tr")
        expect(repeat).to_have_count(1)
        expect(repeat.get_by_role("link", name=re.compile(r"^FC-"))).to_be_visible()
        expect(repeat).to_contain_text("Repeat")
        carried = worker.get_by_role("table", name="Actions from earlier meetings")
        expect(carried).to_contain_text(HOUSING)
        _name_is_not_on(worker)
        _both_widths(worker, checked)
        worker.get_by_role("link", name="The agenda").click()
        expect(worker.locator("main")).to_contain_text("(repeat: heard in the last 12 months)")
        expect(worker.locator("main")).to_contain_text(f"Agreed on {day}; due {due:%-d %B %Y}.")
        _name_is_not_on(worker)
        check_axe(worker, checked)

        # 7. The forum's index and page, at both widths once the meeting is over
        chair.goto("/forum")
        expect(chair.get_by_role("table", name="Forums").get_by_role("link", name=FORUM)).to_be_visible()
        _name_is_not_on(chair)
        _both_widths(chair, checked)
        chair.goto(forum_url)
        _both_widths(chair, checked)

        # 8. The minutes printed as PDF pages, each under the confidential named page
        chair.goto(f"/forum/meetings/{meeting_id}/minutes")
        chair.emulate_media(media="print")
        named = chair.evaluate("() => getComputedStyle(document.querySelector('.hub-confidential')).page")
        assert named == "confidential", f"the minutes do not print on the confidential page ({named!r})"
        rules = chair.evaluate(
            """() => [...document.styleSheets].flatMap(s => [...s.cssRules])
                     .filter(r => r instanceof CSSPageRule).map(r => r.cssText)"""
        )
        confidential = " ".join(r for r in rules if r.startswith("@page confidential"))
        assert confidential, f"no @page confidential rule (rebuild hub.css: bin/setup): {rules}"
        assert "Confidential: not to be copied" in confidential, confidential
        assert "counter(page)" in confidential and "counter(pages)" in confidential, confidential
        assert not chair.get_by_role("button", name="Agree and lock the minutes").is_visible()
        assert not chair.locator(".hub-print-footer").is_visible()  # the page's own footer says it on paper
        assert not chair.get_by_role("navigation", name="Main").is_visible()
        pdf = tmp_path / "minutes.pdf"
        chair.pdf(path=str(pdf), format="A4")
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF"), data[:16]
        assert b"%%EOF" in data[-1024:], "the PDF is cut short"
        assert len(data) > 2_000, f"a {len(data)}-byte PDF has no page worth reading"
        # NFKC: the PDF's text comes back with ligatures ("ﬁ")
        pages = [unicodedata.normalize("NFKC", page.extract_text() or "") for page in pypdf.PdfReader(str(pdf)).pages]
        assert pages, "the PDF has no page"
        for number, text in enumerate(pages, start=1):
            flat = " ".join(text.split())
            assert f"Page {number} of {len(pages)}" in flat, f"page {number} has no page number: {flat[-300:]}"
            assert "Confidential: not to be copied" in flat, f"page {number} has no confidentiality footer"
            assert SEED.forum_woman_family not in flat and SEED.forum_woman_given not in flat, "a print names her"
        printed = " ".join(" ".join(pages).split())
        assert f"Minutes: {FORUM}" in printed and label in printed and CASE_NOTES in printed, printed[:500]
        chair.emulate_media(media="screen")
    finally:
        chair.context.close()
        worker.context.close()

    paths = [urlsplit(url).path for url in checked]
    for wanted in ("/forum", urlsplit(forum_url).path, meeting_path, f"{meeting_path}/agenda",
                   urlsplit(case_url).path, f"{meeting_path}/actions/new", f"{meeting_path}/minutes"):  # fmt: skip
        assert paths.count(wanted) >= 2, f"{wanted} was not checked at both widths: {paths}"
