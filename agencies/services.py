"""Changes to the directory: one function per use case.

Each checks its policy, enforces the directory's invariants, changes state,
writes the audit entry, sends its signal and flushes; the caller commits.

Invariants kept here:
- Key contact, deputy and successor are always active contacts of the same
  agency; relationship owners and "known by" are active staff.
- When a contact leaves, nothing keeps pointing at them as a current owner:
  their hub account closes, their key-contact or deputy role moves (and is
  flagged for confirmation), and every package's open work moves through the
  open-work contract (:mod:`hub.work`), in the same transaction.
- A partner account belongs to one active contact of its agency.
- A member of staff is offboarded only when every item they hold, in every
  package, has a taker; their account closes only once they hold nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from agencies import policies
from agencies.models import (
    Agency,
    AgencyKind,
    AgencyService,
    Contact,
    ContactStatus,
    Handover,
    Interaction,
    InteractionKind,
)
from agencies.queries import get_agency_by_slug
from hub import audit, work
from hub.auth import services as auth_services
from hub.auth.models import User
from hub.db import db, today, utcnow
from hub.notifications.services import withhold_pending
from hub.permissions import PARTNER_ROLES, Actor, Conflict, Invalid, Role, require


def _slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:56] or "agency"
    candidate, n = slug, 2
    while get_agency_by_slug(candidate) is not None:
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


def _check_contact_ref(agency: Agency, field: str, contact_id: int | None, exclude: int | None = None) -> None:
    if contact_id is None:
        return
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.agency_id != agency.id or not contact.is_active or contact.id == exclude:
        raise Invalid.on_field(field, "Choose an active contact at this agency")


def _check_staff_ref(field: str, user_id: int | None) -> None:
    if user_id is None:
        return
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff or not user.is_active:
        raise Invalid.on_field(field, "Choose a current member of staff")


def _changed(obj: Any, changes: dict[str, Any]) -> list[str]:
    changed = []
    for name, value in changes.items():
        if value is None and name in {"email", "website"}:
            value = ""
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


# Agencies ---------------------------------------------------------------


def create_agency(actor: Actor, data: dict[str, Any]) -> Agency:
    require(policies.can_create_agency(actor), "Only managers can add agencies.")
    data = dict(data)
    slug = data.pop("slug", None)
    if slug is not None and get_agency_by_slug(slug) is not None:
        raise Invalid.on_field("slug", "An agency with this slug already exists")
    if data.get("kind") is AgencyKind.HOST and db.session.scalar(
        sa.select(Agency.id).where(Agency.kind == AgencyKind.HOST)
    ):
        raise Invalid.on_field("kind", "There is already a host organisation")
    for ref in ("key_contact_id", "deputy_contact_id"):
        if data.get(ref) is not None:
            raise Invalid.on_field(ref, "Add the agency's contacts first, then choose its key contact")
    _check_staff_ref("relationship_owner_id", data.get("relationship_owner_id"))
    agency = Agency(slug=slug or _slugify(data["name"]))
    _changed(agency, dict(data.items()))
    db.session.add(agency)
    db.session.flush()
    audit.record(actor, "agency.created", agency, kind=agency.kind.value)
    return agency


def update_agency(actor: Actor, agency: Agency, changes: dict[str, Any]) -> list[str]:
    require(policies.can_update_agency(actor, agency), "You may not change this agency.")
    policies.require_fields(policies.editable_agency_fields(actor, agency), set(changes))
    if changes.get("kind") is AgencyKind.HOST and not agency.is_host:
        raise Invalid.on_field("kind", "There is already a host organisation")
    if agency.is_host and "kind" in changes and changes["kind"] is not AgencyKind.HOST:
        raise Invalid.on_field("kind", "The host organisation's kind cannot change")
    _check_contact_ref(agency, "key_contact_id", changes.get("key_contact_id"))
    _check_contact_ref(agency, "deputy_contact_id", changes.get("deputy_contact_id"))
    key = changes.get("key_contact_id", agency.key_contact_id)
    deputy = changes.get("deputy_contact_id", agency.deputy_contact_id)
    if key is not None and key == deputy:
        raise Invalid.on_field("deputy_contact_id", "The deputy must be someone other than the key contact")
    _check_staff_ref("relationship_owner_id", changes.get("relationship_owner_id"))
    changed = _changed(agency, changes)
    if {"key_contact_id", "deputy_contact_id"} & set(changed):
        agency.roles_to_confirm = None
    if changed:
        audit.record(actor, "agency.updated", agency, fields=sorted(changed))
    db.session.flush()
    return changed


# Services ----------------------------------------------------------------

SERVICE_FIELDS = ("name", "description", "status", "publish", "drop_in", "url", "email", "phone", "eligibility")


def _check_service(actor: Actor, agency: Agency, service: AgencyService | None, data: dict[str, Any]) -> None:
    if (
        data.get("publish")
        and not (service is not None and service.publish)
        and not policies.may_publish(actor, agency)
    ):
        raise Invalid.on_field("publish", "Only the agency itself may put its service in the public directory feed"
                               if not agency.is_host else "Only our staff may publish our services")  # fmt: skip
    if data.get("drop_in") and not agency.is_host:
        raise Invalid.on_field("drop_in", "Only our own services can be the drop-in")


def add_service(actor: Actor, agency: Agency, data: dict[str, Any]) -> AgencyService:
    require(policies.can_add_service(actor, agency), "Only our staff and the agency's lead add its services.")
    _check_service(actor, agency, None, data)
    service = AgencyService(agency_id=agency.id, last_verified_on=today())
    _changed(service, {k: v for k, v in data.items() if k in SERVICE_FIELDS})
    db.session.add(service)
    db.session.flush()
    audit.record(actor, "agency_service.created", service, agency_id=agency.id, publish=service.publish)
    return service


def update_service(actor: Actor, service: AgencyService, changes: dict[str, Any]) -> list[str]:
    require(policies.can_update_service(actor, service), "Only our staff and the agency's lead change its services.")
    _check_service(actor, service.agency, service, changes)
    changed = _changed(service, {k: v for k, v in changes.items() if k in SERVICE_FIELDS})
    if changed or changes.get("verified"):
        service.last_verified_on = today()
        audit.record(actor, "agency_service.updated", service, fields=sorted(changed) or ["verified"])
    db.session.flush()
    return changed


def confirm_key_roles(actor: Actor, agency: Agency) -> None:
    require(policies.can_confirm_key_roles(actor, agency))
    if agency.roles_to_confirm is None:
        raise Conflict("There is nothing to confirm.")
    agency.roles_to_confirm = None
    audit.record(actor, "agency.key_roles_confirmed", agency)
    db.session.flush()


# Contacts ---------------------------------------------------------------


def add_contact(actor: Actor, agency: Agency, data: dict[str, Any]) -> Contact:
    require(policies.can_add_contact(actor, agency), "You may only manage your own agency's contacts.")
    allowed = policies.STAFF_CONTACT_FIELDS if actor.is_staff else policies.PARTNER_CONTACT_FIELDS
    policies.require_fields(allowed, set(data))
    _check_staff_ref("known_by_id", data.get("known_by_id"))
    contact = Contact(agency_id=agency.id, status=ContactStatus.ACTIVE)
    _changed(contact, data)
    db.session.add(contact)
    db.session.flush()
    audit.record(actor, "contact.created", contact, agency_id=agency.id)
    return contact


def update_contact(actor: Actor, contact: Contact, changes: dict[str, Any]) -> list[str]:
    require(policies.can_update_contact(actor, contact), "You may only manage your own agency's contacts.")
    policies.require_fields(policies.editable_contact_fields(actor, contact), set(changes))
    if not contact.is_active:
        # A leaver's record is kept as it was when they left: it is history.
        raise Conflict("This contact has left; their record is kept as it was.")
    _check_staff_ref("known_by_id", changes.get("known_by_id"))
    changed = _changed(contact, changes)
    if changed:
        audit.record(actor, "contact.updated", contact, fields=sorted(changed))
    db.session.flush()
    return changed


def record_leaver(
    actor: Actor, contact: Contact, *, left_on: dt.date, successor_id: int | None = None, handover_note: str = ""
) -> Contact | None:
    """Mark a contact as left, in one transaction: their hub account closes (every
    session ends, nothing more reaches them), their roles move, and every
    package's open work held by them moves to whoever takes over.

    Returns the contact who takes over: the successor, else the agency's key
    contact (if that is not the leaver), else None (the agency as a whole).
    """
    require(policies.can_record_leaver(actor, contact), "You may only manage your own agency's contacts.")
    if not contact.is_active:
        raise Conflict("This contact has already left.")
    if left_on > today() + dt.timedelta(days=366):
        raise Invalid.on_field("left_on", "The leaving date is too far ahead")
    agency = db.session.get(Agency, contact.agency_id)
    assert agency is not None
    _check_contact_ref(agency, "successor_id", successor_id, exclude=contact.id)
    successor = db.session.get(Contact, successor_id) if successor_id else None
    contact.status, contact.left_on = ContactStatus.LEFT, left_on
    contact.successor_id = successor.id if successor else None
    contact.handover_note = handover_note
    moved = _move_key_roles(agency, contact, successor)
    key = db.session.get(Contact, agency.key_contact_id) if agency.key_contact_id else None
    takeover = successor or key
    audit.record(actor, "contact.left", contact, successor_id=contact.successor_id, roles_moved=moved)
    account = db.session.get(User, contact.user_id) if contact.user_id else None
    if account is not None and account.role in PARTNER_ROLES:
        # A partner's account belongs to their contact and closes with it. One of our staff's entry in
        # the charity's own directory entry does not close their account: offboarding does (Staff).
        auth_services.disable_user(actor, account, reason="left")
    if contact.email and not _address_still_used(contact):
        withhold_pending(email=contact.email)  # what was queued for their work address stops too
    db.session.flush()
    work.move_contact_work(actor, contact.id, takeover.id if takeover else None)
    return takeover


def _address_still_used(leaver: Contact) -> bool:
    """Whether someone still here shares the leaver's email address (a team inbox, say)."""
    return (
        db.session.scalar(
            sa.select(Contact.id).where(
                Contact.id != leaver.id,
                Contact.status == ContactStatus.ACTIVE,
                sa.func.lower(Contact.email) == leaver.email.lower(),
            )
        )
        is not None
    )


