"""The hub as a package, and the lock it is installed from.

``pip install .`` in a fresh virtual environment must give a working hub: its
packages, templates, compiled styles and migrations, and a ``hub`` command
whose ``--help`` lists the operator commands. The test needs no network: the
fresh environment reads the already-installed dependencies from this
checkout's .venv (a ``.pth`` line, after its own site-packages), and pip is
told to use no index, so it must find every declared dependency satisfied.

The lock: every package pinned with its hashes (``bin/lock``), the runtime
versions the same in both files, ``pyproject.toml`` and ``requirements.in``
naming the same packages, and this environment holding exactly the locked
versions.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.own_database  # no database of the suite's: the installed hub makes its own

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
OPERATOR_COMMANDS = {
    "init",
    "create-user",
    "create-client",
    "disable-user",
    "disable-client",
    "scheduler",
    "audit",
    "demo",
    "db",
    "agencies",
}


def commands_listed(help_text: str) -> set[str]:
    listing = help_text.split("Commands:", 1)[1]
    return {line.split()[0] for line in listing.splitlines() if line.startswith("  ") and line.split()}


def run(*args: str | Path, cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own venv's tools
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def plain_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No settings of the test run (no DATABASE_URL, no venv on PATH)."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8", **extra}


def source_tree(target: Path) -> Path:
    """What a fresh clone holds after bin/setup (tracked files plus the compiled styles), copied so that
    building leaves nothing in this checkout."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607 - git from PATH
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    files = [f for f in listed.split("\0") if f and (ROOT / f).is_file()]
    static = ROOT / "hub" / "web" / "static"
    files += [str(p.relative_to(ROOT)) for p in static.rglob("*") if p.is_file()]
    for name in set(files):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


