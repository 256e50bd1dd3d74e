"""The README's "Running it for real", run as written, and the files in deploy/.

The README marks each shell block of that section with an HTML comment (a
reader sees nothing): ``<!-- deployment test: run -->`` blocks are run here for
real, one after another in one shell, as the README has them; ``<!-- deployment
test: syntax only (...) -->`` blocks need root (apt-get, useradd, systemctl) and
are checked with ``bash -n``. Only what must differ on a test machine is
substituted, each substitution checked to still match the README:

- the PostgreSQL role and database ``hub`` become a throw-away
  ``hub_deploy_<pid>``, created with the trust-auth superuser on the test
  server (the README's ``runuser -u postgres -- psql``); the role gets the
  generated password, and the hub connects with it;
- ``/srv/hub/hub.env`` goes into a temporary folder, ``/srv/hub`` is this
  checkout, ``runuser -u hub --`` runs as whoever runs the tests;
- the web unit's port 8000 becomes a free port.

Then both systemd units' ``ExecStart`` lines run with the env file loaded as
systemd loads it: the hub must answer ``/healthz`` and a sign-in page through
the headers deploy/nginx.conf sends, log each request, and the scheduler must
start and stop as its unit stops it; one job runs once with the README's
``hub`` function, and the cron line checks the audit log. The test fails when
the README, deploy/ and the hub disagree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from hub.config import Settings

pytestmark = pytest.mark.own_database

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DEPLOY = ROOT / "deploy"
MARK = re.compile(r"<!-- deployment test: (run|syntax only[^>]*?) -->\n```sh\n(.*?)```", re.S)
SERVER = re.match(
    r"^postgres(?:ql)?://([^@/]+)@([^:/]+):(\d+)/",
    os.environ.get("HUB_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/hub_test"),
)
assert SERVER, "HUB_TEST_DATABASE_URL must look like postgresql://USER@HOST:PORT/NAME"
SUPERUSER, PG_HOST, PG_PORT = SERVER.groups()
BASH = shutil.which("bash") or "/bin/bash"


# Reading the README ---------------------------------------------------------------------------


def section() -> str:
    text = README.read_text()
    start = text.index("## Running it for real\n")
    return text[start : text.index("\n## ", start + 1)]


def blocks() -> list[tuple[str, str]]:
    """The section's marked shell blocks, in order: (``run`` or ``syntax only (why)``, code)."""
    return [(mode, code) for mode, code in MARK.findall(section())]


def unit(name: str) -> dict[str, str]:
    """The [Service] settings of deploy/NAME (one value per key is all the hub's units use)."""
    settings: dict[str, str] = {}
    current = ""
    for raw in (DEPLOY / name).read_text().splitlines():
        line = raw.strip()
        if line.startswith("["):
            current = line
        elif current == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings[key] = value
    return settings


def cron_job() -> tuple[list[str], str, str]:
    """deploy/hub-audit.cron's job: its five time fields, its user, its command."""
    (line,) = [
        line
        for line in (DEPLOY / "hub-audit.cron").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not re.match(r"^[A-Z_]+=", line)
    ]
    *when, user, command = line.split(None, 6)
    return when, user, command


def env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as systemd's EnvironmentFile= reads them (comments, surrounding quotes)."""
    values = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, value = line.split("=", 1)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


class Adapted:
    """The README's text with only what must differ here substituted. Each substitution must still
    match something, so a README that changed under the test fails it instead of passing untested."""

    def __init__(self, tmp: Path, role: str, port: int) -> None:
        self.env_path = tmp / "hub.env"
        self.pairs = [
            ("runuser -u postgres -- psql", f"psql -h {PG_HOST} -p {PG_PORT} -U {SUPERUSER} -d postgres"),
            ("CREATE ROLE hub LOGIN", f"CREATE ROLE {role} LOGIN"),
            ("CREATE DATABASE hub OWNER hub;", f"CREATE DATABASE {role} OWNER {role};"),
            ("postgresql://hub:", f"postgresql://{role}:"),
            ("@127.0.0.1:5432/hub\n", f"@{PG_HOST}:{PG_PORT}/{role}\n"),
            ("install -m 600 -o hub -g hub ", "install -m 600 "),
            ("runuser -u hub -- ", ""),
            ("/srv/hub/hub.env", str(self.env_path)),
            ("/srv/hub", str(ROOT)),
            ("127.0.0.1:8000", f"127.0.0.1:{port}"),
        ]

    def __call__(self, text: str, *required: str) -> str:
        for needed in required:
            assert needed in text, f"the README or deploy/ no longer says {needed!r}: update this test's substitutions"
        for old, new in self.pairs:
            text = text.replace(old, new)
        return text


# The README's shell: well formed, no placeholders, the venv's executables ------------------------


