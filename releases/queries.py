"""Reads of custody and release plans, scoped to what the caller may see.

- Custody, plans and "who knows" are for our staff only; anyone else gets a
  404 (:class:`hub.permissions.NotFound`), as if nothing existed.
- A partner sees a release only where their agency is in her plan and, at
  this moment, her consent (or a safeguarding decision) covers
  ``release_planning`` and ``criminal_justice`` for it (:func:`partner_release`).
- The board reads a fixed number of statements whatever the number of
  releases: one for the page, one each for the item, referral and notice
  figures of the whole page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from agencies.models import Agency, AgencyKind, Contact, ContactStatus
from agencies.queries import current_holder as directory_holder
from consent import sharing
from consent.models import DataCategory, ServiceUser
from hub.auth.models import User
from hub.db import db, today
from hub.permissions import Actor, NotFound
from referrals.models import Referral
from referrals.states import Status as ReferralStatus
from releases import policies
from releases.models import OPEN_ITEM, CustodyEpisode, CustodyStatus, ItemStatus, PlanItem, ReleaseNotice
from releases.notices import NOTICE_CATEGORIES, PURPOSE, named_contact, plan_agency_ids

BOARD_WEEKS = 8
SOON_DAYS = 14
_OPEN = [s.value for s in OPEN_ITEM]
_WAITING = [ReferralStatus.SENT.value]
_ANSWERED = [ReferralStatus.ACKNOWLEDGED.value, ReferralStatus.ACCEPTED.value, ReferralStatus.IN_PROGRESS.value,
             ReferralStatus.COMPLETED.value]  # fmt: skip


def get_custody(actor: Actor, custody_id: int) -> CustodyEpisode:
    custody = db.session.get(CustodyEpisode, custody_id) if policies.can_view_custody(actor) else None
    if custody is None:
        raise NotFound("No such custody record.")
    return custody


def get_plan_item(actor: Actor, item_id: int) -> PlanItem:
    item = db.session.get(PlanItem, item_id) if policies.can_view_custody(actor) else None
    if item is None:
        raise NotFound("No such plan item.")
    return item


def custody_of(actor: Actor, service_user_id: int) -> list[CustodyEpisode]:
    if not policies.can_view_custody(actor):
        raise NotFound("No such service user.")
    return list(
        db.session.scalars(
            sa.select(CustodyEpisode)
            .where(CustodyEpisode.service_user_id == service_user_id)
            .order_by(CustodyEpisode.created_at.desc(), CustodyEpisode.id.desc())
        ).all()
    )


def plan_items(custody: CustodyEpisode) -> list[PlanItem]:
    return list(
        db.session.scalars(
            sa.select(PlanItem)
            .options(joinedload(PlanItem.agency), joinedload(PlanItem.contact), joinedload(PlanItem.owner))
            .where(PlanItem.custody_id == custody.id)
            .order_by(PlanItem.due_on.is_(None), PlanItem.due_on, PlanItem.id)
        ).all()
    )


def plan_referrals(items: Sequence[PlanItem]) -> dict[int, Referral]:
    ids = [item.referral_id for item in items if item.referral_id is not None]
    if not ids:
        return {}
    return {r.id: r for r in db.session.scalars(sa.select(Referral).where(Referral.id.in_(ids))).all()}


# The board and the API's list -----------------------------------------------------------------


@dataclass
class BoardRow:
    custody: CustodyEpisode
    person: ServiceUser
    items_open: int = 0
    items_overdue: int = 0
    items_soon: int = 0
    referrals_waiting: int = 0
    referrals_overdue: int = 0
    agencies: int = 0
    agencies_told: int = 0

    @property
    def colour(self) -> str:
        """red: something is late, or open with under 2 weeks to go; amber: waiting on someone, or due
        soon, or the prison must be asked; green: nothing pressing."""
        days_left = (self.custody.plan_on - today()).days
        if self.items_overdue or self.referrals_overdue or (self.items_open and days_left <= 2):
            return "red"
        if self.referrals_waiting or self.items_soon or self.agencies_told < self.agencies:
            return "amber"
        return "amber" if self.custody.ask_the_prison else "green"

    @property
    def reasons(self) -> list[str]:
        said = []
        if self.items_overdue:
            said.append(f"{self.items_overdue} overdue")
        if self.referrals_overdue:
            said.append(f"{self.referrals_overdue} referral{'s' if self.referrals_overdue > 1 else ''} late")
        if self.referrals_waiting:
            said.append(f"{self.referrals_waiting} waiting for acknowledgement")
        if self.items_soon:
            said.append(f"{self.items_soon} due within 2 weeks")
        if self.agencies_told < self.agencies:
            said.append(f"{self.agencies - self.agencies_told} of {self.agencies} agencies not told")
        if self.custody.ask_the_prison:
            said.append("ask the prison about the date")
        return said or ["nothing pressing"]


@dataclass
class Board:
    rows: list[BoardRow] = field(default_factory=list)
    start: dt.date = field(default_factory=today)
    end: dt.date = field(default_factory=today)


def _in_range(start: dt.date, end: dt.date) -> sa.ColumnElement[bool]:
    return sa.and_(CustodyEpisode.status == CustodyStatus.IN_CUSTODY, CustodyEpisode.expected_on >= start,
                   CustodyEpisode.expected_on <= end)  # fmt: skip


def list_releases(actor: Actor, start: dt.date, end: dt.date, *, page: int = 1, per_page: int = 50) -> list[BoardRow]:
    """Releases expected in the range, soonest first, with what is not done (staff: every one)."""
    if not policies.can_view_custody(actor):
        raise NotFound("No such resource.")
    rows = db.session.execute(
        sa.select(CustodyEpisode, ServiceUser)
        .join(ServiceUser, ServiceUser.id == CustodyEpisode.service_user_id)
        .where(_in_range(start, end))
        .order_by(CustodyEpisode.expected_on, CustodyEpisode.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return _figures([BoardRow(custody, person) for custody, person in rows])


def board(actor: Actor, weeks: int = BOARD_WEEKS) -> Board:
    start = today()
    end = start + dt.timedelta(weeks=weeks)
    return Board(list_releases(actor, start, end, per_page=200), start, end)


def _figures(rows: list[BoardRow]) -> list[BoardRow]:
    """Fill in each row's figures: three grouped statements for the whole page."""
    if not rows:
        return rows
    by_id = {row.custody.id: row for row in rows}
    ids = list(by_id)
    now = today()
    soon = now + dt.timedelta(days=SOON_DAYS)
    is_open = PlanItem.status.in_(_OPEN)
    for cid, open_, overdue, due_soon in db.session.execute(
        sa.select(
            PlanItem.custody_id,
            sa.func.count().filter(is_open),
            sa.func.count().filter(is_open, PlanItem.due_on < now),
            sa.func.count().filter(is_open, PlanItem.due_on >= now, PlanItem.due_on <= soon),
        )
        .where(PlanItem.custody_id.in_(ids))
        .group_by(PlanItem.custody_id)
    ):
        row = by_id[cid]
        row.items_open, row.items_overdue, row.items_soon = open_, overdue, due_soon
    for cid, waiting, late in db.session.execute(
        sa.select(
            PlanItem.custody_id,
            sa.func.count().filter(Referral.status.in_(_WAITING)),
            sa.func.count().filter(Referral.due_on < now),
        )
        .join(Referral, Referral.id == PlanItem.referral_id)
        .where(PlanItem.custody_id.in_(ids))
        .group_by(PlanItem.custody_id)
    ):
        by_id[cid].referrals_waiting, by_id[cid].referrals_overdue = waiting, late
    # Agencies in each plan (items not marked not needed, and her probation practitioner's), and how many
    # of them were told the current expected day.
    in_plan = sa.union(
        sa.select(PlanItem.custody_id.label("cid"), PlanItem.agency_id.label("aid")).where(
            PlanItem.custody_id.in_(ids), PlanItem.agency_id.is_not(None), PlanItem.status != "not_needed"
        ),
        sa.select(CustodyEpisode.id, Contact.agency_id)
        .join(Contact, Contact.id == CustodyEpisode.probation_contact_id)
        .where(CustodyEpisode.id.in_(ids)),
    ).subquery()
    told = (
        sa.select(ReleaseNotice.id)
        .join(CustodyEpisode, CustodyEpisode.id == ReleaseNotice.custody_id)
        .where(ReleaseNotice.custody_id == in_plan.c.cid, ReleaseNotice.agency_id == in_plan.c.aid,
               ReleaseNotice.expected_on == CustodyEpisode.expected_on)
        .exists()
    )  # fmt: skip
    prison = sa.select(CustodyEpisode.prison_agency_id).where(CustodyEpisode.id == in_plan.c.cid).scalar_subquery()
    for cid, agencies, told_count in db.session.execute(
        sa.select(in_plan.c.cid, sa.func.count(), sa.func.count().filter(told))
        .where(in_plan.c.aid != prison)
        .group_by(in_plan.c.cid)
    ):
        by_id[cid].agencies, by_id[cid].agencies_told = agencies, told_count
    return rows


