"""Retention (:mod:`hub.retention`): a forum case is contact with her; erasing keeps the case (the
reports count it) and removes why she was discussed, what was said, and the actions' words about her."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from forum.models import ForumAction, ForumCase, MinutesRevision
from hub.db import db
from hub.indicators import london_day


def last_contact() -> list[sa.Select[Any]]:
    return [sa.select(ForumCase.service_user_id.label("id"), london_day(ForumCase.updated_at).label("day"))]


def reduce(service_user_ids: Sequence[int]) -> int:
    cases = db.session.scalars(sa.select(ForumCase.id).where(ForumCase.service_user_id.in_(service_user_ids))).all()
    if not cases:
        return 0
    changed = db.session.execute(sa.update(ForumAction).where(ForumAction.case_id.in_(cases))  # type: ignore[attr-defined]
                                 .values(text="(erased)", close_note="")
                                 .execution_options(synchronize_session=False)).rowcount  # fmt: skip
    changed += db.session.execute(sa.update(ForumCase).where(ForumCase.id.in_(cases))  # type: ignore[attr-defined]
                                  .values(reason="(erased)", discussion="", withdrawn_reason="")
                                  .execution_options(synchronize_session=False)).rowcount  # fmt: skip
    keys = {str(c) for c in cases}
    meetings = sa.select(ForumCase.meeting_id).where(ForumCase.id.in_(cases))
    for revision in db.session.scalars(sa.select(MinutesRevision).where(MinutesRevision.meeting_id.in_(meetings))):
        if keys & set(revision.case_notes or {}):
            revision.case_notes = {k: v for k, v in revision.case_notes.items() if k not in keys}
            changed += 1
    return int(changed)
