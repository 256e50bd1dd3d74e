"""Input and output schemas for service users, consent, safeguarding and disclosures."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from consent.models import (
    Art6Basis,
    Art9Condition,
    ConsentMethod,
    ConsentStatus,
    DataCategory,
    DisclosureKind,
    Para18Reason,
    Purpose,
    SafeguardingStatus,
)
from hub.web.apidoc import ResponseSchema
from hub.web.fields import ID_RANGE, LONG, FlexibleDate, SingleLineText, StrictBool, required


def _choices(enum_cls: type, message: str) -> fields.List:
    return fields.List(
        fields.Enum(enum_cls, by_value=True),
        validate=validate.Length(min=1, max=len(enum_cls), error=message),
        **required(message),
    )


class ServiceUserIn(ma.Schema):
    given_name = SingleLineText(validate=validate.Length(min=1, max=80), **required("Enter her first name"))
    family_name = SingleLineText(validate=validate.Length(min=1, max=80), **required("Enter her last name"))
    date_of_birth = FlexibleDate(allow_none=True)
    key_worker_id = fields.Integer(allow_none=True, strict=True, validate=ID_RANGE)


class ServiceUserCorrection(ma.Schema):
    given_name = SingleLineText(validate=validate.Length(min=1, max=80), **required("Enter her first name"))
    family_name = SingleLineText(validate=validate.Length(min=1, max=80), **required("Enter her last name"))
    date_of_birth = FlexibleDate(allow_none=True)


class ServiceUserOut(ResponseSchema):
    id = fields.Integer()
    reference = fields.String()
    given_name = fields.String()
    family_name = fields.String()
    date_of_birth = fields.Date(allow_none=True)
    key_worker_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class ConsentIn(ma.Schema):
    agency_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Choose the agency"))
    purposes = _choices(Purpose, "Choose at least one purpose")
    data_categories = _choices(DataCategory, "Choose at least one kind of information")
    method = fields.Enum(ConsentMethod, by_value=True, **required("Say how she gave consent"))
    given_on = FlexibleDate(**required("Enter the date she gave consent"))
    expires_on = FlexibleDate(allow_none=True)
    evidence_note = fields.String(validate=validate.Length(max=LONG))


def _named(enum_cls: type) -> fields.String:
    """A string that is one of an enum's values (documented as such)."""
    return fields.String(metadata={"enum": [member.value for member in enum_cls]})  # type: ignore[attr-defined]


class ConsentOut(ResponseSchema):
    id = fields.Integer()
    service_user_id = fields.Integer()
    agency_id = fields.Integer()
    purposes = fields.List(_named(Purpose))
    data_categories = fields.List(_named(DataCategory))
    method = fields.Enum(ConsentMethod, by_value=True)
    given_on = fields.Date()
    expires_on = fields.Date()
    status = fields.Enum(ConsentStatus, by_value=True)
    information_version = fields.String()
    recorded_by_id = fields.Integer(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)


class WithdrawIn(ma.Schema):
    reason = fields.String(validate=validate.Length(min=1, max=LONG), **required("Say why, or what she said"))


class SafeguardingIn(ma.Schema):
    agency_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Choose the agency"))
    purposes = _choices(Purpose, "Choose at least one purpose")
    data_categories = _choices(DataCategory, "Choose at least one kind of information")
    art6_basis = fields.Enum(Art6Basis, by_value=True, **required("Choose the UK GDPR Article 6 basis"))
    art9_condition = fields.Enum(Art9Condition, by_value=True, **required("Choose the Article 9 condition"))
    para18_reason = fields.Enum(Para18Reason, by_value=True, **required("Choose why consent is not the basis"))
    justification = fields.String(
        validate=validate.Length(min=20, max=LONG), **required("Explain the risk and why sharing is necessary")
    )
    she_was_told = StrictBool(**required("Say whether she was told"))
    not_told_reason = fields.String(validate=validate.Length(max=LONG))
    review_on = FlexibleDate(**required("Enter a review date"))
    emergency = StrictBool(load_default=False)


class SafeguardingOut(ResponseSchema):
    id = fields.Integer()
    service_user_id = fields.Integer()
    agency_id = fields.Integer()
    purposes = fields.List(fields.String())
    data_categories = fields.List(fields.String())
    art6_basis = fields.Enum(Art6Basis, by_value=True)
    art9_condition = fields.Enum(Art9Condition, by_value=True)
    para18_reason = fields.Enum(Para18Reason, by_value=True)
    she_was_told = fields.Boolean()
    review_on = fields.Date()
    emergency = fields.Boolean()
    approval_due_on = fields.Date(allow_none=True)
    status = fields.Enum(SafeguardingStatus, by_value=True)
    decided_by_id = fields.Integer()
    approved_by_id = fields.Integer(allow_none=True)


class DisclosureOut(ResponseSchema):
    id = fields.Integer()
    kind = fields.Enum(DisclosureKind, by_value=True)
    agency_id = fields.Integer()
    data_categories = fields.List(_named(DataCategory))
    purpose = _named(Purpose)
    basis = fields.Function(
        lambda d: "consent" if d.consent_id else "safeguarding",
        metadata={"type": "string", "enum": ["consent", "safeguarding"]},
    )
    consent_id = fields.Integer(allow_none=True)
    safeguarding_id = fields.Integer(allow_none=True)
    actor_kind = fields.String()
    actor_id = fields.Integer(allow_none=True)
    context = fields.String()
    context_id = fields.Integer(allow_none=True)
    occurred_at = fields.DateTime()


# Examples for the OpenAPI document (fictional, like the demo data) ------------------------------

SERVICE_USER_IN_EXAMPLE = {"given_name": "Ann", "family_name": "Example", "date_of_birth": "1990-03-27"}
SERVICE_USER_EXAMPLE = {
    "id": 5,
    "reference": "S-4HJK-9QRT",
    "given_name": "Ann",
    "family_name": "Example",
    "date_of_birth": "1990-03-27",
    "key_worker_id": None,
    "created_at": "2026-11-30T09:00:00+00:00",
}
CONSENT_IN_EXAMPLE = {
    "agency_id": 3,
    "purposes": ["referral"],
    "data_categories": ["identity", "housing"],
    "method": "written",
    "given_on": "2026-11-30",
}
CONSENT_EXAMPLE = {
    "id": 9,
    "service_user_id": 5,
    "agency_id": 3,
    "purposes": ["referral"],
    "data_categories": ["identity", "housing"],
    "method": "written",
    "given_on": "2026-11-30",
    "expires_on": "2027-11-30",
    "status": "active",
    "information_version": "2026-1",
    "recorded_by_id": None,
    "withdrawn_at": None,
}
DISCLOSURE_EXAMPLE = {
    "id": 21,
    "kind": "viewed",
    "agency_id": 3,
    "data_categories": ["identity", "housing"],
    "purpose": "referral",
    "basis": "consent",
    "consent_id": 9,
    "safeguarding_id": None,
    "actor_kind": "client",
    "actor_id": 2,
    "context": "referral",
    "context_id": 41,
    "occurred_at": "2026-12-01T10:15:00+00:00",
}
