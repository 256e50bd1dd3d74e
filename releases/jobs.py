"""The milestones before (and after) a release, sent in sets, once each.

Milestones count back from the day planned for (``plan_on``, the earliest day
she could walk out): 12 weeks, 8 weeks, 4 weeks, 14 days, 2 days, the day
itself, and 3 weeks after the day she was released (``released_on``). Each
morning a custody gets its *latest* due milestone, if not yet sent for its
cycle and day planned for:

- a milestone before the day is due from its day until the day before the
  next one (a custody recorded late gets the latest one only);
- the day itself on the day and the day after, while she is in custody;
- 3 weeks after: within 7 days of it, once she has been released (and
  nothing else is sent for a released episode).

Who is told what is not done (the open plan items due by the next milestone,
every open one from the day on, and plan referrals not yet acknowledged):
her key worker (else our managers), with every item; and each partner agency
with items listed, only where her consent (or a safeguarding decision) covers
``release_planning`` and ``criminal_justice`` for it now (a disclosure,
logged), addressed to each item's contact (after a leaver, whoever holds
their work) else the agency's partner leads, with its own items only.
Messages carry the custody reference, the milestone, the day and the items'
titles, never her name.

Invariants: one query per milestone finds a batch of what is due and not yet
sent (``ix_custody_by_plan_on``); a few load what the batch needs; one
statement queues the messages (each under a dedupe key) and one records the
milestones (INSERT .. ON CONFLICT DO NOTHING on ``uq_release_milestones_once``),
so running twice, or in two processes at once, sends nothing twice. A new date
moves ``plan_on`` and so the milestones; a recall starts a new ``cycle``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from agencies import messaging
from agencies import queries as directory
from agencies.models import Agency
from consent import sharing
from consent.models import DisclosureKind, ServiceUser
from hub.auth.models import User
from hub.auth.services import active_managers
from hub.db import db, today, utcnow
from hub.notifications.services import Message, notify_many
from hub.permissions import SYSTEM
from hub.scheduler import Job
from referrals.models import Referral
from referrals.states import Status as ReferralStatus
from releases.catalogue import MILESTONES, Milestone
from releases.models import OPEN_ITEM, CustodyEpisode, CustodyStatus, MilestoneSent, PlanItem, Responsible
from releases.notices import NOTICE_CATEGORIES, PURPOSE, long_date

BATCH = 500  # custody episodes per batch: each batch is one short transaction when the job commits it
KIND = "release.milestone"
DAY, AFTER = "day", "3w_after"
DAY_GRACE, AFTER_GRACE = 1, 7  # days after its own day that the day itself, and 3 weeks after, may still go
CONFIRM_AT = {"14d", "2d"}  # the prison confirms release dates at its 14-day and 2-day checks
_OPEN = [s.value for s in OPEN_ITEM]


def window(milestone: Milestone, on: dt.date) -> tuple[dt.date, dt.date]:
    """The days planned for (released on, for 3 weeks after) whose latest due milestone on ``on`` is this one."""
    after = dt.timedelta(days=-milestone.days_before)
    if milestone.key == AFTER:
        return on - after - dt.timedelta(days=AFTER_GRACE), on - after
    if milestone.key == DAY:
        return on - dt.timedelta(days=DAY_GRACE), on
    following = MILESTONES[MILESTONES.index(milestone) + 1]
    return on + dt.timedelta(days=following.days_before + 1), on + dt.timedelta(days=milestone.days_before)


def cutoff(milestone: Milestone, plan_on: dt.date) -> dt.date | None:
    """Items due on or before this day are listed at this milestone (None: every open item)."""
    if milestone.key in (DAY, AFTER):
        return None
    return plan_on - dt.timedelta(days=MILESTONES[MILESTONES.index(milestone) + 1].days_before)


def _due(milestone: Milestone, on: dt.date, limit: int) -> Sequence[sa.Row[Any]]:
    sent = (
        sa.select(MilestoneSent.id)
        .where(MilestoneSent.custody_id == CustodyEpisode.id, MilestoneSent.cycle == CustodyEpisode.cycle,
               MilestoneSent.milestone == milestone.key, MilestoneSent.plan_on == CustodyEpisode.plan_on)
        .exists()
    )  # fmt: skip
    start, end = window(milestone, on)
    if milestone.key == AFTER:
        when = sa.and_(CustodyEpisode.status == CustodyStatus.RELEASED, CustodyEpisode.released_on.between(start, end))
    else:
        when = sa.and_(CustodyEpisode.status == CustodyStatus.IN_CUSTODY, CustodyEpisode.plan_on.between(start, end))
    return db.session.execute(
        sa.select(CustodyEpisode.id, CustodyEpisode.reference, CustodyEpisode.cycle, CustodyEpisode.plan_on,
                  CustodyEpisode.released_on, CustodyEpisode.service_user_id, ServiceUser.key_worker_id)
        .join(ServiceUser, ServiceUser.id == CustodyEpisode.service_user_id)
        .where(when, ~sent)
        .order_by(CustodyEpisode.plan_on, CustodyEpisode.id)
        .limit(limit)
    ).all()  # fmt: skip


@dataclass(frozen=True)
class Item:
    title: str
    due_on: dt.date | None
    agency_id: int | None
    agency: str  # the partner's name, else who does it ("the prison", "us")
    contact_id: int | None
    waiting: str  # the reference of its referral while not yet acknowledged, else ""

    def line(self, *, who: bool) -> str:
        said = [self.agency] if who else []
        if self.due_on is not None:
            said.append(f"due {long_date(self.due_on)}")
        text = f"- {self.title}" + (f" ({', '.join(said)})" if said else "")
        return text + (f": referral {self.waiting} not yet acknowledged" if self.waiting else "")


def _not_done(due: Sequence[sa.Row[Any]], milestone: Milestone) -> dict[int, list[Item]]:
    """Each custody's items not done by the next milestone, and those whose referral waits: one query."""
    waiting = Referral.status == ReferralStatus.SENT
    rows = db.session.execute(
        sa.select(PlanItem.custody_id, PlanItem.title, PlanItem.due_on, PlanItem.status, PlanItem.responsible,
                  PlanItem.agency_id, PlanItem.contact_id, Agency.name,
                  sa.case((waiting, Referral.reference), else_=sa.literal("")))
        .outerjoin(Agency, Agency.id == PlanItem.agency_id)
        .outerjoin(Referral, Referral.id == PlanItem.referral_id)
        .where(PlanItem.custody_id.in_([r.id for r in due]), sa.or_(PlanItem.status.in_(_OPEN), waiting))
        .order_by(PlanItem.due_on.is_(None), PlanItem.due_on, PlanItem.id)
    ).all()  # fmt: skip
    last = {r.id: cutoff(milestone, r.plan_on) for r in due}
    found: dict[int, list[Item]] = {r.id: [] for r in due}
    for cid, title, due_on, status, responsible, agency_id, contact_id, agency, reference in rows:
        by = last[cid]
        if reference or (status in OPEN_ITEM and (by is None or (due_on is not None and due_on <= by))):
            doer = agency or (
                "no partner chosen yet" if responsible is Responsible.PARTNER else responsible.label.lower()
            )
            found[cid].append(Item(title, due_on, agency_id, doer, contact_id, reference or ""))
    return found


