"""Operator commands: ``hub ...`` (the console script), or ``flask --app wsgi hub ...``.

Domain packages attach their own commands to :data:`hub_cli` in their
``init_app`` (``hub init``, ``hub create-user`` ... live in ``agencies``,
which owns the agencies those commands name). Each command is one unit of
work: it commits once at the end, or not at all.

The ``hub`` script (:func:`main`, installed by ``pip install .`` and by
bin/setup) creates the app itself and offers these commands at its top
level, next to Flask's own (``hub db upgrade``, ``hub routes``, ``hub shell``).
"""

from __future__ import annotations

import re
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup, FlaskGroup

from hub.audit import Origin, WitnessedHead, set_origin, verify_chain
from hub.permissions import HubError

hub_cli = AppGroup("hub", help="Partnership Hub operator commands.")
audit_cli = AppGroup("audit", help="The tamper-evident audit log.")
hub_cli.add_command(audit_cli)


_HEAD_RE = re.compile(r"^([1-9][0-9]{0,18}):([0-9a-f]{64})$")


def _witnessed_head(_ctx: click.Context, _param: click.Parameter, value: str | None) -> WitnessedHead | None:
    if value is None:
        return None
    match = _HEAD_RE.match(value.strip().lower())
    if match is None:
        raise click.BadParameter("give SEQ:HASH as printed by an earlier verify, e.g. 614:3f9a…(64 hex digits)")
    return WitnessedHead(int(match.group(1)), match.group(2))


@audit_cli.command("verify")
@click.option(
    "--expect-head",
    metavar="SEQ:HASH",
    callback=_witnessed_head,
    help="The newest entry an earlier verify printed (kept off this server): "
    "fail if it was deleted or rewritten since.",
)
def audit_verify(expect_head: WitnessedHead | None) -> None:
    """Check every entry's hash and link; name the first that does not fit.

    Prints the newest entry's number and hash: record it somewhere this
    server cannot write (a ticket, an email to the trustees) and pass it back
    with ``--expect-head`` next time, so deleting the newest entries or
    rewriting the chain from some entry on is caught too.
    """
    set_origin(Origin("cli"))
    from hub.audit import seal
    from hub.db import unit_of_work

    while True:  # link what was written since the last seal first, in short transactions
        with unit_of_work():
            if not seal():
                break
    report = verify_chain(expected_head=expect_head)
    if report.ok:
        head = f"newest entry {report.head_seq} sha256 {report.head_hash}" if report.head_seq else "the log is empty"
        message = f"Audit chain intact: {report.checked} entries checked; {head}"
        if expect_head is not None:
            message += f"; {report.head_seq - expect_head.seq} entries added since entry {expect_head.seq}"
        click.echo(message + ".")
        return
    click.echo(
        f"Audit chain BROKEN at entry {report.broken_seq}: {report.reason} "
        f"({report.checked} entries before it are intact).",
        err=True,
    )
    sys.exit(1)


@hub_cli.command("backup")
@click.option(
    "--to",
    "to",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The dump file to write (its manifest goes beside it, <file>.manifest.json).",
)
def backup(to: Path) -> None:
    """Dump the database (pg_dump, custom format) with a manifest of what the dump holds, from one snapshot."""
    from flask import current_app

    from hub import backups
    from hub.db import unit_of_work

    set_origin(Origin("cli"))
    try:
        manifest = backups.make_backup(current_app.config["SQLALCHEMY_DATABASE_URI"], to)
    except HubError as exc:
        raise click.ClickException(exc.detail) from None
    with unit_of_work():
        from hub.audit import record
        from hub.permissions import SYSTEM

        record(SYSTEM, "backup.made", object_type="backup", tables=len(manifest.tables),
               audit_head_seq=manifest.audit_head.get("seq"))  # fmt: skip
    rows = sum(t["rows"] for t in manifest.tables.values())
    click.echo(f"Backup written to {to}: {len(manifest.tables)} tables, {rows:,} rows, schema "
               f"{manifest.schema_version}, audit head {manifest.audit_head.get('seq', 'none')}.")  # fmt: skip


@hub_cli.command("restore-drill")
@click.option(
    "--from",
    "backup_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A dump written by `hub backup` (with its manifest beside it).",
)
@click.option("--keep", is_flag=True, help="Keep the restored database (its name is printed) to look at it.")
def restore_drill(backup_file: Path, keep: bool) -> None:
    """Restore a backup into a fresh database and check it is identical to what was backed up: the schema
    version, every table's rows and their checksum, and the audit trail's head. Exits 1, naming each
    difference, if it is not. The drill is recorded (and the reminder to run one is reset)."""
    from flask import current_app

    from hub import backups
    from hub.db import unit_of_work

    set_origin(Origin("cli"))
    try:
        result = backups.restore_drill(current_app.config["SQLALCHEMY_DATABASE_URI"], backup_file, keep=keep)
    except HubError as exc:
        raise click.ClickException(exc.detail) from None
    with unit_of_work():
        backups.record_drill(backup_file, result)
    where = f" (kept as database {result.database})" if keep else ""
    if result.passed:
        tables = len(result.expected.tables)
        click.echo(f"Restore drill PASSED in {result.seconds:.1f} s: the restore is identical to the backup "
                   f"({tables} tables, schema {result.expected.schema_version}, audit head "
                   f"{result.expected.audit_head.get('seq', 'none')}){where}.")  # fmt: skip
        return
    click.echo(f"Restore drill FAILED: the restore differs from the backup{where}:", err=True)
    for line in result.differences:
        click.echo(f"  - {line}", err=True)
    sys.exit(1)


