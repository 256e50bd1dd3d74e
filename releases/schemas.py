"""Input and output schemas for custody episodes, the day-of-release rule and release plans."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from consent.models import DataCategory
from hub.web.apidoc import ResponseSchema
from hub.web.fields import ID_RANGE, LONG, FlexibleDate, SingleLineText, required
from referrals.models import Urgency
from releases.dates import CustodyType, ReleaseDay, ReleaseType, Rule, SentenceKind
from releases.models import CustodyStatus, ItemStatus, NightOne, Pathway, Responsible

TERM_RANGE = validate.Range(min=1, max=36_500, error="The term is between 1 day and 100 years")


def _enum(enum_cls: type, message: str, **kwargs: Any) -> fields.Enum:
    """One of an enum's values, refusing anything else with ``message``."""
    errors = {"unknown": message, **kwargs.pop("error_messages", {})}
    return fields.Enum(enum_cls, by_value=True, error_messages=errors, **kwargs)


def _named(enum_cls: type) -> fields.String:
    return fields.String(metadata={"enum": [member.value for member in enum_cls]})  # type: ignore[attr-defined]


class ReleaseFacts(ma.Schema):
    """What the prison or probation told us (the inputs of the day-of-release rule)."""

    custody_type = _enum(CustodyType, "Choose remand, sentenced or recalled", **required("Choose the custody type"))
    sentence_kind = _enum(SentenceKind, "Choose determinate, indeterminate or youth", allow_none=True)
    sentenced_on = FlexibleDate(allow_none=True)
    term_days = fields.Integer(strict=True, allow_none=True, validate=TERM_RANGE)
    release_type = _enum(ReleaseType, "Choose a release type from the list", **required("Choose the release type"))


class ReleaseDateArgs(ReleaseFacts):
    nominal_on = FlexibleDate(**required("Enter the date the prison or probation gave"))


class CustodyIn(ReleaseFacts):
    prison_agency_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Choose the prison"))
    nominal_release_on = FlexibleDate(**required("Enter the release date the prison or probation gave"))
    probation_contact_id = fields.Integer(strict=True, allow_none=True, validate=ID_RANGE)
    date_told_by = SingleLineText(validate=validate.Length(max=200))
    date_told_on = FlexibleDate(allow_none=True)


class CustodyPatch(ma.Schema):
    """Any of :class:`CustodyIn`'s fields; those given replace what was recorded."""

    custody_type = _enum(CustodyType, "Choose remand, sentenced or recalled")
    sentence_kind = _enum(SentenceKind, "Choose determinate, indeterminate or youth", allow_none=True)
    sentenced_on = FlexibleDate(allow_none=True)
    term_days = fields.Integer(strict=True, allow_none=True, validate=TERM_RANGE)
    release_type = _enum(ReleaseType, "Choose a release type from the list")
    prison_agency_id = fields.Integer(strict=True, validate=ID_RANGE)
    nominal_release_on = FlexibleDate()
    probation_contact_id = fields.Integer(strict=True, allow_none=True, validate=ID_RANGE)
    date_told_by = SingleLineText(validate=validate.Length(max=200))
    date_told_on = FlexibleDate(allow_none=True)


class ReleasedIn(ma.Schema):
    released_on = FlexibleDate(**required("Enter the day she left prison"))
    night_one = _enum(NightOne, "Choose where she stayed on her first night", allow_none=True)


class RecallIn(ma.Schema):
    nominal_release_on = FlexibleDate(**required("Enter the new release date the prison or probation gave"))
    release_type = _enum(ReleaseType, "Choose a release type from the list")
    date_told_by = SingleLineText(validate=validate.Length(max=200))
    date_told_on = FlexibleDate(allow_none=True)


class ReleaseOut(ResponseSchema):
    nominal_on = fields.Date()
    statutory_on = fields.Date()
    expected_on = fields.Date()
    earliest_on = fields.Date(allow_none=True)
    rule = _named(Rule)
    explanation = fields.String()
    ask_the_prison = fields.Boolean()


class CustodyOut(ResponseSchema):
    id = fields.Integer()
    reference = fields.String()
    service_user_id = fields.Integer()
    prison_agency_id = fields.Integer()
    custody_type = _named(CustodyType)
    sentence_kind = fields.String(allow_none=True, metadata={"enum": [*(m.value for m in SentenceKind), None]})
    sentenced_on = fields.Date(allow_none=True)
    term_days = fields.Integer(allow_none=True)
    release_type = _named(ReleaseType)
    nominal_release_on = fields.Date()
    date_told_by = fields.String()
    date_told_on = fields.Date(allow_none=True)
    probation_contact_id = fields.Integer(allow_none=True)
    status = _named(CustodyStatus)
    release = fields.Nested(ReleaseOut)
    released_on = fields.Date(allow_none=True)
    agencies_untold = fields.Integer(allow_none=True)
    night_one = fields.String(allow_none=True, metadata={"enum": [*(m.value for m in NightOne), None]})
    created_at = fields.DateTime()


