"""Referrals' part of the open-work contract (:mod:`hub.work`).

- Our staff hold the open referrals they sent (drafts included): each is
  handed to the colleague named for it, and remembers who sent it first.
- A partner contact holds the open referrals addressed to them: when they
  leave, each is readdressed to whoever takes over (else the agency's partner
  leads) and that person is told, without details.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from agencies.models import Agency
from hub import audit
from hub.db import db
from hub.permissions import Actor
from hub.work import OpenWork, WorkItem
from referrals import notify
from referrals.changes import record_event
from referrals.models import Referral
from referrals.states import SHARED_OPEN, Status

SENT_BY_STAFF = "Open referrals they sent"
ADDRESSED = "Open referrals addressed to them"
_STAFF_HELD = [s.value for s in SHARED_OPEN | {Status.ON_HOLD, Status.DRAFT}]
_CONTACT_HELD = [s.value for s in SHARED_OPEN | {Status.ON_HOLD}]


def _items(where: sa.ColumnElement[bool], statuses: list[str], section: str) -> list[WorkItem]:
    rows = db.session.execute(
        sa.select(Referral.id, Referral.reference, Referral.status, Agency.name)
        .join(Agency, Agency.id == Referral.agency_id)
        .where(where, Referral.status.in_(statuses))
        .order_by(Referral.id)
    ).all()
    return [
        WorkItem(f"referral:{rid}", section, f"{ref} to {agency}: {status.label.lower()}", f"/referrals/{rid}")
        for rid, ref, status, agency in rows
    ]


class ReferralWork(OpenWork):
    def held_by_staff(self, user_id: int) -> list[WorkItem]:
        return _items(Referral.sender_user_id == user_id, _STAFF_HELD, SENT_BY_STAFF)

    def hand_over_staff(self, actor: Actor, leaver_id: int, takers: Mapping[str, int]) -> int:
        affected = db.session.scalars(
            sa.select(Referral).where(Referral.sender_user_id == leaver_id, Referral.status.in_(_STAFF_HELD))
        ).all()
        moved = 0
        for referral in affected:
            if (new_owner_id := takers.get(f"referral:{referral.id}")) is None:
                continue  # added since the list was made: still held, so offboarding will not finish
            referral.handed_over_from_id, referral.sender_user_id = leaver_id, new_owner_id
            record_event(actor, referral, "reassign", referral.status, note="sender left")
            audit.record(actor, "referral.reassigned", referral, to_user_id=new_owner_id)
            moved += 1
        db.session.flush()
        return moved

    def held_by_contact(self, contact_id: int) -> list[WorkItem]:
        return _items(Referral.recipient_contact_id == contact_id, _CONTACT_HELD, ADDRESSED)

    def move_contact_work(self, actor: Actor, contact_id: int, takeover_contact_id: int | None) -> int:
        affected = db.session.scalars(
            sa.select(Referral).where(Referral.recipient_contact_id == contact_id, Referral.status.in_(_CONTACT_HELD))
        ).all()
        for referral in affected:
            referral.recipient_contact_id = takeover_contact_id
            record_event(actor, referral, "readdress", referral.status, note="addressee left")
            audit.record(
                actor, "referral.readdressed", referral, from_contact_id=contact_id, to_contact_id=takeover_contact_id
            )
            if referral.status is not Status.ON_HOLD:
                notify.tell_recipient(
                    referral,
                    "referral.readdressed",
                    f"Referral {referral.reference} is now with you",
                    f"Referral {referral.reference} was addressed to someone who has left and is now "
                    "addressed to you."
                    + (
                        f" Please acknowledge it by {referral.acknowledge_by:%-d %B %Y}."
                        if referral.status is Status.SENT and referral.acknowledge_by
                        else ""
                    ),
                )
        db.session.flush()
        return len(affected)
