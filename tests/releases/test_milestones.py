"""The milestone job (``releases.jobs``) under frozen time: each milestone of a
release is sent once, on its day, to her key worker and to the partners whose
items are not done (where her consent covers release planning with them); a
new date moves the milestones, a recall starts them again, and nothing names
her.

The release walked through: Friday 5 March 2027, so she is expected out on
Thursday 4 and planned for Wednesday 3 March 2027 (``PLAN``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from agencies import services as directory
from agencies.models import Contact
from consent.models import Disclosure
from hub.db import db
from hub.notifications.models import Notification
from hub.scheduler import JobRun, collect_jobs, run_job
from releases import jobs, services
from releases.catalogue import MILESTONES
from releases.jobs import KIND, send_milestones
from releases.models import CustodyEpisode, ItemStatus, MilestoneSent, PlanItem
from tests.conftest import count_queries
from tests.helpers import make_contact
from tests.releases.world import FAMILY_NAME, GIVEN_NAME, ReleaseWorld, build, custody

FRIDAY = dt.date(2027, 3, 5)
PLAN = dt.date(2027, 3, 3)
DAY = dt.timedelta(days=1)
pytestmark = pytest.mark.usefixtures("app")


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)  # GMT all winter: London's day too


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(at(PLAN - 91 * DAY), tick=False) as traveller:
        yield traveller


def _last_id() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Notification.id), 0))) or 0


def run_on(clock: Any, day: dt.date) -> list[Notification]:
    """Run the job on ``day`` (as at 10:00); the milestone messages it queued."""
    clock.move_to(at(day))
    since = _last_id()
    send_milestones()
    return list(
        db.session.scalars(
            sa.select(Notification).where(Notification.id > since, Notification.kind == KIND).order_by(Notification.id)
        )
    )


def milestone_of(note: Notification) -> str:
    assert note.dedupe_key is not None
    return note.dedupe_key.split(":")[3]


def walk(clock: Any, start: dt.date, end: dt.date, user_id: int, on_day: Any = None) -> dict[str, list[dt.date]]:
    """Run the job each day from ``start`` to ``end``: the days each milestone reached ``user_id``."""
    seen: dict[str, list[dt.date]] = {}
    day = start
    while day <= end:
        for note in run_on(clock, day):
            if note.user_id == user_id:
                seen.setdefault(milestone_of(note), []).append(day)
        if on_day is not None:
            on_day(day)
        day += DAY
    return seen


def _no_name_anywhere() -> None:
    for note in db.session.scalars(sa.select(Notification)).all():
        text = f"{note.subject} {note.body} {note.link}"
        assert GIVEN_NAME not in text and FAMILY_NAME not in text, text


def _item(world: ReleaseWorld, episode: CustodyEpisode, title: str, **data: Any) -> PlanItem:
    return services.add_plan_item(world.staff, episode, {"pathway": "health", "title": title, **data})


# Once each, on its day ---------------------------------------------------------------------------


def test_each_milestone_reaches_the_key_worker_once_on_its_day_from_12_weeks_to_3_weeks_after(clock: Any) -> None:
    world = build()
    episode = custody(world, FRIDAY, needs=("gp_register", "release_pack"))
    assert episode.plan_on == PLAN

    def release_on_the_day(day: dt.date) -> None:
        if day == PLAN:
            clock.move_to(at(PLAN, 17))
            services.record_release(world.staff, episode, PLAN)

    seen = walk(clock, PLAN - 91 * DAY, PLAN + 28 * DAY, world.staff.id, release_on_the_day)
    assert seen == {
        "12w": [PLAN - 84 * DAY],
        "8w": [PLAN - 56 * DAY],
        "4w": [PLAN - 28 * DAY],
        "14d": [PLAN - 14 * DAY],
        "2d": [PLAN - 2 * DAY],
        "day": [PLAN],
        "3w_after": [PLAN + 21 * DAY],
    }
    rows = db.session.execute(sa.select(MilestoneSent.milestone, MilestoneSent.cycle, MilestoneSent.plan_on)).all()
    assert sorted(rows) == sorted((m.key, 1, PLAN) for m in MILESTONES)
    _no_name_anywhere()


def test_running_twice_the_same_day_or_in_two_processes_sends_nothing_twice(clock: Any) -> None:
    world = build()
    episode = custody(world, FRIDAY, needs=("gp_register",))
    _item(world, episode, "GP appointment", agency_id=world.health.id, due_on=PLAN - 30 * DAY)
    first = run_on(clock, PLAN - 28 * DAY)
    assert {milestone_of(n) for n in first} == {"4w"} and len(first) == 2  # her key worker, the GP practice
    assert run_on(clock, PLAN - 28 * DAY) == []
    # A second process that found the same batch before the first recorded it: the messages' keys hold.
    db.session.execute(sa.delete(MilestoneSent))
    assert run_on(clock, PLAN - 28 * DAY) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MilestoneSent)) == 1
    assert run_on(clock, PLAN - 27 * DAY) == []


def test_a_custody_recorded_late_gets_only_the_latest_milestone(clock: Any) -> None:
    clock.move_to(at(PLAN - 20 * DAY))
    world = build()
    custody(world, FRIDAY)
    assert {milestone_of(n) for n in run_on(clock, PLAN - 20 * DAY)} == {"4w"}
    assert run_on(clock, PLAN - 19 * DAY) == []


def test_a_new_date_moves_the_milestones(clock: Any) -> None:
    world = build()
    episode = custody(world, FRIDAY)
    new_plan = dt.date(2027, 2, 17)  # the prison now says Friday 19 February

    def change_date(day: dt.date) -> None:
        if day == PLAN - 50 * DAY:
            assert services.change_custody(world.staff, episode, {"nominal_release_on": FRIDAY - 14 * DAY})
            assert episode.plan_on == new_plan

    seen = walk(clock, PLAN - 91 * DAY, new_plan + 2 * DAY, world.staff.id, change_date)
    assert seen == {
        "12w": [PLAN - 84 * DAY],
        # The milestone due when the date moved goes again, with the new day planned for.
        "8w": [PLAN - 56 * DAY, PLAN - 49 * DAY],
        "4w": [new_plan - 28 * DAY],  # 20 January, not the old T-28 (3 February: now 14 days to go)
        "14d": [new_plan - 14 * DAY],
        "2d": [new_plan - 2 * DAY],
        "day": [new_plan],
    }
    note = db.session.scalars(
        sa.select(Notification).where(Notification.dedupe_key.like(f"milestone:{episode.id}:1:4w:%"))
    ).one()
    assert "Wednesday 17 February 2027" in note.body


def test_a_released_episode_gets_only_three_weeks_after(clock: Any) -> None:
    early = PLAN - 20 * DAY  # out early on home detention curfew
    clock.move_to(at(early))
    world = build()
    episode = custody(world, FRIDAY, needs=("gp_register",))
    services.record_release(world.staff, episode, early)
    seen = walk(clock, early, PLAN + 40 * DAY, world.staff.id)
    assert seen == {"3w_after": [early + 21 * DAY]}
    note = db.session.scalars(sa.select(Notification).where(Notification.kind == KIND)).one()
    assert note.subject == f"Release {episode.reference}: 3 weeks after release, 1 item not done"
    assert note.body.startswith(f"She was released on Thursday 11 February 2027 ({episode.reference})")
    assert "Register with a GP before release" in note.body  # still open: every open item after release


def test_a_recall_starts_the_milestones_again(clock: Any) -> None:
    world = build()
    episode = custody(world, FRIDAY, needs=("gp_register",))
    clock.move_to(at(PLAN, 17))
    services.record_release(world.staff, episode, PLAN)
    clock.move_to(at(PLAN + 2 * DAY))
    services.record_recall(world.staff, episode, {"nominal_release_on": dt.date(2027, 5, 14)})
    new_plan = episode.plan_on
    assert episode.cycle == 2 and new_plan == dt.date(2027, 5, 12)
    seen = walk(clock, PLAN + 2 * DAY, new_plan + 2 * DAY, world.staff.id)
    assert seen == {
        "12w": [PLAN + 2 * DAY],  # 68 days to go when she was recalled: the latest due milestone
        "8w": [new_plan - 56 * DAY],
        "4w": [new_plan - 28 * DAY],
        "14d": [new_plan - 14 * DAY],
        "2d": [new_plan - 2 * DAY],
        "day": [new_plan],
    }
    assert {c for (c,) in db.session.execute(sa.select(MilestoneSent.cycle))} == {2}


# What is said, and to whom ------------------------------------------------------------------------


def test_the_key_worker_gets_the_list_of_what_is_not_done_by_the_next_milestone(clock: Any) -> None:
    world = build()
    episode = custody(world, FRIDAY, needs=("id", "gp_register", "medication", "release_pack"))
    items = {i.title: i for i in db.session.scalars(sa.select(PlanItem)).all()}
    services.change_plan_item(world.staff, items["Apply for ID"], {"status": ItemStatus.DONE})
    referral = services.refer_plan_item(
        world.staff, items["Register with a GP before release"],
        {"agency_id": world.health.id, "data_categories": ["identity", "physical_health"], "reason": "GP please"},
    )  # fmt: skip
    notes = [n for n in run_on(clock, PLAN - 28 * DAY) if n.user_id == world.staff.id]
    assert len(notes) == 1
    note = notes[0]
    assert note.subject == f"Release {episode.reference}: 4 weeks to go, 2 items not done"
    assert "planned for Wednesday 3 March 2027" in note.body
    assert "Register with a GP before release (Riverside GP Practice, due Wednesday 3 February 2027)" in note.body
    assert f"referral {referral.reference} not yet acknowledged" in note.body
    assert "Medication for release day" in note.body  # due at 14 days: by the next milestone
    assert "Apply for ID" not in note.body and "Release pack" not in note.body  # done; due later
    assert note.link.endswith(f"/custody/{episode.id}")
    _no_name_anywhere()


def test_a_partner_is_told_only_its_own_items_and_only_with_release_planning_consent(clock: Any) -> None:
    world = build()
    episode = custody(world, FRIDAY)
    _item(world, episode, "GP appointment after release", agency_id=world.health.id,
          contact_id=world.gp_contact.id, due_on=PLAN - 20 * DAY)  # fmt: skip
    _item(world, episode, "Housing assessment", agency_id=world.housing.id, due_on=PLAN - 20 * DAY)
    notes = run_on(clock, PLAN - 28 * DAY)
    gp = [n for n in notes if n.user_id == world.gp_lead.id]
    assert len(gp) == 1
    assert gp[0].subject == f"Release {episode.reference}: 4 weeks to go, 1 item not done"
    assert "GP appointment after release" in gp[0].body and "Housing assessment" not in gp[0].body
    assert gp[0].link.endswith(f"/releases/{episode.id}")
    # Housing has her consent for referrals only: it is never told, nor its leads.
    assert not [n for n in notes if n.user_id == world.housing_lead.id]
    assert not db.session.scalars(sa.select(Notification).where(Notification.user_id == world.housing_lead.id)).all()
    logged = db.session.scalars(sa.select(Disclosure).where(Disclosure.context == "release_milestone")).all()
    assert [(d.agency_id, d.purpose, d.context_id) for d in logged] == [
        (world.health.id, "release_planning", episode.id)
    ]
    _no_name_anywhere()


def test_an_item_without_a_contact_goes_to_the_agencys_partner_leads(clock: Any) -> None:
    world = build()
    episode = custody(world, FRIDAY)
    _item(world, episode, "Script ready on the day", agency_id=world.health.id, due_on=PLAN - 14 * DAY)
    notes = run_on(clock, PLAN - 28 * DAY)
    assert [n.user_id for n in notes if n.link.endswith(f"/releases/{episode.id}")] == [world.gp_lead.id]


def test_a_contact_who_left_is_not_told_and_whoever_took_over_is(clock: Any) -> None:
    world = build()
    episode = custody(world, FRIDAY)
    leaver = make_contact(world.health, name="Lee Leftpractice", email="lee@riverside.example")
    taker = make_contact(world.health, name="Tam Takeover", email="tam@riverside.example")
    _item(world, episode, "Community mental health appointment", agency_id=world.health.id,
          contact_id=leaver.id, due_on=PLAN + 7 * DAY)  # fmt: skip
    clock.move_to(at(PLAN, 17))
    services.record_release(world.staff, episode, PLAN)
    # She is out, so the item stays named after the leaver: the job finds who holds their work.
    directory.record_leaver(world.staff, leaver, left_on=PLAN + 10 * DAY, successor_id=taker.id)
    db.session.flush()
    assert db.session.get(Contact, leaver.id).is_active is False
    notes = run_on(clock, PLAN + 21 * DAY)
    emails = [n.email for n in notes if n.link.endswith(f"/releases/{episode.id}")]
    assert emails == ["tam@riverside.example"]
    leaver_told = sa.select(Notification.kind).where(Notification.email == "lee@riverside.example")
    assert db.session.scalars(leaver_told).all() == ["release.date"]  # told the date while still there


def test_without_an_active_key_worker_our_managers_are_told(clock: Any) -> None:
    world = build()
    custody(world, FRIDAY)
    world.person.key_worker_id = None
    db.session.flush()
    notes = run_on(clock, PLAN - 28 * DAY)
    assert [n.user_id for n in notes] == [world.manager.id]


# Sets, not rows; the scheduler --------------------------------------------------------------------


def test_a_backlog_is_sent_in_batches_once_each(clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    world = build()
    ids = [custody(world, FRIDAY).id for _ in range(5)]
    monkeypatch.setattr(jobs, "BATCH", 2)
    clock.move_to(at(PLAN - 28 * DAY))
    assert send_milestones(commit=True) == 5
    sent = db.session.execute(sa.select(MilestoneSent.custody_id, MilestoneSent.recipients)).all()
    assert sorted(sent) == [(i, 1) for i in sorted(ids)]
    assert send_milestones(commit=True) == 0


def test_nothing_due_costs_one_query_per_milestone_however_many_releases(app: Flask, clock: Any) -> None:
    world = build()
    for nominal in (FRIDAY, FRIDAY + 7 * DAY, FRIDAY + 70 * DAY):
        custody(world, nominal, needs=("gp_register",))
    clock.move_to(at(PLAN - 28 * DAY))
    send_milestones()

    def statements() -> int:
        with count_queries(app) as seen:
            assert send_milestones() == 0
        return len(seen)

    assert statements() == len(MILESTONES)
    for _ in range(10):
        custody(world, FRIDAY)
    send_milestones()
    assert statements() == len(MILESTONES)


def test_the_job_runs_through_the_scheduler(app: Flask, clock: Any) -> None:
    job = {j.id: j for j in collect_jobs()}["releases.milestones"]
    assert job.cron == {"hour": 7, "minute": 30}
    world = build()
    custody(world, FRIDAY)
    db.session.commit()
    clock.move_to(at(PLAN - 28 * DAY, 7))
    assert run_job(app, job) == "ok"
    assert run_job(app, job) == "ok"
    runs = db.session.scalars(sa.select(JobRun).where(JobRun.job_id == job.id).order_by(JobRun.id)).all()
    assert [(r.outcome, r.summary) for r in runs] == [("ok", "1 milestones"), ("ok", "0 milestones")]
