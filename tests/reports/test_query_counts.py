"""The reports cost the same number of SQL statements whatever the size of the data: every provider counts
in a fixed number of set-based statements, the women are counted once in one union, and the agencies'
names come in one query. One world of records against five (five times the agencies, women and
everything they did)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from hub.db import db
from hub.permissions import Role
from tests.conftest import count_queries
from tests.helpers import bearer, make_client, make_user, sign_in
from tests.reports import world as w

PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}


def _counts(app: Any, client: FlaskClient, headers: dict[str, str]) -> dict[str, int]:
    fetch: dict[str, Callable[[], Any]] = {
        "page (outside)": lambda: client.get("/reports/", query_string=PERIOD),
        "page (exact)": lambda: client.get("/reports/", query_string={**PERIOD, "audience": "internal"}),
        "partnership page": lambda: client.get("/reports/partnership", query_string=PERIOD),
        "csv": lambda: client.get("/reports/export", query_string={**PERIOD, "report": "indicators", "format": "csv"}),
        "api indicators": lambda: client.get("/api/v1/reports/indicators", query_string=PERIOD, headers=headers),
        "api partnership": lambda: client.get("/api/v1/reports/partnership", query_string=PERIOD, headers=headers),
    }  # fmt: skip
    found = {}
    for name, get in fetch.items():
        assert get().status_code == 200, name  # warm what a first request caches
        with count_queries(app) as statements:
            assert get().status_code == 200, name
        found[name] = len(statements)
    return found


def test_the_reports_cost_the_same_for_one_world_as_for_five(app: Any, client: FlaskClient) -> None:
    manager = make_user(Role.MANAGER)
    system, secret = make_client(w.build().host, "reports:read")
    db.session.commit()
    sign_in(client, manager)
    headers = bearer(client, system, secret)
    small = _counts(app, client, headers)
    for _ in range(4):
        w.build()
    db.session.commit()
    large = _counts(app, client, headers)
    print(f"statements: {small}")  # noqa: T201 - the figure the README quotes (pytest -s)
    assert small == large, (small, large)
    assert small["api indicators"] <= 20, small
