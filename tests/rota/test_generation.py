"""The weeks ahead are generated once: across a bank holiday Wednesday, a
change of the standing pattern, a change to all future weeks and reruns on
the same and later days, no session, slot or reminder is ever doubled.

Time is frozen on Monday 9 December 2024: Christmas Day and New Year's Day
2025 both fall on the Wednesday of the drop-in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from hub.db import db
from hub.notifications.models import Notification
from rota import generation, jobs, services
from rota.models import RotaCommitmentDate, RotaSession, RotaSlot, Service, SessionStatus, SlotStatus
from tests.rota.world import FAMILY_NAME, GIVEN_NAME, RotaWorld, build, count, session_on, slot_for

MONDAY = dt.datetime(2024, 12, 9, 9, 0, tzinfo=dt.UTC)
CHRISTMAS, NEW_YEAR = dt.date(2024, 12, 25), dt.date(2025, 1, 1)
WEDNESDAYS = [dt.date(2024, 12, 11) + dt.timedelta(weeks=n) for n in range(8)]  # 11 Dec .. 29 Jan


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock: Any) -> RotaWorld:
    return build()


def _state() -> tuple[list[Any], list[Any]]:
    sessions = db.session.execute(sa.select(RotaSession.date, RotaSession.status).order_by(RotaSession.date)).all()
    slots = db.session.execute(
        sa.select(RotaSession.date, RotaSlot.service, RotaSlot.position, RotaSlot.agency_id, RotaSlot.status)
        .join(RotaSession).order_by(RotaSession.date, RotaSlot.service, RotaSlot.position)
    ).all()  # fmt: skip
    return list(sessions), list(slots)


def _reminders() -> list[str]:
    return list(db.session.scalars(sa.select(Notification.dedupe_key).where(Notification.kind == "rota.reminder")))


def test_the_weeks_ahead_are_generated_with_bank_holidays_flagged(world: RotaWorld) -> None:
    sessions = db.session.scalars(sa.select(RotaSession).order_by(RotaSession.date)).all()
    assert [s.date for s in sessions] == WEDNESDAYS
    assert {s.date: s.bank_holiday for s in sessions if s.bank_holiday} == {
        CHRISTMAS: "Christmas Day", NEW_YEAR: "New Year's Day",
    }  # fmt: skip
    assert all(s.status is SessionStatus.SCHEDULED for s in sessions)  # flagged, not cancelled: a manager decides
    # One wanted slot for each must-have service at each session.
    assert count(RotaSlot) == 2 * len(WEDNESDAYS)
    assert count(RotaSlot, RotaSlot.wanted.is_(True), RotaSlot.position == 1) == 2 * len(WEDNESDAYS)


def test_generating_again_the_same_day_and_the_next_weeks_adds_nothing_twice(world: RotaWorld, clock: Any) -> None:
    before = _state()
    assert generation.generate(MONDAY.date()) == 0
    assert generation.generate(MONDAY.date()) == 0
    assert _state() == before
    clock.move_to(MONDAY + dt.timedelta(weeks=1))
    assert jobs.generate_sessions() == "1 sessions added"  # 5 February joins; nothing else
    assert jobs.generate_sessions() == "0 sessions added"
    sessions, slots = _state()
    assert [d for d, _ in sessions] == [*WEDNESDAYS, dt.date(2025, 2, 5)]
    assert len(slots) == 2 * len(sessions)


def test_a_standing_pattern_and_its_change_never_duplicate_a_slot(world: RotaWorld, clock: Any) -> None:
    first_and_third = services.create_commitment(world.housing_lead, {
        "agency_id": world.housing.id, "service": Service.HOUSING, "weekdays_of_month": [1, 3],
        "starts_on": MONDAY.date()})  # fmt: skip
    held = {d for d in WEDNESDAYS if slot_for(d).agency_id == world.housing.id}
    assert held == {dt.date(2024, 12, 18), NEW_YEAR, dt.date(2025, 1, 15)}  # the 1st and 3rd Wednesdays
    generation.generate(MONDAY.date())
    generation.generate(MONDAY.date())
    assert count(RotaSlot, RotaSlot.service == Service.HOUSING) == len(WEDNESDAYS)

    services.change_commitment(world.housing_lead, first_and_third, {"weekdays_of_month": [2, 4]})
    held = {d for d in WEDNESDAYS if slot_for(d).agency_id == world.housing.id}
    assert held == {dt.date(2024, 12, 11), dt.date(2024, 12, 25), dt.date(2025, 1, 8), dt.date(2025, 1, 22)}
    services.change_commitment(world.housing_lead, first_and_third, {"weekdays_of_month": None})  # every week
    assert {d for d in WEDNESDAYS if slot_for(d).agency_id == world.housing.id} == set(WEDNESDAYS)
    for _ in range(2):
        generation.generate(MONDAY.date())
    clock.move_to(MONDAY + dt.timedelta(weeks=1))
    generation.generate(dt.date(2024, 12, 16))
    # Every session has one housing slot, held by them, and one wanted IDVA slot: nothing doubled.
    sessions, slots = _state()
    assert len(slots) == 2 * len(sessions)
    assert count(RotaCommitmentDate, RotaCommitmentDate.commitment_id == first_and_third.id) == len(
        sessions
    )  # once each


def test_a_change_to_all_future_weeks_keeps_a_week_changed_on_its_own(world: RotaWorld) -> None:
    services.edit_session(world.manager, session_on(CHRISTMAS), {"starts_at": dt.time(11)})
    services.save_series(world.manager, world.series, {"starts_at": dt.time(9, 30), "venue": "The New Hall",
                                                       "wanted_services": ["housing", "idva", "legal"]})  # fmt: skip
    sessions = {s.date: s for s in db.session.scalars(sa.select(RotaSession))}
    assert sessions[CHRISTMAS].starts_at == dt.time(11)  # this week only: kept
    assert all(
        s.starts_at == dt.time(9, 30) and s.venue == "The New Hall" for d, s in sessions.items() if d != CHRISTMAS
    )
    assert count(RotaSlot, RotaSlot.service == Service.LEGAL, RotaSlot.wanted.is_(True)) == len(WEDNESDAYS)
    generation.generate(MONDAY.date())
    assert count(RotaSlot, RotaSlot.service == Service.LEGAL) == len(WEDNESDAYS)
    services.save_series(world.manager, world.series, {"wanted_services": ["housing", "legal"]})
    assert count(RotaSlot, RotaSlot.service == Service.IDVA) == 0  # open, never held: gone, not a gap any more
    generation.generate(MONDAY.date())
    assert count(RotaSlot, RotaSlot.service == Service.IDVA) == 0


def test_moving_the_drop_in_to_another_day_is_refused_and_changes_nothing(world: RotaWorld) -> None:
    before = _state()
    with pytest.raises(services.Invalid):
        services.save_series(world.manager, world.series, {"weekday": 3})
    assert _state() == before


def test_reminders_go_a_week_and_a_day_before_once_each_and_never_for_a_cancelled_session(
    world: RotaWorld, clock: Any
) -> None:
    services.take_slot(world.housing_lead, slot_for(dt.date(2024, 12, 18)), world.housing.id)
    services.take_slot(world.idva_lead, slot_for(CHRISTMAS, Service.IDVA), world.idva.id)
    services.cancel_session(world.manager, session_on(CHRISTMAS), "Christmas Day: the centre is closed")
    clock.move_to(dt.datetime(2024, 12, 11, 8, 0, tzinfo=dt.UTC))  # a week before the 18th
    assert jobs.send_reminders() == 1
    assert jobs.send_reminders() == 0
    clock.move_to(dt.datetime(2024, 12, 13, 8, 0, tzinfo=dt.UTC))
    assert jobs.send_reminders() == 0  # the week-before reminder went already
    clock.move_to(dt.datetime(2024, 12, 17, 8, 0, tzinfo=dt.UTC))
    sent = jobs.send_reminders()
    assert sent == 1 + 1  # the day before, to the agency; and to the manager: it is still not confirmed
    assert jobs.send_reminders() == 0
    keys = _reminders()
    assert len(keys) == len(set(keys)) == 3
    assert not [k for k in keys if f":{slot_for(CHRISTMAS, Service.IDVA).id}:" in k]
    bodies = " ".join(db.session.scalars(sa.select(Notification.body).where(Notification.kind.like("rota%"))))
    assert GIVEN_NAME not in bodies and FAMILY_NAME not in bodies


def test_a_slot_taken_late_gets_its_week_reminder_late_and_a_confirmed_one_no_manager_alert(
    world: RotaWorld, clock: Any
) -> None:
    clock.move_to(dt.datetime(2024, 12, 14, 8, 0, tzinfo=dt.UTC))  # 4 days before the 18th
    slot = slot_for(dt.date(2024, 12, 18))
    services.take_slot(world.housing_lead, slot, world.housing.id)
    assert jobs.send_reminders() == 1
    services.confirm_slot(world.housing_lead, slot)
    clock.move_to(dt.datetime(2024, 12, 17, 8, 0, tzinfo=dt.UTC))
    assert jobs.send_reminders() == 1  # the day before; confirmed, so no alert to the managers
    assert slot.status is SlotStatus.CONFIRMED


def test_cancelling_tells_everyone_booked_once(world: RotaWorld) -> None:
    for lead, agency, service in ((world.housing_lead, world.housing, Service.HOUSING),
                                  (world.idva_lead, world.idva, Service.IDVA)):  # fmt: skip
        services.take_slot(lead, slot_for(CHRISTMAS, service), agency.id)
    assert services.cancel_session(world.manager, session_on(CHRISTMAS), "Bank holiday") == 2
    with pytest.raises(services.Conflict):
        services.cancel_session(world.manager, session_on(CHRISTMAS), "Again")
    assert count(Notification, Notification.subject.like("%cancelled%")) == 2


def test_the_weekly_digest_lists_the_gaps_once_a_week(world: RotaWorld, clock: Any) -> None:
    assert jobs.send_gap_digest() == 1
    assert jobs.send_gap_digest() == 0
    digest = db.session.scalars(sa.select(Notification).where(Notification.kind == "rota.digest")).one()
    assert "16 wanted service(s) have no agency down" in digest.body
    clock.move_to(MONDAY + dt.timedelta(weeks=1))
    assert jobs.send_gap_digest() == 1
