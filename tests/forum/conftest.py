"""Fixtures most forum tests share: Monday 7 December 2026, 09:00, frozen (the forum meets the next
morning), and the forum world built and committed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from hub.db import db
from tests.forum.world import ForumWorld, build

MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
MEETING_MORNING = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock: Any) -> ForumWorld:
    made = build()
    db.session.commit()
    return made