def _holders(contact_ids: set[int]) -> dict[int, messaging.Reach]:
    """Whom to tell for each item contact: the contact, or whoever now holds a leaver's work."""
    reach = messaging.reach_of(contact_ids)
    moved = {cid: directory.current_holder(r.contact) for cid, r in reach.items() if not r.contact.is_active}
    others = messaging.reach_of(h.id for h in moved.values() if h is not None)
    for cid, holder in moved.items():
        if holder is not None:
            reach[cid] = others[holder.id]
    return {cid: r for cid, r in reach.items() if r.reachable}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def _opening(row: sa.Row[Any], milestone: Milestone) -> str:
    if milestone.key == AFTER:
        return f"She was released on {long_date(row.released_on)} ({row.reference}): {milestone.label}."
    return f"The release {row.reference} is planned for {long_date(row.plan_on)}: {milestone.label}."


def _key_worker_text(row: sa.Row[Any], milestone: Milestone, items: list[Item]) -> tuple[str, str]:
    body = _opening(row, milestone)
    if milestone.key in CONFIRM_AT:
        body += " Confirm the date with the prison."
    by = cutoff(milestone, row.plan_on)
    if items:
        when = f" due by {long_date(by)}" if by else ""
        body += f"\n\n{_plural(len(items), 'item')} in her plan{when} {_are(len(items))} not done:\n"
        body += "\n".join(item.line(who=True) for item in items)
    else:
        body += "\n\nEverything in her plan due by then is done."
    return f"Release {row.reference}: {milestone.label}, {_plural(len(items), 'item')} not done", body


def _partner_text(row: sa.Row[Any], milestone: Milestone, agency: str, items: list[Item]) -> tuple[str, str]:
    body = (
        f"{_opening(row, milestone)}\n\n{_plural(len(items), 'item')} for {agency} {_are(len(items))} not done:\n"
        + "\n".join(item.line(who=False) for item in items)
    )
    return f"Release {row.reference}: {milestone.label}, {_plural(len(items), 'item')} not done", body


