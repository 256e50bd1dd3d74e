"""Release-planning use cases: record custody, keep the day of release and the
plan in step with it, tell every agency in the plan, refer items, record the
release and a recall.

Invariants:
- The stored ``release`` always matches :func:`releases.dates.release_day` of
  the stored inputs (``_recompute``), and is never later than the statutory day.
- When the dates change, each plan item's due date moves with the day planned
  for, every open plan referral's deadline is recomputed (through
  :func:`referrals.services.reschedule_referral`), and every agency in the plan
  whose consent covers it is told once, in the same transaction: a logged
  disclosure and a message carrying the reference and the dates only.
- A plan item that needs a partner becomes a referral with purpose
  ``release_planning``, sent through the consent gate like any other.
- Each checks its own policy and flushes; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from agencies.models import Agency, AgencyKind, Contact
from consent.models import ServiceUser
from hub import audit
from hub.db import db, london_date, today
from hub.db import new_reference as db_new_reference
from hub.permissions import Actor, Conflict, Invalid, require
from referrals import services as referral_services
from referrals.models import Referral
from referrals.states import Status as ReferralStatus
from releases import catalogue, dates, policies
from releases.models import (
    CustodyEpisode,
    CustodyStatus,
    ItemStatus,
    NightOne,
    Pathway,
    PlanItem,
    ReleaseNotice,
    Responsible,
)

# Re-exported (``X as X``) for the pages and jobs, which read them through services.
from releases.notices import NOTICE_CATEGORIES as NOTICE_CATEGORIES
from releases.notices import PURPOSE as PURPOSE
from releases.notices import long_date as long_date
from releases.notices import plan_agency_ids, tell_agencies
from releases.notices import release_day_of as release_day_of

RELEASE_FIELDS = ("custody_type", "sentence_kind", "sentenced_on", "term_days", "release_type", "nominal_release_on")
_CLOSED_REFERRAL = {ReferralStatus.COMPLETED, ReferralStatus.DECLINED, ReferralStatus.CANCELLED}


def _recompute(custody: CustodyEpisode) -> bool:
    """Store the rule's answer; True when a date she could walk out on moved."""
    day = release_day_of(custody)
    before = (custody.statutory_on, custody.expected_on, custody.earliest_on)
    custody.statutory_on, custody.expected_on, custody.earliest_on = day.statutory_on, day.expected_on, day.earliest_on
    custody.plan_on, custody.rule, custody.ask_the_prison = day.plan_on, day.rule, day.ask_the_prison
    return before != (day.statutory_on, day.expected_on, day.earliest_on)


# Checking what was given -------------------------------------------------------------


