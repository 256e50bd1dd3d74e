"""/api/docs in a real browser: Swagger UI, served by the hub itself, renders the whole reference
under the hub's content security policy (no violation reported), offline (nothing is fetched from
any other address), with each operation's parameters, examples and errors."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(os.environ.get("HUB_SCREENSHOT_DIR") or tempfile.gettempdir())


def test_the_api_reference_renders_under_the_csp_from_the_hub_alone(page: Page, live_server: str) -> None:
    problems: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "request",
        lambda request: (
            elsewhere.append(request.url)
            if urlsplit(request.url).netloc not in {urlsplit(live_server).netloc, ""}
            else None
        ),
    )
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.goto("/api/docs")
    operations = page.locator(".swagger-ui .opblock")
    expect(operations.first).to_be_visible(timeout=15_000)
    assert operations.count() >= 33
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Partnership Hub API")
    # One operation opened: its parameters, its example answer and its documented errors.
    acknowledge = page.locator("#operations-Referrals-acknowledgeReferral")
    acknowledge.locator(".opblock-summary").click()
    expect(acknowledge.locator(".parameters")).to_contain_text("referral_id")
    responses = acknowledge.locator(".responses-table").first
    for status in ("200", "401", "403", "404", "409", "422", "429"):
        expect(responses).to_contain_text(status)
    expect(acknowledge).to_contain_text("acknowledged")  # the example answer
    page.screenshot(path=str(SCREENSHOTS / "hub-api-docs.png"), full_page=False)
    violations: Any = page.evaluate("window.__csp")
    assert not violations, violations
    assert not problems, problems
    assert not elsewhere, f"fetched from elsewhere: {elsewhere}"
