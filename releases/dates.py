"""The day-of-release rule: from the date a prison or probation gives to the day she walks out.

Three layers, applied in order (the API's ``release`` object):

1. ``statutory_on`` — release cannot be on a Saturday, Sunday or England and Wales bank holiday,
   so it happens on the last working day before (Criminal Justice Act 1961 s.23(3)); for a term
   of 5 days or less only Sundays and bank holidays are excluded, so a Saturday stays a Saturday.
2. ``expected_on`` — the discretionary Friday and pre-bank-holiday release scheme (Offenders (Day
   of Release from Detention) Act 2023 and the HMPPS policy framework): where ``statutory_on`` is
   a working day followed by a non-working day, an eligible adult is released one eligible
   working day earlier, a child two.
3. ``earliest_on`` — for an adult under the scheme, the one further day her probation
   practitioner may ask for.

Pure: no database, no Flask; working days come from :mod:`hub.workdays`.

Invariants of every :class:`ReleaseDay`: ``earliest_on <= expected_on <= statutory_on <=
nominal_on`` (nobody is ever planned for later than the law allows); ``statutory_on`` is a working
day, or a Saturday for a term of 5 days or less; ``expected_on`` and ``earliest_on``, when they
differ from ``statutory_on``, are working days followed by a working day.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from hub.workdays import is_bank_holiday, is_working_day

SHORT_TERM_DAYS = 5  # s.23(3): a Saturday is excluded only for a term of more than 5 days
SCHEME_MINIMUM_DAYS = 28  # the policy: served at least 28 days in custody since sentence
SCHEME = "the Friday and pre-bank-holiday release scheme"
_DAY = dt.timedelta(days=1)


class CustodyType(enum.StrEnum):
    REMAND = "remand"
    SENTENCED = "sentenced"
    RECALLED = "recalled"

    @property
    def label(self) -> str:
        return {"remand": "On remand", "sentenced": "Sentenced", "recalled": "Recalled"}[self.value]


class SentenceKind(enum.StrEnum):
    DETERMINATE = "determinate"
    INDETERMINATE = "indeterminate"
    YOUTH = "youth"

    @property
    def label(self) -> str:
        return {
            "determinate": "Determinate sentence",
            "indeterminate": "Indeterminate sentence",
            "youth": "Youth detention (a child)",
        }[self.value]


class ReleaseType(enum.StrEnum):
    AUTOMATIC = "automatic"
    LICENCE = "licence"
    HDC = "hdc"
    PAROLE = "parole"
    END_OF_SENTENCE = "end_of_sentence"
    FIXED_TERM_RECALL = "fixed_term_recall"
    BAIL = "bail"

    @property
    def label(self) -> str:
        return {
            "automatic": "Automatic release",
            "licence": "Release on licence",
            "hdc": "Home detention curfew",
            "parole": "Parole Board release",
            "end_of_sentence": "End of sentence",
            "fixed_term_recall": "Fixed-term recall",
            "bail": "Bail",
        }[self.value]


class Rule(enum.StrEnum):
    NONE = "none"
    NON_WORKING_DAY = "non_working_day"
    SHORT_TERM_SATURDAY = "short_term_saturday"
    FRIDAY_SCHEME = "friday_scheme"
    FRIDAY_SCHEME_EXCLUDED = "friday_scheme_excluded"

    @property
    def label(self) -> str:
        return {
            "none": "No change",
            "non_working_day": "Moved off a weekend or bank holiday",
            "short_term_saturday": "Short term: Saturday release",
            "friday_scheme": "Friday and pre-bank-holiday release scheme",
            "friday_scheme_excluded": "Excluded from the Friday and pre-bank-holiday scheme",
        }[self.value]


def long_date(day: dt.date) -> str:
    """A date as the explanations write it: "Thursday 26 March 2026"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


