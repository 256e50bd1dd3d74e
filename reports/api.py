"""The reports' JSON API (``/api/v1/reports``), for the host organisation's systems (scope
``reports:read``; they act as a manager). A partner's system is refused (403).

``audience=external`` (the default) applies disclosure control (:mod:`reports.disclosure`);
``internal`` gives the exact figures. Either way the answer is the same figures as the pages."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.views import MethodView

from hub.db import unit_of_work
from hub.extensions import ApiBlueprint, api, csrf
from hub.permissions import Denied, Scope
from hub.web.guards import current_actor, documented_scope
from reports import policies, queries, schemas, services
from reports.disclosure import rules_for

blp = ApiBlueprint(
    "reports_api",
    __name__,
    url_prefix="/api/v1/reports",
    description="Indicators for funders and managers, and how each partner agency performs, with small numbers "
    "withheld and the rest rounded for anything meant for outside the charity.",
    tag="Reports",
)
READ = Scope.REPORTS_READ.value


def _allowed() -> None:
    if not policies.can_use_reports_api(current_actor()):
        raise Denied("Reports are for the host organisation's managers.")


@blp.route("/indicators")
class Indicators(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="reportIndicators")
    @blp.arguments(schemas.IndicatorArgs, location="query")
    @blp.response(200, schemas.IndicatorReportOut, example=schemas.EXAMPLE_INDICATORS)
    def get(self, args: dict[str, Any]) -> Any:
        """Every indicator for the period (`from` to `to`, London days, both included; default the last twelve
        months), each with its definition. `audience=external` (default): counts from 1 to 7 are withheld
        (`value` null, `suppressed` true) and every other count is rounded to the nearest 5; `internal`: exact."""
        _allowed()
        period = schemas.period_of(args)
        with unit_of_work():
            report = queries.indicator_report(period, rules_for(args["audience"]))
            services.share_figures(current_actor(), "indicators", report.audience, period)
        return {"from_": period.start, "to": period.end, "audience": report.audience, "indicators": [
            {"key": line.indicator.key, "label": line.indicator.label, "definition": line.indicator.definition,
             "group": line.indicator.group.value, "counts": line.indicator.counts, "value": line.cell.value,
             "suppressed": line.cell.is_suppressed} for line in report.lines]}  # fmt: skip


@blp.route("/partnership")
class Partnership(MethodView):
    @documented_scope(blp, READ)
    @blp.doc(operationId="reportPartnership")
    @blp.arguments(schemas.IndicatorArgs, location="query")
    @blp.response(200, schemas.PartnershipReportOut, example=schemas.EXAMPLE_PARTNERSHIP)
    def get(self, args: dict[str, Any]) -> Any:
        """Per partner agency with anything in the period: referrals received, acknowledged on time, median
        working days to acknowledge and to decide, overdue now, drop-in attendance, forum actions done on time.
        `suppressed` names the figures withheld (`audience=external`, the default)."""
        _allowed()
        period = schemas.period_of(args)
        with unit_of_work():
            report = queries.partnership_report(period, rules_for(args["audience"]))
            services.share_figures(current_actor(), "partnership", report.audience, period)
        return {"from_": period.start, "to": period.end, "audience": report.audience,
                "agencies": [queries.flat(report, line) for line in report.lines]}  # fmt: skip


def register(app: Flask) -> None:
    api.register_blueprint(blp)
    csrf.exempt(blp)
