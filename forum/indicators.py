"""What the reports count from the forum (:mod:`hub.indicators`): two statements whatever the size.

An action counts in the period it was due; it was done on time when it was closed as done on or
before the London day it was due (``ForumAction.closed_on``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from forum.models import ActionStatus, ForumAction, ForumCase, Meeting, MeetingStatus
from hub.db import db
from hub.indicators import Breakdown, Counted, Figure, Group, Indicator, Measure, Period, Women

SOURCE = "Forum meetings and their actions"
HELD = (MeetingStatus.HELD, MeetingStatus.MINUTES_AGREED)
ON_TIME = sa.and_(ForumAction.status == ActionStatus.DONE, ForumAction.closed_on.is_not(None),
                  ForumAction.closed_on <= ForumAction.due_on)  # fmt: skip


def _held(period: Period) -> list[sa.ColumnElement[bool]]:
    return [Meeting.status.in_(HELD), Meeting.held_at.is_not(None), period.holds(Meeting.held_at)]


class ForumIndicators:
    indicators = (
        Indicator("forum_meetings", "Forum meetings held", "Multi-agency forum meetings held in the period.",
                  "meetings", SOURCE, order=50),
        Indicator("forum_actions_due", "Forum actions due", "Actions agreed at the forum that fell due in the "
                  "period.", "actions", SOURCE, order=51),
        Indicator("forum_actions_done_on_time", "Forum actions done on time", "Of those, actions closed as done "
                  "on or before the day they were due.", "actions", SOURCE, order=52),
        Indicator("women_discussed", "Women discussed at the forum", "Women whose case was heard at a forum "
                  "meeting held in the period, each counted once.", "women", SOURCE, Group.SMALL_STEPS, order=40),
    )  # fmt: skip
    measures = (
        Measure("forum_actions_due", "Forum actions due", "Actions the forum gave the agency that fell due in the "
                "period.", "count", order=40, section="The forum"),
        Measure("forum_actions_done_on_time", "Forum actions done on time", "Of those, closed as done on or before "
                "the day they were due.", "count", order=41, section="The forum"),
        Measure("forum_actions_done_on_time_rate", "Share of forum actions done on time", "Done on time, of the "
                "actions due.", "rate", numerator="forum_actions_done_on_time", of="forum_actions_due",
                order=42, section="The forum"),
    )  # fmt: skip

    def _cases(self, period: Period) -> sa.Select[Any]:
        return (sa.select(ForumCase.service_user_id.label("id")).join(Meeting, Meeting.id == ForumCase.meeting_id)
                .where(ForumCase.withdrawn_at.is_(None), *_held(period)))  # fmt: skip

    def count(self, period: Period) -> Counted:
        meetings = db.session.scalar(sa.select(sa.func.count()).select_from(Meeting).where(*_held(period))) or 0
        due, on_time = db.session.execute(
            sa.select(sa.func.count(), sa.func.count(sa.case((ON_TIME, 1))))
            .where(period.holds_day(ForumAction.due_on))
        ).one()  # fmt: skip
        return Counted({"forum_meetings": int(meetings), "forum_actions_due": int(due),
                        "forum_actions_done_on_time": int(on_time)})  # fmt: skip

    def women(self, period: Period) -> list[Women]:
        return [Women(self._cases(period), "women_discussed")]

    def partnership(self, period: Period, agency_ids: Sequence[int] | None) -> dict[int, dict[str, Figure]]:
        only = [ForumAction.agency_id.in_(agency_ids)] if agency_ids is not None else []
        rows = db.session.execute(
            sa.select(ForumAction.agency_id, sa.func.count(), sa.func.count(sa.case((ON_TIME, 1))))
            .where(period.holds_day(ForumAction.due_on), *only).group_by(ForumAction.agency_id)
        ).all()  # fmt: skip
        return {int(a): {"forum_actions_due": int(due), "forum_actions_done_on_time": int(done)}
                for a, due, done in rows}  # fmt: skip

    def breakdowns(self, period: Period) -> list[Breakdown]:
        return []
