"""What the reports take (a period, an audience) and what the API gives."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from hub.db import today
from hub.indicators import Period
from hub.web.apidoc import ResponseSchema
from hub.web.fields import FlexibleDate

AUDIENCES = ("internal", "external")
LONGEST_DAYS = 5 * 366  # a report spans at most five years
EARLIEST = dt.date(2000, 1, 1)


def default_period(on: dt.date | None = None) -> Period:
    """The last twelve months: from the first of the month eleven months ago to today."""
    on = on or today()
    month = on.month - 11
    year = on.year + (month - 1) // 12
    return Period(dt.date(year, (month - 1) % 12 + 1, 1), on)


class PeriodArgs(ma.Schema):
    from_ = FlexibleDate(data_key="from", metadata={"description": "First day (London), included. Default: the "
                         "first of the month eleven months ago."})  # fmt: skip
    to = FlexibleDate(metadata={"description": "Last day (London), included. Default: today."})

    @ma.validates_schema
    def _span(self, data: dict[str, Any], **_kw: Any) -> None:
        start, end = data.get("from_"), data.get("to")
        for name, day in (("from", start), ("to", end)):
            if day is not None and day < EARLIEST:
                raise ma.ValidationError("Choose a day in 2000 or later", name)
        if start and end and start > end:
            raise ma.ValidationError("The first day must be on or before the last", "from")
        if start and end and (end - start).days >= LONGEST_DAYS:
            raise ma.ValidationError("A report covers at most five years: choose a shorter period", "to")


def period_of(args: dict[str, Any]) -> Period:
    found = default_period()
    end = args.get("to") or found.end
    start = args.get("from_") or (default_period(end).start if args.get("to") else found.start)
    if start > end:
        start = end
    return Period(start, end)


class IndicatorArgs(PeriodArgs):
    audience = fields.String(load_default="external", validate=validate.OneOf(AUDIENCES, error="Choose internal "
                             "or external"), metadata={"description": "external (default): disclosure control "
                             "applied; internal: exact figures."})  # fmt: skip


class IndicatorOut(ResponseSchema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    definition = fields.String(required=True)
    group = fields.String(required=True)
    counts = fields.String(required=True)
    value = fields.Integer(allow_none=True, required=True)
    suppressed = fields.Boolean(required=True)


class IndicatorReportOut(ResponseSchema):
    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)
    audience = fields.String(required=True)
    indicators = fields.List(fields.Nested(IndicatorOut), required=True)


class PartnershipLineOut(ResponseSchema):
    agency_id = fields.Integer(required=True)
    name = fields.String(required=True)
    referrals_received = fields.Integer(allow_none=True)
    acknowledged_on_time = fields.Integer(allow_none=True)
    acknowledged_on_time_rate = fields.Float(allow_none=True)
    median_working_days_to_acknowledge = fields.Float(allow_none=True)
    median_working_days_to_decide = fields.Float(allow_none=True)
    referrals_accepted = fields.Integer(allow_none=True)
    overdue_now = fields.Integer(allow_none=True)
    dropin_sessions_down = fields.Integer(allow_none=True)
    dropin_sessions_came = fields.Integer(allow_none=True)
    dropin_attendance_rate = fields.Float(allow_none=True)
    forum_actions_due = fields.Integer(allow_none=True)
    forum_actions_done_on_time = fields.Integer(allow_none=True)
    forum_actions_done_on_time_rate = fields.Float(allow_none=True)
    suppressed = fields.List(fields.String(), required=True)


class PartnershipReportOut(ResponseSchema):
    from_ = fields.Date(data_key="from", required=True)
    to = fields.Date(required=True)
    audience = fields.String(required=True)
    agencies = fields.List(fields.Nested(PartnershipLineOut), required=True)


EXAMPLE_INDICATORS = {
    "from": "2026-01-01", "to": "2026-12-31", "audience": "external",
    "indicators": [
        {"key": "women_supported", "label": "Women supported", "group": "headline", "counts": "women",
         "definition": "Women we supported in the period, each counted once ...", "value": 135, "suppressed": False},
        {"key": "released_without_notice", "label": "Released without notice", "group": "headline",
         "counts": "releases", "definition": "Releases in the period where ...", "value": None, "suppressed": True},
    ],
}  # fmt: skip
EXAMPLE_PARTNERSHIP = {
    "from": "2026-01-01", "to": "2026-12-31", "audience": "external",
    "agencies": [{"agency_id": 7, "name": "Example Probation Delivery Unit", "referrals_received": 45,
                  "acknowledged_on_time": 40, "acknowledged_on_time_rate": 0.889,
                  "median_working_days_to_acknowledge": 1.0, "median_working_days_to_decide": 3.5,
                  "referrals_accepted": 35, "overdue_now": None, "dropin_sessions_down": 50,
                  "dropin_sessions_came": 45, "dropin_attendance_rate": 0.9, "forum_actions_due": 10,
                  "forum_actions_done_on_time": 10, "forum_actions_done_on_time_rate": 1.0,
                  "suppressed": ["overdue_now"]}],
}  # fmt: skip
