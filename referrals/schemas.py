"""Input and output schemas for referrals (the contract of ``API.md``)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from consent.models import DataCategory
from hub.web.fields import ID_RANGE, LONG, required
from referrals.models import Urgency
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

    @ma.post_load
    def _values(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data["data_categories"] = [c.value for c in data["data_categories"]]
        return data


class ReasonIn(ma.Schema):
    reason = fields.String(validate=validate.Length(max=LONG), load_default="")


class CompleteIn(ma.Schema):
    BODY_OPTIONAL = True  # see hub.extensions.HubParser

    outcome = fields.String(validate=validate.Length(max=LONG), load_default="")


class EmptyIn(ma.Schema):
    """No fields: the body may be left out, or be ``{}``."""

    BODY_OPTIONAL = True


class MessageIn(ma.Schema):
    body = fields.String(validate=validate.Length(min=1, max=LONG), **required("Write a message"))


class ReferralPersonOut(ma.Schema):
    """The woman referred, shown only when the referral shares ``identity`` (to a partner,
    and only while its basis is valid) or to our own staff."""

    id = fields.Integer()
    reference = fields.String()
    given_name = fields.String()
    family_name = fields.String()
    date_of_birth = fields.Date(allow_none=True)


class ReferralOut(ma.Schema):
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
    data_categories = fields.List(fields.String())
    urgency = fields.Enum(Urgency, by_value=True)
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


class ReferralEventOut(ma.Schema):
    id = fields.Integer()
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    actor_kind = fields.String()
    actor_agency_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    at = fields.DateTime()


class MessageOut(ma.Schema):
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
