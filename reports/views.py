"""The reports' pages: indicators for a period with charts and tables, the partnership figures, and
the downloads. Our staff see figures with disclosure control applied; a manager may switch to the
exact (internal) figures; a partner lead sees its own agency's partnership figures."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from hub.db import unit_of_work
from hub.indicators import Group, Period
from hub.permissions import Actor
from hub.web.guards import current_actor, signed_in
from reports import charts, policies, queries, schemas, services
from reports.disclosure import rules_for, suppression_note

bp = Blueprint("reports", __name__, template_folder="templates")

FUNNEL_TITLE = "The release funnel: women at each step from custody to treatment continued"


def _args(actor: Actor) -> tuple[Period, str, dict[str, list[str]]]:
    """The period and audience asked for, or the defaults with what was wrong."""
    try:
        args = schemas.IndicatorArgs().load({k: v for k, v in request.args.items() if k in ("from", "to", "audience")})
    except ma.ValidationError as exc:
        messages = exc.normalized_messages()
        errors = {("from" if k == "from_" else k): list(v) if isinstance(v, list) else [str(v)]
                  for k, v in messages.items()}  # fmt: skip
        return schemas.default_period(), "external", errors
    audience = args["audience"]
    if audience == "internal" and not policies.can_view_exact(actor):
        audience = "external"
    return schemas.period_of(args), audience, {}


def _values(period: Period, audience: str) -> dict[str, str]:
    return {"from": period.start.strftime("%-d/%-m/%Y"), "to": period.end.strftime("%-d/%-m/%Y"), "audience": audience}


def _query(period: Period, audience: str) -> dict[str, str]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat(), "audience": audience}


@bp.get("/reports/")
@signed_in()
def index() -> Any:
    actor = current_actor()
    if not policies.can_view_reports(actor):
        if policies.can_view_partnership(actor, actor.agency_id):
            return redirect(url_for("reports.partnership"))
        abort(403)
    period, audience, errors = _args(actor)
    report = queries.indicator_report(period, rules_for(audience))
    funnel = report.group(Group.FUNNEL)
    drawn = {
        "funnel": charts.bars("chart-funnel", FUNNEL_TITLE, [(line.indicator.label, line.cell) for line in funnel]),
        "series": [charts.line(f"chart-{s.indicator.key}", f"{s.indicator.label} each month", s.points)
                   for s in report.series],
        "tables": [charts.bars(f"chart-{t.breakdown.key}", t.breakdown.label, t.parts) for t in report.tables],
    }  # fmt: skip
    status = 400 if errors else 200
    return render_template(
        "reports/index.html", title="Reports", report=report, groups=[g for g in Group if g is not Group.FUNNEL],
        funnel=funnel, funnel_title=FUNNEL_TITLE, drawn=drawn, errors=errors, values=_values(period, audience),
        query=_query(period, audience), can_exact=policies.can_view_exact(actor),
        can_export=policies.can_export(actor, audience), note=suppression_note(report.rules),
    ), status  # fmt: skip


@bp.get("/reports/partnership")
@signed_in()
def partnership() -> Any:
    actor = current_actor()
    only = None if actor.is_staff else actor.agency_id
    if not policies.can_view_partnership(actor, only):
        abort(403)
    period, audience, errors = _args(actor)
    report = queries.partnership_report(period, rules_for(audience), [only] if only is not None else None)
    shown = sorted(report.lines, key=lambda line: -(line.cells["referrals_received"].rounded or 0))[:25] \
        if len(report.lines) > 25 else report.lines  # fmt: skip
    items = [(line.name, line.cells["acknowledged_on_time_rate"]) for line in shown]
    title = "Share of referrals acknowledged on time, by agency" + (
        " (the 25 with most referrals)" if len(report.lines) > 25 else "")  # fmt: skip
    return render_template(
        "reports/partnership.html", title="Partnership figures", report=report, errors=errors,
        values=_values(period, audience), query=_query(period, audience), can_exact=policies.can_view_exact(actor),
        can_export=policies.can_export(actor, audience, only), note=suppression_note(report.rules),
        chart=charts.bars("chart-on-time", title, items, share=True), chart_title=title, chart_items=items,
        own=only is not None, show_totals=only is None and len(report.lines) > 1,
        sections=list(dict.fromkeys(m.section for m in report.measures)),
    ), 400 if errors else 200  # fmt: skip


@bp.get("/reports/export")
@signed_in()
def export() -> Any:
    actor = current_actor()
    period, audience, errors = _args(actor)
    report, fmt = request.args.get("report", ""), request.args.get("format", "")
    if errors or report not in services.REPORTS or fmt not in services.FORMATS:
        abort(400)
    if request.args.get("audience") == "internal" and audience != "internal":
        abort(403)
    only = None if actor.is_staff else actor.agency_id
    if report == "indicators" and not actor.is_staff:
        abort(403)
    made_by = getattr(actor, "name", "") or f"{actor.actor_kind} {actor.actor_id}"
    with unit_of_work():
        found = services.export(actor, made_by, report, audience, period, fmt, only)
    return Response(found.body, content_type=found.content_type,
                    headers={"Content-Disposition": f'attachment; filename="{found.filename}"',
                             "Cache-Control": "no-store"})  # fmt: skip
