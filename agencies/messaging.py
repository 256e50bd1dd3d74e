"""Telling partner contacts: through their hub account, else by email, and
never anyone who has left.

Every package that tells a partner something (referrals, later the rota and
the forum) goes through here, so "never a leaver, never a closed account" is
written once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from agencies.models import Contact, ContactStatus
from hub.auth.models import User
from hub.db import db
from hub.notifications.services import notify
from hub.permissions import Role


def reachable(contact: Contact) -> bool:
    """Whether :func:`tell_contact` can reach this contact at all."""
    return Reach(contact, db.session.get(User, contact.user_id) if contact.user_id else None).reachable


def tell_contact(contact: Contact, **message: Any) -> int:
    """Tell an active contact: through their hub account if they have one, else by email.
    A contact whose hub account is closed is not told (not even at the contact's address)."""
    if not contact.is_active:
        return 0
    user = db.session.get(User, contact.user_id) if contact.user_id else None
    if user is not None:
        return 1 if user.is_active and notify(user=user, **message) else 0
    return 1 if contact.email and notify(email=contact.email, **message) else 0


def agency_leads(agency_id: int) -> list[User]:
    """The agency's partner leads who can be told: open accounts linked to a contact who has not left."""
    return leads_of([agency_id]).get(agency_id, [])


def leads_of(agency_ids: Iterable[int]) -> dict[int, list[User]]:
    """The partner leads of each of these agencies who can be told (see :func:`agency_leads`), in one query."""
    found: dict[int, list[User]] = {}
    ids = sorted(set(agency_ids))
    if not ids:
        return found
    for user in db.session.scalars(
        sa.select(User)
        .join(Contact, Contact.user_id == User.id)
        .where(
            User.agency_id.in_(ids),
            User.role == Role.PARTNER_LEAD,
            User.disabled_at.is_(None),
            Contact.agency_id == User.agency_id,
            Contact.status == ContactStatus.ACTIVE,
        )
        .order_by(User.id)
    ):
        found.setdefault(user.agency_id, []).append(user)
    return found


@dataclass(frozen=True)
class Reach:
    """How a contact is told: through their account, else at their work address (never both)."""

    contact: Contact
    user: User | None

    @property
    def reachable(self) -> bool:
        if not self.contact.is_active:
            return False
        return self.user.is_active if self.user is not None else bool(self.contact.email)


def reach_of(contact_ids: Iterable[int]) -> dict[int, Reach]:
    """How each of these contacts is told, in one query (the set-based form of :func:`reachable`)."""
    ids = sorted(set(contact_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Contact, User).outerjoin(User, User.id == Contact.user_id).where(Contact.id.in_(ids))
    ).all()
    return {contact.id: Reach(contact, user) for contact, user in rows}


def tell_agency_leads(agency_id: int, *, dedupe_key: str | None = None, **message: Any) -> int:
    """Tell each of the agency's partner leads (see :func:`agency_leads`)."""
    told = 0
    for user in agency_leads(agency_id):
        key = f"{dedupe_key}:u{user.id}" if dedupe_key else None
        told += bool(notify(user=user, dedupe_key=key, **message))
    return told
