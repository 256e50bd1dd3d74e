"""Reads of the directory, always scoped to what the actor may see.

Every function here issues a fixed number of queries however many agencies
or contacts there are (relationships are loaded in bulk, counts are
aggregated in SQL): tests/agencies/test_query_counts.py holds them to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from agencies import policies
from agencies.models import (
    Agency,
    AgencyKind,
    AgencyService,
    Contact,
    ContactStatus,
    Handover,
    Interaction,
    ServiceStatus,
)
from hub.auth.models import User
from hub.db import db, today
from hub.permissions import PARTNER_ROLES, Actor, NotFound, Role
from hub.settings_access import settings

_ACTIVE_COUNT = (
    sa.select(sa.func.count(Contact.id))
    .where(Contact.agency_id == Agency.id, Contact.status == ContactStatus.ACTIVE)
    .correlate(Agency)
    .scalar_subquery()
)


MATCHES_SHOWN = 5  # contacts listed under an agency in the directory's search results; "and N more" past it


@dataclass(frozen=True)
class DirectoryPage:
    rows: list[tuple[Agency, int]]
    total: int
    page: int
    per_page: int
    # With ``with_matches``: for each agency on the page, the contacts that matched the search (up to
    # MATCHES_SHOWN, by name) and how many matched in all.
    matches: dict[int, list[Contact]] = field(default_factory=dict)
    matched: dict[int, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _like(column: Any, text: str) -> Any:
    return sa.func.lower(column).contains(text.lower(), autoescape=True)


def _contact_matches(contact: Any, q: str) -> Any:
    return sa.or_(_like(contact.name, q), _like(contact.role, q), _like(contact.knowledge, q))


def directory(
    actor: Actor,
    *,
    q: str | None = None,
    kind: AgencyKind | None = None,
    page: int = 1,
    per_page: int = 50,
    with_matches: bool = False,
) -> DirectoryPage:
    """Agencies matching a search (name, services, or a current contact's name, role or knowledge),
    with their key contact and count of active contacts.

    A search never matches, nor lists, a contact who has left: whoever searches finds the people
    they can reach today (and a leaver's name finds nobody, for anyone). With ``with_matches`` (the
    directory page) it says which contacts matched under each agency: in the same query as the
    agencies (a window over the page's agencies only), so a search costs what a listing does."""
    where = []
    if kind is not None:
        where.append(Agency.kind == kind)
    current = Contact.status == ContactStatus.ACTIVE
    if q:
        contact_match = (
            sa.select(Contact.id)
            .where(Contact.agency_id == Agency.id, current, _contact_matches(Contact, q))
            .correlate(Agency)
            .exists()
        )
        where.append(sa.or_(_like(Agency.name, q), _like(Agency.services, q), contact_match))
    total = db.session.scalar(sa.select(sa.func.count(Agency.id)).where(*where)) or 0
    order = (Agency.kind == AgencyKind.HOST, Agency.name, Agency.id)
    offset = (page - 1) * per_page
    if not (q and with_matches):
        rows = db.session.execute(
            sa.select(Agency, _ACTIVE_COUNT)
            .where(*where)
            .options(joinedload(Agency.key_contact))
            .order_by(*order)
            .limit(per_page)
            .offset(offset)
        ).all()
        return DirectoryPage([(a, n) for a, n in rows], total, page, per_page)
    on_page = sa.select(Agency.id).where(*where).order_by(*order).limit(per_page).offset(offset).subquery()
    ranked = (
        sa.select(
            Contact.id.label("contact_id"),
            Contact.agency_id.label("agency_id"),
            sa.func.row_number()
            .over(partition_by=Contact.agency_id, order_by=(Contact.name, Contact.id))
            .label("rank"),
            sa.func.count().over(partition_by=Contact.agency_id).label("matched"),
        )
        .where(Contact.agency_id.in_(sa.select(on_page.c.id)), current, _contact_matches(Contact, q))
        .subquery()
    )
    person = sa.orm.aliased(Contact)
    found = db.session.execute(
        sa.select(Agency, _ACTIVE_COUNT, person, ranked.c.matched)
        .join(on_page, on_page.c.id == Agency.id)
        .outerjoin(ranked, sa.and_(ranked.c.agency_id == Agency.id, ranked.c.rank <= MATCHES_SHOWN))
        .outerjoin(person, person.id == ranked.c.contact_id)
        .options(joinedload(Agency.key_contact))
        .order_by(*order, ranked.c.rank)
    ).all()
    result: list[tuple[Agency, int]] = []
    matches: dict[int, list[Contact]] = {}
    matched: dict[int, int] = {}
    for agency, active, contact, count in found:
        if agency.id not in matches:
            result.append((agency, active))
            matches[agency.id], matched[agency.id] = [], int(count or 0)
        if contact is not None:
            matches[agency.id].append(contact)
    return DirectoryPage(result, total, page, per_page, matches, matched)


def services_of(agency_id: int) -> list[AgencyService]:
    """An agency's services, the ones still running first. Everyone who sees the agency sees them."""
    defunct = AgencyService.status == ServiceStatus.DEFUNCT
    return list(db.session.scalars(sa.select(AgencyService).where(AgencyService.agency_id == agency_id)
                                   .order_by(defunct, AgencyService.name, AgencyService.id)))  # fmt: skip


def get_service(actor: Actor, service_id: int) -> AgencyService:
    service = db.session.get(AgencyService, service_id)
    if service is None:
        raise NotFound("No such service.")
    return service


def get_agency(actor: Actor, agency_id: int) -> Agency:
    agency = db.session.scalar(
        sa.select(Agency)
        .where(Agency.id == agency_id)
        .options(
            joinedload(Agency.key_contact), joinedload(Agency.deputy_contact), joinedload(Agency.relationship_owner)
        )
    )
    if agency is None:
        raise NotFound("No such agency.")
    return agency


def partner_agencies() -> list[Agency]:
    """Every agency a woman's information could be shared with: all but the host organisation."""
    return list(db.session.scalars(sa.select(Agency).where(Agency.kind != AgencyKind.HOST).order_by(Agency.name)))


def get_agency_by_slug(slug: str) -> Agency | None:
    return db.session.scalar(sa.select(Agency).where(Agency.slug == slug))


def contacts_of(actor: Actor, agency: Agency) -> list[Contact]:
    """The agency's contacts this actor may see: active first, then those who left."""
    query = (
        sa.select(Contact)
        .where(Contact.agency_id == agency.id)
        .options(joinedload(Contact.known_by), joinedload(Contact.successor))
        .order_by(Contact.status, Contact.name, Contact.id)
    )
    if not (actor.is_staff or actor.agency_id == agency.id):
        query = query.where(Contact.status == ContactStatus.ACTIVE)
    return list(db.session.scalars(query))


def get_contact(actor: Actor, contact_id: int) -> Contact:
    contact = db.session.scalar(
        sa.select(Contact)
        .where(Contact.id == contact_id)
        .options(joinedload(Contact.agency), joinedload(Contact.known_by), joinedload(Contact.successor))
    )
    if contact is None or not policies.can_see_contact(actor, contact):
        raise NotFound("No such contact.")
    return contact


def current_holder(contact: Contact) -> Contact | None:
    """Who now holds a contact's work: follow successors to an active contact,
    else the agency's active key contact, else nobody."""
    seen: set[int] = set()
    current: Contact | None = contact
    while current is not None and not current.is_active and current.id not in seen:
        seen.add(current.id)
        current = db.session.get(Contact, current.successor_id) if current.successor_id else None
    if current is not None and current.is_active:
        return current
    agency = db.session.get(Agency, contact.agency_id)
    key = db.session.get(Contact, agency.key_contact_id) if agency and agency.key_contact_id else None
    return key if key is not None and key.is_active else None


def predecessors_of(contact: Contact) -> list[Contact]:
    """Contacts whose work passed to this one when they left."""
    return list(
        db.session.scalars(sa.select(Contact).where(Contact.successor_id == contact.id).order_by(Contact.left_on))
    )


def interactions(
    actor: Actor, *, agency: Agency | None = None, contacts: list[int] | None = None, limit: int = 50
) -> list[Interaction]:
    """The internal log (staff only): an agency's, or that of some contacts."""
    if not policies.can_see_internal(actor):
        return []
    query = sa.select(Interaction).options(joinedload(Interaction.author), joinedload(Interaction.contact))
    if agency is not None:
        query = query.where(Interaction.agency_id == agency.id)
    if contacts is not None:
        query = query.where(Interaction.contact_id.in_(contacts))
    query = query.order_by(Interaction.occurred_on.desc(), Interaction.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def active_staff() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.disabled_at.is_(None), User.role.in_([Role.ADMIN, Role.MANAGER, Role.PRACTITIONER]))
            .order_by(User.name)
        )
    )