# Who knows about this release ------------------------------------------------------------------


@dataclass
class Knows:
    agency: Agency
    covered: bool
    missing: str
    referral: Referral | None
    contact: Contact | None
    told_at: dt.datetime | None
    told_current: bool

    @property
    def gap(self) -> bool:
        answered = self.referral is not None and self.referral.status.value in _ANSWERED
        return not (self.covered and self.told_current and (self.referral is None or answered))


def _missing_words(missing: sharing.Missing) -> str:
    if missing.agency:
        return "No consent names this agency"
    if missing.purpose:
        return "Her consent here is not for planning her release"
    return "Her consent here does not cover her sentence and release"


def who_knows(actor: Actor, custody: CustodyEpisode) -> list[Knows]:
    """Each agency in her plan: consent held, plan referral's progress, the named contact (after any
    leaver), and whether it was told the current dates; gaps first."""
    if not policies.can_view_custody(actor):
        raise NotFound("No such custody record.")
    ids = plan_agency_ids(custody)
    if not ids:
        return []
    agencies = {a.id: a for a in db.session.scalars(sa.select(Agency).where(Agency.id.in_(ids))).all()}
    bases = sharing.find_bases(custody.service_user_id, ids, PURPOSE, set(NOTICE_CATEGORIES))
    items = plan_items(custody)
    referrals = plan_referrals(items)
    latest: dict[int, Referral] = {}
    for item in items:
        referral = referrals.get(item.referral_id) if item.referral_id is not None else None
        if referral is not None and (referral.agency_id not in latest or referral.id > latest[referral.agency_id].id):
            latest[referral.agency_id] = referral
    notices = db.session.execute(
        sa.select(ReleaseNotice.agency_id, sa.func.max(ReleaseNotice.told_at),
                  sa.func.count().filter(ReleaseNotice.expected_on == custody.expected_on))
        .where(ReleaseNotice.custody_id == custody.id)
        .group_by(ReleaseNotice.agency_id)
    ).all()  # fmt: skip
    told = {agency_id: (at, current > 0) for agency_id, at, current in notices}
    rows = []
    for agency_id in ids:
        basis = bases[agency_id]
        missing = _missing_words(basis) if isinstance(basis, sharing.Missing) else ""
        at, current = told.get(agency_id, (None, False))
        rows.append(
            Knows(agencies[agency_id], not isinstance(basis, sharing.Missing), missing, latest.get(agency_id),
                  named_contact(custody, agency_id), at, current)
        )  # fmt: skip
    return sorted(rows, key=lambda row: (not row.gap, row.agency.name))