def _prison(agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.kind is not AgencyKind.PRISON:
        raise Invalid.on_field("prison_agency_id", "Choose a prison from the directory")
    return agency


def _probation_contact(contact_id: int | None) -> Contact | None:
    if contact_id is None:
        return None
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.agency.kind is not AgencyKind.PROBATION:
        raise Invalid.on_field("probation_contact_id", "Choose a probation practitioner from the directory")
    if not contact.is_active:
        raise Invalid.on_field("probation_contact_id", "This person has left: choose who took over their cases")
    return contact


_ENUMS: dict[str, type] = {
    "custody_type": dates.CustodyType, "sentence_kind": dates.SentenceKind, "release_type": dates.ReleaseType,
}  # fmt: skip


def _check_facts(data: dict[str, Any]) -> None:
    """Refuse facts that contradict each other (coercing codes to their enums in place)."""
    for name, enum_cls in _ENUMS.items():
        if data.get(name) is not None:
            try:
                data[name] = enum_cls(data[name])
            except ValueError:
                raise Invalid.on_field(name, "Choose one of the listed values") from None
    errors: dict[str, list[str]] = {}
    sentenced_on, nominal = data.get("sentenced_on"), data.get("nominal_release_on")
    if sentenced_on is not None and nominal is not None and sentenced_on > nominal:
        errors["sentenced_on"] = ["The sentence date must be on or before the release date"]
    if data.get("custody_type") == dates.CustodyType.REMAND and data.get("sentence_kind") is not None:
        errors["sentence_kind"] = ["A woman on remand has no sentence yet"]
    if data.get("term_days") is not None and data["term_days"] < 1:
        errors["term_days"] = ["The term is at least one day"]
    if errors:
        raise Invalid("Check the highlighted fields.", errors=errors)


# Recording custody -------------------------------------------------------------------------


def record_custody(actor: Actor, person: ServiceUser, data: dict[str, Any]) -> CustodyEpisode:
    """A woman is in prison: record what the prison or probation told us, and start her plan
    (from the catalogue keys in ``data["needs"]``, if any)."""
    require(policies.can_record_custody(actor), "Only our own staff record custody.")
    _check_facts(data)
    prison = _prison(data["prison_agency_id"])
    probation = _probation_contact(data.get("probation_contact_id"))
    custody = CustodyEpisode(
        reference=db_new_reference("C", CustodyEpisode.reference),
        service_user_id=person.id,
        prison_agency_id=prison.id,
        probation_contact_id=probation.id if probation else None,
        date_told_by=data.get("date_told_by", ""),
        date_told_on=data.get("date_told_on") or today(),
        created_by_id=actor.actor_id if actor.actor_kind == "user" else None,
        status=CustodyStatus.IN_CUSTODY,
        **{name: data.get(name) for name in RELEASE_FIELDS},
    )
    _recompute(custody)
    db.session.add(custody)
    db.session.flush()
    for key in data.get("needs", ()):
        need = catalogue.BY_KEY[key]
        _add_item(custody, need.pathway, need.title, need.responsible, days_before=need.days_before, need=need.key)
    audit.record(actor, "custody.recorded", custody, service_user_id=person.id, prison_agency_id=prison.id,
                 rule=custody.rule.value)  # fmt: skip
    tell_agencies(actor, custody, reason="set")
    return custody


def change_custody(actor: Actor, custody: CustodyEpisode, data: dict[str, Any]) -> bool:
    """Correct or update what was recorded. A changed date or type recomputes the release; if the
    day she could walk out moved, the plan moves with it and every agency in it is told at once.
    Returns whether the release moved."""
    require(policies.can_change_custody(actor, custody), "This custody can no longer be changed.")
    merged = {name: data.get(name, getattr(custody, name)) for name in RELEASE_FIELDS}
    _check_facts(merged)
    if "prison_agency_id" in data:
        custody.prison_agency_id = _prison(data["prison_agency_id"]).id
    if "probation_contact_id" in data:
        probation = _probation_contact(data["probation_contact_id"])
        custody.probation_contact_id = probation.id if probation else None
    for name in ("date_told_by", "date_told_on"):
        if name in data:
            setattr(custody, name, data[name] or ("" if name == "date_told_by" else None))
    for name, value in merged.items():
        setattr(custody, name, value)
    moved = _recompute(custody)
    audit.record(actor, "custody.changed", custody, fields=sorted(data), release_moved=moved)
    if moved:
        _replan(actor, custody)
        tell_agencies(actor, custody, reason="changed")
    db.session.flush()
    return moved


def _replan(actor: Actor, custody: CustodyEpisode) -> None:
    """Move each item with the day planned for, and each open plan referral's deadline with its item."""
    items = db.session.scalars(sa.select(PlanItem).where(PlanItem.custody_id == custody.id)).all()
    referral_ids = [item.referral_id for item in items if item.referral_id is not None]
    referrals = {
        r.id: r for r in db.session.scalars(sa.select(Referral).where(Referral.id.in_(referral_ids))).all()
    } if referral_ids else {}  # fmt: skip
    for item in items:
        if item.days_before is not None:
            item.due_on = custody.plan_on - dt.timedelta(days=item.days_before)
        referral = referrals.get(item.referral_id) if item.referral_id is not None else None
        if referral is not None and referral.status not in _CLOSED_REFERRAL:
            referral_services.reschedule_referral(actor, referral, item.due_on)
    db.session.flush()


# The plan -------------------------------------------------------------------------------------


def _add_item(
    custody: CustodyEpisode,
    pathway: Pathway,
    title: str,
    responsible: Responsible,
    *,
    days_before: int | None = None,
    due_on: dt.date | None = None,
    status: ItemStatus = ItemStatus.NOT_STARTED,
    agency_id: int | None = None,
    contact_id: int | None = None,
    owner_user_id: int | None = None,
    need: str | None = None,
) -> PlanItem:
    if days_before is not None and due_on is None:
        due_on = custody.plan_on - dt.timedelta(days=days_before)
    elif due_on is not None:
        days_before = (custody.plan_on - due_on).days
    item = PlanItem(
        custody_id=custody.id, pathway=pathway, need=need, title=title, status=status, responsible=responsible,
        agency_id=agency_id, contact_id=contact_id, owner_user_id=owner_user_id, due_on=due_on,
        days_before=days_before, done_on=today() if status is ItemStatus.DONE else None,
    )  # fmt: skip
    db.session.add(item)
    return item


def _partner_fields(data: dict[str, Any], current_agency: int | None) -> tuple[int | None, int | None]:
    agency_id = data.get("agency_id", current_agency)
    contact_id = data.get("contact_id")
    if agency_id is not None:
        agency = db.session.get(Agency, agency_id)
        if agency is None or agency.kind is AgencyKind.HOST:
            raise Invalid.on_field("agency_id", "Choose a partner agency from the directory")
    if contact_id is not None:
        contact = db.session.get(Contact, contact_id)
        if contact is None or contact.agency_id != agency_id:
            raise Invalid.on_field("contact_id", "Choose a contact at this agency")
        if not contact.is_active:
            raise Invalid.on_field("contact_id", "This person has left: choose who took over")
    return agency_id, contact_id


def _check_owner(owner_user_id: int | None) -> None:
    if owner_user_id is None:
        return
    from hub.auth.models import User

    owner = db.session.get(User, owner_user_id)
    if owner is None or not owner.is_active or not owner.is_staff:
        raise Invalid.on_field("owner_user_id", "Choose a member of our staff")


def _need_of(title: str) -> str | None:
    need = catalogue.BY_TITLE.get(title.strip().casefold())
    return need.key if need else None


def add_plan_item(actor: Actor, custody: CustodyEpisode, data: dict[str, Any]) -> PlanItem:
    require(policies.can_add_plan_item(actor, custody), "This plan can no longer be changed.")
    agency_id, contact_id = _partner_fields(data, None)
    _check_owner(data.get("owner_user_id"))
    responsible = data.get("responsible") or (Responsible.PARTNER if agency_id else Responsible.CHARITY)
    item = _add_item(
        custody, Pathway(data["pathway"]), data["title"], Responsible(responsible), due_on=data.get("due_on"),
        status=ItemStatus(data.get("status", ItemStatus.NOT_STARTED)), agency_id=agency_id, contact_id=contact_id,
        owner_user_id=data.get("owner_user_id"), need=_need_of(data["title"]),
    )  # fmt: skip
    db.session.flush()
    audit.record(actor, "plan_item.added", item, custody_id=custody.id, agency_id=agency_id)
    if agency_id is not None and agency_id not in _told_agency_ids(custody):
        tell_agencies(actor, custody, reason="joined the plan", only=[agency_id])
    return item


def change_plan_item(actor: Actor, item: PlanItem, data: dict[str, Any]) -> PlanItem:
    custody = db.session.get_one(CustodyEpisode, item.custody_id)
    require(policies.can_change_plan_item(actor, custody), "This plan can no longer be changed.")
    before_agency = item.agency_id
    if "agency_id" in data or "contact_id" in data:
        if item.referral_id is not None and data.get("agency_id", item.agency_id) != item.agency_id:
            raise Conflict("This item has been referred: cancel the referral before giving it to another agency.")
        item.agency_id, item.contact_id = _partner_fields(data, item.agency_id)
    if "owner_user_id" in data:
        _check_owner(data["owner_user_id"])
        item.owner_user_id = data["owner_user_id"]
    for name in ("title", "pathway", "responsible"):
        if name in data:
            setattr(item, name, data[name])
    if "due_on" in data:
        item.due_on = data["due_on"]
        item.days_before = (custody.plan_on - data["due_on"]).days if data["due_on"] is not None else None
        referral = db.session.get(Referral, item.referral_id) if item.referral_id is not None else None
        if referral is not None and referral.status not in _CLOSED_REFERRAL:
            referral_services.reschedule_referral(actor, referral, item.due_on)
    if "status" in data:
        status = ItemStatus(data["status"])
        item.done_on = today() if status is ItemStatus.DONE and item.status is not ItemStatus.DONE else item.done_on
        item.status = status
    db.session.flush()
    audit.record(actor, "plan_item.changed", item, custody_id=custody.id, fields=sorted(data))
    if (
        item.agency_id is not None
        and item.agency_id != before_agency
        and item.agency_id not in _told_agency_ids(custody)
    ):
        tell_agencies(actor, custody, reason="joined the plan", only=[item.agency_id])
    return item


def _told_agency_ids(custody: CustodyEpisode) -> set[int]:
    """Agencies told the current dates already."""
    return set(
        db.session.scalars(
            sa.select(ReleaseNotice.agency_id).where(
                ReleaseNotice.custody_id == custody.id, ReleaseNotice.expected_on == custody.expected_on
            )
        ).all()
    )


def refer_plan_item(actor: Actor, item: PlanItem, data: dict[str, Any]) -> Referral:
    """Ask a partner to do an item: a referral with purpose ``release_planning``, needed by the item's
    due date, sent through the consent gate (422 with ``missing`` where her consent does not cover it)."""
    custody = db.session.get_one(CustodyEpisode, item.custody_id)
    require(policies.can_refer_plan_item(actor, custody), "This plan can no longer be changed.")
    if item.referral_id is not None:
        current = db.session.get_one(Referral, item.referral_id)
        if current.status not in _CLOSED_REFERRAL:
            raise Conflict(f"This item is already referred ({current.reference}).")
    referral = referral_services.create_referral(
        actor,
        {
            "service_user_id": custody.service_user_id,
            "agency_id": data["agency_id"],
            "contact_id": data.get("contact_id"),
            "data_categories": data["data_categories"],
            "reason": data["reason"],
            "urgency": data.get("urgency", "routine"),
            "purpose": PURPOSE,
            "needed_by": item.due_on,
        },
    )
    referral_services.send_referral(actor, referral)
    item.referral_id, item.agency_id = referral.id, referral.agency_id
    item.contact_id = referral.recipient_contact_id
    item.responsible = Responsible.PARTNER
    if item.status is ItemStatus.NOT_STARTED:
        item.status = ItemStatus.IN_PROGRESS
    db.session.flush()
    audit.record(actor, "plan_item.referred", item, custody_id=custody.id, referral_id=referral.id)
    if referral.agency_id not in _told_agency_ids(custody):
        tell_agencies(actor, custody, reason="joined the plan", only=[referral.agency_id])
    return referral


# Release, recall, night one ----------------------------------------------------------------------


def record_release(actor: Actor, custody: CustodyEpisode, released_on: dt.date,
                   night_one: NightOne | None = None) -> CustodyEpisode:  # fmt: skip
    """She left prison: record the day, and which agencies in her plan had been told the date before."""
    if not policies.can_record_release(actor, custody):
        require(actor.is_staff, "Only our staff record a release.")
        raise Conflict("This custody is not open: she has already been released.")
    if released_on > today():
        raise Invalid.on_field("released_on", "The day she left cannot be in the future")
    if custody.sentenced_on is not None and released_on < custody.sentenced_on:
        raise Invalid.on_field("released_on", "The day she left cannot be before she was sentenced")
    notices = db.session.execute(
        sa.select(ReleaseNotice.agency_id, sa.func.min(ReleaseNotice.told_at))
        .where(ReleaseNotice.custody_id == custody.id)
        .group_by(ReleaseNotice.agency_id)
    ).all()
    first_told: dict[int, dt.datetime] = {agency_id: at for agency_id, at in notices}  # noqa: C416 - typed rows
    names: dict[int, str] = {  # noqa: C416 - typed rows
        agency_id: name
        for agency_id, name in db.session.execute(
            sa.select(Agency.id, Agency.name).where(Agency.id.in_(plan_agency_ids(custody)))
        )
    }
    told: list[dict[str, object]] = []
    for agency_id in sorted(names):
        at = first_told.get(agency_id)
        before = at is not None and london_date(at) < released_on
        told.append({"agency_id": agency_id, "agency": names[agency_id], "told_at": at.isoformat() if at else None,
                     "told_before": before})  # fmt: skip
    custody.status, custody.released_on, custody.night_one = CustodyStatus.RELEASED, released_on, night_one
    custody.told_before_release = told
    custody.agencies_untold = sum(1 for entry in told if not entry["told_before"])
    db.session.flush()
    audit.record(actor, "custody.released", custody, released_on=released_on.isoformat(),
                 agencies_untold=custody.agencies_untold)  # fmt: skip
    return custody


def record_night_one(actor: Actor, custody: CustodyEpisode, night_one: NightOne) -> CustodyEpisode:
    if not policies.can_record_night_one(actor, custody):
        require(actor.is_staff, "Only our staff record this.")
        raise Conflict("Her first night is recorded once she has been released.")
    custody.night_one = night_one
    db.session.flush()
    audit.record(actor, "custody.night_one", custody, night_one=night_one.value)
    return custody


def record_recall(actor: Actor, custody: CustodyEpisode, data: dict[str, Any]) -> CustodyEpisode:
    """She was recalled: the plan is kept, the timeline starts again from the new date."""
    if not policies.can_record_recall(actor, custody):
        require(actor.is_staff, "Only our staff record a recall.")
        raise Conflict("Only a released woman can be recalled.")
    custody.status, custody.released_on = CustodyStatus.IN_CUSTODY, None
    custody.told_before_release, custody.agencies_untold, custody.night_one = None, None, None
    custody.cycle += 1
    facts = {name: getattr(custody, name) for name in RELEASE_FIELDS}
    facts.update(custody_type=dates.CustodyType.RECALLED, nominal_release_on=data["nominal_release_on"],
                 release_type=data.get("release_type") or dates.ReleaseType.FIXED_TERM_RECALL)  # fmt: skip
    _check_facts(facts)
    for name, value in facts.items():
        setattr(custody, name, value)
    for name in ("date_told_by", "date_told_on"):
        if name in data:
            setattr(custody, name, data[name])
    _recompute(custody)
    db.session.flush()
    audit.record(actor, "custody.recalled", custody, cycle=custody.cycle)
    _replan(actor, custody)
    tell_agencies(actor, custody, reason="recalled")
    return custody
