"""When a forum meets: the n-th (or last) weekday of each month, at a time in London."""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> dt.date:
    """The ``nth`` (1..4; 5: the last) ``weekday`` (0 Monday) of a month."""
    days = [d for d in calendar.Calendar().itermonthdates(year, month) if d.month == month and d.weekday() == weekday]
    return days[-1] if nth >= 5 else days[nth - 1]


def next_meeting_day(after: dt.date, weekday: int, nth: int) -> dt.date:
    """The first meeting day of the pattern strictly after ``after``."""
    year, month = after.year, after.month
    for _ in range(3):
        day = nth_weekday(year, month, weekday, nth)
        if day > after:
            return day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("a pattern always falls within three months")  # pragma: no cover


def at_london(day: dt.date, time: dt.time) -> dt.datetime:
    """That London wall-clock moment, in UTC."""
    return dt.datetime.combine(day, time, tzinfo=LONDON).astimezone(dt.UTC)
