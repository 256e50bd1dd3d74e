"""The reports, gathered from every package's indicator provider (:mod:`hub.indicators`).

Each provider counts in a fixed number of statements; the reports add one for the women supported
(a woman counted once across every package) and one for the agencies' names, so a report costs the
same number of statements at any size. Figures leave here through :mod:`reports.disclosure`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from agencies.models import Agency, AgencyKind
from hub import indicators as registry
from hub.db import db
from hub.indicators import Breakdown, Figure, Group, Indicator, Measure, Median, Period
from reports import disclosure
from reports.disclosure import Cell, Rules

WOMEN_SUPPORTED = Indicator(
    "women_supported", "Women supported", "Women we supported in the period, each counted once however many "
    "services she used: she gave consent, we sent a referral for her or an agency accepted one, she was in "
    "custody with us, or her case was heard at the forum. The drop-in is not in it: it records counts, never names.",
    "women", "Consents, referrals, custody records and forum cases", Group.HEADLINE, order=1,
)  # fmt: skip


@dataclass(frozen=True)
class Line:
    indicator: Indicator
    cell: Cell


@dataclass(frozen=True)
class Table:
    """A breakdown as shown: its parts and the total made from them."""

    breakdown: Breakdown
    parts: list[tuple[str, Cell]]
    total: Cell


@dataclass(frozen=True)
class Series:
    indicator: Indicator
    points: list[tuple[dt.date, Cell]]


@dataclass
class IndicatorReport:
    period: Period
    rules: Rules
    lines: list[Line] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)

    @property
    def audience(self) -> str:
        return "external" if self.rules.external else "internal"

    def group(self, group: Group) -> list[Line]:
        return [line for line in self.lines if line.indicator.group is group]


def catalogue() -> list[Indicator]:
    """Every indicator, in the order the reports show them."""
    found = [WOMEN_SUPPORTED, *(i for p in registry.providers() for i in p.indicators)]
    groups = list(Group)
    return sorted(found, key=lambda i: (groups.index(i.group), i.order, i.key))


def measures() -> list[Measure]:
    found = [m for p in registry.providers() for m in p.measures]
    return sorted(found, key=lambda m: (m.order, m.key))


def women_counts(period: Period) -> dict[str, int]:
    """In one statement: the women supported (each once across every package) and each provider's counts
    of distinct women (``Women.counts_as``), from one union of every package's women."""
    found = [w for p in registry.providers() for w in p.women(period)]
    keys = sorted({w.counts_as for w in found if w.counts_as})
    if not found:
        return {"women_supported": 0, **dict.fromkeys(keys, 0)}
    branches = []
    for n, women in enumerate(found):
        inner = women.select.subquery(f"women_{n}")
        branches.append(sa.select(inner.c.id.label("id"), sa.literal(n).label("source")))
    every = sa.union_all(*branches).subquery("every_woman")

    def flag(sources: list[int]) -> Any:
        return sa.func.max(sa.case((every.c.source.in_(sources), 1), else_=0))

    supported = [n for n, w in enumerate(found) if w.supported]
    per_woman = (
        sa.select(flag(supported).label("supported"),
                  *(flag([n for n, w in enumerate(found) if w.counts_as == key]).label(f"k{i}")
                    for i, key in enumerate(keys)))
        .group_by(every.c.id).subquery("per_woman")
    )  # fmt: skip
    row = db.session.execute(sa.select(
        sa.func.count(sa.case((per_woman.c.supported == 1, 1))),
        *(sa.func.count(sa.case((per_woman.c[f"k{i}"] == 1, 1))) for i in range(len(keys))),
    )).one()  # fmt: skip
    return dict(zip(["women_supported", *keys], (int(v or 0) for v in row), strict=True))


