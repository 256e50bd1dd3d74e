"""Her cases at the multi-agency forum, for her subject-access pack (:mod:`hub.subject_access`): two
statements."""

from __future__ import annotations

import sqlalchemy as sa

from agencies.models import Agency
from forum.models import CaseHearing, Forum, ForumCase, Meeting
from hub.db import db
from hub.subject_access import Section, when


def forum_sections(service_user_id: int) -> list[Section]:
    cases = db.session.execute(
        sa.select(ForumCase, Meeting.starts_at, Forum.name).join(Meeting, Meeting.id == ForumCase.meeting_id)
        .join(Forum, Forum.id == Meeting.forum_id).where(ForumCase.service_user_id == service_user_id)
        .order_by(Meeting.starts_at)
    ).all()  # fmt: skip
    ids = [c.id for c, _, _ in cases]
    heard: dict[int, list[str]] = {}
    if ids:
        for case_id, name in db.session.execute(
            sa.select(CaseHearing.case_id, Agency.name).join(Agency, Agency.id == CaseHearing.agency_id)
            .where(CaseHearing.case_id.in_(ids)).order_by(Agency.name)
        ):  # fmt: skip
            heard.setdefault(case_id, []).append(name)
    return [Section("forum_cases", "Your cases at the multi-agency forum", "When your situation was discussed, why, "
                    "and which agencies heard it.", ("label", "forum", "meeting", "why", "withdrawn", "heard by"), [
        (c.label, forum, when(starts), c.reason, when(c.withdrawn_at), ", ".join(heard.get(c.id, [])))
        for c, starts, forum in cases
    ])]  # fmt: skip
