"""What the reports count from the drop-in rota (:mod:`hub.indicators`): two statements whatever the
size. The drop-in records counts, never names: its attendances are visits, not distinct women."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from hub.db import db, today
from hub.indicators import Breakdown, Counted, Figure, Indicator, Measure, Period, Women, by_month
from rota.models import AgencyAttendance, Attendance, RotaSession, SessionRecord, SessionStatus

SOURCE = "The drop-in's session records (counts only)"
CAME = (Attendance.ATTENDED, Attendance.LATE, Attendance.LEFT_EARLY)


def _held(period: Period) -> list[sa.ColumnElement[bool]]:
    return [period.holds_day(RotaSession.date), RotaSession.date <= today(),
            RotaSession.status != SessionStatus.CANCELLED]  # fmt: skip


class RotaIndicators:
    indicators = (
        Indicator("dropin_sessions", "Drop-in sessions held", "Drop-in sessions in the period that were not "
                  "cancelled.", "sessions", SOURCE, order=40),
        Indicator("dropin_women_attended", "Drop-in attendances", "Women who came to the drop-in, added up over "
                  "its sessions in the period: a woman who came to four sessions counts four times (the drop-in "
                  "records counts, never names).", "attendances", SOURCE, order=41),
        Indicator("dropin_new_women", "Women new to the drop-in", "Women who came to the drop-in for the first "
                  "time in the period, as recorded at each session.", "women", SOURCE, order=42),
    )  # fmt: skip
    measures = (
        Measure("dropin_sessions_down", "Drop-in sessions due", "Sessions in the period the agency was down to "
                "come to (as recorded after each session).", "count", order=30, section="The drop-in"),
        Measure("dropin_sessions_came", "Drop-in sessions came", "Of those, sessions the agency came to (late or "
                "leaving early included).", "count", order=31, section="The drop-in"),
        Measure("dropin_attendance_rate", "Drop-in attendance", "Sessions came to, of the sessions due.", "rate",
                numerator="dropin_sessions_came", of="dropin_sessions_down", order=32, section="The drop-in"),
    )  # fmt: skip

    def count(self, period: Period) -> Counted:
        sessions, attended, new = db.session.execute(
            sa.select(sa.func.count(RotaSession.id), sa.func.coalesce(sa.func.sum(SessionRecord.women_attended), 0),
                      sa.func.coalesce(sa.func.sum(SessionRecord.new_women), 0))
            .outerjoin(SessionRecord, SessionRecord.session_id == RotaSession.id).where(*_held(period))
        ).one()  # fmt: skip
        rows = db.session.execute(
            sa.select(RotaSession.date, sa.func.coalesce(sa.func.sum(SessionRecord.women_attended), 0))
            .join(SessionRecord, SessionRecord.session_id == RotaSession.id)
            .where(*_held(period)).group_by(RotaSession.date)
        ).tuples()  # fmt: skip
        return Counted({"dropin_sessions": int(sessions), "dropin_women_attended": int(attended),
                        "dropin_new_women": int(new)}, {"dropin_women_attended": by_month(rows)})  # fmt: skip

    def women(self, period: Period) -> list[Women]:
        return []  # counts only: no woman is named at the drop-in

    def partnership(self, period: Period, agency_ids: Sequence[int] | None) -> dict[int, dict[str, Figure]]:
        only = [AgencyAttendance.agency_id.in_(agency_ids)] if agency_ids is not None else []
        rows = db.session.execute(
            sa.select(AgencyAttendance.agency_id, sa.func.count(),
                      sa.func.count(sa.case((AgencyAttendance.attendance.in_(CAME), 1))))
            .join(RotaSession, RotaSession.id == AgencyAttendance.session_id)
            .where(*_held(period), *only).group_by(AgencyAttendance.agency_id)
        ).all()  # fmt: skip
        return {int(a): {"dropin_sessions_down": int(down), "dropin_sessions_came": int(came)}
                for a, down, came in rows}  # fmt: skip

    def breakdowns(self, period: Period) -> list[Breakdown]:
        return []
