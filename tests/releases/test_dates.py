"""The day-of-release rule, against the worked dates of the research and the API's examples."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.workdays import is_working_day
from releases.dates import CustodyType, ReleaseDay, ReleaseType, Rule, SentenceKind, release_day

D = dt.date
LONG_AGO = D(2024, 1, 1)


def adult(nominal_on: dt.date, **kw: object) -> ReleaseDay:
    """An eligible adult by default: sentenced long ago, determinate, automatic release."""
    facts: dict[str, object] = {
        "custody_type": CustodyType.SENTENCED,
        "release_type": ReleaseType.AUTOMATIC,
        "sentence_kind": SentenceKind.DETERMINATE,
        "sentenced_on": LONG_AGO,
    }
    facts.update(kw)
    return release_day(nominal_on, **facts)  # type: ignore[arg-type]


# nominal → statutory, presumed (eligible adult), earliest (COM's extra day; a child's day).
# None: no change. The research's table, §1.3, all 31 rows.
WORKED = [
    (D(2026, 3, 24), D(2026, 3, 24), None, None),
    (D(2026, 3, 27), D(2026, 3, 27), D(2026, 3, 26), D(2026, 3, 25)),
    (D(2026, 3, 28), D(2026, 3, 27), D(2026, 3, 26), D(2026, 3, 25)),
    (D(2026, 3, 29), D(2026, 3, 27), D(2026, 3, 26), D(2026, 3, 25)),
    (D(2026, 4, 2), D(2026, 4, 2), D(2026, 4, 1), D(2026, 3, 31)),  # day before Good Friday
    (D(2026, 4, 3), D(2026, 4, 2), D(2026, 4, 1), D(2026, 3, 31)),  # Good Friday
    (D(2026, 4, 5), D(2026, 4, 2), D(2026, 4, 1), D(2026, 3, 31)),  # Easter Sunday
    (D(2026, 4, 6), D(2026, 4, 2), D(2026, 4, 1), D(2026, 3, 31)),  # Easter Monday
    (D(2026, 4, 7), D(2026, 4, 7), None, None),
    (D(2026, 5, 1), D(2026, 5, 1), D(2026, 4, 30), D(2026, 4, 29)),
    (D(2026, 5, 4), D(2026, 5, 1), D(2026, 4, 30), D(2026, 4, 29)),  # Early May bank holiday
    (D(2026, 5, 22), D(2026, 5, 22), D(2026, 5, 21), D(2026, 5, 20)),
    (D(2026, 5, 25), D(2026, 5, 22), D(2026, 5, 21), D(2026, 5, 20)),  # Spring bank holiday
    (D(2026, 8, 31), D(2026, 8, 28), D(2026, 8, 27), D(2026, 8, 26)),  # Summer bank holiday
    (D(2026, 12, 24), D(2026, 12, 24), D(2026, 12, 23), D(2026, 12, 22)),
    (D(2026, 12, 25), D(2026, 12, 24), D(2026, 12, 23), D(2026, 12, 22)),
    (D(2026, 12, 26), D(2026, 12, 24), D(2026, 12, 23), D(2026, 12, 22)),
    (D(2026, 12, 28), D(2026, 12, 24), D(2026, 12, 23), D(2026, 12, 22)),  # substitute
    (D(2026, 12, 29), D(2026, 12, 29), None, None),
    (D(2026, 12, 31), D(2026, 12, 31), D(2026, 12, 30), D(2026, 12, 29)),
    (D(2027, 1, 1), D(2026, 12, 31), D(2026, 12, 30), D(2026, 12, 29)),
    (D(2027, 3, 25), D(2027, 3, 25), D(2027, 3, 24), D(2027, 3, 23)),  # day before Good Friday
    (D(2027, 3, 27), D(2027, 3, 25), D(2027, 3, 24), D(2027, 3, 23)),
    (D(2027, 3, 29), D(2027, 3, 25), D(2027, 3, 24), D(2027, 3, 23)),  # Easter Monday
    (D(2027, 5, 28), D(2027, 5, 28), D(2027, 5, 27), D(2027, 5, 26)),
    (D(2027, 12, 24), D(2027, 12, 24), D(2027, 12, 23), D(2027, 12, 22)),
    (D(2027, 12, 25), D(2027, 12, 24), D(2027, 12, 23), D(2027, 12, 22)),
    (D(2027, 12, 28), D(2027, 12, 24), D(2027, 12, 23), D(2027, 12, 22)),  # substitute
    (D(2027, 12, 29), D(2027, 12, 29), None, None),
    (D(2027, 12, 31), D(2027, 12, 31), D(2027, 12, 30), D(2027, 12, 29)),
    (D(2028, 1, 3), D(2027, 12, 31), D(2027, 12, 30), D(2027, 12, 29)),  # substitute
]


def test_the_table_has_all_31_worked_dates():
    assert len(WORKED) == 31


@pytest.mark.parametrize(("nominal", "statutory", "presumed", "earliest"), WORKED)
def test_an_eligible_adult_is_released_a_working_day_early_and_may_be_given_one_more(
    nominal, statutory, presumed, earliest
):
    day = adult(nominal)
    assert (day.statutory_on, day.expected_on, day.earliest_on) == (statutory, presumed or statutory, earliest)
    assert day.rule is (Rule.FRIDAY_SCHEME if presumed else Rule.NONE if nominal == statutory else Rule.NON_WORKING_DAY)
    assert day.plan_on == (earliest or statutory)
    assert not day.ask_the_prison


@pytest.mark.parametrize(("nominal", "statutory", "presumed", "earliest"), WORKED)
def test_an_excluded_adult_is_released_on_the_statutory_day(nominal, statutory, presumed, earliest):
    day = adult(nominal, release_type=ReleaseType.HDC)
    assert (day.statutory_on, day.expected_on, day.earliest_on) == (statutory, statutory, None)
    unmoved = Rule.NONE if nominal == statutory else Rule.NON_WORKING_DAY
    assert day.rule is (Rule.FRIDAY_SCHEME_EXCLUDED if presumed else unmoved)


@pytest.mark.parametrize(("nominal", "statutory", "presumed", "earliest"), WORKED)
def test_a_child_is_released_two_working_days_early(nominal, statutory, presumed, earliest):
    day = adult(nominal, sentence_kind=SentenceKind.YOUTH)
    assert (day.statutory_on, day.expected_on, day.earliest_on) == (statutory, earliest or statutory, None)
    assert day.plan_on == day.expected_on


# A normal week: Monday 23 to Sunday 29 March 2026 (no bank holidays near).
WEEK = [
    (D(2026, 3, 23), D(2026, 3, 23), D(2026, 3, 23), None, Rule.NONE),  # Monday
    (D(2026, 3, 24), D(2026, 3, 24), D(2026, 3, 24), None, Rule.NONE),  # Tuesday
    (D(2026, 3, 25), D(2026, 3, 25), D(2026, 3, 25), None, Rule.NONE),  # Wednesday
    (D(2026, 3, 26), D(2026, 3, 26), D(2026, 3, 26), None, Rule.NONE),  # Thursday
    (D(2026, 3, 27), D(2026, 3, 27), D(2026, 3, 26), D(2026, 3, 25), Rule.FRIDAY_SCHEME),  # Friday
    (D(2026, 3, 28), D(2026, 3, 27), D(2026, 3, 26), D(2026, 3, 25), Rule.FRIDAY_SCHEME),  # Saturday
    (D(2026, 3, 29), D(2026, 3, 27), D(2026, 3, 26), D(2026, 3, 25), Rule.FRIDAY_SCHEME),  # Sunday
]


@pytest.mark.parametrize(("nominal", "statutory", "expected", "earliest", "rule"), WEEK)
def test_every_day_of_a_normal_week_for_an_eligible_adult(nominal, statutory, expected, earliest, rule):
    day = adult(nominal)
    assert (day.statutory_on, day.expected_on, day.earliest_on, day.rule) == (statutory, expected, earliest, rule)


@pytest.mark.parametrize(("nominal", "statutory", "expected", "earliest", "rule"), WEEK)
def test_every_day_of_a_normal_week_for_an_excluded_adult(nominal, statutory, expected, earliest, rule):
    day = adult(nominal, sentence_kind=SentenceKind.INDETERMINATE)
    excluded_rule = {Rule.FRIDAY_SCHEME: Rule.FRIDAY_SCHEME_EXCLUDED}.get(rule, rule)
    assert (day.statutory_on, day.expected_on, day.earliest_on, day.rule) == (statutory, statutory, None, excluded_rule)


@pytest.mark.parametrize(
    ("nominal", "term_days", "statutory", "rule"),
    [
        (D(2026, 3, 28), 5, D(2026, 3, 28), Rule.SHORT_TERM_SATURDAY),  # Saturday stays
        (D(2026, 3, 29), 3, D(2026, 3, 28), Rule.SHORT_TERM_SATURDAY),  # Sunday → Saturday
        (D(2026, 5, 25), 1, D(2026, 5, 23), Rule.SHORT_TERM_SATURDAY),  # bank holiday Monday → Saturday
        # Good Friday → Thursday (no Saturday before a working day); a short term never has 28 days
        (D(2026, 4, 3), 4, D(2026, 4, 2), Rule.FRIDAY_SCHEME_EXCLUDED),
        (D(2026, 3, 28), 6, D(2026, 3, 27), Rule.FRIDAY_SCHEME_EXCLUDED),  # 6 days: Saturday is excluded again
        (D(2026, 3, 29), 6, D(2026, 3, 27), Rule.FRIDAY_SCHEME_EXCLUDED),
    ],
)
def test_a_term_of_5_days_or_less_may_end_on_a_saturday(nominal, term_days, statutory, rule):
    day = adult(nominal, term_days=term_days, sentenced_on=nominal - dt.timedelta(days=term_days))
    assert (day.statutory_on, day.expected_on, day.earliest_on, day.rule) == (statutory, statutory, None, rule)
    assert ("5 days or less" in day.explanation) == (rule is Rule.SHORT_TERM_SATURDAY)


def test_a_short_term_friday_is_excluded_from_the_scheme_even_without_a_date_of_sentence():
    day = adult(D(2026, 3, 27), term_days=5, sentenced_on=None)
    assert (day.expected_on, day.rule, day.ask_the_prison) == (D(2026, 3, 27), Rule.FRIDAY_SCHEME_EXCLUDED, False)
    assert day.explanation.startswith("With a term of 5 days she cannot serve 28 days since sentence, so she is")


def test_a_longer_term_without_a_date_of_sentence_is_planned_early_and_the_prison_asked():
    day = adult(D(2026, 3, 28), term_days=60, sentenced_on=None)
    assert (day.statutory_on, day.plan_on, day.ask_the_prison) == (D(2026, 3, 27), D(2026, 3, 25), True)


@pytest.mark.parametrize(
    ("sentenced_on", "expected", "earliest", "rule", "ask"),
    [
        (D(2026, 3, 2), D(2026, 3, 27), None, Rule.FRIDAY_SCHEME_EXCLUDED, False),  # 25 days
        (D(2026, 2, 23), D(2026, 3, 26), D(2026, 3, 25), Rule.FRIDAY_SCHEME, False),  # 32 days
        (D(2026, 2, 26), D(2026, 3, 26), D(2026, 3, 25), Rule.FRIDAY_SCHEME, False),  # 28 by the Thursday
        (D(2026, 2, 27), D(2026, 3, 26), D(2026, 3, 25), Rule.FRIDAY_SCHEME, True),  # 28 on the Friday only
        (D(2026, 2, 28), D(2026, 3, 27), None, Rule.FRIDAY_SCHEME_EXCLUDED, False),  # 27 on the Friday
    ],
)
def test_the_28_day_boundary(sentenced_on, expected, earliest, rule, ask):
    day = adult(D(2026, 3, 27), sentenced_on=sentenced_on)
    assert (day.expected_on, day.earliest_on, day.rule, day.ask_the_prison) == (expected, earliest, rule, ask)


def test_at_the_boundary_she_is_planned_for_the_earliest_day_and_the_prison_is_asked():
    day = adult(D(2026, 3, 27), sentenced_on=D(2026, 2, 27))
    assert day.plan_on == D(2026, 3, 25)
    assert day.explanation == (
        "She will have served 28 days since sentence by Friday 27 March 2026 but only 27 by Thursday 26 March 2026: "
        "ask the prison whether the Friday and pre-bank-holiday release scheme applies, and plan for Wednesday "
        "25 March 2026 in case it does (otherwise release is on Friday 27 March 2026)."
    )


def test_recall_counts_the_28_days_from_the_date_of_sentence():
    day = adult(
        D(2026, 3, 27),
        custody_type=CustodyType.RECALLED,
        release_type=ReleaseType.FIXED_TERM_RECALL,
        sentenced_on=D(2025, 11, 3),
    )
    assert (day.expected_on, day.rule) == (D(2026, 3, 26), Rule.FRIDAY_SCHEME)


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({"release_type": ReleaseType.HDC}, "She is being released on home detention curfew"),
        ({"release_type": ReleaseType.PAROLE}, "Her release is directed by the Parole Board"),
        ({"sentence_kind": SentenceKind.INDETERMINATE}, "She is serving an indeterminate sentence"),
        ({"custody_type": CustodyType.REMAND, "sentence_kind": None, "sentenced_on": None}, "She is on remand"),
        ({"custody_type": CustodyType.REMAND, "release_type": ReleaseType.BAIL}, "She is on remand"),
        ({"release_type": ReleaseType.BAIL}, "She is being released on bail"),
        ({"sentenced_on": D(2026, 3, 10)}, "She will have served 17 days since sentence, fewer than 28"),
    ],
)
def test_each_exclusion_keeps_the_statutory_day_and_says_why(facts, reason):
    day = adult(D(2026, 3, 27), **facts)
    assert (day.expected_on, day.earliest_on, day.rule, day.ask_the_prison) == (
        D(2026, 3, 27),
        None,
        Rule.FRIDAY_SCHEME_EXCLUDED,
        False,
    )
    assert day.explanation.startswith(reason)
    assert day.explanation.endswith(
        "so she is excluded from the Friday and pre-bank-holiday release scheme: release on Friday 27 March 2026."
    )


def test_an_exclusion_is_not_mentioned_when_the_day_is_not_a_friday():
    day = adult(D(2026, 3, 24), release_type=ReleaseType.HDC)
    assert (day.rule, day.explanation) == (
        Rule.NONE,
        "Release is on Tuesday 24 March 2026, the date given: no day-of-release rule moves it.",
    )


def test_without_a_date_of_sentence_she_is_planned_for_the_earliest_day_and_the_prison_is_asked():
    day = adult(D(2026, 3, 29), sentenced_on=None)
    assert (day.statutory_on, day.expected_on, day.earliest_on) == (D(2026, 3, 27), D(2026, 3, 26), D(2026, 3, 25))
    assert (day.rule, day.ask_the_prison) == (Rule.FRIDAY_SCHEME, True)
    assert "Her date of sentence is not recorded" in day.explanation
    assert "ask the prison" in day.explanation


def test_without_the_kind_of_sentence_the_prison_is_asked():
    day = adult(D(2026, 3, 27), sentence_kind=None)
    assert (day.expected_on, day.earliest_on, day.ask_the_prison) == (D(2026, 3, 26), D(2026, 3, 25), True)


def test_a_missing_date_of_sentence_does_not_matter_off_a_friday():
    assert not adult(D(2026, 3, 24), sentenced_on=None).ask_the_prison


# The API's examples (API.md, "Release planning"), exactly.


def test_api_example_an_ordinary_friday():
    day = adult(D(2026, 3, 27))
    assert day.as_dict() == {
        "nominal_on": D(2026, 3, 27),
        "statutory_on": D(2026, 3, 27),
        "expected_on": D(2026, 3, 26),
        "earliest_on": D(2026, 3, 25),
        "rule": "friday_scheme",
        "explanation": "Under the Friday and pre-bank-holiday release scheme she is released one working day early, "
        "on Thursday 26 March 2026; her probation practitioner may ask for one more day, Wednesday 25 March 2026.",
        "ask_the_prison": False,
    }


def test_api_example_easter_monday():
    day = adult(D(2026, 4, 6))
    assert (day.statutory_on, day.expected_on, day.earliest_on) == (D(2026, 4, 2), D(2026, 4, 1), D(2026, 3, 31))
    assert day.explanation.startswith(
        "Release cannot be on a weekend or bank holiday, so Monday 6 April 2026 moves to the working day before, "
        "Thursday 2 April 2026. Under the Friday and pre-bank-holiday release scheme"
    )


def test_api_example_christmas_day():
    day = adult(D(2026, 12, 25))
    assert (day.statutory_on, day.expected_on, day.earliest_on) == (D(2026, 12, 24), D(2026, 12, 23), D(2026, 12, 22))


def test_api_example_an_unchanged_tuesday():
    day = adult(D(2026, 12, 29))
    assert (day.statutory_on, day.expected_on, day.earliest_on, day.rule) == (
        D(2026, 12, 29),
        D(2026, 12, 29),
        None,
        Rule.NONE,
    )


def test_api_example_sentenced_25_days_before_the_friday():
    day = adult(D(2026, 3, 27), sentenced_on=D(2026, 3, 2))
    assert (day.statutory_on, day.expected_on, day.earliest_on, day.rule) == (
        D(2026, 3, 27),
        D(2026, 3, 27),
        None,
        Rule.FRIDAY_SCHEME_EXCLUDED,
    )
    assert day.explanation == (
        "She will have served 25 days since sentence, fewer than 28, so she is excluded from the Friday and "
        "pre-bank-holiday release scheme: release on Friday 27 March 2026."
    )


def test_window_text_for_a_friday_and_for_an_unchanged_tuesday():
    assert adult(D(2026, 3, 27)).window_text == (
        "between Wednesday 25 and Friday 27 March 2026; plan for Wednesday 25 March"
    )
    assert adult(D(2026, 3, 24)).window_text == "on Tuesday 24 March 2026"
    assert adult(D(2026, 4, 6)).window_text == (
        "between Tuesday 31 March and Thursday 2 April 2026; plan for Tuesday 31 March"
    )
    assert adult(D(2026, 3, 27), release_type=ReleaseType.PAROLE).window_text == "on Friday 27 March 2026"


def test_impossible_facts_are_refused():
    with pytest.raises(ValueError, match="term_days"):
        adult(D(2026, 3, 27), term_days=0)
    with pytest.raises(ValueError, match="sentenced_on"):
        adult(D(2026, 3, 27), sentenced_on=D(2026, 3, 28))


def test_every_value_has_a_plain_english_label():
    assert ReleaseType.HDC.label == "Home detention curfew"
    assert ReleaseType.FIXED_TERM_RECALL.label == "Fixed-term recall"
    for enum_cls in (CustodyType, SentenceKind, ReleaseType, Rule):
        assert all(member.label and "_" not in member.label for member in enum_cls)


@settings(max_examples=400, deadline=None)
@given(
    nominal=st.dates(min_value=D(2026, 1, 1), max_value=D(2028, 12, 31)),
    custody_type=st.sampled_from(CustodyType),
    release_type=st.sampled_from(ReleaseType),
    sentence_kind=st.none() | st.sampled_from(SentenceKind),
    served=st.none() | st.integers(min_value=0, max_value=400),
    term_days=st.none() | st.integers(min_value=1, max_value=3650),
)
def test_release_is_never_planned_later_than_the_law_allows(
    nominal, custody_type, release_type, sentence_kind, served, term_days
):
    sentenced_on = None if served is None else nominal - dt.timedelta(days=served)
    day = release_day(
        nominal,
        custody_type=custody_type,
        release_type=release_type,
        sentence_kind=sentence_kind,
        sentenced_on=sentenced_on,
        term_days=term_days,
    )
    assert day.plan_on <= day.expected_on <= day.statutory_on <= day.nominal_on
    assert day.statutory_on > day.nominal_on - dt.timedelta(days=10)  # never more than a long weekend back
    if term_days is not None and term_days <= 5:
        assert day.statutory_on.weekday() != 6
    else:
        assert is_working_day(day.statutory_on)
    for moved in {day.expected_on, day.plan_on} - {day.statutory_on}:
        assert is_working_day(moved) and is_working_day(moved + dt.timedelta(days=1))
    assert (day.expected_on < day.statutory_on) == (day.rule is Rule.FRIDAY_SCHEME)
    assert day.explanation and set(day.as_dict()) == {
        "nominal_on",
        "statutory_on",
        "expected_on",
        "earliest_on",
        "rule",
        "explanation",
        "ask_the_prison",
    }
