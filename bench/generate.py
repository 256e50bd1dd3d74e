"""Fill a hub database with a national-scale, fictional partnership, for benchmarks.

Run from the repository root with the project's virtualenv:

    .venv/bin/python bench/generate.py build --db bench_hub_10k --referrals 10000 --recreate
    .venv/bin/python bench/generate.py build --db bench_hub_1m  --referrals 1000000 --recreate

``--recreate`` drops the database, creates it and builds the schema with the
migrations (``flask --app wsgi db upgrade``); without it the database must
already be migrated and empty. PostgreSQL: ``--pg`` (default
``postgresql://postgres@127.0.0.1:5432``, trust auth).

What it makes, whatever N (the number of referrals): 300 agencies (agency 1 is
the host organisation; agency 2, "Northbridge Probation Delivery Unit", is the
busy one: about 4 % of all referrals, plus the acknowledgement pool), 20,000
contacts (about 8 % left, with a successor), 200 staff accounts and 2,990
partner accounts (each linked to its contact: ``contacts.user_id``; the
accounts of contacts who left are disabled), 100,000 women with 3 consents
each (94 % active, 3 % withdrawn, 3 % expired); then N referrals across every
status, each moved through its life in order (created < sent < acknowledged <
accepted < started < held / declined / completed / cancelled), with deadlines
from the hub's own working-day calendar (``hub.workdays``), ``consent_id`` on
every referral that was sent, open referrals resting on a consent valid now,
``basis_lost`` holds resting on a withdrawn or expired one; their
``referral_events``, a ``sent`` disclosure per sent referral and a ``viewed``
one for about half of those acknowledged, about 1.2 notifications per
referral, the reminders the escalation job would have sent up to today, and
10 x N audit entries forming a valid hash chain (hashed with
``hub.audit.AuditEvent.canonical`` / ``compute_hash``, streamed with COPY in
``seq`` order). If ``referrals.due_on`` exists it is filled (acknowledge_by
when sent, decide_by when acknowledged). Everything is inserted with SQL set
operations (INSERT ... SELECT over generate_series) or COPY, with every
constraint and trigger live.

It also registers an OAuth client of the busy agency (scopes
``referrals:read referrals:write``) and keeps, in a table ``bench_meta`` of
the benchmark database, what the harness needs: the officer's account, the
client's id and secret, the acknowledgement pool.

Other commands (same ``--db``):

    generate.py session --db X        # a signed-in session of the officer: prints the Cookie header
    generate.py reset-pool --db X     # put the acknowledgement pool back to 'sent'; prints the pool file
    generate.py escalation-prep --db X --due 10000   # leave ~10,000 reminders due today
    generate.py info --db X           # what bench_meta holds, as JSON
    generate.py verify --db X         # the hub's own audit-chain check (hub.audit.verify_chain)
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import itertools
import json
import os
import random
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")

N_AGENCIES = 300  # agency 1 is the host organisation
BUSY = 2  # the busy partner agency
N_CONTACTS = 20_000
N_STAFF = 200  # user 1 admin, 2-11 managers, 12-200 practitioners
N_MANAGERS = 10
ACCOUNTS_PER_AGENCY = 10  # contacts 1 .. 10*299 have accounts
N_WOMEN = 100_000
CONSENTS_PER_WOMAN = 3
OFFICER_CONTACT = 1 + 2 * (N_AGENCIES - 1)  # the third contact of agency 2, a partner (not its lead)
OFFICER_USER = N_STAFF + OFFICER_CONTACT
BUSY_SHARE = 0.04
AUDIT_PER_REFERRAL = 10
CATEGORIES = ["identity", "contact_details", "criminal_justice", "housing", "substance_use", "mental_health"]
REFERRAL_CATEGORIES = [
    ["contact_details", "housing", "identity"],
    ["contact_details", "criminal_justice", "identity"],
    ["contact_details", "identity", "substance_use"],
    ["contact_details", "housing", "identity", "mental_health"],
    ["housing"],
]
GIVEN = (
    "Amira Beth Chloe Dana Erin Fatima Grace Hana Iris Jade Kiran Layla Maya Nadia Olivia Priya Queenie Rosa "
    "Sana Tara Una Vera Wendy Yasmin Zara Abby Bianca Carys Demi Ellie Freya Gemma Holly Imani Jess Katie Leah"
).split()
FAMILY = (
    "Ahmed Brown Clarke Davies Evans Fisher Green Hughes Iqbal Jones Khan Lewis Morgan Nolan Owen Patel Quinn "
    "Roberts Smith Taylor Underwood Vaughan Walker Young Begum Campbell Doyle Ellis Foster Griffiths Hall Hussain"
).split()
KINDS = [
    "probation", "prison", "housing", "substance_use", "idva", "isva", "police", "health",
    "mental_health", "sexual_health", "legal", "social_care", "other",
]  # fmt: skip


def _ref_code_sql() -> str:
    """SQL function pg_temp.ref_code(prefix, n): PREFIX-XXXX-XXXX in the hub's alphabet; distinct n give
    distinct codes (an odd multiplier modulo 2^40 is a bijection, and 8 characters of 5 bits are 40 bits)."""
    x = "((n * 747796405 + 2891336453) % 1099511627776)"
    chars = [f"substr(a, (({x} >> {5 * (7 - k)}) & 31)::int + 1, 1)" for k in range(8)]
    return (
        "CREATE FUNCTION pg_temp.ref_code(prefix text, n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$ "
        f"SELECT prefix || '-' || {' || '.join(chars[:4])} || '-' || {' || '.join(chars[4:])} "
        "FROM (SELECT 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'::text AS a) s $$"
    )


REF_CODE_SQL = _ref_code_sql()


def pool_size(n: int) -> int:
    """Referrals kept for acknowledgement runs: enough for 10 s at a few hundred a second (4,000 at
    10k, 8,000 at 1M)."""
    return max(4000, min(8000, n // 125))


def log(msg: str) -> None:
    print(f"[generate {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def url_of(db: str) -> str:
    return f"{PG}/{db}"


def hub_env(db: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url_of(db),
        SECRET_KEY=env.get("SECRET_KEY", "bench"),
        HUB_SECURE_COOKIES="false",
        # The bench measures the hub's work, not its rate limits (a few clients send thousands a minute).
        HUB_RATELIMIT_API="1000000 per minute",
        HUB_RATELIMIT_TOKEN="1000000 per minute",
    )
    return env


def app_for(db: str) -> Any:
    """The hub's Flask app on this database (for its services, models and session signing)."""
    os.environ.update(hub_env(db))
    from hub.app import create_app

    return create_app()


# ---------------------------------------------------------------------------------------------
# Database creation


