"""Release planning through the services: a custody with a Friday release,
its plan, who is told, referring an item through the consent gate, a date
change that moves everything, and the release itself."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
import time_machine

from consent import services as consent_services
from consent.models import ConsentRecord, Disclosure
from consent.sharing import NotCovered
from hub.db import db
from hub.notifications.models import Notification
from referrals.models import Referral
from referrals.states import Status
from releases import queries, services
from releases.models import CustodyStatus, ItemStatus, PlanItem, ReleaseNotice
from tests.releases.world import FAMILY_NAME, GIVEN_NAME, build, custody

FRIDAY = dt.date(2027, 3, 5)  # an ordinary Friday: expected Thursday 4, earliest Wednesday 3 March 2027
pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture(autouse=True)
def _monday() -> object:
    with time_machine.travel(dt.datetime(2027, 1, 4, 10, 0, tzinfo=dt.UTC), tick=False) as traveller:
        yield traveller


def _notices(custody_id: int) -> list[tuple[int, dt.date]]:
    return [
        (n.agency_id, n.expected_on)
        for n in db.session.scalars(sa.select(ReleaseNotice).where(ReleaseNotice.custody_id == custody_id)).all()
    ]


def _no_name_in_messages() -> None:
    for note in db.session.scalars(sa.select(Notification)).all():
        text = f"{note.subject} {note.body} {note.link}"
        assert GIVEN_NAME not in text and FAMILY_NAME not in text


def test_a_friday_release_is_planned_for_the_wednesday_and_probation_is_told_at_once() -> None:
    world = build()
    episode = custody(world, FRIDAY)
    assert (episode.statutory_on, episode.expected_on, episode.earliest_on) == (
        FRIDAY, dt.date(2027, 3, 4), dt.date(2027, 3, 3),
    )  # fmt: skip
    assert episode.plan_on == dt.date(2027, 3, 3)
    assert services.release_day_of(episode).rule.value == "friday_scheme"
    # Her probation practitioner's agency is in the plan and her consent covers it: told once, logged.
    assert _notices(episode.id) == [(world.probation.id, dt.date(2027, 3, 4))]
    disclosure = db.session.scalars(sa.select(Disclosure).where(Disclosure.context == "release_notice")).one()
    assert (disclosure.agency_id, disclosure.purpose) == (world.probation.id, "release_planning")
    note = db.session.scalars(sa.select(Notification).where(Notification.kind == "release.date")).one()
    assert note.email == world.po.email and episode.reference in note.subject and "Thursday 4 March 2027" in note.body
    _no_name_in_messages()


def test_plan_items_are_due_counted_back_from_the_earliest_day() -> None:
    world = build()
    episode = custody(world, FRIDAY, needs=("gp_register", "release_pack"))
    items = {i.title: i for i in queries.plan_items(episode)}
    assert items["Register with a GP before release"].due_on == dt.date(2027, 3, 3) - dt.timedelta(days=28)
    assert items["Release pack: phone, clothes, toiletries"].due_on == dt.date(2027, 3, 1)


def test_an_item_referred_without_release_planning_consent_is_refused_with_missing_and_changes_nothing() -> None:
    world = build()
    episode = custody(world, FRIDAY, needs=("night_one",))
    item = queries.plan_items(episode)[0]
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Referral))
    with pytest.raises(NotCovered) as refused:
        services.refer_plan_item(
            world.staff, item,
            {"agency_id": world.housing.id, "data_categories": ["identity", "criminal_justice"], "reason": "Night 1"},
        )  # fmt: skip
    assert "purpose" in refused.value.extra["missing"]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == before


def test_a_referred_item_becomes_a_release_planning_referral_due_by_the_item_and_its_agency_is_told() -> None:
    world = build()
    episode = custody(world, FRIDAY, needs=("gp_register",))
    item = queries.plan_items(episode)[0]
    referral = services.refer_plan_item(
        world.staff, item,
        {"agency_id": world.health.id, "data_categories": ["identity", "physical_health"], "reason": "GP please"},
    )  # fmt: skip
    assert referral.purpose == "release_planning" and referral.status is Status.SENT
    assert referral.needed_by == item.due_on and referral.acknowledge_by <= item.due_on
    assert item.referral_id == referral.id and item.status is ItemStatus.IN_PROGRESS
    assert sorted(_notices(episode.id)) == sorted(
        [(world.probation.id, episode.expected_on), (world.health.id, episode.expected_on)]
    )


def test_a_new_date_moves_items_and_referrals_and_tells_every_agency_once() -> None:
    world = build()
    episode = custody(world, FRIDAY, needs=("gp_register", "release_pack"))
    item = next(i for i in queries.plan_items(episode) if i.title.startswith("Register"))
    referral = services.refer_plan_item(
        world.staff, item,
        {"agency_id": world.health.id, "data_categories": ["identity", "physical_health"], "reason": "GP please"},
    )  # fmt: skip
    earlier = FRIDAY - dt.timedelta(days=14)  # the prison now says Friday 19 February
    assert services.change_custody(world.staff, episode, {"nominal_release_on": earlier})
    assert episode.plan_on == dt.date(2027, 2, 17)
    assert item.due_on == dt.date(2027, 2, 17) - dt.timedelta(days=28)
    assert referral.needed_by == item.due_on and referral.acknowledge_by <= item.due_on
    told_now = [n for n in _notices(episode.id) if n[1] == episode.expected_on]
    assert sorted(told_now) == sorted(
        [(world.probation.id, episode.expected_on), (world.health.id, episode.expected_on)]
    )
    # A change that does not move the day tells nobody again.
    assert not services.change_custody(world.staff, episode, {"date_told_by": "OMU by email"})
    assert len([n for n in _notices(episode.id) if n[1] == episode.expected_on]) == 2
    _no_name_in_messages()


def test_who_knows_shows_gaps_first() -> None:
    world = build()
    episode = custody(world, FRIDAY)
    services.add_plan_item(world.staff, episode, {"pathway": "accommodation", "title": "Night one",
                                                   "agency_id": world.housing.id})  # fmt: skip
    services.add_plan_item(world.staff, episode, {"pathway": "health", "title": "GP", "agency_id": world.health.id})
    rows = queries.who_knows(world.staff, episode)
    assert rows[0].agency.id == world.housing.id
    housing = rows[0]
    assert housing.gap and not housing.covered and housing.told_at is None
    assert {r.agency.id for r in rows if r.covered} == {world.probation.id, world.health.id}


def test_release_records_who_had_been_told_before_she_walked_out() -> None:
    world = build()
    episode = custody(world, FRIDAY)
    services.add_plan_item(world.staff, episode, {"pathway": "accommodation", "title": "Night one",
                                                   "agency_id": world.housing.id})  # fmt: skip
    with time_machine.travel(dt.datetime(2027, 3, 3, 17, 0, tzinfo=dt.UTC), tick=False):
        services.record_release(world.staff, episode, dt.date(2027, 3, 3))
    assert episode.status is CustodyStatus.RELEASED
    told = {entry["agency_id"]: entry["told_before"] for entry in episode.told_before_release or []}
    assert told == {world.probation.id: True, world.housing.id: False}
    assert episode.agencies_untold == 1


def test_a_partner_sees_a_release_only_while_her_consent_covers_release_planning_for_it() -> None:
    world = build()
    episode = custody(world, FRIDAY)
    services.add_plan_item(world.staff, episode, {"pathway": "health", "title": "GP", "agency_id": world.health.id})
    services.add_plan_item(world.staff, episode, {"pathway": "accommodation", "title": "Night one",
                                                   "agency_id": world.housing.id})  # fmt: skip
    assert queries.partner_basis(world.gp_lead, episode) is not None
    assert queries.partner_basis(world.housing_lead, episode) is None
    assert [c.id for c, _ in queries.partner_releases(world.gp_lead)] == [episode.id]
    assert queries.partner_releases(world.housing_lead) == []
    consent = db.session.scalars(sa.select(ConsentRecord).where(ConsentRecord.agency_id == world.health.id)).one()
    consent_services.withdraw_consent(world.staff, consent, "She asked us to stop")
    assert queries.partner_basis(world.gp_lead, episode) is None
    assert queries.partner_releases(world.gp_lead) == []


def test_a_recall_keeps_the_plan_and_starts_the_timeline_again() -> None:
    world = build()
    episode = custody(world, FRIDAY, needs=("gp_register",))
    with time_machine.travel(dt.datetime(2027, 3, 3, 17, 0, tzinfo=dt.UTC), tick=False):
        services.record_release(world.staff, episode, dt.date(2027, 3, 3))
        services.record_recall(world.staff, episode, {"nominal_release_on": dt.date(2027, 5, 12)})
    assert episode.status is CustodyStatus.IN_CUSTODY and episode.cycle == 2
    assert episode.custody_type.value == "recalled"
    item = db.session.scalars(sa.select(PlanItem).where(PlanItem.custody_id == episode.id)).one()
    assert item.due_on == episode.plan_on - dt.timedelta(days=28)
