"""The reports as files: CSV (UTF-8) and XLSX, each with its definitions.

No text cell that a spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) is written as it is: it gets a leading apostrophe, which spreadsheets
show as text. Numbers are written as numbers (a negative number is a number, never a formula).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.indicators import Period
from reports import disclosure, queries
from reports.disclosure import Rules, suppression_note

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe(value: Any) -> Any:
    """A value a spreadsheet will never run: text that could start a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class Export:
    """A file to hand back."""

    filename: str
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Sheet:
    title: str  # at most 31 characters, for XLSX
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]


def to_csv(sheets: Sequence[Sheet]) -> bytes:
    """Every sheet one after another, each under its title, separated by a blank line (UTF-8 with a
    byte-order mark, so spreadsheet programs read it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for n, sheet in enumerate(sheets):
        if n:
            writer.writerow([])
        writer.writerow([safe(sheet.title)])
        writer.writerow([safe(h) for h in sheet.header])
        writer.writerows([safe(_plain(v)) for v in row] for row in sheet.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    for blank in list(book.worksheets):
        book.remove(blank)
    for sheet in sheets:
        page = book.create_sheet(sheet.title[:31])
        page.append([safe(h) for h in sheet.header])
        for cell in page[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            page.append([safe(_plain(v)) for v in row])
        for column in page.columns:
            width = max(len(str(c.value or "")) for c in column)
            page.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 80)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def about(title: str, period: Period, rules: Rules, made_by: str, when: dt.datetime) -> Sheet:
    return Sheet("About this file", ["", ""], [
        ["Report", title], ["From", period.start], ["To", period.end],
        ["Audience", "external (disclosure controlled)" if rules.external else "internal (exact)"],
        ["Made by", made_by], ["Made at (UTC)", when.replace(microsecond=0)],
        ["Disclosure control", suppression_note(rules)],
    ])  # fmt: skip


def _value(cell: disclosure.Cell) -> object:
    if cell.value is None:
        return "[c]" if cell.is_suppressed else ""
    return round(cell.value, 3) if isinstance(cell.value, float) else cell.value


def indicator_sheets(report: queries.IndicatorReport) -> list[Sheet]:
    figures = Sheet("Figures", ["Key", "Indicator", "Group", "Value", "Withheld", "Counts"], [
        [line.indicator.key, line.indicator.label, line.indicator.group.label, _value(line.cell),
         "yes" if line.cell.is_suppressed else "no", line.indicator.counts] for line in report.lines
    ])  # fmt: skip
    monthly = Sheet("Month by month", ["Indicator", "Month", "Value"], [
        [s.indicator.label, month.strftime("%Y-%m"), _value(cell)] for s in report.series for month, cell in s.points
    ])  # fmt: skip
    breakdowns = Sheet("Breakdowns", ["Table", "Part", "Value"], [
        row for t in report.tables
        for row in [*([t.breakdown.label, label, _value(cell)] for label, cell in t.parts),
                    [t.breakdown.label, t.breakdown.total_label, _value(t.total)]]
    ])  # fmt: skip
    definitions = Sheet("Definitions", ["Key", "Indicator", "Definition", "Counts", "Counted from"], [
        [i.key, i.label, i.definition, i.counts, i.source] for i in queries.catalogue()
    ] + [[t.breakdown.key, t.breakdown.label, t.breakdown.definition, "", ""] for t in report.tables])  # fmt: skip
    return [figures, monthly, breakdowns, definitions]


def partnership_sheets(report: queries.PartnershipReport) -> list[Sheet]:
    header = ["Agency", *(m.label for m in report.measures)]
    rows = [[line.name, *(_value(line.cells[m.key]) for m in report.measures)] for line in report.lines]
    if len(report.lines) > 1:
        rows.append(["All agencies", *(_value(report.totals[m.key]) if m.key in report.totals else ""
                                       for m in report.measures)])  # fmt: skip
    definitions = Sheet("Definitions", ["Key", "Figure", "Definition"],
                        [[m.key, m.label, m.definition] for m in report.measures])  # fmt: skip
    return [Sheet("Partnership", header, rows), definitions]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
