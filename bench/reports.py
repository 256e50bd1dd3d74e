"""The reports at national scale: how long the reports' pages, download and API take on the databases of
``bench/generate.py`` (10k and 1M referrals), with the rest of the partnership added at the same scale.

    .venv/bin/python bench/generate.py build --db bench_hub_1m --referrals 1000000 --recreate --audit-per-referral 1
    .venv/bin/python bench/reports.py                   # both sizes; appends a section to bench/results.md
    .venv/bin/python bench/reports.py --sizes 10k --rounds 3

A database that does not exist yet is generated first (with one audit entry per referral: the reports
never read the audit trail). What ``generate.py`` does not make is added here once, with SQL set
operations, in proportion to the referrals: custody episodes (one per 50 referrals, three in four
released over the last two years, each with eight plan items from the catalogue), 100 weekly drop-ins
over two years with their records and five agencies' attendance each, and 50 forums meeting monthly
for two years with ten cases and ten actions a meeting.

Each request runs in-process through the Flask test client (a signed-in manager of the host
organisation; a host system's token for the API): one warm-up, then ``--rounds`` timed runs; the table
gives the median and the slowest, and how many SQL statements each sent. Periods: the last twelve
months (the page's default) and the last two years (every referral the generator made: a million at
the 1M size). Compare figures within one run only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402

RESULTS = ROOT / "bench" / "results.md"
SIZES = {"10k": 10_000, "1m": 1_000_000}
NEEDS = ("meet", "treatment", "probation_appointment", "id", "gp_register", "night_one", "release_pack", "benefits")
PATHWAYS = ("day_of_release", "substance_use", "day_of_release", "finance_and_id", "health", "accommodation",
            "day_of_release", "finance_and_id")  # fmt: skip


def log(msg: str) -> None:
    print(f"[reports {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def exists(db: str) -> bool:
    with psycopg.connect(f"{generate.PG}/postgres") as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone() is not None


def fill_working_days(db: str) -> None:
    """The working days each acknowledgement and decision took (the hub keeps them when an agency acts;
    generate.py writes the times only): set-based, once."""
    from hub import workdays

    with psycopg.connect(generate.url_of(db), autocommit=True) as conn:
        missing = conn.execute("SELECT count(*) FROM referrals WHERE acknowledged_at IS NOT NULL "
                               "AND acknowledge_working_days IS NULL").fetchone()  # fmt: skip
        if not missing or not missing[0]:
            return
        log(f"filling the working days of {missing[0]:,} acknowledged referrals")
        first = conn.execute("SELECT min(sent_at) FROM referrals").fetchone()[0]  # type: ignore[index]
        day, end, n, rows = first.date() - dt.timedelta(days=2), dt.datetime.now(dt.UTC).date() + dt.timedelta(2), 0, []
        while day <= end:
            n += workdays.is_working_day(day)
            rows.append((day, n))
            day += dt.timedelta(days=1)
        with conn.transaction():
            conn.execute("CREATE TEMP TABLE wd (day date PRIMARY KEY, n integer) ON COMMIT DROP")
            with conn.cursor().copy("COPY wd (day, n) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.execute("""
                UPDATE referrals r SET acknowledge_working_days = greatest(b.n - a.n, 0),
                       decide_working_days = CASE WHEN r.decided_at IS NOT NULL THEN greatest(c.n - b.n, 0) END
                FROM wd a, wd b, wd c
                WHERE r.acknowledged_at IS NOT NULL AND r.sent_at IS NOT NULL
                  AND a.day = timezone('Europe/London', r.sent_at)::date
                  AND b.day = timezone('Europe/London', r.acknowledged_at)::date
                  AND c.day = timezone('Europe/London', coalesce(r.decided_at, r.acknowledged_at))::date
            """)
        conn.execute("VACUUM ANALYZE referrals")


def add_the_rest(db: str, n: int) -> dict[str, int]:
    """Custody, plans, the drop-in and the forum, at the scale of ``n`` referrals; once."""
    episodes, now = max(n // 50, 100), dt.datetime.now(dt.UTC)
    today = now.date()
    with psycopg.connect(generate.url_of(db), autocommit=True) as conn:
        if conn.execute("SELECT count(*) FROM forum_actions").fetchone()[0]:  # type: ignore[index]
            return _counts(conn)  # added before (the forum's actions come last)
        for table in (
            "forum_actions",
            "forum_cases",
            "forum_meetings",
            "forums",
            "rota_attendance",
            "rota_session_records",
            "rota_sessions",
            "release_plan_items",
            "custody_episodes",
        ):
            conn.execute(f"DELETE FROM {table}")
        log(f"adding {episodes:,} custody episodes with their plans, 100 drop-ins and 50 forums")
        conn.execute("""
            INSERT INTO custody_episodes (reference, service_user_id, prison_agency_id, custody_type, release_type,
                nominal_release_on, date_told_by, status, statutory_on, expected_on, plan_on, rule, ask_the_prison,
                cycle, released_on, night_one, agencies_untold, created_at, updated_at)
            SELECT 'C-B' || lpad(e::text, 9, '0'), 1 + (e * 7919) %% 100000, 3 + e %% 290, 'sentenced', 'automatic',
                   d, '', CASE WHEN e %% 4 <> 0 THEN 'released' ELSE 'in_custody' END, d, d, d, 'none', false, 1,
                   CASE WHEN e %% 4 <> 0 THEN d END,
                   CASE WHEN e %% 4 <> 0 THEN (ARRAY['settled','other_housed','probation_accommodation','homeless',
                        'rough_sleeping','unknown'])[1 + e %% 6] END,
                   CASE WHEN e %% 4 <> 0 THEN e %% 3 END,
                   (d - 120)::timestamp AT TIME ZONE 'UTC', %(now)s
            FROM generate_series(1, %(n)s) e,
                 LATERAL (SELECT CASE WHEN e %% 4 <> 0 THEN %(today)s::date - (e %% 730)
                                      ELSE %(today)s::date + (e %% 200) END AS d) x
        """, {"n": episodes, "today": today, "now": now})  # fmt: skip
        conn.execute("""
            INSERT INTO release_plan_items (custody_id, need, pathway, title, status, responsible, done_on,
                created_at, updated_at)
            SELECT c.id, (%(needs)s::text[])[k], (%(pathways)s::text[])[k], 'Bench item ' || k,
                   CASE WHEN (c.id + k) %% 3 = 0 THEN 'not_started' WHEN (c.id + k) %% 3 = 1 THEN 'in_progress'
                        ELSE 'done' END, 'charity',
                   CASE WHEN (c.id + k) %% 3 = 2 THEN c.plan_on + ((c.id + k) %% 30 - 10) END, %(now)s, %(now)s
            FROM custody_episodes c, generate_series(1, 8) k
        """, {"needs": list(NEEDS), "pathways": list(PATHWAYS), "now": now})  # fmt: skip
        conn.execute("""
            INSERT INTO rota_sessions (date, starts_at, ends_at, venue, status, cancel_reason, bank_holiday, edited,
                created_at, updated_at)
            SELECT %(today)s::date - 7 * w - v %% 5, '10:00', '13:00', 'Drop-in ' || v,
                   CASE WHEN (w + v) %% 25 = 0 THEN 'cancelled' ELSE 'scheduled' END, '', '', false, %(now)s, %(now)s
            FROM generate_series(1, 104) w, generate_series(1, 100) v
        """, {"today": today, "now": now})  # fmt: skip
        conn.execute(
            """
            INSERT INTO rota_session_records (session_id, women_attended, new_women, created_at, updated_at)
            SELECT id, 5 + id %% 20, id %% 4, %(now)s, %(now)s FROM rota_sessions WHERE status = 'scheduled'
        """,
            {"now": now},
        )
        conn.execute("""
            INSERT INTO rota_attendance (session_id, agency_id, attendance, women_seen)
            SELECT s.id, 2 + (s.id * 13 + k * 59) %% %(partners)s,
                   (ARRAY['attended','attended','attended','late','left_early','cancelled_with_notice','no_show'])
                       [1 + (s.id + k) %% 7], k
            FROM rota_sessions s, generate_series(1, 5) k WHERE s.status = 'scheduled'
            ON CONFLICT DO NOTHING
        """, {"partners": 298})  # fmt: skip
        conn.execute("""
            INSERT INTO forums (name, venue, weekday, week_of_month, starts_at, duration_minutes, agenda_days,
                minutes_days, confidentiality, standing_items, created_at, updated_at)
            SELECT 'Bench forum ' || f, '', 1, 2, '10:00', 120, 5, 3, 'Confidential.', '[]', %(now)s, %(now)s
            FROM generate_series(1, 50) f
        """, {"now": now})  # fmt: skip
        conn.execute("""
            INSERT INTO forum_meetings (forum_id, starts_at, ends_at, venue, status, held_at, confidentiality,
                cancel_reason, minutes, created_at, updated_at)
            SELECT f.id, t, t + interval '2 hours', '', 'held', t + interval '2 hours', 'Confidential.', '', '',
                   %(now)s, %(now)s
            FROM forums f, generate_series(1, 24) m,
                 LATERAL (SELECT %(now)s::timestamptz - (m * 30 + f.id %% 20) * interval '1 day' AS t) x
        """, {"now": now})  # fmt: skip
        conn.execute("""
            INSERT INTO forum_cases (meeting_id, service_user_id, label, reason, nominated_by_kind, repeat,
                withdrawn_reason, discussion, created_at, updated_at)
            SELECT m.id, 1 + (m.id * 101 + k * 977) %% 100000, 'FC-B' || lpad((m.id * 10 + k)::text, 8, '0'),
                   'Bench', 'user', false, '', '', %(now)s, %(now)s
            FROM forum_meetings m, generate_series(1, 10) k
        """, {"now": now})  # fmt: skip
        conn.execute("""
            INSERT INTO forum_actions (reference, forum_id, meeting_id, text, agency_id, due_on, status, closed_on,
                closed_by_kind, close_note, created_at, updated_at)
            SELECT 'FA-B' || lpad((m.id * 10 + k)::text, 8, '0'), m.forum_id, m.id, 'Bench action',
                   2 + (m.id * 7 + k * 31) %% 298, (m.starts_at + interval '21 days')::date,
                   CASE WHEN k %% 4 = 0 THEN 'open' ELSE 'done' END,
                   CASE WHEN k %% 4 <> 0 THEN (m.starts_at + (14 + k * 2) * interval '1 day')::date END,
                   '', '', %(now)s, %(now)s
            FROM forum_meetings m, generate_series(1, 10) k
        """, {"now": now})  # fmt: skip
        conn.execute("VACUUM ANALYZE")
        return _counts(conn)


def _counts(conn: Any) -> dict[str, int]:
    tables = ("referrals", "consent_records", "custody_episodes", "release_plan_items", "rota_sessions",
              "rota_attendance", "forum_meetings", "forum_cases", "forum_actions")  # fmt: skip
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def measure(db: str, rounds: int) -> list[dict[str, Any]]:
    app = generate.app_for(db)
    import sqlalchemy as sa

    from hub.auth.models import User
    from hub.auth.services import start_session
    from hub.db import db as hub_db
    from hub.db import unit_of_work
    from hub.oauth.models import OAuthClient, secret_hash

    today = dt.datetime.now(dt.UTC).date()
    periods = {"12 months": (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1), "2 years":
               today - dt.timedelta(days=729)}  # fmt: skip
    with app.app_context():
        with app.test_request_context("/"), unit_of_work():
            manager = hub_db.session.get(User, 2)  # users 2-11 are the host's managers
            token = start_session(manager, "127.0.0.1")
            if hub_db.session.query(OAuthClient).filter_by(client_id="bench-reports").one_or_none() is None:
                hub_db.session.add(OAuthClient(
                    client_id="bench-reports", secret_hash=secret_hash("bench-reports-secret-0123456789"),
                    name="Bench reports", agency_id=1, acts_for_host=True, scope="reports:read"))  # fmt: skip
        hub_db.session.remove()
        engine = hub_db.engine
    # Each request then runs in an application context of its own, as in production (inside an outer
    # one, every request would share one database session and transaction).
    statements: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    client = app.test_client()
    with client.session_transaction() as session:
        session["sid"] = token
    answer = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                         auth=("bench-reports", "bench-reports-secret-0123456789"))  # fmt: skip
    headers = {"Authorization": f"Bearer {answer.json['access_token']}"}  # type: ignore[index]
    rows = []
    for period_name, start in periods.items():
        args = {"from": start.isoformat(), "to": today.isoformat()}
        requests = {
            "reports page (outside)": ("/reports/", args, {}),
            "reports page (exact)": ("/reports/", {**args, "audience": "internal"}, {}),
            "partnership page": ("/reports/partnership", args, {}),
            "indicators CSV": ("/reports/export", {**args, "report": "indicators", "format": "csv"}, {}),
            "partnership XLSX": ("/reports/export", {**args, "report": "partnership", "format": "xlsx"}, {}),
            "API indicators": ("/api/v1/reports/indicators", args, headers),
            "API partnership": ("/api/v1/reports/partnership", args, headers),
        }
        for name, (path, query, extra) in requests.items():
            got = client.get(path, query_string=query, headers=extra)
            assert got.status_code == 200, (name, got.status_code, got.get_data(as_text=True)[:300])
            times = []
            for _ in range(rounds):
                statements.clear()
                sa.event.listen(engine, "before_cursor_execute", counted)
                began = time.perf_counter()
                got = client.get(path, query_string=query, headers=extra)
                times.append(time.perf_counter() - began)
                sa.event.remove(engine, "before_cursor_execute", counted)
                assert got.status_code == 200, name
            rows.append({"period": period_name, "request": name, "median_s": statistics.median(times),
                         "max_s": max(times), "statements": len(statements)})  # fmt: skip
            log(f"{period_name:9} {name:24} median {statistics.median(times):.3f} s, max {max(times):.3f} s, "
                f"{len(statements)} statements")  # fmt: skip
    engine.dispose()
    return rows


def referrals_in(db: str, start: dt.date) -> int:
    with psycopg.connect(generate.url_of(db)) as conn:
        found = conn.execute("SELECT count(*) FROM referrals WHERE sent_at >= %s", (start,)).fetchone()
        return int(found[0]) if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10k,1m")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/results.md alone")
    args = parser.parse_args()
    began = time.time()
    sections, measured = [], {}
    for size in args.sizes.split(","):
        n, db = SIZES[size], f"bench_hub_{size}"
        if not exists(db):
            log(f"generating {db}")
            subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "build", "--db", db, "--referrals",
                            str(n), "--recreate", "--audit-per-referral", "1"], check=True)  # fmt: skip
        fill_working_days(db)
        counts = add_the_rest(db, n)
        today = dt.datetime.now(dt.UTC).date()
        year = referrals_in(db, (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1))
        two = referrals_in(db, today - dt.timedelta(days=729))
        listed = ", ".join(f"{v:,} {k}" for k, v in counts.items())
        sections.append(f"- {size} (`{db}`): {listed}; referrals sent in the last 12 months: {year:,}, in the "
                        f"last 2 years: {two:,}.")  # fmt: skip
        measured[size] = measure(db, args.rounds)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    lines = [
        f"\n## Reports at national scale, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC (`bench/reports.py`, code at "
        f"{commit.stdout.strip()}{'-dirty' if dirty else ''})\n",
        f"Command: `.venv/bin/python bench/reports.py --sizes {args.sizes} --rounds {args.rounds}`. In-process "
        "(Flask test client, one process, PostgreSQL 15 on loopback): a signed-in manager of the host "
        "organisation for the pages and downloads, a host system's token for the API; one warm-up, then "
        f"{args.rounds} timed runs of each. The 12 months run from the first of the month eleven months ago "
        "(the page's default); the 2 years are every referral the generator made.\n",
        *sections, "",
        "| size | period | request | median s | slowest s | statements |", "| --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for size, rows in measured.items():
        for r in rows:
            lines.append(f"| {size} | {r['period']} | {r['request']} | {r['median_s']:.3f} | {r['max_s']:.3f} | "
                         f"{r['statements']} |")  # fmt: skip
    if "10k" in measured and "1m" in measured:
        lines.append("\nRatio 1m / 10k of the median (the same request and period): " + ", ".join(
            f"{a['request']} ({a['period']}) {b['median_s'] / a['median_s']:.1f}x"
            for a, b in zip(measured["10k"], measured["1m"], strict=True) if a["period"] == "12 months"))  # fmt: skip
    lines.append(f"\nWhole run: {(time.time() - began) / 60:.1f} min.\n")
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(text)
    (ROOT / "bench" / "runs").mkdir(exist_ok=True)
    (ROOT / "bench" / "runs" / f"reports-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(measured))


if __name__ == "__main__":
    main()
