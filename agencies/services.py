"""Changes to the directory: one function per use case.

Each checks its policy, enforces the directory's invariants, changes state,
writes the audit entry, sends its signal and flushes; the caller commits.

Invariants kept here:
- Key contact, deputy and successor are always active contacts of the same
  agency; relationship owners and "known by" are active staff.
- When a contact leaves, nothing keeps pointing at them as a current owner:
  their key-contact or deputy role moves (and is flagged for confirmation),
  and ``contact_left`` tells other packages to move their open work.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from agencies import policies, signals
from agencies.models import Agency, AgencyKind, Contact, ContactStatus, Handover, Interaction, InteractionKind
from agencies.queries import get_agency_by_slug, relationships_of
from hub import audit
from hub.auth import services as auth_services
from hub.auth.models import User
from hub.db import db, today, utcnow
from hub.permissions import Actor, Conflict, Invalid, require


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
    """Mark a contact as left; move their roles and (by signal) their open work.

    Returns the contact who takes over: the successor, else the agency's key
    contact (if that is not the leaver), else None.
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
    db.session.flush()
    signals.contact_left.send(contact, takeover=takeover, actor=actor)
    return takeover


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
    spoken = contact is not None and data["kind"] in _SPOKEN | {InteractionKind.EMAIL}
    if spoken and (contact.last_spoken_on is None or contact.last_spoken_on < data["occurred_on"]):
        contact.last_spoken_on = data["occurred_on"]
    db.session.flush()
    audit.record(actor, "interaction.logged", entry, agency_id=agency.id, kind=entry.kind.value)
    return entry


# Staff leaving ------------------------------------------------------------


def offboard_staff(
    actor: Actor, leaver: User, assignments: dict[str, int], default_user_id: int | None, note: str = ""
) -> Handover:
    """Hand a leaving colleague's relationships to others and record the handover."""
    require(policies.can_offboard_staff(actor), "Only managers can hand over a colleague's work.")
    if not leaver.is_staff:
        raise Invalid("Only our own staff are offboarded here.")
    if not leaver.is_active:
        raise Conflict("This account is already disabled.")
    if actor.actor_id == leaver.id:
        raise Conflict("Ask another manager to hand over your own work.")
    relationships = relationships_of(leaver)
    final: dict[str, int] = {}
    for key in relationships.assignment_keys():
        owner_id = assignments.get(key) or default_user_id
        if owner_id is None:
            raise Invalid.on_field(key.replace(":", "-"), "Choose who takes this over")
        if owner_id == leaver.id:
            raise Invalid.on_field(key.replace(":", "-"), "Choose someone other than the person leaving")
        _check_staff_ref(key.replace(":", "-"), owner_id)
        final[key] = owner_id
    for agency in relationships.agencies:
        agency.relationship_owner_id = final[f"agency:{agency.id}"]
    for contact in relationships.contacts:
        contact.known_by_id = final[f"contact:{contact.id}"]
    handover = Handover(leaver_id=leaver.id, by_id=actor.actor_id, assignments=final, note=note)
    db.session.add(handover)
    db.session.flush()
    audit.record(actor, "staff.handed_over", handover, leaver_id=leaver.id, relationships=len(final))
    signals.staff_offboarded.send(leaver, assignments=final, default_user_id=default_user_id, actor=actor)
    return handover


def complete_offboarding(actor: Actor, handover: Handover) -> None:
    """Disable the leaver's account and end every session it has."""
    require(policies.can_offboard_staff(actor))
    if handover.completed_at is not None:
        raise Conflict("This handover is already complete.")
    leaver = db.session.get(User, handover.leaver_id)
    assert leaver is not None
    remaining = relationships_of(leaver)
    if remaining.assignment_keys():
        raise Conflict("The leaver still holds relationships: hand them over first.")
    auth_services.disable_user(actor, leaver, reason="offboarded")
    handover.completed_at = utcnow()
    audit.record(actor, "staff.offboarded", handover, leaver_id=leaver.id)
    db.session.flush()
