"""Deadlines and escalation with frozen time, across the Christmas 2026 bank
holidays, plus the consent jobs and their place in the scheduler.

The calendar (England and Wales) these tests walk through:

    Thu 24 Dec 2026   working day: referrals are sent
    Fri 25 Dec        Christmas Day
    Sat 26, Sun 27    weekend (Boxing Day falls on the Saturday...)
    Mon 28 Dec        ...so this is the Boxing Day substitute bank holiday
    Tue 29 Dec        working day 1 after the 24th
    Wed 30 Dec        working day 2: a routine referral's "acknowledge by"
    Thu 31 Dec        working day 3
    Fri 1 Jan 2027    New Year's Day; Sat 2, Sun 3 weekend
    Mon 4 Jan ...     working days again

Escalation (``referrals.escalation``): stage 1 (the recipient) on the first
working day after a missed deadline, stage 2 (the agency's key contact and
deputy) on the second, stage 3 (our managers) on the third.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from agencies import services as directory
from agencies.models import Agency, AgencyKind, Contact
from consent import services as consent
from consent.models import (
    ConsentMethod,
    ConsentRecord,
    ConsentStatus,
    SafeguardingDecision,
    SafeguardingStatus,
    ServiceUser,
)
from hub.auth.models import User
from hub.db import db, utcnow
from hub.notifications.models import Notification
from hub.permissions import SYSTEM, Role
from hub.scheduler import JobRun, collect_jobs, run_job
from referrals import services
from referrals.escalation import chase_overdue_referrals
from referrals.models import Referral, ReferralReminder, Urgency
from referrals.states import Status
from tests.conftest import count_queries
from tests.helpers import make_agency, make_contact, make_user

LONDON = ZoneInfo("Europe/London")
CHRISTMAS_EVE = dt.date(2026, 12, 24)
MID_JANUARY = dt.date(2027, 1, 15)


def at(day: dt.date, hour: int = 9, minute: int = 30) -> dt.datetime:
    """A wall-clock time in London, as UTC (so time-machine leaves the process time zone alone)."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(dt.UTC)


def D(month: int, day: int) -> dt.date:
    return dt.date(2026 if month == 12 else 2027, month, day)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(at(CHRISTMAS_EVE, 10, 0), tick=False) as traveller:
        yield traveller


@dataclass
class World:
    staff: User  # the practitioner who sends, and her key worker
    managers: list[User]  # active managers (the decider first)
    closed_manager: User  # a manager whose account is disabled
    agency: Agency
    key: Contact  # key contact, email only
    deputy: Contact  # deputy, email only
    named: Contact  # the contact referrals are addressed to, with a hub account
    named_user: User
    lead: User  # the agency's partner lead
    person: ServiceUser

    def referral(self, urgency: Urgency = Urgency.ROUTINE, contact: Contact | None = None) -> Referral:
        """A referral sent now, on a consent recorded now."""
        if not db.session.scalar(
            sa.select(ConsentRecord.id).where(
                ConsentRecord.service_user_id == self.person.id, ConsentRecord.agency_id == self.agency.id
            )
        ):
            give_consent(self.staff, self.person, self.agency)
        draft = services.create_referral(
            self.staff,
            {
                "service_user_id": self.person.id,
                "agency_id": self.agency.id,
                "contact_id": (contact or self.named).id,
                "data_categories": ["identity", "housing"],
                "reason": "Leaving prison on licence with nowhere to live",
                "urgency": urgency,
            },
        )
        return services.send_referral(self.staff, draft)


def give_consent(staff: User, person: ServiceUser, agency: Agency, **overrides) -> ConsentRecord:
    data = {
        "agency_id": agency.id,
        "purposes": ["referral"],
        "data_categories": ["identity", "housing"],
        "method": ConsentMethod.WRITTEN,
        "given_on": utcnow().astimezone(LONDON).date(),
        **overrides,
    }
    return consent.record_consent(staff, person, data)


