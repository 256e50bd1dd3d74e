"""The rules that keep the hub's shape: every route has a guard, one
migration head that matches the models, and the import-linter contracts,
which list every top-level package of the repository."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import flask_migrate
import flask_smorest
import pytest
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Blueprint, Flask
from flask.views import MethodView

from hub.app import create_app
from hub.db import db
from hub.extensions import ApiBlueprint
from hub.web.guards import public, view_access
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent
IGNORED_METHODS = {"HEAD", "OPTIONS"}  # HEAD is answered by GET's guard; OPTIONS by Flask itself
NOT_LAYERED = {"tests", "migrations", "bench", "frontend", "deploy"}  # directories that are not app code


# Every route declares who may call it ------------------------------------------


def _unguarded(app: Flask) -> list[str]:
    offenders = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            if view_access(view, method) is None:
                offenders.append(f"{method} {rule.rule} ({rule.endpoint})")
    return offenders


def test_every_route_and_method_declares_an_access_rule(app: Flask) -> None:
    offenders = _unguarded(app)
    assert not offenders, "routes without an access rule:\n  " + "\n  ".join(offenders)


def test_the_route_walk_sees_the_api_method_views(app: Flask) -> None:
    """Guard against the walk passing vacuously: it must reach MethodView methods."""
    view = app.view_functions["agencies_api.AgencyResource"]
    assert view_access(view, "GET") is not None
    assert view_access(view, "PATCH") is not None
    assert view_access(view, "DELETE") is None  # no such method: no guard


def test_the_route_walk_catches_a_route_without_a_guard(database_url: str) -> None:
    fresh = create_app(make_settings(database_url=database_url))
    try:
        bp = Blueprint("throwaway", __name__)
        bp.add_url_rule("/throwaway", "open", lambda: "open to all", methods=["GET", "POST"])
        fresh.register_blueprint(bp)
        assert "GET /throwaway (throwaway.open)" in _unguarded(fresh)
    finally:
        with fresh.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("path", ["/throwaway", "/api/v1/throwaway"])
def test_a_route_added_without_a_guard_is_refused_at_run_time(database_url: str, path: str) -> None:
    fresh = create_app(make_settings(database_url=database_url))
    try:
        bp = Blueprint("throwaway", __name__)
        called = []

        def open_view() -> str:
            called.append(True)
            return "open to all"

        bp.add_url_rule(path, "open", open_view, methods=["GET", "POST"])
        fresh.register_blueprint(bp)
        http = fresh.test_client()
        for response in (http.get(path), http.head(path)):
            assert response.status_code == 403
        assert not called
        if path.startswith("/api/"):
            assert http.get(path).mimetype == "application/problem+json"
    finally:
        with fresh.app_context():
            db.engine.dispose()


def test_a_method_view_with_one_unguarded_method_is_refused_for_that_method(database_url: str) -> None:
    class Mixed(MethodView):
        @public
        def get(self) -> str:
            return "guarded"

        def post(self) -> str:  # no guard
            return "open to all"

    fresh = create_app(make_settings(database_url=database_url))
    try:
        fresh.add_url_rule("/mixed", view_func=Mixed.as_view("mixed"))
        assert _unguarded(fresh) == ["POST /mixed (mixed)"]
        http = fresh.test_client()
        assert http.get("/mixed").status_code == 200
        fresh.config["WTF_CSRF_ENABLED"] = False  # so the refusal seen is the guard's, not CSRF's
        assert http.post("/mixed").status_code == 403
    finally:
        with fresh.app_context():
            db.engine.dispose()


def test_every_api_blueprint_reads_bodies_with_the_hub_parser(app: Flask) -> None:
    """Plain flask-smorest blueprints read an empty or non-JSON body as {} and
    crash on deeply nested JSON; :class:`hub.extensions.ApiBlueprint` does not."""
    plain = [
        name
        for name, bp in app.blueprints.items()
        if isinstance(bp, flask_smorest.Blueprint) and not isinstance(bp, ApiBlueprint)
    ]
    assert not plain, f"API blueprints not built on hub.extensions.ApiBlueprint: {plain}"


# Migrations ----------------------------------------------------------------------


def test_migrations_have_exactly_one_head(app: Flask) -> None:
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"migration heads: {heads} (merge them)"


def test_models_match_the_migrated_schema(app: Flask) -> None:
    """``alembic check``: no model change is waiting for a migration."""
    with app.app_context():
        try:
            flask_migrate.check()
        except (CommandError, SystemExit) as exc:  # older Flask-Migrate turned CommandError into exit(1)
            pytest.fail(f"alembic check found model changes not covered by a migration: {exc}")


# Import contracts -------------------------------------------------------------------


def test_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603 - a fixed command from our own venv
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "0 broken" in output, output


def _importlinter_config() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        config: dict[str, Any] = tomllib.load(f)["tool"]["importlinter"]
    return config


def _top_level_packages(root: Path) -> set[str]:
    return {init.parent.name for init in root.glob("*/__init__.py")} - NOT_LAYERED


def _layers_contract(config: dict[str, Any]) -> dict[str, Any]:
    layered = [c for c in config["contracts"] if c["type"] == "layers" and not c.get("containers")]
    assert len(layered) == 1, "expected one layers contract over the top-level packages"
    return layered[0]


def _layered_packages(contract: dict[str, Any]) -> set[str]:
    """The package names of every layer: "a | b" (independent) and "a : b" both list siblings;
    "(a)" marks an optional layer."""
    names: set[str] = set()
    for layer in contract["layers"]:
        for name in layer.replace(":", "|").split("|"):
            names.add(name.strip().strip("()"))
    return names


def _unlisted(config: dict[str, Any], packages: set[str]) -> list[str]:
    layered = _layered_packages(_layers_contract(config))
    problems = [f"{name}: not in [tool.importlinter] root_packages" for name in packages - set(config["root_packages"])]
    problems += [f"{name}: not in the layers contract" for name in packages - layered]
    return sorted(problems)


def test_every_top_level_package_is_in_the_import_contracts() -> None:
    """A package import-linter does not know about is checked by nothing (review §1.6)."""
    packages = _top_level_packages(ROOT)
    assert {"hub", "agencies", "consent", "referrals"} <= packages  # the walk sees the repository
    problems = _unlisted(_importlinter_config(), packages)
    assert not problems, "add each to pyproject.toml (see ARCHITECTURE.md for its layer):\n  " + "\n  ".join(problems)


def test_the_package_check_catches_a_package_left_out(tmp_path: Path) -> None:
    (tmp_path / "newpackage").mkdir()
    (tmp_path / "newpackage" / "__init__.py").touch()
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").touch()
    packages = _top_level_packages(tmp_path)
    assert packages == {"newpackage"}
    assert _unlisted(_importlinter_config(), packages) == [
        "newpackage: not in [tool.importlinter] root_packages",
        "newpackage: not in the layers contract",
    ]


def test_the_rota_never_imports_consent_or_referrals() -> None:
    """ARCHITECTURE.md: the rota holds no data about women. Layers alone would let it import consent."""
    forbidding = [
        c
        for c in _importlinter_config()["contracts"]
        if c["type"] == "forbidden"
        and "rota" in c["source_modules"]
        and {"consent", "referrals"} <= set(c["forbidden_modules"])
        and str(c.get("allow_indirect_imports", False)).lower() != "true"
        and not c.get("ignore_imports")
    ]
    assert forbidding, "no forbidden contract keeps rota from importing consent and referrals"


# Every use case checks the policy named after it -----------------------------------------------

# Public functions of a package's services.py that check no policy of their own name, each with why.
# (Keep this short: a helper belongs in a private name or another module, not in the public surface.)
SYSTEM_ONLY: dict[str, str] = {}


GUARDS = {"require", "_authorise"}  # calls that refuse when their first argument is false


def _policy_calls(node: ast.AST) -> set[str]:
    """Names of ``policies.<name>(...)`` called anywhere under ``node``."""
    return {
        call.func.attr
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "policies"
    }


def _guarding_policy_calls(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Policies whose answer the function acts on: passed to ``require``/``_authorise``, or tested by an
    ``if`` (which must then refuse). A policy called and ignored does not count."""
    guarded: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.If):
            guarded |= _policy_calls(node.test)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GUARDS and node.args:
            guarded |= _policy_calls(node.args[0])
    return guarded


