"""The feed's three endpoints the profile requires: ``/``, ``/services`` and ``/services/{id}``."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, request

from hub.permissions import Invalid, NotFound
from hub.web.guards import public
from openreferral import feed

PREFIX = "/openreferral"
bp = Blueprint("openreferral", __name__, url_prefix=PREFIX)


@bp.after_app_request
def _open_to_every_origin(response: Response) -> Response:
    """Every answer under the feed, errors and unknown addresses too, may be read from any web page."""
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _whole(name: str, default: int, largest: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= largest:
        raise Invalid.on_field(name, f"Give {name} as a whole number from 1 to {largest}")
    return int(raw)


@bp.get("/")
@public
def index() -> Any:
    return jsonify(feed.details())


@bp.get("/services")
@public
def services() -> Any:
    page = _whole("page", 1, 1_000_000)
    per_page = _whole("per_page", 50, feed.MAX_PER_PAGE)
    organization_id = request.args.get("organization_id") or None
    if organization_id is not None:
        organization_id = _uuid(organization_id, "organization_id")
    search = (request.args.get("search") or "").strip()[:200] or None
    return jsonify(feed.services_page(page, per_page, search, organization_id).as_json())


@bp.get("/services/<service_id>")
@public
def service(service_id: str) -> Any:
    found = feed.service(_uuid(service_id, "id"))
    if found is None:
        raise NotFound("No such published service.")
    return jsonify(found)


def _uuid(value: str, field: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        if field == "id":
            raise NotFound("No such published service.") from None
        raise Invalid.on_field(field, "Give a UUID") from None
