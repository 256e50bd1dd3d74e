"""The reports as people and partner systems meet them: who sees what (each rule tried from the side that
must be refused), the pages with their charts and tables, the downloads read back with real readers (csv,
openpyxl), formula injection refused, every export logged, and bad input answered clearly."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from hub.audit import AuditEvent
from hub.db import db
from hub.permissions import Role
from tests.helpers import bearer, label_problems, make_client, make_user, sign_in
from tests.reports import world as w

PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}


@pytest.fixture
def built(app: Any) -> w.World:
    return w.build()


def _get(client: FlaskClient, path: str, **args: str) -> Any:
    return client.get(path, query_string={**PERIOD, **args})


def _exports() -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "report.exported")))


# Who sees what ----------------------------------------------------------------------------------


def test_a_manager_sees_exact_figures_only_when_asking_for_them(client: FlaskClient, built: w.World) -> None:
    sign_in(client, make_user(Role.MANAGER))
    outside = _get(client, "/reports/").get_data(as_text=True)
    assert "Safe to share outside the charity" in outside
    assert 'data-label="Figure">[c]' in outside  # 5 women supported: withheld
    exact = _get(client, "/reports/", audience="internal")
    html = exact.get_data(as_text=True)
    assert exact.status_code == 200 and "Exact figures: managers only" in html
    assert '<td class="govuk-table__cell govuk-table__cell--numeric" data-label="Figure">5</td>' in html


def test_a_practitioner_asking_for_exact_figures_gets_the_controlled_ones(client: FlaskClient, built: w.World) -> None:
    sign_in(client, make_user(Role.PRACTITIONER))
    html = _get(client, "/reports/", audience="internal").get_data(as_text=True)
    assert "Safe to share outside the charity" in html and "Exact figures: managers only" not in html
    assert 'data-label="Figure">5</td>' not in html
    assert _get(client, "/reports/export", report="indicators", format="csv").status_code == 403
    assert _get(client, "/reports/export", report="indicators", format="csv", audience="internal").status_code == 403
    assert _exports() == []


def test_a_partner_lead_sees_only_its_own_agencys_partnership_figures(client: FlaskClient, built: w.World) -> None:
    lead = make_user(Role.PARTNER_LEAD, built.housing)
    sign_in(client, lead)
    first = _get(client, "/reports/")
    assert first.status_code == 302 and first.headers["Location"].startswith("/reports/partnership")
    html = _get(client, "/reports/partnership").get_data(as_text=True)
    assert "Test Housing" in html and "Test Probation" not in html and "All agencies" not in html
    assert _get(client, "/reports/partnership", audience="internal").get_data(as_text=True).count(
        "Exact figures: managers only") == 0  # fmt: skip
    assert _get(client, "/reports/export", report="indicators", format="csv").status_code == 403
    assert _get(client, "/reports/export", report="partnership", format="csv", audience="internal").status_code == 403
    got = _get(client, "/reports/export", report="partnership", format="csv")
    assert got.status_code == 200
    text = got.get_data().decode("utf-8-sig")
    assert "Test Housing" in text and "Test Probation" not in text


def test_partner_staff_see_no_reports(client: FlaskClient, built: w.World) -> None:
    sign_in(client, make_user(Role.PARTNER, built.probation))
    for path in ("/reports/", "/reports/partnership"):
        assert _get(client, path).status_code == 403
    assert _get(client, "/reports/export", report="partnership", format="csv").status_code == 403


def test_signed_out_the_reports_ask_for_a_sign_in(client: FlaskClient, built: w.World) -> None:
    for path in ("/reports/", "/reports/partnership", "/reports/export"):
        answer = _get(client, path, report="indicators", format="csv")
        assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]


# Pages ------------------------------------------------------------------------------------------


def test_the_reports_page_draws_each_chart_with_its_table_and_title(client: FlaskClient, built: w.World) -> None:
    sign_in(client, make_user(Role.MANAGER))
    html = _get(client, "/reports/", audience="internal").get_data(as_text=True)
    for chart in ("chart-funnel", "chart-referrals_sent", "chart-dropin_women_attended", "chart-night_one"):
        assert f'<svg class="hub-chart" id="{chart}" role="img"' in html
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in html
        assert f'<title id="{chart}-title">' in html
    for table in ("table-funnel", "table-referrals_sent", "table-dropin_women_attended", "table-night_one"):
        assert f'id="{table}"' in html
    assert "The release funnel: women at each step" in html and "Referrals sent each month" in html
    assert label_problems(html) == []
    assert "Wren" not in html and "Testperson" not in html  # figures, never a woman


def test_the_partnership_page_lists_every_agency_with_a_total(client: FlaskClient, built: w.World) -> None:
    sign_in(client, make_user(Role.MANAGER))
    html = _get(client, "/reports/partnership", audience="internal").get_data(as_text=True)
    assert "Test Probation" in html and "Test Housing" in html and "All agencies" in html
    assert 'id="chart-on-time"' in html and 'id="table-partnership-1"' in html
    assert label_problems(html) == []


@pytest.mark.parametrize(("args", "field"), [
    ({"from": "2026-07-01", "to": "2026-06-30"}, "from"),
    ({"from": "not a date"}, "from"),
    ({"from": "2020-01-01", "to": "2026-06-30"}, "to"),
    ({"from": "1999-12-31", "to": "2000-06-30"}, "from"),
    ({"audience": "everyone"}, "audience"),
])  # fmt: skip
def test_a_bad_period_is_explained_and_the_defaults_shown(client: FlaskClient, built: w.World,
                                                          args: dict[str, str], field: str) -> None:  # fmt: skip
    sign_in(client, make_user(Role.MANAGER))
    answer = client.get("/reports/", query_string=args)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "There is a problem" in html and f'href="#{field}"' in html
    assert client.get("/reports/export", query_string={**args, "report": "indicators", "format": "csv"}
                      ).status_code == 400  # fmt: skip
    assert _exports() == []


# Exports ----------------------------------------------------------------------------------------


def test_the_csv_reads_back_with_definitions_and_who_made_it(client: FlaskClient, built: w.World) -> None:
    manager = make_user(Role.MANAGER, name="Mina Manager")
    sign_in(client, manager)
    got = _get(client, "/reports/export", report="indicators", format="csv")
    assert got.status_code == 200 and got.content_type == "text/csv; charset=utf-8"
    assert 'filename="indicators-external-2026-01-01-to-2026-06-30.csv"' in got.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(got.get_data().decode("utf-8-sig"))))
    about = {r[0]: r[1] for r in rows[:10] if len(r) == 2}
    assert about["From"] == "2026-01-01" and about["To"] == "2026-06-30" and about["Made by"] == "Mina Manager"
    assert "withheld" in about["Disclosure control"]
    figures = {r[0]: r for r in rows if len(r) == 6}
    assert figures["women_supported"][3:5] == ["[c]", "yes"]
    assert figures["dropin_women_attended"][3:5] == ["10", "no"]
    assert any(r[:2] == ["women_supported", "Women supported"] and len(r) == 5 for r in rows)  # its definition
    logged = _exports()
    assert len(logged) == 1 and logged[0].actor_id == manager.id
    assert logged[0].data["audience"] == "external" and logged[0].data["format"] == "csv"
    assert logged[0].data["period_from"] == "2026-01-01"


def test_the_xlsx_opens_with_openpyxl_exact_for_a_manager(client: FlaskClient, built: w.World) -> None:
    sign_in(client, make_user(Role.MANAGER))
    got = _get(client, "/reports/export", report="indicators", format="xlsx", audience="internal")
    assert got.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(got.get_data()))
    assert book.sheetnames == ["About this file", "Figures", "Month by month", "Breakdowns", "Definitions"]
    figures = {row[0]: row for row in book["Figures"].iter_rows(min_row=2, values_only=True)}
    assert figures["women_supported"][3] == 5 and figures["referrals_sent"][3] == 3  # numbers, as numbers
    about = {row[0]: row[1] for row in book["About this file"].iter_rows(values_only=True)}
    assert about["Audience"] == "internal (exact)" and about["Disclosure control"].startswith("None")
    definitions = [row[0] for row in book["Definitions"].iter_rows(min_row=2, values_only=True)]
    assert "women_supported" in definitions and "night_one" in definitions
    assert _exports()[0].data["audience"] == "internal"


def test_no_cell_that_could_start_a_formula_reaches_a_spreadsheet(client: FlaskClient, built: w.World) -> None:
    for n, name in enumerate(("=HYPERLINK(\"http://x.invalid\",\"Click\")", "+44 Housing", "-1 Agency",
                              "@SUM(A1)")):  # fmt: skip
        agency = (built.probation, built.housing, built.drugs, built.prison)[n]
        agency.name = name
    db.session.commit()
    sign_in(client, make_user(Role.MANAGER))
    xlsx = _get(client, "/reports/export", report="partnership", format="xlsx", audience="internal")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.get_data()))
    names = [row[0] for row in book["Partnership"].iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://x.invalid","Click")' in names and "'+44 Housing" in names
    for row in book["Partnership"].iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.value  # no formula anywhere
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@")), cell.value
    text = _get(client, "/reports/export", report="partnership", format="csv", audience="internal"
                ).get_data().decode("utf-8-sig")  # fmt: skip
    for row in csv.reader(io.StringIO(text)):
        for value in row:
            assert not value.startswith(("=", "+", "-", "@")), value


def test_an_unknown_report_or_format_is_a_400(client: FlaskClient, built: w.World) -> None:
    sign_in(client, make_user(Role.MANAGER))
    assert _get(client, "/reports/export", report="women", format="csv").status_code == 400
    assert _get(client, "/reports/export", report="indicators", format="pdf").status_code == 400
    assert _exports() == []


# API --------------------------------------------------------------------------------------------


def test_the_api_as_api_md_says(client: FlaskClient, built: w.World) -> None:
    system, secret = make_client(built.host, "reports:read")
    db.session.commit()
    headers = bearer(client, system, secret)
    got = client.get("/api/v1/reports/indicators", query_string={**PERIOD, "audience": "external"}, headers=headers)
    assert got.status_code == 200, got.get_data(as_text=True)
    body = got.json
    assert body["from"] == "2026-01-01" and body["to"] == "2026-06-30" and body["audience"] == "external"
    by = {i["key"]: i for i in body["indicators"]}
    assert set(by["women_supported"]) >= {"key", "label", "definition", "value", "suppressed"}
    assert by["women_supported"]["value"] is None and by["women_supported"]["suppressed"] is True
    assert by["dropin_women_attended"]["value"] == 10 and by["dropin_women_attended"]["suppressed"] is False
    assert by["forum_meetings"]["value"] is None  # 1: withheld
    exact = client.get("/api/v1/reports/indicators", query_string={**PERIOD, "audience": "internal"},
                       headers=headers).json  # fmt: skip
    assert {i["key"]: i["value"] for i in exact["indicators"]}["women_supported"] == 5
    partnership = client.get("/api/v1/reports/partnership", query_string={**PERIOD, "audience": "internal"},
                             headers=headers)  # fmt: skip
    assert partnership.status_code == 200
    lines = {line["agency_id"]: line for line in partnership.json["agencies"]}
    assert lines[built.probation.id]["referrals_received"] == 2
    assert lines[built.probation.id]["median_working_days_to_acknowledge"] == 0.5
    for key in ("referrals_received", "acknowledged_on_time", "median_working_days_to_acknowledge", "overdue_now",
                "dropin_attendance_rate", "forum_actions_done_on_time"):  # fmt: skip
        assert key in lines[built.housing.id]
    outside = client.get("/api/v1/reports/partnership", query_string=PERIOD, headers=headers).json
    assert outside["audience"] == "external"
    assert all(line["referrals_received"] is None for line in outside["agencies"])  # 1 and 2: withheld
    assert "referrals_received" in outside["agencies"][0]["suppressed"]
    shared = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "report.shared")).all()
    assert len(shared) == 4


def test_a_partner_system_gets_no_reports(client: FlaskClient, built: w.World) -> None:
    system, secret = make_client(built.probation, "reports:read")
    db.session.commit()
    headers = bearer(client, system, secret)
    for path in ("/api/v1/reports/indicators", "/api/v1/reports/partnership"):
        assert client.get(path, query_string=PERIOD, headers=headers).status_code == 403


def test_without_the_scope_the_api_refuses(client: FlaskClient, built: w.World) -> None:
    system, secret = make_client(built.host, "referrals:read")
    db.session.commit()
    headers = bearer(client, system, secret)
    assert client.get("/api/v1/reports/indicators", headers=headers).status_code == 403
    assert client.get("/api/v1/reports/indicators").status_code == 401


@pytest.mark.parametrize("args", [
    {"from": "2026-07-01", "to": "2026-06-30"}, {"from": "yesterday"}, {"audience": "all"},
    {"from": "2019-01-01", "to": "2026-01-01"}, {"to": "1990-01-01"},
])  # fmt: skip
def test_bad_api_input_is_a_422(client: FlaskClient, built: w.World, args: dict[str, str]) -> None:
    system, secret = make_client(built.host, "reports:read")
    db.session.commit()
    headers = bearer(client, system, secret)
    for path in ("/api/v1/reports/indicators", "/api/v1/reports/partnership"):
        got = client.get(path, query_string=args, headers=headers)
        assert got.status_code == 422 and got.content_type.startswith("application/problem+json"), got.json


def test_with_no_period_the_last_twelve_months(client: FlaskClient, built: w.World) -> None:
    system, secret = make_client(built.host, "reports:read")
    db.session.commit()
    body = client.get("/api/v1/reports/indicators", headers=bearer(client, system, secret)).json
    assert body["to"] > body["from"] and body["from"].endswith("-01")
