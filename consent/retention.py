"""Retention of her record (:mod:`hub.retention`): her last contact is the latest thing any package recorded
about her; HUB_RETENTION_YEARS (6) after it, unless a legal hold stands, her personal data is erased and
her record stays as an anonymous stub, so the reports' past figures do not change. Two statements find
who is due, whatever the size; the erasure is set-based, one batch at a time."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from consent.models import ConsentRecord, LegalHold, SafeguardingDecision, ServiceUser, SubjectAccessPack
from hub import retention
from hub.db import db
from hub.indicators import london_day


def cutoff(on: dt.date, years: int) -> dt.date:
    """The last day of contact whose record is due for erasure on ``on``."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def own_last_contact() -> list[sa.Select[Any]]:
    return [
        sa.select(ServiceUser.id.label("id"), london_day(ServiceUser.created_at).label("day")),
        sa.select(ConsentRecord.service_user_id.label("id"), ConsentRecord.given_on.label("day")),
        sa.select(ConsentRecord.service_user_id.label("id"), london_day(ConsentRecord.withdrawn_at).label("day"))
        .where(ConsentRecord.withdrawn_at.is_not(None)),
        sa.select(SafeguardingDecision.service_user_id.label("id"),
                  london_day(SafeguardingDecision.decided_at).label("day")),
    ]  # fmt: skip


def due(last_day: dt.date, limit: int | None = None) -> list[tuple[int, str, dt.date]]:
    """(id, hub reference, last contact) of every woman not yet erased, without a standing hold, whose last
    contact was on or before ``last_day``, oldest first."""
    every = sa.union_all(*own_last_contact(), *retention.last_contact_selects()).subquery("contact")
    last = sa.func.max(every.c.day)
    held = sa.exists().where(LegalHold.service_user_id == ServiceUser.id, LegalHold.lifted_at.is_(None))
    query = (
        sa.select(ServiceUser.id, ServiceUser.reference, last.label("last"))
        .join(every, every.c.id == ServiceUser.id)
        .where(ServiceUser.erased_at.is_(None), ~held)
        .group_by(ServiceUser.id, ServiceUser.reference).having(last <= last_day).order_by(last, ServiceUser.id)
    )  # fmt: skip
    if limit is not None:
        query = query.limit(limit)
    rows = db.session.execute(query).all()
    return [(int(i), ref, d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))) for i, ref, d in rows]


def erase(service_user_ids: Sequence[int], now: dt.datetime) -> int:
    """Erase their personal data in every package, then her own record's; returns the rows changed."""
    if not service_user_ids:
        return 0
    ids = list(service_user_ids)
    changed = retention.reduce_all(ids)
    changed += db.session.execute(sa.delete(SubjectAccessPack).where(SubjectAccessPack.service_user_id.in_(ids))  # type: ignore[attr-defined]
                                  ).rowcount  # fmt: skip
    changed += db.session.execute(sa.update(ConsentRecord).where(ConsentRecord.service_user_id.in_(ids))  # type: ignore[attr-defined]
                                  .values(evidence_note="", withdrawal_reason="")
                                  .execution_options(synchronize_session=False)).rowcount  # fmt: skip
    changed += db.session.execute(sa.update(SafeguardingDecision).where(SafeguardingDecision.service_user_id.in_(ids))  # type: ignore[attr-defined]
                                  .values(justification="(erased)", not_told_reason="", end_reason="")
                                  .execution_options(synchronize_session=False)).rowcount  # fmt: skip
    _scrub_messages(ids)
    for person_id in ids:  # each stub a reference of its own (unique), that names no one
        stub = "X-" + secrets.token_hex(6).upper()[:11]
        db.session.execute(sa.update(ServiceUser).where(ServiceUser.id == person_id).values(
            given_name="", family_name="", date_of_birth=None, key_worker_id=None, erased_at=now,
            reference=stub).execution_options(synchronize_session=False))  # fmt: skip
        changed += 1
    return int(changed)


def _scrub_messages(ids: list[int]) -> None:
    """Her hub reference out of every message that carried it (corrections, restriction notices)."""
    from hub.notifications.models import Notification

    for reference in db.session.scalars(sa.select(ServiceUser.reference).where(ServiceUser.id.in_(ids))).all():
        db.session.execute(
            sa.update(Notification)
            .where(sa.or_(Notification.subject.contains(reference), Notification.body.contains(reference)))
            .values(subject=sa.func.replace(Notification.subject, reference, "(erased)"),
                    body=sa.func.replace(Notification.body, reference, "(erased)"))
            .execution_options(synchronize_session=False)
        )  # fmt: skip