@dataclass(frozen=True)
class StaffMember:
    """A row of the Staff page: the person, their latest handover (if any) and their current entry
    among the charity's own contacts (their work phone and email), if they have one."""

    user: User
    handover: Handover | None
    work_contact: Contact | None


def staff_list() -> list[StaffMember]:
    """Every member of staff, current and former, in one query whatever their number."""
    latest = (
        sa.select(Handover.leaver_id, sa.func.max(Handover.id).label("handover_id"))
        .group_by(Handover.leaver_id)
        .subquery()
    )
    handover = sa.orm.aliased(Handover)
    contact = sa.orm.aliased(Contact)
    host_ids = sa.select(Agency.id).where(Agency.kind == AgencyKind.HOST)
    rows = db.session.execute(
        sa.select(User, handover, contact)
        .outerjoin(latest, latest.c.leaver_id == User.id)
        .outerjoin(handover, handover.id == latest.c.handover_id)
        .outerjoin(
            contact,
            sa.and_(
                contact.user_id == User.id,
                contact.status == ContactStatus.ACTIVE,
                contact.agency_id.in_(host_ids),
            ),
        )
        .where(User.role.in_([Role.ADMIN, Role.MANAGER, Role.PRACTITIONER]))
        .order_by(User.disabled_at.is_not(None), User.name, User.id)
    ).all()
    return [StaffMember(u, h, c) for u, h, c in rows]


