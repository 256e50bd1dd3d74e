"""Input and output schemas for referrals (the contract of ``API.md``)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from consent.models import DataCategory, Purpose
from hub.web.apidoc import ResponseSchema
from hub.web.fields import ID_RANGE, LONG, required
from referrals.models import REFERRAL_PURPOSES, Urgency
from referrals.states import Status


class ReferralIn(ma.Schema):
    service_user_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Choose the woman referred"))
    agency_id = fields.Integer(strict=True, validate=ID_RANGE, **required("Choose the agency"))
    contact_id = fields.Integer(allow_none=True, strict=True, validate=ID_RANGE)
    data_categories = fields.List(
        fields.Enum(DataCategory, by_value=True),
        validate=validate.Length(min=1, max=len(DataCategory), error="Choose what to share"),
        **required("Choose what to share"),
    )
    reason = fields.String(validate=validate.Length(min=5, max=LONG), **required("Say what you are asking for"))
    urgency = fields.Enum(Urgency, by_value=True, load_default=Urgency.ROUTINE)
    purpose = fields.String(
        validate=validate.OneOf(REFERRAL_PURPOSES, error="Choose referral or release_planning"),
        load_default=Purpose.REFERRAL.value,
        metadata={
            "enum": list(REFERRAL_PURPOSES),
            "description": "The purpose of her consent it rests on: `release_planning` for work on her release plan.",
        },
    )
    needed_by = fields.Date(
        allow_none=True,
        load_default=None,
        metadata={"description": "The day the work is needed by: no deadline on the referral falls after it."},
    )

    @ma.post_load
    def _values(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data["data_categories"] = [c.value for c in data["data_categories"]]
        return data


class ReasonIn(ma.Schema):
    """Why: required to decline, hold or cancel (text with at least one character that is not a space)."""

    reason = fields.String(
        validate=[validate.Length(max=LONG), validate.Regexp(r"\S", error="Give a reason")], **required("Give a reason")
    )


class CompleteIn(ma.Schema):
    BODY_OPTIONAL = True  # see hub.extensions.HubParser

    outcome = fields.String(validate=validate.Length(max=LONG), load_default="")


class EmptyIn(ma.Schema):
    """No fields: the body may be left out, or be ``{}``."""

    BODY_OPTIONAL = True


class MessageIn(ma.Schema):
    body = fields.String(validate=validate.Length(min=1, max=LONG), **required("Write a message"))


def _named(enum_cls: type) -> fields.String:
    """A string that is one of an enum's values (documented as such)."""
    return fields.String(metadata={"enum": [member.value for member in enum_cls]})  # type: ignore[attr-defined]


class ReferralPersonOut(ResponseSchema):
    """The woman referred, shown only when the referral shares ``identity`` (to a partner,
    and only while its basis is valid) or to our own staff."""

    id = fields.Integer()
    reference = fields.String()
    given_name = fields.String()
    family_name = fields.String()
    date_of_birth = fields.Date(allow_none=True)


