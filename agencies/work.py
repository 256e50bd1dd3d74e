"""The directory's part of the open-work contract (:mod:`hub.work`).

A member of staff holds relationships: the agencies they lead for us and the
active contacts they know. A partner contact holds the agency's key-contact
or deputy role (which :func:`agencies.services.record_leaver` moves itself,
before any other package moves its work, because the new key contact is who
takes over when no successor is named).
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from agencies.models import Agency, Contact
from agencies.queries import relationships_of_id
from hub import audit
from hub.db import db
from hub.permissions import Actor
from hub.work import OpenWork, WorkItem

AGENCIES = "Agencies they lead"
CONTACTS = "Contacts they know"


class DirectoryWork(OpenWork):
    def held_by_staff(self, user_id: int) -> list[WorkItem]:
        held = relationships_of_id(user_id)
        return [WorkItem(f"agency:{a.id}", AGENCIES, a.name, f"/agencies/{a.id}") for a in held.agencies] + [
            WorkItem(f"contact:{c.id}", CONTACTS, f"{c.name}, {c.agency.name}", f"/contacts/{c.id}")
            for c in held.contacts
        ]

    def hand_over_staff(self, actor: Actor, leaver_id: int, takers: Mapping[str, int]) -> int:
        held = relationships_of_id(leaver_id)
        moved = 0
        # Anything added since the list was made has no taker: it stays held, so offboarding will not finish.
        for agency in held.agencies:
            if (taker := takers.get(f"agency:{agency.id}")) is not None:
                agency.relationship_owner_id, moved = taker, moved + 1
        for contact in held.contacts:
            if (taker := takers.get(f"contact:{contact.id}")) is not None:
                contact.known_by_id, moved = taker, moved + 1
        if moved:
            audit.record(actor, "staff.relationships_handed_over", object_type="user", object_id=leaver_id, count=moved)
        db.session.flush()
        return moved

    def held_by_contact(self, contact_id: int) -> list[WorkItem]:
        rows = db.session.execute(
            sa.select(Agency.id, Agency.name, Agency.key_contact_id).where(
                sa.or_(Agency.key_contact_id == contact_id, Agency.deputy_contact_id == contact_id)
            )
        ).all()
        return [
            WorkItem(
                f"agency-role:{agency_id}",
                "Key roles",
                f"{'Key contact' if key_id == contact_id else 'Deputy'} for {name}",
                f"/agencies/{agency_id}",
            )
            for agency_id, name, key_id in rows
        ]

    def move_contact_work(self, actor: Actor, contact_id: int, takeover_contact_id: int | None) -> int:
        # Key roles move in record_leaver itself (the new key contact decides the takeover).
        contact = db.session.get(Contact, contact_id)
        assert contact is None or not contact.is_active, "only a leaver's work moves"
        return 0