@pytest.fixture
def world(clock) -> World:
    staff = make_user(Role.PRACTITIONER, email="sender@charity.example")
    managers = [make_user(Role.MANAGER, email=f"manager{i}@charity.example") for i in (1, 2)]
    closed_manager = make_user(Role.MANAGER, email="closed.manager@charity.example", disabled_at=utcnow())
    agency = make_agency(AgencyKind.PROBATION, name="North Probation Delivery Unit")
    key = make_contact(agency, name="Kim Key", email="key@probation.example")
    deputy = make_contact(agency, name="Dee Deputy", email="deputy@probation.example")
    named_user = make_user(Role.PARTNER, agency=agency, linked=False, email="officer@probation.example")
    named = make_contact(agency, name="Ola Officer", email="officer@probation.example", user_id=named_user.id)
    lead = make_user(Role.PARTNER_LEAD, agency=agency, email="lead@probation.example")
    agency.key_contact_id, agency.deputy_contact_id = key.id, deputy.id
    person = consent.create_service_user(
        staff, {"given_name": "Marigold", "family_name": "Quennell", "date_of_birth": dt.date(1990, 3, 4)}
    )
    db.session.flush()
    return World(staff, managers, closed_manager, agency, key, deputy, named, named_user, lead, person)


def told() -> list[tuple[str, str]]:
    """Every notification so far, as (kind, email address), in order."""
    return [(n.kind, n.email) for n in db.session.scalars(sa.select(Notification).order_by(Notification.id))]


def reminders() -> list[tuple[int, str, dt.date, int, int]]:
    return [
        (r.referral_id, r.deadline, r.due_on, r.stage, r.recipients)
        for r in db.session.scalars(sa.select(ReferralReminder).order_by(ReferralReminder.id))
    ]


def chase_daily(
    clock: time_machine.Traveller,
    start: dt.date,
    end: dt.date,
    on_day: dict[dt.date, object] | None = None,
) -> dict[dt.date, list[tuple[str, str]]]:
    """Run the chase job twice each morning from ``start`` to ``end``; return
    what was newly told on each day. The second run must send nothing."""
    timeline: dict[dt.date, list[tuple[str, str]]] = {}
    day = start
    while day <= end:
        clock.move_to(at(day, 8, 5))
        if on_day and day in on_day:
            on_day[day]()  # type: ignore[operator]
        before = len(told())
        chase_overdue_referrals()
        after_first, reminded = told(), reminders()
        assert chase_overdue_referrals() == 0, f"second run on {day} sent something"
        assert told() == after_first and reminders() == reminded, f"second run on {day} told someone twice"
        new = [n for n in after_first[before:] if n[0] in {"referral.overdue", "referral.escalated"}]
        if new:
            timeline[day] = sorted(new)
        day += dt.timedelta(days=1)
    return timeline


OFFICER, KEY, DEPUTY, LEAD = (
    "officer@probation.example",
    "key@probation.example",
    "deputy@probation.example",
    "lead@probation.example",
)
MANAGERS = ("manager1@charity.example", "manager2@charity.example")


def stage1(*emails: str) -> list[tuple[str, str]]:
    return sorted(("referral.overdue", e) for e in emails)


def escalated(*emails: str) -> list[tuple[str, str]]:
    return sorted(("referral.escalated", e) for e in emails)


# Acknowledgement deadlines --------------------------------------------------------


def test_routine_referral_sent_on_christmas_eve_is_chased_once_per_stage(world, clock):
    referral = world.referral()
    # Two working days after Thu 24 Dec: Tue 29 (1), Wed 30 (2). 25-28 Dec are not working days.
    assert referral.acknowledge_by == D(12, 30)
    assert told() == [("referral.received", OFFICER)]

    timeline = chase_daily(clock, CHRISTMAS_EVE, MID_JANUARY)

    assert timeline == {
        D(12, 31): stage1(OFFICER),  # first working day after the deadline
        D(1, 4): escalated(KEY, DEPUTY),  # 1-3 Jan are not working days
        D(1, 5): escalated(*MANAGERS),  # never the disabled manager, nor the sender
    }
    assert [(r[1], r[2], r[3]) for r in reminders()] == [
        ("acknowledge", D(12, 30), 1),
        ("acknowledge", D(12, 30), 2),
        ("acknowledge", D(12, 30), 3),
    ]
    assert [r[4] for r in reminders()] == [1, 2, 2]
    # The scheduler's own job runs on weekdays: even run late, on a weekend, nothing repeats.
    clock.move_to(at(D(1, 16), 12))
    assert chase_overdue_referrals() == 0


