"""The reports' migration on a hub with history, on SQLite and on PostgreSQL: plan items made before know
the catalogue need their title names, and referrals acknowledged or decided before get the working days
they took (London days: sent on Saturday 10 January, acknowledged on Monday 12th, accepted Thursday 15th)."""

from __future__ import annotations

from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from hub.app import create_app
from tests.conftest import _drop_database, _recreate_database, make_settings, own_database_url

BEFORE = "dd7df07c09d7"
pytestmark = pytest.mark.own_database


def _history(connection: sa.Connection) -> None:
    now = "2026-01-01 00:00:00+00"
    connection.execute(sa.text(
        "insert into agencies (id, slug, name, kind, services, how_to_refer, address, phone, email, website,"
        " has_agreement, agreement_summary, created_at, updated_at, public_id) values"
        " (1, 'p', 'Probation', 'probation', '', '', '', '', '', '', false, '', :now, :now,"
        " '00000000-0000-4000-8000-000000000001')"), {"now": now})  # fmt: skip
    connection.execute(sa.text("insert into service_users (id, reference, given_name, family_name, created_at)"
                               " values (1, 'W-1', 'Ada', 'Example', :now)"), {"now": now})  # fmt: skip
    for rid, status, sent, acked, decided in (
        (1, "accepted", "2026-01-10 10:00:00+00", "2026-01-12 10:00:00+00", "2026-01-15 10:00:00+00"),
        (2, "acknowledged", "2026-06-30 23:30:00+00", "2026-07-01 09:00:00+00", None),  # the same London day
        (3, "sent", "2026-03-02 10:00:00+00", None, None),
    ):
        connection.execute(sa.text(
            "insert into referrals (id, reference, service_user_id, agency_id, data_categories, reason, urgency,"
            " purpose, status, sent_at, acknowledged_at, decided_at, basis_lost, outcome, created_at, updated_at)"
            " values (:id, :ref, 1, 1, '[]', 'x', 'routine', 'referral', :status, :sent, :acked, :decided, false,"
            " '', :now, :now)"), {"id": rid, "ref": f"R-{rid}", "status": status, "sent": sent, "acked": acked,
                                 "decided": decided, "now": now})  # fmt: skip
    connection.execute(sa.text(
        "insert into custody_episodes (id, reference, service_user_id, prison_agency_id, custody_type, release_type,"
        " nominal_release_on, date_told_by, status, statutory_on, expected_on, plan_on, rule, ask_the_prison, cycle,"
        " created_at, updated_at) values (1, 'C-1', 1, 1, 'sentenced', 'automatic', '2026-09-01', '', 'in_custody',"
        " '2026-09-01', '2026-09-01', '2026-09-01', 'none', false, 1, :now, :now)"), {"now": now})  # fmt: skip
    for iid, title in ((1, "Apply for ID"), (2, "meet her at the gate or the station"), (3, "Something else")):
        connection.execute(sa.text(
            "insert into release_plan_items (id, custody_id, pathway, title, status, responsible, created_at,"
            " updated_at) values (:id, 1, 'finance_and_id', :title, 'not_started', 'charity', :now, :now)"),
            {"id": iid, "title": title, "now": now})  # fmt: skip


def _check(url: str) -> None:
    app = create_app(make_settings(database_url=url))
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(sa.text("PRAGMA foreign_keys=OFF"))
        _history(connection)
    with app.app_context():
        flask_migrate.upgrade()
    with engine.connect() as connection:
        days = connection.execute(sa.text("select id, acknowledge_working_days, decide_working_days from referrals"
                                          " order by id")).all()  # fmt: skip
        needs = connection.execute(sa.text("select need from release_plan_items order by id")).scalars().all()
    engine.dispose()
    with app.app_context():
        from hub.db import db

        db.engine.dispose()
    assert [tuple(row) for row in days] == [(1, 1, 3), (2, 0, None), (3, None, None)]
    assert needs == ["id", "meet", None]


def test_on_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'hub.db'}")


def test_on_postgresql() -> None:
    url = own_database_url("reports_migration")
    _recreate_database(url)
    try:
        _check(url.replace("postgresql://", "postgresql+psycopg://"))
    finally:
        _drop_database(url)
