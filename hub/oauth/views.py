"""``POST /oauth/token`` (client credentials) and ``POST /oauth/revoke`` (RFC 7009)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from hub import audit
from hub.audit import Origin, set_origin
from hub.db import db
from hub.oauth.server import authorization
from hub.web.errors import PROBLEM_CT, PROBLEM_TYPE
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


@bp.post("/token")
@public
def token() -> Response:
    """Exchange client credentials (HTTP Basic) for a short-lived bearer token."""
    set_origin(Origin("api", request.remote_addr))
    response = authorization.create_token_response()
    if response.status_code == 401:
        audit.record(None, "oauth.client_auth_failed")
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