def send_batch(milestone: Milestone, on: dt.date | None = None, limit: int | None = None) -> int:
    """Send one batch (``BATCH`` by default) of this milestone's messages that are due and not yet
    sent. Returns how many custody episodes were done (0: nothing more is due for this milestone)."""
    on = on or today()
    due = _due(milestone, on, limit or BATCH)
    if not due:
        return 0
    items = _not_done(due, milestone)
    keep = {u.id: u for u in db.session.scalars(sa.select(User).where(
        User.id.in_({r.key_worker_id for r in due if r.key_worker_id}), User.disabled_at.is_(None)))}  # fmt: skip
    managers = active_managers() if any(r.key_worker_id not in keep for r in due) else []
    # Which partner agencies may be told about which release: asked agency by agency (few), for the batch.
    asked: dict[int, list[sa.Row[Any]]] = {}
    for r in due:
        for agency_id in dict.fromkeys(i.agency_id for i in items[r.id] if i.agency_id is not None):
            asked.setdefault(agency_id, []).append(r)
    bases: dict[tuple[int, int], sharing.Basis] = {}
    for agency_id, rows in asked.items():
        answers = sharing.find_bases_at_agency(
            agency_id, [(r.service_user_id, PURPOSE, set(NOTICE_CATEGORIES)) for r in rows]
        )
        bases.update({(r.id, agency_id): b for r, b in zip(rows, answers, strict=True) if isinstance(b, sharing.Basis)})
    covered = [i for r in due for i in items[r.id] if (r.id, i.agency_id) in bases]
    reach = _holders({i.contact_id for i in covered if i.contact_id is not None})
    leads = messaging.leads_of(i.agency_id for i in covered if i.agency_id and i.contact_id not in reach)

    messages: list[Message] = []
    told: dict[int, list[str]] = {}  # custody id -> dedupe keys of its messages
    shared: dict[str, tuple[sa.Row[Any], int]] = {}  # dedupe key -> (custody, agency) it discloses to
    for r in due:
        key = f"milestone:{r.id}:{r.cycle}:{milestone.key}:{r.plan_on.isoformat()}"
        subject, body = _key_worker_text(r, milestone, items[r.id])
        staff = [keep[r.key_worker_id]] if r.key_worker_id in keep else managers
        sent = [Message(KIND, subject, body, f"/custody/{r.id}", f"{key}:u{u.id}", user=u) for u in staff]
        by_agency: dict[int, list[Item]] = {}
        for item in items[r.id]:
            if item.agency_id is not None and (r.id, item.agency_id) in bases:
                by_agency.setdefault(item.agency_id, []).append(item)
        for agency_id, theirs in by_agency.items():
            people: dict[str, tuple[User | None, str, list[Item]]] = {}  # who -> (account, address, items)
            for item in theirs:
                holder = reach.get(item.contact_id) if item.contact_id is not None else None
                if holder is not None:
                    who = [(f"c{holder.contact.id}", holder.user, holder.contact.email)]
                else:
                    who = [(f"u{lead.id}", lead, "") for lead in leads.get(agency_id, [])]
                for name, user, email in who:
                    people.setdefault(name, (user, email, []))[2].append(item)
            for name, (user, email, listed) in people.items():
                subject, body = _partner_text(r, milestone, listed[0].agency, listed)
                sent.append(Message(KIND, subject, body, f"/releases/{r.id}", f"{key}:{name}", user=user, email=email))
                shared[f"{key}:{name}"] = (r, agency_id)
        told[r.id] = [m.dedupe_key for m in sent]
        messages += sent
    queued = notify_many(messages)
    disclosed = {(r.id, agency_id): r for k, (r, agency_id) in shared.items() if k in queued}
    sharing.disclose_many(SYSTEM, [
        (bases[pair], {"service_user_id": r.service_user_id, "agency_id": pair[1], "kind": DisclosureKind.SENT,
                       "categories": NOTICE_CATEGORIES, "purpose": PURPOSE, "context": "release_milestone",
                       "context_id": r.id})
        for pair, r in disclosed.items()
    ])  # fmt: skip
    insert = sqlite_insert if db.session.get_bind().dialect.name == "sqlite" else pg_insert
    db.session.execute(
        insert(MilestoneSent).on_conflict_do_nothing(),
        [
            {"custody_id": r.id, "cycle": r.cycle, "milestone": milestone.key, "plan_on": r.plan_on,
             "sent_at": utcnow(), "recipients": sum(k in queued for k in told[r.id])}
            for r in due
        ],
    )  # fmt: skip
    return len(due)


def send_milestones(on: dt.date | None = None, commit: bool = False) -> int:
    """Send every milestone that is due and not yet sent, milestone by milestone, batch by batch
    (each committed when ``commit``: a crash loses nothing done, and nothing is sent twice)."""
    on = on or today()
    done = 0
    for milestone in MILESTONES:
        while batch := send_batch(milestone, on):
            done += batch
            if commit:
                db.session.commit()
            if batch < BATCH:
                break
    db.session.flush()
    return done


def release_milestones() -> str:
    return f"{send_milestones(commit=True)} milestones"


JOBS = [
    Job(
        "releases.milestones",
        release_milestones,
        cron={"hour": 7, "minute": 30},
        description="Tell key workers and partners what is not done, 12 weeks to 3 weeks after each release",
    ),
]
