"""Retention of a partner's view: a closed referral (completed, declined or cancelled) shows the partner
her details for HUB_RETENTION_PARTNER_VIEW_DAYS after it closed (30), then no longer, though her consent
still stands; an open referral is not affected; our staff still see it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient

from agencies.models import AgencyKind
from hub.db import db, utcnow
from hub.permissions import Role
from referrals import queries
from referrals.states import Status
from tests.helpers import bearer, make_agency, make_client, make_user, sign_in
from tests.reports.world import consent, referral, woman


def _scene(status: Status, closed_days_ago: int | None) -> dict[str, Any]:
    agency = make_agency(AgencyKind.HOUSING, name="Retention Housing")
    person = woman("Rowan")
    consent(person, agency, (dt.date.today() - dt.timedelta(days=60)).isoformat())
    found = referral(person, agency, utcnow() - dt.timedelta(days=90), status=status,
                     acknowledged_at=utcnow() - dt.timedelta(days=89))  # fmt: skip
    if closed_days_ago is not None:
        found.closed_at = utcnow() - dt.timedelta(days=closed_days_ago)
    found.data_categories = ["identity"]
    partner = make_user(Role.PARTNER_LEAD, agency)
    db.session.commit()
    return {"agency": agency, "person": person, "referral": found, "partner": partner}


@pytest.mark.parametrize(("status", "days", "seen"), [
    (Status.COMPLETED, 29, True), (Status.COMPLETED, 31, False), (Status.DECLINED, 31, False),
    (Status.CANCELLED, 31, False), (Status.DECLINED, 0, True), (Status.IN_PROGRESS, None, True),
])  # fmt: skip
def test_a_partner_sees_a_closed_referral_only_while_its_retention_lasts(
    client: FlaskClient, app: Any, status: Status, days: int | None, seen: bool
) -> None:
    s = _scene(status, days)
    assert queries.details_visible(s["partner"], s["referral"]).visible is seen
    assert queries.details_visible(make_user(Role.PRACTITIONER), s["referral"]).visible  # our staff still do
    sign_in(client, s["partner"])
    page = client.get(f"/referrals/{s['referral'].id}").get_data(as_text=True)
    assert ("Rowan" in page) is seen
    inbox = client.get("/inbox").get_data(as_text=True)
    assert ("Rowan" in inbox) is seen
    system, secret = make_client(s["agency"], "referrals:read")
    db.session.commit()
    body = client.get(f"/api/v1/referrals/{s['referral'].id}", headers=bearer(client, system, secret)).json
    assert (body["reason"] is not None) is seen and (body["service_user"] is not None) is seen