def test_the_section_marks_each_of_its_shell_blocks():
    found = blocks()
    assert [mode for mode, _ in found].count("run") >= 2
    assert any(mode.startswith("syntax only") for mode, _ in found)
    assert section().count("```sh") == len(found), "every shell block of the section is marked for this test"


@pytest.mark.parametrize("index", range(len(blocks())))
def test_every_block_is_valid_shell_without_placeholders(index):
    mode, code = blocks()[index]
    checked = subprocess.run([BASH, "-n"], input=code, text=True, capture_output=True, check=False)  # noqa: S603
    assert checked.returncode == 0, (mode, checked.stderr)
    placeholders = re.findall(r"<[A-Za-z][^<>\n]*>|…|\.\.\.", code)
    assert not placeholders, f"a reader pasting this gets a broken shell: {placeholders}"


def test_every_command_names_the_venvs_executables():
    commands = [code for _, code in blocks()]
    commands += [unit(name)["ExecStart"] for name in ("hub-web.service", "hub-scheduler.service")]
    commands.append(cron_job()[2])
    for code in commands:
        bare = re.findall(r"(?<![\w/.-])(flask|gunicorn|pip3?|alembic)\b", code)
        assert not bare, f"not on PATH unless the venv is activated: {bare} in {code!r}"
    hub_function = [line for _, code in blocks() for line in code.splitlines() if line.startswith("hub() {")]
    assert len(hub_function) == 1 and ".venv/bin/hub" in hub_function[0] and "hub.env" in hub_function[0]
    assert unit("hub-web.service")["ExecStart"].startswith("/srv/hub/.venv/bin/gunicorn ")
    assert unit("hub-scheduler.service")["ExecStart"] == "/srv/hub/.venv/bin/hub scheduler"
    assert ".venv/bin/hub audit verify" in cron_job()[2]


# Running it ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def superuser(database: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(f"postgresql://{SUPERUSER}@{PG_HOST}:{PG_PORT}/{database}", autocommit=True)


def scram_matches(verifier: str, password: str) -> bool:
    """Whether PostgreSQL's stored SCRAM-SHA-256 verifier is for this password (RFC 5802/7677):
    what a server with password authentication checks when the hub signs in."""
    match = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier)
    if match is None:
        return False
    iterations, salt, stored_key, server_key = match.groups()
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), base64.b64decode(stored_key)) and (
        hmac.compare_digest(hmac.new(salted, b"Server Key", "sha256").digest(), base64.b64decode(server_key))
    )


