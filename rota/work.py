"""The rota's part of the open-work contract (:mod:`hub.work`).

A partner contact holds the future slots they are named to attend, those
their agency holds with nobody named while they are its key contact, and the
standing commitments that name them. When they leave:

- a named slot or commitment moves to whoever takes over (the successor,
  else the agency's key contact);
- with nobody to take over, the slot opens again (it shows as a gap, and the
  managers' digest and the grid say so) and the commitment names nobody.

Our staff hold nothing here: slots belong to agencies. Items are named by the
session's date and the service.
"""

from __future__ import annotations

import sqlalchemy as sa

from agencies.models import Agency, Contact, ContactStatus
from hub import audit
from hub.db import db, today, utcnow
from hub.permissions import Actor
from hub.work import OpenWork, WorkItem
from rota.models import HELD, RotaCommitment, RotaSession, RotaSlot, RotaSlotEvent, SessionStatus, SlotStatus

SLOTS = "Drop-in slots they attend"
COMMITMENTS = "Standing drop-in commitments that name them"


def _future() -> sa.ColumnElement[bool]:
    return sa.and_(RotaSession.date >= today(), RotaSession.status == SessionStatus.SCHEDULED,
                   RotaSlot.status.in_(HELD))  # fmt: skip


def _theirs(contact_id: int) -> sa.ColumnElement[bool]:
    """Slots naming them, or naming nobody while they are the agency's key contact."""
    key_of = sa.select(Agency.id).where(Agency.key_contact_id == contact_id).scalar_subquery()
    return sa.or_(
        RotaSlot.contact_id == contact_id, sa.and_(RotaSlot.contact_id.is_(None), RotaSlot.agency_id == key_of)
    )


def _running(contact_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(RotaCommitment.contact_id == contact_id,
                   sa.or_(RotaCommitment.ends_on.is_(None), RotaCommitment.ends_on >= today()))  # fmt: skip


class RotaWork(OpenWork):
    def held_by_contact(self, contact_id: int) -> list[WorkItem]:
        rows = db.session.execute(
            sa.select(RotaSlot.id, RotaSlot.service, RotaSession.id, RotaSession.date)
            .join(RotaSession, RotaSession.id == RotaSlot.session_id)
            .where(_future(), _theirs(contact_id))
            .order_by(RotaSession.date, RotaSlot.id)
        ).all()
        items = [
            WorkItem(f"rota_slot:{sid}", SLOTS, f"{day:%-d %B %Y}: {service.label}", f"/rota/sessions/{session_id}")
            for sid, service, session_id, day in rows
        ]
        commitments = db.session.execute(
            sa.select(RotaCommitment.id, RotaCommitment.service).where(_running(contact_id)).order_by(RotaCommitment.id)
        ).all()
        return items + [
            WorkItem(f"rota_commitment:{cid}", COMMITMENTS, service.label, "/rota/commitments")
            for cid, service in commitments
        ]

    def move_contact_work(self, actor: Actor, contact_id: int, takeover_contact_id: int | None) -> int:
        leaver = db.session.get_one(Contact, contact_id)
        agency = db.session.get_one(Agency, leaver.agency_id)
        key = db.session.get(Contact, agency.key_contact_id) if agency.key_contact_id else None
        has_key = key is not None and key.status is ContactStatus.ACTIVE and key.id != contact_id
        slots = db.session.scalars(
            sa.select(RotaSlot).join(RotaSession, RotaSession.id == RotaSlot.session_id)
            .where(_future(), sa.or_(RotaSlot.contact_id == contact_id,
                                     sa.and_(RotaSlot.contact_id.is_(None), RotaSlot.agency_id == agency.id,
                                             sa.literal(not has_key))))
        ).all()  # fmt: skip
        moved = 0
        now = utcnow()
        for slot in slots:
            if takeover_contact_id is not None:
                slot.contact_id = takeover_contact_id
                audit.record(actor, "rota_slot.readdressed", slot, from_contact_id=contact_id,
                             to_contact_id=takeover_contact_id)  # fmt: skip
            elif has_key and slot.contact_id == contact_id:
                slot.contact_id = None  # the agency's key contact comes
                audit.record(actor, "rota_slot.readdressed", slot, from_contact_id=contact_id, to_contact_id=None)
            else:  # nobody at the agency to come: the slot is a gap again
                db.session.add(RotaSlotEvent(slot_id=slot.id, agency_id=slot.agency_id, kind="released",
                                             reason="The person coming left, with nobody to take over"))  # fmt: skip
                slot.status, slot.agency_id, slot.contact_id, slot.commitment_id = SlotStatus.OPEN, None, None, None
                slot.taken_at = slot.confirmed_at = None
                slot.updated_at = now
                audit.record(actor, "rota_slot.reopened", slot, left_contact_id=contact_id)
            moved += 1
        commitments = db.session.scalars(sa.select(RotaCommitment).where(_running(contact_id))).all()
        for commitment in commitments:
            commitment.contact_id = takeover_contact_id
            audit.record(actor, "rota_commitment.readdressed", commitment, from_contact_id=contact_id,
                         to_contact_id=takeover_contact_id)  # fmt: skip
        db.session.flush()
        return moved + len(commitments)
