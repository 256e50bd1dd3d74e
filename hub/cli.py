"""Operator commands: ``flask hub ...``.

Domain packages attach their own commands to :data:`hub_cli` in their
``init_app`` (``hub init``, ``hub create-user`` ... live in ``agencies``,
which owns the agencies those commands name). Each command is one unit of
work: it commits once at the end, or not at all.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from hub.audit import Origin, set_origin, verify_chain

hub_cli = AppGroup("hub", help="Partnership Hub operator commands.")
audit_cli = AppGroup("audit", help="The tamper-evident audit log.")
hub_cli.add_command(audit_cli)


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check every entry's hash and link; name the first that does not fit."""
    set_origin(Origin("cli"))
    report = verify_chain()
    if report.ok:
        click.echo(f"Audit chain intact: {report.checked} entries checked.")
        return
    click.echo(
        f"Audit chain BROKEN at entry {report.broken_seq}: {report.reason} "
        f"({report.checked} entries before it are intact).",
        err=True,
    )
    sys.exit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(hub_cli)
