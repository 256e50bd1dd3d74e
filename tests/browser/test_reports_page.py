"""End to end: a manager opens Reports from the Manage page; the page for the last twelve months shows
the figures for outside the charity (small numbers withheld) with the release funnel and month-by-month
charts, each an SVG image with its title beside a table of the same figures; she switches to the exact
figures, then opens the partnership figures, and downloads them as CSV and as XLSX, each read back (csv,
openpyxl). Every page is checked with axe-core (WCAG 2.2 AA) at 1280 px and at 375 px, and none scrolls
sideways."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SEED
from tests.browser.test_directory_journey import sign_in
from tests.browser.test_forum_journey import _both_widths
from tests.browser.test_release_journey import _heading, _new_page

pytestmark = pytest.mark.browser


def test_a_manager_reads_the_reports_and_downloads_them(browser: Any, live_server: str, tmp_path: Path) -> None:
    checked: list[str] = []
    page = _new_page(browser, live_server)
    try:
        sign_in(page, checked, SEED.reports_email)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Manage", exact=True).click()
        page.locator("main").get_by_role("link", name="Reports", exact=True).click()
        expect(page).to_have_url(re.compile(r"/reports/$"))
        expect(_heading(page)).to_have_text("Reports")
        expect(page.locator("#disclosure-note")).to_contain_text("Safe to share outside the charity")
        expect(page.get_by_role("table", name="Headline figures")).to_contain_text("Women supported")
        funnel = page.get_by_role("img", name=re.compile("^The release funnel"))
        expect(funnel).to_be_visible()
        expect(page.get_by_role("table", name=re.compile("^The release funnel.*table"))).to_contain_text("In custody")
        expect(page.get_by_role("img", name="Referrals sent each month")).to_be_visible()
        _both_widths(page, checked)

        # The exact figures, for managers only
        page.get_by_label("Exact figures").check()
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(r"audience=internal"))
        expect(page.locator("#disclosure-note")).to_contain_text("Exact figures: managers only")
        _both_widths(page, checked)

        # How each agency performed, downloaded both ways
        page.get_by_label("For outside the charity").check()
        page.get_by_role("button", name="Show").click()
        page.get_by_role("link", name="How each partner agency performed").click()
        expect(_heading(page)).to_have_text("Partnership figures")
        expect(page.get_by_role("table", name="Referrals: by agency")).to_be_visible()
        if not page.get_by_text("No agency had anything here in this period.").count():  # run alone: no referrals
            expect(page.get_by_role("img", name=re.compile("^Share of referrals acknowledged on time"))).to_be_visible()
        _both_widths(page, checked)
        with page.expect_download() as got:
            page.get_by_role("link", name=re.compile("^CSV")).click()
        rows = list(csv.reader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8-sig"))))
        assert rows[0] == ["About this file"] and ["Made by", SEED.reports_name] in rows
        assert any(r and r[0] == "Agency" for r in rows)
        with page.expect_download() as got:
            page.get_by_role("link", name=re.compile("^Excel")).click()
        assert got.value.suggested_filename.endswith(".xlsx")
        book = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))
        assert book.sheetnames == ["About this file", "Partnership", "Definitions"]
        assert len(checked) >= 8, checked
    finally:
        page.context.close()