@hub_cli.command("scheduler")
@click.option("--once", "once", metavar="JOB_ID", help="Run one job now and exit.")
@click.option("--list", "list_jobs", is_flag=True, help="List the jobs and their schedules.")
def scheduler(once: str | None, list_jobs: bool) -> None:
    """Run the scheduler process (one per deployment; never in web workers)."""
    from flask import current_app

    from hub.scheduler import build_scheduler, collect_jobs, run_job

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    jobs = collect_jobs()
    if list_jobs:
        for job in jobs:
            click.echo(f"{job.id:40} {job.cron}  {job.description}")
        return
    if once:
        match = [job for job in jobs if job.id == once]
        if not match:
            click.echo(f"Error: no job {once!r}; see --list", err=True)
            sys.exit(2)
        outcome = run_job(app, match[0])
        click.echo(f"{once}: {outcome}")
        sys.exit(0 if outcome != "failed" else 1)
    click.echo(f"Scheduler started with {len(jobs)} job(s), Europe/London time. Ctrl-C stops it.")
    # systemd stops a service with SIGTERM: stop as Ctrl-C does, letting a job that is running finish.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        build_scheduler(app).start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Scheduler stopped.")


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def load_demo_data() -> bool:
    """Run each domain package's ``demo.load()`` (in the order of ``hub.modules.MODULES``), in the
    caller's transaction. Returns whether any of them created something."""
    import importlib

    from hub.modules import MODULES

    created = False
    for name in MODULES:
        try:
            module = importlib.import_module(f"{name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.demo":
                raise
            continue
        created = module.load() or created
    return created


@hub_cli.command("demo")
def demo() -> None:
    """Load the fictional demonstration data: only in demo mode, only into an empty hub.

    The demo's accounts share a published password and have no second factor
    set up, so loading them into a real hub would hand it to anyone: the
    command refuses unless ``HUB_DEMO=true`` and the database holds no
    agencies and no accounts. Each domain package may offer a ``demo.load()``;
    they run in the order of ``hub.modules.MODULES``, in one transaction.
    """

    from hub.auth.models import User
    from hub.db import db, unit_of_work
    from hub.settings_access import settings

    set_origin(Origin("cli"))
    if not settings().demo:
        click.echo(
            "Error: the demo data has accounts with a published password; it loads only into a hub running "
            "in demo mode (HUB_DEMO=true), never into a real one.",
            err=True,
        )
        sys.exit(2)
    has_data = db.session.scalar(sa.select(User.id).limit(1)) is not None or db.session.scalar(
        sa.text("SELECT id FROM agencies LIMIT 1")
    )
    if has_data:
        click.echo("Error: this database already holds data; the demo loads only into an empty hub.", err=True)
        sys.exit(2)
    with unit_of_work():
        created = load_demo_data()
    click.echo("Demo data loaded." if created else "Demo data already present.")


@hub_cli.command("disable-user")
@click.option("--email", required=True)
def disable_user(email: str) -> None:
    """Disable an account and end all its sessions at once."""
    from hub.auth import services
    from hub.auth.models import User
    from hub.db import db, unit_of_work
    from hub.permissions import SYSTEM

    set_origin(Origin("cli"))
    user = db.session.scalar(sa.select(User).where(User.email == services.normalise_email(email)))
    if user is None:
        click.echo(f"Error: no account with email {email}", err=True)
        sys.exit(2)
    with unit_of_work():
        services.disable_user(SYSTEM, user)
    click.echo(f"Disabled {user.email}; their sessions have ended.")


@hub_cli.command("disable-client")
@click.option("--client-id", required=True)
def disable_client(client_id: str) -> None:
    """Disable a partner system: its tokens stop working at once."""
    from hub import audit
    from hub.db import db, unit_of_work, utcnow
    from hub.oauth.models import OAuthClient, OAuthToken
    from hub.permissions import SYSTEM

    set_origin(Origin("cli"))
    client = db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        click.echo(f"Error: no client {client_id}", err=True)
        sys.exit(2)
    with unit_of_work():
        now = utcnow()
        client.disabled_at = client.disabled_at or now
        db.session.execute(
            sa.update(OAuthToken)
            .where(OAuthToken.client_pk == client.id, OAuthToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        audit.record(SYSTEM, "oauth.client_disabled", object_type="oauth_client", object_id=client.id)
    click.echo(f"Disabled client {client_id}; its tokens are revoked.")


def init_app(app: Flask) -> None:
    app.cli.add_command(hub_cli)


class HubCommand(FlaskGroup):
    """``hub``: Flask's command line for this app, with the operator commands at the top level.

    ``hub init`` is ``flask --app wsgi hub init``; ``hub db upgrade`` is ``flask --app wsgi db
    upgrade``. The settings come from the environment, as for the web app (README "Configuration").
    """

    def __init__(self, **extra: Any) -> None:
        from hub.app import create_app

        super().__init__(create_app=create_app, load_dotenv=False, set_debug_flag=False, **extra)
        # The app is always this one, and python-dotenv is not installed: no --app, no --env-file.
        self.params = [p for p in self.params if p.name not in {"app", "env_file"}]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)  # Flask's, then the app's (db, agencies, hub ...)
        return command if command is not None else hub_cli.get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx)) | set(hub_cli.list_commands(ctx))
        return sorted(names - {"hub"})  # `hub hub init` still works, but need not be listed


def main() -> None:
    """The ``hub`` console script."""
    HubCommand(name="hub", help="Partnership Hub operator commands (settings from the environment).").main()
