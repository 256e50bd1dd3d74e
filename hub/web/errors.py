"""Turn every refusal into a clear 4xx: a problem document (RFC 9457) for
the API and OAuth endpoints, an error page for people.

Unexpected exceptions become a generic 500 with a correlation id that is
logged with the traceback; the response never carries internal details.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from typing import Any

import psycopg
import sqlalchemy as sa
from flask import Flask, Response, jsonify, render_template, request
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from hub.db import db
from hub.oauth.server import OAuthProblem
from hub.permissions import HubError, Invalid

log = logging.getLogger(__name__)
PROBLEM_TYPE = "https://partnership-hub.invalid/problems/"
PROBLEM_CT = "application/problem+json"


def wants_problem_json() -> bool:
    return request.path.startswith(("/api/", "/oauth/", "/openreferral"))


def problem(status: int, title: str, detail: str, slug: str | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + (slug or str(status)),
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_CT
    return response


def _page(status: int, title: str, detail: str, errors: dict[str, list[str]] | None = None) -> Response:
    html = render_template("error.html", status=status, title=title, detail=detail, errors=errors or {})
    return Response(html, status=status, mimetype="text/html")


def _http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("messages")
    if isinstance(errors, dict) and len(errors) == 1 and next(iter(errors)) in {"json", "form", "query"}:
        errors = next(iter(errors.values()))  # webargs nests field errors by location
    title = error.name
    detail = error.description or title
    if status == 422:
        title = Invalid.title  # one title for every 422, whichever layer refused the request
        if errors:
            detail = "The request has fields that are missing, unknown or invalid."
    if status == 400 and detail.startswith("Failed to decode JSON"):
        detail = "The request body is not valid JSON."  # werkzeug's wording names internals
    if wants_problem_json():
        response = problem(status, title, detail, errors=errors or None)
    else:
        response = _page(status, title, detail, errors if isinstance(errors, dict) else None)
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _hub_error(error: HubError) -> Response:
    if wants_problem_json():
        extra = dict(error.extra)
        if isinstance(error, Invalid) and error.errors:
            extra["errors"] = error.errors
        return problem(error.status, error.title, error.detail, **extra)
    return _page(error.status, error.title, error.detail, getattr(error, "errors", None))


def _oauth_problem(error: OAuthProblem) -> Response:
    response = problem(
        error.status,
        "Not authorised" if error.status == 401 else "Not allowed",
        error.description or error.error,
        slug=error.error,
        error=error.error,
    )
    for name, value in error.headers:
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _rate_limited(error: RateLimitExceeded) -> Response:
    """Over a rate limit (:mod:`hub.web.ratelimit`): 429 with the wait in Retry-After."""
    from hub.web import ratelimit

    wait = ratelimit.retry_after(error)
    if wants_problem_json():
        response = problem(
            429, "Too many requests", error.description or "Too many requests.", slug="too_many_requests"
        )
    else:
        response = _page(429, "Too many requests", error.description or "Too many requests.")
    response.headers["Retry-After"] = str(wait)
    return response


def _csrf_error(error: CSRFError) -> Response:
    return _page(400, "Your form has expired", "Go back, reload the page and try again.")


RETRY_AFTER_SECONDS = 5
UNAVAILABLE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Service unavailable – Partnership Hub</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>The hub is unavailable for a moment</h1>
<p>It cannot reach its database just now. Nothing you did was lost: wait a few seconds and try again.</p>
</main></body></html>"""


def _database_unavailable(error: Exception) -> Response:
    """The database cannot be reached (a restart, a network fault): 503 with Retry-After, not 500.

    The page is plain HTML: the usual layout would itself ask the database who is signed in."""
    log.warning("database unavailable: %s", type(error).__name__)
    with contextlib.suppress(Exception):
        db.session.rollback()
    if wants_problem_json():
        response = problem(
            503,
            "Service unavailable",
            "The hub cannot reach its database just now. Retry after the number of seconds in Retry-After.",
            slug="unavailable",
        )
    else:
        response = Response(UNAVAILABLE_PAGE, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _unexpected(error: Exception) -> Response:
    incident = secrets.token_hex(6)
    log.exception("unhandled error, incident %s", incident)
    detail = f"Something went wrong on our side. If it happens again, quote incident {incident}."
    if wants_problem_json():
        return problem(500, "Internal error", detail, incident=incident)
    return _page(500, "Sorry, there is a problem with the service", detail)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(HubError, _hub_error)
    app.register_error_handler(OAuthProblem, _oauth_problem)
    # Losing the database (OperationalError: refused, shutting down, connection lost; InterfaceError:
    # a closed connection) is a temporary outage, not a bug. Other database errors stay 500s.
    for unavailable in (sa.exc.OperationalError, sa.exc.InterfaceError, psycopg.OperationalError):
        app.register_error_handler(unavailable, _database_unavailable)
    app.register_error_handler(Exception, _unexpected)