@pytest.mark.timeout(600)
def test_pip_install_dot_in_a_fresh_venv_gives_a_working_hub_command(tmp_path):
    assert (ROOT / "hub/web/static/hub.css").is_file(), "bin/setup compiles the styles the package ships"
    src = source_tree(tmp_path / "src")
    venv = tmp_path / "venv"
    env = plain_env(tmp_path)
    made = run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    # The dependencies this checkout's bin/setup installed, after the new venv's own site-packages.
    own_site = next(venv.glob("lib/python*/site-packages"))
    ours = [p for p in sys.path if p.endswith("site-packages")] or [sysconfig.get_paths()["purelib"]]
    (own_site / "zz_checkout_dependencies.pth").write_text("\n".join(ours) + "\n")

    installed = run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        venv / "bin" / "python",
        "install",
        "--no-index",
        "--no-build-isolation",
        "--disable-pip-version-check",
        src,
        cwd=tmp_path,
        env=env,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "Successfully installed partnership-hub-0.1.0" in installed.stdout

    # Run from elsewhere: nothing of the source tree or this checkout on the path.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    hub = venv / "bin" / "hub"
    shown = run(hub, "--help", cwd=elsewhere, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "Partnership Hub operator commands" in shown.stdout
    listed = commands_listed(shown.stdout)
    assert listed >= OPERATOR_COMMANDS, listed
    assert "hub" not in listed  # the operator commands are at the top level
    audit = run(hub, "audit", "--help", cwd=elsewhere, env=env)
    assert audit.returncode == 0 and "verify" in commands_listed(audit.stdout), audit.stdout + audit.stderr

    # The installed copy serves its pages and builds its schema: templates, styles and migrations in it.
    database = tmp_path / "installed.sqlite3"
    check = (
        "import hub, pathlib\n"
        "from hub.app import MIGRATIONS_DIR, create_app\n"
        "print(pathlib.Path(hub.__file__).parent)\n"
        "print(MIGRATIONS_DIR)\n"
        "app = create_app()\n"
        "client = app.test_client()\n"
        "page = client.get('/sign-in')\n"
        "print(page.status_code, b'name=\"email\"' in page.data, client.get('/static/hub.css').status_code)\n"
    )
    settings = {"DATABASE_URL": f"sqlite:///{database}", "HUB_DEMO": "true", "SECRET_KEY": "x" * 48}
    upgraded = run(hub, "db", "upgrade", cwd=elsewhere, env=plain_env(tmp_path, **settings))
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    served = run(venv / "bin" / "python", "-c", check, cwd=elsewhere, env=plain_env(tmp_path, **settings))
    assert served.returncode == 0, served.stderr
    package, migrations, answer = served.stdout.strip().splitlines()[-3:]
    assert package.startswith(str(venv)) and migrations == str(Path(package) / "migrations")
    assert answer == "200 True 200"
    made_users = run(
        hub,
        "init",
        "--name",
        "Northgate Women's Centre",
        "--slug",
        "northgate",
        cwd=elsewhere,
        env=plain_env(tmp_path, **settings),
    )
    assert made_users.returncode == 0, made_users.stdout + made_users.stderr


def test_the_checkouts_hub_command_and_flask_app_command_offer_the_same_commands(tmp_path):
    """bin/setup installs the hub editable: .venv/bin/hub runs this checkout's code, and
    ``flask --app wsgi hub ...`` (the README, the tests) keeps working."""
    hub = ROOT / ".venv" / "bin" / "hub"
    assert hub.exists(), "bin/setup installs .venv/bin/hub"
    env = plain_env(tmp_path, HUB_DEMO="true", SECRET_KEY="x" * 48, DATABASE_URL=f"sqlite:///{tmp_path}/h.sqlite3")
    shown = run(hub, "--help", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    top = commands_listed(shown.stdout)
    flask = run(ROOT / ".venv" / "bin" / "flask", "--app", "wsgi", "hub", "--help", cwd=ROOT, env=env)
    assert flask.returncode == 0, flask.stderr
    assert commands_listed(flask.stdout) <= top
    nested = run(hub, "hub", "init", "--help", cwd=tmp_path, env=env)  # the old spelling still works
    assert nested.returncode == 0 and "--slug" in nested.stdout


# The package's contents -------------------------------------------------------------------------


def test_every_package_directory_is_in_the_package():
    """A new subpackage missing from [tool.setuptools] packages would be left out of the wheel."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    roots = PYPROJECT["tool"]["importlinter"]["root_packages"]
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for root in roots
        for init in (ROOT / root).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found == listed - {"hub.migrations", "hub.migrations.versions"}
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {
        "hub.migrations": "migrations",
        "hub.migrations.versions": "migrations/versions",
    }
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    for root in roots:
        if (ROOT / root / "templates").is_dir():
            assert "templates/**/*" in data[root], root
    assert PYPROJECT["project"]["scripts"] == {"hub": "hub.cli:main"}
    assert PYPROJECT["build-system"]["build-backend"] == "setuptools.build_meta"


# The lock ----------------------------------------------------------------------------------------


def locked(name: str) -> dict[str, tuple[str, list[str]]]:
    """requirements file NAME: package -> (version, hashes), every line checked to be pinned and hashed."""
    pins: dict[str, tuple[str, list[str]]] = {}
    text = (ROOT / name).read_text()
    for entry in re.split(r"\n(?=[A-Za-z])", text):
        first = entry.splitlines()[0]
        if not first or first.startswith("#"):
            continue
        match = re.match(r"^([A-Za-z0-9._-]+)==([^\s\\]+) \\$", first)
        assert match, f"{name}: not pinned with hashes: {first!r}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", entry)
        assert hashes, f"{name}: {first} has no hashes"
        pins[canonicalize_name(match.group(1))] = (match.group(2), hashes)
    return pins


def top_level(name: str) -> set[str]:
    names = set()
    for raw in (ROOT / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(canonicalize_name(Requirement(line).name))
    return names


def test_the_lock_pins_every_package_with_hashes_and_both_files_agree():
    runtime, dev = locked("requirements.txt"), locked("requirements-dev.txt")
    assert len(runtime) > 20 and len(dev) > len(runtime)
    for package, (version, _) in runtime.items():
        assert dev[package][0] == version, f"{package}: {version} at run time, {dev[package][0]} in the tests"
    for name in ("requirements.txt", "requirements-dev.txt"):
        header = (ROOT / name).read_text().split("\n\n", 1)[0]
        assert "#    bin/lock" in header, f"{name} is made by bin/lock"
    setup = (ROOT / "bin" / "setup").read_text()
    assert "--require-hashes" in setup and "--upgrade pip" not in setup
    lock = (ROOT / "bin" / "lock").read_text()
    assert "--generate-hashes" in lock and "requirements.in" in lock and "requirements-dev.in" in lock


def test_pyproject_declares_what_requirements_in_names_and_the_lock_satisfies_it():
    declared = {canonicalize_name(Requirement(r).name): Requirement(r) for r in PYPROJECT["project"]["dependencies"]}
    build_only = {"setuptools"}  # bin/setup builds the hub's own command with it; never imported
    assert set(declared) == top_level("requirements.in") - build_only
    runtime = locked("requirements.txt")
    for name, requirement in declared.items():
        assert requirement.specifier.contains(runtime[name][0]), (
            f"the lock's {name} {runtime[name][0]} breaks {requirement}"
        )
    assert top_level("requirements.in") <= set(runtime)
    assert top_level("requirements-dev.in") - top_level("requirements.in") <= set(locked("requirements-dev.txt"))


def test_this_environment_holds_exactly_the_locked_versions():
    """What the suite runs on is what the lock says (bin/setup installs it; pip checks the hashes)."""
    if not os.environ.get("VIRTUAL_ENV") and not sys.prefix.startswith(str(ROOT)):
        pytest.skip("not running in this checkout's .venv")
    wrong = {}
    for package, (version, _) in locked("requirements-dev.txt").items():
        try:
            have = metadata.version(package)
        except metadata.PackageNotFoundError:
            have = "missing"
        if have != version:
            wrong[package] = (version, have)
    assert not wrong, f"run bin/setup requirements-dev.txt; locked vs installed: {wrong}"
