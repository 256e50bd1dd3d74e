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
    """The woman referred, as the referral shares her: names and date of birth
    only if ``identity`` is among its data categories."""

    id = fields.Integer()
    reference = fields.String()
    given_name = fields.String()
    family_name = fields.String()
    date_of_birth = fields.Date(allow_none=True)


class ReferralOut(ma.Schema):
    """What every party sees. ``service_user`` and ``reason`` are filled only for
    viewers with a valid basis (see :func:`view`), else null with
    ``details_available`` false."""

    id = fields.Integer()
    reference = fields.String()
    status = fields.Enum(Status, by_value=True)
    agency_id = fields.Integer()
    service_user_id = fields.Integer()
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


_DETAILS = {"reason", "service_user", "details_available"}
_PLAIN = [field.attribute or name for name, field in ReferralOut().fields.items() if name not in _DETAILS]


def view(referral: Any, details_visible: bool | None) -> dict[str, Any]:
    """A referral as one viewer may see it, read eagerly (so it can be dumped
    after the commit without touching the session). ``details_visible`` comes
    from :func:`referrals.services.details_for`, which also logs the view; None
    (in lists) means "not looked at": no details, and no disclosure logged."""
    out = {name: getattr(referral, name) for name in _PLAIN}
    out.update(details_available=details_visible, reason=None, service_user=None)
    if details_visible:
        person = referral.service_user
        shared: dict[str, Any] = {"id": person.id, "reference": person.reference}
        if DataCategory.IDENTITY.value in referral.data_categories:
            shared.update(
                given_name=person.given_name, family_name=person.family_name, date_of_birth=person.date_of_birth
            )
        out.update(reason=referral.reason, service_user=shared)
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
