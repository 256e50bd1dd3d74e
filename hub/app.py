"""The application factory: the composition root of the hub.

It wires the kernel, then loads each domain package named in
:data:`hub.modules.MODULES` by its dotted name. It never migrates the
database and never starts the scheduler: those are operator commands.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, g, request, session
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from hub import audit, backups, cli, idempotency, indicators, scheduler  # noqa: F401 - backups, idempotency, scheduler: register their tables
from hub.auth import services as auth_services
from hub.config import DEV_SECRET_WARNING, Settings
from hub.db import db
from hub.extensions import api, csrf, login_manager, migrate
from hub.modules import MODULES
from hub.notifications import models as notification_models  # noqa: F401 - registers the table
from hub.oauth import server as oauth_server
from hub.web import errors, guards, security, templating

log = logging.getLogger(__name__)


def _migrations_dir() -> str:
    """The Alembic scripts: installed inside the package (``pip install .`` puts them in
    hub/migrations), else at the top of the checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "migrations"
    return str(installed if (installed / "env.py").is_file() else here.parent / "migrations")


MIGRATIONS_DIR = _migrations_dir()


def _configure(app: Flask, settings: Settings) -> None:
    url = settings.sqlalchemy_url(app.instance_path)
    engine_options: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_options["connect_args"] = {"timeout": 15}
    else:
        engine_options.update(pool_pre_ping=True, pool_size=5, max_overflow=10)
    cookie_name = "__Host-hub" if settings.secure_cookies else "hub_session"
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options,
        SESSION_COOKIE_NAME=cookie_name,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        PERMANENT_SESSION_LIFETIME=settings.session_absolute_hours * 3600,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=settings.session_absolute_hours * 3600,
        API_TITLE="Partnership Hub API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": "The partner-system API of the Partnership Hub. See README."},
            "components": {
                "securitySchemes": {
                    "oauth2": {
                        "type": "oauth2",
                        "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}},
                    }
                }
            },
        },
        TESTING=settings.testing,
    )


def _sqlite_pragmas(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
            # The reports' London day of a stored time (hub.indicators.london_day).
            dbapi_conn.create_function("hub_london_day", 1, indicators.sqlite_london_day, deterministic=True)


def _templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(Path(app.root_path) / "web" / "templates")),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.autoescape = True
    templating.init_app(app)


def _has_nul() -> bool:
    """Whether a query or form field holds a NUL character: PostgreSQL cannot
    store or compare text containing one, so it must stop here, not as a 500.
    (JSON bodies are checked by :class:`hub.extensions.HubParser`.)"""
    fields = request.args if request.method in {"GET", "HEAD"} else request.values
    return any("\x00" in key or any("\x00" in v for v in fields.getlist(key)) for key in fields)


def _edge(app: Flask) -> None:
    """Per-request set-up: where the request came from, and who is signed in."""

    def _load(_request: Any) -> Any:
        token = session.get("sid")
        if not token:
            return None
        check = auth_services.load_session(token)
        if check.changed:
            db.session.commit()  # the session row's last-seen time (at most once a minute) or its ending
        if check.user is None:
            session.clear()
            if check.reason in {"idle", "expired", "disabled"}:
                g.session_end_reason = check.reason
        return check.user

    login_manager.request_loader(_load)

    @app.before_request
    def _before() -> None:
        audit.set_origin(audit.Origin("web", request.remote_addr))
        endpoint = request.endpoint
        if endpoint is None:
            return  # 404/405: the error handler answers
        view = app.view_functions[endpoint]
        method = "GET" if request.method == "HEAD" else request.method
        if method != "OPTIONS" and guards.view_access(view, method) is None:
            log.error("route %s has no access rule: refused", endpoint)
            abort(403)
        if _has_nul():
            abort(400, description="The request contains a NUL character, which is never valid input.")
        if not request.path.startswith(("/api/", "/oauth/", "/static/")):
            from flask_login import current_user

            _ = current_user.is_authenticated  # load the session before any work starts

    @app.teardown_request
    def _teardown(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask("hub", instance_relative_config=True, static_folder="web/static", static_url_path="/static")
    app.extensions["hub_settings"] = settings
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops, x_host=settings.proxy_hops
        )
    _configure(app, settings)
    _templates(app)
    db.init_app(app)
    _sqlite_pragmas(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.session_protection = None  # our sessions are server-side rows
    csrf.init_app(app)
    api.init_app(app)
    oauth_server.init_app(app, settings.token_lifetime_seconds)
    errors.init_app(app)
    security.init_app(app, settings)
    _edge(app)
    for endpoint in ("static", "api-docs.openapi_json"):
        guards.mark_public(app, endpoint)

    from hub.auth import views as auth_views
    from hub.notifications import views as notification_views
    from hub.oauth import views as oauth_views
    from hub.web import pages

    app.register_blueprint(auth_views.bp)
    app.register_blueprint(oauth_views.bp)
    csrf.exempt(oauth_views.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(notification_views.bp)
    pages.register_sections(app)
    cli.init_app(app)
    for name in MODULES:
        importlib.import_module(name).init_app(app)
    if settings.secret_key_is_dev and not settings.testing:
        app.logger.warning(DEV_SECRET_WARNING)
    return app