@dataclass(frozen=True)
class ReleaseDay:
    nominal_on: dt.date
    statutory_on: dt.date
    expected_on: dt.date
    earliest_on: dt.date | None
    rule: Rule
    explanation: str
    ask_the_prison: bool

    def __post_init__(self) -> None:
        # Holding someone past the statutory day is unlawful detention; planning for a later day
        # than she may walk out leaves her without a bed or a script on the day.
        assert self.plan_on <= self.expected_on <= self.statutory_on <= self.nominal_on

    @property
    def plan_on(self) -> dt.date:
        """The day to plan for: the earliest she may walk out."""
        return self.earliest_on or self.expected_on

    @property
    def window_text(self) -> str:
        """From the day to plan for to the statutory day, e.g. "between Wednesday 25 and Friday 27
        March 2026; plan for Wednesday 25 March", or "on Tuesday 24 March 2026" when only one day
        is possible."""
        start, end = self.plan_on, self.statutory_on
        if start == end:
            return f"on {long_date(end)}"
        if start.year != end.year:
            first = long_date(start)
        elif start.month != end.month:
            first = f"{start:%A} {start.day} {start:%B}"
        else:
            first = f"{start:%A} {start.day}"
        return f"between {first} and {long_date(end)}; plan for {start:%A} {start.day} {start:%B}"

    def as_dict(self) -> dict[str, object]:
        """Exactly the API's ``release`` keys (dates as dates: the schema formats them)."""
        return {
            "nominal_on": self.nominal_on,
            "statutory_on": self.statutory_on,
            "expected_on": self.expected_on,
            "earliest_on": self.earliest_on,
            "rule": self.rule.value,
            "explanation": self.explanation,
            "ask_the_prison": self.ask_the_prison,
        }


def release_day(
    nominal_on: dt.date,
    *,
    custody_type: CustodyType,
    release_type: ReleaseType,
    sentence_kind: SentenceKind | None = None,
    sentenced_on: dt.date | None = None,
    term_days: int | None = None,
) -> ReleaseDay:
    """The day she will be released, and why, from the date the prison or probation gives.

    Raises ValueError for facts that cannot be true (a term under one day, a sentence dated after
    the release), so that the caller can answer 422 instead of planning from them."""
    if term_days is not None and term_days < 1:
        raise ValueError("term_days must be at least 1")
    if sentenced_on is not None and sentenced_on > nominal_on:
        raise ValueError("sentenced_on must not be after the release date")
    short_term = term_days is not None and term_days <= SHORT_TERM_DAYS
    statutory = _statutory_day(nominal_on, short_term=short_term)
    rule, moved = _statutory_rule(nominal_on, statutory, short_term=short_term)

    if not (is_working_day(statutory) and not is_working_day(statutory + _DAY)):
        text = moved or f"Release is on {long_date(statutory)}, the date given: no day-of-release rule moves it."
        return ReleaseDay(nominal_on, statutory, statutory, None, rule, text, ask_the_prison=False)

    reason = _exclusion(custody_type, release_type, sentence_kind, sentenced_on, term_days, statutory)
    if reason:
        text = _join(moved, f"{reason}, so she is excluded from {SCHEME}: release on {long_date(statutory)}.")
        excluded = Rule.FRIDAY_SCHEME_EXCLUDED
        return ReleaseDay(nominal_on, statutory, statutory, None, excluded, text, ask_the_prison=False)

    child = sentence_kind is SentenceKind.YOUTH
    expected = _eligible_working_day_before(statutory)
    if child:
        expected = _eligible_working_day_before(expected)
    earliest = None if child else _eligible_working_day_before(expected)
    plan = earliest or expected

    doubt = _doubt(sentence_kind, sentenced_on, statutory, expected)
    if doubt:
        # Where the record cannot settle eligibility we still use the scheme's dates: planning for
        # the earliest day she may walk out costs a day of readiness if she stays until the
        # statutory day, while planning for the statutory day leaves her with nothing in place if
        # she is let out early. The explanation tells the practitioner to ask the prison.
        text = (
            f"{doubt}: ask the prison whether {SCHEME} applies, and plan for {long_date(plan)} in case it "
            f"does (otherwise release is on {long_date(statutory)})."
        )
    elif child:
        text = f"Under {SCHEME} a child is released two working days early, on {long_date(expected)}."
    else:
        text = (
            f"Under {SCHEME} she is released one working day early, on {long_date(expected)}; her probation "
            f"practitioner may ask for one more day, {long_date(plan)}."
        )
    return ReleaseDay(
        nominal_on, statutory, expected, earliest, Rule.FRIDAY_SCHEME, _join(moved, text), ask_the_prison=bool(doubt)
    )


def _statutory_day(nominal_on: dt.date, *, short_term: bool) -> dt.date:
    """CJA 1961 s.23(3): back to the nearest day that is not excluded (a Saturday is excluded
    only for a term of more than 5 days)."""
    day = nominal_on
    if short_term:
        while day.weekday() == 6 or is_bank_holiday(day):
            day -= _DAY
        return day
    while not is_working_day(day):
        day -= _DAY
    return day


