"""Faults and load: a soak, a PostgreSQL restart under load, two schedulers at once, on a private cluster.

Run it as root from the repository root, with the project's virtualenv (about 12 minutes with the
default 5-minute soak; nothing else should be loading the machine):

    .venv/bin/python bench/faults.py                   # everything, soak of 5 minutes
    .venv/bin/python bench/faults.py --minutes 2       # a shorter soak
    .venv/bin/python bench/faults.py --keep            # leave the private cluster running afterwards
    .venv/bin/python bench/faults.py --no-results      # do not append to bench/results.md

What it does:
1. a private PostgreSQL 15 cluster, so that its restarts never disturb the shared server on 5432:
   `initdb` (trust auth, as the `postgres` OS user) into /tmp/hubbench-pg, started on 127.0.0.1:5499;
   a hub database there (bench_faults_10k: the migrations, then bench/generate.py's data at the 10k
   size, except that the acknowledgement pool is --pool referrals (default 12,000) instead of 4,000,
   so that the soak and both restart runs each acknowledge fresh referrals: 8,500 others + the pool);
2. serves the hub as bench/run.py does (gunicorn, 4 sync workers, 127.0.0.1, here port 8611;
   SECRET_KEY set, HUB_SECURE_COOKIES=false, HUB_REQUIRE_2FA=true);
3. soak: wrk -t2 -c32 for --minutes with bench/soak.lua (of every 10 requests: 6 API inbox lists,
   2 API details, 1 HTML inbox page, 1 acknowledgement of a pool referral), counting responses by
   status; pass = only 2xx, no socket errors or timeouts, the pool never ran out;
4. restart under load, twice (`pg_ctl restart -m fast -w`, then `-m immediate`), the pool put back to
   'sent' before each: 28 threads acknowledging pool referrals (each once, no retry) and 4 threads
   reading the API inbox, one keep-alive http.client connection each, for 60 s; the restart at 20 s.
   Every response is recorded with its time (bench/runs/faults-<stamp>-<mode>.jsonl.gz). Reported: the
   statuses answered while pg_ctl restart ran (must be 503 with Retry-After), the time from pg_ctl
   returning to the first 200, 500s (must be 0; their exceptions from the gunicorn log), and for every
   acknowledgement answered 200 whether its referral is `acknowledged` afterwards (must be all);
5. two schedulers: `bench/generate.py escalation-prep --due N` leaves reminders due; one
   `flask --app wsgi hub scheduler --once referrals.chase-overdue` alone (what one run records); the
   same preparation again, then two such processes started at the same moment; compares the reminders
   and notifications recorded and looks for duplicated (referral, deadline, due_on, stage) and
   duplicated notification dedupe_key;
6. appends a dated section to bench/results.md; stops and deletes the private cluster at the end (on
   any exit: normal, error, Ctrl-C, SIGTERM, SIGHUP), unless --keep.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import gzip
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
import run  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_DIR = Path("/tmp/hubbench-pg")
PG_DATA = PG_DIR / "data"
PG_PORT = 5499
PG_URL = f"postgresql://postgres@127.0.0.1:{PG_PORT}"
DB = "bench_faults_10k"
PORT = 8611
ACK_THREADS, READ_THREADS = 28, 4
RESTART_AT, RESTART_RUN = 20.0, 60.0
LIST_PATH = "/api/v1/referrals?status=sent&per_page=25"

# Everything generate.py and run.py do goes to the private cluster and this port.
generate.PG = PG_URL
os.environ["BENCH_PG"] = PG_URL
run.HUB_PORT = PORT


def log(msg: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# The private cluster ----------------------------------------------------------------------------------


def as_postgres(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *cmd], cwd="/tmp", capture_output=True, text=True, check=check
    )


def pg_ctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """pg_ctl as postgres; its output (and, with -l, the server's) to files, never to a pipe: a server it
    starts would inherit the pipe and the call would wait for the server's end."""
    log_args = ["-l", str(PG_DIR / "postgres.log")] if args and args[0] in ("start", "restart") else []
    with open(PG_DIR / "pg_ctl.out", "a") as out:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(PG_DATA), *args, *log_args],
            cwd="/tmp", stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, text=True, check=check,
        )  # fmt: skip


def destroy_cluster() -> None:
    if (PG_DATA / "postmaster.pid").exists():
        pg_ctl("stop", "-m", "immediate", "-w", check=False)
    shutil.rmtree(PG_DIR, ignore_errors=True)


