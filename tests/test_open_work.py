"""The open-work contract (``hub.work``): after a partner contact leaves, and
after one of our staff is offboarded, every package's provider finds 0 items
still held by the leaver, and the leaver has lost access.

The test gives the leaver something to hold in every package that registers a
provider, and fails if a package registers one this test does not feed: a
package that joins the contract joins this test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from agencies import services as directory
from agencies.models import AgencyKind, Contact
from agencies.work import DirectoryWork
from consent import services as consent_services
from consent.models import ConsentMethod, ServiceUser
from consent.work import CaseloadWork
from forum import services as forum
from forum.models import Forum, ForumAction, ForumMember
from forum.work import ForumWork
from hub import work
from hub.auth.models import User
from hub.db import db, today
from hub.permissions import Conflict, Invalid, Role
from referrals import services as referrals
from referrals.models import Referral
from referrals.work import ReferralWork
from releases import services as releases
from releases.models import CustodyEpisode, PlanItem
from releases.work import ReleaseWork
from rota import services as rota
from rota.models import RotaCommitment, RotaSlot, Service, SlotStatus
from rota.work import RotaWork
from tests.helpers import make_agency, make_contact, make_user, post_form, sign_in

FED = {DirectoryWork, CaseloadWork, ReferralWork, ReleaseWork, RotaWork, ForumWork}


def test_every_registered_provider_is_fed_by_these_tests(app: Any) -> None:
    with app.app_context():
        registered = {type(p) for p in work.providers()}
    assert registered == FED, f"a package joined the open-work contract: give its leaver work here ({registered})"


def _woman(staff: User, agency_id: int, categories: list[str]) -> ServiceUser:
    person = consent_services.create_service_user(staff, {"given_name": "Wren", "family_name": "Example"})
    consent_services.record_consent(
        staff,
        person,
        {
            "agency_id": agency_id,
            "purposes": ["referral"],
            "data_categories": categories,
            "method": ConsentMethod.VERBAL,
            "given_on": today(),
        },
    )
    return person


def _referral(staff: User, person: ServiceUser, agency_id: int, contact_id: int | None, send: bool) -> Referral:
    referral = referrals.create_referral(
        staff,
        {
            "service_user_id": person.id,
            "agency_id": agency_id,
            "contact_id": contact_id,
            "data_categories": ["housing"],
            "reason": "Needs a tenancy",
        },
    )
    if send:
        referrals.send_referral(staff, referral)
    return referral


def _custody(staff: User, person: ServiceUser, probation_contact_id: int | None = None) -> CustodyEpisode:
    prison = make_agency(AgencyKind.PRISON)
    return releases.record_custody(
        staff,
        person,
        {"prison_agency_id": prison.id, "custody_type": "remand", "release_type": "bail",
         "nominal_release_on": today() + dt.timedelta(days=60), "probation_contact_id": probation_contact_id},
    )  # fmt: skip


def _plan_item(staff: User, custody: CustodyEpisode, **data: Any) -> PlanItem:
    return releases.add_plan_item(staff, custody, {"pathway": "health", "title": "Register with a GP", **data})


def _rota(agency: Any, contact_id: int | None) -> tuple[RotaSlot, RotaCommitment]:
    """A drop-in slot next week that the contact attends, and a standing commitment naming them."""
    manager = make_user(Role.MANAGER)
    session = rota.create_session(manager, {"date": today() + dt.timedelta(days=7), "starts_at": dt.time(10),
                                            "ends_at": dt.time(14), "venue": "Example Hall"})  # fmt: skip
    slot = rota.add_slot(manager, session, Service.HOUSING)
    rota.take_slot(manager, slot, agency.id, contact_id)
    commitment = rota.create_commitment(manager, {"agency_id": agency.id, "service": Service.HOUSING,
                                                  "contact_id": contact_id, "starts_on": today()})  # fmt: skip
    return slot, commitment


def _forum(agency: Any, contact_id: int | None, chair: User | None = None) -> tuple[ForumMember, ForumAction]:
    """A forum the agency belongs to (the contact its representative), chaired by ``chair``, and an open
    action of a meeting that the contact owns."""
    manager = make_user(Role.MANAGER)
    found = forum.create_forum(manager, {"name": "Example Forum", "member_agency_ids": [],
                                         "chair_user_id": chair.id if chair else None})  # fmt: skip
    member = forum.set_member(manager, found, agency.id, {"representative_contact_id": contact_id})
    meeting = forum.schedule_meeting(manager, found, {"starts_at": dt.datetime.combine(
        today() + dt.timedelta(days=14), dt.time(10), tzinfo=dt.UTC)})  # fmt: skip
    action = forum.add_action(manager, meeting, {"text": "Assess for housing", "agency_id": agency.id,
                                                 "owner_contact_id": contact_id,
                                                 "due_on": today() + dt.timedelta(days=21)})  # fmt: skip
    return member, action


# A partner contact leaves -----------------------------------------------------------------------


@pytest.mark.parametrize("successor", [True, False], ids=["with-successor", "no-successor"])
def test_a_contact_who_leaves_holds_nothing_and_their_work_moves(successor: bool) -> None:
    staff = make_user(Role.PRACTITIONER)
    agency = make_agency(AgencyKind.PROBATION)
    leaver_account = make_user(Role.PARTNER_LEAD, agency, name="Lou Leaver")
    leaver = db.session.scalar(sa.select(Contact).where(Contact.user_id == leaver_account.id))
    deputy = make_contact(agency, name="Dee Deputy")
    next_one = make_contact(agency, name="Nat Next")
    agency.key_contact_id, agency.deputy_contact_id = leaver.id, deputy.id
    person = _woman(staff, agency.id, ["housing"])
    sent = _referral(staff, person, agency.id, leaver.id, send=True)
    acknowledged = _referral(staff, person, agency.id, leaver.id, send=True)
    referrals.acknowledge_referral(leaver_account, acknowledged)
    custody = _custody(staff, person, probation_contact_id=leaver.id)  # the leaver is her probation practitioner
    item = _plan_item(staff, custody, agency_id=agency.id, contact_id=leaver.id)
    slot, commitment = _rota(agency, leaver.id)
    member, action = _forum(agency, leaver.id)
    assert {i.key.split(":")[0] for i in work.held_by_contact(leaver.id)} == {
        "agency-role", "referral", "plan_item", "custody", "rota_slot", "rota_commitment", "forum_action",
        "forum_member",
    }  # fmt: skip

    takeover = directory.record_leaver(staff, leaver, left_on=today(), successor_id=next_one.id if successor else None)

    assert work.held_by_contact(leaver.id) == []
    expected = next_one if successor else deputy  # no successor: the deputy becomes key contact and takes over
    assert takeover is not None and takeover.id == expected.id
    db.session.expire_all()
    for referral_id in (sent.id, acknowledged.id):
        assert db.session.get(Referral, referral_id).recipient_contact_id == expected.id
    assert db.session.get(PlanItem, item.id).contact_id == expected.id
    assert db.session.get(CustodyEpisode, custody.id).probation_contact_id == expected.id
    assert db.session.get(RotaSlot, slot.id).contact_id == expected.id
    assert db.session.get(RotaCommitment, commitment.id).contact_id == expected.id
    assert db.session.get(ForumAction, action.id).owner_contact_id == expected.id
    assert db.session.get(ForumMember, member.id).representative_contact_id == expected.id
    assert db.session.get(User, leaver_account.id).disabled_at is not None


def test_a_contact_who_leaves_with_nobody_to_take_over_leaves_the_work_with_the_agency() -> None:
    staff = make_user(Role.PRACTITIONER)
    agency = make_agency(AgencyKind.PROBATION)
    lone = make_contact(agency, name="Solo")
    agency.key_contact_id = lone.id
    person = _woman(staff, agency.id, ["housing"])
    referral = _referral(staff, person, agency.id, lone.id, send=True)
    custody = _custody(staff, person, probation_contact_id=lone.id)
    item = _plan_item(staff, custody, agency_id=agency.id, contact_id=lone.id)
    slot, _commitment = _rota(agency, None)  # nobody named: their key contact comes
    member, action = _forum(agency, lone.id)

    assert directory.record_leaver(staff, lone, left_on=today()) is None

    assert work.held_by_contact(lone.id) == []
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).recipient_contact_id is None  # the agency's partner leads
    assert db.session.get(PlanItem, item.id).contact_id is None  # the item names the agency alone
    assert db.session.get(CustodyEpisode, custody.id).probation_contact_id is None
    reopened = db.session.get(RotaSlot, slot.id)
    assert (reopened.status, reopened.agency_id) == (SlotStatus.OPEN, None)  # nobody left to come: a gap again
    assert db.session.get(ForumAction, action.id).owner_contact_id is None  # the action stays with the agency
    assert db.session.get(ForumMember, member.id).representative_contact_id is None


# One of our staff leaves -------------------------------------------------------------------------


def _leaver_with_work() -> tuple[User, User, User, dict[str, Any]]:
    manager = make_user(Role.MANAGER)
    leaver = make_user(Role.PRACTITIONER, name="Lee Leaver")
    taker = make_user(Role.PRACTITIONER, name="Tay Taker")
    agency = make_agency(AgencyKind.PROBATION, relationship_owner_id=leaver.id)
    known = make_contact(agency, known_by_id=leaver.id)
    agency.key_contact_id = known.id
    person = _woman(leaver, agency.id, ["housing"])
    assert person.key_worker_id == leaver.id
    draft = _referral(leaver, person, agency.id, None, send=False)
    sent = _referral(leaver, person, agency.id, None, send=True)
    item = _plan_item(leaver, _custody(leaver, person), owner_user_id=leaver.id)
    member, _action = _forum(make_agency(AgencyKind.HOUSING), None, chair=leaver)
    held = {i.key for i in work.held_by_staff(leaver.id)}
    assert held == {
        f"agency:{agency.id}",
        f"contact:{known.id}",
        f"service_user:{person.id}",
        f"referral:{draft.id}",
        f"referral:{sent.id}",
        f"plan_item:{item.id}",
        f"forum_chair:{member.forum_id}",
    }
    return manager, leaver, taker, {"agency": agency, "person": person, "draft": draft, "sent": sent, "item": item,
                                    "forum_id": member.forum_id}  # fmt: skip


def test_offboarding_hands_every_item_over_and_closes_the_account(client: Any) -> None:
    manager, leaver, taker, held = _leaver_with_work()
    sign_in(client, manager)
    form = client.get(f"/staff/{leaver.id}/offboard").get_data(as_text=True)
    for section in (
        "Agencies they lead",
        "Contacts they know",
        "Women they are key worker for",
        "Open referrals they sent",
        "Release plan items they own",
        "Forums they chair",
    ):
        assert section in form
    assert "Wren" not in form  # the handover names women by reference only

    response = post_form(client, f"/staff/{leaver.id}/offboard", {"default_user_id": str(taker.id)})
    assert response.status_code == 302
    assert work.held_by_staff(leaver.id) == []
    db.session.expire_all()
    assert db.session.get(ServiceUser, held["person"].id).key_worker_id == taker.id
    for name in ("draft", "sent"):
        referral = db.session.get(Referral, held[name].id)
        assert (referral.sender_user_id, referral.handed_over_from_id) == (taker.id, leaver.id)
    assert db.session.get(PlanItem, held["item"].id).owner_user_id == taker.id
    assert db.session.get(Forum, held["forum_id"]).chair_user_id == taker.id
    pack = client.get(response.headers["Location"]).get_data(as_text=True)
    assert held["sent"].reference in pack and held["person"].reference in pack and "Tay Taker" in pack
    custody = db.session.get(CustodyEpisode, held["item"].custody_id)
    assert f"{custody.reference}: Register with a GP" in pack  # by the custody reference, never her name

    done = post_form(client, f"{response.headers['Location']}/complete", {}, token_from=response.headers["Location"])
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, leaver.id).disabled_at is not None


def test_offboarding_without_a_default_needs_a_taker_for_every_item_and_changes_nothing(client: Any) -> None:
    """The case the architecture review found: every relationship assigned, no default,
    and the leaver's open referral stayed with the closed account."""
    manager, leaver, taker, held = _leaver_with_work()
    contact_id = held["agency"].key_contact_id
    with pytest.raises(Invalid) as refused:
        directory.offboard_staff(
            manager, leaver, {f"agency:{held['agency'].id}": taker.id, f"contact:{contact_id}": taker.id}, None
        )
    assert set(refused.value.errors) == {
        f"service_user-{held['person'].id}",
        f"referral-{held['draft'].id}",
        f"referral-{held['sent'].id}",
        f"plan_item-{held['item'].id}",
        f"forum_chair-{held['forum_id']}",
    }
    assert len(work.held_by_staff(leaver.id)) == 7  # nothing moved

    sign_in(client, manager)
    page = post_form(
        client,
        f"/staff/{leaver.id}/offboard",
        {f"agency-{held['agency'].id}": str(taker.id), f"contact-{contact_id}": str(taker.id)},
    )
    assert page.status_code == 422
    assert "Choose who takes this over" in page.get_data(as_text=True)
    assert len(work.held_by_staff(leaver.id)) == 7

    takers = {item.key: taker.id for item in work.held_by_staff(leaver.id)}
    directory.offboard_staff(manager, leaver, takers, None)
    assert work.held_by_staff(leaver.id) == []


