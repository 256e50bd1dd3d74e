import datetime as dt

import pytest

from hub.workdays import add_working_days, is_working_day, working_day_on_or_before, working_days_between

D = dt.date


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2026, 11, 23), 2, D(2026, 11, 25)),  # Monday + 2 = Wednesday
        (D(2026, 11, 27), 1, D(2026, 11, 30)),  # Friday + 1 = Monday
        (D(2026, 12, 24), 1, D(2026, 12, 29)),  # Christmas Eve + 1: skips 25th, weekend, Boxing Day (observed 28th)
        (D(2026, 4, 2), 2, D(2026, 4, 8)),  # Thursday before Easter: skips Good Friday and Easter Monday
        (D(2026, 8, 28), 1, D(2026, 9, 1)),  # Friday before the late summer bank holiday
        (D(2026, 11, 28), 0, D(2026, 11, 28)),
    ],
)
def test_add_working_days(start, days, expected):
    assert add_working_days(start, days) == expected


def test_weekends_and_bank_holidays_are_not_working_days():
    assert not is_working_day(D(2026, 12, 25))
    assert not is_working_day(D(2026, 12, 28))  # Boxing Day observed
    assert not is_working_day(D(2026, 11, 28))  # Saturday
    assert is_working_day(D(2026, 11, 27))


def test_release_on_a_bank_holiday_weekend_happens_the_working_day_before():
    assert working_day_on_or_before(D(2026, 4, 6)) == D(2026, 4, 2)  # Easter Monday -> Maundy Thursday
    assert working_day_on_or_before(D(2026, 11, 29)) == D(2026, 11, 27)


def test_working_days_between():
    assert working_days_between(D(2026, 12, 24), D(2026, 12, 31)) == 3  # 29, 30, 31
    assert working_days_between(D(2026, 12, 31), D(2026, 12, 24)) == 0
