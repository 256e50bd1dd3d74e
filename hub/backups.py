"""Backups that are proven to restore: a dump with a manifest of what it holds, and a restore drill.

- :func:`make_backup` writes a PostgreSQL custom-format dump (``pg_dump -Fc``) and, beside it,
  ``<file>.manifest.json``: the schema version, each table's row count and a checksum of its rows, and
  the audit trail's head (its last sealed entry and that entry's hash), all read in the very snapshot
  the dump is taken from (``pg_export_snapshot``), so the manifest is exactly what the dump holds.
- :func:`restore_drill` restores a dump into a fresh database of its own on the same server, reads
  the same manifest from it, compares, names every difference, drops the database (unless asked to
  keep it) and records the drill (:class:`RestoreDrill`, and the audit trail). A changed row, a
  missing row, a missing table or another schema version each fail it.
- The job ``hub.restore-drill-reminder`` tells the administrators, once a week, when no drill has
  passed for ``HUB_RESTORE_DRILL_DAYS`` (default 30).

A table's checksum is order-free: the sum over its rows of the first 60 bits of the MD5 of the row's
text, so it is computed in one pass of the table whatever its size.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapped, mapped_column

from hub import audit
from hub.db import Model, db, utcnow
from hub.permissions import SYSTEM, Invalid

MANIFEST_SUFFIX = ".manifest.json"
# How each row is written as text for its checksum: the same whatever the server's or the session's defaults.
TEXT_SETTINGS = ("SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'postgres'",
                 "SET extra_float_digits = 1", "SET bytea_output = 'hex'")  # fmt: skip


class RestoreDrill(Model):
    """One restore drill: which backup, when, whether the restore was identical, and what differed."""

    __tablename__ = "restore_drills"

    id: Mapped[int] = mapped_column(primary_key=True)
    ran_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    backup: Mapped[str] = mapped_column(sa.String(500))
    backup_made_at: Mapped[dt.datetime | None]
    passed: Mapped[bool]
    differences: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    seconds: Mapped[float] = mapped_column(default=0.0)


@dataclass
class Manifest:
    made_at: str
    schema_version: str
    tables: dict[str, dict[str, int]]  # name -> {"rows": n, "checksum": c}
    audit_head: dict[str, Any] = field(default_factory=dict)  # {"seq": n, "hash": h} or {}

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1, sort_keys=True), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["made_at"], data["schema_version"], data["tables"], data.get("audit_head") or {})


def differences(expected: Manifest, found: Manifest) -> list[str]:
    """Every way the restored database differs from what the backup held, in words."""
    said = []
    if expected.schema_version != found.schema_version:
        said.append(f"schema version {found.schema_version or 'none'}, expected {expected.schema_version}")
    for name in sorted(set(expected.tables) | set(found.tables)):
        want, got = expected.tables.get(name), found.tables.get(name)
        if got is None:
            said.append(f"table {name} is missing")
        elif want is None:
            said.append(f"table {name} was not in the backup")
        elif want["rows"] != got["rows"]:
            said.append(f"table {name}: {got['rows']:,} rows, expected {want['rows']:,}")
        elif want["checksum"] != got["checksum"]:
            said.append(f"table {name}: the same {got['rows']:,} rows but their contents differ")
    if expected.audit_head != found.audit_head:
        said.append(f"audit trail head {found.audit_head or 'none'}, expected {expected.audit_head or 'none'}")
    return said


def _pg_url(url: str) -> str:
    """A libpq address for psycopg and the pg_ tools (no SQLAlchemy driver name)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise Invalid("Backups and restore drills need PostgreSQL (on SQLite, copy the file while the hub is stopped).")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def read_manifest(conn: psycopg.Connection[Any]) -> Manifest:
    """The manifest of the database ``conn`` is on, in its current transaction's snapshot."""
    for setting in TEXT_SETTINGS:
        conn.execute(setting)
    tables = [r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").fetchall()]  # fmt: skip
    found: dict[str, dict[str, int]] = {}
    for name in tables:
        row = conn.execute(
            f"SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0) "  # noqa: S608
            f'FROM "{name}" t'
        ).fetchone()
        assert row is not None
        found[name] = {"rows": int(row[0]), "checksum": int(row[1]) % (1 << 62)}
    version = ""
    if "alembic_version" in tables:
        got = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        version = got[0] if got else ""
    head: dict[str, Any] = {}
    if "audit_events" in tables:
        got = conn.execute("SELECT seq, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
                           ).fetchone()  # fmt: skip
        head = {"seq": int(got[0]), "hash": got[1]} if got else {}
    return Manifest(utcnow().isoformat(timespec="seconds"), version, found, head)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise Invalid(f"{name} is not installed (apt-get install postgresql-client).")
    return found


def make_backup(database_url: str, to: Path) -> Manifest:
    """A custom-format dump at ``to`` and its manifest beside it, from one snapshot."""
    url = _pg_url(database_url)
    to.parent.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]  # type: ignore[index]
        manifest = read_manifest(conn)
        command = [_tool("pg_dump"), "-Fc", "--no-owner", f"--snapshot={snapshot}", "-f", str(to), url]
        subprocess.run(command, check=True, capture_output=True, timeout=6 * 3600)  # noqa: S603 - no shell
        conn.rollback()
    os.chmod(to, 0o600)  # it holds special-category data: the operator's eyes only
    manifest.write(Path(str(to) + MANIFEST_SUFFIX))
    return manifest


