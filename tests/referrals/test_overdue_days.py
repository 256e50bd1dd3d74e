"""The overdue page counts lateness in working days, as the deadlines are set: due on Thursday
26 November 2026 and seen on Tuesday 1 December is 3 working days late (not 5 days); a deadline
on the Friday before a bank holiday weekend is not "4 days late" on the Tuesday after."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from hub.permissions import Role
from referrals import queries as referral_queries
from referrals import views as referral_views
from tests.helpers import make_user, sign_in
from tests.referrals.test_pages import _consent, _sent, build_world, fresh


def _on(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    """The hub's "today" for the overdue list and its page."""
    monkeypatch.setattr(referral_queries, "today", lambda: day)
    monkeypatch.setattr(referral_views, "today", lambda: day)


def _overdue_cell(client, reference: str) -> str:
    html = client.get("/overdue").get_data(as_text=True)
    row = next(r for r in re.findall(r"<tr\b.*?</tr>", html, re.S) if reference in r)
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


@pytest.fixture
def late_referral():
    practitioner, agency, officer, person = build_world()
    _consent(practitioner, person, agency)
    referral = _sent(practitioner, person, agency)
    return practitioner, officer, referral


@pytest.mark.parametrize(
    ("due", "seen", "shown"),
    [
        (dt.date(2026, 11, 26), dt.date(2026, 12, 1), "3 working days late"),  # Thu -> Tue: Fri, Mon, Tue
        (dt.date(2026, 11, 30), dt.date(2026, 12, 1), "1 working day late"),
        (dt.date(2026, 12, 24), dt.date(2026, 12, 29), "1 working day late"),  # Christmas and Boxing Day off
        (dt.date(2026, 11, 27), dt.date(2026, 11, 28), "Late since Friday"),  # a Saturday: no working day yet
    ],
)
def test_lateness_is_counted_in_working_days(client, monkeypatch, late_referral, due, seen, shown):
    practitioner, officer, referral = late_referral
    row = fresh(referral)
    row.acknowledge_by = row.due_on = due
    _on(monkeypatch, seen)
    for viewer in (practitioner, officer):
        sign_in(client, viewer)
        cell = _overdue_cell(client, referral.reference)
        assert shown in cell
        assert not re.search(r"\b\d+ days? late\b", cell.replace("working day", "")), cell


def test_nothing_overdue_on_the_day_it_is_due(client, monkeypatch, late_referral):
    practitioner, _officer, referral = late_referral
    row = fresh(referral)
    row.acknowledge_by = row.due_on = dt.date(2026, 12, 1)
    _on(monkeypatch, dt.date(2026, 12, 1))
    sign_in(client, practitioner)
    page = client.get("/overdue").get_data(as_text=True)
    assert referral.reference not in page and "Nothing is overdue." in page


def test_another_agencys_partner_sees_none_of_it(client, monkeypatch, late_referral):
    _practitioner, _officer, referral = late_referral
    row = fresh(referral)
    row.acknowledge_by = row.due_on = dt.date(2026, 11, 26)
    _on(monkeypatch, dt.date(2026, 12, 1))
    sign_in(client, make_user(Role.PARTNER))
    page = client.get("/overdue").get_data(as_text=True)
    assert referral.reference not in page and "Nothing is overdue." in page
