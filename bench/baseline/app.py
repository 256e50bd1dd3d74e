"""The bare-stack baseline: Flask + SQLAlchemy + psycopg (the hub's virtualenv, so the same versions),
nothing of the hub's. bench/run.py serves it exactly as it serves the hub (gunicorn, 4 sync workers,
same bind host) and loads the two in turn.

    GET  /inbox        one indexed token lookup (Authorization: Bearer) and a 25-row page as JSON
    POST /ack/<id>     a conditional UPDATE (only if still 'sent': else 409) and an event INSERT, one commit

Its own data, in its own database (1,000,000 items; the agency that is read has 60,000 'sent' ones, the
first 50,000 of which are the acknowledgement pool):

    .venv/bin/python bench/baseline/app.py seed --db bench_baseline [--rows 1000000]
    .venv/bin/python bench/baseline/app.py reset-pool --db bench_baseline    # pool back to 'sent'

Serve it (from the repository root):

    BASELINE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_baseline \\
        .venv/bin/gunicorn -w 4 -b 127.0.0.1:8602 --chdir bench/baseline app:app

The token to send is TOKEN below.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time

import sqlalchemy as sa
from flask import Flask, abort, jsonify, request  # noqa: TID251 - a web edge of its own

TOKEN = "baseline-bench-token-0123456789abcdef"
AGENCY = 2
POOL = 50_000  # items 1..POOL of the agency, for acknowledgement runs
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")

metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("reference", sa.String(16), nullable=False, unique=True),
    sa.Column("agency_id", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("due_on", sa.Date),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
    sa.Index("ix_items_inbox", "agency_id", "status", "due_on", "id"),
)
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False, index=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("agency_id", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ.get("BASELINE_DATABASE_URL", f"{PG}/bench_baseline").replace(
        "postgresql://", "postgresql+psycopg://", 1
    )
    # The hub's pool settings (hub/app.py), so both pay the same per-checkout cost.
    engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    page = (
        sa.select(items.c.id, items.c.reference, items.c.status, items.c.due_on, items.c.title, items.c.created_at)
        .where(items.c.agency_id == sa.bindparam("agency"), items.c.status == "sent")
        .order_by(items.c.due_on, items.c.id)
        .limit(25)
    )

    def agency_of_token() -> int:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            abort(401)
        with engine.connect() as conn:
            agency = conn.execute(
                sa.select(tokens.c.agency_id).where(
                    tokens.c.token_hash == _hash(header[7:]), tokens.c.expires_at > sa.func.now()
                )
            ).scalar()
        if agency is None:
            abort(401)
        return int(agency)

    @app.get("/inbox")
    def inbox():  # type: ignore[no-untyped-def]
        agency = agency_of_token()
        with engine.connect() as conn:
            rows = conn.execute(page, {"agency": agency}).mappings().all()
        return jsonify([dict(r) for r in rows])

    @app.post("/ack/<int:item_id>")
    def ack(item_id: int):  # type: ignore[no-untyped-def]
        with engine.begin() as conn:
            done = conn.execute(
                items.update()
                .where(items.c.id == item_id, items.c.status == "sent")
                .values(status="acknowledged", acknowledged_at=sa.func.now(), updated_at=sa.func.now())
                .returning(items.c.id)
            ).scalar()
            if done is None:
                abort(409)
            conn.execute(events.insert().values(item_id=item_id, action="acknowledge", at=sa.func.now()))
        return jsonify({"id": item_id, "status": "acknowledged"})

    @app.get("/health")
    def health():  # type: ignore[no-untyped-def]
        return "ok"

    return app


def seed(db: str, rows: int) -> None:
    import psycopg

    start = time.monotonic()
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (db,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')
    engine = sa.create_engine(f"{PG}/{db}".replace("postgresql://", "postgresql+psycopg://", 1))
    metadata.create_all(engine)
    engine.dispose()
    with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        # Items 1..POOL and the next 10,000 are the agency's 'sent' ones; the rest spread over 300 agencies.
        conn.execute(
            """
            INSERT INTO items (id, reference, agency_id, status, due_on, title, created_at, updated_at)
            SELECT i, 'B-' || lpad(i::text, 10, '0'),
              CASE WHEN i <= %(sent)s THEN %(agency)s ELSE 1 + i %% 300 END,
              CASE WHEN i <= %(sent)s THEN 'sent'
                   ELSE (ARRAY['sent','acknowledged','accepted','in_progress','completed','completed','declined',
                               'cancelled'])[1 + (i * 7) %% 8] END,
              current_date - 30 + (i %% 60), 'Item ' || i,
              now() - (i %% 700) * interval '1 day', now() - (i %% 700) * interval '1 day'
            FROM generate_series(1, %(rows)s) i
            """,
            {"rows": rows, "sent": POOL + 10_000, "agency": AGENCY},
        )
        conn.execute(
            "INSERT INTO events (item_id, action, at) SELECT i, 'create', now() FROM generate_series(1, %(rows)s) i",
            {"rows": rows},
        )
        conn.execute(
            """
            INSERT INTO tokens (token_hash, agency_id, expires_at)
            SELECT encode(sha256(('other-' || i)::bytea), 'hex'), 1 + i % 300, now() + interval '1 day'
            FROM generate_series(1, 10000) i
            """
        )
        conn.execute(
            "INSERT INTO tokens (token_hash, agency_id, expires_at) VALUES (%s, %s, now() + interval '10 years')",
            (_hash(TOKEN), AGENCY),
        )
        conn.execute("VACUUM (ANALYZE)")
    print(f"baseline: seeded {db} with {rows:,} items in {time.monotonic() - start:.1f} s")


def reset_pool(db: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
        conn.execute(
            "UPDATE items SET status = 'sent', acknowledged_at = NULL WHERE id <= %s AND status <> 'sent'", (POOL,)
        )


def pool_file(path: str) -> str:
    with open(path, "w") as f:
        f.write("\n".join(str(i) for i in range(1, POOL + 1)) + "\n")
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The bench baseline's data.")
    parser.add_argument("command", choices=["seed", "reset-pool"])
    parser.add_argument("--db", default="bench_baseline")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.command == "seed":
        seed(args.db, args.rows)
    else:
        reset_pool(args.db)
    sys.exit(0)
else:
    app = create_app()
