"""Consent's lines of the home page's "what needs you" (hub.web.needs): decisions waiting for a
second manager, and consents about to end."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import url_for

from consent import policies
from consent.models import ConsentRecord, ConsentStatus, SafeguardingDecision, SafeguardingStatus, ServiceUser
from hub.db import today
from hub.permissions import Actor, Role
from hub.web.needs import Need, capped_count

GROUP = "Consent and safeguarding"
EXPIRING_DAYS = 30  # "about to expire": ending within this many days


def expiring_window(on: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The days an active consent must end between to count as about to expire."""
    start = on or today()
    return start, start + dt.timedelta(days=EXPIRING_DAYS)


def consent_needs(actor: Actor) -> list[Need]:
    """Our staff only. A manager: safeguarding decisions another manager took that await their
    approval. Everyone: active consents ending within 30 days (a practitioner's: her caseload's)."""
    if not actor.is_staff:
        return []
    lines = []
    if policies.can_decide_safeguarding(actor):
        waiting = sa.select(SafeguardingDecision.id).where(
            SafeguardingDecision.status.in_([SafeguardingStatus.PENDING, SafeguardingStatus.EMERGENCY]),
            SafeguardingDecision.decided_by_id != actor.actor_id,
        )
        lines.append(
            Need(GROUP, "Safeguarding decisions awaiting your approval", capped_count(waiting),
                 url_for("consent.awaiting_approval"), urgent=True)
        )  # fmt: skip
    start, end = expiring_window()
    ending = sa.select(ConsentRecord.id).where(
        ConsentRecord.status == ConsentStatus.ACTIVE, ConsentRecord.expires_on.between(start, end)
    )
    mine = actor.role is Role.PRACTITIONER
    if mine:
        ending = ending.join(ServiceUser, ServiceUser.id == ConsentRecord.service_user_id).where(
            ServiceUser.key_worker_id == actor.actor_id
        )
    lines.append(
        Need(
            GROUP,
            f"Consents ending in the next {EXPIRING_DAYS} days" + (" (women you key-work)" if mine else ""),
            capped_count(ending),
            url_for("consent.expiring", mine="1") if mine else url_for("consent.expiring"),
        )
    )
    return lines
