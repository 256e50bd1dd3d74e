"""Exports of the reports: built, logged in the audit trail, and handed back as a file.

Every export is logged (who, which report, which audience, which period, which format); an external
one carries only disclosure-controlled figures. The file says what it holds: definitions, the
period, who made it and when, and what disclosure control was applied.
"""

from __future__ import annotations

from hub import audit
from hub.db import utcnow
from hub.indicators import Period
from hub.permissions import Actor, Invalid, require
from reports import exports, policies, queries
from reports.disclosure import rules_for
from reports.exports import Export

REPORTS = ("indicators", "partnership")
FORMATS = ("csv", "xlsx")


def export(actor: Actor, made_by: str, report: str, audience: str, period: Period, fmt: str,
           agency_id: int | None = None) -> Export:  # fmt: skip
    """A report as a file, for ``audience`` ("external": disclosure controlled; "internal": exact)."""
    if report not in REPORTS or fmt not in FORMATS or audience not in ("internal", "external"):
        raise Invalid("Choose a report, an audience and a format.")
    require(policies.can_export(actor, audience, agency_id), "You may not export these figures.")
    rules, now = rules_for(audience), utcnow()
    if report == "indicators":
        found = queries.indicator_report(period, rules)
        sheets, title = exports.indicator_sheets(found), "Indicators"
    else:
        only = [agency_id] if agency_id is not None else None
        partnership = queries.partnership_report(period, rules, only)
        sheets, title = exports.partnership_sheets(partnership), "Partnership figures"
    sheets.insert(0, exports.about(title, period, rules, made_by, now))
    audit.record(actor, "report.exported", object_type="report", report=report, audience=audience, format=fmt,
                 period_from=period.start.isoformat(), period_to=period.end.isoformat(),
                 agency_id=agency_id)  # fmt: skip
    name = f"{report}-{audience}-{period.start.isoformat()}-to-{period.end.isoformat()}.{fmt}"
    if fmt == "csv":
        return Export(name, "text/csv; charset=utf-8", exports.to_csv(sheets))
    return Export(name, exports.XLSX_TYPE, exports.to_xlsx(sheets))


def share_figures(actor: Actor, report: str, audience: str, period: Period) -> None:
    """A report read through the API: logged like an export (the figures leave the hub)."""
    require(policies.can_share_figures(actor), "Reports are for the host organisation's managers.")
    audit.record(actor, "report.shared", object_type="report", report=report, audience=audience,
                 period_from=period.start.isoformat(), period_to=period.end.isoformat())  # fmt: skip
