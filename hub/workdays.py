"""Working days in England and Wales (Europe/London time).

A working day is Monday to Friday, except England and Wales bank holidays
(from the ``holidays`` package, which ships its data: nothing is fetched).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=[year]).keys())


def is_bank_holiday(day: dt.date) -> bool:
    """An England and Wales bank holiday, whatever day of the week it falls on (Christmas Day on a
    Saturday is one, as is its substitute Monday or Tuesday)."""
    return day in _bank_holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_day_on_or_before(day: dt.date) -> dt.date:
    """A release due on a weekend or bank holiday happens on the working day before."""
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        count += is_working_day(day)
    return count