def _statutory_rule(nominal_on: dt.date, statutory: dt.date, *, short_term: bool) -> tuple[Rule, str]:
    """The rule for the statutory step and its sentence ("" when the date given stands)."""
    if short_term and statutory.weekday() == 5:
        if statutory == nominal_on:
            return Rule.SHORT_TERM_SATURDAY, (
                f"For a term of 5 days or less release can be on a Saturday, so it stays on {long_date(statutory)}."
            )
        return Rule.SHORT_TERM_SATURDAY, (
            f"For a term of 5 days or less release can be on a Saturday but not on a Sunday or bank holiday, "
            f"so {long_date(nominal_on)} moves to {long_date(statutory)}."
        )
    if statutory == nominal_on:
        return Rule.NONE, ""
    if short_term:
        return Rule.NON_WORKING_DAY, (
            f"Release cannot be on a Sunday or bank holiday, so {long_date(nominal_on)} moves to the day before, "
            f"{long_date(statutory)}."
        )
    return Rule.NON_WORKING_DAY, (
        f"Release cannot be on a weekend or bank holiday, so {long_date(nominal_on)} moves to the working day "
        f"before, {long_date(statutory)}."
    )


def _eligible_working_day_before(day: dt.date) -> dt.date:
    """The 2023 Act counts "eligible working days": a working day not followed by a non-working
    day. For ordinary weeks this is simply the working day before; it differs only where a lone
    working day sits between non-working days, which the scheme never releases on."""
    day -= _DAY
    while not (is_working_day(day) and is_working_day(day + _DAY)):
        day -= _DAY
    return day


def _exclusion(
    custody_type: CustodyType,
    release_type: ReleaseType,
    sentence_kind: SentenceKind | None,
    sentenced_on: dt.date | None,
    term_days: int | None,
    statutory: dt.date,
) -> str:
    """Why the scheme does not apply to her, as the start of a sentence; "" when it may."""
    if custody_type is CustodyType.REMAND:
        return "She is on remand, not serving a sentence"
    if release_type is ReleaseType.BAIL:
        return "She is being released on bail, not from a sentence"
    if release_type is ReleaseType.HDC:
        return "She is being released on home detention curfew"
    if release_type is ReleaseType.PAROLE:
        return "Her release is directed by the Parole Board"
    if sentence_kind is SentenceKind.INDETERMINATE:
        return "She is serving an indeterminate sentence"
    if sentenced_on is None:
        # Custody since sentence cannot be longer than the term itself, so a short term settles
        # the 28 days even when the date of sentence is not recorded.
        if term_days is not None and term_days < SCHEME_MINIMUM_DAYS:
            return f"With a term of {term_days} days she cannot serve 28 days since sentence"
        return ""
    # Days served = (day - sentenced_on).days: the day of sentence is day 0 and the day of release
    # is not counted as served. The research's worked example (sentenced Mon 2 March 2026, 25 days
    # at release on Fri 27 March 2026) counts the same way. For recalls the policy counts
    # cumulatively from the date of sentence, which is the same subtraction.
    served = (statutory - sentenced_on).days
    if served < SCHEME_MINIMUM_DAYS:
        return f"She will have served {served} days since sentence, fewer than 28"
    return ""


def _doubt(
    sentence_kind: SentenceKind | None, sentenced_on: dt.date | None, statutory: dt.date, expected: dt.date
) -> str:
    """Why eligibility cannot be settled from the record, as the start of a sentence; "" if it can."""
    if sentenced_on is None:
        return "Her date of sentence is not recorded, so her 28 days since sentence cannot be checked"
    served_by_expected = (expected - sentenced_on).days
    if served_by_expected < SCHEME_MINIMUM_DAYS:
        # The sources do not say which day the 28 days are counted to: she reaches them by the
        # statutory day but not by the scheme's day.
        served = (statutory - sentenced_on).days
        return (
            f"She will have served {served} days since sentence by {long_date(statutory)} but only "
            f"{served_by_expected} by {long_date(expected)}"
        )
    if sentence_kind is None:
        # An indeterminate sentence is excluded: without the kind recorded we cannot rule it out.
        return "Her kind of sentence (determinate or indeterminate) is not recorded"
    return ""


def _join(first: str, second: str) -> str:
    return f"{first} {second}" if first else second
