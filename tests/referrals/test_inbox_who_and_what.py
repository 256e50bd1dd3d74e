"""The partner inbox and notifications say who and what a referral is about, only as far as her
consent allows now, and each time they do is recorded; opening or acting on a referral clears the
notifications about it."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from consent import services as consent
from consent.models import ConsentRecord, Disclosure
from hub.db import db
from hub.notifications.models import Notification
from hub.permissions import Role
from referrals import services
from tests.consent.test_pages import fresh, text_of
from tests.helpers import csrf_token, make_contact, make_user, sign_in
from tests.referrals.test_pages import _consent, _sent, build_world

TODAY = dt.date.today()


@pytest.fixture
def world():
    return build_world()


def _list_views(agency_id: int) -> list[Disclosure]:
    return list(
        db.session.scalars(
            sa.select(Disclosure).where(Disclosure.agency_id == agency_id, Disclosure.context == "referral_list")
        )
    )


def _person(staff, given: str, family: str):
    return consent.create_service_user(staff, {"given_name": given, "family_name": family})


def test_her_name_and_what_is_asked_show_only_under_a_valid_basis_and_each_showing_is_logged(client, world):
    practitioner, agency, officer, person = world
    _consent(practitioner, person, agency)
    named = _sent(practitioner, person, agency)  # shares identity, consent valid
    other = _person(practitioner, "Bea", "Nameless")
    _consent(practitioner, other, agency, categories=("criminal_justice",))
    unnamed = _sent(practitioner, other, agency, categories=("criminal_justice",))  # no identity
    third = _person(practitioner, "Cora", "Withdrawn")
    withdrawn_consent = _consent(practitioner, third, agency)
    withdrawn = _sent(practitioner, third, agency)
    consent.withdraw_consent(practitioner, fresh(withdrawn_consent), "She changed her mind")

    sign_in(client, officer)
    page = text_of(client.get("/inbox"))
    assert "Ann Example" in page  # identity shared, consent valid now
    assert "Induction appointment after release" in page  # what is asked, under a valid basis
    assert "Bea" not in page and "Nameless" not in page  # this referral does not share identity
    assert "Cora" not in page and "Withdrawn" not in page  # her consent ended: nothing of her
    assert page.count("Details not shared") >= 2  # the unnamed one's name; the withdrawn one's name and request
    for referral in (named, unnamed, withdrawn):
        assert referral.reference in page

    logged = _list_views(agency.id)
    assert sorted(d.context_id for d in logged) == sorted([named.id, unnamed.id])  # one row a referral shown
    assert all(d.actor_id == officer.id and d.kind.value == "viewed" for d in logged)
    assert {d.service_user_id for d in logged} == {person.id, other.id}

    client.get("/inbox")
    assert len(_list_views(agency.id)) == 4  # every view is a disclosure, in one row per referral shown


def test_after_her_consent_has_expired_the_inbox_shows_nothing_of_her(client, world):
    practitioner, agency, officer, person = world
    _consent(practitioner, person, agency)
    referral = _sent(practitioner, person, agency)
    # The consent has ended by date since the referral was sent.
    record = db.session.scalars(sa.select(ConsentRecord).where(ConsentRecord.service_user_id == person.id)).one()
    record.expires_on = TODAY - dt.timedelta(days=1)
    record.given_on = TODAY - dt.timedelta(days=30)
    db.session.flush()
    sign_in(client, officer)
    page = text_of(client.get("/inbox"))
    assert referral.reference in page and "Ann Example" not in page and "Induction appointment" not in page
    assert _list_views(agency.id) == []


def test_the_notifications_page_says_who_and_what_under_the_same_rule(client, world):
    practitioner, agency, officer, person = world
    _consent(practitioner, person, agency)
    referral = _sent(practitioner, person, agency)  # tells the officer (the agency's key contact)
    sign_in(client, officer)
    page = text_of(client.get("/notifications"))
    assert f"New referral {referral.reference}" in page or referral.reference in page
    assert "About Ann Example: Induction appointment after release" in page
    logged = list(db.session.scalars(sa.select(Disclosure).where(Disclosure.context == "referral_list")))
    assert {d.context_id for d in logged} == {referral.id}

    # The practitioner who sent it sees her name in their own notifications, without a disclosure.
    services.acknowledge_referral(fresh(officer), fresh(referral))
    db.session.flush()
    sign_in(client, practitioner)
    assert "About Ann Example" in text_of(client.get("/notifications"))


def _unread(user_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def test_opening_a_referral_marks_its_notifications_read_and_acting_clears_the_agencys(client, world):
    practitioner, agency, officer, person = world
    colleague = make_user(Role.PARTNER_LEAD, agency=agency, linked=False, name="Lee Lead")
    make_contact(agency, name="Lee Lead", user_id=colleague.id)
    _consent(practitioner, person, agency)
    referral = _sent(practitioner, person, agency)
    other = _sent(practitioner, person, agency)
    # Tell the lead too, as the leads fallback would.
    from hub.notifications.services import notify

    for r in (referral, other):
        notify(user=fresh(colleague), kind="referral.sent", subject=f"New referral {r.reference}", body="b",
               link=f"/referrals/{r.id}")  # fmt: skip
    db.session.flush()
    assert _unread(officer.id) == 2 and _unread(colleague.id) == 2

    sign_in(client, officer)
    client.get(f"/referrals/{referral.id}")
    assert _unread(officer.id) == 1  # the one she opened is read; the other still waits
    assert _unread(colleague.id) == 2  # opening it reads only her own

    token = csrf_token(client, f"/referrals/{referral.id}")
    response = client.post(f"/referrals/{referral.id}/actions/acknowledge", data={"csrf_token": token})
    assert response.status_code in (200, 302), response.status_code
    assert _unread(colleague.id) == 1  # acknowledged by her agency: nobody there waits on it any more
    staff_unread = _unread(practitioner.id)
    assert staff_unread >= 1  # the sender is told, and that stays unread until she looks