def create_cluster() -> None:
    destroy_cluster()
    PG_DIR.mkdir(parents=True)
    shutil.chown(PG_DIR, "postgres", "postgres")
    log(f"initdb {PG_DATA}; starting it on 127.0.0.1:{PG_PORT}")
    as_postgres(str(PG_BIN / "initdb"), "-D", str(PG_DATA), "--auth=trust", "-U", "postgres", "-E", "UTF8",
                "--no-sync")  # fmt: skip
    opts = f"-p {PG_PORT} -k {PG_DIR} -c listen_addresses=127.0.0.1 -c max_connections=100"
    pg_ctl("start", "-o", opts, "-w")


def build_db(pool: int) -> dict[str, Any]:
    """The 10k data set, with a bigger acknowledgement pool (the pool is the first referrals built)."""
    others = 10_000 - generate.pool_size(10_000)
    generate.pool_size = lambda n: pool  # type: ignore[assignment]
    log(f"building {DB}: {others + pool:,} referrals ({pool:,} of them the acknowledgement pool)")
    env = dict(os.environ, BENCH_PG=PG_URL)
    code = (
        "import sys; sys.path.insert(0, 'bench'); import generate; "
        f"generate.pool_size = lambda n: {pool}; generate.build({DB!r}, {others + pool}, True)"
    )
    subprocess.run([run.PY, "-c", code], cwd=ROOT, env=env, check=True)
    return generate.meta_of(DB)


# The hub --------------------------------------------------------------------------------------------


def serve(workdir: Path) -> Any:
    return run.serve("hub", ["wsgi:app"], run.hub_env(DB), ROOT, PORT, "/sign-in", workdir)


def session_cookie() -> str:
    out = subprocess.run([run.PY, str(BENCH / "generate.py"), "session", "--db", DB], cwd=ROOT,
                         env=dict(os.environ, BENCH_PG=PG_URL), capture_output=True, text=True, check=True)  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


def log_errors(path: Path, start: int) -> dict[str, int]:
    """Exception lines (``module.Error: message``) in the gunicorn log written after byte ``start``."""
    with open(path, "rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    found: collections.Counter[str] = collections.Counter()
    for line in text.splitlines():
        if re.match(r"^[\w.]+(Error|Exception|Failure)\b.*:", line):
            found[line.strip()[:200]] += 1
    found["(unhandled error, incident ...)"] = text.count("unhandled error")
    return {k: v for k, v in found.items() if v}


# 1. The soak ---------------------------------------------------------------------------------------------


def soak(minutes: float, meta: dict[str, Any], workdir: Path) -> dict[str, Any]:
    pool_file = generate.reset_pool(DB, workdir / "pool.txt")
    details = run.detail_ids(DB, workdir)
    env = dict(os.environ, BENCH_TOKEN=run.hub_token(meta), BENCH_COOKIE=session_cookie(),
               BENCH_DETAILS=str(details), BENCH_POOL=str(pool_file), BENCH_THREADS="2")  # fmt: skip
    seconds = round(minutes * 60)
    cmd = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--timeout", "30s", "-s", str(BENCH / "soak.lua"),
           f"http://{run.HOST}:{PORT}"]  # fmt: skip
    log(f"soak: {' '.join(cmd)}")
    before = run.load1()
    mem_before = worker_rss()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures: {result.stdout}\n{result.stderr}")
    out: dict[str, Any] = json.loads(line[len("BENCH_JSON ") :])
    out.update(load_before=before, load_after=run.load1(), cmd=" ".join(cmd), rss_before=mem_before,
               rss_after=worker_rss())  # fmt: skip
    with psycopg.connect(generate.url_of(DB)) as conn:
        out["acknowledged"] = conn.execute(
            "SELECT count(*) FROM referrals WHERE id = ANY(%s) AND status = 'acknowledged'", (meta["pool"],)
        ).fetchone()[0]  # type: ignore[index]
    bad = {s: c for s, c in out["statuses"].items() if not 200 <= int(s) < 300}
    out["passed"] = not bad and not out["pool_wrapped"] and not out["socket_errors"] and not out["timeouts"]
    log(f"soak: {out['requests']:,} requests, {out['rps']:.1f} req/s, statuses {out['statuses']}, "
        f"p50 {out['p50_ms']:.0f} p95 {out['p95_ms']:.0f} ms, passed {out['passed']}")  # fmt: skip
    return out


