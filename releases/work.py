"""Release planning's part of the open-work contract (:mod:`hub.work`).

- Our staff hold the open plan items they own: each is handed to the
  colleague named for it.
- A partner contact holds the open plan items that name them, and the
  custody episodes where they are her probation practitioner: when they
  leave, each moves to whoever takes over (else the item names the agency
  alone, and the custody has no practitioner until one is recorded).
- Plan referrals are referrals: they move through the referrals provider.
Items are named by the custody reference, never by her name.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from hub import audit
from hub.db import db
from hub.permissions import Actor
from hub.work import OpenWork, WorkItem
from releases.models import OPEN_ITEM, CustodyEpisode, CustodyStatus, PlanItem

OWNED = "Release plan items they own"
NAMED = "Release plan items that name them"
PROBATION = "Releases where they are her probation practitioner"
_OPEN = [s.value for s in OPEN_ITEM]


def _items(where: sa.ColumnElement[bool], section: str) -> list[WorkItem]:
    rows = db.session.execute(
        sa.select(PlanItem.id, PlanItem.title, CustodyEpisode.id, CustodyEpisode.reference)
        .join(CustodyEpisode, CustodyEpisode.id == PlanItem.custody_id)
        .where(where, PlanItem.status.in_(_OPEN), CustodyEpisode.status == CustodyStatus.IN_CUSTODY)
        .order_by(PlanItem.id)
    ).all()
    return [
        WorkItem(f"plan_item:{iid}", section, f"{ref}: {title}", f"/custody/{cid}") for iid, title, cid, ref in rows
    ]


class ReleaseWork(OpenWork):
    def held_by_staff(self, user_id: int) -> list[WorkItem]:
        return _items(PlanItem.owner_user_id == user_id, OWNED)

    def hand_over_staff(self, actor: Actor, leaver_id: int, takers: Mapping[str, int]) -> int:
        held = {int(item.key.split(":")[1]) for item in self.held_by_staff(leaver_id)}
        moved = 0
        for item in db.session.scalars(sa.select(PlanItem).where(PlanItem.id.in_(held))).all():
            if (taker := takers.get(f"plan_item:{item.id}")) is None:
                continue  # added since the list was made: still held, so offboarding will not finish
            item.owner_user_id = taker
            audit.record(actor, "plan_item.reassigned", item, to_user_id=taker)
            moved += 1
        db.session.flush()
        return moved

    def held_by_contact(self, contact_id: int) -> list[WorkItem]:
        items = _items(PlanItem.contact_id == contact_id, NAMED)
        rows = db.session.execute(
            sa.select(CustodyEpisode.id, CustodyEpisode.reference).where(
                CustodyEpisode.probation_contact_id == contact_id, CustodyEpisode.status == CustodyStatus.IN_CUSTODY
            )
        ).all()
        return items + [WorkItem(f"custody:{cid}", PROBATION, ref, f"/custody/{cid}") for cid, ref in rows]

    def move_contact_work(self, actor: Actor, contact_id: int, takeover_contact_id: int | None) -> int:
        items = db.session.scalars(
            sa.select(PlanItem)
            .join(CustodyEpisode, CustodyEpisode.id == PlanItem.custody_id)
            .where(PlanItem.contact_id == contact_id, PlanItem.status.in_(_OPEN),
                   CustodyEpisode.status == CustodyStatus.IN_CUSTODY)
        ).all()  # fmt: skip
        for item in items:
            item.contact_id = takeover_contact_id
            audit.record(actor, "plan_item.readdressed", item, from_contact_id=contact_id,
                         to_contact_id=takeover_contact_id)  # fmt: skip
        custodies = db.session.scalars(
            sa.select(CustodyEpisode).where(
                CustodyEpisode.probation_contact_id == contact_id, CustodyEpisode.status == CustodyStatus.IN_CUSTODY
            )
        ).all()
        for custody in custodies:
            custody.probation_contact_id = takeover_contact_id
            audit.record(actor, "custody.probation_changed", custody, from_contact_id=contact_id,
                         to_contact_id=takeover_contact_id)  # fmt: skip
        db.session.flush()
        return len(items) + len(custodies)
