"""Alembic environment for the hub (run through Flask-Migrate: ``flask db ...``).

The same migrations build the schema on PostgreSQL and on the embedded
SQLite default (batch mode lets SQLite alter tables). On PostgreSQL, a
migration takes an advisory lock so two deploys cannot migrate at once, and
gives up rather than wait long on a table lock held by live traffic.
"""

from __future__ import annotations

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import text

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
log = logging.getLogger("alembic.env")

_MIGRATION_LOCK = 7_262_002  # arbitrary, constant: the migration advisory lock


def _db():
    return current_app.extensions["migrate"].db


def _render_item(type_, obj, autogen_context):
    """Render the hub's UTC timestamp type as a plain timestamp with time zone,
    so migrations never import application code."""
    from hub.db import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _options(connection=None) -> dict:
    options = {
        "target_metadata": _db().metadata,
        "compare_type": True,
        "compare_server_default": True,
        "render_as_batch": True,
        "transaction_per_migration": True,
        "render_item": _render_item,
    }
    options.update(current_app.extensions["migrate"].configure_args)
    if connection is not None:
        options["connection"] = connection
    return options


def run_migrations_offline() -> None:
    url = str(_db().engine.url).replace("%", "%%")
    context.configure(url=url, literal_binds=True, **{k: v for k, v in _options().items() if k != "connection"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            log.info("No changes in schema detected.")

    engine = _db().engine
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET lock_timeout = '10s'"))
            connection.execute(text("SET statement_timeout = '300s'"))
            connection.execute(text(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})"))
            connection.commit()
        options = _options(connection)
        options.setdefault("process_revision_directives", process_revision_directives)
        context.configure(**options)
        try:
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})"))
                connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
