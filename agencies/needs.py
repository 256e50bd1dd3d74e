"""The directory's lines of the home page's "what needs you" (hub.web.needs): for managers, the
partnership-health items and the handovers started but not finished."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from agencies import queries
from agencies.models import Handover
from hub.permissions import MANAGERS, Actor
from hub.web.needs import Need, capped_count

GROUP = "Partnership"


def directory_needs(actor: Actor) -> list[Need]:
    if not actor.is_staff or actor.role not in MANAGERS:
        return []
    report = queries.health_report(actor)
    return [
        Need(GROUP, "Partnership-health items to look at", report.problem_count, url_for("agencies.health")),
        Need(
            GROUP,
            "Handovers started but not finished",
            capped_count(sa.select(Handover.id).where(Handover.completed_at.is_(None))),
            url_for("agencies.staff"),
            urgent=True,
        ),
    ]