def _services_without_their_policy(package: str, source: str) -> list[str]:
    offenders = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            offenders.append(f"{package}.services.{node.name}: use cases are functions, not methods")
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name.startswith("_"):
            continue
        name = f"{package}.services.{node.name}"
        if f"can_{node.name}" not in _guarding_policy_calls(node) and name not in SYSTEM_ONLY:
            offenders.append(f"{name} does not refuse unless policies.can_{node.name}(...) allows it")
    return offenders


def _service_modules() -> list[Path]:
    """Every domain package's services, at any depth. (The kernel's ``hub/**/services.py`` hold the
    sign-in flow and account primitives; the domain use cases that call them check their policies.)"""
    packages = _top_level_packages(ROOT) - {"hub"}
    return sorted(path for package in packages for path in (ROOT / package).rglob("services.py"))


def test_every_public_service_function_calls_the_policy_named_after_it() -> None:
    """CKAN's auth audit, made static: ``verb_noun`` checks ``policies.can_verb_noun``, and that policy
    exists, so the page deciding which buttons to show and the service ask the same question."""
    modules = _service_modules()
    assert {p.parent.name for p in modules} >= {"agencies", "consent", "referrals"}
    offenders: list[str] = []
    for path in modules:
        offenders += _services_without_their_policy(path.parent.name, path.read_text())
        policies = importlib.import_module(".".join(path.relative_to(ROOT).parent.parts) + ".policies")
        for node in ast.parse(path.read_text()).body:
            public = isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
            if public and not callable(getattr(policies, f"can_{node.name}", None)):
                offenders.append(f"{path.parent.name}.policies has no can_{node.name}")
    assert not offenders, "\n  ".join(["use cases without their policy:", *offenders])


