"""Two agencies take the last open slot at the same moment, over real HTTP with real commits: exactly one
succeeds, everyone else gets 409, and the slot's history holds one taking.

As in ``tests/referrals/test_concurrency.py``, the server gets a database of its own (the rollback-per-test
fixture cannot see across threads), built by the migrations and served with werkzeug in a thread."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask

from agencies import services as agency_services
from agencies.models import AgencyKind
from hub.app import create_app
from hub.auth import services as auth_services
from hub.db import db
from hub.permissions import SYSTEM, Role
from rota import services
from rota.models import RotaSlot, RotaSlotEvent, Service, SlotStatus
from tests.conftest import _drop_database, _recreate_database, make_settings, own_database_url
from tests.helpers import serving
from tests.referrals.test_concurrency import _client, _race, _request, _token

pytestmark = pytest.mark.own_database

PER_AGENCY = 6  # each agency's system sends this many requests for the slot at once
ROUNDS = 3  # three slots raced, one after another


@dataclass(frozen=True)
class Live:
    url: str
    app: Flask
    slot_ids: list[int]
    agencies: dict[str, int]
    systems: dict[str, tuple[str, str]]


def _seed() -> tuple[list[int], dict[str, int], dict[str, tuple[str, str]]]:
    host = agency_services.create_agency(SYSTEM, {"name": "Test Women's Centre", "kind": AgencyKind.HOST})
    manager, _ = auth_services.create_user(SYSTEM, email="mo@example.org", name="Mo", agency_id=host.id,
                                           role=Role.MANAGER)  # fmt: skip
    agencies, systems = {}, {}
    for slug, name in (("east", "East Housing Advice"), ("west", "West Housing Options")):
        agency = agency_services.create_agency(SYSTEM, {"name": name, "kind": AgencyKind.HOUSING})
        agencies[slug] = agency.id
        systems[slug] = _client(agency.id, "rota:read rota:write", slug)
    services.save_series(manager, None, {
        "name": "Wonder Women Wednesdays", "weekday": 2, "starts_at": dt.time(10), "ends_at": dt.time(14),
        "venue": "1 Sample Street", "weeks_ahead": ROUNDS + 1, "wanted_services": ["housing"],
    })  # fmt: skip
    db.session.commit()
    slots = db.session.scalars(sa.select(RotaSlot.id).where(RotaSlot.service == Service.HOUSING)
                               .order_by(RotaSlot.id).limit(ROUNDS)).all()  # fmt: skip
    assert len(slots) == ROUNDS
    return list(slots), agencies, systems


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    url = own_database_url(f"rota_race_{os.getpid()}")
    _recreate_database(url)
    hub = create_app(make_settings(database_url=url))
    try:
        with hub.app_context():
            flask_migrate.upgrade()
            slot_ids, agencies, systems = _seed()
        with serving(hub) as base_url:
            yield Live(base_url, hub, slot_ids, agencies, systems)
    finally:
        with hub.app_context():
            db.engine.dispose()
        _drop_database(url)


def test_two_agencies_taking_the_last_slot_at_once_exactly_one_gets_it(live: Live) -> None:
    headers = {slug: _token(live, credentials) for slug, credentials in live.systems.items()}
    for slot_id in live.slot_ids:
        url = f"{live.url}/api/v1/rota/slots/{slot_id}/take"
        callers = [slug for slug in live.agencies for _ in range(PER_AGENCY)]
        calls = iter(callers)

        def take(calls: Iterator[str] = calls, url: str = url) -> tuple[int, object, dict[str, str]]:
            slug = next(calls)  # each thread is the next caller (next() on a list iterator holds the GIL)
            return _request(url, "POST", body={"agency_id": live.agencies[slug]}, headers=headers[slug])

        results = _race(len(callers), take)
        statuses = sorted(status for status, _out, _h in results)
        assert statuses.count(200) == 1, statuses
        assert statuses.count(409) == len(callers) - 1, statuses
        winner = next(out for status, out, _h in results if status == 200)
        for status, out, _h in results:
            if status == 409:
                assert out["status"] == 409 and out["detail"], out
        with live.app.app_context():
            slot = db.session.get_one(RotaSlot, slot_id)
            assert slot.status is SlotStatus.TAKEN and slot.agency_id == winner["agency_id"]
            events = db.session.scalars(sa.select(RotaSlotEvent.kind).where(RotaSlotEvent.slot_id == slot_id)).all()
            assert events == ["taken"], events
            db.session.remove()
