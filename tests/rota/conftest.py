"""Fixtures most rota tests share: a Monday morning, frozen, and the rota world built and committed (tests
that need another day or world define their own)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from hub.db import db
from tests.rota.world import RotaWorld, build

MONDAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock: Any) -> RotaWorld:
    made = build()
    db.session.commit()
    return made
