"""A referral's purpose and the day its work is needed by.

- ``purpose`` (``referral`` by default, or ``release_planning``) is what every basis check for the
  referral asks about: sending it, showing her details to the agency (checked at each view), the
  inbox's glimpses, and the disclosures logged.
- ``needed_by`` caps each deadline (acknowledge by, decide by), but never to before the day it is
  set; ``reschedule_referral`` moves it, brings the running deadline into line, tells the recipient
  by reference and date only, and the chase job then chases the new date.

The clock is frozen on Monday 16 March 2026 (no bank holiday near): a routine referral sent that day
is to be acknowledged by Wednesday 18 March (2 working days), and one acknowledged that day decided
by Monday 23 March (5 working days).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from flask.testing import FlaskClient

from consent import services as consent_services
from consent.models import ConsentMethod, ConsentRecord, Disclosure, DisclosureKind
from hub.audit import AuditEvent
from hub.db import db
from hub.notifications.models import Notification
from hub.permissions import SYSTEM, Denied, Invalid
from referrals import services
from referrals.escalation import chase_overdue_referrals
from referrals.models import Referral, ReferralEvent, ReferralReminder
from referrals.states import Status
from tests.helpers import sign_in
from tests.referrals.world import (
    CATEGORIES,
    FAMILY_NAME,
    GIVEN_NAME,
    REASON,
    World,
    assert_unchanged,
    build_world,
    count,
    draft,
    fresh,
    referral_in,
    snapshot,
)

LONDON = ZoneInfo("Europe/London")
MONDAY = dt.date(2026, 3, 16)


def day(n: int) -> dt.date:
    """A day of March 2026."""
    return dt.date(2026, 3, n)


def at(on: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(on.year, on.month, on.day, hour, 0, tzinfo=LONDON).astimezone(dt.UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(at(MONDAY), tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock: time_machine.Traveller, client: FlaskClient) -> World:
    return build_world(client)


def consent_to_release_planning(world: World, **overrides: Any) -> ConsentRecord:
    """Her consent to share with ``own`` for release planning (the world's own consent covers only
    referrals)."""
    return consent_services.record_consent(
        world.staff,
        fresh(type(world.person), world.person.id),
        {
            "agency_id": world.own.id,
            "purposes": ["release_planning"],
            "data_categories": CATEGORIES,
            "method": ConsentMethod.WRITTEN,
            "given_on": MONDAY,
            **overrides,
        },
    )


def body(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "service_user_id": world.person.id,
        "agency_id": world.own.id,
        "data_categories": CATEGORIES,
        "reason": REASON,
        **overrides,
    }


def create(client: FlaskClient, world: World, **overrides: Any) -> Any:
    return client.post("/api/v1/referrals", json=body(world, **overrides), headers=world.headers("host"))


def act(client: FlaskClient, world: World, who: str, referral_id: int, action: str) -> Any:
    return client.post(f"/api/v1/referrals/{referral_id}/{action}", headers=world.headers(who))


def planning_referral(world: World, needed_by: dt.date | None = None) -> int:
    """A release-planning referral to ``own``, sent now, by id."""
    referral = draft(world, purpose="release_planning", needed_by=needed_by)
    services.send_referral(world.staff, referral)
    db.session.flush()
    return referral.id


def needed_referral(world: World, needed_by: dt.date) -> int:
    """A referral (purpose ``referral``) needed by a day, sent now, by id."""
    referral = draft(world, needed_by=needed_by)
    services.send_referral(world.staff, referral)
    db.session.flush()
    return referral.id


def told(kind: str) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(Notification.kind == kind).order_by(Notification.id)))


# Purpose ------------------------------------------------------------------------------------


def test_a_referral_is_for_referral_unless_it_says_otherwise(client: FlaskClient, world: World) -> None:
    out = create(client, world).json
    assert (out["purpose"], out["needed_by"]) == ("referral", None)
    sent = act(client, world, "host", out["id"], "send").json
    assert sent["status"] == "sent" and sent["purpose"] == "referral"
    disclosed = db.session.scalars(sa.select(Disclosure).where(Disclosure.context_id == out["id"])).all()
    assert [(d.kind, d.purpose) for d in disclosed] == [(DisclosureKind.SENT, "referral")]


def test_a_release_planning_referral_is_sent_on_her_consent_to_release_planning(
    client: FlaskClient, world: World
) -> None:
    planning = consent_to_release_planning(world)
    response = create(client, world, purpose="release_planning", needed_by="2026-03-27")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert (response.json["purpose"], response.json["needed_by"]) == ("release_planning", "2026-03-27")
    referral_id = response.json["id"]
    sent = act(client, world, "host", referral_id, "send")
    assert sent.status_code == 200, sent.get_data(as_text=True)
    assert sent.json["status"] == "sent" and sent.json["acknowledge_by"] == "2026-03-18"
    assert fresh(Referral, referral_id).consent_id == planning.id  # not the consent to referrals
    seen = client.get(f"/api/v1/referrals/{referral_id}", headers=world.headers("own")).json
    assert seen["details_available"] and seen["reason"] == REASON and seen["purpose"] == "release_planning"
    disclosed = db.session.scalars(
        sa.select(Disclosure).where(Disclosure.context_id == referral_id).order_by(Disclosure.id)
    ).all()
    assert [(d.kind, d.purpose, d.consent_id) for d in disclosed] == [
        (DisclosureKind.SENT, "release_planning", planning.id),
        (DisclosureKind.VIEWED, "release_planning", planning.id),
    ]


def test_sending_for_release_planning_on_a_consent_to_referrals_only_is_422_naming_the_purpose(
    client: FlaskClient, world: World
) -> None:
    referral_id = create(client, world, purpose="release_planning").json["id"]
    before = snapshot()
    response = act(client, world, "host", referral_id, "send")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    missing = response.json["missing"]
    assert "release_planning" in missing["purpose"]
    assert missing["data_categories"] == sorted(CATEGORIES)
    assert_unchanged(before)
    assert fresh(Referral, referral_id).status is Status.DRAFT


def test_the_agency_sees_her_details_only_while_her_consent_covers_release_planning(
    client: FlaskClient, world: World, clock: time_machine.Traveller
) -> None:
    # Consent to release planning ending on Friday; her consent to referrals goes on for months.
    consent_to_release_planning(world, expires_on=day(20))
    referral_id = planning_referral(world)
    partner = world.partner

    def read(scope: str) -> Any:
        """The agency's system reads the referral (with a token minted for this scope, now)."""
        return client.get(f"/api/v1/referrals/{referral_id}", headers=world.headers("own", scope))

    def shown(scope: str) -> tuple[bool, bool]:
        """(the API shows her details, the inbox shows what is asked) to the agency now."""
        seen = read(scope).json
        glimpses = services.glimpse_referrals(partner, [fresh(Referral, referral_id)])
        return bool(seen["details_available"]), referral_id in glimpses

    assert shown("referrals:read") == (True, True)
    viewed = count(Disclosure, Disclosure.context_id == referral_id, Disclosure.kind == DisclosureKind.VIEWED)
    assert viewed == 2  # the view and the inbox's glimpse, each logged for release planning
    # Past its last day, before any job has marked it expired: the consent to referrals does not count.
    clock.move_to(at(day(23)))
    seen = read("referrals:read referrals:write")  # a new token: the first has expired by now
    assert seen.json["details_available"] is False and seen.json["reason"] is None
    assert FAMILY_NAME not in seen.get_data(as_text=True)
    assert shown("referrals:read referrals:write") == (False, False)
    assert count(Disclosure, Disclosure.context_id == referral_id, Disclosure.kind == DisclosureKind.VIEWED) == 2