def test_urgent_referral_gets_one_working_day(world, clock):
    referral = world.referral(Urgency.URGENT)
    assert referral.acknowledge_by == D(12, 29)

    timeline = chase_daily(clock, CHRISTMAS_EVE, MID_JANUARY)

    assert timeline == {
        D(12, 30): stage1(OFFICER),
        D(12, 31): escalated(KEY, DEPUTY),
        D(1, 4): escalated(*MANAGERS),
    }


def test_an_agencys_own_acknowledgement_time_is_honoured(world, clock):
    world.agency.acknowledge_days = 4
    routine = world.referral()
    urgent = world.referral(Urgency.URGENT)
    # 29, 30, 31 Dec, 4 Jan. Urgent stays at the (shorter) urgent default.
    assert routine.acknowledge_by == D(1, 4)
    assert urgent.acknowledge_by == D(12, 29)

    chase_daily(clock, CHRISTMAS_EVE, MID_JANUARY)

    by_referral = [(r[0], r[3], r[2]) for r in reminders() if r[0] == routine.id]
    assert by_referral == [(routine.id, 1, D(1, 4)), (routine.id, 2, D(1, 4)), (routine.id, 3, D(1, 4))]
    sent = {
        (r.stage, r.sent_at.astimezone(LONDON).date())
        for r in db.session.scalars(sa.select(ReferralReminder).where(ReferralReminder.referral_id == routine.id))
    }
    assert sent == {(1, D(1, 5)), (2, D(1, 6)), (3, D(1, 7))}


def test_an_agency_override_shorter_than_the_urgent_default_applies_to_urgent_too(world, clock):
    world.agency.acknowledge_days = 1
    db.session.flush()
    assert world.referral(Urgency.ROUTINE).acknowledge_by == D(12, 29)
    assert world.referral(Urgency.URGENT).acknowledge_by == D(12, 29)


# Leavers and closed accounts ----------------------------------------------------------


def test_contacts_who_have_left_are_never_told(world, clock):
    referral = world.referral()
    successor = make_contact(world.agency, name="Sam Successor", email="successor@probation.example")

    def officer_leaves():
        # The named officer leaves before her reminder: her work moves to her successor.
        directory.record_leaver(world.staff, world.named, left_on=D(12, 29), successor_id=successor.id)

    def deputy_leaves():
        directory.record_leaver(world.staff, world.deputy, left_on=D(1, 2))

    timeline = chase_daily(
        clock, CHRISTMAS_EVE, MID_JANUARY, on_day={D(12, 29): officer_leaves, D(1, 2): deputy_leaves}
    )

    db.session.refresh(referral)
    assert referral.recipient_contact_id == successor.id
    assert timeline == {
        D(12, 31): stage1("successor@probation.example"),
        D(1, 4): escalated(KEY),  # the deputy left on 2 Jan and nobody replaced her
        D(1, 5): escalated(*MANAGERS),
    }
    after_leaving = told()[1:]  # everything after the "new referral" message to the officer
    assert ("referral.readdressed", "successor@probation.example") in after_leaving
    assert all(email not in {OFFICER, DEPUTY} for _kind, email in after_leaving)


def test_a_key_contact_who_left_is_not_told_and_the_deputy_steps_up(world, clock):
    world.referral()

    def key_leaves():
        directory.record_leaver(world.staff, world.key, left_on=D(12, 31))

    timeline = chase_daily(clock, CHRISTMAS_EVE, MID_JANUARY, on_day={D(12, 31): key_leaves})

    assert world.agency.key_contact_id == world.deputy.id
    assert timeline[D(1, 4)] == escalated(DEPUTY)
    assert all(email != KEY for _kind, email in told())


