"""EXPLAIN check: does each statement of the inbox use an index, or read every row of the agency's?

    .venv/bin/python bench/explain.py --db bench_hub_1m            # verdicts, and each plan in short
    .venv/bin/python bench/explain.py --db bench_hub_1m --plans    # the full text plans as well

On a database made by bench/generate.py (its bench_meta names the busy agency's officer and OAuth
client), inside the hub's app context, it makes the two requests the harness loads, with the hub's own
test client, and captures every statement they issue with a SQLAlchemy ``before_cursor_execute`` event:
  - the partner inbox page, ``GET /inbox``, as the officer (a session opened with ``start_session``);
  - the API list, ``GET /api/v1/referrals?status=sent&per_page=25``, with a token of the agency's client.
Then it runs ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` on each SELECT with the same parameters. For
every scan it counts the rows read (returned + removed by filter or index recheck, times loops), and
for every sort the rows it sorted: a statement that reads or sorts more than --bound rows of any table
(default: 1,000, i.e. 40 pages of 25, or one more than the hub's own cap on counts,
``referrals.queries.COUNT_CAP``, if that is higher) grows with the data, whatever its node type (a sequential scan,
a bitmap heap scan of all the agency's rows, or an index scan that walks all of them, e.g. for a count
or for a sort that keeps 25).
Exit status 0 if every statement stays within the bound, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402


def walk(node: dict[str, Any], depth: int = 0) -> list[tuple[int, dict[str, Any]]]:
    out = [(depth, node)]
    for child in node.get("Plans", []):
        out += walk(child, depth + 1)
    return out


def rows_read(node: dict[str, Any]) -> int:
    loops = node.get("Actual Loops", 1) or 1
    return int(
        (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
         + node.get("Rows Removed by Index Recheck", 0)) * loops
    )  # fmt: skip


def describe(node: dict[str, Any]) -> str:
    what = node["Node Type"]
    if node.get("Index Name"):
        what += f" using {node['Index Name']}"
    if node.get("Relation Name"):
        what += f" on {node['Relation Name']}"
    extra = f", {node['Sort Method']}" if node.get("Sort Method") else ""
    loops = node.get("Actual Loops", 1) or 1
    return (
        f"{what}: {int(node.get('Actual Rows', 0) * loops):,} rows out, {rows_read(node):,} read, "
        f"{node.get('Actual Total Time', 0):.1f} ms{extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--bound", type=int, default=None)
    parser.add_argument("--plans", action="store_true")
    args = parser.parse_args()

    meta = generate.meta_of(args.db)
    app = generate.app_for(args.db)
    import sqlalchemy as sa

    from hub.auth.models import User
    from hub.auth.services import start_session
    from hub.db import db, unit_of_work
    from referrals import queries

    if args.bound is None:
        args.bound = max(1000, getattr(queries, "COUNT_CAP", 0) + 1)
    bad = 0
    with app.app_context():
        officer = db.session.get(User, meta["officer_user_id"])
        assert officer is not None
        with app.test_request_context("/"), unit_of_work():
            sid = start_session(officer, "127.0.0.1")
        cookie = app.session_interface.get_signing_serializer(app).dumps({"sid": sid})  # type: ignore[attr-defined]
        client = app.test_client()
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
        basic = base64.b64encode(f"{meta['client_id']}:{meta['client_secret']}".encode()).decode()
        answer = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "referrals:read referrals:write"},
            headers={"Authorization": f"Basic {basic}"},
        )
        bearer = {"Authorization": f"Bearer {answer.get_json()['access_token']}"}
        with db.engine.connect() as conn:
            visible = conn.execute(
                sa.text(
                    "SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM referrals "
                    "WHERE agency_id = :a AND status <> 'draft' AND sent_at IS NOT NULL"
                ),
                {"a": meta["busy_agency_id"]},
            ).one()
        print(
            f"{args.db}: {meta['referrals']:,} referrals; the officer's agency ({meta['busy_agency_id']}) sees "
            f"{visible[0]:,} of them, {visible[1]:,} sent. Bound: {args.bound:,} rows read or sorted per statement."
        )
        cases = [
            ("inbox page", "GET /inbox", {}),
            ("API list", "GET /api/v1/referrals?status=sent&per_page=25", bearer),
        ]
        for title, request_line, headers in cases:
            captured: list[tuple[str, Any]] = []

            def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
                captured.append((statement, parameters))  # noqa: B023

            sa.event.listen(db.engine, "before_cursor_execute", capture)
            try:
                response = client.get(request_line.split(" ", 1)[1], headers=headers)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", capture)
            print(f"\n# {title} ({request_line}): {response.status_code}, {len(captured)} statement(s)")
            for i, (statement, parameters) in enumerate(captured, 1):
                short = " ".join(statement.split())
                short = short[:100] + ("..." if len(short) > 100 else "")
                if not statement.lstrip().upper().startswith("SELECT"):
                    print(f"== {title} {i}: {short}\n  (not a SELECT: not explained)")
                    continue
                with db.engine.connect() as conn:
                    explain = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement
                    plan = conn.exec_driver_sql(explain, parameters).scalar()
                    text = ""
                    if args.plans:
                        rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                        text = "\n".join(r[0] for r in rows)
                plan = plan if isinstance(plan, list) else json.loads(plan)
                top = plan[0]["Plan"]
                nodes = walk(top)
                scans = [n for _, n in nodes if n.get("Relation Name")]
                sorts = [n for _, n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")]
                worst_scan = max(scans, key=rows_read, default=None)
                read = rows_read(worst_scan) if worst_scan else 0
                sorted_rows = max((sum(rows_read(c) for c in s.get("Plans", [])) for s in sorts), default=0)
                buffers = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
                print(f"== {title} {i}: {short}")
                print(f"  {plan[0].get('Execution Time', 0):.2f} ms, {buffers:,} buffers")
                shown = ("Sort", "Incremental Sort", "Limit", "Aggregate")
                for depth, node in nodes:
                    if node.get("Relation Name") or node["Node Type"] in shown:
                        print(f"  -> {'  ' * depth}{describe(node)}")
                how = ", ".join(
                    sorted({f"{n['Node Type']}{' (' + n['Index Name'] + ')' if n.get('Index Name') else ''} on "
                            f"{n['Relation Name']}" for n in scans})
                )  # fmt: skip
                if read > args.bound or sorted_rows > args.bound:
                    bad += 1
                    what = f"reads {read:,} rows of {worst_scan['Relation Name']}" if worst_scan else "reads nothing"
                    if sorted_rows > args.bound:
                        what += f", sorts {sorted_rows:,}"
                    print(f"  verdict: {what} ({how}): grows with the data")
                else:
                    print(f"  verdict: bounded ({how or 'no table read'}; at most {max(read, sorted_rows):,} rows)")
                if text:
                    print("\n".join("     " + line for line in text.splitlines()))
    print(f"\n{bad} statement(s) read or sort more than {args.bound:,} rows.")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