def recreate(db: str) -> None:
    with psycopg.connect(url_of("postgres"), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (db,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        conn.execute(f'CREATE DATABASE "{db}"')
    log(f"created database {db}; running the migrations")
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=hub_env(db),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# ---------------------------------------------------------------------------------------------
# The build


class Steps:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.timings: dict[str, float] = {}

    def run(self, name: str, *statements: str, params: dict[str, Any] | None = None) -> None:
        start = time.monotonic()
        for sql in statements:
            t0 = time.monotonic()
            self.conn.execute(sql, params)  # type: ignore[arg-type]
            if time.monotonic() - t0 > float(os.environ.get("BENCH_SLOW", "5")):
                log(f"  {time.monotonic() - t0:.1f} s: {' '.join(sql.split())[:70]}")
        self.timings[name] = round(time.monotonic() - start, 1)
        log(f"{name}: {self.timings[name]} s")


def has_column(conn: psycopg.Connection[Any], table: str, column: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
            "AND column_name = %s",
            (table, column),
        ).fetchone()
        is not None
    )


BULK_TABLES = (
    "service_users", "consent_records", "referrals", "referral_events", "disclosures", "notifications",
    "referral_reminders", "audit_events",
)  # fmt: skip


def set_aside_constraints(conn: psycopg.Connection[Any], tables: tuple[str, ...]) -> list[str]:
    """Load as pg_restore does: drop the secondary indexes and the unique and foreign-key constraints of
    these (empty) tables, and return the statements that put back exactly what was there (read from the
    catalogue, so whatever the migrations made). Primary keys, CHECK constraints and triggers stay."""
    restore_unique: list[str] = []
    restore_index: list[str] = []
    restore_fk: list[str] = []
    for table in tables:
        for name, kind, definition in conn.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
            (table,),
        ).fetchall():
            target = restore_fk if kind == "f" else restore_unique
            target.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, definition in conn.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            (table,),
        ).fetchall():
            restore_index.append(definition)
            conn.execute(f"DROP INDEX {name}")
    return restore_unique + restore_index + restore_fk


def calendar_rows(today: dt.date) -> tuple[list[tuple[dt.date, int, dt.date]], list[tuple[dt.date, int, int]]]:
    """From the hub's own calendar: add_working_days(d, k) for k 0..10, and the escalation stages due today
    for a deadline on d (working days since it, at most the job's number of stages)."""
    from hub.workdays import add_working_days, working_days_between
    from referrals.escalation import STAGES

    days = [today - dt.timedelta(days=i) for i in range(-40, 900)]
    add = [(d, k, add_working_days(d, k)) for d in days for k in range(11)]
    passed = {d: working_days_between(d, today) for d in days if d < today}
    stages = [(d, min(wd, len(STAGES)), wd) for d, wd in passed.items()]
    return add, stages


def agency_pick_array() -> list[int]:
    """10,000 agency ids, each as often as its share of referrals and consents."""
    rng = random.Random(7)
    others = list(range(3, N_AGENCIES + 1))
    rng.shuffle(others)
    weights = [1 / (rank**0.7) for rank in range(1, len(others) + 1)]
    total = sum(weights)
    size = 10_000
    out = [BUSY] * int(size * BUSY_SHARE)
    rest = size - len(out)
    for agency, w in zip(others, weights, strict=True):
        out += [agency] * max(1, round(rest * w / total))
    rng.shuffle(out)
    return out[:size] if len(out) >= size else out + [BUSY] * (size - len(out))


