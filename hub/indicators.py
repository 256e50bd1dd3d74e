"""The reports' figures, gathered from every package (``ARCHITECTURE.md``: a provider registry).

Each domain package registers an :class:`IndicatorProvider` in its ``init_app``: the indicators it
can count from its own records (each with a key, a plain-English definition, what it counts and
from which records), the women it supported in a period (a ``SELECT`` of ``service_users.id``, so
the reports count a woman once across every package), and its partnership figures per agency.
``reports`` reads them; it never imports the queries of the packages that provide them.

Every provider counts in a fixed number of set-based statements whatever the size of the data,
and returns exact figures: disclosure control is the reports' job, on the way out.

A period is a span of London days, both ends included; :attr:`Period.starts_at` and
:attr:`Period.ends_at` are its bounds as UTC instants, for filtering stored times.
"""

from __future__ import annotations

import datetime as dt
import enum
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from hub import registry

NAME = "indicators"
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # included

    @property
    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=LONDON).astimezone(dt.UTC)

    @property
    def ends_at(self) -> dt.datetime:
        """The first instant after the period (London midnight after its last day)."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=LONDON).astimezone(dt.UTC)

    def holds(self, column: Any) -> sa.ColumnElement[bool]:
        """A stored UTC time falls in the period."""
        return sa.and_(column >= self.starts_at, column < self.ends_at)

    def holds_day(self, column: Any) -> sa.ColumnElement[bool]:
        """A stored date falls in the period."""
        return sa.and_(column >= self.start, column <= self.end)


class Group(enum.StrEnum):
    HEADLINE = "headline"
    EVALUATION = "evaluation"
    SMALL_STEPS = "small_steps"
    FUNNEL = "funnel"

    @property
    def label(self) -> str:
        return {"headline": "Headline figures", "evaluation": "The evaluation's measures",
                "small_steps": "Small steps", "funnel": "The release funnel"}[self.value]  # fmt: skip


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    definition: str  # plain English: what is counted, when it falls in the period
    counts: str  # the unit: "women", "referrals", "sessions", "attendances", "meetings", "actions"
    source: str  # the records it is counted from
    group: Group = Group.HEADLINE
    order: int = 100


@dataclass(frozen=True)
class Measure:
    """A partnership figure about an agency."""

    key: str
    label: str
    definition: str
    kind: str  # "count", "rate" (``numerator`` as a share of ``of``), or "median" (of working days)
    of: str = ""  # a rate's denominator: the key of another measure
    numerator: str = ""  # a rate's numerator: the key of another measure
    section: str = ""  # the table it is shown in ("Referrals", "The drop-in", "The forum")
    order: int = 100


@dataclass(frozen=True)
class Median:
    """A median of whole working days, with how many values it is taken over."""

    value: float | None
    n: int


Figure = int | Median


@dataclass(frozen=True)
class Women:
    """The women a package supported in a period: a ``SELECT`` of ``service_users.id`` labelled ``id``
    (a woman may repeat). ``counts_as``: the key of an indicator that is the distinct women of this
    select (the reports count them all, and the women supported, in one statement); ``supported``:
    whether they are among the women supported."""

    select: sa.Select[Any]
    counts_as: str = ""
    supported: bool = True


@dataclass
class Counted:
    """A provider's exact figures for a period, and some of them month by month (the first of each
    London month) for the charts."""

    values: dict[str, int]
    months: dict[str, dict[dt.date, int]] = field(default_factory=dict)


class IndicatorProvider(Protocol):
    @property
    def indicators(self) -> Sequence[Indicator]:
        """What it counts for the whole charity, per period."""
        ...

    @property
    def measures(self) -> Sequence[Measure]:
        """What it counts per partner agency, per period."""
        ...

    def count(self, period: Period) -> Counted:
        """Each of its indicators' exact value for the period (but those its :meth:`women` count)."""
        ...

    def women(self, period: Period) -> list[Women]:
        """The women it supported in the period, for the distinct counts."""
        ...

    def partnership(self, period: Period, agency_ids: Sequence[int] | None) -> dict[int, dict[str, Figure]]:
        """Per agency (all, or the ones named), each of its measures; agencies with nothing may be absent."""
        ...

    def breakdowns(self, period: Period) -> list[Breakdown]:
        """Tables of parts that add up to a total."""
        ...


