"""EXPLAIN check: do the inbox's statements use an index, or read every referral of the agency?

    .venv/bin/python bench/explain.py --db bench_hub_1m            # the verdicts, and each plan in short
    .venv/bin/python bench/explain.py --db bench_hub_1m --plans    # the full text plans as well

Inside the hub's app context, as the busy agency's officer (bench_meta of a database made by
bench/generate.py), it calls ``referrals.queries.list_referrals`` the way the partner inbox page does
(page 1, 25 a page) and the way the API list does (``status=sent``), captures every statement it issues
with a SQLAlchemy ``before_cursor_execute`` event, and runs ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)``
on each with the same parameters. For every scan of ``referrals`` it counts the rows it had to read
(returned + removed by filter or recheck): a statement that reads more than --bound rows (default 1,000,
i.e. 40 pages of 25) of a large agency is O(the agency's referrals), whatever its node type (a sequential
scan, a bitmap heap scan, or an index scan that walks all of them, e.g. for a count or for a sort that
keeps 25).
Exit status 0 if every statement stays within the bound, 1 otherwise.
"""

from __future__ import annotations

import argparse
import inspect
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
    extra = ""
    if node.get("Sort Method"):
        extra = f", {node['Sort Method']}"
    loops = node.get("Actual Loops", 1) or 1
    return (
        f"{what}: {node.get('Actual Rows', 0) * loops:,} rows out, {rows_read(node):,} read, "
        f"{node.get('Actual Total Time', 0):.1f} ms{extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--bound", type=int, default=1000)
    parser.add_argument("--plans", action="store_true")
    args = parser.parse_args()

    meta = generate.meta_of(args.db)
    app = generate.app_for(args.db)
    import sqlalchemy as sa

    from hub.auth.models import User
    from hub.db import db
    from referrals import queries
    from referrals.states import Status

    bad = 0
    with app.app_context(), app.test_request_context("/inbox"):
        officer = db.session.get(User, meta["officer_user_id"])
        assert officer is not None
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
            f"{visible[0]:,} of them, {visible[1]:,} sent. Bound: {args.bound:,} rows read per statement."
        )
        accepted = set(inspect.signature(queries.list_referrals).parameters)
        cases = [
            ("partner inbox page (GET /inbox)", {"page": 1, "per_page": 25}),
            ("inbox filtered to sent (as GET /api/v1/referrals?status=sent)", {"status": Status.SENT, "page": 1, "per_page": 25}),
        ]  # fmt: skip
        for title, kwargs in cases:
            captured: list[tuple[str, Any]] = []

            def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
                captured.append((statement, parameters))  # noqa: B023

            sa.event.listen(db.engine, "before_cursor_execute", capture)
            try:
                queries.list_referrals(officer, **{k: v for k, v in kwargs.items() if k in accepted})
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", capture)
                db.session.rollback()
            print(f"\n# {title}: {len(captured)} statement(s)")
            for i, (statement, parameters) in enumerate(captured, 1):
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                with db.engine.connect() as conn:
                    plan = conn.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
                    ).scalar()
                    text = (
                        "\n".join(
                            r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                        )
                        if args.plans
                        else ""
                    )
                plan = plan if isinstance(plan, list) else json.loads(plan)
                top = plan[0]["Plan"]
                nodes = walk(top)
                scans = [n for _, n in nodes if n.get("Relation Name") == "referrals"]
                worst = max((rows_read(n) for n in scans), default=0)
                sorts = [n for _, n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")]
                sorted_in = max((sum(rows_read(c) for c in s.get("Plans", [])) for s in sorts), default=0)
                worst = max(worst, sorted_in)
                kinds = sorted({n["Node Type"] + (f" ({n['Index Name']})" if n.get("Index Name") else "") for n in scans})
                hits = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
                short = " ".join(statement.split())
                short = short[:110] + ("..." if len(short) > 110 else "")
                print(f"== {title.split(' (')[0]}, statement {i}: {short}")
                print(f"  {plan[0].get('Execution Time', 0):.1f} ms, {hits:,} buffers")
                for depth, node in nodes:
                    if node.get("Relation Name") == "referrals" or node["Node Type"] in ("Sort", "Limit", "Aggregate"):
                        print(f"  -> {'  ' * depth}{describe(node)}")
                if worst > args.bound:
                    bad += 1
                    verdict = (
                        f"reads {worst:,} rows of the agency's referrals ({', '.join(kinds) or 'no scan'}"
                        f"{', then sorts them' if sorted_in > args.bound else ''}): grows with the agency's referrals"
                    )
                else:
                    verdict = f"bounded: {', '.join(kinds) or 'no scan of referrals'}, at most {worst:,} rows read"
                print(f"  verdict: {verdict}")
                if text:
                    print("\n".join("     " + line for line in text.splitlines()))
    print(f"\n{bad} statement(s) read more than {args.bound:,} rows.")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
