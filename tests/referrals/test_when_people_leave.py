"""Open referrals move when people leave, on either side."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from agencies import services as directory
from agencies.models import AgencyKind
from consent import services as consent
from consent.models import ConsentMethod
from hub.db import db
from hub.notifications.models import Notification
from hub.permissions import Role
from referrals import services
from referrals.models import Referral
from tests.helpers import make_agency, make_contact, make_user, post_form, sign_in


def _sent(staff, agency, contact=None):
    person = consent.create_service_user(staff, {"given_name": "Bea", "family_name": "Sample"})
    consent.record_consent(
        staff,
        person,
        {
            "agency_id": agency.id,
            "purposes": ["referral"],
            "data_categories": ["identity"],
            "method": ConsentMethod.WRITTEN,
            "given_on": dt.date.today(),
        },
    )
    referral = services.create_referral(
        staff,
        {
            "service_user_id": person.id,
            "agency_id": agency.id,
            "data_categories": ["identity"],
            "reason": "Support on release",
            "contact_id": contact.id if contact else None,
        },
    )
    return services.send_referral(staff, referral)


def test_addressed_to_the_named_contact_else_successor_else_key_contact_else_leads():
    staff = make_user(Role.PRACTITIONER)
    agency = make_agency(AgencyKind.HOUSING)
    named, successor, key = (make_contact(agency, name=n) for n in ("Nia Named", "Sol Successor", "Kit Key"))
    agency.key_contact_id = key.id
    lead = make_user(Role.PARTNER_LEAD, agency=agency)
    assert _sent(staff, agency, named).recipient_contact_id == named.id
    directory.record_leaver(staff, named, left_on=dt.date.today(), successor_id=successor.id)
    assert _sent(staff, agency, named).recipient_contact_id == successor.id  # never to someone who has left
    directory.record_leaver(staff, successor, left_on=dt.date.today())
    assert _sent(staff, agency, named).recipient_contact_id == key.id
    directory.record_leaver(staff, key, left_on=dt.date.today())
    referral = _sent(staff, agency, named)
    assert referral.recipient_contact_id is None
    told = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "referral.received").order_by(Notification.id)
    ).all()
    assert told[-1].user_id == lead.id


def test_open_referrals_follow_a_leaver_to_their_successor():
    staff = make_user(Role.PRACTITIONER)
    agency = make_agency(AgencyKind.PROBATION)
    named, successor = make_contact(agency, name="Ola Old"), make_contact(agency, name="Noa New")
    referral = _sent(staff, agency, named)
    directory.record_leaver(staff, named, left_on=dt.date.today(), successor_id=successor.id)
    assert referral.recipient_contact_id == successor.id
    moved = db.session.scalars(sa.select(Notification).where(Notification.kind == "referral.readdressed")).one()
    assert moved.email == successor.email


def test_staff_offboarding_hands_over_the_referrals_they_sent(client):
    manager = make_user(Role.MANAGER)
    leaver = make_user(Role.PRACTITIONER, name="Lee Leaving")
    taker = make_user(Role.PRACTITIONER, name="Tam Taker")
    agency = make_agency(AgencyKind.HOUSING)
    referral = _sent(leaver, agency)
    sign_in(client, manager)
    response = post_form(client, f"/staff/{leaver.id}/offboard", {"default_user_id": str(taker.id)})
    assert response.status_code == 302
    pack = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Open referrals they sent" in pack and referral.reference in pack
    assert db.session.get(Referral, referral.id).sender_user_id == taker.id


def test_an_unreachable_recipient_falls_back_to_the_partner_leads():
    staff = make_user(Role.PRACTITIONER)
    agency = make_agency(AgencyKind.HOUSING)
    no_email = make_contact(agency, name="Nell Noemail", email="")
    lead = make_user(Role.PARTNER_LEAD, agency=agency)
    referral = _sent(staff, agency, no_email)
    assert referral.recipient_contact_id == no_email.id
    told = db.session.scalars(sa.select(Notification).where(Notification.kind == "referral.received")).all()
    assert [n.user_id for n in told] == [lead.id]