def build(db: str, n: int, do_recreate: bool, audit_per_referral: int = AUDIT_PER_REFERRAL) -> dict[str, Any]:
    started = time.monotonic()
    if do_recreate:
        recreate(db)
    app = app_for(db)
    with app.app_context():
        from hub.auth.passwords import hash_password

        password_hash = hash_password("bench-" + secrets.token_urlsafe(12))
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        from hub.db import today as hub_today

        today = hub_today()
        add_rows, stage_rows = calendar_rows(today)
    pool = pool_size(n)
    conn = psycopg.connect(url_of(db), autocommit=True)
    if conn.execute("SELECT count(*) FROM referrals").fetchone()[0]:  # type: ignore[index]
        raise SystemExit(f"{db} already holds referrals: use --recreate")
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET temp_buffers = '1GB'")
    conn.execute("SELECT setseed(0.42)")
    steps = Steps(conn)
    due_on = has_column(conn, "referrals", "due_on")
    p: dict[str, Any] = {
        "now": now,
        "today": today,
        "n": n,
        "pool": pool,
        "busy": BUSY,
        "hash": password_hash,
        "agencies": N_AGENCIES,
        "contacts": N_CONTACTS,
        "staff": N_STAFF,
        "managers": N_MANAGERS,
        "accounts": ACCOUNTS_PER_AGENCY * (N_AGENCIES - 1),
        "officer": OFFICER_CONTACT,
        "women": N_WOMEN,
        "per_woman": CONSENTS_PER_WOMAN,
        "kinds": KINDS,
        "given": GIVEN,
        "family": FAMILY,
        "pick": agency_pick_array(),
        "cats": json.dumps(CATEGORIES),
        "rcats": [json.dumps(c) for c in REFERRAL_CATEGORIES],
    }

    restore = set_aside_constraints(conn, BULK_TABLES)
    # Helpers: references like the hub's; the hub's working-day calendar.
    steps.run(
        "helpers",
        REF_CODE_SQL,
        "CREATE TEMP TABLE addwd (d date, k int, r date, PRIMARY KEY (d, k))",
        "CREATE TEMP TABLE stagewd (d date PRIMARY KEY, stages int, wd int)",
    )
    with conn.cursor() as cur:
        with cur.copy("COPY addwd (d, k, r) FROM STDIN") as copy:
            for row in add_rows:
                copy.write_row(row)
        with cur.copy("COPY stagewd (d, stages, wd) FROM STDIN") as copy:
            for row in stage_rows:
                copy.write_row(row)
    conn.execute("ANALYZE addwd")
    conn.execute("ANALYZE stagewd")

    # Agencies, staff, contacts, partner accounts ------------------------------------------------
    steps.run(
        "agencies, users, contacts",
        """
        INSERT INTO agencies (id, slug, name, kind, services, how_to_refer, address, phone, email, website,
            has_agreement, agreement_agreed_on, agreement_review_on, agreement_summary,
            acknowledge_days, decide_days, created_at, updated_at, public_id)
        SELECT a,
          CASE WHEN a = 1 THEN 'host' WHEN a = %(busy)s THEN 'northbridge-probation'
               ELSE 'agency-' || lpad(a::text, 4, '0') END,
          CASE WHEN a = 1 THEN 'Women''s Centre (host)' WHEN a = %(busy)s THEN 'Northbridge Probation Delivery Unit'
               ELSE initcap(replace(k, '_', ' ')) || ' service ' || a END,
          k, 'Support for women in the region.', 'Use the hub.', a || ' High Street, Northbridge',
          '0100 000 ' || lpad(a::text, 4, '0'), 'team' || a || '@agency.example.org', '',
          a %% 5 <> 0, CASE WHEN a %% 5 <> 0 THEN %(today)s::date - 400 END,
          CASE WHEN a %% 5 <> 0 THEN %(today)s::date + (a %% 90) END, '',
          CASE WHEN a %% 5 = 1 AND a > 2 THEN 3 END, CASE WHEN a %% 7 = 1 AND a > 2 THEN 10 END,
          %(now)s::timestamptz - interval '1100 days', %(now)s::timestamptz - interval '30 days',
          gen_random_uuid()::text
        FROM (SELECT a, CASE WHEN a = 1 THEN 'host' WHEN a = %(busy)s THEN 'probation'
                             ELSE (%(kinds)s::text[])[1 + a %% cardinality(%(kinds)s::text[])] END AS k
              FROM generate_series(1, %(agencies)s) a) s
        """,
        """
        INSERT INTO users (id, email, name, agency_id, role, password_hash, must_change_password,
                           last_sign_in_at, created_at, updated_at)
        SELECT u, 'staff' || lpad(u::text, 4, '0') || '@host.example.org', 'Staff member ' || u, 1,
          CASE WHEN u = 1 THEN 'admin' WHEN u <= 1 + %(managers)s THEN 'manager' ELSE 'practitioner' END,
          %(hash)s, false, %(now)s::timestamptz - (u || ' hours')::interval,
          %(now)s::timestamptz - interval '1100 days', %(now)s::timestamptz - interval '1100 days'
        FROM generate_series(1, %(staff)s) u
        """,
        # Contact c works at agency 2 + (c-1) %% 299: the first of each agency is its key contact (and
        # partner lead), the second its deputy; the first 10 of each have accounts (users staff + c).
        """
        CREATE TEMP TABLE contact_spec AS
        SELECT c, 2 + (c - 1) %% (%(agencies)s - 1) AS agency_id,
               (c > 2 * (%(agencies)s - 1) AND c <> %(officer)s AND random() < 0.08) AS left_,
               random() AS r
        FROM generate_series(1, %(contacts)s) c
        """,
        """
        INSERT INTO users (id, email, name, agency_id, role, password_hash, must_change_password,
                           last_sign_in_at, disabled_at, created_at, updated_at)
        SELECT %(staff)s + c,
          CASE WHEN c = %(officer)s THEN 'officer@northbridge-probation.example.org'
               ELSE 'contact' || c || '@' || a.slug || '.example.org' END,
          CASE WHEN c = %(officer)s THEN 'Olu Officer' ELSE 'Partner ' || c END,
          s.agency_id, CASE WHEN c <= %(agencies)s - 1 THEN 'partner_lead' ELSE 'partner' END,
          %(hash)s, false, %(now)s::timestamptz - ((c %% 500) || ' hours')::interval,
          CASE WHEN s.left_ THEN %(now)s::timestamptz - ((30 + s.r * 600)::int || ' days')::interval END,
          %(now)s::timestamptz - interval '1000 days', %(now)s::timestamptz - interval '20 days'
        FROM contact_spec s JOIN agencies a ON a.id = s.agency_id
        WHERE c <= %(accounts)s
        """,
        """
        INSERT INTO contacts (id, agency_id, name, role, email, phone, preferred_channel, knowledge, known_by_id,
            started_on, last_spoken_on, last_verified_on, status, left_on, successor_id, handover_note, user_id,
            created_at, updated_at)
        SELECT c, s.agency_id,
          CASE WHEN c = %(officer)s THEN 'Olu Officer' ELSE 'Contact ' || c END,
          CASE WHEN c <= %(agencies)s - 1 THEN 'Team manager' ELSE 'Case worker' END,
          CASE WHEN c = %(officer)s THEN 'officer@northbridge-probation.example.org'
               ELSE 'contact' || c || '@' || a.slug || '.example.org' END,
          '0100 100 ' || lpad(c::text, 5, '0'),
          (ARRAY['email','phone','text','video','in_person',NULL])[1 + c %% 6],
          'Knows the local housing options.', 12 + c %% (%(staff)s - 11),
          %(today)s::date - (100 + c %% 2000), %(today)s::date - (c %% 200), %(today)s::date - (c %% 400),
          CASE WHEN s.left_ THEN 'left' ELSE 'active' END,
          CASE WHEN s.left_ THEN (%(now)s::timestamptz - ((30 + s.r * 600)::int || ' days')::interval)::date END,
          CASE WHEN s.left_ THEN s.agency_id - 1 END,
          CASE WHEN s.left_ THEN 'Handed over to the team manager.' ELSE '' END,
          CASE WHEN c <= %(accounts)s THEN %(staff)s + c END,
          %(now)s::timestamptz - interval '1000 days', %(now)s::timestamptz - interval '20 days'
        FROM contact_spec s JOIN agencies a ON a.id = s.agency_id
        """,
        """
        UPDATE agencies SET key_contact_id = id - 1, deputy_contact_id = id - 1 + (%(agencies)s - 1),
                            relationship_owner_id = 12 + id %% (%(staff)s - 11)
        WHERE id > 1
        """,
        # The recipients of each agency's referrals: its active contacts with accounts.
        """
        CREATE TEMP TABLE recips AS
        SELECT agency_id, count(*)::int AS n, array_agg(c ORDER BY c) AS cids
        FROM contact_spec WHERE c <= %(accounts)s AND NOT left_ GROUP BY agency_id
        """,
        "ALTER TABLE recips ADD PRIMARY KEY (agency_id)",
        params=p,
    )

    # Women and their consents ---------------------------------------------------------------------
    steps.run(
        "service users, consents",
        """
        INSERT INTO service_users (id, reference, given_name, family_name, date_of_birth, key_worker_id, created_at)
        SELECT w, pg_temp.ref_code('SU', w),
          (%(given)s::text[])[1 + (w * 7) %% cardinality(%(given)s::text[])],
          (%(family)s::text[])[1 + (w * 13) %% cardinality(%(family)s::text[])],
          date '1960-01-01' + (w * 37 %% 16000), 12 + w %% (%(staff)s - 11),
          %(now)s::timestamptz - ((800 + w %% 300) || ' days')::interval
        FROM generate_series(1, %(women)s) w
        """,
        # 94 %% active (given in the last 330 days, valid for a year), 3 %% withdrawn, 3 %% expired.
        """
        CREATE TEMP TABLE consent_spec AS
        SELECT id, (id - 1) / %(per_woman)s + 1 AS su,
               (%(pick)s::int[])[1 + floor(random() * 10000)::int] AS agency_id,
               CASE WHEN r < 0.94 THEN 'active' WHEN r < 0.97 THEN 'withdrawn' ELSE 'expired' END AS status,
               random() AS r2, random() AS r3
        FROM (SELECT id, random() AS r FROM generate_series(1, %(women)s * %(per_woman)s) id) s
        """,
        """
        CREATE TEMP TABLE consent_dates AS
        SELECT s.*, g.given_on, (g.given_on + interval '12 months')::date AS expires_on
        FROM consent_spec s, LATERAL (SELECT CASE s.status
            WHEN 'active' THEN %(today)s::date - (s.r2 * 330)::int
            WHEN 'withdrawn' THEN %(today)s::date - (20 + s.r2 * 600)::int
            ELSE %(today)s::date - (370 + s.r2 * 330)::int END AS given_on) g
        """,
        """
        INSERT INTO consent_records (id, service_user_id, agency_id, purposes, data_categories, method, given_on,
            expires_on, recorded_by_id, recorded_at, evidence_note, information_version, status, withdrawn_at,
            withdrawn_by_id, withdrawal_reason, expired_at)
        SELECT id, su, agency_id,
          CASE WHEN id %% 4 = 0 THEN '["referral", "release_planning"]' ELSE '["referral"]' END::json,
          %(cats)s::json, (ARRAY['verbal','written','electronic'])[1 + id %% 3], given_on, expires_on,
          12 + id %% (%(staff)s - 11), given_on + time '10:30', 'Signed form on file.', 'v1', status,
          CASE WHEN status = 'withdrawn' THEN (given_on + 2 + ((least(expires_on, %(today)s::date) - given_on - 3)
               * r3)::int) + time '11:00' END,
          CASE WHEN status = 'withdrawn' THEN 12 + id %% (%(staff)s - 11) END,
          CASE WHEN status = 'withdrawn' THEN 'She withdrew it.' ELSE '' END,
          CASE WHEN status = 'expired' THEN (expires_on + 1) + time '02:00' END
        FROM consent_dates
        """,
        # Open referrals rest on a valid consent, lost-basis holds on an ended one, closed ones on any.
        """
        CREATE TEMP TABLE c_active AS
        SELECT row_number() OVER (ORDER BY id) AS rn, id FROM consent_records WHERE status = 'active'
        """,
        """
        CREATE TEMP TABLE c_ended AS
        SELECT row_number() OVER (ORDER BY id) AS rn, id FROM consent_records WHERE status <> 'active'
        """,
        """
        CREATE TEMP TABLE c_busy AS
        SELECT row_number() OVER (ORDER BY id) AS rn, id FROM consent_records
        WHERE status = 'active' AND agency_id = %(busy)s
        """,
        "ALTER TABLE c_active ADD PRIMARY KEY (rn)",
        "ALTER TABLE c_ended ADD PRIMARY KEY (rn)",
        "ALTER TABLE c_busy ADD PRIMARY KEY (rn)",
        params=p,
    )

    # Referrals ---------------------------------------------------------------------------------
    # kind = how far it got (reached: 0 draft, 1 sent, 2 acknowledged, 3 accepted, 4 in progress) and how
    # it ended (term: none, hold, decline, complete, cancel). The first %(pool)s are the busy agency's
    # acknowledgement pool: sent in the last day, so not overdue.
    steps.run(
        "referral plan",
        """
        CREATE TEMP TABLE kinds (kind text, reached int, term text, lo float8, hi float8)
        """,
        """
        INSERT INTO kinds VALUES
          ('draft', 0, 'none', 0.00, 0.01), ('sent', 1, 'none', 0.01, 0.04), ('ack', 2, 'none', 0.04, 0.06),
          ('accepted', 3, 'none', 0.06, 0.11), ('inprog', 4, 'none', 0.11, 0.29),
          ('hold3', 3, 'hold', 0.29, 0.305), ('hold4', 4, 'hold', 0.305, 0.32), ('lost', -1, 'hold', 0.32, 0.34),
          ('decl1', 1, 'decline', 0.34, 0.38), ('decl2', 2, 'decline', 0.38, 0.44),
          ('complete', 4, 'complete', 0.44, 0.90),
          ('cancel0', 0, 'cancel', 0.90, 0.92), ('cancel1', 1, 'cancel', 0.92, 0.96),
          ('cancel2', 2, 'cancel', 0.96, 0.98), ('cancel3', 3, 'cancel', 0.98, 0.99),
          ('cancel4', 4, 'cancel', 0.99, 1.0001)
        """,
        """
        CREATE TEMP TABLE plan0 AS
        SELECT i, CASE WHEN i <= %(pool)s THEN 'pool' ELSE k.kind END AS kind,
               CASE WHEN i <= %(pool)s THEN 1 WHEN k.reached = -1 THEN 1 + floor(g.r5 * 4)::int ELSE k.reached END
                 AS reached,
               CASE WHEN i <= %(pool)s THEN 'none' ELSE k.term END AS term,
               g.r1, g.r2, g.r3, g.r4, g.r5, g.rc
        FROM (SELECT i, random() AS r0, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
                     random() AS r5, random() AS rc
              FROM generate_series(1, %(n)s) i) g
        JOIN kinds k ON g.r0 >= k.lo AND g.r0 < k.hi
        """,
        # Pick the consent (which fixes the woman and the agency).
        """
        CREATE TEMP TABLE plan1 AS
        SELECT p.*, COALESCE(cb.id, ce.id, ca.id, p.any_id) AS consent
        FROM (SELECT *, 1 + floor(rc * (%(women)s * %(per_woman)s))::int AS any_id FROM plan0) p
        LEFT JOIN c_busy cb ON p.kind = 'pool'
             AND cb.rn = 1 + floor(p.rc * (SELECT count(*) FROM c_busy))::int
        LEFT JOIN c_ended ce ON p.kind = 'lost'
             AND ce.rn = 1 + floor(p.rc * (SELECT count(*) FROM c_ended))::int
        LEFT JOIN c_active ca ON p.kind IN ('pool', 'draft', 'sent', 'ack', 'accepted', 'inprog', 'hold3', 'hold4')
             AND ca.rn = 1 + floor(p.rc * (SELECT count(*) FROM c_active))::int
        """,
        # Times. span: from the consent (or 700 days ago) to now, or to the end of its basis.
        """
        CREATE TEMP TABLE plan2 AS
        SELECT p.*, c.service_user_id AS su, c.agency_id,
               (r4 < 0.15) AS urgent, s.span_start, s.span_end, s.basis_end
        FROM plan1 p JOIN consent_records c ON c.id = p.consent,
        LATERAL (SELECT
            least(greatest(c.given_on + time '09:00', %(now)s::timestamptz - interval '700 days'),
                  %(now)s::timestamptz - interval '10 minutes') AS span_start,
            CASE c.status WHEN 'active' THEN %(now)s::timestamptz WHEN 'withdrawn' THEN c.withdrawn_at
                 ELSE c.expired_at END AS basis_end,
            least(%(now)s::timestamptz - interval '5 minutes',
                  CASE c.status WHEN 'active' THEN %(now)s::timestamptz WHEN 'withdrawn' THEN c.withdrawn_at
                       ELSE c.expired_at END) AS span_end) s
        """,
        """
        CREATE TEMP TABLE plan3 AS
        SELECT p.*, t.t_send, t.t_term
        FROM plan2 p, LATERAL (SELECT
          CASE
            WHEN p.reached = 0 THEN NULL
            WHEN p.term IN ('none') OR p.kind IN ('hold3', 'hold4') THEN
              least(greatest(p.span_start, %(now)s::timestamptz - CASE p.kind
                WHEN 'pool' THEN p.r1 * interval '20 hours'
                WHEN 'sent' THEN (p.r1 * p.r1) * interval '15 days'
                WHEN 'ack' THEN interval '2 days' + p.r1 * interval '23 days'
                WHEN 'accepted' THEN interval '5 days' + p.r1 * interval '55 days'
                WHEN 'inprog' THEN interval '10 days' + power(p.r1, 1.5) * interval '320 days'
                ELSE interval '15 days' + p.r1 * interval '300 days' END),
                %(now)s::timestamptz - interval '2 minutes')
            WHEN p.kind = 'lost' THEN p.span_start + (p.basis_end - p.span_start) * 0.8 * p.r1
            ELSE p.span_start + (p.span_end - p.span_start) * 0.8 * p.r1
          END AS t_send,
          CASE
            WHEN p.kind = 'lost' THEN p.basis_end
            WHEN p.kind = 'cancel0' THEN NULL
            WHEN p.term = 'none' THEN NULL
            ELSE NULL END AS t_term) t
        """,
        """
        CREATE TEMP TABLE plan4 AS
        SELECT p.*,
          CASE WHEN p.reached = 0 AND p.term = 'none'
                 THEN greatest(p.span_start, %(now)s::timestamptz - p.r1 * interval '20 days')
               WHEN p.reached = 0 THEN p.span_start + (p.span_end - p.span_start) * p.r1
               ELSE p.t_send - p.r3 * interval '4 hours' END AS t_create,
          -- the end of its life, for those that ended (or were held)
          CASE
            WHEN p.kind = 'lost' THEN p.basis_end
            WHEN p.term = 'none' THEN NULL
            WHEN p.kind IN ('hold3', 'hold4') THEN p.t_send + (%(now)s::timestamptz - p.t_send) * (0.5 + 0.4 * p.r5)
            WHEN p.reached = 0 THEN NULL
            ELSE p.t_send + (p.span_end - p.t_send) * (0.05 + 0.95 * p.r2) END AS t_end
        FROM plan3 p
        """,
        """
        CREATE TEMP TABLE plan5 AS
        SELECT p.*,
          CASE WHEN p.reached = 0 AND p.term = 'cancel' THEN p.t_create + (p.span_end - p.t_create) * 0.1 * p.r2
               ELSE p.t_end END AS t_term2,
          -- the length of its life so far, for spacing its steps
          COALESCE(p.t_end, %(now)s::timestamptz) - p.t_send AS life
        FROM plan4 p
        """,
        """
        CREATE TEMP TABLE plan AS
        SELECT p.i, p.kind, p.reached, p.term, p.su, p.agency_id, p.consent, p.urgent, p.r1, p.r2, p.r3, p.r4,
               p.r5, p.t_create, p.t_send, p.t_term2 AS t_term,
               CASE WHEN p.reached >= 2 THEN p.t_send + p.life * CASE WHEN p.term = 'none' AND p.reached = 2
                    THEN 0.1 + 0.4 * p.r2 ELSE 0.1 END END AS t_ack,
               CASE WHEN p.reached >= 3 THEN p.t_send + p.life * CASE WHEN p.term = 'none' AND p.reached = 3
                    THEN 0.3 + 0.3 * p.r3 ELSE 0.2 END END AS t_accept,
               CASE WHEN p.reached >= 4 THEN p.t_send + p.life * 0.3 END AS t_start,
               (ARRAY['draft','sent','acknowledged','accepted','in_progress'])[p.reached + 1] AS reached_status,
               r.cids[1 + (p.i::bigint * 7919) %% r.n] AS recipient,
               CASE WHEN p.urgent THEN least(1, COALESCE(a.acknowledge_days, 1))
                    ELSE COALESCE(a.acknowledge_days, 2) END AS ack_days,
               COALESCE(a.decide_days, 5) AS decide_days
        FROM plan5 p JOIN agencies a ON a.id = p.agency_id JOIN recips r ON r.agency_id = p.agency_id
        """,
        """
        CREATE TEMP TABLE ref AS
        SELECT row_number() OVER (ORDER BY p.t_create, p.i)::int AS id, p.*,
          CASE p.term WHEN 'none' THEN p.reached_status WHEN 'hold' THEN 'on_hold' WHEN 'decline' THEN 'declined'
               WHEN 'complete' THEN 'completed' ELSE 'cancelled' END AS status,
          ab.r AS acknowledge_by, db.r AS decide_by,
          12 + floor(p.r3 * (%(staff)s - 11))::int AS sender
        FROM plan p
        LEFT JOIN addwd ab ON p.t_send IS NOT NULL AND ab.k = p.ack_days
             AND ab.d = (p.t_send AT TIME ZONE 'Europe/London')::date
        LEFT JOIN addwd db ON p.t_ack IS NOT NULL AND db.k = p.decide_days
             AND db.d = (p.t_ack AT TIME ZONE 'Europe/London')::date
        """,
        "ALTER TABLE ref ADD PRIMARY KEY (id)",
        "ANALYZE ref",
        params=p,
    )
    due_col = ", due_on" if due_on else ""
    due_val = ", CASE status WHEN 'sent' THEN acknowledge_by WHEN 'acknowledged' THEN decide_by END" if due_on else ""
    steps.run(
        "referrals",
        f"""
        INSERT INTO referrals (id, reference, service_user_id, agency_id, requested_contact_id, recipient_contact_id,
            sender_user_id, data_categories, reason, urgency, status, consent_id, sent_at, acknowledge_by,
            acknowledged_at, decide_by, decided_at, closed_at, held_from, basis_lost, outcome, created_at,
            updated_at{due_col})
        SELECT id, pg_temp.ref_code('R', id), su, agency_id,
          CASE WHEN r5 < 0.3 THEN recipient END,
          CASE WHEN reached >= 1 THEN recipient END,
          sender, (%(rcats)s::text[])[1 + id %% cardinality(%(rcats)s::text[])]::json,
          (ARRAY['Support with housing on release.', 'Help with a tenancy and benefits.',
                 'Drug and alcohol support, as she asked.', 'Advocacy at court next month.'])[1 + id %% 4],
          CASE WHEN urgent THEN 'urgent' ELSE 'routine' END, status,
          CASE WHEN t_send IS NOT NULL THEN consent END,
          t_send, acknowledge_by, t_ack, decide_by,
          CASE WHEN term = 'decline' THEN t_term ELSE t_accept END,
          CASE WHEN term IN ('decline', 'complete', 'cancel') THEN t_term END,
          CASE WHEN term = 'hold' THEN reached_status END,
          kind = 'lost',
          CASE WHEN term = 'complete' THEN 'She has a tenancy.' ELSE '' END,
          t_create, greatest(t_create, t_send, t_ack, t_accept, t_start, t_term){due_val}
        FROM ref ORDER BY id
        """,
        params=p,
    )

    # Events, disclosures, notifications, reminders ------------------------------------------------
    steps.run(
        "referral events",
        """
        INSERT INTO referral_events (referral_id, action, from_status, to_status, actor_kind, actor_id,
                                     actor_agency_id, note, at)
        SELECT e.referral_id, e.action, e.from_status, e.to_status, e.actor_kind, e.actor_id, e.actor_agency_id,
               e.note, e.at
        FROM (
          SELECT r.id AS referral_id, v.*
          FROM ref r, LATERAL (VALUES
            ('create', NULL, 'draft', 'user', r.sender, 1, '', r.t_create),
            ('send', 'draft', 'sent', 'user', r.sender, 1, '', r.t_send),
            ('acknowledge', 'sent', 'acknowledged', 'user', %(staff)s + r.recipient, r.agency_id, '', r.t_ack),
            ('accept', 'acknowledged', 'accepted', 'user', %(staff)s + r.recipient, r.agency_id, '', r.t_accept),
            ('start', 'accepted', 'in_progress', 'user', %(staff)s + r.recipient, r.agency_id, '', r.t_start),
            (CASE r.term WHEN 'hold' THEN 'hold' WHEN 'decline' THEN 'decline' WHEN 'complete' THEN 'complete'
                         WHEN 'cancel' THEN 'cancel' END,
             r.reached_status, r.status,
             CASE WHEN r.kind = 'lost' THEN 'system' ELSE 'user' END,
             CASE WHEN r.kind = 'lost' THEN NULL WHEN r.term = 'cancel' THEN r.sender
                  ELSE %(staff)s + r.recipient END,
             CASE WHEN r.kind = 'lost' THEN NULL WHEN r.term = 'cancel' THEN 1 ELSE r.agency_id END,
             CASE WHEN r.kind = 'lost' THEN 'basis ended' WHEN r.term IN ('hold', 'decline', 'cancel')
                  THEN 'Reason given.' ELSE '' END,
             CASE WHEN r.term <> 'none' THEN r.t_term END)
          ) AS v(action, from_status, to_status, actor_kind, actor_id, actor_agency_id, note, at)
          WHERE v.at IS NOT NULL AND v.action IS NOT NULL
        ) e
        ORDER BY e.at
        """,
        params=p,
    )
    steps.run(
        "disclosures",
        """
        INSERT INTO disclosures (service_user_id, agency_id, kind, data_categories, purpose, consent_id,
                                 actor_kind, actor_id, context, context_id, occurred_at)
        SELECT su, agency_id, kind, cats::json, 'referral', consent, 'user', actor, 'referral', id, at
        FROM (
          SELECT su, agency_id, 'sent' AS kind, (%(rcats)s::text[])[1 + id %% cardinality(%(rcats)s::text[])] AS cats,
                 consent, sender AS actor, id, t_send AS at
          FROM ref WHERE t_send IS NOT NULL
          UNION ALL
          SELECT su, agency_id, 'viewed', (%(rcats)s::text[])[1 + id %% cardinality(%(rcats)s::text[])],
                 consent, %(staff)s + recipient, id, t_ack + interval '3 minutes'
          FROM ref WHERE t_ack IS NOT NULL AND r2 < 0.5 AND kind <> 'lost'
        ) d
        ORDER BY at
        """,
        params=p,
    )
    steps.run(
        "notifications",
        """
        INSERT INTO notifications (user_id, email, kind, subject, body, link, created_at, read_at, email_status,
                                   attempts, sent_at)
        SELECT user_id, '', kind, subject, body, '/referrals/' || id, at,
               CASE WHEN at < %(now)s::timestamptz - interval '3 days' OR r5 < 0.7 THEN at + interval '2 hours' END,
               'sent', 1, at + interval '1 minute'
        FROM (
          SELECT %(staff)s + recipient AS user_id, 'referral.received' AS kind,
                 'New referral ' || pg_temp.ref_code('R', id) AS subject,
                 'There is a new referral. Please acknowledge it.' AS body, id, t_send AS at, r5
          FROM ref WHERE t_send IS NOT NULL
          UNION ALL
          SELECT sender, 'referral.acknowledge', 'Referral ' || pg_temp.ref_code('R', id) || ': acknowledged',
                 'The referral was acknowledged.', id, t_ack, r1
          FROM ref WHERE t_ack IS NOT NULL AND r3 < 0.3
        ) n
        ORDER BY at
        """,
        params=p,
    )
    # History that lookups by token must not scan: 200,000 ended browser sessions, and 20 other partner
    # systems with 20,000 expired or revoked tokens (the benchmark's own client and tokens come after).
    steps.run(
        "sessions, tokens",
        """
        INSERT INTO auth_sessions (token_hash, user_id, created_at, last_seen_at, ended_at, end_reason, ip)
        SELECT encode(sha256(('bench-session-' || g)::bytea), 'hex'),
               CASE WHEN g %% 3 = 0 THEN 1 + g %% %(staff)s ELSE %(staff)s + 1 + g %% %(accounts)s END,
               t, t + interval '20 minutes', t + interval '50 minutes',
               (ARRAY['signed_out', 'idle', 'expired'])[1 + g %% 3], '10.1.' || (g %% 250) || '.' || (g %% 200)
        FROM (SELECT g, %(now)s::timestamptz - (g %% 600) * interval '1 day' - (g %% 1440) * interval '1 minute' AS t
              FROM generate_series(1, 200000) g) s
        """,
        """
        INSERT INTO oauth_clients (client_id, secret_hash, name, agency_id, acts_for_host, scope, created_at)
        SELECT 'partner-system-' || a, encode(sha256(('bench-secret-' || a)::bytea), 'hex'),
               'Case system of agency ' || a, a, false, 'referrals:read referrals:write',
               %(now)s::timestamptz - interval '500 days'
        FROM generate_series(3, 22) a
        """,
        """
        INSERT INTO oauth_tokens (token_hash, client_pk, scope, issued_at, expires_in, revoked_at)
        SELECT encode(sha256(('bench-token-' || g)::bytea), 'hex'), c.id, c.scope,
               %(now)s::timestamptz - (1 + g %% 480) * interval '1 day', 900,
               CASE WHEN g %% 10 = 0 THEN %(now)s::timestamptz - (g %% 480) * interval '1 day' END
        FROM generate_series(1, 20000) g JOIN oauth_clients c ON c.client_id = 'partner-system-' || (3 + g %% 20)
        """,
        params=p,
    )
    # The reminders the escalation job would have sent up to today: nothing is due after generation.
    steps.run(
        "reminders",
        """
        INSERT INTO referral_reminders (referral_id, deadline, due_on, stage, sent_at, recipients)
        SELECT r.id, d.deadline, d.due, st, (d.due + st) + time '07:00', 1
        FROM ref r,
             LATERAL (SELECT CASE r.status WHEN 'sent' THEN 'acknowledge' ELSE 'decide' END AS deadline,
                             CASE r.status WHEN 'sent' THEN r.acknowledge_by ELSE r.decide_by END AS due) d
             JOIN stagewd s ON s.d = d.due,
             generate_series(1, s.stages) st
        WHERE r.status IN ('sent', 'acknowledged')
        ORDER BY 5
        """,
        params=p,
    )

    # The audit trail: 10 x N entries in one valid hash chain -----------------------------------------
    start = time.monotonic()
    entries = write_audit(conn, n * audit_per_referral, n, now)
    steps.timings["audit"] = round(time.monotonic() - start, 1)
    log(f"audit ({entries:,} entries): {steps.timings['audit']} s")

    steps.run("indexes and constraints", *restore)
    tables = (
        "agencies", "users", "contacts", "service_users", "consent_records", "referrals", "referral_events",
        "disclosures", "notifications", "referral_reminders", "audit_events", "auth_sessions", "oauth_clients",
        "oauth_tokens",
    )  # fmt: skip
    steps.run(
        "sequences",
        *[
            f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT COALESCE(max(id), 0) + 1 FROM {t}), false)"
            for t in tables
        ],
    )
    pool_ids = [r[0] for r in conn.execute("SELECT id FROM ref WHERE kind = 'pool' ORDER BY id").fetchall()]
    conn.close()

    # The partner system: an OAuth client of the busy agency, made the way `hub create-client` does.
    client_id, secret = "bench-northbridge-" + secrets.token_hex(4), secrets.token_urlsafe(32)
    with app.app_context():
        from hub import audit
        from hub.audit import Origin, set_origin
        from hub.db import db as hub_db
        from hub.db import unit_of_work
        from hub.oauth.models import OAuthClient, secret_hash
        from hub.permissions import SYSTEM

        set_origin(Origin("cli"))
        with unit_of_work():
            client = OAuthClient(
                client_id=client_id,
                secret_hash=secret_hash(secret),
                name="Northbridge case system (bench)",
                agency_id=BUSY,
                acts_for_host=False,
                scope="referrals:read referrals:write",
            )
            hub_db.session.add(client)
            hub_db.session.flush()
            audit.record(
                SYSTEM,
                "oauth.client_created",
                object_type="oauth_client",
                object_id=client.id,
                agency_id=BUSY,
                scope=client.scope,
            )
        if hasattr(audit, "seal"):  # entries written unsealed are linked into the chain after
            with unit_of_work():
                audit.seal()
        hub_db.session.remove()
        hub_db.engine.dispose()

    conn = psycopg.connect(url_of(db), autocommit=True)
    t0 = time.monotonic()
    conn.execute("VACUUM (ANALYZE)")
    steps.timings["vacuum analyze"] = round(time.monotonic() - t0, 1)
    log(f"vacuum analyze: {steps.timings['vacuum analyze']} s")
    counts = {
        t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
        for t in (
            "agencies", "contacts", "users", "service_users", "consent_records", "referrals", "referral_events",
            "disclosures", "notifications", "referral_reminders", "audit_events", "auth_sessions", "oauth_tokens",
        )
    }  # fmt: skip
    busy_visible = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM referrals "
        "WHERE agency_id = %s AND status <> 'draft' AND sent_at IS NOT NULL",
        (BUSY,),
    ).fetchone()
    meta = {
        "referrals": n,
        "generated_at": now.isoformat(),
        "busy_agency_id": BUSY,
        "officer_user_id": OFFICER_USER,
        "officer_email": "officer@northbridge-probation.example.org",
        "client_id": client_id,
        "client_secret": secret,
        "pool": pool_ids,
        "due_on_filled": due_on,
        "counts": counts,
        "busy_visible": busy_visible[0],  # type: ignore[index]
        "busy_sent": busy_visible[1],  # type: ignore[index]
        "timings": steps.timings,
        "seconds": round(time.monotonic() - started, 1),
        "database_size": conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0],  # type: ignore[index]
    }
    conn.execute("CREATE TABLE bench_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
    conn.execute("INSERT INTO bench_meta SELECT key, value FROM jsonb_each(%s::jsonb)", (json.dumps(meta),))
    conn.close()
    shown = {k: v for k, v in meta.items() if k not in ("pool", "client_secret")}
    log(f"done in {meta['seconds']} s: {json.dumps(shown)}")
    return meta


AUDIT_COLUMNS = (
    "seq", "occurred_at", "actor_kind", "actor_id", "actor_agency_id", "action", "object_type", "object_id",
    "channel", "ip", "data", "prev_hash", "hash",
)  # fmt: skip
AUDIT_TEMPLATES: list[tuple[str, str, str, dict[str, Any], str]] = [
    # action, actor, object type, data (0: a number filled in), channel
    ("referral.created", "staff", "referral", {"service_user_id": 0, "agency_id": 0}, "web"),
    ("referral.sent", "staff", "referral", {"agency_id": 0, "basis": "consent", "basis_id": 0}, "web"),
    ("referral.acknowledge", "partner", "referral", {"from_status": "sent", "to_status": "acknowledged"}, "api"),
    ("referral.accept", "partner", "referral", {"from_status": "acknowledged", "to_status": "accepted"}, "web"),
    ("referral.start", "partner", "referral", {"from_status": "accepted", "to_status": "in_progress"}, "web"),
    ("referral.complete", "partner", "referral", {"from_status": "in_progress", "to_status": "completed"}, "web"),
    ("auth.signed_in", "self", "user", {}, "web"),
    ("auth.signed_in", "self", "user", {}, "web"),
    ("consent.recorded", "staff", "consent_record", {"agency_id": 0}, "web"),
    ("oauth.token_issued", "client", "oauth_client", {"scope": "referrals:read referrals:write"}, "api"),
]
# Stands for the previous entry's hash while the canonical text is made in a worker process; the main
# process puts the real one in. (Checked: it must appear exactly once.)
PLACEHOLDER = "~" * 64


def _entry_class(extra: list[str]) -> type:
    from hub.audit import AuditEvent

    class Entry:
        """What AuditEvent.canonical reads, without the ORM's per-object cost."""

        __slots__ = (*AUDIT_COLUMNS, *extra)
        canonical = AuditEvent.canonical
        compute_hash = AuditEvent.compute_hash

    return Entry


def _audit_fields(seq: int, total: int, n_referrals: int, first: dt.datetime) -> dict[str, Any]:
    action, who, otype, data, channel = AUDIT_TEMPLATES[seq % len(AUDIT_TEMPLATES)]
    if who in ("partner", "self"):
        contact = 1 + (seq * 7919) % (ACCOUNTS_PER_AGENCY * (N_AGENCIES - 1))
        actor_kind, actor_id, agency = "user", N_STAFF + contact, 2 + (contact - 1) % (N_AGENCIES - 1)
    elif who == "client":
        actor_kind, actor_id, agency = "client", 1, BUSY
    else:
        actor_kind, actor_id, agency = "user", 12 + (seq * 31) % (N_STAFF - 11), 1
    if otype == "referral":
        oid = 1 + (seq * 2654435761) % n_referrals
    elif otype == "user":
        oid = actor_id
    elif otype == "consent_record":
        oid = 1 + (seq * 40503) % (N_WOMEN * CONSENTS_PER_WOMAN)
    else:
        oid = 1
    if data:
        data = {k: (1 + (seq * 13 + i) % 299 if v == 0 else v) for i, (k, v) in enumerate(data.items())}
    return {
        "seq": seq,
        "occurred_at": first + dt.timedelta(seconds=(700 * 86400 * seq) // total),
        "actor_kind": actor_kind,
        "actor_id": actor_id,
        "actor_agency_id": agency,
        "action": action,
        "object_type": otype,
        "object_id": oid,
        "channel": channel,
        "ip": f"10.{seq % 200}.{seq % 97}.{seq % 251}",
        "data": data,
    }


def _audit_chunk(job: tuple[int, int, int, int, dt.datetime, list[str]]) -> list[tuple[str, str, str]]:
    """Entries start..stop-1: (canonical text before and after the previous hash, COPY line up to it)."""
    start, stop, total, n_referrals, first, extra = job
    entry = _entry_class(extra)()
    for name in extra:
        setattr(entry, name, None)
    out = []
    for seq in range(start, stop):
        f = _audit_fields(seq, total, n_referrals, first)
        for name, value in f.items():
            setattr(entry, name, value)
        entry.prev_hash = PLACEHOLDER
        parts = entry.canonical().split(PLACEHOLDER)
        if len(parts) != 2:
            raise RuntimeError("AuditEvent.canonical() no longer holds prev_hash once, verbatim")
        payload = json.dumps(f["data"]).replace("\\", "\\\\")
        prefix = (
            f"{seq}\t{f['occurred_at'].isoformat()}\t{f['actor_kind']}\t{f['actor_id']}\t{f['actor_agency_id']}\t"
            f"{f['action']}\t{f['object_type']}\t{f['object_id']}\t{f['channel']}\t{f['ip']}\t{payload}\t"
        )
        out.append((parts[0], parts[1], prefix))
    return out


def write_audit(conn: psycopg.Connection[Any], total: int, n_referrals: int, now: dt.datetime) -> int:
    """Stream ``total`` audit entries with COPY, in seq order, in one chain hashed by the hub's own
    AuditEvent.canonical / compute_hash. Worker processes make the canonical texts; this process links
    them (each needs the hash before it), and re-checks every 50,000th entry the plain way."""
    import multiprocessing

    from hub.audit import GENESIS, AuditEvent

    # Columns the log may gain later: nullable ones are None, as a new entry of the hub would have them.
    extra = [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = 'audit_events' AND column_name <> 'id' AND column_name <> ALL(%s)",
            (list(AUDIT_COLUMNS),),
        ).fetchall()
    ]
    entry = _entry_class(extra)()
    for name in extra:
        setattr(entry, name, None)

    class Linked:
        """An entry whose canonical text is already made: AuditEvent.compute_hash hashes it."""

        __slots__ = ("text",)
        compute_hash = AuditEvent.compute_hash

        def canonical(self) -> str:
            return self.text

    linked = Linked()
    first = now - dt.timedelta(days=700)
    chunk = 20_000
    jobs = [(s, min(s + chunk, total + 1), total, n_referrals, first, extra) for s in range(1, total + 1, chunk)]
    cols = ", ".join(AUDIT_COLUMNS)
    prev = GENESIS
    seq = 0
    ctx = multiprocessing.get_context("fork")
    with (
        ctx.Pool(processes=2) as workers,
        conn.cursor() as cur,
        cur.copy(f"COPY audit_events ({cols}) FROM STDIN") as copy,
    ):
        # At most 4 chunks made ahead of the linking (imap would queue them all in memory).
        pending: collections.deque[Any] = collections.deque()
        todo = iter(jobs)
        for job in itertools.islice(todo, 4):
            pending.append(workers.apply_async(_audit_chunk, (job,)))
        while pending:
            rows = pending.popleft().get()
            job = next(todo, None)
            if job is not None:
                pending.append(workers.apply_async(_audit_chunk, (job,)))
            buf = []
            for head, tail, prefix in rows:
                seq += 1
                linked.text = head + prev + tail
                digest = linked.compute_hash()
                if seq % 50_000 == 1:  # the same entry, built and hashed the plain way
                    for name, value in _audit_fields(seq, total, n_referrals, first).items():
                        setattr(entry, name, value)
                    entry.prev_hash = prev
                    if entry.compute_hash() != digest:
                        raise RuntimeError(f"audit entry {seq}: linked hash differs from AuditEvent's")
                buf.append(f"{prefix}{prev}\t{digest}\n")
                prev = digest
            copy.write("".join(buf))
            if seq % 1_000_000 < chunk:
                log(f"audit: {seq:,} entries")
    return seq


# ---------------------------------------------------------------------------------------------
# Helpers for the harness


def meta_of(db: str) -> dict[str, Any]:
    with psycopg.connect(url_of(db)) as conn:
        return dict(conn.execute("SELECT key, value FROM bench_meta").fetchall())


def make_session(db: str) -> str:
    """A live, signed-in session of the busy agency's officer: the Cookie header value."""
    meta = meta_of(db)
    app = app_for(db)
    with app.app_context():
        from hub.auth.models import User
        from hub.auth.services import start_session
        from hub.db import db as hub_db
        from hub.db import unit_of_work

        with app.test_request_context("/"), unit_of_work():
            user = hub_db.session.get(User, meta["officer_user_id"])
            token = start_session(user, "127.0.0.1")
        value = app.session_interface.get_signing_serializer(app).dumps({"sid": token})  # type: ignore[attr-defined]
        name = app.config["SESSION_COOKIE_NAME"]
        hub_db.session.remove()
        hub_db.engine.dispose()
    return f"{name}={value}"


def reset_pool(db: str, out: Path | None = None) -> Path:
    """Put the acknowledgement pool back to 'sent' (acknowledge by: 2 working days from today, so not
    overdue); write its ids to a file, one a line, for the wrk script. Returns the file."""
    from hub.db import today
    from hub.workdays import add_working_days

    meta = meta_of(db)
    due = add_working_days(today(), 2)
    with psycopg.connect(url_of(db), autocommit=True) as conn:
        sets = "status = 'sent', acknowledged_at = NULL, decide_by = NULL, acknowledge_by = %(due)s"
        if has_column(conn, "referrals", "due_on"):
            sets += ", due_on = %(due)s"
        conn.execute(
            f"UPDATE referrals SET {sets} WHERE id = ANY(%(ids)s) AND status <> 'sent'",
            {"due": due, "ids": meta["pool"]},
        )
    out = out or Path(f"/tmp/bench-pool-{db}.txt")
    out.write_text("\n".join(str(i) for i in meta["pool"]) + "\n")
    return out


def escalation_prep(db: str, due: int) -> dict[str, int]:
    """Record every stage due by today as sent, then take back ``due`` of them: first the stages that fell
    due today (a normal day's work), then a random mix of earlier ones (a backlog), so that the chase job
    has ``due`` reminders to send; and forget what earlier chase runs notified."""
    from hub.db import today

    on = today()
    _, stage_rows = calendar_rows(on)
    with psycopg.connect(url_of(db), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE stagewd (d date PRIMARY KEY, stages int, wd int)")
        with conn.cursor() as cur, cur.copy("COPY stagewd (d, stages, wd) FROM STDIN") as copy:
            for row in stage_rows:
                copy.write_row(row)
        conn.execute("DELETE FROM notifications WHERE kind IN ('referral.overdue', 'referral.escalated')")
        conn.execute(
            """
            CREATE TEMP TABLE due_now AS
            SELECT r.id, d.deadline, d.due, st AS stage, st = s.wd AS todays
            FROM referrals r,
                 LATERAL (SELECT CASE r.status WHEN 'sent' THEN 'acknowledge' ELSE 'decide' END AS deadline,
                                 CASE r.status WHEN 'sent' THEN r.acknowledge_by ELSE r.decide_by END AS due) d
                 JOIN stagewd s ON s.d = d.due,
                 generate_series(1, s.stages) st
            WHERE (r.status = 'sent' AND r.acknowledge_by < %(on)s)
               OR (r.status = 'acknowledged' AND r.decide_by < %(on)s)
            """,
            {"on": on},
        )
        conn.execute(
            """
            INSERT INTO referral_reminders (referral_id, deadline, due_on, stage, sent_at, recipients)
            SELECT id, deadline, due, stage, now(), 1 FROM due_now
            ON CONFLICT DO NOTHING
            """
        )
        conn.execute(
            """
            DELETE FROM referral_reminders rr USING (
              SELECT id, deadline, due, stage FROM due_now ORDER BY todays DESC, md5(id::text || stage) LIMIT %(n)s
            ) x
            WHERE rr.referral_id = x.id AND rr.deadline = x.deadline AND rr.due_on = x.due AND rr.stage = x.stage
            """,
            {"n": due},
        )
        overdue = conn.execute("SELECT count(DISTINCT id) FROM due_now").fetchone()[0]  # type: ignore[index]
        stages = conn.execute("SELECT count(*) FROM due_now").fetchone()[0]  # type: ignore[index]
        reminders = conn.execute("SELECT count(*) FROM referral_reminders").fetchone()[0]  # type: ignore[index]
    return {"overdue_referrals": overdue, "stages_due_in_all": stages, "left_due": min(due, stages),
            "reminders": reminders}  # fmt: skip


def verify(db: str) -> str:
    app = app_for(db)
    with app.app_context():
        from hub.audit import verify_chain

        t0 = time.monotonic()
        report = verify_chain()
        return f"ok={report.ok} checked={report.checked} head={report.head_seq} broken={report.broken_seq} " \
               f"reason={report.reason} in {time.monotonic() - t0:.1f} s"  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["build", "session", "reset-pool", "escalation-prep", "info", "verify"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--referrals", type=int, default=10_000)
    parser.add_argument("--recreate", action="store_true")
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument(
        "--audit-per-referral",
        type=int,
        default=AUDIT_PER_REFERRAL,
        help="audit entries per referral (the reports' bench needs few)",
    )
    args = parser.parse_args()
    if args.command == "build":
        build(args.db, args.referrals, args.recreate, args.audit_per_referral)
    elif args.command == "session":
        print(make_session(args.db))
    elif args.command == "reset-pool":
        print(reset_pool(args.db))
    elif args.command == "escalation-prep":
        print(json.dumps(escalation_prep(args.db, args.due)))
    elif args.command == "info":
        meta = meta_of(args.db)
        meta["pool"] = f"{len(meta['pool'])} ids, {meta['pool'][0]}..{meta['pool'][-1]}"
        print(json.dumps(meta, indent=2))
    elif args.command == "verify":
        print(verify(args.db))


if __name__ == "__main__":
    main()
