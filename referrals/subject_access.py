"""Her referrals, for her subject-access pack (:mod:`hub.subject_access`): one statement."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from hub.db import db
from hub.subject_access import Section, when
from referrals.models import Referral


def referral_sections(service_user_id: int) -> list[Section]:
    found = db.session.scalars(
        sa.select(Referral).where(Referral.service_user_id == service_user_id)
        .options(joinedload(Referral.agency)).order_by(Referral.created_at, Referral.id)
    ).all()  # fmt: skip
    return [Section("referrals", "Referrals made for you", "Each referral to an agency: what it said, and what "
                    "became of it.", ("reference", "agency", "status", "sent", "acknowledged", "decided", "closed",
                                      "why", "outcome"), [
        (r.reference, r.agency.name, r.status.label, when(r.sent_at), when(r.acknowledged_at), when(r.decided_at),
         when(r.closed_at), r.reason, r.outcome) for r in found
    ])]  # fmt: skip
