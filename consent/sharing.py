"""Sharing, decided in one place: the typed interface every package above
consent uses to ask "may her information go to this agency now?".

- :func:`find_basis` names the basis (a valid consent, or a safeguarding
  decision sharing now) that covers one agency, one purpose and every
  category at this moment, or says what is :class:`Missing`;
  :func:`find_bases` answers the same for many agencies at once (a forum's
  audience) in two queries.
- :func:`disclose` records a disclosure against that basis.
- :class:`SharedOnBasis` gives an upper package's model the columns for
  "the basis it was shared on", which it reads and writes as one
  :class:`BasisRef`: no package above this one branches on the kind of basis.
- :class:`NotCovered` is the refusal (422 with ``missing``), and
  :meth:`Missing.describe` says it in words a practitioner can act on.

Validity is checked at the moment of each question, from the records
themselves (``valid_at``), so an expired consent or a lapsed emergency share
stops counting before any job has run.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from consent.models import (
    CATEGORY_LABELS,
    ConsentRecord,
    DataCategory,
    Disclosure,
    DisclosureKind,
    SafeguardingDecision,
)
from hub.db import db, london_date, today, utcnow
from hub.permissions import Actor, Invalid


class BasisKind(enum.StrEnum):
    CONSENT = "consent"
    SAFEGUARDING = "safeguarding"


@dataclass(frozen=True)
class BasisRef:
    """Which basis: a consent record or a safeguarding decision, by id."""

    kind: BasisKind
    id: int


class _BasisRecord(Protocol):
    """What a consent record and a safeguarding decision have in common."""

    id: int
    service_user_id: int
    agency_id: int
    purposes: list[str]
    data_categories: list[str]

    @property
    def kind(self) -> str: ...
    @property
    def last_day(self) -> dt.date: ...
    def valid_at(self, moment: dt.datetime, on: dt.date) -> bool: ...
    def covers(self, purpose: str, categories: set[str]) -> bool: ...


@dataclass(frozen=True)
class Basis:
    """A basis valid now: what it allows and until when."""

    ref: BasisRef
    purposes: frozenset[str]
    data_categories: frozenset[str]
    last_day: dt.date
    awaiting_approval: bool = False

    def covers(self, purpose: str, categories: set[str]) -> bool:
        return purpose in self.purposes and categories <= self.data_categories

    def describe(self) -> str:
        """For our staff: what it is and until when."""
        until = f"{self.last_day:%-d %B %Y}"
        if self.ref.kind is BasisKind.CONSENT:
            return f"Her consent, until {until}"
        if self.awaiting_approval:
            return f"Emergency safeguarding decision {self.ref.id}, until its second approval falls due on {until}"
        return f"Safeguarding decision {self.ref.id}, until its review on {until}"


def _as_basis(record: _BasisRecord) -> Basis:
    return Basis(
        ref=BasisRef(BasisKind(record.kind), record.id),
        purposes=frozenset(record.purposes),
        data_categories=frozenset(record.data_categories),
        last_day=record.last_day,
        awaiting_approval=bool(getattr(record, "awaiting_approval", False)),
    )


@dataclass(frozen=True)
class Missing:
    """Why nothing allows the disclosure: what no valid basis covers."""

    agency: bool = False
    purpose: bool = False
    data_categories: tuple[str, ...] = ()

    def as_problem(self) -> dict[str, Any]:
        """The ``missing`` member of a 422 problem document (for our own staff and systems only)."""
        missing: dict[str, Any] = {"data_categories": list(self.data_categories)}
        if self.agency:
            missing["agency"] = "no valid consent or safeguarding decision names this agency"
        if self.purpose:
            missing["purpose"] = "no valid basis covers this purpose"
        return missing

    def describe(self, agency_name: str, purpose: str) -> dict[str, list[str]]:
        """What is missing as form errors a practitioner can act on."""
        errors: dict[str, list[str]] = {}
        if self.agency:
            errors["coverage"] = [
                f"She has not consented to share anything with {agency_name}, and no approved safeguarding "
                "decision allows it. Record her consent first, or save it as a draft."
            ]
        elif self.purpose:
            errors["coverage"] = [
                f"What she agreed to share with {agency_name} is not for {purpose.replace('_', ' ')}."
            ]
        if self.data_categories:
            labels = ", ".join(CATEGORY_LABELS[DataCategory(c)] for c in self.data_categories)
            errors["data_categories"] = [
                f"Her consent does not cover: {labels}. Untick it, or record her consent first."
            ]
        if not errors:
            errors["data_categories"] = [
                "No single consent covers all of this information together. Send it separately, "
                "or record one consent that covers it all."
            ]
        return errors


class NotCovered(Invalid):
    """A refusal because no valid basis covers the sharing asked for (422 with ``missing``)."""

    def __init__(self, detail: str, missing: Missing, *, reveal: bool = True) -> None:
        # ``reveal`` is False for anyone outside the host organisation: what else she has
        # consented to is none of their business, so the problem carries no ``missing``.
        extra = {"missing": missing.as_problem()} if reveal else {}
        errors = {"data_categories": ["Not covered: " + (", ".join(missing.data_categories) or "-")]}
        super().__init__(detail, errors=errors if reveal else None, **extra)
        self.missing = missing


# Finding the basis -------------------------------------------------------------------


def _candidates(
    service_user_id: int, agency_ids: Iterable[int]
) -> tuple[list[ConsentRecord], list[SafeguardingDecision]]:
    ids = sorted(set(agency_ids))
    consents = db.session.scalars(
        sa.select(ConsentRecord)
        .where(ConsentRecord.service_user_id == service_user_id, ConsentRecord.agency_id.in_(ids))
        .order_by(ConsentRecord.expires_on.desc(), ConsentRecord.id.desc())
    ).all()
    decisions = db.session.scalars(
        sa.select(SafeguardingDecision)
        .where(SafeguardingDecision.service_user_id == service_user_id, SafeguardingDecision.agency_id.in_(ids))
        .order_by(SafeguardingDecision.id.desc())
    ).all()
    return list(consents), list(decisions)


def _moment(at: dt.datetime | None) -> tuple[dt.datetime, dt.date]:
    return (utcnow(), today()) if at is None else (at, london_date(at))


def _decide(valid: list[_BasisRecord], purpose: str, categories: set[str]) -> Basis | Missing:
    """Consent first, then safeguarding: the first valid record covering everything."""
    for record in valid:
        if record.covers(purpose, categories):
            return _as_basis(record)
    for_purpose = [r for r in valid if purpose in r.purposes]
    covered: set[str] = set().union(*(set(r.data_categories) for r in for_purpose))
    return Missing(
        agency=not valid,
        purpose=bool(valid) and not for_purpose,
        data_categories=tuple(sorted(categories - covered)),
    )


def find_bases(
    service_user_id: int,
    agency_ids: Iterable[int],
    purpose: str,
    categories: set[str],
    at: dt.datetime | None = None,
) -> dict[int, Basis | Missing]:
    """For each agency, the basis covering sharing these categories for this purpose now
    (or at ``at``), or what is missing: two queries however many agencies."""
    ids = list(dict.fromkeys(agency_ids))
    consents, decisions = _candidates(service_user_id, ids)
    moment, on = _moment(at)
    answers: dict[int, Basis | Missing] = {}
    for agency_id in ids:
        valid: list[_BasisRecord] = [c for c in consents if c.agency_id == agency_id and c.valid_at(moment, on)]
        valid += [d for d in decisions if d.agency_id == agency_id and d.valid_at(moment, on)]
        answers[agency_id] = _decide(valid, str(purpose), set(categories))
    return answers


def find_bases_at_agency(agency_id: int, wants: Sequence[tuple[int, str, set[str]]]) -> list[Basis | Missing]:
    """For many women at once (a page of a list), each ``(service_user_id, purpose, categories)``
    asked of one agency: the basis covering it now, or what is missing. Two queries for the page."""
    people = sorted({service_user_id for service_user_id, _, _ in wants})
    if not people:
        return []
    consents = db.session.scalars(
        sa.select(ConsentRecord)
        .where(ConsentRecord.service_user_id.in_(people), ConsentRecord.agency_id == agency_id)
        .order_by(ConsentRecord.expires_on.desc(), ConsentRecord.id.desc())
    ).all()
    decisions = db.session.scalars(
        sa.select(SafeguardingDecision)
        .where(SafeguardingDecision.service_user_id.in_(people), SafeguardingDecision.agency_id == agency_id)
        .order_by(SafeguardingDecision.id.desc())
    ).all()
    moment, on = _moment(None)
    answers: list[Basis | Missing] = []
    for service_user_id, purpose, categories in wants:
        valid: list[_BasisRecord] = [
            c for c in consents if c.service_user_id == service_user_id and c.valid_at(moment, on)
        ]
        valid += [d for d in decisions if d.service_user_id == service_user_id and d.valid_at(moment, on)]
        answers.append(_decide(valid, str(purpose), set(categories)))
    return answers


def find_bases_many(
    service_user_ids: Iterable[int], agency_ids: Iterable[int], purpose: str, categories: set[str]
) -> dict[tuple[int, int], Basis | Missing]:
    """For every woman and every agency (a forum's cases and its room), the basis covering sharing
    these categories for this purpose now, or what is missing, keyed ``(service_user_id, agency_id)``.
    Two queries however many women and agencies."""
    people, ids = sorted(set(service_user_ids)), sorted(set(agency_ids))
    if not people or not ids:
        return {}
    consents = db.session.scalars(
        sa.select(ConsentRecord)
        .where(ConsentRecord.service_user_id.in_(people), ConsentRecord.agency_id.in_(ids))
        .order_by(ConsentRecord.expires_on.desc(), ConsentRecord.id.desc())
    ).all()
    decisions = db.session.scalars(
        sa.select(SafeguardingDecision)
        .where(SafeguardingDecision.service_user_id.in_(people), SafeguardingDecision.agency_id.in_(ids))
        .order_by(SafeguardingDecision.id.desc())
    ).all()
    moment, on = _moment(None)
    grouped: dict[tuple[int, int], list[_BasisRecord]] = {}
    records: list[_BasisRecord] = [*consents, *decisions]
    for record in records:
        if record.valid_at(moment, on):
            grouped.setdefault((record.service_user_id, record.agency_id), []).append(record)
    return {
        (person, agency_id): _decide(grouped.get((person, agency_id), []), str(purpose), set(categories))
        for person in people
        for agency_id in ids
    }


def find_basis(
    service_user_id: int, agency_id: int, purpose: str, categories: set[str], at: dt.datetime | None = None
) -> Basis | Missing:
    """The basis covering sharing these categories with this agency for this purpose now, or what is missing."""
    return find_bases(service_user_id, [agency_id], purpose, categories, at)[agency_id]


def require_basis(
    service_user_id: int, agency_id: int, purpose: str, categories: set[str], detail: str, *, reveal: bool = True
) -> Basis:
    """:func:`find_basis`, refusing with :class:`NotCovered` when nothing covers it."""
    found = find_basis(service_user_id, agency_id, purpose, categories)
    if isinstance(found, Missing):
        raise NotCovered(detail, found, reveal=reveal)
    return found


@dataclass(frozen=True)
class Coverage:
    """What her valid bases allow sharing with one agency now, category by category (for showing)."""

    bases: tuple[Basis, ...] = ()

    def covering(self, purpose: str, category: str) -> Basis | None:
        """The first valid basis covering this category for this purpose (consent before safeguarding)."""
        return next((b for b in self.bases if b.covers(purpose, {category})), None)

    @property
    def any(self) -> bool:
        return bool(self.bases)


def coverage(service_user_id: int, agency_id: int) -> Coverage:
    """Her valid bases for sharing with this agency now (the same test as :func:`find_basis`)."""
    consents, decisions = _candidates(service_user_id, [agency_id])
    moment, on = _moment(None)
    valid: list[_BasisRecord] = [c for c in consents if c.valid_at(moment, on)]
    valid += [d for d in decisions if d.valid_at(moment, on)]
    return Coverage(tuple(_as_basis(r) for r in valid))


# Recording a disclosure -----------------------------------------------------------------


def disclose(
    actor: Actor,
    basis: Basis,
    *,
    service_user_id: int,
    agency_id: int,
    kind: DisclosureKind,
    categories: Iterable[str],
    purpose: str,
    context: str,
    context_id: int | None,
) -> Disclosure:
    """Record one disclosure of her information to (or view by) an agency, on ``basis``."""
    disclosure = Disclosure(
        service_user_id=service_user_id,
        agency_id=agency_id,
        kind=kind,
        data_categories=sorted(set(categories)),
        purpose=str(purpose),
        actor_kind=actor.actor_kind,
        actor_id=actor.actor_id,
        context=context,
        context_id=context_id,
        **_columns(basis.ref),
    )
    db.session.add(disclosure)
    db.session.flush()
    return disclosure


def disclose_many(actor: Actor, shown: Sequence[tuple[Basis, dict[str, Any]]]) -> int:
    """Record many disclosures in one statement (a list page showing several women): each
    ``(basis, fields)`` with the fields of :func:`disclose`. Returns how many were recorded."""
    if not shown:
        return 0
    now = utcnow()
    rows = [
        {
            "service_user_id": f["service_user_id"],
            "agency_id": f["agency_id"],
            "kind": f["kind"],
            "data_categories": sorted(set(f["categories"])),
            "purpose": str(f["purpose"]),
            "actor_kind": actor.actor_kind,
            "actor_id": actor.actor_id,
            "context": f["context"],
            "context_id": f["context_id"],
            "occurred_at": now,
            **_columns(basis.ref),
        }
        for basis, f in shown
    ]
    db.session.execute(sa.insert(Disclosure), rows)
    return len(rows)


# "The basis it was shared on", for the models of the packages above ---------------------------------


def _columns(ref: BasisRef | None) -> dict[str, int | None]:
    return {
        "consent_id": ref.id if ref is not None and ref.kind is BasisKind.CONSENT else None,
        "safeguarding_id": ref.id if ref is not None and ref.kind is BasisKind.SAFEGUARDING else None,
    }


class SharedOnBasis:
    """Mixin for a model shared with an agency on a basis: one reference, two columns."""

    consent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("consent_records.id"))
    safeguarding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("safeguarding_decisions.id"))

    @property
    def basis_ref(self) -> BasisRef | None:
        if self.consent_id is not None:
            return BasisRef(BasisKind.CONSENT, self.consent_id)
        if self.safeguarding_id is not None:
            return BasisRef(BasisKind.SAFEGUARDING, self.safeguarding_id)
        return None

    def rest_on(self, basis: Basis | None) -> None:
        """Record the basis it is shared on now (None: none)."""
        for name, value in _columns(basis.ref if basis else None).items():
            setattr(self, name, value)

    @classmethod
    def relying_on(cls, ref: BasisRef) -> sa.ColumnElement[bool]:
        """SQL: the rows shared on this basis."""
        column = cls.consent_id if ref.kind is BasisKind.CONSENT else cls.safeguarding_id
        return column == ref.id
