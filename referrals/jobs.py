"""Periodic jobs for referrals (run by ``flask hub scheduler``)."""

from __future__ import annotations

from hub.scheduler import Job
from referrals.escalation import chase_overdue_referrals


def chase_referrals() -> str:
    return f"{chase_overdue_referrals(commit=True)} reminders"


JOBS = [
    Job(
        "referrals.chase-overdue",
        chase_referrals,
        cron={"day_of_week": "mon-fri", "hour": "8-18", "minute": 5},
        description="Remind, then escalate, referrals past their deadlines",
    ),
]