def test_disabled_accounts_are_never_told(world, clock):
    # No named contact, no key contact: stage 1 goes to the agency's partner leads.
    closed_lead = make_user(Role.PARTNER_LEAD, agency=world.agency, email="closed.lead@probation.example")
    closed_lead.disabled_at = utcnow()
    # The deputy's hub account is closed: she is not emailed behind its back.
    deputy_user = make_user(
        Role.PARTNER, agency=world.agency, linked=False, email="deputy@probation.example", disabled_at=utcnow()
    )
    world.deputy.user_id = deputy_user.id
    world.agency.key_contact_id = None
    db.session.flush()
    give_consent(world.staff, world.person, world.agency)
    draft = services.create_referral(
        world.staff,
        {
            "service_user_id": world.person.id,
            "agency_id": world.agency.id,
            "data_categories": ["identity"],
            "reason": "Needs a probation appointment",
        },
    )
    referral = services.send_referral(world.staff, draft)
    assert referral.recipient_contact_id is None
    assert told() == [("referral.received", LEAD)]

    timeline = chase_daily(clock, CHRISTMAS_EVE, MID_JANUARY)

    assert timeline == {D(12, 31): stage1(LEAD), D(1, 5): escalated(*MANAGERS)}
    # Stage 2 was due on 4 Jan and is recorded, with nobody to tell.
    assert [(r[3], r[4]) for r in reminders()] == [(1, 1), (2, 0), (3, 2)]
    emails = {email for _kind, email in told()}
    assert not emails & {"closed.lead@probation.example", DEPUTY, "closed.manager@charity.example"}


# Deciding after acknowledgement ---------------------------------------------------


def test_acknowledging_stops_the_chase_and_the_decision_deadline_is_chased(world, clock):
    referral = world.referral()

    def acknowledge():
        services.acknowledge_referral(world.named_user, referral)
        # Five working days after New Year's Day: 4, 5, 6, 7, 8 Jan.
        assert referral.decide_by == D(1, 8)

    def accept():
        services.accept_referral(world.named_user, referral)

    end = dt.date(2027, 1, 29)
    timeline = chase_daily(clock, CHRISTMAS_EVE, end, on_day={D(1, 1): acknowledge, D(1, 14): accept})

    assert timeline == {
        D(12, 31): stage1(OFFICER),  # acknowledge-by reminder, before she acknowledged
        D(1, 11): stage1(OFFICER),  # decide-by: first working day after Fri 8 Jan
        D(1, 12): escalated(KEY, DEPUTY),
        D(1, 13): escalated(*MANAGERS),
    }
    assert [(r[1], r[2], r[3]) for r in reminders()] == [
        ("acknowledge", D(12, 30), 1),
        ("decide", D(1, 8), 1),
        ("decide", D(1, 8), 2),
        ("decide", D(1, 8), 3),
    ]
    assert referral.status is Status.ACCEPTED


def test_a_referral_accepted_in_time_is_never_chased(world, clock):
    referral = world.referral()
    clock.move_to(at(D(12, 29)))
    services.accept_referral(world.named_user, referral)
    assert chase_daily(clock, D(12, 29), MID_JANUARY) == {}
    assert reminders() == []


def test_declined_and_cancelled_referrals_are_not_chased(world, clock):
    declined, cancelled = world.referral(), world.referral()
    services.decline_referral(world.named_user, declined, "Not in our area")
    services.cancel_referral(world.staff, cancelled, "Sent by mistake")
    assert chase_daily(clock, CHRISTMAS_EVE, MID_JANUARY) == {}


# Consent jobs -----------------------------------------------------------------------


def test_consent_past_its_expiry_is_expired_and_its_referrals_go_on_hold(world, clock):
    record = give_consent(world.staff, world.person, world.agency, expires_on=D(12, 31))
    referral = world.referral()
    services.acknowledge_referral(world.named_user, referral)

    clock.move_to(at(D(12, 31), 0, 10))
    assert consent.expire_lapsed_consents(SYSTEM) == 0  # valid all of its last day
    assert services.open_referral(world.named_user, referral).visible

    clock.move_to(at(D(1, 1), 0, 10))
    before = len(told())
    assert consent.expire_lapsed_consents(SYSTEM) == 1
    assert record.status is ConsentStatus.EXPIRED and record.expired_at == utcnow()
    db.session.refresh(referral)
    assert referral.status is Status.ON_HOLD and referral.basis_lost
    assert referral.held_from is Status.ACKNOWLEDGED
    assert not services.open_referral(world.named_user, referral).visible
    held = db.session.scalars(sa.select(Notification).order_by(Notification.id)).all()[before:]
    assert [(n.kind, n.email) for n in held] == [("referral.hold", OFFICER)]
    text = held[0].subject + held[0].body
    assert referral.reference in text
    for secret in ("Marigold", "Quennell", "1990", "prison", "licence"):
        assert secret not in text

    assert consent.expire_lapsed_consents(SYSTEM) == 0
    assert len(told()) == before + 1
    # An on-hold referral is not chased for its old deadline.
    assert chase_daily(clock, D(1, 1), MID_JANUARY) == {}


