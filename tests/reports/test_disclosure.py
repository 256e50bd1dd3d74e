"""Disclosure control, rule by rule, at the edges: 0, 1, 7, 8, 12, 13; totals from rounded figures;
no rate from a withheld figure; medians over few values; and totals that would give a withheld part
away (secondary suppression)."""

from __future__ import annotations

import itertools

import pytest

from hub.indicators import Median
from reports import disclosure as d

OUT, IN = d.Rules(external=True), d.Rules(external=False)


@pytest.mark.parametrize(("n", "shown", "withheld"), [
    (0, 0, False), (1, None, True), (7, None, True), (8, 10, False), (12, 10, False), (13, 15, False),
    (2, None, True), (3, None, True), (22, 20, False), (23, 25, False), (1_000_002, 1_000_000, False),
])  # fmt: skip
def test_counts_for_outside_are_withheld_from_1_to_7_and_rounded_to_5(
    n: int, shown: int | None, withheld: bool
) -> None:
    cell = d.count(n, OUT)
    assert cell.value == shown and cell.is_suppressed is withheld
    assert cell.shown == ("[c]" if withheld else f"{shown:,}")


@pytest.mark.parametrize("n", [0, 1, 7, 8, 12, 13])
def test_the_internal_view_is_exact(n: int) -> None:
    assert d.count(n, IN).value == n and not d.count(n, IN).is_suppressed


def test_the_threshold_and_base_can_be_set() -> None:
    rules = d.Rules(external=True, small=10, round_to=10)
    assert d.count(10, rules).value is None and d.count(11, rules).value == 10 and d.count(15, rules).value == 20


def test_a_total_is_made_from_the_rounded_parts() -> None:
    parts = [d.count(n, OUT) for n in (12, 13, 13)]  # rounded 10, 15, 15; the exact total 38 would round to 40
    assert d.total(parts, OUT).value == 40 - 0 == sum(p.value or 0 for p in parts)
    parts = [d.count(n, OUT) for n in (12, 12)]  # 10 + 10 = 20 (the exact 24 would round to 25)
    assert d.total(parts, OUT).value == 20


def test_a_small_total_is_withheld_too() -> None:
    parts = [d.count(n, OUT) for n in (2, 2)]  # rounded 0 + 0: a total of 0 would say both are 1 or 2
    total = d.total(parts, OUT)
    assert total.value == 0  # made from the rounded figures ...
    parts, total = d.protect(parts, total, OUT)
    assert total.is_suppressed  # ... and withheld, as no part could be withheld with them


def test_no_rate_from_a_withheld_figure() -> None:
    assert d.rate(d.count(5, OUT), d.count(20, OUT)).value is None
    assert d.rate(d.count(20, OUT), d.count(5, OUT)).value is None
    assert d.rate(d.count(12, OUT), d.count(20, OUT)).value == 0.5  # 10 of 20, from the rounded figures
    assert d.rate(d.count(0, OUT), d.count(0, OUT)).value is None  # nothing to take a share of
    assert d.rate(d.count(3, IN), d.count(4, IN)).value == 0.75


def test_medians_over_1_to_7_values_are_withheld() -> None:
    assert d.median(Median(2.0, 7), OUT).value is None and d.median(Median(2.0, 7), OUT).is_suppressed
    assert d.median(Median(2.0, 8), OUT).value == 2.0
    assert d.median(Median(2.0, 1), IN).value == 2.0
    assert d.median(None, OUT).value is None and not d.median(None, OUT).is_suppressed


def _range_of_withheld(parts: list[d.Cell], total: d.Cell, exact: list[int]) -> set[tuple[int, ...]]:
    """Every set of exact values of the withheld parts consistent with what is shown (a searcher's view)."""
    withheld = [i for i, p in enumerate(parts) if p.is_suppressed]
    consistent = set()
    for guess in itertools.product(range(40), repeat=len(withheld)):
        trial = list(exact)
        for i, g in zip(withheld, guess, strict=True):
            trial[i] = g
        cells = [d.count(n, OUT) for n in trial]
        if any(cells[i].value != parts[i].value for i in range(len(parts)) if i not in withheld):
            continue
        if any(not cells[i].is_suppressed and parts[i].suppressed == d.PRIMARY for i in withheld):
            continue  # a primary-withheld part must itself be small
        if not total.is_suppressed and d.total(cells, OUT).value != total.value:
            continue
        consistent.add(tuple(guess))
    return consistent


@pytest.mark.parametrize("exact", [[3, 20, 25], [1, 0, 0], [7, 8, 40], [2, 13], [5, 5, 30], [12, 1, 13, 0]])
def test_a_withheld_part_cannot_be_worked_out_from_the_total(exact: list[int]) -> None:
    naive = [d.count(n, OUT) for n in exact]
    total = d.total(naive, OUT)
    # Without secondary suppression, the total and the other parts would tell the withheld part apart:
    # with one part withheld, total minus the rest is its rounded value (0: it is 1 or 2; 5: 3 to 7).
    parts, total = d.protect(naive, total, OUT)
    guesses = _range_of_withheld(parts, total, exact)
    assert guesses, "the true values must be among them"
    for position in (i for i, p in enumerate(parts) if p.suppressed == d.PRIMARY):
        values = {g[[i for i, p in enumerate(parts) if p.is_suppressed].index(position)] for g in guesses}
        assert len({v for v in values if 1 <= v <= 7}) >= 2 or total.is_suppressed, (exact, parts, total)
        # and the searcher cannot narrow it to "1 or 2" against "3 to 7"
        assert {v for v in values if 1 <= v <= 2} and {v for v in values if 3 <= v <= 7}, (exact, values)


def test_secondary_suppression_picks_the_smallest_shown_part() -> None:
    parts = [d.count(n, OUT) for n in (3, 20, 9, 40)]
    parts, total = d.protect(parts, d.total(parts, OUT), OUT)
    assert [p.suppressed for p in parts] == [d.PRIMARY, "", d.SECONDARY, ""]
    assert total.value == 5 + 20 + 10 + 40


def test_nothing_withheld_nothing_changes() -> None:
    parts = [d.count(n, OUT) for n in (0, 8, 13)]
    assert d.protect(parts, d.total(parts, OUT), OUT) == (parts, d.total(parts, OUT))
    inside = [d.count(n, IN) for n in (1, 2)]
    assert d.protect(inside, d.total(inside, IN), IN)[1].value == 3
