"""What the reports count from referrals (:mod:`hub.indicators`): one statement to count, one by month, four
per agency, whatever the size.

A referral counts in the period it was sent (sent, acknowledged on time, received by an agency) or
the period it was decided (accepted, declined). "On time" is by the London day it was acknowledged
against the day it had to be acknowledged by. Working days are England and Wales working days
(:mod:`hub.workdays`), counted after the day it arrived up to the day it was acknowledged, and kept on
the referral when it happened (``acknowledge_working_days``, ``decide_working_days``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hub.db import db, today
from hub.indicators import (
    Breakdown,
    Counted,
    Figure,
    Group,
    Indicator,
    Measure,
    Period,
    Women,
    london_day,
    medians,
    merge,
    month_spans,
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

    def count(self, period: Period) -> Counted:
        """One statement: the counts, and the referrals sent in each month of the period."""
        sent = period.holds(Referral.sent_at)
        decided = period.holds(Referral.decided_at)
        spans = month_spans(period)
        row = db.session.execute(
            sa.select(
                sa.func.count(_when(sent)),
                sa.func.count(_when(sa.and_(sent, ON_TIME))),
                sa.func.count(_when(sa.and_(decided, ACCEPTED))),
                sa.func.count(_when(sa.and_(decided, DECLINED))),
                *(sa.func.count(_when(sa.and_(Referral.sent_at >= a, Referral.sent_at < b))) for _, a, b in spans),
            ).where(sa.or_(sent, decided))
        ).one()
        values = [int(v or 0) for v in row]
        keys = ("referrals_sent", "referrals_acknowledged_on_time", "referrals_accepted", "referrals_declined")
        return Counted(
            dict(zip(keys, values[:4], strict=True)),
            {"referrals_sent": {month: n for (month, _, _), n in zip(spans, values[4:], strict=True)}},
        )

    def women(self, period: Period) -> list[Women]:
        decided = sa.and_(period.holds(Referral.decided_at), ACCEPTED)
        return [
            Women(
                sa.select(Referral.service_user_id.label("id")).where(period.holds(Referral.sent_at)), "women_referred"
            ),
            Women(sa.select(Referral.service_user_id.label("id")).where(decided), "women_referral_accepted"),
        ]

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
        for key, column in (
            ("median_working_days_to_acknowledge", Referral.acknowledge_working_days),
            ("median_working_days_to_decide", Referral.decide_working_days),
        ):
            rows = db.session.execute(
                sa.select(Referral.agency_id, column, sa.func.count())
                .where(sent, column.is_not(None), *only).group_by(Referral.agency_id, column)
            ).tuples()  # fmt: skip
            merge(found, key, medians((int(a), max(int(d or 0), 0), int(n)) for a, d, n in rows))
        for values in found.values():
            values.setdefault("overdue_now", 0)
        return found

    def breakdowns(self, period: Period) -> list[Breakdown]:
        return []