def by_month(rows: Iterable[tuple[Any, Any]]) -> dict[dt.date, int]:
    """From ``(day, count)`` rows grouped by day in SQL (a day may come back as ISO text), per month."""
    months: dict[dt.date, int] = {}
    for day, n in rows:
        when = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        key = when.replace(day=1)
        months[key] = months.get(key, 0) + int(n or 0)
    return months


def month_spans(period: Period) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    """Each month the period touches, with its bounds inside the period as UTC instants."""
    found = []
    for month in months_of(period):
        after = (month + dt.timedelta(days=32)).replace(day=1)
        part = Period(max(month, period.start), min(after - dt.timedelta(days=1), period.end))
        found.append((month, part.starts_at, part.ends_at))
    return found


def months_of(period: Period) -> list[dt.date]:
    """The first day of every month the period touches."""
    found, month = [], period.start.replace(day=1)
    while month <= period.end:
        found.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return found


def register(app: Flask, provider: IndicatorProvider) -> None:
    registry.register(app, NAME, provider)


def providers(app: Flask | None = None) -> list[IndicatorProvider]:
    found: list[IndicatorProvider] = registry.providers(NAME, app)
    return found


# Working days and London days in SQL ------------------------------------------------------------


class london_day(FunctionElement[dt.date]):
    """The London date of a stored UTC time, in SQL (PostgreSQL: ``timezone()``; SQLite: a function
    the app registers on each connection, :func:`sqlite_london_day`)."""

    type = sa.Date()
    inherit_cache = True


@compiles(london_day, "postgresql")
def _london_day_pg(element: london_day, compiler: Any, **kw: Any) -> str:
    return f"CAST(timezone('Europe/London', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(london_day)
def _london_day_default(element: london_day, compiler: Any, **kw: Any) -> str:
    return f"hub_london_day({compiler.process(element.clauses, **kw)})"


def sqlite_london_day(value: str | None) -> str | None:
    """SQLite's ``hub_london_day``: a stored time (text, UTC) to its London date (ISO text)."""
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LONDON).date().isoformat()


def medians(rows: Iterable[tuple[int, int, int]]) -> dict[int, Median]:
    """From ``(agency_id, working days, how many)``, grouped in SQL, each agency's median."""
    spread: dict[int, list[tuple[int, int]]] = {}
    for agency_id, days, times in rows:
        spread.setdefault(agency_id, []).append((days, times))
    found = {}
    for agency_id, pairs in spread.items():
        total = sum(times for _, times in pairs)
        found[agency_id] = Median(_weighted_median(sorted(pairs), total) if total else None, total)
    return found


def _weighted_median(pairs: list[tuple[int, int]], total: int) -> float:
    """The median of values given with how often each occurs, without expanding them."""
    middle = [(total - 1) // 2, total // 2]
    picked, seen = [], 0
    for value, times in pairs:
        while middle and middle[0] < seen + times:
            picked.append(value)
            middle.pop(0)
        seen += times
    return float(statistics.fmean(picked))


def merge(target: dict[int, dict[str, Figure]], key: str, values: Mapping[int, Figure]) -> None:
    for agency_id, value in values.items():
        target.setdefault(agency_id, {})[key] = value


class plus_days(FunctionElement[dt.date]):
    """A stored date ``n`` days later, in SQL: ``plus_days(column, 21)``."""

    type = sa.Date()
    inherit_cache = True


@compiles(plus_days, "postgresql")
def _plus_days_pg(element: plus_days, compiler: Any, **kw: Any) -> str:
    column, days = list(element.clauses)
    return f"({compiler.process(column, **kw)} + {int(days.value)})"


@compiles(plus_days)
def _plus_days_default(element: plus_days, compiler: Any, **kw: Any) -> str:
    column, days = list(element.clauses)
    return f"date({compiler.process(column, **kw)}, '{int(days.value):+d} days')"


@dataclass(frozen=True)
class Breakdown:
    """Parts that add up to a total (where she slept on her first night, say): the reports withhold a
    second part, or the total, when a withheld part could be worked out from the rest."""

    key: str
    label: str
    definition: str
    total_label: str
    parts: tuple[tuple[str, int], ...]  # (label, exact count)


def prepare_for_counting() -> None:
    """For the rest of this transaction, on PostgreSQL: no JIT compilation (the reports' statements are
    planned as costly, so PostgreSQL would spend more time compiling them, about half a second, than
    running them) and more memory for hashing and sorting a year of referrals (no spill to disk)."""
    from hub.db import db

    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))
        db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))
