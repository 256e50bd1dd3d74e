"""Periodic jobs for consent and safeguarding (run by ``flask hub scheduler``)."""

from __future__ import annotations

from consent import services
from hub.db import db
from hub.permissions import SYSTEM
from hub.scheduler import Job


def expire_consents() -> str:
    consents = services.expire_lapsed_consents(SYSTEM)
    decisions = services.end_unreviewed_decisions(SYSTEM)
    emergencies = services.lapse_unapproved_emergencies(SYSTEM)
    return (
        f"{consents} consents expired, {decisions} unreviewed decisions ended, "
        f"{emergencies} unapproved emergency shares stopped"
    )


def remind_expiring() -> str:
    total = 0
    while sent := services.remind_expiring_consents(SYSTEM):  # in committed batches
        total += sent
        db.session.commit()
    return f"{total} reminders"


def remind_emergencies() -> str:
    return f"{services.remind_unapproved_emergencies(SYSTEM)} awaiting approval"


def erase_expired() -> str:
    return f"{services.erase_expired_records(SYSTEM)} records erased"


JOBS = [
    Job(
        "consent.retention",
        erase_expired,
        cron={"hour": 1, "minute": 30},
        description="Erase the personal data of women whose last contact was HUB_RETENTION_YEARS ago (no hold)",
    ),
    Job(
        "consent.expire-lapsed",
        expire_consents,
        cron={"hour": 0, "minute": 10},
        description=(
            "Expire consents past their end date, end decisions past review and emergency shares not approved "
            "in time; hold what they covered"
        ),
    ),
    Job(
        "consent.remind-expiring",
        remind_expiring,
        cron={"hour": 7, "minute": 30},
        description="Tell key workers about consents expiring soon",
    ),
    Job(
        "consent.remind-emergency-approvals",
        remind_emergencies,
        cron={"hour": 8, "minute": 0},
        description="Tell managers about emergency shares whose second approval falls due today or next",
    ),
]
