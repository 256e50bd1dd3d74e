"""``POST /oauth/token`` (client credentials) and ``POST /oauth/revoke`` (RFC 7009).

Failed client authentications at the token endpoint are throttled like
sign-in (:mod:`hub.auth.services`): per (client id, address) and per
address, in a sliding window. Each counted failure writes one audit entry;
once an address is blocked it gets 429 with ``Retry-After``, even with the
right secret, and nothing is written. So nobody can grow the append-only
audit log by more than the limit per window per address.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from hub import audit
from hub.audit import Origin, set_origin
from hub.auth import services as auth_services
from hub.db import db
from hub.oauth.server import authorization
from hub.web.errors import PROBLEM_CT, PROBLEM_TYPE, problem
from hub.web.guards import public

bp = Blueprint("oauth", __name__, url_prefix="/oauth")


def _as_problem(response: Response) -> Response:
    """Authlib answers errors in RFC 6749 form; add the RFC 9457 members too."""
    if response.status_code < 400:
        return response
    try:
        body = json.loads(response.get_data(as_text=True) or "{}")
    except ValueError:
        body = {}
    error = body.get("error", "invalid_request")
    body.update(
        type=PROBLEM_TYPE + error,
        title="Not authorised" if response.status_code == 401 else "Bad token request",
        status=response.status_code,
        detail=body.get("error_description") or error.replace("_", " "),
    )
    response.set_data(json.dumps(body))
    response.mimetype = PROBLEM_CT
    return response


def _too_many(wait: int) -> Response:
    response = problem(
        429,
        "Too many requests",
        f"Too many failed client authentications from this address. Try again in {wait} seconds.",
        slug="too_many_requests",
        error="too_many_requests",
    )
    response.headers["Retry-After"] = str(wait)
    return response


@bp.post("/token")
@public
def token() -> Response:
    """Exchange client credentials (HTTP Basic) for a short-lived bearer token."""
    set_origin(Origin("api", request.remote_addr))
    ip = request.remote_addr or ""
    credentials = request.authorization  # HTTP Basic: the only client authentication accepted
    if credentials is None or credentials.type != "basic":
        # No client credentials at all: refused (401) with nothing to count or audit, so it cannot grow the
        # audit log either. (The rate limit per address still applies: hub.web.ratelimit.)
        return _as_problem(authorization.create_token_response())
    client_id = credentials.username or ""
    key = auth_services.client_key(client_id[:200])
    if (wait := auth_services.failure_wait(key, ip)) > 0:
        return _too_many(wait)
    response = authorization.create_token_response()
    if response.status_code == 401:
        auth_services.count_failure(key, ip)
        audit.record(None, "oauth.client_auth_failed")
    elif response.status_code == 200:
        auth_services.clear_counted_failures(key, ip)
    db.session.commit()
    return _as_problem(response)


@bp.post("/revoke")
@public
def revoke() -> Response:
    """Revoke one of the calling client's own tokens."""
    set_origin(Origin("api", request.remote_addr))
    response = authorization.create_endpoint_response("revocation")
    db.session.commit()
    return _as_problem(response)