def test_narrowing_her_consent_to_referrals_only_holds_a_release_planning_referral(
    client: FlaskClient, world: World
) -> None:
    planning = consent_to_release_planning(world)
    referral_id = planning_referral(world)
    # She narrows what she agreed: referrals only. Her consent to referrals does not carry it on.
    response = client.post(
        f"/api/v1/consents/{planning.id}/withdraw",
        json={"reason": "Not for release planning"},
        headers=world.headers("host"),
    )
    assert response.status_code == 200
    seen = client.get(f"/api/v1/referrals/{referral_id}", headers=world.headers("own")).json
    assert seen["status"] == "on_hold" and seen["details_available"] is False and seen["reason"] is None
    # An ordinary referral resting on the same consent to referrals is left alone.
    other_id = referral_in(world, "sent")
    planning_again = consent_to_release_planning(world)
    consent_services.withdraw_consent(world.staff, fresh(ConsentRecord, planning_again.id), "Narrowed again")
    assert fresh(Referral, other_id).status is Status.SENT


# Needed by ------------------------------------------------------------------------------------


def test_needed_by_brings_the_acknowledge_and_decide_deadlines_forward(client: FlaskClient, world: World) -> None:
    usual = fresh(Referral, referral_in(world, "sent"))
    assert usual.acknowledge_by == day(18)
    soon = fresh(Referral, needed_referral(world, needed_by=day(17)))
    assert (soon.acknowledge_by, soon.due_on) == (day(17), day(17))
    later = fresh(Referral, needed_referral(world, needed_by=day(27)))
    assert later.acknowledge_by == day(18)  # never later than the agency's usual time
    services.acknowledge_referral(world.partner, soon)
    assert (soon.decide_by, soon.due_on) == (day(17), day(17))
    services.acknowledge_referral(world.partner, later)
    assert later.decide_by == day(23)
    # Needed by Sunday 22 March: decided by the working day before, Friday 20.
    weekend = fresh(Referral, needed_referral(world, needed_by=day(22)))
    services.acknowledge_referral(world.partner, weekend)
    assert weekend.decide_by == day(20)


