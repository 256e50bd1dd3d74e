"""Every page of every role, at a desktop width (1280 px) and a phone's (375 px): axe-core (WCAG 2.2
A and AA) finds nothing, and no page is wider than the screen.

A live hub on the fictional demo data (the data ``bin/demo`` loads, so every kind of page has
something on it). For each role the crawl follows the links it is shown, from the home page,
breadth first, visiting one address of each kind of page (``/referrals/12`` and ``/referrals/31``
are one kind) so that it covers every page in minutes; it never submits a form, so it changes
nothing but the disclosure log its views write. Failures are gathered and reported together.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import flask_migrate
import pytest
from playwright.sync_api import Browser, Page

from hub.app import create_app
from hub.cli import load_demo_data
from hub.db import db, unit_of_work
from tests.browser.test_directory_journey import AXE_TAGS, axe_source
from tests.conftest import _recreate_database, make_settings, own_database_url
from tests.helpers import serving

pytestmark = pytest.mark.browser

ROLES = {
    "administrator": "admin@northgate.example.org",
    "manager": "manager@northgate.example.org",
    "practitioner": "practitioner@northgate.example.org",
    "partner lead": "lead@probation.example.org",
    "partner staff": "officer@probation.example.org",
}
WIDTHS = (1280, 375)
MAX_KINDS = int(os.environ.get("HUB_CRAWL_MAX_PAGES", "80"))  # kinds of page per role, a bound on the run
SKIP = re.compile(r"^/(static|oauth|api/openapi\.json|sign-out)|/export|\.(csv|json|ics)$")


@pytest.fixture(scope="module")
def demo_server() -> Iterator[str]:
    """A real server on a fresh database holding the demo data."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = own_database_url("crawl" + (f"_{worker}" if worker else ""))
    _recreate_database(url)
    hub = create_app(make_settings(database_url=url, require_2fa=False, demo=True))
    with hub.app_context():
        flask_migrate.upgrade()
        with unit_of_work():
            load_demo_data()
    with serving(hub) as base_url:
        yield base_url
        with hub.app_context():
            db.engine.dispose()


def kind_of(path: str) -> str:
    """The kind of page an address is: numbers in the path and the values of the query left out."""
    parts = urlsplit(path)
    query = "&".join(sorted(p.split("=", 1)[0] for p in parts.query.split("&") if p))
    return re.sub(r"/\d+", "/N", parts.path) + (f"?{query}" if query else "")


def _sign_in(page: Page, email: str) -> None:
    from agencies.demo import DEMO_PASSWORD

    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    assert "/sign-in" not in page.url, f"{email} could not sign in: {page.url}"


def _problems(page: Page, width: int) -> list[str]:
    """What is wrong with the page as it is now: axe violations, and a page wider than the screen."""
    found = []
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;undefined")
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations)", AXE_TAGS
    )
    for v in result:
        targets = ", ".join(str(n["target"]) for n in v["nodes"][:3])
        found.append(f"axe {v['id']} ({v['impact']}) at {width} px: {v['help']} [{targets}]")
    wide = page.evaluate(
        """() => ({page: document.documentElement.scrollWidth, screen: window.innerWidth,
                  culprit: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >
                  window.innerWidth + 1).slice(-1).map(e => e.tagName.toLowerCase() + '.' + e.className)[0] || ''})"""
    )
    if wide["page"] > wide["screen"]:
        found.append(f"{wide['page']} px wide on a {wide['screen']} px screen ({wide['culprit']})")
    if width >= 1280:  # the navigation is one row at desktop widths
        rows = page.evaluate(
            """() => new Set([...document.querySelectorAll('.govuk-service-navigation__item')]
                              .map(e => Math.round(e.getBoundingClientRect().top))).size"""
        )
        if rows > 1:
            found.append(f"the navigation wraps onto {rows} rows at {width} px")
    return found


def _links(page: Page) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    return [h for h in hrefs if h.startswith("/") and not h.startswith("//")]


def crawl(browser: Browser, base_url: str, email: str) -> tuple[list[str], dict[str, list[str]]]:
    """Visit each kind of page this person is shown; return the pages visited and the problems found."""
    context = browser.new_context(base_url=base_url, viewport={"width": WIDTHS[0], "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    visited: list[str] = []
    try:
        _sign_in(page, email)
        queue, seen = deque(["/"]), {kind_of("/")}
        while queue and len(visited) < MAX_KINDS:
            path = queue.popleft()
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                response = page.goto(path)
                status = response.status if response else 0
                if status >= 400:
                    problems.setdefault(path, []).append(f"HTTP {status}")
                    break
                found = _problems(page, width)
                if found:
                    problems.setdefault(path, []).extend(found)
                if width == WIDTHS[0]:
                    for link in _links(page):
                        kind = kind_of(link)
                        if kind not in seen and not SKIP.search(link):
                            seen.add(kind)
                            queue.append(link)
            visited.append(path)
    finally:
        context.close()
    return visited, problems


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_is_accessible_and_fits_a_phone(browser: Browser, demo_server: str, role: str) -> None:
    visited, problems = crawl(browser, demo_server, ROLES[role])
    assert len(visited) >= 5, f"the crawl as {role} reached only {visited}"
    report = "\n".join(f"{path}:\n  " + "\n  ".join(found) for path, found in problems.items())
    assert not problems, f"as {role}, {len(problems)} of {len(visited)} pages have problems:\n{report}"
