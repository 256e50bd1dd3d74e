"""Reads of service users, consent, safeguarding and disclosures: host staff only."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from consent import policies
from consent.models import (
    ConsentRecord,
    ConsentStatus,
    Disclosure,
    LegalHold,
    SafeguardingDecision,
    SafeguardingStatus,
    ServiceUser,
    SubjectAccessPack,
)
from hub.auth.models import User
from hub.db import db, today
from hub.oauth.models import OAuthClient
from hub.permissions import Actor, NotFound


def _staff_only(actor: Actor) -> None:
    if not policies.can_view_service_users(actor):
        raise NotFound("No such service user.")


def list_service_users(
    actor: Actor, q: str | None = None, page: int = 1, per_page: int = 50
) -> tuple[list[ServiceUser], int]:
    _staff_only(actor)
    where = []
    if q:
        text = q.lower()
        where.append(
            sa.or_(
                sa.func.lower(ServiceUser.given_name + " " + ServiceUser.family_name).contains(text, autoescape=True),
                sa.func.lower(ServiceUser.reference).contains(text, autoescape=True),
            )
        )
    total = db.session.scalar(sa.select(sa.func.count(ServiceUser.id)).where(*where)) or 0
    people = db.session.scalars(
        sa.select(ServiceUser)
        .where(*where)
        .options(joinedload(ServiceUser.key_worker))
        .order_by(ServiceUser.family_name, ServiceUser.given_name, ServiceUser.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(people), total


def get_service_user(actor: Actor, service_user_id: int) -> ServiceUser:
    _staff_only(actor)
    person = db.session.get(ServiceUser, service_user_id, options=[joinedload(ServiceUser.key_worker)])
    if person is None:
        raise NotFound("No such service user.")
    return person


def consents_of(person: ServiceUser) -> list[ConsentRecord]:
    return list(
        db.session.scalars(
            sa.select(ConsentRecord)
            .where(ConsentRecord.service_user_id == person.id)
            .options(joinedload(ConsentRecord.agency), joinedload(ConsentRecord.recorded_by))
            .order_by(ConsentRecord.status, ConsentRecord.given_on.desc(), ConsentRecord.id.desc())
        )
    )


def get_consent(actor: Actor, consent_id: int) -> ConsentRecord:
    _staff_only(actor)
    record = db.session.get(ConsentRecord, consent_id, options=[joinedload(ConsentRecord.agency)])
    if record is None:
        raise NotFound("No such consent record.")
    return record


def decisions_of(person: ServiceUser) -> list[SafeguardingDecision]:
    return list(
        db.session.scalars(
            sa.select(SafeguardingDecision)
            .where(SafeguardingDecision.service_user_id == person.id)
            .options(
                joinedload(SafeguardingDecision.agency),
                joinedload(SafeguardingDecision.decided_by),
                joinedload(SafeguardingDecision.approved_by),
            )
            .order_by(SafeguardingDecision.id.desc())
        )
    )


def get_decision(actor: Actor, decision_id: int) -> SafeguardingDecision:
    _staff_only(actor)
    decision = db.session.get(
        SafeguardingDecision,
        decision_id,
        options=[
            joinedload(SafeguardingDecision.agency),
            joinedload(SafeguardingDecision.decided_by),
            joinedload(SafeguardingDecision.approved_by),
            joinedload(SafeguardingDecision.service_user),
        ],
    )
    if decision is None:
        raise NotFound("No such safeguarding decision.")
    return decision


def decisions_awaiting_approval(actor: Actor) -> list[SafeguardingDecision]:
    _staff_only(actor)
    return list(
        db.session.scalars(
            sa.select(SafeguardingDecision)
            .where(SafeguardingDecision.status.in_([SafeguardingStatus.PENDING, SafeguardingStatus.EMERGENCY]))
            .options(
                joinedload(SafeguardingDecision.agency),
                joinedload(SafeguardingDecision.decided_by),
                joinedload(SafeguardingDecision.service_user),
            )
            .order_by(SafeguardingDecision.approval_due_on.nullslast(), SafeguardingDecision.id)
        )
    )


def disclosures_of(actor: Actor, person: ServiceUser) -> list[Disclosure]:
    """Her full disclosure history: for subject-access requests and corrections."""
    _staff_only(actor)
    return list(
        db.session.scalars(
            sa.select(Disclosure)
            .where(Disclosure.service_user_id == person.id)
            .options(joinedload(Disclosure.agency))
            .order_by(Disclosure.occurred_at, Disclosure.id)
        )
    )


def disclosure_actors(disclosures: list[Disclosure]) -> dict[tuple[str, int], str]:
    """Who made each disclosure, by (actor kind, id): two queries however many there are."""
    user_ids = {d.actor_id for d in disclosures if d.actor_kind == "user" and d.actor_id is not None}
    client_ids = {d.actor_id for d in disclosures if d.actor_kind == "client" and d.actor_id is not None}
    names: dict[tuple[str, int], str] = {}
    if user_ids:
        for user_id, name in db.session.execute(sa.select(User.id, User.name).where(User.id.in_(user_ids))):
            names[("user", user_id)] = name
    if client_ids:
        rows = db.session.execute(sa.select(OAuthClient.id, OAuthClient.name).where(OAuthClient.id.in_(client_ids)))
        for client_id, name in rows:
            names[("client", client_id)] = f"{name} (partner system)"
    return names


def emergency_overdue(decision: SafeguardingDecision, on: dt.date | None = None) -> bool:
    """An emergency share still waiting for its second approval after the day it was due."""
    return (
        decision.status is SafeguardingStatus.EMERGENCY
        and decision.approval_due_on is not None
        and decision.approval_due_on < (on or today())
    )


def expiring_consents(
    actor: Actor, start: dt.date, end: dt.date, key_worker_id: int | None = None, page: int = 1, per_page: int = 50
) -> tuple[list[ConsentRecord], int]:
    """Active consents ending between ``start`` and ``end`` (of one key worker's caseload, if
    given), soonest first: a page of them and how many there are, in three queries."""
    _staff_only(actor)
    where = [ConsentRecord.status == ConsentStatus.ACTIVE, ConsentRecord.expires_on.between(start, end)]
    query = sa.select(ConsentRecord).join(ServiceUser, ServiceUser.id == ConsentRecord.service_user_id)
    if key_worker_id is not None:
        where.append(ServiceUser.key_worker_id == key_worker_id)
    total = db.session.scalar(
        sa.select(sa.func.count(ConsentRecord.id))
        .join(ServiceUser, ServiceUser.id == ConsentRecord.service_user_id)
        .where(*where)
    )
    rows = db.session.scalars(
        query.where(*where)
        .options(joinedload(ConsentRecord.agency), joinedload(ConsentRecord.service_user))
        .order_by(ConsentRecord.expires_on, ConsentRecord.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), int(total or 0)


def packs_of(person: ServiceUser) -> list[SubjectAccessPack]:
    return list(db.session.scalars(sa.select(SubjectAccessPack).where(SubjectAccessPack.service_user_id == person.id)
                                   .order_by(SubjectAccessPack.made_at.desc())))  # fmt: skip


def get_pack(person: ServiceUser, pack_id: int) -> SubjectAccessPack:
    pack = db.session.get(SubjectAccessPack, pack_id)
    if pack is None or pack.service_user_id != person.id:
        raise NotFound("No such pack.")
    return pack


def standing_holds() -> list[tuple[LegalHold, str]]:
    rows = db.session.execute(
        sa.select(LegalHold, ServiceUser.reference).join(ServiceUser, ServiceUser.id == LegalHold.service_user_id)
        .where(LegalHold.lifted_at.is_(None)).order_by(LegalHold.placed_at.desc())
    ).all()  # fmt: skip
    return [(hold, reference) for hold, reference in rows]


def get_hold(hold_id: int) -> LegalHold:
    hold = db.session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound("No such hold.")
    return hold
