"""Disclosure control: what may leave the charity, so that no woman can be picked out of a figure.

For any figure meant for outside the charity (``external``), following NHS Digital's automatable
method and the Ministry of Justice's rounding:

- a count of 1 to 7 (``HUB_REPORTS_SMALL_COUNT``, default 7) is withheld; 0 is shown;
- every other count is rounded to the nearest 5 (``HUB_REPORTS_ROUND_TO``);
- a total is made from the rounded figures of its parts, never from the exact ones;
- a rate is made from rounded numerator and denominator, and is withheld if either is;
- a median over 1 to 7 values is withheld;
- where parts add up to a shown total and a part is withheld, a second part (the smallest shown that
  is not 0) is withheld too, or, when there is none, the total: a withheld part can then never be
  worked out from the total and the rest (secondary suppression).

``internal`` figures are exact: for the charity's managers only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from hub.indicators import Median

SMALL = 7
ROUND_TO = 5
PRIMARY, SECONDARY = "small", "secondary"


@dataclass(frozen=True)
class Rules:
    external: bool
    small: int = SMALL
    round_to: int = ROUND_TO


@dataclass(frozen=True)
class Cell:
    """A figure as shown: ``value`` is None when withheld (``suppressed`` says why)."""

    value: int | float | None
    suppressed: str = ""  # "" shown, "small" withheld for being small, "secondary" withheld to protect another
    rounded: int | None = None  # what a count rounds to (for totals), kept even when withheld, never shown
    kind: str = "count"  # "count", "rate" (a share, 0 to 1) or "median" (working days)

    @property
    def is_suppressed(self) -> bool:
        return bool(self.suppressed)

    @property
    def shown(self) -> str:
        if self.value is None:
            return "[c]" if self.suppressed else ""
        if self.kind == "rate":
            return f"{self.value:.0%}"
        if self.kind == "median":
            return f"{self.value:g}"
        return f"{self.value:,}"


def round_to(n: int, base: int) -> int:
    """To the nearest multiple of ``base`` (halves up: 2.5 → 5, never banker's rounding)."""
    return int((n + base // 2) // base * base) if base > 1 else n


def count(n: int, rules: Rules) -> Cell:
    if not rules.external:
        return Cell(n, rounded=n)
    rounded = round_to(n, rules.round_to)
    if 0 < n <= rules.small:
        return Cell(None, PRIMARY, rounded=rounded)
    return Cell(rounded, rounded=rounded)


def total(parts: Sequence[Cell], rules: Rules) -> Cell:
    """A total of parts, made from their rounded figures (the exact ones inside the charity)."""
    made = sum(p.rounded or 0 for p in parts)
    if rules.external and 0 < made <= rules.small:
        return Cell(None, PRIMARY, rounded=made)
    return Cell(made, rounded=made)


def rate(numerator: Cell, denominator: Cell) -> Cell:
    """A share, from the figures as shown: none from a withheld or zero figure."""
    if numerator.is_suppressed or denominator.is_suppressed:
        return Cell(None, SECONDARY, kind="rate")
    if not denominator.value or numerator.value is None:
        return Cell(None, kind="rate")
    return Cell(float(numerator.value) / float(denominator.value), kind="rate")


def median(found: Median | None, rules: Rules) -> Cell:
    if found is None or found.value is None or found.n == 0:
        return Cell(None, kind="median")
    if rules.external and found.n <= rules.small:
        return Cell(None, PRIMARY, kind="median")
    return Cell(round(found.value, 1), kind="median")


def protect(parts: list[Cell], shown_total: Cell, rules: Rules) -> tuple[list[Cell], Cell]:
    """Secondary suppression for parts that add up to a shown total (see the module's rules)."""
    if not rules.external or shown_total.is_suppressed:
        return parts, shown_total
    withheld = [i for i, p in enumerate(parts) if p.is_suppressed]
    if not withheld:
        return parts, shown_total
    # Safe once a part of more than `small` is withheld with them: the gap then hides how the
    # withheld figures split, and cannot show that each is small.
    if any((parts[i].rounded or 0) > rules.small for i in withheld):
        return parts, shown_total
    candidates = [i for i, p in enumerate(parts) if not p.is_suppressed and p.value]
    if not candidates:
        return parts, Cell(None, SECONDARY, rounded=shown_total.rounded)
    smallest = min(candidates, key=lambda i: (parts[i].value or 0, i))
    parts = list(parts)
    parts[smallest] = replace(parts[smallest], value=None, suppressed=SECONDARY)
    return parts, shown_total


def rules_for(audience: str) -> Rules:
    return Rules(external=audience != "internal")


def suppression_note(rules: Rules) -> str:
    if not rules.external:
        return ("None: exact figures, for the charity's managers only. Do not send this file outside the "
                "charity.")  # fmt: skip
    return (f"Counts from 1 to {rules.small} are withheld ([c]); every other count is rounded to the nearest "
            f"{rules.round_to}; totals are made from the rounded figures; no rate is given from a withheld "
            f"figure; medians over {rules.small} or fewer values are withheld; where a withheld figure could be "
            "worked out from a total, a second figure (or the total) is withheld too.")  # fmt: skip
