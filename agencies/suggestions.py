"""The forum agenda's suggestion from the directory (:mod:`hub.suggestions`): member agencies where
what the partnership knows rests on one person (one active named contact, or none). One statement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from agencies.models import Agency, Contact, ContactStatus
from hub.db import db
from hub.suggestions import Suggestion


def single_points(agency_ids: Sequence[int], on: dt.date) -> list[Suggestion]:
    if not agency_ids:
        return []
    active = sa.func.count(Contact.id).filter(Contact.status == ContactStatus.ACTIVE)
    rows = db.session.execute(
        sa.select(Agency.id, Agency.name, active).outerjoin(Contact, Contact.agency_id == Agency.id)
        .where(Agency.id.in_(agency_ids)).group_by(Agency.id, Agency.name).having(active <= 1).order_by(Agency.name)
    ).all()  # fmt: skip
    return [
        Suggestion("directory", f"{name}: " + ("no named contact" if n == 0 else "knowledge rests on one person"),
                   "Who else there should the partnership know?", aid, f"/agencies/{aid}")
        for aid, name, n in rows
    ]  # fmt: skip