# What a partner sees ----------------------------------------------------------------------------


def partner_basis(actor: Actor, custody: CustodyEpisode) -> sharing.Basis | None:
    """The basis on which this partner may see this release now, or None (and then a 404)."""
    if actor.agency_id is None or actor.is_staff or custody.status is CustodyStatus.TRANSFERRED:
        return None
    if actor.agency_id not in plan_agency_ids(custody):
        return None
    found = sharing.find_basis(custody.service_user_id, actor.agency_id, PURPOSE, set(NOTICE_CATEGORIES))
    return None if isinstance(found, sharing.Missing) else found


def shares_identity(basis: sharing.Basis) -> bool:
    return DataCategory.IDENTITY.value in basis.data_categories


def partner_releases(actor: Actor, *, limit: int = 100) -> list[tuple[CustodyEpisode, sharing.Basis]]:
    """Releases still to come whose plan includes this partner's agency and whose consent covers it now."""
    if not policies.can_see_partner_releases(actor):
        raise NotFound("No such resource.")
    agency_id = actor.agency_id
    in_plan = sa.or_(
        sa.exists().where(PlanItem.custody_id == CustodyEpisode.id, PlanItem.agency_id == agency_id,
                          PlanItem.status != "not_needed"),
        sa.exists().where(Contact.id == CustodyEpisode.probation_contact_id, Contact.agency_id == agency_id),
    )  # fmt: skip
    candidates = db.session.scalars(
        sa.select(CustodyEpisode)
        .where(CustodyEpisode.status == CustodyStatus.IN_CUSTODY, CustodyEpisode.prison_agency_id != agency_id,
               in_plan)
        .order_by(CustodyEpisode.expected_on, CustodyEpisode.id)
        .limit(limit)
    ).all()  # fmt: skip
    assert agency_id is not None
    answers = sharing.find_bases_at_agency(
        agency_id, [(c.service_user_id, PURPOSE, set(NOTICE_CATEGORIES)) for c in candidates]
    )
    return [(c, b) for c, b in zip(candidates, answers, strict=True) if isinstance(b, sharing.Basis)]


