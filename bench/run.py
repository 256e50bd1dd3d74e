"""The load test: the hub against a bare Flask + SQLAlchemy + psycopg baseline, at 10k and 1M referrals.

Run it as root from the repository root, with the project's virtualenv (about 20-25 minutes on 2 cores,
generation of both databases included; nothing else should be loading the machine):

    .venv/bin/python bench/run.py                      # 10k and 1M, escalation timing and EXPLAIN at 1M
    .venv/bin/python bench/run.py --sizes 10k          # the quick check, about 3 minutes
    .venv/bin/python bench/run.py --reuse              # keep hub databases already generated at that size
    .venv/bin/python bench/run.py --escalation-only    # only time the chase job on bench_hub_1m

What it does:
1. installs wrk from Debian if it is missing (apt-get install -y wrk);
2. seeds the baseline's database (bench_baseline, 1M items) unless it is there already;
3. for each size: generates the hub's database with bench/generate.py (bench_hub_10k, bench_hub_1m;
   migrations, then the data), serves the hub and the baseline the same way (gunicorn, 4 sync workers,
   127.0.0.1, ports 8601 and 8602; the hub with SECRET_KEY set, HUB_SECURE_COOKIES=false and
   HUB_REQUIRE_2FA=true: its session is made beforehand), and for each endpoint
      inbox_html  GET /inbox as the busy agency's officer (a session cookie made with the hub's start_session)
      api_list    GET /api/v1/referrals?status=sent&per_page=25 (bearer token from /oauth/token just before)
      api_detail  GET /api/v1/referrals/<id>, cycling through 500 of the agency's open referrals
      ack         POST /api/v1/referrals/<id>/acknowledge, cycling through the pool, put back to 'sent'
                  before every run (the run is cut short if the pool would run out before it ends)
   runs a warm-up of each (discarded), then, at 32 and at 4 connections: baseline, hub (--rounds times);
   the baseline answers every read with GET /inbox and every acknowledgement with POST /ack/<id>;
4. at 1M: times `flask hub scheduler --once referrals.chase-overdue` twice, first with about 10,000
   reminders due (bench/generate.py escalation-prep), then with nothing due; and runs bench/explain.py;
5. appends a dated section to bench/results.md: per size x endpoint x connections, hub and baseline
   req/s and their ratio, p50/p95 of each and the p95 ratio, non-2xx answers, the 1-minute load
   average before each run; then the growth of each endpoint's p95 from 10k to 1M; the escalation times.
   Raw figures (one JSON line per wrk run) go to bench/runs/<stamp>.jsonl.

Servers started here are stopped on any exit (normal, error, Ctrl-C, SIGTERM, SIGHUP).
"""

from __future__ import annotations

import argparse
import atexit
import base64
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "baseline"))

import generate  # noqa: E402

PY = str(ROOT / ".venv/bin/python")
GUNICORN = str(ROOT / ".venv/bin/gunicorn")
FLASK = str(ROOT / ".venv/bin/flask")
HOST = "127.0.0.1"
HUB_PORT, BASE_PORT = 8601, 8602
WORKERS = 4
BASELINE_DB = "bench_baseline"
BASELINE_TOKEN = "baseline-bench-token-0123456789abcdef"  # bench/baseline/app.py TOKEN
BASELINE_POOL = 50_000  # bench/baseline/app.py POOL
ENDPOINTS = ("inbox_html", "api_list", "api_detail", "ack")
CONNS = (32, 4)

_servers: list[subprocess.Popen[bytes]] = []


