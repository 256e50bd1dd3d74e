"""What the reports count from consent (:mod:`hub.indicators`): one statement whatever the size."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from consent.models import ConsentRecord
from hub.db import db
from hub.indicators import Breakdown, Counted, Figure, Group, Indicator, Measure, Period, Women

SOURCE = "Consent records (the day each was given)"


class ConsentIndicators:
    indicators = (
        Indicator("consents_given", "Consents given", "Consents to share her information that women gave in the "
                  "period (one consent names one agency).", "consents", SOURCE, Group.SMALL_STEPS, order=10),
        Indicator("women_consent_given", "Women who gave consent", "Women who gave at least one consent in the "
                  "period, each counted once.", "women", SOURCE, Group.SMALL_STEPS, order=11),
    )  # fmt: skip
    measures: tuple[Measure, ...] = ()

    def count(self, period: Period) -> Counted:
        given = db.session.scalar(sa.select(sa.func.count()).where(period.holds_day(ConsentRecord.given_on)))
        return Counted({"consents_given": int(given or 0)})

    def women(self, period: Period) -> list[Women]:
        given = sa.select(ConsentRecord.service_user_id.label("id")).where(period.holds_day(ConsentRecord.given_on))
        return [Women(given, "women_consent_given")]

    def partnership(self, period: Period, agency_ids: Sequence[int] | None) -> dict[int, dict[str, Figure]]:
        return {}

    def breakdowns(self, period: Period) -> list[Breakdown]:
        return []