def indicator_report(period: Period, rules: Rules) -> IndicatorReport:
    registry.prepare_for_counting()
    exact = women_counts(period)
    report = IndicatorReport(period, rules)
    for provider in registry.providers():
        counted = provider.count(period)
        exact.update(counted.values)
        for breakdown in provider.breakdowns(period):
            parts = [disclosure.count(n, rules) for _, n in breakdown.parts]
            parts, total = disclosure.protect(parts, disclosure.total(parts, rules), rules)
            labels = [label for label, _ in breakdown.parts]
            report.tables.append(Table(breakdown, list(zip(labels, parts, strict=True)), total))
        for key, months in counted.months.items():
            indicator = next(i for i in provider.indicators if i.key == key)
            points = [(month, disclosure.count(months.get(month, 0), rules)) for month in registry.months_of(period)]
            report.series.append(Series(indicator, points))
    report.lines = [Line(i, disclosure.count(exact.get(i.key, 0), rules)) for i in catalogue()]
    return report


@dataclass(frozen=True)
class AgencyLine:
    agency_id: int
    name: str
    cells: dict[str, Cell]


@dataclass
class PartnershipReport:
    period: Period
    rules: Rules
    measures: list[Measure]
    lines: list[AgencyLine]
    totals: dict[str, Cell]

    @property
    def audience(self) -> str:
        return "external" if self.rules.external else "internal"


def _cells(figures: dict[str, Figure], found: Sequence[Measure], rules: Rules) -> dict[str, Cell]:
    cells: dict[str, Cell] = {}
    for m in found:
        value = figures.get(m.key)
        if m.kind == "count":
            cells[m.key] = disclosure.count(value if isinstance(value, int) else 0, rules)
        elif m.kind == "median":
            cells[m.key] = disclosure.median(value if isinstance(value, Median) else None, rules)
    for m in found:
        if m.kind == "rate":
            cells[m.key] = disclosure.rate(cells[m.numerator], cells[m.of])
    return cells


def partnership_report(period: Period, rules: Rules, agency_ids: Sequence[int] | None = None) -> PartnershipReport:
    """Per partner agency (every one, or those named): its figures in the period; the totals row is made
    from the rounded figures, and a withheld figure cannot be worked out from it and the others."""
    registry.prepare_for_counting()
    found = measures()
    figures: dict[int, dict[str, Figure]] = {}
    for provider in registry.providers():
        for agency_id, values in provider.partnership(period, agency_ids).items():
            figures.setdefault(agency_id, {}).update(values)
    query = sa.select(Agency.id, Agency.name).where(Agency.kind != AgencyKind.HOST)
    if agency_ids is not None:
        query = query.where(Agency.id.in_(agency_ids))
    else:
        query = query.where(Agency.id.in_(list(figures)))
    names = dict(db.session.execute(query.order_by(Agency.name, Agency.id)).tuples().all())
    lines = [AgencyLine(a, name, _cells(figures.get(a, {}), found, rules)) for a, name in names.items()]
    totals: dict[str, Cell] = {}
    for m in found:
        if m.kind != "count":
            continue
        column = [line.cells[m.key] for line in lines]
        column, totals[m.key] = disclosure.protect(column, disclosure.total(column, rules), rules)
        for line, cell in zip(lines, column, strict=True):
            line.cells[m.key] = cell
    for m in found:
        if m.kind == "rate":
            totals[m.key] = disclosure.rate(totals[m.numerator], totals[m.of])
            for line in lines:
                line.cells[m.key] = disclosure.rate(line.cells[m.numerator], line.cells[m.of])
    return PartnershipReport(period, rules, found, lines, totals)


def flat(report: PartnershipReport, line: AgencyLine) -> dict[str, Any]:
    """One agency's figures as the API gives them: a value per key (None when withheld) and which keys
    were withheld."""
    return {
        "agency_id": line.agency_id, "name": line.name,
        **{m.key: line.cells[m.key].value for m in report.measures},
        "suppressed": [m.key for m in report.measures if line.cells[m.key].is_suppressed],
    }  # fmt: skip