def _move_key_roles(agency: Agency, leaver: Contact, successor: Contact | None) -> list[str]:
    moved = []
    notes = []
    if agency.key_contact_id == leaver.id:
        if successor is not None:
            agency.key_contact_id = successor.id
            if agency.deputy_contact_id == successor.id:
                agency.deputy_contact_id = None
            notes.append(f"{successor.name} became key contact when {leaver.name} left")
        elif agency.deputy_contact_id is not None:
            deputy = db.session.get(Contact, agency.deputy_contact_id)
            agency.key_contact_id, agency.deputy_contact_id = agency.deputy_contact_id, None
            notes.append(f"{deputy.name if deputy else 'The deputy'} became key contact when {leaver.name} left")
        else:
            agency.key_contact_id = None
            notes.append(f"{leaver.name} left and the agency has no key contact")
        moved.append("key_contact")
    if agency.deputy_contact_id == leaver.id:
        if successor is not None and agency.key_contact_id != successor.id:
            agency.deputy_contact_id = successor.id
            notes.append(f"{successor.name} became deputy when {leaver.name} left")
        else:
            agency.deputy_contact_id = None
            notes.append(f"{leaver.name} left and the agency has no deputy")
        moved.append("deputy")
    if notes:
        agency.roles_to_confirm = "; ".join(notes)[:400]
    return moved