def get_staff(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff:
        raise NotFound("No such member of staff.")
    return user


@dataclass(frozen=True)
class Relationships:
    agencies: list[Agency] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)


def relationships_of_id(user_id: int) -> Relationships:
    """The agencies a member of staff leads and the active contacts they know."""
    agencies = db.session.scalars(
        sa.select(Agency).where(Agency.relationship_owner_id == user_id).order_by(Agency.name)
    ).all()
    contacts = db.session.scalars(
        sa.select(Contact)
        .where(Contact.known_by_id == user_id, Contact.status == ContactStatus.ACTIVE)
        .options(joinedload(Contact.agency))
        .order_by(Contact.name)
    ).all()
    return Relationships(list(agencies), list(contacts))


# Accounts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A hub account as the directory shows it: the user and the contact it belongs to."""

    user: User
    contact: Contact | None

    @property
    def active(self) -> bool:
        return self.user.is_active


@dataclass(frozen=True)
class AccountPage:
    items: list[Account]
    total: int


def _accounts_visible(actor: Actor) -> list[sa.ColumnElement[bool]]:
    if policies.can_see_all_accounts(actor):
        return []
    if policies.can_see_agency_accounts(actor, actor.agency_id):
        return [User.agency_id == actor.agency_id, User.role.in_(list(PARTNER_ROLES))]
    return [sa.false()]


def list_accounts(actor: Actor, *, agency_id: int | None = None, page: int = 1, per_page: int = 50) -> AccountPage:
    """Accounts this actor may see (an administrator: all; a partner lead: their agency's), with their contact."""
    where = _accounts_visible(actor)
    if agency_id is not None:
        where.append(User.agency_id == agency_id)
    total = db.session.scalar(sa.select(sa.func.count(User.id)).where(*where)) or 0
    rows = db.session.execute(
        sa.select(User, Contact)
        .outerjoin(Contact, Contact.user_id == User.id)
        .where(*where)
        .order_by(User.agency_id, User.name, User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return AccountPage([Account(u, c) for u, c in rows], total)


def get_account(actor: Actor, user_id: int) -> Account:
    row = db.session.execute(
        sa.select(User, Contact)
        .outerjoin(Contact, Contact.user_id == User.id)
        .where(User.id == user_id, *_accounts_visible(actor))
    ).first()
    if row is None:
        raise NotFound("No such account.")
    return Account(row[0], row[1])


def host_agency() -> Agency | None:
    """The charity's own directory entry."""
    return db.session.scalar(sa.select(Agency).where(Agency.kind == AgencyKind.HOST))


def work_contact_of(user_id: int | None) -> Contact | None:
    """How to reach a member of staff at work: their current contact record in the charity's own
    directory entry (work phone and email), if they have one."""
    if user_id is None:
        return None
    return db.session.scalar(
        sa.select(Contact)
        .join(Agency, Agency.id == Contact.agency_id)
        .where(Contact.user_id == user_id, Agency.kind == AgencyKind.HOST, Contact.status == ContactStatus.ACTIVE)
    )


def account_of(contact: Contact) -> User | None:
    return db.session.get(User, contact.user_id) if contact.user_id else None


def belongs_to_a_current_contact() -> sa.ColumnElement[bool]:
    """The rule for the ``account_standing`` registry, as a condition on ``users``: a partner
    account acts only while it belongs to an active contact of its own agency (our staff's
    accounts are not directory contacts)."""
    return sa.or_(
        User.role.not_in(list(PARTNER_ROLES)),
        sa.exists().where(
            Contact.user_id == User.id,
            Contact.agency_id == User.agency_id,
            Contact.status == ContactStatus.ACTIVE,
        ),
    )


def unlinked_partner_accounts() -> list[User]:
    """Partner accounts not linked to an active contact of their agency (for an administrator to fix)."""
    linked = (
        sa.select(Contact.id)
        .where(Contact.user_id == User.id, Contact.agency_id == User.agency_id, Contact.status == ContactStatus.ACTIVE)
        .correlate(User)
        .exists()
    )
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role.in_(list(PARTNER_ROLES)), User.disabled_at.is_(None), ~linked)
            .order_by(User.agency_id, User.email)
        )
    )