def wait_for(url: str, process: subprocess.Popen[str], headers: dict[str, str], seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the web process exited: {process.communicate()[0]}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:  # noqa: S310 - a local test server
                return int(response.status)
        except OSError:  # not listening yet, or its workers still starting (URLError, timeouts)
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer within {seconds} s")


def fetch(url: str, headers: dict[str, str]) -> tuple[int, str]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:  # noqa: S310 - a local test server
        return int(response.status), response.read().decode()


def service_env(env_path: Path, home: Path) -> dict[str, str]:
    """What systemd gives a unit with User= and EnvironmentFile=: a plain PATH, the user's HOME,
    and the env file; nothing of the test's own environment."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", **env_file(env_path)}


def stop(process: subprocess.Popen[str], signum: int, seconds: float = 60) -> tuple[int, str]:
    process.send_signal(signum)
    try:
        output, _ = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"did not stop within {seconds} s of signal {signum}: {output}")
    return process.returncode, output


@pytest.fixture
def throwaway_role() -> Iterator[str]:
    role = f"hub_deploy_{os.getpid()}"
    with superuser() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{role}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')
    try:
        yield role
    finally:
        with superuser() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{role}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.timeout(600)
def test_the_readme_steps_deploy_a_hub_that_answers(tmp_path, throwaway_role):
    if not (ROOT / ".venv" / "bin" / "hub").exists():
        pytest.fail("bin/setup installs .venv/bin/hub: run it first")
    role, port = throwaway_role, free_port()
    adapt = Adapted(tmp_path, role, port)
    home = tmp_path / "home"
    home.mkdir()
    steps = [code for mode, code in blocks() if mode == "run"]
    script = adapt("\n".join(steps), *(old for old, _ in adapt.pairs if old != "127.0.0.1:8000"))
    shell_env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}

    # Steps 2 and 3 as written: the role with a generated password, the env file, the schema, the
    # host organisation and the first administrator.
    ran = subprocess.run(  # noqa: S603 - the README's own steps
        [BASH, "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=shell_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, f"the README's steps failed:\n{ran.stdout}\n{ran.stderr}"
    assert re.search(r"one-time password", ran.stdout + ran.stderr, re.I), ran.stdout

    # The env file: only the hub user may read it; real secrets, not placeholders.
    assert stat.S_IMODE(adapt.env_path.stat().st_mode) == 0o600
    settings = env_file(adapt.env_path)
    url = urlsplit(settings["DATABASE_URL"])
    assert (url.username, url.hostname, url.port, url.path) == (role, PG_HOST, int(PG_PORT), f"/{role}")
    assert url.password and re.fullmatch(r"[0-9a-f]{48}", url.password)
    assert re.fullmatch(r"[A-Za-z0-9_-]{64}", settings["SECRET_KEY"])
    assert Settings.from_env(settings).proxy_hops == 1  # the settings the hub reads, all valid

    # The role's password is the one in the env file: a server with password authentication (as a
    # stock PostgreSQL over TCP) lets the hub in with it. The schema belongs to the role: the hub
    # connected as the role, not as the superuser.
    with superuser() as conn:
        verifier = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()
    assert verifier and verifier[0] and scram_matches(verifier[0], url.password)
    assert not scram_matches(verifier[0], url.password + "x")
    with superuser(role) as conn:
        assert conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'users'").fetchone() == (role,)
        assert conn.execute("SELECT role, email FROM users").fetchall() == [("admin", "you@charity.org.uk")]
        assert conn.execute("SELECT slug, kind FROM agencies").fetchall() == [("northgate", "host")]

    # The web unit as systemd runs it, behind the headers deploy/nginx.conf sends.
    web = unit("hub-web.service")
    command = shlex.split(adapt(web["ExecStart"], "127.0.0.1:8000", "/srv/hub"))
    process = subprocess.Popen(  # noqa: S603 - the unit's own command line
        command,
        cwd=adapt(web["WorkingDirectory"]),
        env=service_env(adapt.env_path, home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proxied = {"X-Forwarded-For": "198.51.100.23", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "hub.example.org"}
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for(f"{base}/healthz", process, proxied) == 200
        status, page = fetch(f"{base}/sign-in", proxied)
        assert status == 200 and 'name="email"' in page and 'type="password"' in page
        assert fetch(f"{base}/static/hub.css", proxied)[0] == 200
    finally:
        code, output = stop(process, getattr(signal, web.get("KillSignal", "SIGTERM")))
    assert code == 0, output
    assert '"GET /sign-in HTTP/1.1" 200' in output, "the unit's access log"

    # The scheduler unit: starts, and stops as systemd stops it, saying so.
    scheduler = unit("hub-scheduler.service")
    process = subprocess.Popen(  # noqa: S603 - the unit's own command line
        shlex.split(adapt(scheduler["ExecStart"], "/srv/hub")),
        cwd=adapt(scheduler["WorkingDirectory"]),
        env=service_env(adapt.env_path, home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(1)
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            with superuser(role) as conn:  # the scheduler's first job run (the audit seal, every 10 s)
                if conn.execute("SELECT count(*) FROM job_runs").fetchone() != (0,):
                    break
            time.sleep(1)
    finally:
        code, output = stop(process, getattr(signal, scheduler.get("KillSignal", "SIGTERM")), seconds=150)
    assert code == 0, output
    assert "Scheduler started" in output and "Scheduler stopped." in output, output

    # One job, once, with the README's `hub` function; then the nightly audit check from cron.
    hub_function = next(line for code in steps for line in code.splitlines() if line.startswith("hub() {"))
    once = subprocess.run(  # noqa: S603 - the README's own function
        [BASH, "-euo", "pipefail", "-c", adapt(hub_function) + "\nhub scheduler --once hub.deliver-email"],
        cwd=tmp_path,
        env=shell_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (once.returncode, once.stdout.strip()) == (0, "hub.deliver-email: ok"), once.stderr
    when, user, command = cron_job()
    assert user == "hub" and len(when) == 5
    assert all(re.fullmatch(r"\*|\d+(-\d+)?(,\d+)*(/\d+)?|\*/\d+", field) for field in when), when
    audit = subprocess.run(  # noqa: S603 - cron runs each line with /bin/sh, in the user's home
        ["/bin/sh", "-c", adapt(command, "/srv/hub/hub.env", "/srv/hub")],
        cwd=home,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), "SHELL": "/bin/sh"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert audit.returncode == 0 and audit.stdout.startswith("Audit chain intact"), (audit.stdout, audit.stderr)


# The files in deploy/ ---------------------------------------------------------------------------


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here (it comes with systemd); the units' commands still ran")
    for name in ("hub-web.service", "hub-scheduler.service"):
        text = (DEPLOY / name).read_text().replace("/srv/hub", str(ROOT))
        (tmp_path / name).write_text(text)
    checked = subprocess.run(  # noqa: S603 - a fixed tool on our own files
        [analyze, "verify", "--man=no", *(str(p) for p in sorted(tmp_path.glob("*.service")))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr
    for name in ("hub-web.service", "hub-scheduler.service"):
        settings = unit(name)
        assert (settings["User"], settings["EnvironmentFile"], settings["WorkingDirectory"]) == (
            "hub",
            "/srv/hub/hub.env",
            "/srv/hub",
        )
    assert "--access-logfile -" in unit("hub-web.service")["ExecStart"]


def test_the_proxy_example_sends_what_the_hub_trusts_and_limits_what_it_should(tmp_path):
    """deploy/nginx.conf: TLS only, the hub's own request size, limit_req on /api/ and /oauth/, and
    exactly the X-Forwarded-* headers that HUB_PROXY_HOPS=1 makes the hub believe."""
    from werkzeug.middleware.proxy_fix import ProxyFix
    from werkzeug.test import EnvironBuilder

    from hub.app import create_app
    from tests.conftest import make_settings

    conf = (DEPLOY / "nginx.conf").read_text()
    assert re.search(r"listen 443 ssl", conf) and "return 301 https://$host$request_uri;" in conf
    assert re.search(r"ssl_protocols TLSv1\.2 TLSv1\.3;", conf)

    app = create_app(make_settings(database_url=f"sqlite:///{tmp_path}/proxy.sqlite3", proxy_hops=1))
    size = re.search(r"client_max_body_size (\d+)m;", conf)
    assert size and int(size.group(1)) * 1024 * 1024 == app.config["MAX_CONTENT_LENGTH"]

    def location(path: str) -> str:
        found = re.search(r"location " + re.escape(path) + r" \{(.*?)\n    \}", conf, re.S)
        assert found, f"no location {path}"
        return found.group(1)

    assert "limit_req zone=hub_api" in location("/api/")
    assert "limit_req zone=hub_token" in location("/oauth/")
    for path in ("/", "/api/", "/oauth/"):
        assert "proxy_pass http://127.0.0.1:8000;" in location(path)
    too_many = json.loads(re.search(r"return 429 '(.*)';", conf).group(1))
    assert too_many["status"] == 429 and too_many["title"] and too_many["detail"]
    assert "default_type application/problem+json;" in conf and "limit_req_status 429;" in conf

    headers = dict(re.findall(r"proxy_set_header (\S+) (\S+);", conf))
    assert headers == {
        "Host": "$host",
        "X-Forwarded-For": "$remote_addr",  # replaces whatever the client sent
        "X-Forwarded-Proto": "$scheme",
        "X-Forwarded-Host": "$host",
    }
    assert "HUB_PROXY_HOPS=1" in section() and "HUB_PROXY_HOPS=1" in (DEPLOY / "hub.env.example").read_text()

    # What the hub sees of a request through nginx: the address, scheme and host nginx was given.
    fix = app.wsgi_app
    assert isinstance(fix, ProxyFix) and (fix.x_for, fix.x_proto, fix.x_host, fix.x_port, fix.x_prefix) == (
        1,
        1,
        1,
        0,
        0,
    )
    seen: dict[str, str] = {}

    def behind(environ: dict[str, str], start_response: object) -> list[bytes]:
        seen.update(addr=environ["REMOTE_ADDR"], scheme=environ["wsgi.url_scheme"], host=environ["HTTP_HOST"])
        return []

    fix.app = behind
    sent = {"X-Forwarded-For": "198.51.100.23", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "hub.example.org"}
    fix(EnvironBuilder(path="/", headers=sent, environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ(), None)
    assert seen == {"addr": "198.51.100.23", "scheme": "https", "host": "hub.example.org"}

    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed here: the file was checked as text, not by nginx -t")


def test_the_settings_example_names_only_settings_the_hub_reads():
    example = (DEPLOY / "hub.env.example").read_text()
    names = re.findall(r"^#?([A-Z][A-Z0-9_]+)=", example, re.M)
    assert {"DATABASE_URL", "SECRET_KEY", "HUB_BASE_URL", "HUB_PROXY_HOPS", "HUB_SMTP_HOST"} <= set(names)
    config = (ROOT / "hub" / "config.py").read_text()
    readme = README.read_text()
    for name in names:
        assert f'"{name}"' in config, f"{name} is not a setting the hub reads"
        assert f"`{name}`" in readme, f"{name} is not in the README's Configuration table"
    uncommented = env_file(DEPLOY / "hub.env.example")
    commented = dict(line[1:].split("=", 1) for line in example.splitlines() if re.match(r"^#[A-Z_]+=", line))
    commented["HUB_MAIL_FROM"] = commented["HUB_MAIL_FROM"].strip('"')
    settings = Settings.from_env({**uncommented, **commented})
    assert settings.mail_from == "Partnership Hub <hub@charity.example.org>" and settings.smtp_starttls
