"""C2 of the security review: referrals meant to be pseudonymous could be linked to her name.

A partner holds two referrals about one woman: A shares ``identity``, B does
not (she agreed to share "sexual exploitation" without her name). Nothing the
partner can reach about B, in the API, the pages, lists, filters, messages,
events or notifications, carries anything that identifies her across
referrals: not her name, not her hub reference, not her id.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from consent import services as consent_services
from consent.models import ConsentMethod, ConsentRecord
from hub.db import today
from referrals import services
from referrals.models import Referral
from tests.helpers import sign_in
from tests.referrals.world import FAMILY_NAME, GIVEN_NAME, World, build_world, draft, fresh

SECRET_REASON = "Support after sexual exploitation by a former partner"


@pytest.fixture
def world(client: FlaskClient) -> World:
    return build_world(client)


def _two_referrals(world: World) -> tuple[int, int]:
    """A (identity, on her main consent) and B (sexual exploitation only, on a consent without identity)."""
    consent_services.record_consent(
        world.staff,
        world.person,
        {
            "agency_id": world.own.id,
            "purposes": ["referral"],
            "data_categories": ["sexual_exploitation"],
            "method": ConsentMethod.WRITTEN,
            "given_on": today(),
        },
    )
    with_identity = draft(world)
    services.send_referral(world.staff, with_identity)
    without = draft(world, data_categories=["sexual_exploitation"], reason=SECRET_REASON)
    services.send_referral(world.staff, without)
    return with_identity.id, without.id


def _links_her(text: str, world: World) -> list[str]:
    """What in ``text`` would let a reader tie it to her."""
    found = [w for w in (GIVEN_NAME, FAMILY_NAME, world.person.reference) if w in text]
    if re.search(rf'"service_user_id":\s*{world.person.id}\b', text):
        found.append("service_user_id")
    if re.search(rf'"service_user":\s*\{{[^{{}}]*"id":\s*{world.person.id}\b', text):
        found.append("service_user.id")
    if f"/service-users/{world.person.id}" in text:
        found.append("a link to her page")
    return found


def test_the_api_gives_a_partner_nothing_to_join_a_referral_without_identity_on(
    client: FlaskClient, world: World
) -> None:
    with_identity, without = _two_referrals(world)
    headers = world.headers("own")

    a = client.get(f"/api/v1/referrals/{with_identity}", headers=headers).json
    assert a["service_user"]["family_name"] == FAMILY_NAME
    assert a["service_user"]["reference"] == world.person.reference
    assert a["service_user_id"] == world.person.id

    b_response = client.get(f"/api/v1/referrals/{without}", headers=headers)
    b = b_response.json
    assert b["details_available"] is True and b["reason"] == SECRET_REASON
    assert b["service_user"] is None and b["service_user_id"] is None
    texts = {"detail": b_response.get_data(as_text=True)}

    listed = client.get("/api/v1/referrals?per_page=200", headers=headers)
    assert {r["service_user_id"] for r in listed.json} == {None}
    texts["list"] = listed.get_data(as_text=True)
    refused = client.get(f"/api/v1/referrals?service_user_id={world.person.id}", headers=headers)
    assert refused.status_code == 422

    client.post(f"/api/v1/referrals/{without}/messages", json={"body": "We can see her on Tuesday"}, headers=headers)
    client.post(f"/api/v1/referrals/{without}/acknowledge", headers=headers)
    texts["events"] = client.get(f"/api/v1/referrals/{without}/events", headers=headers).get_data(as_text=True)
    texts["messages"] = client.get(f"/api/v1/referrals/{without}/messages", headers=headers).get_data(as_text=True)
    texts["accept"] = client.post(f"/api/v1/referrals/{without}/accept", headers=headers).get_data(as_text=True)
    for where, text in texts.items():
        assert not _links_her(text, world), (where, _links_her(text, world))


def test_the_pages_and_notifications_give_a_partner_nothing_to_join_either(client: FlaskClient, world: World) -> None:
    with_identity, without = _two_referrals(world)
    sign_in(client, world.partner)
    page_a = client.get(f"/referrals/{with_identity}").get_data(as_text=True)
    assert FAMILY_NAME in page_a and world.person.reference in page_a

    texts: dict[str, Any] = {}
    page_b = client.get(f"/referrals/{without}")
    assert SECRET_REASON in page_b.get_data(as_text=True)
    texts["referral page"] = page_b.get_data(as_text=True)
    texts["overdue"] = client.get("/overdue").get_data(as_text=True)
    # The inbox and the notifications name her beside A (it shares identity, on a valid basis), and
    # may say what B asks: B's own row and messages must carry nothing of hers.
    b_reference = fresh(Referral, without).reference
    inbox = client.get("/inbox").get_data(as_text=True)
    assert FAMILY_NAME in inbox
    texts["inbox row of B"] = _piece_with(inbox, b_reference, "<tr", "</tr>")
    notifications = client.get("/notifications").get_data(as_text=True)
    if b_reference in notifications:  # told of B (as its addressee or a lead of the agency)
        texts["notifications about B"] = _piece_with(notifications, b_reference, "<li", "</li>")
    else:
        texts["notifications"] = notifications
    for where, text in texts.items():
        found = _links_her(text, world)
        assert not found, (where, found)


def _piece_with(html: str, needle: str, start: str, end: str) -> str:
    """The element (from ``start`` to ``end``) that holds ``needle``; it must be there."""
    at = html.index(needle)
    return html[html.rindex(start, 0, at) : html.index(end, at)]


def test_when_the_basis_ends_even_the_identity_referral_stops_identifying_her(
    client: FlaskClient, world: World
) -> None:
    with_identity, _without = _two_referrals(world)
    consent_services.withdraw_consent(world.staff, fresh(ConsentRecord, world.consent.id), "She changed her mind")
    a = client.get(f"/api/v1/referrals/{with_identity}", headers=world.headers("own")).json
    assert a["details_available"] is False
    assert a["service_user"] is None and a["service_user_id"] is None


def test_our_own_staff_still_see_who_every_referral_is_about(client: FlaskClient, world: World) -> None:
    _with_identity, without = _two_referrals(world)
    b = client.get(f"/api/v1/referrals/{without}", headers=world.headers("host")).json
    assert b["service_user_id"] == world.person.id and b["service_user"]["family_name"] == FAMILY_NAME
    listed = client.get(f"/api/v1/referrals?service_user_id={world.person.id}", headers=world.headers("host"))
    assert listed.status_code == 200 and {r["service_user_id"] for r in listed.json} == {world.person.id}
