"""Each indicator against the world built for it (tests/reports/world.py), exact (the internal view):
the reasoning for every figure is in the world's comments. Counted on PostgreSQL here and on SQLite in
tests/test_sqlite.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hub.indicators import Median
from reports import queries
from reports.disclosure import Rules
from tests.reports import world as w

EXACT = Rules(external=False)

EXPECTED = {
    "women_supported": 5,  # Wren (consent, referrals), Ash (custody), Bay (consent, referral), Elm (custody),
    # Fir (forum): each once, though Wren and Bay appear in two packages
    "referrals_sent": 3, "women_referred": 2, "referrals_acknowledged_on_time": 2,
    "referrals_accepted": 1, "referrals_declined": 1, "women_referral_accepted": 1,
    "consents_given": 2, "women_consent_given": 2,
    "releases": 1, "releases_with_plan": 1, "released_without_notice": 1,
    "inreach_engaged": 2, "women_released": 1, "release_support_taken_up": 1, "floating_support_continued": 1,
    "engaged_with_probation": 1, "id_or_gp_done": 1,
    "funnel_in_custody": 2, "funnel_plan": 2, "funnel_released": 1, "funnel_met": 1, "funnel_housed": 1,
    "funnel_treatment": 1,
    "dropin_sessions": 1, "dropin_women_attended": 10, "dropin_new_women": 3,
    "forum_meetings": 1, "forum_actions_due": 2, "forum_actions_done_on_time": 1, "women_discussed": 1,
}  # fmt: skip


@pytest.fixture
def built(app: Any) -> w.World:
    return w.build()


def test_every_indicator_counts_what_its_definition_says(built: w.World) -> None:
    report = queries.indicator_report(w.PERIOD, EXACT)
    found = {line.indicator.key: line.cell.value for line in report.lines}
    assert found == EXPECTED


API_MD = Path(__file__).resolve().parents[3] / "shared" / "API.md"


def _api_md_keys(after: str, until: str) -> set[str]:
    text = API_MD.read_text(encoding="utf-8")
    part = text[text.index(after) + len(after) :]
    part = part[: part.index(until)]
    return set(re.findall(r"[a-z][a-z_]+[a-z]", part.replace("`", " ")))


def test_the_catalogue_holds_the_keys_api_md_names_each_defined(app: Any) -> None:
    keys = _api_md_keys("Keys at least:", ".")
    assert len(keys) >= 12
    catalogue = {i.key: i for i in queries.catalogue()}
    assert keys <= set(catalogue), keys - set(catalogue)
    for i in catalogue.values():
        assert i.label and len(i.definition) > 30 and i.counts and i.source, i.key
    assert len(catalogue) == len(queries.catalogue())  # no key twice


def test_the_partnership_holds_the_keys_api_md_names(app: Any) -> None:
    keys = _api_md_keys("per agency:", "- The same")
    assert "referrals_received" in keys and "dropin_attendance_rate" in keys
    assert keys <= {m.key for m in queries.measures()}


def test_partnership_figures_per_agency(built: w.World) -> None:
    report = queries.partnership_report(w.PERIOD, EXACT)
    by = {line.agency_id: {k: c.value for k, c in line.cells.items()} for line in report.lines}
    probation, housing = by[built.probation.id], by[built.housing.id]
    assert probation["referrals_received"] == 2 and probation["acknowledged_on_time"] == 2
    assert probation["acknowledged_on_time_rate"] == 1.0
    assert probation["median_working_days_to_acknowledge"] == 0.5  # 1 (Saturday to Monday) and 0
    assert probation["median_working_days_to_decide"] == 3.0
    assert probation["referrals_accepted"] == 1
    assert probation["overdue_now"] == 1  # Ash's referral of July, whatever the period
    assert probation["dropin_sessions_down"] == 1 and probation["dropin_attendance_rate"] == 1.0
    assert probation["forum_actions_due"] == 1 and probation["forum_actions_done_on_time_rate"] == 1.0
    assert housing["referrals_received"] == 1 and housing["acknowledged_on_time"] == 0
    assert housing["median_working_days_to_acknowledge"] == 4.0 and housing["median_working_days_to_decide"] == 1.0
    assert housing["dropin_attendance_rate"] == 0.0
    assert housing["forum_actions_due"] == 1 and housing["forum_actions_done_on_time"] == 0
    assert built.host.id not in by and built.prison.id not in by  # nothing in the period: not listed
    assert report.totals["referrals_received"].value == 3


def test_a_partner_lead_gets_only_the_agencies_asked_for(built: w.World) -> None:
    report = queries.partnership_report(w.PERIOD, EXACT, [built.housing.id])
    assert [line.agency_id for line in report.lines] == [built.housing.id]


def test_months_carry_the_series(built: w.World) -> None:
    report = queries.indicator_report(w.PERIOD, EXACT)
    sent = next(s for s in report.series if s.indicator.key == "referrals_sent")
    assert [(m.month, c.value) for m, c in sent.points] == [(1, 1), (2, 0), (3, 1), (4, 1), (5, 0), (6, 0)]
    attended = next(s for s in report.series if s.indicator.key == "dropin_women_attended")
    assert [c.value for _, c in attended.points] == [10, 0, 0, 0, 0, 0]


def test_night_one_breakdown_adds_up_to_the_releases(built: w.World) -> None:
    table = queries.indicator_report(w.PERIOD, EXACT).tables[0]
    assert {label: c.value for label, c in table.parts}["Settled accommodation (her own or a family tenancy)"] == 1
    assert table.total.value == 1


def test_the_median_of_counted_values() -> None:
    from hub.indicators import medians

    assert medians([(1, 0, 1), (1, 1, 1)]) == {1: Median(0.5, 2)}
    assert medians([(2, 3, 5), (2, 10, 1)])[2] == Median(3.0, 6)
    assert medians([(3, 1, 1), (3, 2, 1), (3, 9, 1)])[3] == Median(2.0, 3)


@pytest.mark.own_database
def test_the_same_figures_on_the_embedded_sqlite_default(tmp_path: Path) -> None:
    """London days, working days and dates a number of days on are SQL of each database's own; the
    world gives the same figures on SQLite."""
    import flask_migrate

    from hub.app import create_app
    from hub.db import db
    from tests.conftest import make_settings

    sqlite = create_app(make_settings(database_url=f"sqlite:///{tmp_path / 'reports.sqlite3'}"))
    with sqlite.app_context():
        flask_migrate.upgrade()
        built = w.build()
        db.session.commit()
        report = queries.indicator_report(w.PERIOD, EXACT)
        assert {line.indicator.key: line.cell.value for line in report.lines} == EXPECTED
        partnership = queries.partnership_report(w.PERIOD, EXACT)
        by = {line.agency_id: {k: c.value for k, c in line.cells.items()} for line in partnership.lines}
        assert by[built.probation.id]["median_working_days_to_acknowledge"] == 0.5
        assert by[built.housing.id]["median_working_days_to_acknowledge"] == 4.0
        assert by[built.probation.id]["overdue_now"] == 1
        db.engine.dispose()
