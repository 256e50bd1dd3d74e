"""Input and output schemas for agencies and contacts.

``*In`` schemas reject unknown fields and bound every string; ``*Out``
schemas list their fields explicitly, so a new column is never published by
accident. The same ``In`` schemas read the HTML forms.
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from agencies.models import AgencyKind, Channel, ContactStatus, InteractionKind, ServiceStatus
from hub.permissions import Role
from hub.web.apidoc import ResponseSchema
from hub.web.fields import ID_RANGE, LONG, MEDIUM, SHORT, FlexibleDate, SingleLineText, StrictBool, required

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _text(max_len: int, **kw: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=max_len), **kw)


def _enum(enum_cls: type, **kw: Any) -> fields.Enum:
    return fields.Enum(enum_cls, by_value=True, **kw)


class AgencyPatch(ma.Schema):
    """Fields that may change on an agency (all optional)."""

    name = SingleLineText(validate=validate.Length(min=2, max=SHORT))
    kind = _enum(AgencyKind)
    services = _text(LONG)
    how_to_refer = _text(LONG)
    address = _text(MEDIUM)
    phone = SingleLineText(validate=validate.Length(max=40))
    email = fields.Email(validate=validate.Length(max=254), allow_none=True)
    website = fields.Url(validate=validate.Length(max=MEDIUM), allow_none=True, schemes={"http", "https"})
    has_agreement = StrictBool()
    agreement_agreed_on = FlexibleDate(allow_none=True)
    agreement_review_on = FlexibleDate(allow_none=True)
    agreement_summary = _text(LONG)
    # Referral deadlines agreed with this agency, in working days (blank: the hub's defaults).
    acknowledge_days = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=30))
    decide_days = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=60))
    key_contact_id = fields.Integer(allow_none=True, strict=True, validate=ID_RANGE)
    deputy_contact_id = fields.Integer(allow_none=True, strict=True, validate=ID_RANGE)
    relationship_owner_id = fields.Integer(allow_none=True, strict=True, validate=ID_RANGE)

    @ma.validates_schema
    def _dates(self, data: dict[str, Any], **_kw: Any) -> None:
        agreed, review = data.get("agreement_agreed_on"), data.get("agreement_review_on")
        if agreed and review and review < agreed:
            raise ma.ValidationError("Review date must be after the date it was agreed", "agreement_review_on")


class AgencyIn(AgencyPatch):
    """A new agency. ``slug`` is derived from the name when not given."""

    name = SingleLineText(validate=validate.Length(min=2, max=SHORT), **required("Enter the agency's name"))
    kind = _enum(AgencyKind, **required("Choose the kind of agency"))
    slug = fields.String(
        validate=[
            validate.Length(min=2, max=64),
            validate.Regexp(SLUG_RE, error=("Use lower-case letters, numbers and single hyphens")),
        ]
    )


class AgencyOut(ResponseSchema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    kind = _enum(AgencyKind)
    services = fields.String()
    how_to_refer = fields.String()
    address = fields.String()
    phone = fields.String()
    email = fields.String()
    website = fields.String()
    has_agreement = fields.Boolean()
    agreement_agreed_on = fields.Date(allow_none=True)
    agreement_review_on = fields.Date(allow_none=True)
    acknowledge_days = fields.Integer(allow_none=True)
    decide_days = fields.Integer(allow_none=True)
    key_contact_id = fields.Integer(allow_none=True)
    deputy_contact_id = fields.Integer(allow_none=True)
    updated_at = fields.DateTime()


class ServicePatch(ma.Schema):
    """Fields that may change on a service (all optional). ``verified``: confirm it is still right."""

    name = SingleLineText(validate=validate.Length(min=2, max=200))
    description = _text(LONG)
    status = _enum(ServiceStatus)
    publish = StrictBool()
    drop_in = StrictBool()
    url = fields.Url(validate=validate.Length(max=MEDIUM), allow_none=True, schemes={"http", "https"})
    email = fields.Email(validate=validate.Length(max=254), allow_none=True)
    phone = SingleLineText(validate=validate.Length(max=40), allow_none=True)
    eligibility = _text(LONG, allow_none=True)
    verified = StrictBool(load_only=True)

    @ma.post_load
    def _blank(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        return {k: ("" if v is None else v) for k, v in data.items()}


class ServiceIn(ServicePatch):
    name = SingleLineText(validate=validate.Length(min=2, max=200), **required("Enter the service's name"))


class ServiceOut(ResponseSchema):
    id = fields.Integer()
    agency_id = fields.Integer()
    name = fields.String()
    description = fields.String()
    status = _enum(ServiceStatus)
    publish = fields.Boolean()
    url = fields.String()
    email = fields.String()
    phone = fields.String()
    eligibility = fields.String()
    drop_in = fields.Boolean()
    public_id = fields.String(metadata={"description": "Its id in the Open Referral UK feed (a UUID)"})
    last_verified_on = fields.Date(allow_none=True)
    updated_at = fields.DateTime()


SERVICE_EXAMPLE = {
    "id": 12, "agency_id": 3, "name": "Emergency accommodation for women", "status": "active", "publish": True,
    "description": "Same-day emergency beds for women with nowhere safe to stay.", "url": "", "drop_in": False,
    "email": "housing.options@example.org", "phone": "0113 496 0100", "eligibility": "Women aged 18 or over.",
    "public_id": "8f1c2a4e-6b0d-4e7a-9a51-3c2d1e0f9b77", "last_verified_on": "2026-12-01",
    "updated_at": "2026-12-01T10:00:00+00:00",
}  # fmt: skip
SERVICE_IN_EXAMPLE = {"name": "Emergency accommodation for women", "status": "active", "publish": True,
                      "description": "Same-day emergency beds for women with nowhere safe to stay."}  # fmt: skip


class ContactPatch(ma.Schema):
    name = SingleLineText(validate=validate.Length(min=2, max=120))
    role = SingleLineText(validate=validate.Length(max=120))
    email = fields.Email(validate=validate.Length(max=254), allow_none=True)
    phone = SingleLineText(validate=validate.Length(max=40))
    preferred_channel = _enum(Channel, allow_none=True)
    knowledge = _text(LONG)
    known_by_id = fields.Integer(allow_none=True, strict=True, validate=ID_RANGE)
    started_on = FlexibleDate(allow_none=True)
    last_spoken_on = FlexibleDate(allow_none=True)
    last_verified_on = FlexibleDate(allow_none=True)


class ContactIn(ContactPatch):
    name = SingleLineText(validate=validate.Length(min=2, max=120), **required("Enter their full name"))


class ContactOut(ResponseSchema):
    id = fields.Integer()
    agency_id = fields.Integer()
    name = fields.String()
    role = fields.String()
    email = fields.String()
    phone = fields.String()
    preferred_channel = _enum(Channel, allow_none=True)
    knowledge = fields.String()
    status = _enum(ContactStatus)
    left_on = fields.Date(allow_none=True)
    successor_id = fields.Integer(allow_none=True)


class LeaveIn(ma.Schema):
    left_on = FlexibleDate(**required("Enter the date they left"))
    successor_id = fields.Integer(allow_none=True, strict=True, validate=ID_RANGE)
    handover_note = _text(LONG)


class InteractionIn(ma.Schema):
    kind = _enum(InteractionKind, **required("Choose what kind of entry it is"))
    occurred_on = FlexibleDate(**required("Enter the date"))
    summary = fields.String(validate=validate.Length(min=2, max=LONG), **required("Enter a summary"))
    contact_id = fields.Integer(allow_none=True, strict=True, validate=ID_RANGE)


class AgencyListArgs(ma.Schema):
    q = _text(100)
    kind = _enum(AgencyKind)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class InviteIn(ma.Schema):
    role = fields.Enum(
        Role, by_value=True, validate=validate.OneOf([Role.PARTNER, Role.PARTNER_LEAD]), **required("Choose their role")
    )


class UserOut(ResponseSchema):
    """A hub account as ``GET /api/v1/users`` shows it (``API.md``)."""

    id = fields.Integer(attribute="user.id")
    email = fields.String(attribute="user.email")
    name = fields.String(attribute="user.name")
    role = fields.Enum(Role, by_value=True, attribute="user.role")
    agency_id = fields.Integer(attribute="user.agency_id")
    contact_id = fields.Function(
        lambda a: a.contact.id if a.contact is not None else None, allow_none=True, metadata={"type": "integer"}
    )
    active = fields.Boolean()


class UserListArgs(ma.Schema):
    agency_id = fields.Integer(validate=ID_RANGE)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


# Examples for the OpenAPI document (fictional, like the demo data) ------------------------------

AGENCY_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "slug": "city-probation",
    "name": "City Probation",
    "kind": "probation",
    "services": "Supervision of women on licence or community orders.",
    "how_to_refer": "Email the duty officer; urgent cases by phone.",
    "address": "1 Example Street, Leeds LS1 1AA",
    "phone": "0113 496 0000",
    "email": "duty@city-probation.example",
    "website": "https://city-probation.example",
    "has_agreement": True,
    "agreement_agreed_on": "2026-01-15",
    "agreement_review_on": "2027-01-15",
    "acknowledge_days": None,
    "decide_days": None,
    "key_contact_id": 12,
    "deputy_contact_id": None,
    "updated_at": "2026-11-30T09:12:44+00:00",
}
AGENCY_IN_EXAMPLE: dict[str, Any] = {
    "name": "City Probation",
    "kind": "probation",
    "phone": "0113 496 0000",
    "email": "duty@city-probation.example",
}
CONTACT_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "agency_id": 3,
    "name": "Priya Shah",
    "role": "Senior probation officer",
    "email": "priya.shah@city-probation.example",
    "phone": "0113 496 0001",
    "preferred_channel": "email",
    "knowledge": "Leads on women's cases.",
    "status": "active",
    "left_on": None,
    "successor_id": None,
}
CONTACT_IN_EXAMPLE: dict[str, Any] = {
    "name": "Priya Shah",
    "role": "Senior probation officer",
    "email": "priya.shah@city-probation.example",
    "phone": "0113 496 0001",
    "preferred_channel": "email",
}
LEAVE_EXAMPLE: dict[str, Any] = {
    "left_on": "2026-11-30",
    "successor_id": 17,
    "handover_note": "Two open referrals; both women know Sam.",
}
LEFT_CONTACT_EXAMPLE: dict[str, Any] = {
    **CONTACT_EXAMPLE,
    "status": "left",
    "left_on": "2026-11-30",
    "successor_id": 17,
}
USER_EXAMPLE: dict[str, Any] = {
    "id": 8,
    "email": "priya.shah@city-probation.example",
    "name": "Priya Shah",
    "role": "partner_lead",
    "agency_id": 3,
    "contact_id": 12,
    "active": True,
}
