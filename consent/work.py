"""Consent's part of the open-work contract (:mod:`hub.work`): a key worker's caseload.

Each woman has a key worker among our staff (reminders about her consents
go to them). When a key worker leaves, every woman on their caseload is
handed to the colleague named for her. Partner contacts hold nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from consent.models import ServiceUser
from hub import audit
from hub.db import db
from hub.permissions import Actor
from hub.work import OpenWork, WorkItem

CASELOAD = "Women they are key worker for"


class CaseloadWork(OpenWork):
    def held_by_staff(self, user_id: int) -> list[WorkItem]:
        rows = db.session.execute(
            sa.select(ServiceUser.id, ServiceUser.reference)
            .where(ServiceUser.key_worker_id == user_id)
            .order_by(ServiceUser.reference)
        ).all()
        # The reference, not her name: the handover pack may be printed.
        return [WorkItem(f"service_user:{pid}", CASELOAD, ref, f"/service-users/{pid}") for pid, ref in rows]

    def hand_over_staff(self, actor: Actor, leaver_id: int, takers: Mapping[str, int]) -> int:
        people = db.session.scalars(sa.select(ServiceUser).where(ServiceUser.key_worker_id == leaver_id)).all()
        moved = 0
        for person in people:
            if (taker := takers.get(f"service_user:{person.id}")) is None:
                continue  # added since the list was made: still held, so offboarding will not finish
            person.key_worker_id = taker
            audit.record(actor, "service_user.key_worker_changed", person, to_user_id=taker)
            moved += 1
        db.session.flush()
        return moved
