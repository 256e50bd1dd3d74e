"""The rota's lines of the home page's "what needs you" (:mod:`hub.web.needs`).

- Our managers: wanted services with no agency down in the next 4 weeks.
- A partner lead: their agency's slots in the next 7 days not yet confirmed.
Each a capped count: a fixed number of statements at any size.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import aliased

from hub.db import today
from hub.permissions import Actor
from hub.web.needs import Need, capped_count
from rota import policies, queries
from rota.models import FREE, HELD, RotaSession, RotaSlot, SessionStatus, SlotStatus

GROUP = "Drop-in rota"
GAP_WEEKS = 4


def rota_needs(actor: Actor) -> list[Need]:
    on = today()
    if policies.can_manage_rota(actor):
        return [Need(GROUP, f"Services missing at the drop-in in the next {GAP_WEEKS} weeks",
                     capped_count(gaps(on, on + dt.timedelta(weeks=GAP_WEEKS))), url_for("rota.index"))]  # fmt: skip
    if actor.agency_id is not None and policies.acts_for(actor, actor.agency_id):
        return [Need(GROUP, "Your agency's drop-in slots this week to confirm",
                     capped_count(to_confirm(actor.agency_id, on)), url_for("rota.index") + "#yours",
                     urgent=True)]  # fmt: skip
    return []


def gaps(start: dt.date, end: dt.date) -> sa.Select[tuple[int]]:
    wanted, other = aliased(RotaSlot), aliased(RotaSlot)
    covered = sa.exists().where(other.session_id == wanted.session_id, other.service == wanted.service,
                                other.status.in_(HELD))  # fmt: skip
    return (
        sa.select(wanted.id).join(RotaSession, RotaSession.id == wanted.session_id)
        .where(RotaSession.date.between(start, end), RotaSession.status == SessionStatus.SCHEDULED,
               wanted.wanted.is_(True), wanted.status.in_(FREE), ~covered)
    )  # fmt: skip


def to_confirm(agency_id: int, on: dt.date) -> sa.Select[tuple[int]]:
    return (
        sa.select(RotaSlot.id).join(RotaSession, RotaSession.id == RotaSlot.session_id)
        .where(RotaSlot.agency_id == agency_id, RotaSlot.status == SlotStatus.TAKEN,
               RotaSession.status == SessionStatus.SCHEDULED,
               RotaSession.date.between(on, on + dt.timedelta(days=queries.AT_RISK_DAYS)))
    )  # fmt: skip