# What the release-planning pages look up ---------------------------------------------------------
# Read-only helpers for ``views.py``: choices for its forms, and what a page needs for all its rows in
# one statement (so the board and the partner list cost the same at any size).


def prisons() -> list[Agency]:
    return list(db.session.scalars(sa.select(Agency).where(Agency.kind == AgencyKind.PRISON).order_by(Agency.name)))


def probation_practitioners() -> list[Contact]:
    """Current contacts at probation agencies, with their agency (for the custody form's choice)."""
    return list(
        db.session.scalars(
            sa.select(Contact)
            .join(Agency, Agency.id == Contact.agency_id)
            .options(joinedload(Contact.agency))
            .where(Agency.kind == AgencyKind.PROBATION, Contact.status == ContactStatus.ACTIVE)
            .order_by(Contact.name, Contact.id)
        )
    )


def partner_contacts(agency_id: int | None = None) -> list[Contact]:
    """Current contacts at partner agencies (or at one), with their agency."""
    query = (
        sa.select(Contact)
        .join(Agency, Agency.id == Contact.agency_id)
        .options(joinedload(Contact.agency))
        .where(Agency.kind != AgencyKind.HOST, Contact.status == ContactStatus.ACTIVE)
        .order_by(Agency.name, Contact.name, Contact.id)
    )
    if agency_id is not None:
        query = query.where(Contact.agency_id == agency_id)
    return list(db.session.scalars(query))


