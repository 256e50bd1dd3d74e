"""When people leave: a contact's roles and open work move, their history
stays; a member of staff's relationships are handed over and their account
closed."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from agencies import services
from agencies.models import Agency, Contact, ContactStatus, Handover, Interaction, InteractionKind
from hub.auth.models import AuthSession, User
from hub.db import db
from hub.permissions import SYSTEM, Role
from tests.helpers import make_agency, make_contact, make_user, post_form, sign_in


def _agency_with_team():
    agency = make_agency()
    key, deputy, other = (make_contact(agency, name=n) for n in ("Kim Key", "Dev Deputy", "Ola Other"))
    agency.key_contact_id, agency.deputy_contact_id = key.id, deputy.id
    db.session.flush()
    return agency, key, deputy, other


def _pointers_to(contact_id: int) -> list[str]:
    """Everything that names this contact as a current owner."""
    found = []
    for agency in db.session.scalars(sa.select(Agency)):
        if contact_id in (agency.key_contact_id, agency.deputy_contact_id):
            found.append(f"agency {agency.id}")
    return found


def test_key_contact_leaves_with_successor_through_the_ui(client):
    agency, key, deputy, other = _agency_with_team()
    staff = make_user(Role.PRACTITIONER)
    db.session.add(
        Interaction(
            agency_id=agency.id,
            contact_id=key.id,
            author_id=staff.id,
            kind=InteractionKind.CALL,
            occurred_on=dt.date(2026, 1, 5),
            summary="Agreed Friday release protocol",
        )
    )
    sign_in(client, staff)
    response = post_form(
        client,
        f"/contacts/{key.id}/leave",
        {"left_on": "1/11/2026", "successor_id": str(other.id), "handover_note": "Ask Ola"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    left = db.session.get(Contact, key.id)
    assert left.status is ContactStatus.LEFT and left.left_on == dt.date(2026, 11, 1)
    assert left.successor_id == other.id
    assert _pointers_to(key.id) == []
    agency = db.session.get(Agency, agency.id)
    assert agency.key_contact_id == other.id and agency.deputy_contact_id == deputy.id
    assert agency.roles_to_confirm and "Ola Other became key contact" in agency.roles_to_confirm
    # The agency page asks for confirmation; confirming clears the prompt.
    page = client.get(f"/agencies/{agency.id}").get_data(as_text=True)
    assert "Confirm key contacts" in page
    assert (
        post_form(client, f"/agencies/{agency.id}/confirm-roles", {}, token_from=f"/agencies/{agency.id}").status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).roles_to_confirm is None
    # The successor's page shows whom they took over from, and the history.
    successor_page = client.get(f"/contacts/{other.id}").get_data(as_text=True)
    assert "Took over from" in successor_page and "Kim Key" in successor_page
    assert "Agreed Friday release protocol" in successor_page
    # The leaver's record stays, marked as left, pointing at the successor.
    leaver_page = client.get(f"/contacts/{key.id}").get_data(as_text=True)
    assert "Left on" in leaver_page and "Ola Other" in leaver_page


def test_key_contact_without_successor_hands_role_to_deputy():
    agency, key, deputy, _other = _agency_with_team()
    takeover = services.record_leaver(SYSTEM, key, left_on=dt.date(2026, 11, 1))
    assert agency.key_contact_id == deputy.id and agency.deputy_contact_id is None
    assert takeover.id == deputy.id
    assert _pointers_to(key.id) == []


def test_deputy_leaving_empties_the_deputy_role():
    agency, _key, deputy, _other = _agency_with_team()
    services.record_leaver(SYSTEM, deputy, left_on=dt.date(2026, 11, 1))
    assert agency.deputy_contact_id is None and "no deputy" in agency.roles_to_confirm


def test_without_a_successor_the_key_contact_takes_over_their_work():
    agency, key, _deputy, other = _agency_with_team()
    first = services.record_leaver(SYSTEM, other, left_on=dt.date(2026, 11, 1))  # no successor: key contact takes over
    second = services.record_leaver(SYSTEM, key, left_on=dt.date(2026, 11, 2))  # no successor, deputy promoted
    assert (first.id, second.id) == (key.id, agency.key_contact_id)


def test_successor_must_be_an_active_contact_of_the_same_agency():
    import pytest

    from hub.permissions import Invalid

    _agency, key, _deputy, other = _agency_with_team()
    elsewhere = make_contact(make_agency())
    for bad in (elsewhere.id, key.id, 999_999):
        with pytest.raises(Invalid):
            services.record_leaver(SYSTEM, key, left_on=dt.date(2026, 11, 1), successor_id=bad)
    services.record_leaver(SYSTEM, other, left_on=dt.date(2026, 11, 1))
    with pytest.raises(Invalid):
        services.record_leaver(SYSTEM, key, left_on=dt.date(2026, 11, 1), successor_id=other.id)
    assert key.is_active


def test_leaving_twice_is_a_conflict(client):
    _agency, key, _deputy, _other = _agency_with_team()
    services.record_leaver(SYSTEM, key, left_on=dt.date(2026, 11, 1))
    from tests.helpers import bearer, make_client

    _oauth_client, _secret = make_client(make_agency(), "directory:write")
    host_client, host_secret = make_client(
        db.session.get(Agency, make_user(Role.MANAGER).agency_id), "directory:write directory:read"
    )
    headers = bearer(client, host_client, host_secret)
    response = client.post(f"/api/v1/contacts/{key.id}/leave", json={"left_on": "2026-11-02"}, headers=headers)
    assert response.status_code == 409


def test_staff_offboarding_hands_over_and_closes_the_account(client):
    manager = make_user(Role.MANAGER, name="Mo Manager")
    leaver = make_user(Role.PRACTITIONER, name="Lee Leaver")
    taker = make_user(Role.PRACTITIONER, name="Tay Taker")
    agency_a, agency_b = make_agency(name="Alpha Housing"), make_agency(name="Beta Probation")
    agency_a.relationship_owner_id = leaver.id
    agency_b.relationship_owner_id = leaver.id
    known = make_contact(agency_a, name="Kit Known", knowledge="Gets emergency beds", known_by_id=leaver.id)
    db.session.add(
        Interaction(
            agency_id=agency_a.id,
            contact_id=known.id,
            author_id=leaver.id,
            kind=InteractionKind.MEETING,
            occurred_on=dt.date.today(),
            summary="Met about beds",
        )
    )
    leaver_browser = client.application.test_client()
    sign_in(leaver_browser, leaver)
    assert leaver_browser.get("/directory").status_code == 200

    sign_in(client, manager)
    form = client.get(f"/staff/{leaver.id}/offboard").get_data(as_text=True)
    assert "Alpha Housing" in form and "Kit Known" in form
    response = post_form(
        client,
        f"/staff/{leaver.id}/offboard",
        {
            "default_user_id": str(taker.id),
            f"agency-{agency_b.id}": str(manager.id),
        },
    )
    assert response.status_code == 302
    handover_url = response.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Agency, agency_a.id).relationship_owner_id == taker.id
    assert db.session.get(Agency, agency_b.id).relationship_owner_id == manager.id
    assert db.session.get(Contact, known.id).known_by_id == taker.id
    # Nothing names the leaver as a current owner.
    assert not db.session.scalar(sa.select(sa.func.count()).where(Agency.relationship_owner_id == leaver.id))
    assert not db.session.scalar(sa.select(sa.func.count()).where(Contact.known_by_id == leaver.id))
    pack = client.get(handover_url).get_data(as_text=True)
    for text in (
        "Handover pack: Lee Leaver",
        "Alpha Housing",
        "Kit Known",
        "Gets emergency beds",
        "Met about beds",
        "Tay Taker",
        "Close Lee Leaver",
    ):
        assert text in pack
    # Closing the account ends the leaver's sessions at once.
    response = post_form(client, f"{handover_url}/complete", {}, token_from=handover_url)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, leaver.id).disabled_at is not None
    assert leaver_browser.get("/directory").status_code == 302
    assert all(s.ended_at for s in db.session.scalars(sa.select(AuthSession).where(AuthSession.user_id == leaver.id)))
    # The pack stays readable afterwards.
    assert "Account closed" in client.get(handover_url).get_data(as_text=True)
    assert db.session.scalars(sa.select(Handover)).one().completed_at is not None


def test_offboarding_needs_someone_to_take_each_relationship(client):
    manager = make_user(Role.MANAGER)
    leaver = make_user(Role.PRACTITIONER)
    make_agency().relationship_owner_id = leaver.id
    db.session.flush()
    sign_in(client, manager)
    response = post_form(client, f"/staff/{leaver.id}/offboard", {})
    assert response.status_code == 422
    assert "Choose who takes this over" in response.get_data(as_text=True)
    assert db.session.get(User, leaver.id).disabled_at is None
    assert not db.session.scalar(sa.select(sa.func.count(Handover.id)))


def test_a_manager_cannot_offboard_themself_and_practitioners_cannot_offboard(client):
    manager = make_user(Role.MANAGER)
    practitioner = make_user(Role.PRACTITIONER)
    sign_in(client, manager)
    assert post_form(client, f"/staff/{manager.id}/offboard", {}, token_from="/staff").status_code == 403
    other = client.application.test_client()
    sign_in(other, practitioner)
    assert other.get(f"/staff/{manager.id}/offboard").status_code == 403


def test_a_leavers_record_is_kept_as_it_was(client):
    from tests.helpers import bearer, make_client

    _agency, key, _deputy, _other = _agency_with_team()
    services.record_leaver(SYSTEM, key, left_on=dt.date(2026, 11, 1))
    staff = make_user(Role.MANAGER)
    sign_in(client, staff)
    response = post_form(client, f"/contacts/{key.id}/edit", {"name": "Renamed"}, token_from=f"/contacts/{key.id}")
    assert response.status_code == 302
    host_client, secret = make_client(db.session.get(Agency, staff.agency_id), "directory:write")
    response = client.patch(
        f"/api/v1/contacts/{key.id}", json={"role": "Other"}, headers=bearer(client, host_client, secret)
    )
    assert response.status_code == 409
    assert db.session.get(Contact, key.id).name == "Kim Key"
