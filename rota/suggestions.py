"""The forum agenda's suggestions from the drop-in rota (:mod:`hub.suggestions`): services missing at
the drop-in in the next 4 weeks, and member agencies that did not come when down to in the last 8
weeks. Two statements; agencies and counts only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from agencies.models import Agency
from hub.db import db
from hub.suggestions import Suggestion
from rota.models import AgencyAttendance, Attendance, RotaSession
from rota.needs import GAP_WEEKS, gaps

LOOK_BACK_WEEKS = 8


def rota_suggestions(agency_ids: Sequence[int], on: dt.date) -> list[Suggestion]:
    missing = db.session.scalar(sa.select(sa.func.count()).select_from(
        gaps(on, on + dt.timedelta(weeks=GAP_WEEKS)).subquery())) or 0  # fmt: skip
    found = []
    if missing:
        found.append(Suggestion("rota", f"Drop-in: {missing} service{'s' if missing > 1 else ''} missing in the next "
                                f"{GAP_WEEKS} weeks", "Which agency could cover them?", None, "/rota"))  # fmt: skip
    if agency_ids:
        rows = db.session.execute(
            sa.select(Agency.id, Agency.name, sa.func.count(AgencyAttendance.id))
            .join(AgencyAttendance, AgencyAttendance.agency_id == Agency.id)
            .join(RotaSession, RotaSession.id == AgencyAttendance.session_id)
            .where(Agency.id.in_(agency_ids), AgencyAttendance.attendance == Attendance.NO_SHOW,
                   RotaSession.date >= on - dt.timedelta(weeks=LOOK_BACK_WEEKS), RotaSession.date < on)
            .group_by(Agency.id, Agency.name).order_by(Agency.name)
        ).all()  # fmt: skip
        found += [Suggestion("rota", f"{name} did not come to the drop-in {count} time{'s' if count > 1 else ''}",
                             f"In the last {LOOK_BACK_WEEKS} weeks, when down to come.", aid, "/rota")
                  for aid, name, count in rows]  # fmt: skip
    return found
