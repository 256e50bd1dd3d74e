"""Charts drawn on the server as SVG: horizontal bars and single lines, one measure on one axis.

Each chart has a descriptive title (its ``<title>``, also the figure's caption on the page), a
short description, and sits above a table of the same figures (the text alternative; the reports'
pages always show both). A withheld figure is drawn as no bar, or a gap in the line, and labelled
"[c]". Colours are GOV.UK Frontend's, with text in black on white.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from reports.disclosure import Cell

BAR = "#1d70b8"  # GOV.UK blue
TEXT = "#0b0c0c"
GRID = "#b1b4b6"


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _label(cell: Cell) -> str:
    return cell.shown if cell.value is not None else ("[c]" if cell.is_suppressed else "none")


def bars(chart_id: str, title: str, items: Sequence[tuple[str, Cell]], *, share: bool = False) -> Markup:
    """Horizontal bars, in the order given; ``share``: values are rates from 0 to 1."""
    label_width, bar_width, row, top_pad = 260, 380, 30, 10
    height = top_pad + row * len(items) + 24
    values = [float(c.value) for _, c in items if c.value is not None]
    top = 1.0 if share else _nice_top(max(values, default=0.0))
    parts = [
        f'<svg class="hub-chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {label_width + bar_width + 70} '
        f'{height}" width="100%" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">A bar chart; the table below gives the same figures.</desc>',
    ]
    for tick in range(5):
        x = label_width + bar_width * tick / 4
        value = top * tick / 4
        tick_text = f"{value:.0%}" if share else f"{value:g}"
        parts.append(f'<line x1="{x:.1f}" y1="{top_pad - 4}" x2="{x:.1f}" y2="{height - 20}" stroke="{GRID}" '
                     'stroke-width="1"/>')  # fmt: skip
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="12" text-anchor="middle" '
                     f'fill="{TEXT}">{escape(tick_text)}</text>')  # fmt: skip
    for n, (label, cell) in enumerate(items):
        y = top_pad + n * row
        text = label if len(label) <= 38 else label[:36] + "…"
        parts.append(f'<text x="{label_width - 8}" y="{y + 19}" font-size="14" text-anchor="end" '
                     f'fill="{TEXT}">{escape(text)}</text>')  # fmt: skip
        width = 0.0 if cell.value is None else bar_width * min(float(cell.value) / top, 1.0)
        if width > 0:
            parts.append(f'<rect x="{label_width}" y="{y + 4}" width="{width:.1f}" height="{row - 10}" fill="{BAR}"/>')
        parts.append(f'<text x="{label_width + width + 6:.1f}" y="{y + 19}" font-size="14" '
                     f'fill="{TEXT}">{escape(_label(cell))}</text>')  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text and attribute in it passed through escape()


def line(chart_id: str, title: str, points: Sequence[tuple[dt.date, Cell]]) -> Markup:
    """One line over months; a withheld month breaks the line and is marked "[c]" on the axis."""
    left, width, top_pad, plot = 50, 560, 16, 200
    height = top_pad + plot + 40
    values = [float(c.value) for _, c in points if c.value is not None]
    top = _nice_top(max(values, default=0.0))
    step = width / max(len(points) - 1, 1)

    def y_of(value: float) -> float:
        return top_pad + plot - plot * value / top

    parts = [
        f'<svg class="hub-chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {left + width + 30} {height}" '
        f'width="100%" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">A line chart by month; the table below gives the same figures.</desc>',
    ]
    for tick in range(5):
        value = top * tick / 4
        y = y_of(value)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" stroke="{GRID}" '
                     'stroke-width="1"/>')  # fmt: skip
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="12" text-anchor="end" '
                     f'fill="{TEXT}">{value:g}</text>')  # fmt: skip
    run: list[str] = []
    for n, (month, cell) in enumerate(points):
        x = left + n * step
        if cell.value is None:
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{BAR}" stroke-width="3"/>')
            elif run:
                parts.append(f'<circle cx="{run[0].split(",")[0]}" cy="{run[0].split(",")[1]}" r="4" fill="{BAR}"/>')
            run = []
        else:
            run.append(f"{x:.1f},{y_of(float(cell.value)):.1f}")
        every = max(1, math.ceil(len(points) / 12))
        if n % every == 0 or cell.value is None:
            below = month.strftime("%b %y") if cell.value is not None else month.strftime("%b") + " [c]"
            parts.append(f'<text x="{x:.1f}" y="{top_pad + plot + 18}" font-size="12" text-anchor="middle" '
                         f'fill="{TEXT}">{escape(below)}</text>')  # fmt: skip
    if len(run) > 1:
        parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{BAR}" stroke-width="3"/>')
    elif run:
        parts.append(f'<circle cx="{run[0].split(",")[0]}" cy="{run[0].split(",")[1]}" r="4" fill="{BAR}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text and attribute in it passed through escape()