def log(msg: str) -> None:
    print(f"[run {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# Servers ---------------------------------------------------------------------------------------------


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    if proc in _servers:
        _servers.remove(proc)


def cleanup() -> None:
    for proc in list(_servers):
        stop(proc)


def _on_signal(signum: int, _frame: Any) -> None:
    log(f"signal {signum}: stopping the servers")
    cleanup()
    sys.exit(128 + signum)


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((HOST, port)) == 0


def serve(name: str, args: list[str], env: dict[str, str], cwd: Path, port: int, ready_path: str, logdir: Path) -> Any:
    if port_in_use(port):
        raise SystemExit(f"port {port} is already in use: stop whatever listens there first")
    cmd = [GUNICORN, "-w", str(WORKERS), "-k", "sync", "-b", f"{HOST}:{port}", "--timeout", "120", *args]
    out = open(logdir / f"{name}.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    _servers.append(proc)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited at start: see {logdir / (name + '.log')}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}{ready_path}", timeout=5) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{name} did not answer {ready_path} within 90 s")


def hub_env(db: str) -> dict[str, str]:
    env = generate.hub_env(db)
    env.update(HUB_REQUIRE_2FA="true", HUB_SECURE_COOKIES="false", SECRET_KEY="bench")
    return env


def serve_hub(db: str, logdir: Path) -> Any:
    return serve("hub", ["wsgi:app"], hub_env(db), ROOT, HUB_PORT, "/sign-in", logdir)


def serve_baseline(logdir: Path) -> Any:
    env = dict(os.environ, BASELINE_DATABASE_URL=generate.url_of(BASELINE_DB))
    return serve("baseline", ["--chdir", str(BENCH / "baseline"), "app:app"], env, ROOT, BASE_PORT, "/health", logdir)


# wrk -------------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    log("installing wrk (apt-get install -y wrk)")
    result = subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, text=True)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def wrk(url: str, conns: int, seconds: float, headers: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(BENCH / "wrk.lua")]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    before = load1()
    result = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures: {result.stdout}\n{result.stderr}")
    out = json.loads(line[len("BENCH_JSON ") :])
    out["load_before"] = before
    out["cmd"] = " ".join(c.split(":")[0] + ": ..." if c.startswith(("Cookie:", "Authorization:")) else c for c in cmd)
    return out


# The endpoints ----------------------------------------------------------------------------------------


def hub_token(meta: dict[str, Any]) -> str:
    basic = base64.b64encode(f"{meta['client_id']}:{meta['client_secret']}".encode()).decode()
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "referrals:read referrals:write"})
    req = urllib.request.Request(
        f"http://{HOST}:{HUB_PORT}/oauth/token",
        data=body.encode(),
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return str(json.loads(r.read())["access_token"])


def detail_ids(db: str, workdir: Path) -> Path:
    """500 open referrals of the busy agency, outside the pool, that its partners may read in full."""
    meta = generate.meta_of(db)
    with psycopg.connect(generate.url_of(db)) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM referrals WHERE agency_id = %s AND status IN ('acknowledged', 'accepted', "
                "'in_progress') AND NOT basis_lost AND id <> ALL(%s) ORDER BY md5(id::text) LIMIT 500",
                (meta["busy_agency_id"], meta["pool"]),
            ).fetchall()
        ]
    path = workdir / f"detail-{db}.txt"
    path.write_text("\n".join(map(str, ids)) + "\n")
    return path


def baseline_pool(workdir: Path) -> Path:
    path = workdir / "baseline-pool.txt"
    if not path.exists():
        path.write_text("\n".join(str(i) for i in range(1, BASELINE_POOL + 1)) + "\n")
    return path


def reset_baseline_pool() -> None:
    with psycopg.connect(generate.url_of(BASELINE_DB), autocommit=True) as conn:
        conn.execute(
            "UPDATE items SET status = 'sent', acknowledged_at = NULL WHERE id <= %s AND status <> 'sent'",
            (BASELINE_POOL,),
        )