class ReleaseListArgs(ma.Schema):
    from_ = FlexibleDate(data_key="from")
    to = FlexibleDate()
    page = fields.Integer(strict=False, load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(strict=False, load_default=50, validate=validate.Range(min=1, max=200))


class ReleaseListOut(CustodyOut):
    items_not_done = fields.Integer(allow_none=True)
    items_overdue = fields.Integer(allow_none=True)
    status_colour = fields.String(allow_none=True, metadata={"enum": ["red", "amber", "green", None]})


class PlanItemIn(ma.Schema):
    pathway = _enum(Pathway, "Choose a pathway from the list", **required("Choose a pathway"))
    title = SingleLineText(validate=validate.Length(min=1, max=200), **required("Say what needs to be done"))
    status = _enum(ItemStatus, "Choose a status from the list", load_default=ItemStatus.NOT_STARTED)
    responsible = _enum(Responsible, "Choose who is responsible", allow_none=True)
    agency_id = fields.Integer(strict=True, allow_none=True, validate=ID_RANGE)
    contact_id = fields.Integer(strict=True, allow_none=True, validate=ID_RANGE)
    owner_user_id = fields.Integer(strict=True, allow_none=True, validate=ID_RANGE)
    due_on = FlexibleDate(allow_none=True)


class PlanItemPatch(ma.Schema):
    pathway = _enum(Pathway, "Choose a pathway from the list")
    title = SingleLineText(validate=validate.Length(min=1, max=200))
    status = _enum(ItemStatus, "Choose a status from the list")
    responsible = _enum(Responsible, "Choose who is responsible")
    agency_id = fields.Integer(strict=True, allow_none=True, validate=ID_RANGE)
    contact_id = fields.Integer(strict=True, allow_none=True, validate=ID_RANGE)
    owner_user_id = fields.Integer(strict=True, allow_none=True, validate=ID_RANGE)
    due_on = FlexibleDate(allow_none=True)


class PlanItemOut(ResponseSchema):
    id = fields.Integer()
    custody_id = fields.Integer()
    pathway = _named(Pathway)
    title = fields.String()
    status = _named(ItemStatus)
    responsible = _named(Responsible)
    agency_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(allow_none=True)
    owner_user_id = fields.Integer(allow_none=True)
    due_on = fields.Date(allow_none=True)
    referral_id = fields.Integer(allow_none=True)
    done_on = fields.Date(allow_none=True)


class PlanReferralIn(ma.Schema):
    agency_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Choose the agency"))
    contact_id = fields.Integer(strict=True, allow_none=True, validate=ID_RANGE)
    data_categories = fields.List(
        fields.Enum(DataCategory, by_value=True),
        validate=validate.Length(min=1, max=len(DataCategory), error="Choose at least one kind of information"),
        **required("Choose at least one kind of information"),
    )
    reason = fields.String(validate=validate.Length(min=1, max=LONG), **required("Say what you are asking for"))
    urgency = _enum(Urgency, "Choose routine or urgent", load_default=Urgency.ROUTINE)


def release_dict(day: ReleaseDay) -> dict[str, Any]:
    return day.as_dict()


EXAMPLE_RELEASE = {
    "nominal_on": "2026-03-27", "statutory_on": "2026-03-27", "expected_on": "2026-03-26",
    "earliest_on": "2026-03-25", "rule": "friday_scheme",
    "explanation": "Friday 27 March 2026 is a Friday, so under the Friday and pre-bank-holiday release scheme "
                   "she is expected out on Thursday 26 March 2026; her probation practitioner may ask for "
                   "Wednesday 25 March 2026.",
    "ask_the_prison": False,
}  # fmt: skip
CUSTODY_IN_EXAMPLE = {
    "prison_agency_id": 3, "custody_type": "sentenced", "sentence_kind": "determinate",
    "sentenced_on": "2026-01-12", "term_days": 168, "release_type": "automatic",
    "nominal_release_on": "2026-03-27", "probation_contact_id": 7,
    "date_told_by": "Offender management unit, by phone", "date_told_on": "2026-02-02",
}  # fmt: skip
CUSTODY_EXAMPLE = {
    "id": 12, "reference": "C-7KQM-X3PA", "service_user_id": 4, **CUSTODY_IN_EXAMPLE, "status": "in_custody",
    "release": EXAMPLE_RELEASE, "released_on": None, "agencies_untold": None, "night_one": None,
    "created_at": "2026-02-02T10:15:00+00:00",
}  # fmt: skip
PLAN_ITEM_EXAMPLE = {
    "id": 31, "custody_id": 12, "pathway": "health", "title": "Register with a GP before release",
    "status": "not_started", "responsible": "partner", "agency_id": 5, "contact_id": None, "owner_user_id": None,
    "due_on": "2026-02-25", "referral_id": None, "done_on": None,
}  # fmt: skip
