"""Input and output schemas of the rota and calendar feeds: unknown fields refused, outputs listed field by field."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from marshmallow import fields, validate

from hub.web.apidoc import ResponseSchema
from hub.web.fields import ID_RANGE, FlexibleDate, SingleLineText, StrictBool, required
from rota.models import Attendance, Service, SessionStatus, SlotStatus

COUNT = validate.Range(min=0, max=10_000, error="Enter a number from 0 to 10,000")
LONDON = ZoneInfo("Europe/London")


def _enum(enum_cls: type, message: str, **kwargs: Any) -> fields.Enum:
    errors = {"unknown": message, **kwargs.pop("error_messages", {})}
    return fields.Enum(enum_cls, by_value=True, error_messages=errors, **kwargs)


def _named(enum_cls: type) -> fields.String:
    return fields.String(metadata={"enum": [member.value for member in enum_cls]})  # type: ignore[attr-defined]


SERVICE_MESSAGE = "Choose a service: " + ", ".join(s.value for s in Service)


class ClockTime(fields.Field):
    """A time of day at the venue (Europe/London): ``10:00`` or ``10:00:00``; a full ISO 8601 moment
    (``2027-01-06T10:00:00Z``) is taken as the London time it falls at. Sent back as ``HH:MM``."""

    default_error_messages = {"invalid": "Enter a time such as 10:00"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.time:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        text = value.strip()
        try:
            if "T" in text:
                moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                if moment.tzinfo is not None:
                    moment = moment.astimezone(LONDON)
                return moment.time().replace(second=0, microsecond=0, tzinfo=None)
            return dt.time.fromisoformat(text).replace(second=0, microsecond=0, tzinfo=None)
        except ValueError:
            raise self.make_error("invalid") from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{value:%H:%M}"


class SessionIn(ma.Schema):
    date = FlexibleDate(**required("Enter the date"))
    starts_at = ClockTime(**required("Enter the start time"))
    ends_at = ClockTime(**required("Enter the end time"))
    venue = SingleLineText(validate=validate.Length(min=1, max=300, error="Enter the venue (up to 300 characters)"),
                           **required("Enter the venue"))  # fmt: skip


class SessionPatch(ma.Schema):
    starts_at = ClockTime()
    ends_at = ClockTime()
    venue = SingleLineText(validate=validate.Length(min=1, max=300, error="Enter the venue (up to 300 characters)"))


class SessionListArgs(ma.Schema):
    from_ = FlexibleDate(data_key="from")
    to = FlexibleDate()


class RotaReasonIn(ma.Schema):
    reason = SingleLineText(validate=validate.Length(min=1, max=500, error="Say why (up to 500 characters)"),
                            **required("Say why"))  # fmt: skip


class SlotIn(ma.Schema):
    service = _enum(Service, SERVICE_MESSAGE, **required("Choose the service"))


class TakeIn(ma.Schema):
    agency_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Choose the agency"))
    contact_id = fields.Integer(strict=True, validate=ID_RANGE, allow_none=True)


class AttendeeIn(ma.Schema):
    contact_id = fields.Integer(strict=True, validate=ID_RANGE, allow_none=True, **required("Name who comes, or null"))


class AskIn(ma.Schema):
    agency_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Choose the agency to ask"))


WEEKDAYS_OF_MONTH = fields.List(
    fields.Integer(strict=True, validate=validate.Range(min=1, max=5, error="Use 1 to 5")),
    allow_none=True, validate=validate.Length(max=5),
)  # fmt: skip


class CommitmentIn(ma.Schema):
    agency_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Choose the agency"))
    service = _enum(Service, SERVICE_MESSAGE, **required("Choose the service"))
    contact_id = fields.Integer(strict=True, validate=ID_RANGE, allow_none=True)
    weekdays_of_month = WEEKDAYS_OF_MONTH
    starts_on = FlexibleDate(**required("Enter the first day"))
    ends_on = FlexibleDate(allow_none=True)


class CommitmentPatch(ma.Schema):
    contact_id = fields.Integer(strict=True, validate=ID_RANGE, allow_none=True)
    weekdays_of_month = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=5, error="Use 1 to 5")),
        allow_none=True, validate=validate.Length(max=5))  # fmt: skip
    ends_on = FlexibleDate(allow_none=True)


class AgencyLineIn(ma.Schema):
    agency_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Choose the agency"))
    attendance = _enum(Attendance, "Choose: " + ", ".join(a.value for a in Attendance), **required("Say how it went"))
    women_seen = fields.Integer(strict=True, validate=COUNT, load_default=0)


class RecordIn(ma.Schema):
    women_attended = fields.Integer(strict=True, validate=COUNT, **required("Enter how many women came"))
    new_women = fields.Integer(strict=True, validate=COUNT, **required("Enter how many were new"))
    agencies = fields.List(fields.Nested(AgencyLineIn), load_default=list, validate=validate.Length(max=200))
    finalise = StrictBool(load_default=False)
    reason = SingleLineText(validate=validate.Length(max=1000), load_default="")


class FeedIn(ma.Schema):
    agency_id = fields.Integer(strict=True, validate=ID_RANGE, allow_none=True)


class ReliabilityArgs(ma.Schema):
    from_ = FlexibleDate(data_key="from")
    to = FlexibleDate()
    agency_id = fields.Integer(strict=False, validate=ID_RANGE)


# Out --------------------------------------------------------------------------------------------


class SlotOut(ResponseSchema):
    id = fields.Integer()
    session_id = fields.Integer()
    service = _named(Service)
    agency_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    status = _named(SlotStatus)
    wanted = fields.Boolean()
    commitment_id = fields.Integer(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)


class SessionOut(ResponseSchema):
    id = fields.Integer()
    series_id = fields.Integer(allow_none=True)
    date = fields.Date()
    starts_at = ClockTime()
    ends_at = ClockTime()
    venue = fields.String()
    status = _named(SessionStatus)
    cancel_reason = fields.String()
    bank_holiday = fields.String()


class SessionWithSlotsOut(SessionOut):
    slots = fields.List(fields.Nested(SlotOut))


class GapOut(ResponseSchema):
    session_id = fields.Integer()
    date = fields.Date()
    service = _named(Service)
    slot_id = fields.Integer()


class CommitmentOut(ResponseSchema):
    id = fields.Integer()
    agency_id = fields.Integer()
    service = _named(Service)
    contact_id = fields.Integer(allow_none=True)
    weekdays_of_month = fields.List(fields.Integer(), allow_none=True)
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)


class AgencyLineOut(ResponseSchema):
    agency_id = fields.Integer()
    attendance = _named(Attendance)
    women_seen = fields.Integer()


class RecordOut(ResponseSchema):
    session_id = fields.Integer()
    women_attended = fields.Integer(allow_none=True, metadata={"description": "null until the session is recorded"})
    new_women = fields.Integer(allow_none=True, metadata={"description": "null until the session is recorded"})
    agencies = fields.List(fields.Nested(AgencyLineOut))
    finalised = fields.Boolean()
    finalised_at = fields.DateTime(allow_none=True)
    changes = fields.Integer()


class ReliabilityOut(ResponseSchema):
    agency_id = fields.Integer()
    agency = fields.String()
    committed = fields.Integer()
    attended = fields.Integer()
    cancelled_with_notice = fields.Integer()
    no_show = fields.Integer()
    not_recorded = fields.Integer()


class FeedOut(ResponseSchema):
    id = fields.Integer()
    url = fields.String()
    agency_id = fields.Integer(allow_none=True)


class FeedListOut(ResponseSchema):
    id = fields.Integer()
    agency_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
