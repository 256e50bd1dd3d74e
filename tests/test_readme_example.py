"""The README's worked API example ("The API for partner systems") works as written, on a fresh hub.

The blocks marked ``<!-- worked example -->`` are run in order, as one bash script, against a real
server (werkzeug, in a thread) on a new database that has only what *Running it for real* leaves:
the schema and the host organisation. The ``hub`` commands run as the README's ``hub`` function
would (the settings in the environment); ``HUB`` points at the server instead of
``https://hub.example.org``.

Under a command, the ``# …`` lines are what it answers. Each is compared with the real answer:
every field shown must be there with the value shown, where ``"…"`` stands for any value, ``...``
for fields left out, and dates, times and references for any date, time or reference (they change
with the day the example runs). A command whose answer the README does not show must still succeed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask_migrate
import pytest

from hub.app import create_app
from hub.db import db
from tests.conftest import _drop_database, _recreate_database, make_settings, own_database_url
from tests.helpers import serving

pytestmark = pytest.mark.own_database

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECTION = "## The API for partner systems"
MARKER = "<!-- worked example -->"
PLACEHOLDER_HUB = "HUB=https://hub.example.org"
HOST = ("Northgate Women's Centre", "northgate")  # as `hub init` in "Running it for real"
END = "@@ end of command {} @@"


@dataclass(frozen=True)
class Command:
    text: str
    shows: str  # the answer the README shows under it ("" if none)


def _section() -> str:
    text = README.read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start : end if end != -1 else len(text)]


def commands() -> list[Command]:
    """The worked example's commands, in order, each with the answer the README shows."""
    blocks = re.findall(re.escape(MARKER) + r"\s*```sh\n(.*?)```", _section(), re.S)
    assert blocks, f"no {MARKER} blocks in the README section {SECTION!r}"
    out: list[Command] = []
    for block in blocks:
        current: list[str] = []
        shows: list[str] = []
        for line in block.splitlines():
            if line.startswith("# "):
                if current:
                    shows.append(line[2:])
                continue
            if current and not _continues(current[-1], line) and (line.strip() or shows):
                out.append(Command("\n".join(current), "\n".join(shows)))
                current, shows = [], []
            if line.strip():
                current.append(line)
        if current:
            out.append(Command("\n".join(current), "\n".join(shows)))
    return out


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` belongs to the command ``previous`` started: after a backslash, inside a
    loop or an if (indented), or closing one."""
    return (
        previous.endswith(("\\", " do", " then"))
        or line.startswith((" ", "\t"))
        or line.strip() in {"done", "fi", "esac"}
    )


# Comparing an answer with what the README shows -------------------------------------------------

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$")
REFERENCE = re.compile(r"^[A-Z]-[A-Z0-9]{4}-[A-Z0-9]{4}$")
ANY = "…"


def _parse_shown(shown: str) -> Any:
    """The README's JSON, where ``...`` leaves fields or items out (read as a marker)."""
    text = re.sub(r",\s*\.\.\.\s*\}", ', "...": "..."}', shown)
    text = re.sub(r",\s*\.\.\.\s*\]", ', "..."]', text)
    return json.loads(text)


def matches(shown: Any, real: Any, where: str = "") -> list[str]:
    """Where the real answer differs from what the README shows (empty: it matches)."""
    if shown == ANY:
        return []
    if isinstance(shown, str) and isinstance(real, str):
        for kind in (DATE, TIME, REFERENCE):
            if kind.match(shown):
                return [] if kind.match(real) else [f"{where}: {real!r} is not like {shown!r}"]
    if isinstance(shown, dict):
        if not isinstance(real, dict):
            return [f"{where}: expected an object, got {real!r}"]
        partial = shown.pop("...", None) is not None
        problems = [p for key, value in shown.items() for p in _member(key, value, real, where)]
        if not partial and set(real) - set(shown):
            problems.append(f"{where}: the README leaves out {sorted(set(real) - set(shown))} without '...'")
        return problems
    if isinstance(shown, list):
        if not isinstance(real, list):
            return [f"{where}: expected a list, got {real!r}"]
        partial = bool(shown) and shown[-1] == "..."
        items = shown[:-1] if partial else shown
        if len(real) < len(items) or (not partial and len(real) != len(items)):
            return [f"{where}: {len(real)} items, the README shows {len(items)}"]
        return [p for i, item in enumerate(items) for p in matches(item, real[i], f"{where}[{i}]")]
    return [] if shown == real else [f"{where}: {real!r}, the README shows {shown!r}"]


def _documents(shown: str, output: str) -> list[tuple[str, str]]:
    """Pairs of (shown, real) JSON documents: one each, or one per line (a loop, ``jq -c``)."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    shown_lines = shown.splitlines()
    if len(lines) > 1 and len(shown_lines) == len(lines) and all(s.strip().startswith("{") for s in shown_lines):
        return list(zip(shown_lines, lines, strict=True))
    return [(shown, output)]


def _member(key: str, value: Any, real: dict[str, Any], where: str) -> list[str]:
    if key not in real:
        return [f"{where}: no {key!r} in the answer"]
    return matches(value, real[key], f"{where}.{key}")


def test_the_comparison_reads_the_readme_notation() -> None:
    shown = _parse_shown('{"id": 1, "status": "sent", "reference": "R-7KQM-X3PA", "at": "2026-11-25", ...}')
    assert matches(shown, {"id": 1, "status": "sent", "reference": "R-AAAA-2222", "at": "2027-01-02", "x": 1}) == []
    shown = _parse_shown('{"id": 1, "status": "sent", ...}')
    assert matches(shown, {"id": 2, "status": "sent"})
    assert matches(_parse_shown('[{"id": 1}]'), [{"id": 1}, {"id": 2}])
    assert matches(_parse_shown('[{"id": 1}, ...]'), [{"id": 1}, {"id": 2}]) == []
    assert matches(_parse_shown('{"a": "…"}'), {"a": None}) == []
    assert matches(_parse_shown('{"a": 1}'), {"a": 1, "b": 2}), "an answer with more fields needs '...'"


# Running it --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A server on a new database with the schema and the host organisation only; and the
    environment the README's ``hub`` commands run with."""
    url = own_database_url(f"readme_{os.getpid()}")
    _recreate_database(url)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "FLASK_"))},
        "DATABASE_URL": url,
        "SECRET_KEY": "readme-example-secret-key-0123456789-abcdefghijklmnop",
        "HUB_SECURE_COOKIES": "false",
    }
    hub = create_app(make_settings(database_url=url, ratelimit_api="300 per minute", ratelimit_token="30/minute"))
    try:
        with hub.app_context():
            flask_migrate.upgrade()
        _hub_command(env, tmp_path_factory.mktemp("init"), "init", "--name", HOST[0], "--slug", HOST[1])
        with serving(hub) as base_url:
            yield base_url, env
    finally:
        with hub.app_context():
            db.engine.dispose()
        _drop_database(url)


HUB_FUNCTION = f"""
hub() {{
  if [ -x "{ROOT}/.venv/bin/hub" ]; then "{ROOT}/.venv/bin/hub" "$@"; return; fi
  case "$1" in
    db|agencies|routes|shell|openapi) "{sys.executable}" -m flask --app wsgi "$@" ;;
    *) "{sys.executable}" -m flask --app wsgi hub "$@" ;;
  esac
}}
"""


def _hub_command(env: dict[str, str], cwd: Path, *args: str) -> None:
    script = f'cd {ROOT}\n{HUB_FUNCTION}\nhub "$@"\n'
    result = subprocess.run(  # noqa: S603
        ["bash", "-c", script, "hub", *args],  # noqa: S607
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_the_worked_example_runs_on_a_fresh_hub(fresh_hub: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    if shutil.which("jq") is None or shutil.which("curl") is None:
        pytest.fail("the worked example needs curl and jq (apt-get install curl jq)")
    url, env = fresh_hub
    steps = commands()
    assert any(PLACEHOLDER_HUB in step.text for step in steps), f"the example sets {PLACEHOLDER_HUB}"
    script = ["set -euo pipefail", f"cd {tmp_path}", HUB_FUNCTION.replace("\n", "\n  ").strip()]
    for number, step in enumerate(steps):
        text = step.text.replace(PLACEHOLDER_HUB, f"HUB={url}")
        # `hub` runs from the checkout (where wsgi.py is), as in "Running it for real"; files stay here.
        script += [text, f"echo; echo '{END.format(number)}'"]
    (tmp_path / "example.sh").write_text("\n".join(script) + "\n")
    result = subprocess.run(  # noqa: S603
        ["bash", str(tmp_path / "example.sh")],  # noqa: S607
        env={**env, "PATH": f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outputs = re.split(r"\n@@ end of command \d+ @@\n", result.stdout)
    done = len(outputs) - 1
    assert result.returncode == 0 and done == len(steps), (
        f"stopped at command {done + 1}:\n{steps[min(done, len(steps) - 1)].text}\n"
        f"stdout: {outputs[-1][-3000:]}\nstderr: {result.stderr[-3000:]}"
    )
    problems = []
    for step, output in zip(steps, outputs, strict=False):
        if not step.shows:
            continue
        shown = step.shows.strip()
        if not shown.startswith(("{", "[")):  # words, such as what `agencies import` prints
            if shown not in output:
                problems.append(f"{step.text}\n  prints {output.strip()!r}, the README shows {shown!r}")
            continue
        for shown_one, output_one in _documents(shown, output):
            try:
                real = json.loads(output_one)
            except ValueError:
                problems.append(f"{step.text}\n  answered {output_one.strip()[:500]!r}, not JSON")
                continue
            for problem in matches(_parse_shown(shown_one), real):
                problems.append(f"{step.text}\n  {problem}")
    assert not problems, "\n\n".join(problems)