def worker_rss() -> int:
    """Total resident memory of the gunicorn processes serving the hub, in MB."""
    total = 0
    for proc in list(run._servers):
        pids = [proc.pid]
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        for pid in pids:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
    return total // 1024


# 2. The restart under load ------------------------------------------------------------------------------


class Client:
    def __init__(self, token: str) -> None:
        self.conn: http.client.HTTPConnection | None = None
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def call(self, method: str, path: str, t_zero: float) -> dict[str, Any]:
        t0 = time.monotonic()
        rec: dict[str, Any] = {"t0": round(t0 - t_zero, 4), "method": method, "path": path}
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(run.HOST, PORT, timeout=30)
            headers = dict(self.headers)
            body = None
            if method == "POST":
                headers["Content-Type"] = "application/json"
                body = b"{}"
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            resp.read()
            rec["status"] = resp.status
            rec["retry_after"] = resp.getheader("Retry-After")
            if resp.getheader("Connection", "").lower() == "close" or resp.will_close:
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException) as exc:
            rec["status"] = 0
            rec["error"] = f"{type(exc).__name__}: {exc}"
            if self.conn is not None:
                self.conn.close()
            self.conn = None
        rec["t1"] = round(time.monotonic() - t_zero, 4)
        return rec


def restart_run(mode: str, meta: dict[str, Any], workdir: Path, raw_dir: Path, stamp: str) -> dict[str, Any]:
    time.sleep(5)  # acknowledgements still in flight from the previous run commit before the pool is reset
    generate.reset_pool(DB, workdir / "pool.txt")
    token = run.hub_token(meta)
    pool: list[int] = list(meta["pool"])
    with psycopg.connect(generate.url_of(DB)) as conn:
        started_db = conn.execute("SELECT now()").fetchone()[0]  # type: ignore[index]
    hub_log = workdir / "hub.log"
    log_start = hub_log.stat().st_size
    records: list[dict[str, Any]] = []
    lock = threading.Lock()
    t_zero = time.monotonic()
    end = t_zero + RESTART_RUN

    def acker(ids: list[int]) -> None:
        client = Client(token)
        mine = []
        for ref_id in ids:
            if time.monotonic() >= end:
                break
            rec = client.call("POST", f"/api/v1/referrals/{ref_id}/acknowledge", t_zero)
            rec.update(kind="ack", id=ref_id)
            mine.append(rec)
        with lock:
            records.extend(mine)

    def reader() -> None:
        client = Client(token)
        mine = []
        while time.monotonic() < end:
            rec = client.call("GET", LIST_PATH, t_zero)
            rec["kind"] = "read"
            mine.append(rec)
        with lock:
            records.extend(mine)

    load = run.load1()
    threads = [threading.Thread(target=acker, args=(pool[i::ACK_THREADS],)) for i in range(ACK_THREADS)]
    threads += [threading.Thread(target=reader) for _ in range(READ_THREADS)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, t_zero + RESTART_AT - time.monotonic()))
    log(f"restart ({mode}): pg_ctl restart -m {mode} -w")
    r0 = time.monotonic() - t_zero
    restart = pg_ctl("restart", "-m", mode, "-w", check=False)
    r1 = time.monotonic() - t_zero
    for t in threads:
        t.join()
    records.sort(key=lambda r: r["t1"])
    with gzip.open(raw_dir / f"faults-{stamp}-{mode}.jsonl.gz", "wt") as f:
        f.write(json.dumps({"restart_from": r0, "restart_to": r1, "mode": mode}) + "\n")
        for rec in records:
            f.write(json.dumps(rec) + "\n")

    def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
        return dict(sorted(collections.Counter(str(r["status"]) for r in rows).items()))

    during = [r for r in records if r0 <= r["t1"] <= r1]
    during_bad = [r for r in during if r["status"] != 200]
    last_ok_before = max((r["t1"] for r in records if r["status"] == 200 and r["t1"] < r1), default=None)
    first_ok_after = min((r["t1"] for r in records if r["status"] == 200 and r["t1"] > r1), default=None)
    after_until_ok = [r for r in records if r1 < r["t1"] <= (first_ok_after or RESTART_RUN)]
    ack_ok = [r["id"] for r in records if r["kind"] == "ack" and r["status"] == 200]
    ack_failed = [r["id"] for r in records if r["kind"] == "ack" and r["status"] != 200]
    with psycopg.connect(generate.url_of(DB)) as conn:
        present = conn.execute(
            "SELECT count(*) FROM referrals WHERE id = ANY(%s) AND status = 'acknowledged' AND acknowledged_at >= %s",
            (ack_ok, started_db),
        ).fetchone()[0]  # type: ignore[index]
        failed_but_committed = conn.execute(
            "SELECT count(*) FROM referrals WHERE id = ANY(%s) AND status = 'acknowledged' AND acknowledged_at >= %s",
            (ack_failed, started_db),
        ).fetchone()[0]  # type: ignore[index]
    out = {
        "mode": mode,
        "load_before": load,
        "restart_from": round(r0, 2),
        "restart_to": round(r1, 2),
        "restart_rc": restart.returncode,
        "all": counts(records),
        "acks": counts([r for r in records if r["kind"] == "ack"]),
        "reads": counts([r for r in records if r["kind"] == "read"]),
        "during": counts(during),
        "during_503_without_retry_after": sum(1 for r in during_bad if r["status"] == 503 and not r["retry_after"]),
        "during_other": counts([r for r in during_bad if r["status"] != 503]),
        "after_until_first_200": counts([r for r in after_until_ok if r["status"] != 200]),
        "last_200_before": last_ok_before,
        "first_200_after": first_ok_after,
        "to_first_200_s": None if first_ok_after is None else round(first_ok_after - r1, 3),
        "s500": sum(1 for r in records if r["status"] == 500),
        "connection_errors": sorted({r["error"] for r in records if r["status"] == 0})[:5],
        "acks_200": len(ack_ok),
        "acks_200_present": present,
        "acks_failed_but_committed": failed_but_committed,
        "log_errors": log_errors(hub_log, log_start),
    }
    non503 = [s for s in out["during"] if s not in ("200", "503")]
    out["passed"] = (
        not non503
        and not out["during_503_without_retry_after"]
        and out["s500"] == 0
        and present == len(ack_ok)
        and out["to_first_200_s"] is not None
        and out["to_first_200_s"] <= 1.0
    )
    log(f"restart {mode}: {json.dumps({k: v for k, v in out.items() if k != 'log_errors'})}")
    return out


