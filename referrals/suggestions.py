"""The forum agenda's suggestion from referrals (:mod:`hub.suggestions`): for each member agency,
how many referrals to it are past the deadline they wait on. One grouped statement; counts only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from agencies.models import Agency
from hub.db import db
from hub.suggestions import Suggestion
from referrals.models import Referral
from referrals.queries import overdue_clause


def overdue_by_agency(agency_ids: Sequence[int], on: dt.date) -> list[Suggestion]:
    if not agency_ids:
        return []
    rows = db.session.execute(
        sa.select(Agency.id, Agency.name, sa.func.count(Referral.id))
        .join(Referral, Referral.agency_id == Agency.id)
        .where(Agency.id.in_(agency_ids), overdue_clause(on))
        .group_by(Agency.id, Agency.name)
        .order_by(sa.func.count(Referral.id).desc(), Agency.name)
    ).all()
    return [
        Suggestion("referrals", f"{name}: {count} referral{'s' if count > 1 else ''} past the deadline",
                   "Acknowledgements and decisions the agency has not yet given.", agency_id, "/overdue")
        for agency_id, name, count in rows
    ]  # fmt: skip