def test_a_needed_by_already_past_gives_until_today_and_is_chased_from_tomorrow(
    world: World, clock: time_machine.Traveller
) -> None:
    referral = fresh(Referral, needed_referral(world, needed_by=day(13)))
    assert (referral.acknowledge_by, referral.due_on) == (MONDAY, MONDAY)
    clock.move_to(at(MONDAY, 17))
    assert chase_overdue_referrals() == 0  # due today, not late
    clock.move_to(at(day(17), 8))
    assert chase_overdue_referrals() == 1
    assert [n.email for n in told("referral.overdue")] == [world.own_key.email]


# Rescheduling ---------------------------------------------------------------------------------


def test_reschedule_moves_the_deadline_and_tells_the_recipient_once_without_her_name(world: World) -> None:
    referral = fresh(Referral, referral_in(world, "sent"))
    assert referral.acknowledge_by == day(18)
    assert services.reschedule_referral(SYSTEM, referral, day(17)) is True
    referral = fresh(Referral, referral.id)
    assert (referral.needed_by, referral.acknowledge_by, referral.due_on) == (day(17), day(17), day(17))
    event = db.session.scalars(
        sa.select(ReferralEvent).where(ReferralEvent.referral_id == referral.id).order_by(ReferralEvent.id.desc())
    ).first()
    assert event is not None and (event.action, event.note) == ("reschedule", "needed by moved to 17 March 2026")
    assert count(AuditEvent, AuditEvent.action == "referral.reschedule", AuditEvent.object_id == referral.id) == 1
    [message] = told("referral.reschedule")
    assert message.email == world.own_key.email and message.link.endswith(f"/referrals/{referral.id}")
    assert referral.reference in message.subject and "17 March 2026" in message.body
    for secret in (GIVEN_NAME, FAMILY_NAME, REASON, world.person.reference):
        assert secret not in message.subject + message.body
    # Asked again with the same day (a plan saved twice): nothing moves, nobody is told again.
    assert services.reschedule_referral(SYSTEM, referral, day(17)) is False
    assert len(told("referral.reschedule")) == 1
    # Our staff may move it too; needed later than the usual time gives the usual time back.
    assert services.reschedule_referral(world.staff, referral, day(27)) is True
    assert fresh(Referral, referral.id).acknowledge_by == day(18)
    assert len(told("referral.reschedule")) == 2


