"""Who may hear each case: computed, never remembered, until the meeting is held.

A case's audience is the agencies invited to or present at its meeting whose
sharing with her is covered, at this moment, for purpose ``forum_discussion``
and category ``identity`` (she is named), by a valid consent or a
safeguarding decision sharing now (:mod:`consent.sharing`). The other
agencies in the room are excluded from that item: they leave for it. The
host organisation is always in the room and is not part of either list.

Everything here is two queries for the whole meeting (every case, every
agency), so a page of a meeting with many cases costs the same as one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from consent import sharing
from consent.models import DataCategory, Purpose
from forum.models import IN_THE_ROOM, CaseHearing, ForumCase, Meeting, MeetingAttendance
from hub.db import db

PURPOSE = Purpose.FORUM_DISCUSSION.value
CATEGORIES = frozenset({DataCategory.IDENTITY.value})


@dataclass
class Audience:
    included: list[int] = field(default_factory=list)  # agency ids, in register order
    excluded: list[int] = field(default_factory=list)
    bases: dict[int, sharing.Basis] = field(default_factory=dict)
    missing: dict[int, sharing.Missing] = field(default_factory=dict)

    def hears(self, agency_id: int | None) -> bool:
        return agency_id is not None and agency_id in self.bases


def room(meeting_id: int) -> list[int]:
    """The agencies invited to or present at the meeting, in register order."""
    return list(db.session.scalars(
        sa.select(MeetingAttendance.agency_id)
        .where(MeetingAttendance.meeting_id == meeting_id, MeetingAttendance.status.in_(IN_THE_ROOM))
        .order_by(MeetingAttendance.id)
    ))  # fmt: skip


def audiences(cases: Sequence[ForumCase], agency_ids: Sequence[int]) -> dict[int, Audience]:
    """For each case, its audience among ``agency_ids``: two queries for all of them."""
    found = sharing.find_bases_many({c.service_user_id for c in cases}, agency_ids, PURPOSE, set(CATEGORIES))
    answers: dict[int, Audience] = {}
    for case in cases:
        audience = Audience()
        for agency_id in agency_ids:
            basis = found.get((case.service_user_id, agency_id))
            if isinstance(basis, sharing.Basis):
                audience.included.append(agency_id)
                audience.bases[agency_id] = basis
            else:
                audience.excluded.append(agency_id)
                if basis is not None:
                    audience.missing[agency_id] = basis
        answers[case.id] = audience
    return answers


def of_meeting(meeting: Meeting, cases: Sequence[ForumCase]) -> dict[int, Audience]:
    return audiences(cases, room(meeting.id))


def of_case_meeting(meeting: Meeting, cases: Sequence[ForumCase]) -> dict[int, Audience]:
    """Before the meeting: the room's audience now. After: who heard it, while each basis is still valid."""
    if meeting.upcoming:
        return of_meeting(meeting, cases)
    hearings = list(db.session.scalars(sa.select(CaseHearing).where(CaseHearing.case_id.in_([c.id for c in cases]))))
    heard_by: dict[int, list[int]] = {}
    for h in hearings:
        heard_by.setdefault(h.case_id, []).append(h.agency_id)
    agency_ids = sorted({h.agency_id for h in hearings})
    now = audiences(cases, agency_ids)
    room = _register_ids(meeting.id)
    answers: dict[int, Audience] = {}
    for case in cases:
        valid = now[case.id]
        result = Audience()
        for agency_id in heard_by.get(case.id, []):
            if agency_id in valid.bases:
                result.included.append(agency_id)
                result.bases[agency_id] = valid.bases[agency_id]
        result.excluded = [a for a in room if a not in result.included]
        answers[case.id] = result
    return answers


def _register_ids(meeting_id: int) -> list[int]:
    line = MeetingAttendance
    return list(db.session.scalars(sa.select(line.agency_id).where(line.meeting_id == meeting_id).order_by(line.id)))


def missing_problem(audience: Audience) -> dict[str, Any]:
    """The ``missing`` member of the refusal when no agency in the room may hear her case."""
    if not audience.excluded:
        return {"agency": "no agency is invited to this meeting", "agencies": []}
    return {
        "agency": "no valid consent for forum_discussion or approved safeguarding decision covers any agency "
        "invited or present",
        "purpose": PURPOSE,
        "data_categories": sorted(CATEGORIES),
        "agencies": [
            {"agency_id": agency_id, **(audience.missing[agency_id].as_problem() if agency_id in audience.missing
                                        else {})}
            for agency_id in audience.excluded
        ],
    }  # fmt: skip