# Interactions -------------------------------------------------------------

_SPOKEN = {InteractionKind.CALL, InteractionKind.MEETING, InteractionKind.VISIT}


def log_interaction(actor: Actor, agency: Agency, data: dict[str, Any]) -> Interaction:
    require(policies.can_log_interaction(actor), "Only our own staff keep the interaction log.")
    contact = None
    if data.get("contact_id") is not None:
        contact = db.session.get(Contact, data["contact_id"])
        if contact is None or contact.agency_id != agency.id:
            raise Invalid.on_field("contact_id", "Choose a contact at this agency")
    if data["occurred_on"] > today():
        raise Invalid.on_field("occurred_on", "The date must be today or in the past")
    entry = Interaction(
        agency_id=agency.id,
        contact_id=contact.id if contact else None,
        author_id=actor.actor_id,
        kind=data["kind"],
        occurred_on=data["occurred_on"],
        summary=data["summary"],
    )
    db.session.add(entry)
    spoken = data["kind"] in _SPOKEN | {InteractionKind.EMAIL}
    if (
        contact is not None
        and spoken
        and (contact.last_spoken_on is None or contact.last_spoken_on < data["occurred_on"])
    ):
        contact.last_spoken_on = data["occurred_on"]
    db.session.flush()
    audit.record(actor, "interaction.logged", entry, agency_id=agency.id, kind=entry.kind.value)
    return entry