def get_handover(handover_id: int) -> Handover:
    handover = db.session.get(Handover, handover_id, options=[joinedload(Handover.leaver), joinedload(Handover.by)])
    if handover is None:
        raise NotFound("No such handover.")
    return handover


def handover_pack(handover: Handover) -> dict[str, Any]:
    """Everything the handover pack shows, loaded in a fixed number of queries."""
    agency_ids = [int(k.split(":")[1]) for k in handover.assignments if k.startswith("agency:")]
    contact_ids = [int(k.split(":")[1]) for k in handover.assignments if k.startswith("contact:")]
    agencies = db.session.scalars(sa.select(Agency).where(Agency.id.in_(agency_ids)).order_by(Agency.name)).all()
    contacts = db.session.scalars(
        sa.select(Contact).where(Contact.id.in_(contact_ids)).options(joinedload(Contact.agency)).order_by(Contact.name)
    ).all()
    owner_ids = {int(v) for v in handover.assignments.values()}
    owners = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(owner_ids)))}
    since = today() - dt.timedelta(days=180)
    recent = db.session.scalars(
        sa.select(Interaction)
        .where(
            sa.or_(Interaction.agency_id.in_(agency_ids), Interaction.contact_id.in_(contact_ids)),
            Interaction.occurred_on >= since,
        )
        .options(joinedload(Interaction.author), joinedload(Interaction.contact))
        .order_by(Interaction.occurred_on.desc())
        .limit(100)
    ).all()
    sections: dict[str, list[dict[str, Any]]] = {}
    for item in handover.items or []:
        if not item["key"].startswith(("agency:", "contact:")):  # shown in full above
            sections.setdefault(item["section"], []).append(item)
    return {"agencies": agencies, "contacts": contacts, "owners": owners, "recent": recent, "sections": sections}


# Partnership health ---------------------------------------------------------


@dataclass(frozen=True)
class HealthReport:
    no_key_contact: list[Agency]
    no_deputy: list[Agency]
    single_contact: list[Agency]
    not_verified: list[Contact]
    not_spoken: list[Contact]
    agreement_missing: list[Agency]
    agreement_due: list[Agency]
    owned_by_leavers: list[tuple[str, Agency | Contact]]
    roles_to_confirm: list[Agency]
    thresholds: dict[str, int]

    @property
    def problem_count(self) -> int:
        return sum(
            len(x)
            for x in (
                self.no_key_contact,
                self.no_deputy,
                self.single_contact,
                self.not_verified,
                self.not_spoken,
                self.agreement_missing,
                self.agreement_due,
                self.owned_by_leavers,
                self.roles_to_confirm,
            )
        )


