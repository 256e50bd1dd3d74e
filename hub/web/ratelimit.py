"""Rate limits for partner systems (Flask-Limiter), one limiter per application.

- Every call of the API counts against one budget per partner system (``HUB_RATELIMIT_API``, all
  endpoints together), keyed by the client behind the bearer token. A request without a usable
  token counts against its address instead.
- ``/oauth/token`` and ``/oauth/revoke`` count per address (``HUB_RATELIMIT_TOKEN``), on top of the
  throttle on failed client authentications (:mod:`hub.oauth.views`).
- Over a limit: 429, a problem document with ``Retry-After`` (:mod:`hub.web.errors`).

Counts live in each worker process's memory unless ``HUB_RATELIMIT_STORAGE_URI`` names a shared
store (``redis://…``), so with several gunicorn workers each allows the full rate. The web pages
are not limited here: people's sign-in keeps its own throttle (:mod:`hub.auth.services`).
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded

from hub.config import Settings
from hub.oauth.server import request_token

API_SCOPE = "api"  # one shared counter per client across every API endpoint


def _address() -> str:
    return f"address:{request.remote_addr or 'unknown'}"


def client_key() -> str:
    """The partner system behind the request's bearer token, else the address it came from."""
    token = request_token()
    if token is not None and not token.is_revoked() and not token.is_expired():
        return f"client:{token.client_pk}"
    return _address()


def _api_message() -> str:
    limit = _settings().ratelimit_api
    return f"Too many requests from this partner system (at most {limit}). Wait for the seconds in Retry-After."


def _token_message() -> str:
    limit = _settings().ratelimit_token
    return f"Too many token requests from this address (at most {limit}). Wait for the seconds in Retry-After."


def _settings() -> Settings:
    settings: Settings = current_app.extensions["hub_settings"]
    return settings


def limiter_of(app: Flask) -> Limiter:
    limiter: Limiter = app.extensions["hub_limiter"]
    return limiter


def init_app(app: Flask, settings: Settings) -> Limiter:
    """Create this application's limiter and limit the OAuth endpoints; API blueprints are limited
    as they are registered (:func:`limit_api_blueprint`)."""
    limiter = Limiter(
        key_func=_address,
        storage_uri=settings.ratelimit_storage_uri,
        strategy="sliding-window-counter",
        headers_enabled=False,  # Retry-After only on a 429 (errors.py), not on every answer
        key_prefix="hub",
    )
    limiter.init_app(app)
    app.extensions["hub_limiter"] = limiter
    from hub.oauth import views as oauth_views

    limiter.limit(settings.ratelimit_token, key_func=_address, error_message=_token_message)(oauth_views.bp)
    return limiter


def limit_api_blueprint(app: Flask, blueprint: Any) -> None:
    """Put an API blueprint's endpoints under the per-client budget they all share."""
    settings = app.extensions["hub_settings"]
    limiter_of(app).shared_limit(
        settings.ratelimit_api, scope=API_SCOPE, key_func=client_key, error_message=_api_message
    )(blueprint)


def retry_after(error: RateLimitExceeded) -> int:
    """Whole seconds until the breached limit lets a request through again (at least 1)."""
    limiter = current_app.extensions.get("hub_limiter")
    current = limiter.current_limit if limiter is not None else None
    if current is not None and current.breached:
        return max(1, int(current.reset_at - time.time()) + 1)
    return max(1, int(error.limit.limit.get_expiry()))
