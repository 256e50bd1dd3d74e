"""Where one request's time goes, in process (no HTTP server, no wrk): for each bench endpoint, the mean
wall time per request, the statements it sends and, with --profile, the functions that take the time.

    .venv/bin/python bench/where.py --db bench_hub_10k [--n 300] [--profile inbox_html,ack]

It uses the same data as bench/run.py (bench/generate.py build) and the same requests; acknowledgements
take referrals of the pool, which it resets first and after. Figures here are for finding the cost, not
for results.md: bench/run.py measures what the issue asks.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import generate

ENDPOINTS = ("inbox_html", "api_list", "api_detail", "ack")


def _package(filename: str) -> str:
    """The package a profiled function belongs to: site-packages' top level, the hub's packages,
    else the standard library or a built-in."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    root = str(Path(__file__).resolve().parent.parent) + "/"
    if filename.startswith(root):
        return "hub:" + filename[len(root) :].split("/", 1)[0]
    if filename.endswith(".html"):
        return "templates"
    return "stdlib" if filename.startswith("/") else "builtins"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="bench_hub_10k")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", default="", help="comma-separated endpoints to profile")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--baseline", action="store_true", help="time the bare-stack baseline's GET /inbox too")
    parser.add_argument("--show", action="store_true", help="print the statements of one request of each")
    args = parser.parse_args()
    meta = generate.meta_of(args.db)
    cookie = generate.make_session(args.db)
    generate.reset_pool(args.db)
    app = generate.app_for(args.db)

    import sqlalchemy as sa

    from hub.db import db

    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    client = app.test_client()
    name, value = cookie.split("=", 1)
    client.set_cookie(name, value)
    basic = base64.b64encode(f"{meta['client_id']}:{meta['client_secret']}".encode()).decode()
    r = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "referrals:read referrals:write"},
        headers={"Authorization": f"Basic {basic}"},
    )
    bearer = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    with generate.psycopg.connect(generate.url_of(args.db)) as conn:
        details = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM referrals WHERE agency_id = %s AND status IN ('acknowledged', 'accepted', "
                "'in_progress') AND NOT basis_lost AND id <> ALL(%s) ORDER BY md5(id::text) LIMIT 500",
                (meta["busy_agency_id"], meta["pool"]),
            )
        ]
    pool = iter(meta["pool"])
    it = iter(range(10**9))

    def call(endpoint: str) -> Any:
        if endpoint == "inbox_html":
            return client.get("/inbox")
        if endpoint == "api_list":
            return client.get("/api/v1/referrals?status=sent&per_page=25", headers=bearer)
        if endpoint == "api_detail":
            return client.get(f"/api/v1/referrals/{details[next(it) % len(details)]}", headers=bearer)
        return client.post(f"/api/v1/referrals/{next(pool)}/acknowledge", headers=bearer)

    wanted = {e for e in args.profile.split(",") if e}
    if args.baseline:
        sys.path.insert(0, str(Path(__file__).resolve().parent / "baseline"))
        import app as baseline  # type: ignore[import-not-found]

        base = baseline.create_app().test_client()
        auth = {"Authorization": f"Bearer {baseline.TOKEN}"}
        for _ in range(20):
            base.get("/inbox", headers=auth)
        rounds = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            for _ in range(args.n):
                base.get("/inbox", headers=auth)
            rounds.append((time.perf_counter() - start) * 1000 / args.n)
        print(f"{'baseline':11} {min(rounds):6.2f} ms/request (best of {args.rounds}, GET /inbox)")
    try:
        for endpoint in ENDPOINTS:
            for _ in range(20):  # warm
                resp = call(endpoint)
                assert resp.status_code == 200, (endpoint, resp.status_code, resp.get_data(as_text=True)[:300])
            if args.show:
                statements.clear()
                call(endpoint)
                print(f"-- {endpoint}:")
                for text in statements:
                    print("   ", " ".join(text.split())[:160])
            statements.clear()
            prof = cProfile.Profile() if endpoint in wanted else None
            rounds = []
            for _ in range(args.rounds):
                statements.clear()
                start = time.perf_counter()
                if prof:
                    prof.enable()
                for _ in range(args.n):
                    call(endpoint)
                if prof:
                    prof.disable()
                rounds.append((time.perf_counter() - start) * 1000 / args.n)
            print(
                f"{endpoint:11} {min(rounds):6.2f} ms/request (best of {args.rounds}), "
                f"{len(statements) / args.n:.1f} statements"
            )
            if prof:
                by_package: dict[str, float] = {}
                for (filename, _line, _name), row in pstats.Stats(prof).stats.items():  # type: ignore[attr-defined]
                    package = _package(filename)
                    by_package[package] = by_package.get(package, 0.0) + row[2]
                total = sum(by_package.values())
                print(
                    "   own time by package:",
                    ", ".join(
                        f"{k} {v / total:.0%}" for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])[:14]
                    ),
                )
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(args.top)
                print(out.getvalue())
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(args.top)
                print(out.getvalue())
    finally:
        generate.reset_pool(args.db)


if __name__ == "__main__":
    main()
