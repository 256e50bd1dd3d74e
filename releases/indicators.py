"""What the reports count from custody and release plans (:mod:`hub.indicators`): the evaluation's
measures, the small steps of a plan, and the release funnel. Three statements whatever the size.

A woman is "in custody in the period" when a custody episode of hers was open on any day of it
(recorded before it ended, not released before it began). The funnel's steps are nested: each
counts the women of the step before who also reached it. Plan items count by the support need they
were started from (``PlanItem.need``), not their wording.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from consent.models import ConsentRecord
from hub.db import db
from hub.indicators import Breakdown, Counted, Figure, Group, Indicator, Measure, Period, Women, london_day, plus_days
from referrals.models import Referral
from releases.models import NIGHT_ONE_LABELS, CustodyEpisode, CustodyStatus, ItemStatus, NightOne, Pathway, PlanItem

SOURCE = "Custody records and release plans"
HOUSED = (NightOne.SETTLED, NightOne.OTHER_HOUSED, NightOne.PROBATION_ACCOMMODATION)
ENGAGED_ITEM = (ItemStatus.IN_PROGRESS, ItemStatus.DONE)
FLOATING_AFTER_DAYS = 28
TREATMENT_WITHIN_DAYS = 21


def _item(*where: Any) -> Any:
    """1 when the episode has a plan item matching ``where``, else 0."""
    found = sa.exists().where(PlanItem.custody_id == CustodyEpisode.id, *where)
    return sa.case((found, 1), else_=0)


def _distinct(condition: Any, value: Any) -> Any:
    return sa.func.count(sa.distinct(sa.case((condition, value))))


class ReleaseIndicators:
    indicators = (
        Indicator("releases", "Releases", "Women released from prison in the period, one for each release (a woman "
                  "released twice counts twice).", "releases", SOURCE, order=30),
        Indicator("releases_with_plan", "Releases with a plan", "Releases in the period where her release plan had "
                  "at least one item.", "releases", SOURCE, order=31),
        Indicator("released_without_notice", "Released without notice", "Releases in the period where at least one "
                  "agency in her plan had not been told the day before she walked out.", "releases", SOURCE,
                  order=32),
        Indicator("inreach_engaged", "In-reach: women engaged", "Women in custody in the period with whom we worked "
                  "on her plan (at least one item in progress or done).", "women", SOURCE, Group.EVALUATION,
                  order=10),
        Indicator("women_released", "Women released", "Women released in the period, each counted once.", "women",
                  SOURCE, Group.EVALUATION, order=11),
        Indicator("release_support_taken_up", "Release support taken up", "Women released in the period with at "
                  "least one day-of-release item done (met at the gate, release pack, travel).", "women", SOURCE,
                  Group.EVALUATION, order=12),
        Indicator("floating_support_continued", "Continued to floating support", "Women released in the period for "
                  f"whom we still sent a referral or recorded a consent {FLOATING_AFTER_DAYS} days or more after "
                  "release.", "women", "Custody records, referrals and consents", Group.EVALUATION, order=13),
        Indicator("engaged_with_probation", "Engaged with probation", "Women released in the period whose first "
                  "probation appointment item was done.", "women", SOURCE, Group.EVALUATION, order=14),
        Indicator("id_or_gp_done", "ID or GP registration done", "Women for whom applying for ID or registering "
                  "with a GP was marked done in her release plan in the period.", "women", "Release plans",
                  Group.SMALL_STEPS, order=30),
        Indicator("funnel_in_custody", "In custody", "Women in custody in the period.", "women", SOURCE,
                  Group.FUNNEL, order=1),
        Indicator("funnel_plan", "With a release plan", "Of those, women whose release plan has at least one item.",
                  "women", SOURCE, Group.FUNNEL, order=2),
        Indicator("funnel_released", "Released", "Of those, women released in the period.", "women", SOURCE,
                  Group.FUNNEL, order=3),
        Indicator("funnel_met", "Met on release", "Of those, women we met at the gate or the station (the item "
                  "done).", "women", SOURCE, Group.FUNNEL, order=4),
        Indicator("funnel_housed", "Housed on night 1", "Of those, women in settled, other housed, or probation "
                  "accommodation on their first night.", "women", SOURCE, Group.FUNNEL, order=5),
        Indicator("funnel_treatment", "Treatment continued by 3 weeks", "Of those, women whose community drug and "
                  f"alcohol appointment was done within {TREATMENT_WITHIN_DAYS} days of release.", "women", SOURCE,
                  Group.FUNNEL, order=6),
    )  # fmt: skip
    measures: tuple[Measure, ...] = ()

    @staticmethod
    def _open_in(period: Period) -> list[Any]:
        """An episode open on some day of the period."""
        return [
            CustodyEpisode.created_at < period.ends_at,
            sa.or_(CustodyEpisode.released_on.is_(None), CustodyEpisode.released_on >= period.start),
            sa.or_(CustodyEpisode.status != CustodyStatus.TRANSFERRED, CustodyEpisode.updated_at >= period.starts_at),
        ]

    def _episodes(self, period: Period) -> Any:
        """One row per episode open in the period, with what the measures need to know of it."""
        released = sa.and_(CustodyEpisode.released_on.is_not(None), period.holds_day(CustodyEpisode.released_on))
        done = PlanItem.status == ItemStatus.DONE
        after = plus_days(CustodyEpisode.released_on, FLOATING_AFTER_DAYS)
        in_time = plus_days(CustodyEpisode.released_on, TREATMENT_WITHIN_DAYS)
        later_referral = sa.exists().where(
            Referral.service_user_id == CustodyEpisode.service_user_id,
            Referral.sent_at.is_not(None),
            london_day(Referral.sent_at) >= after,
        )
        later_consent = sa.exists().where(ConsentRecord.service_user_id == CustodyEpisode.service_user_id,
                                          ConsentRecord.given_on >= after)  # fmt: skip
        return (
            sa.select(
                CustodyEpisode.service_user_id,
                sa.case((released, 1), else_=0).label("released"),
                _item().label("plan"),
                _item(PlanItem.status.in_(ENGAGED_ITEM)).label("engaged"),
                _item(done, PlanItem.pathway == Pathway.DAY_OF_RELEASE).label("support"),
                _item(done, PlanItem.need == "meet").label("met"),
                _item(done, PlanItem.need == "probation_appointment").label("probation"),
                _item(done, PlanItem.need == "treatment", PlanItem.done_on <= in_time).label("treated"),
                sa.case((CustodyEpisode.night_one.in_(HOUSED), 1), else_=0).label("housed"),
                sa.case((sa.or_(later_referral, later_consent), 1), else_=0).label("floating"),
                sa.case((sa.and_(released, CustodyEpisode.agencies_untold > 0), 1), else_=0).label("untold"),
            )
            .where(*self._open_in(period))
            # Computed once per episode (PostgreSQL would otherwise inline it and run each EXISTS again
            # for every figure that reads it).
            .cte("episodes").prefix_with("MATERIALIZED", dialect="postgresql")
        )  # fmt: skip

    def count(self, period: Period) -> Counted:
        e = self._episodes(period)
        r = e.c.released == 1
        plan = e.c.plan == 1
        met = sa.and_(plan, r, e.c.met == 1)
        housed = sa.and_(met, e.c.housed == 1)

        def _distinct_women(condition: Any) -> Any:
            return _distinct(condition, e.c.service_user_id)

        row = db.session.execute(
            sa.select(
                sa.func.count(sa.case((r, 1))),
                sa.func.count(sa.case((sa.and_(r, plan), 1))),
                sa.func.count(sa.case((e.c.untold == 1, 1))),
                _distinct_women(e.c.engaged == 1),
                _distinct_women(r),
                _distinct_women(sa.and_(r, e.c.support == 1)),
                _distinct_women(sa.and_(r, e.c.floating == 1)),
                _distinct_women(sa.and_(r, e.c.probation == 1)),
                _distinct_women(sa.true()),
                _distinct_women(plan),
                _distinct_women(sa.and_(plan, r)),
                _distinct_women(met),
                _distinct_women(housed),
                _distinct_women(sa.and_(housed, e.c.treated == 1)),
            )
        ).one()
        keys = [i.key for i in self.indicators if i.key != "id_or_gp_done"]
        found = dict(zip(keys, (int(v or 0) for v in row), strict=True))
        found["id_or_gp_done"] = int(db.session.scalar(
            sa.select(sa.func.count(sa.distinct(CustodyEpisode.service_user_id)))
            .join(PlanItem, PlanItem.custody_id == CustodyEpisode.id)
            .where(PlanItem.status == ItemStatus.DONE, PlanItem.need.in_(("id", "gp_register")),
                   PlanItem.done_on.is_not(None), period.holds_day(PlanItem.done_on))
        ) or 0)  # fmt: skip
        return Counted(found)

    def women(self, period: Period) -> list[Women]:
        return [Women(sa.select(CustodyEpisode.service_user_id.label("id")).where(*self._open_in(period)))]

    def partnership(self, period: Period, agency_ids: Sequence[int] | None) -> dict[int, dict[str, Figure]]:
        return {}

    def breakdowns(self, period: Period) -> list[Breakdown]:
        rows = dict(db.session.execute(
            sa.select(CustodyEpisode.night_one, sa.func.count())
            .where(CustodyEpisode.released_on.is_not(None), period.holds_day(CustodyEpisode.released_on))
            .group_by(CustodyEpisode.night_one)
        ).tuples().all())  # fmt: skip
        not_known = rows.pop(None, 0) + rows.pop(NightOne.UNKNOWN, 0)
        parts = [(NIGHT_ONE_LABELS[kind], int(rows.get(kind, 0))) for kind in NightOne if kind is not NightOne.UNKNOWN]
        parts.append((NIGHT_ONE_LABELS[NightOne.UNKNOWN], int(not_known)))
        return [Breakdown("night_one", "Where women slept on their first night out", "Releases in the period by "
                          "where she slept on her first night, in the Ministry of Justice's accommodation categories "
                          "(not known: not recorded yet).", "All releases", tuple(parts))]  # fmt: skip