def health_report(actor: Actor) -> HealthReport:
    """Where partnership knowledge is at risk. Partner agencies only (not the host)."""
    cfg = settings()
    now = today()
    partners = Agency.kind != AgencyKind.HOST
    key = sa.orm.aliased(Contact)
    lead = joinedload(Agency.relationship_owner)  # "our lead" beside each agency: in the same query
    no_key = db.session.scalars(
        sa.select(Agency)
        .outerjoin(key, Agency.key_contact_id == key.id)
        .where(partners, sa.or_(Agency.key_contact_id.is_(None), key.status != ContactStatus.ACTIVE))
        .options(lead)
        .order_by(Agency.name)
    ).all()
    deputy = sa.orm.aliased(Contact)
    # No current deputy where there is someone who could be one (one person or none: single, below).
    no_deputy = db.session.scalars(
        sa.select(Agency)
        .outerjoin(deputy, Agency.deputy_contact_id == deputy.id)
        .where(
            partners,
            sa.or_(Agency.deputy_contact_id.is_(None), deputy.status != ContactStatus.ACTIVE),
            _ACTIVE_COUNT >= 2,
        )
        .options(lead)
        .order_by(Agency.name)
    ).all()
    single = db.session.scalars(
        sa.select(Agency).where(partners, _ACTIVE_COUNT <= 1).options(lead).order_by(Agency.name)
    ).all()
    active = Contact.status == ContactStatus.ACTIVE
    verify_cutoff = now - dt.timedelta(days=cfg.stale_verified_days)
    spoken_cutoff = now - dt.timedelta(days=cfg.stale_spoken_days)
    not_verified = db.session.scalars(
        sa.select(Contact)
        .join(Contact.agency)
        .where(partners, active, sa.or_(Contact.last_verified_on.is_(None), Contact.last_verified_on < verify_cutoff))
        .options(sa.orm.contains_eager(Contact.agency), joinedload(Contact.known_by))
        .order_by(Contact.last_verified_on.nullsfirst(), Contact.name)
    ).all()
    not_spoken = db.session.scalars(
        sa.select(Contact)
        .join(Contact.agency)
        .where(partners, active, sa.or_(Contact.last_spoken_on.is_(None), Contact.last_spoken_on < spoken_cutoff))
        .options(sa.orm.contains_eager(Contact.agency), joinedload(Contact.known_by))
        .order_by(Contact.last_spoken_on.nullsfirst(), Contact.name)
    ).all()
    missing = db.session.scalars(
        sa.select(Agency).where(partners, Agency.has_agreement.is_(False)).options(lead).order_by(Agency.name)
    ).all()
    due = db.session.scalars(
        sa.select(Agency)
        .where(
            partners,
            Agency.has_agreement.is_(True),
            sa.or_(
                Agency.agreement_review_on.is_(None),
                Agency.agreement_review_on <= now + dt.timedelta(days=cfg.agreement_review_warning_days),
            ),
        )
        .options(lead)
        .order_by(Agency.agreement_review_on.nullsfirst(), Agency.name)
    ).all()
    owner = sa.orm.aliased(User)
    lost_agencies = db.session.scalars(
        sa.select(Agency)
        .join(owner, Agency.relationship_owner_id == owner.id)
        .where(partners, owner.disabled_at.is_not(None))
        .options(sa.orm.contains_eager(Agency.relationship_owner, alias=owner))
        .order_by(Agency.name)
    ).all()
    knower = sa.orm.aliased(User)
    lost_contacts = db.session.scalars(
        sa.select(Contact)
        .join(Contact.agency)
        .join(knower, Contact.known_by_id == knower.id)
        .where(partners, active, knower.disabled_at.is_not(None))
        .options(sa.orm.contains_eager(Contact.known_by, alias=knower), sa.orm.contains_eager(Contact.agency))
        .order_by(Agency.name, Contact.name)
    ).all()
    confirm = db.session.scalars(
        sa.select(Agency).where(partners, Agency.roles_to_confirm.is_not(None)).options(lead).order_by(Agency.name)
    ).all()
    return HealthReport(
        no_key_contact=list(no_key),
        no_deputy=list(no_deputy),
        single_contact=list(single),
        not_verified=list(not_verified),
        not_spoken=list(not_spoken),
        agreement_missing=list(missing),
        agreement_due=list(due),
        owned_by_leavers=[("agency", a) for a in lost_agencies] + [("contact", c) for c in lost_contacts],
        roles_to_confirm=list(confirm),
        thresholds={
            "verified": cfg.stale_verified_days,
            "spoken": cfg.stale_spoken_days,
            "review": cfg.agreement_review_warning_days,
        },
    )