def agency_names(ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = db.session.execute(sa.select(Agency.id, Agency.name).where(Agency.id.in_(wanted)))
    return {agency_id: name for agency_id, name in rows}  # noqa: C416 - typed rows


def overdue_items_of(actor: Actor, *, limit: int = 50) -> list[tuple[PlanItem, CustodyEpisode, ServiceUser]]:
    """Open plan items this member of staff holds whose due date has passed, of women still in custody."""
    if not policies.can_view_custody(actor) or actor.actor_id is None:
        return []
    rows = db.session.execute(
        sa.select(PlanItem, CustodyEpisode, ServiceUser)
        .join(CustodyEpisode, CustodyEpisode.id == PlanItem.custody_id)
        .join(ServiceUser, ServiceUser.id == CustodyEpisode.service_user_id)
        .where(*overdue_item_clause(), PlanItem.owner_user_id == actor.actor_id)
        .order_by(PlanItem.due_on, PlanItem.id)
        .limit(limit)
    ).all()
    return [(item, custody, person) for item, custody, person in rows]


def overdue_item_clause() -> list[sa.ColumnElement[bool]]:
    """An open item past its due date, in a plan for a woman still in custody."""
    return [PlanItem.status.in_(_OPEN), PlanItem.due_on < today(),
            CustodyEpisode.status == CustodyStatus.IN_CUSTODY]  # fmt: skip


def partner_release(actor: Actor, custody_id: int) -> tuple[CustodyEpisode, sharing.Basis]:
    """One release as a partner may see it now, with the basis it is shown on; else a 404."""
    custody = db.session.get(CustodyEpisode, custody_id) if not actor.is_staff else None
    basis = partner_basis(actor, custody) if custody is not None else None
    if custody is None or basis is None:
        raise NotFound("No such release.")
    return custody, basis


def agency_items(agency_id: int, custody_ids: Sequence[int]) -> dict[int, list[PlanItem]]:
    """What each of these plans asks of one agency (items not marked not needed), by custody."""
    found: dict[int, list[PlanItem]] = {custody_id: [] for custody_id in custody_ids}
    if not custody_ids:
        return found
    for item in db.session.scalars(
        sa.select(PlanItem)
        .where(PlanItem.custody_id.in_(custody_ids), PlanItem.agency_id == agency_id,
               PlanItem.status != "not_needed")
        .order_by(PlanItem.due_on.is_(None), PlanItem.due_on, PlanItem.id)
    ):  # fmt: skip
        found[item.custody_id].append(item)
    return found


def people(ids: Iterable[int]) -> dict[int, ServiceUser]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {p.id: p for p in db.session.scalars(sa.select(ServiceUser).where(ServiceUser.id.in_(wanted)))}


def key_worker_contact(person: ServiceUser) -> tuple[str, Contact | None, Agency | None]:
    """Who at the charity a partner (or she) should call about her: her key worker's name, their work
    entry in the charity's directory (phone, email) if they have one, and the charity's own entry."""
    host = db.session.scalar(sa.select(Agency).where(Agency.kind == AgencyKind.HOST))
    if person.key_worker_id is None:
        return "", None, host
    worker = db.session.get(User, person.key_worker_id)
    contact = db.session.scalar(
        sa.select(Contact)
        .join(Agency, Agency.id == Contact.agency_id)
        .where(Contact.user_id == person.key_worker_id, Agency.kind == AgencyKind.HOST,
               Contact.status == ContactStatus.ACTIVE)
    )  # fmt: skip
    active = worker is not None and worker.is_active
    return (worker.name if worker is not None and active else ""), (contact if active else None), host


_NOT_HAPPENING = frozenset({ItemStatus.NOT_NEEDED, ItemStatus.SUPPORT_DECLINED})


def card_contacts(custody: CustodyEpisode, items: Sequence[PlanItem]) -> list[tuple[Contact, bool]]:
    """The people to call named by her plan, after any leaver, once each: her probation practitioner
    (marked True), then each partner item's contact (or its agency's key contact where it names nobody)."""
    found: list[tuple[Contact, bool]] = []
    candidates: list[tuple[Contact | None, bool]] = [(custody.probation_contact, True)]
    for item in items:
        if item.agency_id is None or item.status in _NOT_HAPPENING:
            continue
        candidates.append((item.contact if item.contact is not None else _key_contact(item.agency_id), False))
    for contact, is_probation in candidates:
        holder = None if contact is None else contact if contact.is_active else directory_holder(contact)
        if holder is not None and holder.id not in {c.id for c, _p in found}:
            found.append((holder, is_probation))
    return found


def _key_contact(agency_id: int) -> Contact | None:
    agency = db.session.get(Agency, agency_id)
    return db.session.get(Contact, agency.key_contact_id) if agency and agency.key_contact_id else None