# Staff leaving ------------------------------------------------------------


def offboard_staff(
    actor: Actor, leaver: User, takers: dict[str, int], default_user_id: int | None, note: str = ""
) -> Handover:
    """Hand every item a leaving colleague holds, in every package, to a named colleague.

    ``takers`` maps item keys (:class:`hub.work.WorkItem`) to the member of
    staff taking each; ``default_user_id`` takes the rest. Refused, with
    nothing changed, unless every item has a taker.

    A colleague whose account was closed without a handover (they left before
    anyone handed over their work) is handed over the same way: the handover
    is then complete at once, and their entry among the charity's own contacts
    is recorded as left.
    """
    require(
        policies.can_offboard_staff(actor, leaver),
        "Only a manager hands over a colleague's work (an administrator's: another administrator).",
    )
    if not leaver.is_staff:
        raise Invalid("Only our own staff are offboarded here.")
    items = work.held_by_staff(leaver.id)
    if not leaver.is_active and not items and _has_handover(leaver.id):
        raise Conflict(f"{leaver.name} has left and holds nothing more to hand over.")
    final: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for item in items:
        field_name = item.field
        owner_id = takers.get(item.key) or default_user_id
        if owner_id is None:
            errors[field_name] = ["Choose who takes this over"]
        elif owner_id == leaver.id:
            errors[field_name] = ["Choose someone other than the person leaving"]
        elif not _is_active_staff(owner_id):
            errors[field_name] = ["Choose a current member of staff"]
        else:
            final[item.key] = owner_id
    if errors:
        raise Invalid("Choose who takes over each item.", errors=errors)
    work.hand_over_staff(actor, leaver.id, final)
    handover = Handover(
        leaver_id=leaver.id,
        by_id=actor.actor_id,
        assignments=final,
        items=[
            {"key": i.key, "section": i.section, "label": i.label, "link": i.link, "taker_id": final[i.key]}
            for i in items
        ],
        note=note,
    )
    if not leaver.is_active:
        # Left without a handover (their account was closed first): this hands over what they
        # still held, and the handover is complete at once.
        handover.completed_at = utcnow()
    db.session.add(handover)
    db.session.flush()
    audit.record(actor, "staff.handed_over", handover, leaver_id=leaver.id, items=len(final))
    if not leaver.is_active:
        _leave_host_entry(actor, leaver)
    return handover


def _has_handover(user_id: int) -> bool:
    return db.session.scalar(sa.select(Handover.id).where(Handover.leaver_id == user_id).limit(1)) is not None


def _is_active_staff(user_id: int) -> bool:
    user = db.session.get(User, user_id)
    return user is not None and user.is_staff and user.is_active


def complete_offboarding(actor: Actor, handover: Handover) -> None:
    """Disable the leaver's account and end every session it has, once they hold nothing."""
    leaver = db.session.get(User, handover.leaver_id)
    assert leaver is not None
    require(policies.can_complete_offboarding(actor, leaver), "Only a manager closes a colleague's account.")
    if handover.completed_at is not None:
        raise Conflict("This handover is already complete.")
    still_held = work.held_by_staff(leaver.id)
    if still_held:
        raise Conflict(
            f"{leaver.name} still holds {len(still_held)} open item(s) (new since the handover): hand them over first."
        )
    auth_services.disable_user(actor, leaver, reason="offboarded")
    handover.completed_at = utcnow()
    audit.record(actor, "staff.offboarded", handover, leaver_id=leaver.id)
    _leave_host_entry(actor, leaver)
    db.session.flush()


def _leave_host_entry(actor: Actor, leaver: User) -> None:
    """A member of staff who has gone is no longer one of the charity's contacts in its own directory
    entry: their contact there is recorded as left (their key-contact or deputy role moves, flagged for
    confirmation, as when any contact leaves)."""
    entries = db.session.scalars(
        sa.select(Contact)
        .join(Agency, Agency.id == Contact.agency_id)
        .where(Contact.user_id == leaver.id, Agency.kind == AgencyKind.HOST, Contact.status == ContactStatus.ACTIVE)
    ).all()
    for contact in entries:
        agency = db.session.get(Agency, contact.agency_id)
        assert agency is not None
        contact.status, contact.left_on = ContactStatus.LEFT, today()
        moved = _move_key_roles(agency, contact, None)
        audit.record(actor, "contact.left", contact, successor_id=None, roles_moved=moved)
    db.session.flush()


# Accounts ---------------------------------------------------------------------