def measure_size(size: str, n: int, db: str, args: argparse.Namespace, workdir: Path, out: Any) -> list[dict[str, Any]]:
    meta = generate.meta_of(db)
    hub_proc = serve_hub(db, workdir)
    rows: list[dict[str, Any]] = []
    try:
        cookie = (
            subprocess.run(
                [PY, str(BENCH / "generate.py"), "session", "--db", db], capture_output=True, text=True, check=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        details = detail_ids(db, workdir)
        base_url = f"http://{HOST}:{BASE_PORT}"
        hub_url = f"http://{HOST}:{HUB_PORT}"
        base_auth = [f"Authorization: Bearer {BASELINE_TOKEN}"]
        for endpoint in ENDPOINTS:
            if endpoint not in args.endpoints:
                continue
            hub_headers: list[str]
            hub_env_: dict[str, str] = {}
            base_env: dict[str, str] = {}
            if endpoint == "inbox_html":
                hub_target, hub_headers = f"{hub_url}/inbox", [f"Cookie: {cookie}"]
            else:
                hub_headers = [f"Authorization: Bearer {hub_token(meta)}"]
                if endpoint == "api_list":
                    hub_target = f"{hub_url}/api/v1/referrals?status=sent&per_page=25"
                elif endpoint == "api_detail":
                    hub_target = hub_url
                    hub_env_ = {"BENCH_IDS": str(details), "BENCH_PATH": "/api/v1/referrals/%d", "BENCH_THREADS": "2"}
                else:
                    hub_target = hub_url
            base_target = f"{base_url}/inbox"
            if endpoint == "ack":
                pool_path = generate.reset_pool(db, workdir / f"pool-{db}.txt")
                hub_env_ = {"BENCH_IDS": str(pool_path), "BENCH_PATH": "/api/v1/referrals/%d/acknowledge",
                            "BENCH_METHOD": "POST", "BENCH_THREADS": "2"}  # fmt: skip
                base_target = base_url
                base_env = {"BENCH_IDS": str(baseline_pool(workdir)), "BENCH_PATH": "/ack/%d", "BENCH_METHOD": "POST",
                            "BENCH_THREADS": "2"}  # fmt: skip

            def reset(which: str, endpoint: str = endpoint) -> None:
                if endpoint == "ack":
                    time.sleep(1)  # acknowledgements still in flight from the last run commit first
                    if which == "hub":
                        generate.reset_pool(db, workdir / f"pool-{db}.txt")
                    else:
                        reset_baseline_pool()

            # Warm-up, discarded (its rate sizes the acknowledgement runs to the pool).
            reset("baseline")
            wrk(base_target, 32, args.warmup, base_auth, base_env)
            reset("hub")
            warm = wrk(hub_target, 32, args.warmup, hub_headers, hub_env_)
            hub_seconds = float(args.duration)
            if endpoint == "ack":
                pool = len(meta["pool"])
                # The warm-up's rate understates a warm hub's: leave room for twice as fast.
                hub_seconds = max(2.0, min(hub_seconds, 0.5 * pool / max(warm["rps"], 1.0)))
            for rnd in range(1, args.rounds + 1):
                for conns in CONNS:
                    for app, target, headers, env, seconds in (
                        ("baseline", base_target, base_auth, base_env, float(args.duration)),
                        ("hub", hub_target, hub_headers, hub_env_, hub_seconds),
                    ):
                        reset(app)
                        result = wrk(target, conns, seconds, headers, env)
                        result.update(size=size, referrals=n, endpoint=endpoint, conns=conns, app=app, round=rnd)
                        rows.append(result)
                        out.write(json.dumps(result) + "\n")
                        out.flush()
                        log(
                            f"{size} {endpoint:10} c{conns:<2} {app:8} {result['rps']:8.1f} req/s  "
                            f"p50 {result['p50_ms']:7.1f}  p95 {result['p95_ms']:7.1f} ms  non-2xx {result['non2xx']}"
                            f"  load {result['load_before']:.2f}"
                        )
    finally:
        stop(hub_proc)
    if "ack" in args.endpoints:  # once the hub has stopped: no acknowledgement still in flight
        generate.reset_pool(db, workdir / f"pool-{db}.txt")
    return rows


# Escalation ---------------------------------------------------------------------------------------------


def time_escalation(db: str, due: int, timeout: int) -> list[dict[str, Any]]:
    log(f"escalation: leaving about {due:,} reminders due on {db}")
    prep = json.loads(
        subprocess.run(
            [PY, str(BENCH / "generate.py"), "escalation-prep", "--db", db, "--due", str(due)],
            capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]
    )  # fmt: skip
    runs = []
    for label in ("with reminders due", "nothing due"):
        counts = _counts(db)
        load = load1()
        start = time.monotonic()
        cmd = [FLASK, "--app", "wsgi", "hub", "scheduler", "--once", "referrals.chase-overdue"]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=hub_env(db), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
        _servers.append(proc)  # stopped on exit like the servers
        try:
            output, _ = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            stop(proc)
            output, timed_out = b"", True
        if proc in _servers:
            _servers.remove(proc)
        wall = time.monotonic() - start
        after = _counts(db)
        run = {
            "label": label,
            "wall_s": round(wall, 1),
            "timed_out": timed_out,
            "load_before": load,
            "reminders_sent": after["reminders"] - counts["reminders"],
            "notifications": after["notifications"] - counts["notifications"],
            "output": output.decode(errors="replace").strip().splitlines()[-1:] if output else [],
            "prep": prep,
        }
        runs.append(run)
        log(f"escalation {label}: {run['wall_s']} s, {run['reminders_sent']} reminders, "
            f"{run['notifications']} notifications {run['output']}")  # fmt: skip
    return runs


def _counts(db: str) -> dict[str, int]:
    with psycopg.connect(generate.url_of(db)) as conn:
        return {
            "reminders": conn.execute("SELECT count(*) FROM referral_reminders").fetchone()[0],  # type: ignore[index]
            "notifications": conn.execute("SELECT count(*) FROM notifications").fetchone()[0],  # type: ignore[index]
        }


# Results ---------------------------------------------------------------------------------------------


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in rows))


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def results_section(
    rows: list[dict[str, Any]],
    sizes: list[tuple[str, int, str]],
    gen: dict[str, dict[str, Any]],
    escalation: list[dict[str, Any]] | None,
    explain: str | None,
    args: argparse.Namespace,
    started: float,
    stamp: str,
) -> str:
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        "",
        f"## Load test, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC (`bench/run.py`, code at {commit})",
        "",
        f"Command: `.venv/bin/python bench/run.py {' '.join(sys.argv[1:])}`. gunicorn {WORKERS} sync workers "
        f"for each app on {HOST}; wrk 4.1 `-t2 --timeout 30s`, {args.warmup} s warm-up per app and endpoint "
        f"(discarded), then {args.duration} s per run, {args.rounds} round(s), baseline then hub at 32 and at "
        "4 connections. Hub: `SECRET_KEY` set, `HUB_SECURE_COOKIES=false`, `HUB_REQUIRE_2FA=true`; baseline: "
        "`bench/baseline/app.py` on its own 1M rows (reads: `GET /inbox`; acknowledgements: `POST /ack/<id>`). "
        "Ratios are hub / baseline (req/s) and hub / baseline (p95). Load: 1-minute load average just before "
        "the baseline / the hub run. Raw: " + f"`bench/runs/{stamp}.jsonl`.",
        "",
    ]
    for size, n, db in sizes:
        g = gen.get(size)
        if g:
            c = g.get("counts", {})
            lines.append(
                f"- {size} (`{db}`): {n:,} referrals, {c.get('referral_events', 0):,} events, "
                f"{c.get('audit_events', 0):,} audit entries, {g.get('database_size', '?')}; the officer's agency "
                f"sees {g.get('busy_visible', 0):,} referrals ({g.get('busy_sent', 0):,} sent, "
                f"acknowledgement pool {len(g.get('pool', [])):,}); "
                + (f"generated in {g['seconds']:.0f} s." if "seconds" in g else "reused.")
            )
    lines += [
        "",
        "| size | endpoint | conns | hub req/s | baseline req/s | ratio | hub p50 / p95 ms | baseline p50 / p95 ms "
        "| p95 ratio | non-2xx hub / baseline | load before (baseline / hub) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    summary: dict[tuple[str, str, int], dict[str, float]] = {}
    for size, _n, _db in sizes:
        for endpoint in ENDPOINTS:
            for conns in CONNS:
                key = (size, endpoint, conns)
                hub = [r for r in rows if (r["size"], r["endpoint"], r["conns"]) == key and r["app"] == "hub"]
                base = [r for r in rows if (r["size"], r["endpoint"], r["conns"]) == key and r["app"] == "baseline"]
                if not hub or not base:
                    continue
                h = {k: _median(hub, k) for k in ("rps", "p50_ms", "p95_ms")}
                b = {k: _median(base, k) for k in ("rps", "p50_ms", "p95_ms")}
                summary[(size, endpoint, conns)] = h
                non2xx = f"{sum(r['non2xx'] for r in hub)} / {sum(r['non2xx'] for r in base)}"
                loads = ", ".join(
                    f"{b_['load_before']:.2f} / {h_['load_before']:.2f}" for b_, h_ in zip(base, hub, strict=True)
                )
                lines.append(
                    f"| {size} | {endpoint} | {conns} | {_fmt(h['rps'])} | {_fmt(b['rps'])} | "
                    f"{h['rps'] / b['rps']:.3f} | {_fmt(h['p50_ms'])} / {_fmt(h['p95_ms'])} | "
                    f"{_fmt(b['p50_ms'])} / {_fmt(b['p95_ms'])} | {h['p95_ms'] / b['p95_ms']:.1f} | {non2xx} "
                    f"| {loads} |"
                )
    if len(sizes) >= 2:
        small, large = sizes[0][0], sizes[-1][0]
        lines += [
            "",
            f"Growth of the hub's p95 from {small} to {large} referrals (target: at most 1.5):",
            "",
            f"| endpoint | conns | p95 at {small} ms | p95 at {large} ms | growth |",
            "| --- | --- | --- | --- | --- |",
        ]
        for endpoint in ENDPOINTS:
            for conns in CONNS:
                a, b_ = summary.get((small, endpoint, conns)), summary.get((large, endpoint, conns))
                if a and b_:
                    lines.append(
                        f"| {endpoint} | {conns} | {_fmt(a['p95_ms'])} | {_fmt(b_['p95_ms'])} | "
                        f"{b_['p95_ms'] / a['p95_ms']:.2f} |"
                    )
    acks = [r for r in rows if r["endpoint"] == "ack" and r["app"] == "hub"]
    if acks:
        durations = ", ".join(sorted({f"{r['duration_s']:.0f}" for r in acks}))
        lines += [
            "",
            f"Acknowledgement runs of the hub lasted {durations} s "
            "(shortened, if at all, so the pool of referrals in 'sent' lasts the run); "
            f"409 answers: {sum(r['s409'] for r in acks)}.",
        ]
    if escalation:
        lines += [
            "",
            f"Escalation job at {sizes[-1][0]} (`flask hub scheduler --once referrals.chase-overdue`, wall time "
            f"with process start; prepared by `bench/generate.py escalation-prep`: "
            f"{escalation[0]['prep'].get('overdue_referrals', '?'):,} overdue referrals, "
            f"{escalation[0]['prep'].get('left_due', '?'):,} reminders left due):",
            "",
            "| run | wall s | reminders recorded | notifications | load before | job output |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for e in escalation:
            wall = f"> {e['wall_s']} (stopped)" if e["timed_out"] else f"{e['wall_s']}"
            lines.append(
                f"| {e['label']} | {wall} | {e['reminders_sent']:,} | {e['notifications']:,} | {e['load_before']:.2f} "
                f"| {' '.join(e['output'])[:120]} |"
            )
    if explain:
        lines += ["", f"`bench/explain.py --db {sizes[-1][2]}`:", "", "```", explain.strip(), "```"]
    lines += ["", f"Whole run: {(time.monotonic() - started) / 60:.1f} min.", ""]
    return "\n".join(lines)


# Main ---------------------------------------------------------------------------------------------------


def parse_size(text: str) -> tuple[str, int, str]:
    t = text.strip().lower()
    n = int(float(t[:-1]) * (1000 if t.endswith("k") else 1_000_000)) if t[-1] in "km" else int(t)
    return t, n, f"bench_hub_{t}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10k,1m", help="comma-separated, e.g. 10k,1m (smallest first)")
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of discarded warm-up per app and endpoint")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--reuse", action="store_true", help="keep a hub database already generated at that size")
    parser.add_argument("--no-escalation", action="store_true")
    parser.add_argument("--escalation-only", action="store_true")
    parser.add_argument("--escalation-due", type=int, default=10_000)
    parser.add_argument("--escalation-timeout", type=int, default=900)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/results.md")
    args = parser.parse_args()
    args.endpoints = [e for e in args.endpoints.split(",") if e]
    sizes = [parse_size(s) for s in args.sizes.split(",") if s]
    started = time.monotonic()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    workdir = Path(f"/tmp/bench-run-{stamp}")
    workdir.mkdir(parents=True)
    atexit.register(cleanup)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)

    if args.escalation_only:
        size, n, db = sizes[-1]
        runs = time_escalation(db, args.escalation_due, args.escalation_timeout)
        section = results_section([], [(size, n, db)], {}, runs, None, args, started, stamp)
        print(section)
        if not args.no_results:
            with open(BENCH / "results.md", "a") as f:
                f.write(section)
        return

    ensure_wrk()
    with psycopg.connect(generate.url_of("postgres")) as conn:
        have_baseline = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BASELINE_DB,)).fetchone()
    if not have_baseline:
        log("seeding the baseline's database")
        subprocess.run([PY, str(BENCH / "baseline/app.py"), "seed", "--db", BASELINE_DB], check=True)
    raw_dir = workdir if args.no_results else BENCH / "runs"
    raw_dir.mkdir(exist_ok=True)
    raw = open(raw_dir / f"{stamp}.jsonl", "w")  # noqa: SIM115
    rows: list[dict[str, Any]] = []
    gen: dict[str, dict[str, Any]] = {}
    escalation = None
    explain = None
    base_proc = serve_baseline(workdir)
    failure = None
    try:
        for size, n, db in sizes:
            meta = None
            if args.reuse:
                try:
                    meta = generate.meta_of(db)
                    meta = meta if meta.get("referrals") == n else None
                except psycopg.Error:
                    meta = None
            if meta is None:
                log(f"generating {db} ({n:,} referrals)")
                stop(base_proc)  # nothing else on the cores while generating
                result = subprocess.run(
                    [PY, str(BENCH / "generate.py"), "build", "--db", db, "--referrals", str(n), "--recreate"],
                    cwd=ROOT,
                )
                if result.returncode != 0:
                    raise RuntimeError(f"generation of {db} failed (exit {result.returncode})")
                meta = generate.meta_of(db)
                base_proc = serve_baseline(workdir)
            else:
                meta.pop("seconds", None)
            gen[size] = meta
            log(f"measuring {size}")
            rows += measure_size(size, n, db, args, workdir, raw)
        stop(base_proc)
        size, n, db = sizes[-1]
        if not args.no_escalation and n >= 1_000_000:
            escalation = time_escalation(db, args.escalation_due, args.escalation_timeout)
        if not args.no_explain:
            result = subprocess.run([PY, str(BENCH / "explain.py"), "--db", db], capture_output=True, text=True)
            (workdir / "explain.txt").write_text(result.stdout + result.stderr)
            explain = result.stdout if result.stdout.strip() else result.stderr[-2000:]
    except Exception as exc:  # keep what was measured; say what failed
        failure = f"{type(exc).__name__}: {exc}"
        log(f"FAILED: {failure}")
    finally:
        cleanup()
        raw.close()
    if failure:
        explain = (explain or "") + f"\nThe run stopped early: {failure}"
    section = results_section(rows, sizes, gen, escalation, explain, args, started, stamp)
    print(section)
    if not args.no_results:
        with open(BENCH / "results.md", "a") as f:
            f.write(section)
    log(f"done in {(time.monotonic() - started) / 60:.1f} min; servers' logs in {workdir}")


if __name__ == "__main__":
    main()