def test_reschedule_moves_the_decide_deadline_once_acknowledged(world: World) -> None:
    referral = fresh(Referral, referral_in(world, "acknowledged"))
    assert referral.decide_by == day(23)
    assert services.reschedule_referral(SYSTEM, referral, day(19)) is True
    referral = fresh(Referral, referral.id)
    assert (referral.acknowledge_by, referral.decide_by, referral.due_on) == (day(18), day(19), day(19))


def test_reschedule_sets_the_day_without_a_deadline_to_move_or_anyone_to_tell(world: World) -> None:
    referral = fresh(Referral, referral_in(world, "in_progress"))
    assert services.reschedule_referral(SYSTEM, referral, day(19)) is False
    assert fresh(Referral, referral.id).needed_by == day(19)
    assert told("referral.reschedule") == []


def test_reschedule_leaves_a_completed_referral_alone(world: World) -> None:
    referral = fresh(Referral, referral_in(world, "completed"))
    before = snapshot()
    assert services.reschedule_referral(SYSTEM, referral, day(17)) is False
    assert_unchanged(before, "rescheduling a completed referral")
    assert fresh(Referral, referral.id).needed_by is None


def test_only_our_side_reschedules(world: World) -> None:
    referral = fresh(Referral, referral_in(world, "sent"))
    before = snapshot()
    with pytest.raises(Denied):
        services.reschedule_referral(world.partner, referral, day(17))
    assert_unchanged(before, "a partner's reschedule")


def test_a_rescheduled_referral_is_chased_against_its_new_date(world: World, clock: time_machine.Traveller) -> None:
    referral = fresh(Referral, referral_in(world, "sent"))  # to be acknowledged by Wed 18
    services.reschedule_referral(SYSTEM, referral, day(17))
    clock.move_to(at(day(18), 8))
    assert chase_overdue_referrals() == 1  # a day sooner than the usual deadline would be chased
    assert chase_overdue_referrals() == 0
    # Her plan moves again: the deadline goes back to Wed 18, and is chased against that date.
    services.reschedule_referral(SYSTEM, fresh(Referral, referral.id), day(27))
    clock.move_to(at(day(19), 8))
    # Only the new deadline is chased now: no stage 2 for the deadline it no longer has.
    assert chase_overdue_referrals() == 1
    chased = db.session.execute(
        sa.select(ReferralReminder.due_on, ReferralReminder.stage)
        .where(ReferralReminder.referral_id == referral.id)
        .order_by(ReferralReminder.id)
    ).all()
    assert [tuple(row) for row in chased] == [(day(17), 1), (day(18), 1)]


# Bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("purpose", "forum_discussion"), ("purpose", ""), ("needed_by", "tomorrow"), ("needed_by", "2026-02-30")],
)
def test_a_bad_purpose_or_needed_by_is_refused_and_changes_nothing(
    client: FlaskClient, world: World, field: str, value: str
) -> None:
    before = snapshot()
    response = create(client, world, **{field: value})
    assert response.status_code in {400, 422}, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert field in response.json.get("errors", {}), response.json
    assert_unchanged(before)


def test_the_service_refuses_a_purpose_that_is_not_for_referrals(world: World) -> None:
    with pytest.raises(Invalid) as refused:
        draft(world, purpose="forum_discussion")
    assert "purpose" in refused.value.errors


# The referral's page ----------------------------------------------------------------------------


def test_the_page_says_when_a_referral_is_for_planning_her_release(client: FlaskClient, world: World) -> None:
    consent_to_release_planning(world)
    planning_id = planning_referral(world, needed_by=day(27))
    ordinary_id = referral_in(world, "sent")
    sign_in(client, world.partner)
    page = client.get(f"/referrals/{planning_id}").get_data(as_text=True)
    assert "Planning her release" in page and "27 March 2026" in page
    page = client.get(f"/referrals/{ordinary_id}").get_data(as_text=True)
    assert "Planning her release" not in page