def test_key_worker_is_reminded_once_before_consent_expires(world, clock):
    soon = give_consent(world.staff, world.person, world.agency, expires_on=D(1, 7))
    later = give_consent(world.staff, world.person, world.agency, expires_on=dt.date(2027, 2, 1))

    def run() -> list[tuple[str, str]]:
        before = len(told())
        consent.remind_expiring_consents(SYSTEM)
        return told()[before:]

    assert run() == [("consent.expiring", "sender@charity.example")]
    assert soon.expiry_reminder_sent_at == utcnow() and later.expiry_reminder_sent_at is None
    assert run() == []
    clock.move_to(at(D(1, 17)))  # 15 days before 1 Feb: not yet
    assert run() == []
    clock.move_to(at(D(1, 18)))  # 14 days before
    assert run() == [("consent.expiring", "sender@charity.example")]
    clock.move_to(at(D(1, 19)))
    assert run() == []
    message = db.session.scalars(sa.select(Notification).where(Notification.kind == "consent.expiring")).first()
    assert world.person.reference in message.subject and "Marigold" not in message.subject + message.body


def test_without_an_active_key_worker_managers_are_reminded(world, clock):
    world.staff.disabled_at = utcnow()
    db.session.flush()
    give_consent(make_user(Role.PRACTITIONER), world.person, world.agency, expires_on=D(1, 2))
    consent.remind_expiring_consents(SYSTEM)
    assert sorted(told()) == sorted(("consent.expiring", m) for m in MANAGERS)


def _emergency(world: World) -> SafeguardingDecision:
    return consent.decide_safeguarding(
        world.managers[0],
        world.person,
        {
            "agency_id": world.agency.id,
            "purposes": ["referral"],
            "data_categories": ["identity", "domestic_abuse"],
            "art6_basis": "6(1)(d)",
            "art9_condition": "9(2)(c)",
            "para18_reason": "would_prejudice",
            "justification": "Immediate risk from an ex-partner",
            "she_was_told": False,
            "not_told_reason": "Telling her would alert him",
            "review_on": dt.date(2027, 2, 1),
            "emergency": True,
        },
    )


def test_an_emergency_share_is_chased_over_christmas_then_stops_unapproved(world, clock):
    decision = _emergency(world)
    assert decision.approval_due_on == D(12, 30)  # 2 working days after Thursday 24 December
    assert told() == [("safeguarding.approval_needed", MANAGERS[1])]

    def reminders_on(day: dt.date) -> list[tuple[str, str]]:
        clock.move_to(at(day, 8, 0))
        before = len(told())
        consent.remind_unapproved_emergencies(SYSTEM)
        consent.remind_unapproved_emergencies(SYSTEM)  # a second run the same day adds nothing
        return sorted(told()[before:])

    due = [("safeguarding.approval_due", MANAGERS[1])]  # never the manager who decided
    assert reminders_on(D(12, 28)) == []  # a bank holiday: due two working days on
    assert reminders_on(D(12, 29)) == due  # due on the next working day
    assert reminders_on(D(12, 30)) == due  # due today
    clock.move_to(at(D(12, 31), 0, 10))
    assert consent.lapse_unapproved_emergencies(SYSTEM) == 1
    assert db.session.get(SafeguardingDecision, decision.id).status is SafeguardingStatus.ENDED
    assert sorted(told()[-2:]) == sorted(("safeguarding.emergency_lapsed", m) for m in MANAGERS)
    assert reminders_on(D(12, 31)) == []


