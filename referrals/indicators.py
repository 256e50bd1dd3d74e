"""What the reports count from referrals (:mod:`hub.indicators`): five statements whatever the size.

A referral counts in the period it was sent (sent, acknowledged on time, received by an agency) or
the period it was decided (accepted, declined). "On time" is by the London day it was acknowledged
against the day it had to be acknowledged by. Working days are England and Wales working days
(:mod:`hub.workdays`), counted after the day it arrived up to the day it was acknowledged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hub.db import db, today
from hub.indicators import (
    Breakdown,
    Figure,
    Group,
    Indicator,
    Measure,
    Period,
    by_month,
    london_day,
    medians,
    merge,
    working_day_numbers,
)
from referrals.models import Referral
from referrals.states import OPEN, Status

SOURCE = "Referrals (their sent, acknowledged and decided times)"
ON_TIME = sa.and_(Referral.acknowledged_at.is_not(None), Referral.acknowledge_by.is_not(None),
                  london_day(Referral.acknowledged_at) <= Referral.acknowledge_by)  # fmt: skip
DECIDED = Referral.decided_at.is_not(None)
ACCEPTED = sa.and_(DECIDED, Referral.status != Status.DECLINED)
DECLINED = sa.and_(DECIDED, Referral.status == Status.DECLINED)


def _when(condition: sa.ColumnElement[bool], value: Any = 1) -> Any:
    return sa.case((condition, value))


class ReferralIndicators:
    indicators = (
        Indicator("referrals_sent", "Referrals sent", "Referrals we sent to a partner agency in the period. A woman "
                  "referred to two agencies is two referrals.", "referrals", SOURCE, order=20),
        Indicator("women_referred", "Women referred", "Women for whom we sent at least one referral in the period, "
                  "each counted once however many referrals were sent.", "women", SOURCE, order=21),
        Indicator("referrals_acknowledged_on_time", "Referrals acknowledged on time", "Referrals sent in the period "
                  "that the agency acknowledged on or before the working day it had agreed to.", "referrals", SOURCE,
                  order=22),
        Indicator("referrals_accepted", "Referrals accepted", "Referrals an agency accepted in the period (by the day "
                  "of its decision).", "referrals", SOURCE, order=23),
        Indicator("referrals_declined", "Referrals declined", "Referrals an agency declined in the period (by the day "
                  "of its decision).", "referrals", SOURCE, order=24),
        Indicator("women_referral_accepted", "Women with a referral accepted", "Women with at least one referral "
                  "accepted by an agency in the period, each counted once.", "women", SOURCE, Group.SMALL_STEPS,
                  order=20),
    )  # fmt: skip
    measures = (
        Measure("referrals_received", "Referrals received", "Referrals we sent to the agency in the period.", "count",
                order=10, section="Referrals"),
        Measure("acknowledged_on_time", "Acknowledged on time", "Of those, acknowledged on or before the agreed "
                "working day.", "count", order=11, section="Referrals"),
        Measure("acknowledged_on_time_rate", "Share acknowledged on time", "Acknowledged on time, of the referrals "
                "received.", "rate", numerator="acknowledged_on_time", of="referrals_received",
                order=12, section="Referrals"),
        Measure("median_working_days_to_acknowledge", "Median working days to acknowledge", "Working days from the "
                "day a referral sent in the period arrived to the day it was acknowledged, the middle value.",
                "median", order=13, section="Referrals"),
        Measure("median_working_days_to_decide", "Median working days to decide", "Working days from "
                "acknowledgement to the decision (accept or decline), for referrals sent in the period.", "median",
                order=14, section="Referrals"),
        Measure("referrals_accepted", "Accepted", "Referrals the agency accepted in the period.", "count",
                order=15, section="Referrals"),
        Measure("overdue_now", "Overdue now", "Referrals open today past the day they had to be acknowledged or "
                "decided by (whatever the period).", "count", order=16, section="Referrals"),
    )  # fmt: skip

    def count(self, period: Period) -> dict[str, int]:
        sent = period.holds(Referral.sent_at)
        decided = period.holds(Referral.decided_at)
        row = db.session.execute(
            sa.select(
                sa.func.count(_when(sent)),
                sa.func.count(sa.distinct(_when(sent, Referral.service_user_id))),
                sa.func.count(_when(sa.and_(sent, ON_TIME))),
                sa.func.count(_when(sa.and_(decided, ACCEPTED))),
                sa.func.count(_when(sa.and_(decided, DECLINED))),
                sa.func.count(sa.distinct(_when(sa.and_(decided, ACCEPTED), Referral.service_user_id))),
            ).where(sa.or_(sent, decided))
        ).one()
        return dict(zip((i.key for i in self.indicators), (int(v or 0) for v in row), strict=True))

    def women(self, period: Period) -> list[sa.Select[Any]]:
        return [sa.select(Referral.service_user_id.label("id")).where(period.holds(Referral.sent_at))]

    def partnership(self, period: Period, agency_ids: Sequence[int] | None) -> dict[int, dict[str, Figure]]:
        only = [Referral.agency_id.in_(agency_ids)] if agency_ids is not None else []
        sent = period.holds(Referral.sent_at)
        found: dict[int, dict[str, Figure]] = {}
        for agency_id, received, on_time, accepted in db.session.execute(
            sa.select(Referral.agency_id, sa.func.count(_when(sent)), sa.func.count(_when(sa.and_(sent, ON_TIME))),
                      sa.func.count(_when(sa.and_(period.holds(Referral.decided_at), ACCEPTED))))
            .where(sa.or_(sent, period.holds(Referral.decided_at)), *only).group_by(Referral.agency_id)
        ):  # fmt: skip
            found[agency_id] = {"referrals_received": int(received), "acknowledged_on_time": int(on_time),
                                "referrals_accepted": int(accepted)}  # fmt: skip
        overdue = db.session.execute(
            sa.select(Referral.agency_id, sa.func.count())
            .where(Referral.due_on < today(), Referral.status.in_(OPEN), *only).group_by(Referral.agency_id)
        ).all()  # fmt: skip
        merge(found, "overdue_now", {agency_id: int(n) for agency_id, n in overdue})
        for key, since, until in (
            ("median_working_days_to_acknowledge", Referral.sent_at, Referral.acknowledged_at),
            ("median_working_days_to_decide", Referral.acknowledged_at, Referral.decided_at),
        ):
            merge(found, key, medians(self._working_days(period, since, until, only)))  # fmt: skip
        for values in found.values():
            values.setdefault("overdue_now", 0)
        return found

    @staticmethod
    def _working_days(period: Period, since: Any, until: Any, only: list[Any]) -> list[tuple[int, int, int]]:
        """(agency, working days from ``since`` to ``until``, how many referrals), sent in the period."""
        last = max(period.end, today()) + dt.timedelta(days=1)
        start = working_day_numbers(period.start, last, "wd_from")
        end = working_day_numbers(period.start, last, "wd_to")
        days = (end.c.n - start.c.n).label("days")
        rows = db.session.execute(
            sa.select(Referral.agency_id, days, sa.func.count())
            .join(start, start.c.day == london_day(since))
            .join(end, end.c.day == london_day(until))
            .where(period.holds(Referral.sent_at), until.is_not(None), *only)
            .group_by(Referral.agency_id, days)
        ).all()  # fmt: skip
        return [(int(a), max(int(d), 0), int(n)) for a, d, n in rows]

    def breakdowns(self, period: Period) -> list[Breakdown]:
        return []

    def series(self, period: Period) -> dict[str, dict[dt.date, int]]:
        day = london_day(Referral.sent_at)
        rows = db.session.execute(
            sa.select(day, sa.func.count()).where(period.holds(Referral.sent_at)).group_by(day)
        ).tuples()  # fmt: skip
        return {"referrals_sent": by_month(rows)}
