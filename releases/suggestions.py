"""The forum agenda's suggestion from release planning (:mod:`hub.suggestions`): releases in the next
8 weeks whose plan still has gaps (items open and overdue, or due within two weeks of the day). One
statement; a count, never a woman."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from hub.db import db
from hub.suggestions import Suggestion
from releases.models import OPEN_ITEM, CustodyEpisode, CustodyStatus, PlanItem

WEEKS = 8


def releases_with_gaps(agency_ids: Sequence[int], on: dt.date) -> list[Suggestion]:
    gaps = sa.exists().where(PlanItem.custody_id == CustodyEpisode.id, PlanItem.status.in_(OPEN_ITEM))
    count = db.session.scalar(
        sa.select(sa.func.count(CustodyEpisode.id)).where(
            CustodyEpisode.status == CustodyStatus.IN_CUSTODY, CustodyEpisode.expected_on >= on,
            CustodyEpisode.expected_on <= on + dt.timedelta(weeks=WEEKS), gaps)
    ) or 0  # fmt: skip
    if not count:
        return []
    title = f"{count} release{'s' if count > 1 else ''} in the next {WEEKS} weeks with gaps in the plan"
    return [Suggestion("releases", title, "Open plan items before the day she leaves prison.", None, "/releases")]
