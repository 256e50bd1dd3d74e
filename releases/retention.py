"""Retention (:mod:`hub.retention`): custody and its plan are contact with her; erasing keeps the dates the
reports count and removes the free text (who gave the date, her plan items' wording)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hub.db import db
from hub.indicators import london_day
from releases.models import CustodyEpisode, PlanItem


def last_contact() -> list[sa.Select[Any]]:
    return [sa.select(CustodyEpisode.service_user_id.label("id"), london_day(CustodyEpisode.updated_at).label("day"))]


def reduce(service_user_ids: Sequence[int]) -> int:
    episodes = sa.select(CustodyEpisode.id).where(CustodyEpisode.service_user_id.in_(service_user_ids))
    changed = db.session.execute(  # type: ignore[attr-defined]
        sa.update(PlanItem)
        .where(PlanItem.custody_id.in_(episodes.scalar_subquery()))
        .values(title="(erased)")
        .execution_options(synchronize_session=False)
    ).rowcount
    changed += db.session.execute(sa.update(CustodyEpisode).where(CustodyEpisode.service_user_id.in_(service_user_ids))  # type: ignore[attr-defined]
                                  .values(date_told_by="", told_before_release=None)
                                  .execution_options(synchronize_session=False)).rowcount  # fmt: skip
    return int(changed)
