"""Backups proven to restore (PostgreSQL): `hub backup` writes a dump and its manifest from one snapshot;
`hub restore-drill` restores it into a fresh database and passes only when the restore is identical (schema
version, every table's rows and their checksum, the audit trail's head). A row changed in the backup, a row
missing, or another schema version fails it, naming what differs. The drill is recorded; the administrators
are reminded once a week when none has passed for HUB_RESTORE_DRILL_DAYS."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask

from hub import backups
from hub.app import create_app
from hub.audit import AuditEvent, seal
from hub.db import db
from hub.permissions import Role
from tests.conftest import _drop_database, _recreate_database, make_settings, own_database_url
from tests.helpers import make_agency, make_user


@pytest.fixture
def source() -> Iterator[tuple[Flask, str]]:
    """A hub with data of its own (real commits): agencies, an account, sealed audit entries."""
    url = own_database_url(f"backup_{os.getpid()}")
    _recreate_database(url)
    app = create_app(make_settings(database_url=url))
    with app.app_context():
        flask_migrate.upgrade()
        make_agency(name="Riverside Housing Options", slug="riverside")
        make_user(Role.ADMIN, name="Ada Admin")
        from hub import audit
        from hub.permissions import SYSTEM

        for n in range(5):
            audit.record(SYSTEM, "test.entry", object_type="test", object_id=n)
        db.session.commit()
        seal()
        db.session.commit()
    yield app, url.replace("postgresql://", "postgresql+psycopg://")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    _drop_database(url)


def _cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["hub", *args])


def _redump(url: str, dump: Path, change: str) -> None:
    """Restore the dump aside, change it with ``change`` (SQL), and dump it again in its place (the
    manifest stays as it was): a backup that no longer holds what was backed up."""
    server = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    aside = f"{server}/hub_test_backup_aside_{os.getpid()}"
    _recreate_database(aside)
    try:
        subprocess.run(["pg_restore", "--no-owner", "-d", aside, str(dump)], check=True, capture_output=True)  # noqa: S603, S607
        with psycopg.connect(aside, autocommit=True) as conn:
            conn.execute(change)
        subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), aside], check=True, capture_output=True)  # noqa: S603, S607
    finally:
        _drop_database(aside)


def test_a_backup_restores_identically_and_the_drill_is_recorded(source: tuple[Flask, str], tmp_path: Path) -> None:
    app, _url = source
    dump = tmp_path / "hub.dump"
    made = _cli(app, "backup", "--to", str(dump))
    assert made.exit_code == 0, made.output
    assert dump.is_file() and Path(str(dump) + ".manifest.json").is_file()
    assert oct(dump.stat().st_mode & 0o777) == "0o600"
    manifest = backups.Manifest.read(Path(str(dump) + ".manifest.json"))
    assert manifest.tables["agencies"]["rows"] == 2 and manifest.audit_head["seq"] >= 5
    assert manifest.schema_version
    drill = _cli(app, "restore-drill", "--from", str(dump))
    assert drill.exit_code == 0, drill.output
    assert "Restore drill PASSED" in drill.output and "identical" in drill.output
    with app.app_context():
        recorded = db.session.scalars(sa.select(backups.RestoreDrill)).all()
        assert [(d.passed, d.differences) for d in recorded] == [(True, [])]
        actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("backup.%"))).all()
        assert sorted(actions) == ["backup.made", "backup.restore_drill"]
        leftover = db.session.scalar(
            sa.text("SELECT count(*) FROM pg_database WHERE datname LIKE 'hub_restore_drill_%'")
        )
        assert leftover == 0  # the drill's database is dropped


@pytest.mark.parametrize(("change", "said"), [
    ("UPDATE agencies SET name = 'Riverside Housing (changed)' WHERE slug = 'riverside'",
     "table agencies: the same 2 rows but their contents differ"),
    ("DELETE FROM oauth_clients; DELETE FROM users", "table users: 0 rows, expected 1"),
    ("UPDATE alembic_version SET version_num = 'somethingelse'", "schema version somethingelse, expected"),
    ("ALTER TABLE audit_events DISABLE TRIGGER USER; "
     "UPDATE audit_events SET hash = repeat('0', 64) WHERE seq = (SELECT max(seq) FROM audit_events)",
     "audit trail head"),
])  # fmt: skip
def test_the_drill_fails_naming_what_differs(source: tuple[Flask, str], tmp_path: Path, change: str, said: str) -> None:
    app, url = source
    dump = tmp_path / "hub.dump"
    assert _cli(app, "backup", "--to", str(dump)).exit_code == 0
    _redump(url, dump, change)
    drill = _cli(app, "restore-drill", "--from", str(dump))
    assert drill.exit_code == 1 and "Restore drill FAILED" in drill.output
    assert said in drill.output, drill.output
    with app.app_context():
        recorded = db.session.scalars(sa.select(backups.RestoreDrill)).one()
        assert recorded.passed is False and any(said in d for d in recorded.differences)


def test_no_backup_there_is_a_clear_error(source: tuple[Flask, str], tmp_path: Path) -> None:
    app, _ = source
    drill = _cli(app, "restore-drill", "--from", str(tmp_path / "none.dump"))
    assert drill.exit_code != 0 and "No backup at" in drill.output


def test_on_sqlite_the_commands_say_what_to_do_instead(tmp_path: Path) -> None:
    app = create_app(make_settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}"))
    with app.app_context():
        flask_migrate.upgrade()
    made = _cli(app, "backup", "--to", str(tmp_path / "x.dump"))
    assert made.exit_code != 0 and "need PostgreSQL" in made.output
    with app.app_context():
        db.engine.dispose()


pytestmark = pytest.mark.own_database
