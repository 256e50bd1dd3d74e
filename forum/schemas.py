"""Input and output schemas of the forum: unknown fields refused, outputs listed field by field.

No output schema here has a field for her name or what a case is for: the
API gives a case's ``service_user_id`` and ``reason`` to the host
organisation's systems only (:mod:`forum.api`), and its ``label`` to all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from marshmallow import fields, validate

from consent.models import DataCategory
from forum.models import ActionStatus, AttendanceStatus, MeetingStatus
from hub.web.apidoc import ResponseSchema
from hub.web.fields import ID_RANGE, FlexibleDate, SingleLineText, StrictBool, required

LONDON = ZoneInfo("Europe/London")
CLOSING = [s.value for s in ActionStatus if s is not ActionStatus.OPEN]


def _named(enum_cls: type) -> fields.String:
    return fields.String(metadata={"enum": [member.value for member in enum_cls]})  # type: ignore[attr-defined]


def _choice(values: list[str], message: str, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(values, error=message), metadata={"enum": values}, **kwargs)


class Moment(fields.Field):
    """A date and time (ISO 8601); without an offset, taken as London time. Sent back in UTC."""

    default_error_messages = {"invalid": "Enter a date and time such as 2027-01-12T10:00"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise self.make_error("invalid") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=LONDON)
        try:
            return moment.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise self.make_error("invalid") from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.astimezone(dt.UTC).isoformat()


def _text(message: str, maximum: int = 5000, **kwargs: Any) -> fields.String:
    error = f"{message} (up to {maximum:,} characters)"
    return fields.String(validate=validate.Length(min=1, max=maximum, error=error),
                         **kwargs)  # fmt: skip


STANDING = fields.List(SingleLineText(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=20))


class ForumIn(ma.Schema):
    name = SingleLineText(validate=validate.Length(min=1, max=120, error="Enter the name (up to 120 characters)"),
                          **required("Enter the forum's name"))  # fmt: skip
    member_agency_ids = fields.List(fields.Integer(strict=True, validate=ID_RANGE), load_default=list,
                                    validate=validate.Length(max=100))  # fmt: skip
    venue = SingleLineText(validate=validate.Length(max=300), load_default="")
    chair_user_id = fields.Integer(strict=True, validate=ID_RANGE, allow_none=True)
    weekday = fields.Integer(strict=True, validate=validate.Range(min=0, max=6, error="0 (Monday) to 6 (Sunday)"))
    week_of_month = fields.Integer(
        strict=True, validate=validate.Range(min=1, max=5, error="1 to 4, or 5 for the last")
    )
    starts_at = fields.Time()
    duration_minutes = fields.Integer(strict=True, validate=validate.Range(min=15, max=480, error="15 to 480 minutes"))
    agenda_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=20, error="1 to 20 working days"))
    minutes_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=20, error="1 to 20 working days"))
    confidentiality = _text("The confidentiality statement", 3000)
    standing_items = STANDING


class ForumPatch(ForumIn):
    name = SingleLineText(validate=validate.Length(min=1, max=120, error="Enter the name (up to 120 characters)"))
    member_agency_ids = None  # type: ignore[assignment]  # members change one at a time


class MemberIn(ma.Schema):
    representative_contact_id = fields.Integer(strict=True, validate=ID_RANGE, allow_none=True, load_default=None)
    deputy_contact_id = fields.Integer(strict=True, validate=ID_RANGE, allow_none=True, load_default=None)


class MeetingIn(ma.Schema):
    starts_at = Moment(**required("Enter the date and time"))
    venue = SingleLineText(validate=validate.Length(max=300))


class AttendanceIn(ma.Schema):
    status = _choice([s.value for s in AttendanceStatus], "Choose: invited, present, apologies or absent",
                     **required("Say whether they were present, sent apologies or were absent"))  # fmt: skip
    representative_contact_id = fields.Integer(strict=True, validate=ID_RANGE, allow_none=True)
    information_sent = StrictBool(allow_none=True)


class ObserverIn(ma.Schema):
    name = SingleLineText(validate=validate.Length(min=1, max=120), **required("Enter the observer's name"))
    organisation = SingleLineText(validate=validate.Length(max=160), load_default="")
    confirmed = StrictBool(load_default=False)


class HoldIn(ma.Schema):
    confidentiality_read = StrictBool(load_default=False)


class ForumReasonIn(ma.Schema):
    reason = SingleLineText(validate=validate.Length(min=1, max=500, error="Say why (up to 500 characters)"),
                            **required("Say why"))  # fmt: skip


class CaseIn(ma.Schema):
    service_user_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Choose the woman"))
    reason = _text("Say why the forum should discuss her", 2000, **required("Say why the forum should discuss her"))


class ActionIn(ma.Schema):
    text = _text("Say what is to be done", 2000, **required("Say what is to be done"))
    agency_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Choose the agency that will do it"))
    owner_contact_id = fields.Integer(strict=True, validate=ID_RANGE, allow_none=True)
    due_on = FlexibleDate(**required("Enter the due date"))
    case_id = fields.Integer(strict=True, validate=ID_RANGE, allow_none=True)


class CloseIn(ma.Schema):
    status = _choice(CLOSING, "Choose: " + ", ".join(CLOSING), **required("Say how it ended"))
    note = fields.String(validate=validate.Length(max=1000, error="Up to 1,000 characters"), load_default="")


class ReferIn(ma.Schema):
    data_categories = fields.List(
        _choice([c.value for c in DataCategory], "Choose from: " + ", ".join(c.value for c in DataCategory)),
        validate=validate.Length(min=1, max=10, error="Choose what to share"),
        **required("Choose what to share"))  # fmt: skip
    reason = fields.String(validate=validate.Length(max=2000), load_default="")
    urgency = _choice(["routine", "urgent"], "Choose routine or urgent", load_default="routine")


class CaseNoteIn(ma.Schema):
    case_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Name the case"))
    text = fields.String(validate=validate.Length(max=20_000), **required("Write the case's section"))


class MinutesIn(ma.Schema):
    text = fields.String(validate=validate.Length(max=100_000, error="Up to 100,000 characters"),
                         **required("Write the minutes"))  # fmt: skip
    cases = fields.List(fields.Nested(CaseNoteIn), load_default=list, validate=validate.Length(max=100))


class ActionListArgs(ma.Schema):
    agency_id = fields.Integer(strict=False, validate=ID_RANGE)
    status = _choice([s.value for s in ActionStatus], "Choose a status")


# Out --------------------------------------------------------------------------------------------


class ForumOut(ResponseSchema):
    id = fields.Integer()
    name = fields.String()
    venue = fields.String()
    member_agency_ids = fields.List(fields.Integer())
    chair_user_id = fields.Integer(allow_none=True)
    pattern = fields.String()
    agenda_days = fields.Integer()
    minutes_days = fields.Integer()


class MeetingOut(ResponseSchema):
    id = fields.Integer()
    forum_id = fields.Integer()
    starts_at = Moment()
    ends_at = Moment()
    venue = fields.String()
    status = _named(MeetingStatus)


class AttendanceOut(ResponseSchema):
    agency_id = fields.Integer()
    status = _named(AttendanceStatus)
    representative_contact_id = fields.Integer(allow_none=True)
    information_sent = fields.Boolean(allow_none=True)


class CaseOut(ResponseSchema):
    id = fields.Integer()
    label = fields.String()
    repeat = fields.Boolean()
    audience_agency_ids = fields.List(fields.Integer())
    excluded_agency_ids = fields.List(fields.Integer())
    service_user_id = fields.Integer(allow_none=True, metadata={"description": "the host organisation only"})
    reason = fields.String(allow_none=True, metadata={"description": "the host organisation only"})


class ActionOut(ResponseSchema):
    id = fields.Integer()
    reference = fields.String()
    meeting_id = fields.Integer()
    text = fields.String(
        allow_none=True, metadata={"description": "null where it is about a case the caller's agency may not hear"}
    )
    agency_id = fields.Integer()
    owner_contact_id = fields.Integer(allow_none=True)
    due_on = fields.Date()
    case_id = fields.Integer(allow_none=True)
    status = _named(ActionStatus)
    close_note = fields.String(allow_none=True)
    closed_at = Moment(allow_none=True)
    referral_id = fields.Integer(allow_none=True)


class MeetingDetailOut(MeetingOut):
    confidentiality = fields.String()
    confidentiality_read_at = Moment(allow_none=True)
    minutes_agreed_at = Moment(allow_none=True)
    attendance = fields.List(fields.Nested(AttendanceOut))
    cases = fields.List(fields.Nested(CaseOut))
    actions = fields.List(fields.Nested(ActionOut))
    carried_action_ids = fields.List(fields.Integer())


class AgendaItemOut(ResponseSchema):
    """Every item has every field: null where it does not apply to its kind."""

    kind = fields.String(metadata={"enum": ["standing", "action_review", "case", "suggestion"]})
    title = fields.String()
    detail = fields.String()
    link = fields.String()
    action_id = fields.Integer(allow_none=True)
    case_id = fields.Integer(allow_none=True)
    label = fields.String(allow_none=True)
    repeat = fields.Boolean(allow_none=True)
    audience_agency_ids = fields.List(fields.Integer(), allow_none=True)
    excluded_agency_ids = fields.List(fields.Integer(), allow_none=True)
    agency_id = fields.Integer(allow_none=True)
    status = fields.String(allow_none=True)
    due_on = fields.String(allow_none=True)
    overdue = fields.Boolean(allow_none=True)
    source = fields.String(allow_none=True)


class AgendaOut(ResponseSchema):
    meeting_id = fields.Integer()
    items = fields.List(fields.Nested(AgendaItemOut))


class MinutesOut(ResponseSchema):
    meeting_id = fields.Integer()
    text = fields.String()
    agreed = fields.Boolean()
    agreed_at = Moment(allow_none=True)
    circulated_at = Moment(allow_none=True)
    revisions = fields.Integer()