def test_the_policy_check_catches_a_service_that_skips_its_policy() -> None:
    source = (
        "def give_thing(actor, thing):\n"
        "    require(policies.can_view_thing(actor, thing))\n"
        "def take_thing(actor, thing):\n"
        "    require(policies.can_take_thing(actor, thing))\n"
        "def keep_thing(actor, thing):\n"
        "    if not policies.can_keep_thing(actor, thing):\n"
        "        raise Denied()\n"
        "def drop_thing(actor, thing):\n"
        "    policies.can_drop_thing(actor, thing)  # asked, and ignored\n"
        "async def lend_thing(actor, thing):\n"
        "    pass\n"
        "def _helper():\n"
        "    pass\n"
    )
    assert _services_without_their_policy("pkg", source) == [
        "pkg.services.give_thing does not refuse unless policies.can_give_thing(...) allows it",
        "pkg.services.drop_thing does not refuse unless policies.can_drop_thing(...) allows it",
        "pkg.services.lend_thing does not refuse unless policies.can_lend_thing(...) allows it",
    ]


# mypy, strict, on the kernel and every module that holds rules --------------------------------

RULE_MODULES = ("services", "policies", "queries", "jobs", "handlers", "sharing", "work", "messaging", "notify")


def test_mypy_checks_every_module_that_holds_rules() -> None:
    files = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"])
    assert "hub" in files
    missing = [
        f"{package}/{name}.py"
        for package in sorted(_top_level_packages(ROOT) - {"hub"})
        for name in RULE_MODULES
        if (ROOT / package / f"{name}.py").exists() and f"{package}/{name}.py" not in files
    ]
    assert not missing, f"add to [tool.mypy] files in pyproject.toml: {missing}"


def test_mypy_strict_finds_no_errors() -> None:
    mypy = Path(sys.executable).with_name("mypy")
    result = subprocess.run(  # noqa: S603 - a fixed command from our own venv
        [str(mypy)], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
