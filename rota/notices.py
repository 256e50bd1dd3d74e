"""Whom to tell about a slot, and what the rota's messages say.

A slot's agency is told through the contact named to attend (after a
leaver, whoever holds their work), else its key contact, else its partner
leads: never anyone who has left, never a closed account
(:mod:`agencies.messaging`). Messages name the session, the agency and the
service; the rota holds nothing about any woman, so nothing else can leak.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from agencies import messaging
from agencies import queries as directory
from agencies.models import Agency, Contact
from hub.auth.models import User
from hub.db import db
from hub.notifications.services import Message
from rota.models import RotaSession, RotaSlot


@dataclass(frozen=True)
class Recipient:
    key: str  # stable part of a dedupe key: "c12" (a contact) or "u7" (a partner lead's account)
    user: User | None
    email: str


def when(session: RotaSession) -> str:
    day = f"{session.date:%A} {session.date.day} {session.date:%B %Y}"
    return f"{day}, {session.starts_at:%H:%M} to {session.ends_at:%H:%M}"


def recipients(slots: Iterable[RotaSlot]) -> dict[int, list[Recipient]]:
    """For each slot held by an agency, who is told about it: a fixed number of queries for any number."""
    held = [s for s in slots if s.agency_id is not None]
    agencies = {
        a.id: a for a in db.session.scalars(sa.select(Agency).where(Agency.id.in_({s.agency_id for s in held})))
    }
    wanted = {s.contact_id for s in held if s.contact_id} | {
        a.key_contact_id for a in agencies.values() if a.key_contact_id
    }
    reach = messaging.reach_of(wanted)
    for cid, r in list(reach.items()):
        if not r.contact.is_active and (holder := directory.current_holder(r.contact)) is not None:
            reach[cid] = messaging.reach_of([holder.id])[holder.id]
    found: dict[int, list[Recipient]] = {}
    need_leads: list[RotaSlot] = []
    for slot in held:
        agency = agencies[slot.agency_id]  # type: ignore[index]
        for candidate in (slot.contact_id, agency.key_contact_id):
            way = reach.get(candidate) if candidate else None
            if way is not None and way.reachable:
                found[slot.id] = [Recipient(f"c{way.contact.id}", way.user, way.contact.email)]
                break
        else:
            need_leads.append(slot)
    leads = messaging.leads_of(s.agency_id for s in need_leads if s.agency_id is not None)
    for slot in need_leads:
        found[slot.id] = [Recipient(f"u{u.id}", u, "") for u in leads.get(slot.agency_id or 0, [])]
    return found


def agency_recipients(agency_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """Whom to ask on behalf of each agency (cover, a gap to fill): its key contact, else its partner leads."""
    ids = sorted(set(agency_ids))
    agencies = list(db.session.scalars(sa.select(Agency).where(Agency.id.in_(ids))))
    reach = messaging.reach_of(a.key_contact_id for a in agencies if a.key_contact_id)
    found: dict[int, list[Recipient]] = {}
    for agency in agencies:
        r = reach.get(agency.key_contact_id) if agency.key_contact_id else None
        if r is not None and r.reachable:
            found[agency.id] = [Recipient(f"c{r.contact.id}", r.user, r.contact.email)]
    leads = messaging.leads_of(a.id for a in agencies if a.id not in found)
    for agency_id, users in leads.items():
        found[agency_id] = [Recipient(f"u{u.id}", u, "") for u in users]
    return found


def messages(kind: str, subject: str, body: str, link: str, key: str, people: Iterable[Recipient]) -> list[Message]:
    return [Message(kind, subject, body, link, f"{key}:{p.key}", user=p.user, email=p.email) for p in people]


def attending(slot: RotaSlot) -> Contact | None:
    """Who comes for a held slot: the contact named, else the agency's key contact (None: not known)."""
    if slot.contact_id is not None:
        return db.session.get(Contact, slot.contact_id)
    agency = db.session.get(Agency, slot.agency_id) if slot.agency_id else None
    return db.session.get(Contact, agency.key_contact_id) if agency and agency.key_contact_id else None


def days_before(session: RotaSession, on: dt.date) -> int:
    return (session.date - on).days
