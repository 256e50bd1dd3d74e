"""The core of a consent-gated referral, through the services."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from agencies.models import AgencyKind
from consent import services as consent
from consent.models import ConsentMethod, Disclosure, DisclosureKind
from hub.db import db
from hub.permissions import Conflict, Invalid, Role
from referrals import services
from referrals.states import Status
from tests.helpers import make_agency, make_contact, make_user


@pytest.fixture
def world():
    staff = make_user(Role.PRACTITIONER)
    agency = make_agency(AgencyKind.PROBATION)
    key = make_contact(agency, name="Kay Key")
    agency.key_contact_id = key.id
    partner = make_user(Role.PARTNER, agency=agency)
    person = consent.create_service_user(staff, {"given_name": "Ann", "family_name": "Example"})
    return staff, agency, key, partner, person


def _consent(staff, person, agency, categories=("identity", "housing")):
    return consent.record_consent(
        staff,
        person,
        {
            "agency_id": agency.id,
            "purposes": ["referral"],
            "data_categories": list(categories),
            "method": ConsentMethod.VERBAL,
            "given_on": dt.date.today(),
        },
    )


def _draft(staff, person, agency, categories=("identity", "housing")):
    return services.create_referral(
        staff,
        {
            "service_user_id": person.id,
            "agency_id": agency.id,
            "data_categories": list(categories),
            "reason": "Needs housing on release",
        },
    )


def test_send_needs_a_basis_and_reports_what_is_missing(world):
    staff, agency, _key, _partner, person = world
    referral = _draft(staff, person, agency)
    with pytest.raises(Invalid) as refused:
        services.send_referral(staff, referral)
    assert refused.value.extra["missing"]["agency"]
    _consent(staff, person, agency, categories=("identity",))
    with pytest.raises(Invalid) as refused:
        services.send_referral(staff, referral)
    assert refused.value.extra["missing"]["data_categories"] == ["housing"]
    assert referral.status is Status.DRAFT


def test_sent_acknowledged_then_withdrawal_holds_and_hides(world):
    staff, agency, key, partner, person = world
    record = _consent(staff, person, agency)
    referral = services.send_referral(staff, _draft(staff, person, agency))
    assert referral.status is Status.SENT and referral.recipient_contact_id == key.id
    assert referral.acknowledge_by > dt.date.today()
    services.acknowledge_referral(partner, referral)
    assert referral.status is Status.ACKNOWLEDGED and referral.decide_by is not None
    with pytest.raises(Conflict):
        services.acknowledge_referral(partner, referral)
    assert services.open_referral(partner, referral).visible
    consent.withdraw_consent(staff, record, "She changed her mind")
    assert referral.status is Status.ON_HOLD and referral.basis_lost
    assert not services.open_referral(partner, referral).visible
    kinds = [d.kind for d in db.session.scalars(sa.select(Disclosure).order_by(Disclosure.id))]
    assert kinds == [DisclosureKind.SENT, DisclosureKind.VIEWED]


def test_recipient_moves_when_the_contact_leaves(world):
    from agencies import services as directory

    staff, agency, key, _partner, person = world
    other = make_contact(agency, name="Oli Other")
    _consent(staff, person, agency)
    referral = services.send_referral(staff, _draft(staff, person, agency))
    directory.record_leaver(staff, key, left_on=dt.date.today(), successor_id=other.id)
    assert referral.recipient_contact_id == other.id


def test_agency_working_agreement_sets_the_acknowledgement_deadline(world, client):
    from hub.workdays import add_working_days
    from tests.helpers import post_form, sign_in

    staff, agency, _key, _partner, person = world
    manager = make_user(Role.MANAGER)
    sign_in(client, manager)
    response = post_form(client, f"/agencies/{agency.id}/edit", {"acknowledge_days": "4", "decide_days": "10"})
    assert response.status_code == 302, response.get_data(as_text=True)
    from agencies.models import Agency

    agency = db.session.get(Agency, agency.id)
    assert (agency.acknowledge_days, agency.decide_days) == (4, 10)
    _consent(staff, person, agency)
    referral = services.send_referral(staff, _draft(staff, person, agency))
    from hub.db import today

    assert referral.acknowledge_by == add_working_days(today(), 4)


def test_after_withdrawal_a_partner_cannot_read_messages_or_notes(world, client):
    from tests.helpers import bearer, make_client, sign_in

    staff, agency, _key, partner, person = world
    record = _consent(staff, person, agency)
    referral = services.send_referral(staff, _draft(staff, person, agency))
    services.post_message(staff, referral, "She is staying with her sister on Elm Road")
    services.acknowledge_referral(partner, referral)
    consent.withdraw_consent(staff, record, "Changed her mind")
    system, secret = make_client(agency, "referrals:read")
    headers = bearer(client, system, secret)
    response = client.get(f"/api/v1/referrals/{referral.id}/messages", headers=headers)
    assert response.status_code == 200, response.json
    messages = response.json
    assert [m["body"] for m in messages] == [None]
    events = client.get(f"/api/v1/referrals/{referral.id}/events", headers=headers).json
    assert all(e["note"] is None for e in events)
    sign_in(client, partner)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Elm Road" not in page and "1 message hidden" in page


def test_a_safeguarding_decision_past_its_review_date_ends_and_holds_the_referral(world):
    import time_machine

    from consent.models import Art6Basis, Art9Condition, Para18Reason, SafeguardingStatus
    from hub.permissions import SYSTEM

    staff, agency, _key, partner, person = world
    first, second = make_user(Role.MANAGER), make_user(Role.MANAGER)
    decision = consent.decide_safeguarding(
        first,
        person,
        {
            "agency_id": agency.id,
            "purposes": ["referral"],
            "data_categories": ["identity", "housing"],
            "art6_basis": Art6Basis.VITAL_INTERESTS,
            "art9_condition": Art9Condition.SUBSTANTIAL_PUBLIC_INTEREST,
            "para18_reason": Para18Reason.WOULD_PREJUDICE,
            "justification": "Serious and immediate risk of harm from him.",
            "she_was_told": False,
            "not_told_reason": "It would alert him.",
            "review_on": dt.date.today() + dt.timedelta(days=7),
        },
    )
    consent.approve_safeguarding(second, decision)
    referral = services.send_referral(staff, _draft(staff, person, agency))
    assert services.open_referral(partner, referral).visible
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=9), tick=False):
        assert consent.end_unreviewed_decisions(SYSTEM) == 1
        assert consent.end_unreviewed_decisions(SYSTEM) == 0
    assert decision.status is SafeguardingStatus.ENDED
    assert referral.status is Status.ON_HOLD and referral.basis_lost


def test_the_working_days_an_agency_took_are_kept_when_it_acts(world):
    """Sent on Friday 9 January, acknowledged on Monday the 12th (1 working day), accepted on Wednesday the
    14th (2 more): kept on the referral for the reports, by London days."""
    import time_machine

    staff, agency, _key, partner, person = world
    with time_machine.travel(dt.datetime(2026, 1, 9, 16, tzinfo=dt.UTC), tick=False):
        _consent(staff, person, agency)
        referral = services.send_referral(staff, _draft(staff, person, agency))
    assert referral.acknowledge_working_days is None and referral.decide_working_days is None
    with time_machine.travel(dt.datetime(2026, 1, 12, 9, tzinfo=dt.UTC), tick=False):
        services.acknowledge_referral(partner, referral)
    assert referral.acknowledge_working_days == 1 and referral.decide_working_days is None
    with time_machine.travel(dt.datetime(2026, 1, 14, 23, 30, tzinfo=dt.UTC), tick=False):  # GMT: still the 14th
        services.accept_referral(partner, referral)
    db.session.expire_all()
    assert (referral.acknowledge_working_days, referral.decide_working_days) == (1, 2)