# 3. Two schedulers ----------------------------------------------------------------------------------------


SCHED = [run.FLASK, "--app", "wsgi", "hub", "scheduler", "--once", "referrals.chase-overdue"]


def _sched_counts() -> dict[str, int]:
    with psycopg.connect(generate.url_of(DB)) as conn:

        def one(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])  # type: ignore[index]

        return {
            "reminders": one("SELECT count(*) FROM referral_reminders"),
            "notifications": one("SELECT count(*) FROM notifications"),
            "dup_reminders": one(
                "SELECT count(*) FROM (SELECT 1 FROM referral_reminders GROUP BY referral_id, deadline, due_on, "
                "stage HAVING count(*) > 1) x"
            ),
            "dup_dedupe_keys": one(
                "SELECT count(*) FROM (SELECT 1 FROM notifications WHERE dedupe_key IS NOT NULL "
                "GROUP BY dedupe_key HAVING count(*) > 1) x"
            ),
        }


def _prep(due: int) -> dict[str, Any]:
    out = subprocess.run([run.PY, str(BENCH / "generate.py"), "escalation-prep", "--db", DB, "--due", str(due)],
                         cwd=ROOT, env=dict(os.environ, BENCH_PG=PG_URL), capture_output=True, text=True,
                         check=True)  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _sched_run(n: int) -> dict[str, Any]:
    before = _sched_counts()
    with psycopg.connect(generate.url_of(DB)) as conn:
        runs_before = int(conn.execute("SELECT coalesce(max(id), 0) FROM job_runs").fetchone()[0])  # type: ignore[index]
    procs = [
        subprocess.Popen(
            SCHED,
            cwd=ROOT,
            env=run.hub_env(DB),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(n)
    ]
    run._servers.extend(procs)  # stopped on exit like the server
    outputs = []
    for p in procs:
        out, _ = p.communicate(timeout=600)
        run._servers.remove(p)
        outputs.append({"rc": p.returncode, "last": out.decode(errors="replace").strip().splitlines()[-2:]})
    after = _sched_counts()
    with psycopg.connect(generate.url_of(DB)) as conn:
        job_runs = [
            list(r)
            for r in conn.execute(
                "SELECT outcome, count(*) FROM job_runs WHERE id > %s GROUP BY outcome ORDER BY outcome",
                (runs_before,),
            ).fetchall()
        ]
    return {
        "reminders": after["reminders"] - before["reminders"],
        "notifications": after["notifications"] - before["notifications"],
        "dup_reminders": after["dup_reminders"],
        "dup_dedupe_keys": after["dup_dedupe_keys"],
        "job_runs": job_runs,
        "processes": outputs,
    }


def two_schedulers(due: int) -> dict[str, Any]:
    prep = _prep(due)
    log(f"schedulers: prepared {prep}; one scheduler alone")
    one = _sched_run(1)
    log(f"schedulers: one alone {one}")
    prep2 = _prep(due)
    log(f"schedulers: prepared again {prep2}; two at once")
    two = _sched_run(2)
    log(f"schedulers: two at once {two}")
    passed = (
        two["reminders"] == one["reminders"]
        and two["notifications"] == one["notifications"]
        and two["dup_reminders"] == 0
        and two["dup_dedupe_keys"] == 0
    )
    return {"prep": prep, "prep2": prep2, "one": one, "two": two, "passed": passed}


# Results ---------------------------------------------------------------------------------------------


def section(res: dict[str, Any], args: argparse.Namespace, meta: dict[str, Any], stamp: str, started: float) -> str:
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()  # fmt: skip
    ok = {True: "**pass**", False: "**FAIL**", None: "not run"}
    lines = [
        "",
        f"## Faults, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC (`bench/faults.py`, code at {commit})",
        "",
        f"Command: `.venv/bin/python bench/faults.py {' '.join(sys.argv[1:])}`. A private PostgreSQL 15 cluster "
        f"(initdb into {PG_DIR}, 127.0.0.1:{PG_PORT}, default settings, deleted afterwards), database `{DB}`: "
        f"{meta.get('referrals', 0):,} referrals of which {len(meta.get('pool', [])):,} are the acknowledgement "
        f"pool (generate.py's 10k data set with the pool raised from 4,000). The hub as in bench/run.py: "
        f"gunicorn {run.WORKERS} sync workers on {run.HOST}:{PORT}. "
        f"Raw responses: `bench/runs/faults-{stamp}-*.jsonl.gz`.",
        "",
    ]
    s = res.get("soak")
    if s:
        lines += [
            f"### Soak: 32 connections for {args.minutes:g} minutes, mixed: {ok[s['passed']]}",
            "",
            f"`{s['cmd']}` (`bench/soak.lua`: of every 10 requests, 6 API inbox lists, 2 API details, 1 HTML inbox, "
            "1 acknowledgement of the next pool referral).",
            "",
            f"- {s['requests']:,} requests in {s['duration_s']:.0f} s ({s['rps']:.1f} req/s); statuses "
            f"{s['statuses']}; socket errors {s['socket_errors']}, timeouts {s['timeouts']}; "
            f"pool ran out: {'yes' if s['pool_wrapped'] else 'no'}; {s['acknowledged']:,} pool referrals "
            "acknowledged.",
            f"- Latency p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, "
            f"max {s['max_ms']:.0f} ms. Load {s['load_before']:.2f} before, {s['load_after']:.2f} after; "
            f"gunicorn resident memory {s['rss_before']} MB -> {s['rss_after']} MB.",
            "",
        ]
    restarts = res.get("restarts", [])
    if restarts:
        lines += [
            f"### PostgreSQL restarted under load: {ok[all(r['passed'] for r in restarts)]}",
            "",
            f"{ACK_THREADS} threads acknowledging pool referrals (each once, no retry) and {READ_THREADS} reading "
            f"`GET {LIST_PATH}`, one keep-alive http.client connection each, {RESTART_RUN:.0f} s; at "
            f"{RESTART_AT:.0f} s `pg_ctl restart -m MODE -w` on the private cluster. Times are seconds from the "
            "start of the run; 'during' = responses received while pg_ctl restart ran; 0 = connection error.",
            "",
            "| mode | pg_ctl restart | statuses during | 503 without Retry-After | non-200 after, before the "
            "first 200 | last 200 before / first 200 after | pg_ctl returned -> first 200 | acks (status: n) | "
            "reads | 500s | acks answered 200 / present acknowledged | non-200 acks committed anyway | load |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in restarts:
            lines.append(
                f"| {r['mode']} ({ok[r['passed']]}) | {r['restart_from']} -> {r['restart_to']} s "
                f"(rc {r['restart_rc']}) "
                f"| {r['during']} | {r['during_503_without_retry_after']} | {r['after_until_first_200'] or '-'} | "
                f"{r['last_200_before']} / {r['first_200_after']} | {r['to_first_200_s']} s | {r['acks']} | "
                f"{r['reads']} | {r['s500']} | {r['acks_200']:,} / {r['acks_200_present']:,} | "
                f"{r['acks_failed_but_committed']} | {r['load_before']:.2f} |"
            )
        lines.append("")
        for r in restarts:
            if r["log_errors"]:
                lines.append(
                    f"- gunicorn log, {r['mode']}: " + "; ".join(f"{k} (x{v})" for k, v in r["log_errors"].items())
                )
            if r["connection_errors"]:
                lines.append(f"- connection errors, {r['mode']}: " + "; ".join(r["connection_errors"]))
        lines.append("")
    sc = res.get("schedulers")
    if sc:
        one, two = sc["one"], sc["two"]
        lines += [
            f"### Two schedulers at once: {ok[sc['passed']]}",
            "",
            f"`bench/generate.py escalation-prep --due {args.due}` ({sc['prep']['overdue_referrals']:,} overdue "
            f"referrals, {sc['prep']['left_due']:,} reminders left due), then `{' '.join(SCHED[1:])}` alone; the same "
            "preparation again, then two such processes started together.",
            "",
            "| run | reminders recorded | notifications | duplicated (referral, deadline, due_on, stage) | "
            "duplicated dedupe_key | job_runs | exit codes |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for label, x in (("one alone", one), ("two at once", two)):
            lines.append(
                f"| {label} | {x['reminders']:,} | {x['notifications']:,} | {x['dup_reminders']} | "
                f"{x['dup_dedupe_keys']} | {x['job_runs']} | {[p['rc'] for p in x['processes']]} |"
            )
        lines.append("")
    if res.get("failure"):
        lines += [f"The run stopped early: {res['failure']}", ""]
    lines += [f"Whole run: {(time.monotonic() - started) / 60:.1f} min.", ""]
    return "\n".join(lines)


# Main ---------------------------------------------------------------------------------------------------


def _on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5, help="length of the soak")
    parser.add_argument("--pool", type=int, default=12_000, help="referrals in the acknowledgement pool")
    parser.add_argument("--due", type=int, default=2_000, help="reminders left due for the two schedulers")
    parser.add_argument("--skip", default="", help="comma-separated: soak, restart, schedulers")
    parser.add_argument("--keep", action="store_true", help="leave the private cluster running")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/results.md")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    started = time.monotonic()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    workdir = Path(f"/tmp/bench-faults-{stamp}")
    workdir.mkdir(parents=True)
    raw_dir = workdir if args.no_results else BENCH / "runs"
    raw_dir.mkdir(exist_ok=True)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    run.ensure_wrk()
    res: dict[str, Any] = {"restarts": []}
    meta: dict[str, Any] = {}
    try:
        create_cluster()
        meta = build_db(args.pool)
        serve(workdir)
        if "soak" not in skip:
            res["soak"] = soak(args.minutes, meta, workdir)
        if "restart" not in skip:
            for mode in ("fast", "immediate"):
                res["restarts"].append(restart_run(mode, meta, workdir, raw_dir, stamp))
                time.sleep(3)
        run.cleanup()
        if "schedulers" not in skip:
            res["schedulers"] = two_schedulers(args.due)
    except Exception as exc:  # keep what was measured; say what failed
        res["failure"] = f"{type(exc).__name__}: {exc}"
        log(f"FAILED: {res['failure']}")
    finally:
        run.cleanup()
        with contextlib.suppress(OSError):
            shutil.copy(PG_DIR / "postgres.log", workdir / "postgres.log")
        if args.keep:
            log(f"private cluster left running: {PG_URL}/{DB} (data {PG_DATA})")
        else:
            destroy_cluster()
    text = section(res, args, meta, stamp, started)
    print(text)
    if not args.no_results:
        with open(BENCH / "results.md", "a") as f:
            f.write(text)
    log(f"done in {(time.monotonic() - started) / 60:.1f} min; logs in {workdir}")


if __name__ == "__main__":
    main()