@dataclass
class DrillResult:
    passed: bool
    differences: list[str]
    database: str
    seconds: float
    expected: Manifest
    found: Manifest | None


def restore_drill(database_url: str, backup: Path, keep: bool = False) -> DrillResult:
    """Restore ``backup`` into a fresh database on the server of ``database_url`` and compare it with
    the backup's manifest. The hub's own database is only read (and gets the drill's record)."""
    started = utcnow()
    manifest_path = Path(str(backup) + MANIFEST_SUFFIX)
    if not backup.is_file() or not manifest_path.is_file():
        raise Invalid(f"No backup at {backup} with its manifest ({manifest_path.name}).")
    expected = Manifest.read(manifest_path)
    url = make_url(_pg_url(database_url))
    name = f"hub_restore_drill_{started:%Y%m%d%H%M%S}_{secrets.token_hex(3)}"
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    target = url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    found: Manifest | None = None
    try:
        command = [_tool("pg_restore"), "--no-owner", "--exit-on-error", "-d", target, str(backup)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=6 * 3600)  # noqa: S603 - no shell
        if done.returncode != 0:
            said = [f"pg_restore failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"]
        else:
            with psycopg.connect(target) as conn:
                found = read_manifest(conn)
            said = differences(expected, found)
    finally:
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    seconds = (utcnow() - started).total_seconds()
    return DrillResult(not said, said, name, seconds, expected, found)


def record_drill(backup: Path, result: DrillResult) -> RestoreDrill:
    """The drill's record in the hub's own database, and in its audit trail (no data, only the verdict)."""
    made = dt.datetime.fromisoformat(result.expected.made_at) if result.expected.made_at else None
    drill = RestoreDrill(backup=str(backup)[:500], backup_made_at=made, passed=result.passed,
                         differences=result.differences[:50], seconds=round(result.seconds, 1))  # fmt: skip
    db.session.add(drill)
    db.session.flush()
    audit.record(SYSTEM, "backup.restore_drill", drill, passed=result.passed, differences=len(result.differences))
    return drill


def last_passed() -> RestoreDrill | None:
    return db.session.scalar(
        sa.select(RestoreDrill).where(RestoreDrill.passed.is_(True)).order_by(RestoreDrill.ran_at.desc()).limit(1)
    )
