"""Findings of the security review about referrals, each reproduced first:

- L1: a token with ``referrals:write`` but not ``referrals:read`` got her name
  and the reason back from any action it took.
- L5: a partner resuming a referral held because her consent ended learned,
  from the 422, whether she had any other consent with their agency.
- F1 (architecture review): the pages and the API disagreed on who resumes a
  referral whose basis was lost; now one policy answers both.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from consent import services as consent_services
from consent.models import ConsentRecord
from referrals import policies, queries
from referrals.models import Referral
from referrals.states import Status
from tests.helpers import csrf_token, sign_in
from tests.referrals.world import FAMILY_NAME, REASON, World, build_world, fresh, give_consent, referral_in


@pytest.fixture
def world(client: FlaskClient) -> World:
    return build_world(client)


def test_a_write_only_token_gets_no_details_from_the_actions_it_takes(client: FlaskClient, world: World) -> None:
    """L1."""
    referral_id = referral_in(world, "sent")
    write_only = world.headers("own", "referrals:write")
    assert client.get(f"/api/v1/referrals/{referral_id}", headers=write_only).status_code == 403
    response = client.post(f"/api/v1/referrals/{referral_id}/acknowledge", headers=write_only)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert response.json["status"] == "acknowledged"
    assert FAMILY_NAME not in body and REASON not in body
    assert response.json["service_user"] is None and response.json["reason"] is None


def _held_for_lost_basis(world: World) -> int:
    referral_id = referral_in(world, "in_progress")
    consent_services.withdraw_consent(world.staff, fresh(ConsentRecord, world.consent.id), "She changed her mind")
    referral = fresh(Referral, referral_id)
    assert referral.status is Status.ON_HOLD and referral.basis_lost
    return referral_id


def test_a_partner_cannot_resume_a_hold_for_a_lost_basis_and_learns_nothing_of_her_consents(
    client: FlaskClient, world: World
) -> None:
    """L5 and F1: the receiving agency may not lift a hold caused by her consent ending, and its
    refusal says nothing about what else she has consented to."""
    referral_id = _held_for_lost_basis(world)
    give_consent(world.staff, world.person, world.own, ["housing"])  # some other consent with the agency
    response = client.post(f"/api/v1/referrals/{referral_id}/resume", headers=world.headers("own"))
    assert response.status_code == 403
    assert "missing" not in response.json and "consent" not in response.json["detail"].lower()
    sign_in(client, world.partner)
    page = client.get(f"/referrals/{referral_id}").get_data(as_text=True)
    assert "/actions/resume" not in page
    form = client.post(
        f"/referrals/{referral_id}/actions/resume", data={"csrf_token": csrf_token(client, "/directory")}
    )
    assert form.status_code == 403
    assert fresh(Referral, referral_id).status is Status.ON_HOLD


def test_our_staff_resume_a_hold_for_a_lost_basis_once_she_consents_again(client: FlaskClient, world: World) -> None:
    referral_id = _held_for_lost_basis(world)
    refused = client.post(f"/api/v1/referrals/{referral_id}/resume", headers=world.headers("host"))
    assert refused.status_code == 422 and "missing" in refused.json  # our own staff are told what is missing
    give_consent(world.staff, world.person, world.own)
    sign_in(client, world.staff)
    page = client.get(f"/referrals/{referral_id}").get_data(as_text=True)
    assert f"/referrals/{referral_id}/actions/resume" in page
    resumed = client.post(f"/api/v1/referrals/{referral_id}/resume", headers=world.headers("host"))
    assert resumed.status_code == 200 and resumed.json["status"] == "in_progress"


def test_the_agencys_own_hold_is_the_agencys_to_lift_and_says_nothing_when_her_basis_is_gone(
    client: FlaskClient, world: World
) -> None:
    referral_id = referral_in(world, "on_hold")  # put on hold by the agency
    assert client.post(f"/api/v1/referrals/{referral_id}/resume", headers=world.headers("host")).status_code == 403
    consent_services.withdraw_consent(world.staff, fresh(ConsentRecord, world.consent.id), "She changed her mind")
    give_consent(world.staff, world.person, world.own, ["housing"])
    refused = client.post(f"/api/v1/referrals/{referral_id}/resume", headers=world.headers("own"))
    assert refused.status_code == 422
    assert "missing" not in refused.json and "errors" not in refused.json
    assert fresh(Referral, referral_id).status is Status.ON_HOLD


@pytest.mark.parametrize("status", ["sent", "acknowledged", "accepted", "in_progress", "on_hold", "completed"])
def test_the_page_offers_exactly_the_actions_the_policy_allows(client: FlaskClient, world: World, status: str) -> None:
    referral_id = referral_in(world, status)
    referral = fresh(Referral, referral_id)
    for user in (world.partner, world.staff):
        sign_in(client, user)
        page = client.get(f"/referrals/{referral_id}").get_data(as_text=True)
        offered = {a for a in policies.ACTION_POLICIES if f"/referrals/{referral_id}/actions/{a}" in page}
        assert offered == set(policies.available_actions(user, referral)), (user.role, status)
    assert queries.details_visible(world.partner, referral).visible
