"""In a real browser (Debian's headless Chromium), on the demo partnership: a manager hands over a
colleague's work and prints the pack, which prints no link addresses, keeps every row whole and
numbers its pages; then closes the account and finds the pack again from the Staff page. The pages
of this part (directory search, the charity's entry, Staff, Partnership health, offboarding, the
pack, the audit log, overdue referrals) fit a 375 px phone and pass axe (WCAG 2.2 AA) at 375 and
1280 px.

Skipped where Chromium is not installed, except in CI (``CI=true``), where it fails."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa

from agencies.demo import DEMO_PASSWORD
from agencies.models import Agency, AgencyKind
from hub.app import create_app
from hub.auth.models import User
from hub.db import db
from tests.conftest import make_settings
from tests.helpers import serving

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
HUB_CSS = ROOT / "hub" / "web" / "static" / "hub.css"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = [
    pytest.mark.own_database,
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason=f"{CHROMIUM} is not installed (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo partnership served over HTTP from a SQLite database of its own."""
    assert HUB_CSS.exists(), f"{HUB_CSS} is missing: run bin/setup (it compiles the styles)"
    path = tmp_path_factory.mktemp("browser") / "hub.sqlite3"
    app = create_app(make_settings(database_url=f"sqlite:///{path}", require_2fa=False, demo=True))
    with app.app_context():
        flask_migrate.upgrade()
    result = app.test_cli_runner().invoke(args=["hub", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        ids = {
            "kit": db.session.scalar(sa.select(User.id).where(User.name == "Kit Brennan")),
            "sam": db.session.scalar(sa.select(User.id).where(User.name == "Sam Okafor")),
            "dee": db.session.scalar(sa.select(User.id).where(User.name == "Dee Walsh")),
            "host": db.session.scalar(sa.select(Agency.id).where(Agency.kind == AgencyKind.HOST)),
        }
    with serving(app) as base_url:
        yield {"base": base_url, **ids}
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing in CI: apt-get install chromium"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@functools.cache
def _axe() -> str:
    assert AXE_JS.exists(), f"{AXE_JS} is missing: run bin/setup (it installs the front-end packages)"
    return AXE_JS.read_text(encoding="utf-8")


def _signed_in(browser: Any, hub: dict[str, Any], email: str, width: int = 1280) -> Any:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(hub["base"] + "/sign-in")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(hub["base"] + "/")
    return page


def _check(page: Any, width: int) -> None:
    """Nothing on the page is wider than the screen, and axe finds nothing."""
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{page.url} scrolls sideways at {width}"
    page.evaluate(_axe() + "\n;undefined")  # through DevTools: the page's CSP stays in force
    violations = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations)", AXE_TAGS
    )
    assert not violations, f"axe on {page.url} at {width}px: " + "; ".join(
        f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in violations
    )


def test_a_manager_hands_over_prints_the_pack_and_finds_it_again(browser, hub, tmp_path):
    page = _signed_in(browser, hub, "manager@northgate.example.org")
    page.goto(f"{hub['base']}/staff/{hub['kit']}/offboard")
    assert page.get_by_role("link", name="Cancel").get_attribute("href") == "/staff"
    assert page.locator("a.govuk-back-link").get_attribute("href") == "/staff"
    page.select_option("#default_user_id", str(hub["sam"]))
    page.get_by_role("button", name="Hand over and see the pack").click()
    page.wait_for_url("**/handovers/*")
    pack_url = page.url
    assert page.get_by_role("heading", name="Handover pack: Kit Brennan").is_visible()

    page.emulate_media(media="print")
    addresses = page.evaluate(
        """() => [...document.querySelectorAll('main a[href]')]
                 .map(a => getComputedStyle(a, '::after').content)
                 .filter(c => c && c !== 'none' && c !== 'normal')"""
    )
    assert addresses == [], f"links print their addresses: {addresses[:3]}"
    split = page.evaluate(
        """() => [...document.querySelectorAll('main tr.govuk-table__row')]
                 .filter(tr => getComputedStyle(tr).breakInside !== 'avoid').length"""
    )
    assert split == 0, "a table row may be split across pages"
    numbering = page.evaluate(
        """() => [...document.styleSheets].flatMap(s => [...s.cssRules])
                 .filter(r => r instanceof CSSPageRule).map(r => r.cssText).join(' ')"""
    )
    assert "counter(page)" in numbering and "counter(pages)" in numbering
    assert not page.locator("text=Step 3 of 3").is_visible()  # the closing step is not printed
    pdf = tmp_path / "pack.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.read_bytes().startswith(b"%PDF")
    page.emulate_media(media="screen")

    page.get_by_role("button", name="Close Kit Brennan's account").click()
    page.goto(hub["base"] + "/staff")
    row = page.locator("tr", has_text="Kit Brennan")
    link = row.get_by_role("link", name="Handover pack of Kit Brennan")
    assert link.get_attribute("href") == pack_url.removeprefix(hub["base"])
    link.click()
    assert page.get_by_role("heading", name="Handover pack: Kit Brennan").is_visible()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_pages_of_this_part_fit_a_phone_and_pass_axe(browser, hub, width):
    manager = _signed_in(browser, hub, "manager@northgate.example.org", width)
    for path in (
        "/directory?q=recall",
        f"/agencies/{hub['host']}",
        "/staff",
        "/health",
        f"/staff/{hub['dee']}/offboard",
        "/overdue",
    ):
        manager.goto(hub["base"] + path)
        _check(manager, width)
    manager.goto(hub["base"] + "/staff")
    pack = manager.locator("a", has_text="Handover pack").first
    if pack.count():
        pack.click()
        _check(manager, width)
    admin = _signed_in(browser, hub, "admin@northgate.example.org", width)
    admin.goto(hub["base"] + "/audit")
    _check(admin, width)
    officer = _signed_in(browser, hub, "officer@probation.example.org", width)
    for path in ("/directory?q=recall", f"/agencies/{hub['host']}"):
        officer.goto(hub["base"] + path)
        _check(officer, width)