def test_the_account_stays_open_while_the_leaver_still_holds_anything() -> None:
    manager, leaver, taker, held = _leaver_with_work()
    handover = directory.offboard_staff(manager, leaver, {}, taker.id)
    # Something new lands on them after the handover was made.
    late = _referral(leaver, held["person"], held["agency"].id, None, send=False)
    with pytest.raises(Conflict):
        directory.complete_offboarding(manager, handover)
    assert db.session.get(User, leaver.id).disabled_at is None
    directory.offboard_staff(manager, leaver, {f"referral:{late.id}": taker.id}, None)
    directory.complete_offboarding(manager, handover)
    assert db.session.get(User, leaver.id).disabled_at is not None
    assert work.held_by_staff(leaver.id) == []


def test_a_manager_cannot_close_an_administrators_account(client: Any) -> None:
    """L4: only an administrator hands over (and so closes) an administrator's account."""
    manager = make_user(Role.MANAGER)
    admin = make_user(Role.ADMIN)
    sign_in(client, manager)
    assert client.get(f"/staff/{admin.id}/offboard").status_code == 403
    refused = post_form(
        client, f"/staff/{admin.id}/offboard", {"default_user_id": str(manager.id)}, token_from="/staff"
    )
    assert refused.status_code == 403
    sign_in(client, make_user(Role.ADMIN))
    assert client.get(f"/staff/{admin.id}/offboard").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, admin.id).disabled_at is None
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Contact).where(Contact.known_by_id == admin.id)) == 0
    )


def test_leaving_dates_are_checked_before_any_work_moves() -> None:
    agency = make_agency()
    contact = make_contact(agency)
    with pytest.raises(Invalid):
        directory.record_leaver(make_user(Role.PRACTITIONER), contact, left_on=today() + dt.timedelta(days=400))
    assert contact.is_active
