"""Erasure and restriction at her request, by a manager with a reason: restriction keeps her record but stops
all sharing at once (her referral is held, the partner no longer sees her, nothing new may be shared);
erasure removes her personal data everywhere; both tell every agency that was given who she is, without
details; a legal hold refuses erasure; bad input and the wrong person change nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from agencies.models import AgencyKind
from consent import services as consent
from consent.models import ConsentMethod, ServiceUser
from hub.audit import AuditEvent
from hub.db import db
from hub.notifications.models import Notification
from hub.permissions import Conflict, Denied, Invalid, Role
from referrals import queries as referral_queries
from referrals import services as referrals
from referrals.models import Referral
from referrals.states import Status
from tests.helpers import make_agency, make_contact, make_user, post_form, sign_in


@pytest.fixture
def scene(app: Any) -> dict[str, Any]:
    staff = make_user(Role.PRACTITIONER)
    manager = make_user(Role.MANAGER)
    agency = make_agency(AgencyKind.HOUSING, name="Request Housing")
    agency.key_contact_id = make_contact(agency, name="Kit Key").id
    lead = make_user(Role.PARTNER_LEAD, agency)
    person = consent.create_service_user(staff, {"given_name": "Odile", "family_name": "Zanzibarre"})
    consent.record_consent(staff, person, {"agency_id": agency.id, "purposes": ["referral"],
                                           "data_categories": ["identity", "housing"], "method": ConsentMethod.VERBAL,
                                           "given_on": dt.date.today()})  # fmt: skip
    draft = referrals.create_referral(staff, {"service_user_id": person.id, "agency_id": agency.id,
                                              "data_categories": ["identity", "housing"],
                                              "reason": "Odile Zanzibarre needs a safe place"})  # fmt: skip
    sent = referrals.send_referral(staff, draft)
    db.session.commit()
    return {"staff": staff, "manager": manager, "agency": agency, "lead": lead, "person": person, "referral": sent}


def _told(kind: str = "service_user.on_request") -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(Notification.kind == kind)))


def test_restriction_stops_all_sharing_and_tells_the_agency(scene: dict[str, Any]) -> None:
    s = scene
    assert referral_queries.details_visible(s["lead"], s["referral"]).visible
    assert consent.restrict_on_request(s["manager"], s["person"], "She asked us to stop sharing") == 1
    db.session.commit()
    db.session.expire_all()
    referral = db.session.get_one(Referral, s["referral"].id)
    assert referral.status is Status.ON_HOLD and not referral_queries.details_visible(s["lead"], referral).visible
    told = _told()
    assert [n.user_id for n in told] == [s["lead"].id]
    assert "Odile" not in told[0].body + told[0].subject and s["person"].reference in told[0].body
    with pytest.raises(Conflict):
        consent.record_consent(s["staff"], s["person"], {
            "agency_id": s["agency"].id, "purposes": ["referral"], "data_categories": ["identity"],
            "method": ConsentMethod.VERBAL, "given_on": dt.date.today()})  # fmt: skip
    entry = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "service_user.restricted")).one()
    assert entry.data["reason"] == "She asked us to stop sharing"


def test_erasure_removes_her_everywhere_and_tells_the_agency(scene: dict[str, Any]) -> None:
    s = scene
    reference = s["person"].reference
    assert consent.erase_on_request(s["manager"], s["person"], "Her request under Article 17") == 1
    db.session.commit()
    columns = (ServiceUser.given_name, ServiceUser.family_name, ServiceUser.reference, ServiceUser.erased_at)
    row = db.session.execute(sa.select(*columns).where(ServiceUser.id == s["person"].id)).one()
    assert row[0] == "" and row[1] == "" and row[2] != reference and row[3] is not None
    assert db.session.scalar(sa.select(Referral.reason).where(Referral.id == s["referral"].id)) == ""
    told = _told()
    assert len(told) == 1 and "Odile" not in told[0].body and "erase" in told[0].body
    entry = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "service_user.erased_on_request")
                               ).one()  # fmt: skip
    assert entry.data["reason"] == "Her request under Article 17" and "Odile" not in json.dumps(entry.data)


def test_a_legal_hold_refuses_erasure_and_nothing_changes(scene: dict[str, Any]) -> None:
    s = scene
    consent.place_legal_hold(s["manager"], s["person"], "Court order")
    with pytest.raises(Conflict):
        consent.erase_on_request(s["manager"], s["person"], "Her request")
    with pytest.raises(Invalid):
        consent.restrict_on_request(s["manager"], s["person"], "  ")
    with pytest.raises(Denied):
        consent.erase_on_request(s["staff"], s["person"], "Her request")
    db.session.rollback()
    assert db.session.scalar(sa.select(ServiceUser.given_name).where(ServiceUser.id == s["person"].id)) == "Odile"
    assert _told() == []


def test_the_page_offers_it_to_managers_only(client: FlaskClient, scene: dict[str, Any]) -> None:
    s = scene
    sign_in(client, s["staff"])
    assert "Erase her personal data" not in client.get(f"/service-users/{s['person'].id}").get_data(as_text=True)
    assert post_form(client, f"/service-users/{s['person'].id}/erase", {"reason": "x"},
                     token_from=f"/service-users/{s['person'].id}").status_code == 403  # fmt: skip
    sign_in(client, s["manager"])
    page = client.get(f"/service-users/{s['person'].id}").get_data(as_text=True)
    assert "Erase her personal data" in page and "Restrict her record" in page
    done = post_form(client, f"/service-users/{s['person'].id}/restrict", {"reason": "She asked"})
    assert done.status_code == 302
    assert "Restricted" in client.get(f"/service-users/{s['person'].id}").get_data(as_text=True)


def test_after_erasure_no_message_keeps_her_reference(scene: dict[str, Any]) -> None:
    """A restriction (or a correction) told agencies her hub reference; erasing her takes it out of those
    messages, and the erasure notice itself names the days she was shared, never her."""
    s = scene
    reference = s["person"].reference
    consent.restrict_on_request(s["manager"], s["person"], "She asked")
    assert any(reference in n.body for n in _told())
    consent.erase_on_request(s["manager"], s["person"], "Then she asked us to erase it")
    db.session.commit()
    db.session.expire_all()
    bodies = [(n.subject, n.body) for n in _told()]
    assert len(bodies) == 2 and not any(reference in subject + body for subject, body in bodies)
    assert any(dt.date.today().strftime("%-d %B %Y") in body for _, body in bodies)