def test_an_emergency_share_approved_in_time_is_not_chased_again(world, clock):
    decision = _emergency(world)
    clock.move_to(at(D(12, 29), 9, 0))
    consent.approve_safeguarding(world.managers[1], decision)
    clock.move_to(at(D(12, 30), 8, 0))
    assert consent.remind_unapproved_emergencies(SYSTEM) == 0
    clock.move_to(at(D(12, 31), 0, 10))
    assert consent.lapse_unapproved_emergencies(SYSTEM) == 0


# The scheduler --------------------------------------------------------------------


def test_jobs_are_registered_once_and_run_through_the_scheduler(app, world, clock):
    jobs = {job.id: job for job in collect_jobs()}
    assert len(jobs) == len(collect_jobs())
    expected = {
        "referrals.chase-overdue",
        "consent.expire-lapsed",
        "consent.remind-expiring",
        "consent.remind-emergency-approvals",
        "hub.deliver-email",
    }
    assert expected <= set(jobs)

    give_consent(world.staff, world.person, world.agency, expires_on=D(1, 5))
    referral_id = world.referral().id
    db.session.commit()

    clock.move_to(at(D(12, 31), 8, 5))
    for job_id in sorted(expected):
        assert run_job(app, jobs[job_id]) == "ok", job_id
    assert run_job(app, jobs["referrals.chase-overdue"]) == "ok"

    clock.move_to(at(D(1, 6), 0, 10))
    assert run_job(app, jobs["consent.expire-lapsed"]) == "ok"

    runs = db.session.scalars(sa.select(JobRun).order_by(JobRun.id)).all()
    assert [(r.job_id, r.outcome, r.summary) for r in runs if r.job_id.startswith(("referrals", "consent"))] == [
        (
            "consent.expire-lapsed",
            "ok",
            "0 consents expired, 0 unreviewed decisions ended, 0 unapproved emergency shares stopped",
        ),
        ("consent.remind-emergency-approvals", "ok", "0 awaiting approval"),
        ("consent.remind-expiring", "ok", "1 reminders"),
        ("referrals.chase-overdue", "ok", "1 reminders"),
        ("referrals.chase-overdue", "ok", "0 reminders"),
        (
            "consent.expire-lapsed",
            "ok",
            "1 consents expired, 0 unreviewed decisions ended, 0 unapproved emergency shares stopped",
        ),
    ]
    referral = db.session.get(Referral, referral_id)
    assert referral.status is Status.ON_HOLD
    assert db.session.scalar(sa.select(sa.func.count(ReferralReminder.id))) == 1
    assert not db.session.scalars(sa.select(SafeguardingDecision)).all()


# Sets, not rows -----------------------------------------------------------------------------


def test_a_backlog_is_chased_in_committed_batches_and_never_twice(world, clock, monkeypatch):
    """Every stage of every overdue referral is sent once, whatever the batch size; a second run,
    or a run in another process at the same time, finds nothing more to send."""
    from referrals import escalation

    ids = [world.referral().id for _ in range(7)]
    clock.move_to(at(D(1, 5), 8, 5))  # all three stages are due at once
    monkeypatch.setattr(escalation, "BATCH", 3)
    assert chase_overdue_referrals(commit=True) == 7 * 3
    assert sorted((r[0], r[3]) for r in reminders()) == sorted((i, s) for i in ids for s in (1, 2, 3))
    notified = told()
    assert chase_overdue_referrals(commit=True) == 0
    assert told() == notified
    # Each referral's escalation went to exactly the people of its stage.
    assert sorted(k for k, _e in notified if k != "referral.received") == sorted(
        ["referral.overdue"] * 7 + ["referral.escalated"] * 7 * 4
    )


def test_a_run_with_nothing_due_costs_the_same_however_many_referrals_are_overdue(app, world, clock):
    for _ in range(3):
        world.referral()
    clock.move_to(at(D(1, 5), 8, 5))
    chase_overdue_referrals()

    def statements() -> int:
        with count_queries(app) as seen:
            assert chase_overdue_referrals() == 0
        return len(seen)

    few = statements()
    clock.move_to(at(D(12, 24), 10, 0))
    for _ in range(30):
        world.referral()
    clock.move_to(at(D(1, 5), 8, 5))
    chase_overdue_referrals()
    assert statements() == few == len(STAGES_FOR_TEST)


STAGES_FOR_TEST = (1, 2, 3)  # one query per stage finds nothing due
