"""H2 and L7 of the security review: sharing without consent has limits.

- An emergency decision shares at once, but only until its second approval
  falls due: unapproved by then, it stops counting as a basis (before any job
  runs), and the daily job ends it and puts its referrals on hold exactly as a
  withdrawal does.
- A review date has an upper bound (3 months by default).
- The hub administrator neither decides nor approves: managers do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from flask.testing import FlaskClient

from consent import services as consent
from consent import sharing
from consent.models import SafeguardingDecision, SafeguardingStatus
from hub.db import db
from hub.notifications.models import Notification
from hub.permissions import SYSTEM, Conflict, Denied, Invalid, Role
from referrals import services as referrals
from referrals.models import Referral
from referrals.states import Status
from tests.helpers import make_user, post_form, sign_in
from tests.referrals.world import World, build_world, draft, fresh

LONDON = ZoneInfo("Europe/London")
MONDAY = dt.datetime(2027, 3, 1, 10, 0, tzinfo=LONDON)  # due two working days later: Wednesday 3 March


@pytest.fixture
def world(client: FlaskClient) -> World:
    return build_world(client)


def _decide(world: World, *, emergency: bool, review_on: dt.date, by: Any = None) -> SafeguardingDecision:
    return consent.decide_safeguarding(
        by or world.users["manager"],
        world.person,
        {
            "agency_id": world.own.id,
            "purposes": ["referral"],
            "data_categories": ["mental_health"],
            "art6_basis": "6(1)(d)",
            "art9_condition": "9(2)(c)",
            "para18_reason": "cannot_give",
            "justification": "She is at immediate risk of serious harm tonight",
            "she_was_told": True,
            "review_on": review_on,
            "emergency": emergency,
        },
    )


def _covered(world: World) -> bool:
    return isinstance(sharing.find_basis(world.person.id, world.own.id, "referral", {"mental_health"}), sharing.Basis)


def test_an_unapproved_emergency_share_stops_when_its_approval_falls_due(client: FlaskClient, world: World) -> None:
    with time_machine.travel(MONDAY, tick=False) as clock:
        decision = _decide(world, emergency=True, review_on=dt.date(2027, 4, 1))
        assert decision.approval_due_on == dt.date(2027, 3, 3)
        referral = draft(world, data_categories=["mental_health"])
        referrals.send_referral(world.staff, referral)
        assert referral.safeguarding_id == decision.id

        clock.move_to(dt.datetime(2027, 3, 3, 23, 59, tzinfo=LONDON))  # the last minute of its due day
        assert _covered(world)

        clock.move_to(dt.datetime(2027, 3, 4, 0, 1, tzinfo=LONDON))  # unapproved, and the day has passed
        assert not _covered(world)
        # Even before the job runs, the agency sees nothing more.
        # (a token issued now: the world's were issued before the clock moved)
        seen = client.get(f"/api/v1/referrals/{referral.id}", headers=world.headers("own", "referrals:read")).json
        assert seen["details_available"] is False and seen["reason"] is None
        with pytest.raises(Conflict):
            consent.approve_safeguarding(make_user(Role.MANAGER), decision)

        stopped = consent.lapse_unapproved_emergencies(SYSTEM)
        assert stopped == 1
        decision = fresh(SafeguardingDecision, decision.id)
        assert decision.status is SafeguardingStatus.ENDED and "approved" in decision.end_reason
        held = fresh(Referral, referral.id)
        assert held.status is Status.ON_HOLD and held.basis_lost
        told = db.session.scalars(sa.select(Notification).where(Notification.kind == "referral.hold")).all()
        assert told and all("mental" not in n.body for n in told)
        assert consent.lapse_unapproved_emergencies(SYSTEM) == 0  # nothing twice


def test_an_emergency_share_approved_in_time_goes_on_until_its_review(world: World) -> None:
    with time_machine.travel(MONDAY, tick=False) as clock:
        decision = _decide(world, emergency=True, review_on=dt.date(2027, 4, 1))
        clock.move_to(dt.datetime(2027, 3, 3, 16, 0, tzinfo=LONDON))
        consent.approve_safeguarding(make_user(Role.MANAGER), decision)
        clock.move_to(dt.datetime(2027, 3, 20, 12, 0, tzinfo=LONDON))
        assert _covered(world)
        assert consent.lapse_unapproved_emergencies(SYSTEM) == 0


def test_managers_are_reminded_before_the_emergency_share_stops(world: World) -> None:
    second = make_user(Role.MANAGER)
    with time_machine.travel(MONDAY, tick=False) as clock:
        _decide(world, emergency=True, review_on=dt.date(2027, 4, 1))
        clock.move_to(dt.datetime(2027, 3, 2, 8, 0, tzinfo=LONDON))  # due tomorrow
        assert consent.remind_unapproved_emergencies(SYSTEM) == 1
        reminders = db.session.scalars(
            sa.select(Notification).where(Notification.kind == "safeguarding.approval_due")
        ).all()
        assert [n.user_id for n in reminders] == [second.id]  # not the decider, not the administrator


@pytest.mark.parametrize(("months", "allowed"), [(3, True), (4, False), (1200, False)])
def test_a_review_date_has_an_upper_bound(world: World, months: int, allowed: bool) -> None:
    from dateutil.relativedelta import relativedelta

    from hub.db import today

    review_on = today() + relativedelta(months=months)
    if allowed:
        assert _decide(world, emergency=False, review_on=review_on).review_on == review_on
        return
    with pytest.raises(Invalid) as refused:
        _decide(world, emergency=False, review_on=review_on)
    assert "review_on" in refused.value.errors


def test_the_form_refuses_a_review_far_ahead_and_records_nothing(client: FlaskClient, world: World) -> None:
    sign_in(client, world.users["manager"])
    response = post_form(
        client,
        f"/service-users/{world.person.id}/safeguarding/new",
        {
            "agency_id": str(world.own.id),
            "purposes": "referral",
            "data_categories": "mental_health",
            "art6_basis": "6(1)(d)",
            "art9_condition": "9(2)(c)",
            "para18_reason": "cannot_give",
            "justification": "She is at immediate risk of serious harm tonight",
            "she_was_told": "yes",
            "review_on": "31/12/2099",
            "emergency": "yes",
        },
    )
    assert response.status_code == 422
    assert "within 3 months" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(SafeguardingDecision.id))) == 0


def test_the_hub_administrator_neither_decides_nor_approves(client: FlaskClient, world: World) -> None:
    """L7: the IT volunteer is not a second approver of sharing without consent."""
    admin = world.users["admin"]
    with pytest.raises(Denied):
        _decide(world, emergency=False, review_on=dt.date.today() + dt.timedelta(days=30), by=admin)
    decision = _decide(world, emergency=False, review_on=dt.date.today() + dt.timedelta(days=30))
    with pytest.raises(Denied):
        consent.approve_safeguarding(admin, decision)
    sign_in(client, admin)
    refused = post_form(client, f"/safeguarding/{decision.id}/approve", {}, token_from=f"/safeguarding/{decision.id}")
    assert refused.status_code == 403
    assert fresh(SafeguardingDecision, decision.id).status is SafeguardingStatus.PENDING
    consent.approve_safeguarding(make_user(Role.MANAGER), decision)
    assert decision.status is SafeguardingStatus.APPROVED


def test_one_manager_cannot_chain_emergency_shares_after_one_was_not_approved(world: World) -> None:
    """H2, the long way round: an emergency share lapsed unapproved; deciding "emergency" again for
    her and the same agency is refused for 30 days: it must now wait for a second manager."""
    with time_machine.travel(MONDAY, tick=False) as clock:
        first = _decide(world, emergency=True, review_on=dt.date(2027, 4, 1))
        clock.move_to(dt.datetime(2027, 3, 4, 0, 30, tzinfo=LONDON))
        consent.lapse_unapproved_emergencies(SYSTEM)
        for manager in (world.users["manager"], make_user(Role.MANAGER)):
            with pytest.raises(Invalid) as refused:
                _decide(world, emergency=True, review_on=dt.date(2027, 4, 1), by=manager)
            assert "emergency" in refused.value.errors and str(first.id) in refused.value.errors["emergency"][0]
        assert not _covered(world)
        pending = _decide(world, emergency=False, review_on=dt.date(2027, 4, 1))
        assert pending.status is SafeguardingStatus.PENDING and not _covered(world)
        clock.move_to(dt.datetime(2027, 4, 5, 9, 0, tzinfo=LONDON))  # 30 days on, the emergency path reopens
        assert _decide(world, emergency=True, review_on=dt.date(2027, 5, 1)).status is SafeguardingStatus.EMERGENCY