class ReferralOut(ResponseSchema):
    """What every party sees. ``service_user`` and ``reason`` are filled only for
    viewers with a valid basis (see :func:`view`), else null with
    ``details_available`` false; to a partner, ``service_user`` and
    ``service_user_id`` only when the referral shares ``identity``."""

    id = fields.Integer()
    reference = fields.String()
    status = fields.Enum(Status, by_value=True)
    agency_id = fields.Integer()
    service_user_id = fields.Integer(allow_none=True)
    contact_id = fields.Integer(attribute="requested_contact_id", allow_none=True)
    recipient_contact_id = fields.Integer(allow_none=True)
    data_categories = fields.List(_named(DataCategory))
    urgency = fields.Enum(Urgency, by_value=True)
    purpose = fields.String(metadata={"enum": list(REFERRAL_PURPOSES)})
    needed_by = fields.Date(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
    acknowledge_by = fields.Date(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    decide_by = fields.Date(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    details_available = fields.Boolean(allow_none=True)
    reason = fields.String(allow_none=True)
    service_user = fields.Nested(ReferralPersonOut, allow_none=True)
    outcome = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


_DETAILS = {"reason", "service_user", "details_available", "service_user_id"}
_PLAIN = [field.attribute or name for name, field in ReferralOut().fields.items() if name not in _DETAILS]


def view(referral: Any, details: Any, staff: bool) -> dict[str, Any]:
    """A referral as one viewer may see it, read eagerly (so it can be dumped
    after the commit without touching the session).

    ``details`` comes from :func:`referrals.services.open_referral` (which
    also logs the view); None (in lists) means "not looked at": no details,
    and no disclosure logged. ``service_user_id`` and ``service_user`` reach
    a partner only with ``identity`` on a valid basis, so nothing in a
    referral without it can be joined to another referral about her.
    """
    out = {name: getattr(referral, name) for name in _PLAIN}
    visible = bool(details is not None and details.visible)
    identity = visible and bool(details.identity)
    out.update(
        details_available=visible if details is not None else None,
        reason=referral.reason if visible else None,
        service_user=None,
        service_user_id=referral.service_user_id if staff or identity else None,
    )
    if identity:
        person = referral.service_user
        out["service_user"] = {
            "id": person.id,
            "reference": person.reference,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "date_of_birth": person.date_of_birth,
        }
    return out


class ReferralEventOut(ResponseSchema):
    id = fields.Integer()
    action = fields.String()
    from_status = fields.String(allow_none=True, metadata={"enum": [*(s.value for s in Status), None]})
    to_status = fields.String(allow_none=True, metadata={"enum": [*(s.value for s in Status), None]})
    actor_kind = fields.String()
    actor_agency_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    at = fields.DateTime()


class MessageOut(ResponseSchema):
    id = fields.Integer()
    author_kind = fields.String()
    author_agency_id = fields.Integer(allow_none=True)
    author_name = fields.String()
    body = fields.String(allow_none=True)
    at = fields.DateTime()


class ReferralListArgs(ma.Schema):
    status = fields.Enum(Status, by_value=True)
    agency_id = fields.Integer(validate=ID_RANGE)
    service_user_id = fields.Integer(validate=ID_RANGE)
    overdue = fields.Boolean(truthy={"true", "1"}, falsy={"false", "0"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


# Examples for the OpenAPI document (fictional, like the demo data) ------------------------------

REFERRAL_IN_EXAMPLE: dict[str, Any] = {
    "service_user_id": 5,
    "agency_id": 3,
    "data_categories": ["identity", "housing"],
    "reason": "Released next week with nowhere to stay; she agreed to a referral.",
    "urgency": "urgent",
}
REFERRAL_EXAMPLE: dict[str, Any] = {
    "id": 41,
    "reference": "R-7KQM-X3PA",
    "status": "sent",
    "agency_id": 3,
    "service_user_id": None,
    "contact_id": None,
    "recipient_contact_id": 12,
    "data_categories": ["identity", "housing"],
    "urgency": "urgent",
    "purpose": "referral",
    "needed_by": None,
    "sent_at": "2026-11-30T10:02:11+00:00",
    "acknowledge_by": "2026-12-01",
    "acknowledged_at": None,
    "decide_by": None,
    "decided_at": None,
    "closed_at": None,
    "details_available": None,
    "reason": None,
    "service_user": None,
    "outcome": "",
    "created_at": "2026-11-30T09:58:40+00:00",
    "updated_at": "2026-11-30T10:02:11+00:00",
}
REFERRAL_READ_EXAMPLE: dict[str, Any] = {
    **REFERRAL_EXAMPLE,
    "service_user_id": 5,
    "details_available": True,
    "reason": REFERRAL_IN_EXAMPLE["reason"],
    "service_user": {
        "id": 5,
        "reference": "S-4HJK-9QRT",
        "given_name": "Ann",
        "family_name": "Example",
        "date_of_birth": "1990-03-27",
    },
}
REFERRAL_ACKNOWLEDGED_EXAMPLE: dict[str, Any] = {
    **REFERRAL_EXAMPLE,
    "status": "acknowledged",
    "acknowledged_at": "2026-12-01T08:30:00+00:00",
    "decide_by": "2026-12-08",
    "updated_at": "2026-12-01T08:30:00+00:00",
}
EVENT_EXAMPLE: dict[str, Any] = {
    "id": 77,
    "action": "acknowledge",
    "from_status": "sent",
    "to_status": "acknowledged",
    "actor_kind": "client",
    "actor_agency_id": 3,
    "note": None,
    "at": "2026-12-01T08:30:00+00:00",
}
MESSAGE_EXAMPLE: dict[str, Any] = {
    "id": 4,
    "author_kind": "client",
    "author_agency_id": 3,
    "author_name": "Probation case system",
    "body": "Can she meet us on Thursday morning?",
    "at": "2026-12-01T09:00:00+00:00",
}
