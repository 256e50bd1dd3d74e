"""Retention (:mod:`hub.retention`): a referral's last change is contact with her; erasing keeps each
referral's agency, status and times (the reports count them) and removes what was said about her."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from hub.db import db
from hub.indicators import london_day
from referrals.models import Referral, ReferralEvent, ReferralMessage


def last_contact() -> list[sa.Select[Any]]:
    return [sa.select(Referral.service_user_id.label("id"), london_day(Referral.updated_at).label("day"))]


def reduce(service_user_ids: Sequence[int]) -> int:
    ids = sa.select(Referral.id).where(Referral.service_user_id.in_(service_user_ids)).scalar_subquery()
    changed = db.session.execute(sa.delete(ReferralMessage).where(ReferralMessage.referral_id.in_(ids))).rowcount  # type: ignore[attr-defined]
    changed += db.session.execute(sa.update(ReferralEvent).where(ReferralEvent.referral_id.in_(ids))  # type: ignore[attr-defined]
                                  .values(note="")).rowcount  # fmt: skip
    changed += db.session.execute(sa.update(Referral).where(Referral.service_user_id.in_(service_user_ids))  # type: ignore[attr-defined]
                                  .values(reason="", outcome="").execution_options(synchronize_session=False)
                                  ).rowcount  # fmt: skip
    return int(changed)