def _account_for(actor: Actor, contact: Contact, role: Role, password: str | None) -> tuple[User, str]:
    if role not in PARTNER_ROLES or contact.agency.is_host:
        raise Invalid.on_field("role", "Choose partner staff or partner lead, for a contact of a partner agency")
    if not contact.email:
        raise Invalid.on_field("email", "Add their work email to their contact record first")
    if contact.user_id is not None:
        previous = db.session.get(User, contact.user_id)
        if previous is not None and previous.is_active:
            raise Conflict("This contact already has a hub account.")
        if previous is not None:  # closed by mistake, or they came back: the same account opens again
            one_time = auth_services.reopen_user(actor, previous, role=role, email=contact.email)
            return previous, one_time
    user, one_time = auth_services.create_user(
        actor, email=contact.email, name=contact.name, agency_id=contact.agency_id, role=role, password=password
    )
    contact.user_id = user.id
    audit.record(actor, "contact.account_linked", contact, user_id=user.id)
    db.session.flush()
    return user, one_time


def invite_contact(actor: Actor, contact: Contact, role: Role) -> tuple[User, str]:
    """Open a hub account for an active contact of a partner agency.

    Returns the account and its one-time password, to be handed over once: at
    the first sign-in they must choose a new password and set up two-factor sign-in.
    """
    require(policies.can_invite_contact(actor, contact), "You may only invite your own agency's current contacts.")
    return _account_for(actor, contact, role, None)


def close_account(actor: Actor, user: User) -> None:
    """Close a partner account at once: its sessions end and it can no longer sign in or be told anything."""
    require(policies.can_close_account(actor, user), "You may only close other accounts of your own agency.")
    if not user.is_active:
        raise Conflict("This account is already closed.")
    auth_services.disable_user(actor, user, reason="closed")
    db.session.flush()


def link_account(actor: Actor, user: User, contact: Contact) -> None:
    """Link an existing partner account to the active contact of its agency it belongs to."""
    require(policies.can_link_account(actor), "Only the hub administrator links accounts.")
    if user.role not in PARTNER_ROLES:
        raise Invalid("Only partner accounts belong to contacts.")
    if contact.agency_id != user.agency_id or not contact.is_active:
        raise Invalid.on_field("contact_id", "Choose an active contact of the account's own agency")
    if contact.user_id is not None and contact.user_id != user.id:
        raise Conflict("That contact already has another hub account.")
    previous = db.session.scalars(sa.select(Contact).where(Contact.user_id == user.id, Contact.id != contact.id)).all()
    for old in previous:
        old.user_id = None
    contact.user_id = user.id
    audit.record(actor, "contact.account_linked", contact, user_id=user.id)
    db.session.flush()


def create_partner_account(
    actor: Actor,
    agency: Agency,
    *,
    email: str,
    role: Role,
    name: str | None = None,
    contact_id: int | None = None,
    password: str | None = None,
) -> tuple[User, Contact, str]:
    """An operator's ``hub create-user`` for a partner: the account belongs to ``contact_id``, else the
    agency's active contact with the same email, else a new contact made for it."""
    require(policies.can_create_partner_account(actor), "Only the hub administrator creates accounts this way.")
    email = auth_services.normalise_email(email)
    if contact_id is not None:
        contact = db.session.get(Contact, contact_id)
        if contact is None or contact.agency_id != agency.id or not contact.is_active:
            raise Invalid.on_field("contact", f"Choose an active contact of {agency.slug}")
    else:
        contact = db.session.scalar(
            sa.select(Contact)
            .where(
                Contact.agency_id == agency.id,
                Contact.status == ContactStatus.ACTIVE,
                sa.func.lower(Contact.email) == email,
                Contact.user_id.is_(None),
            )
            .order_by(Contact.id)
            .limit(1)
        )
        if contact is None:
            contact = Contact(agency_id=agency.id, name=name or email.split("@")[0], email=email)
            db.session.add(contact)
            db.session.flush()
            audit.record(actor, "contact.created", contact, agency_id=agency.id)
    if contact.user_id is not None:
        raise Conflict("That contact already has a hub account.")
    user, one_time = auth_services.create_user(
        actor, email=email, name=name or contact.name, agency_id=agency.id, role=role, password=password
    )
    contact.user_id = user.id
    audit.record(actor, "contact.account_linked", contact, user_id=user.id)
    db.session.flush()
    return user, contact, one_time
