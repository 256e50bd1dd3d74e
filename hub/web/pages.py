"""Kernel pages: the start page, the audit viewer, the API reference and a
liveness check."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_login import current_user

from hub.audit import AuditEvent, verify_chain
from hub.db import db
from hub.extensions import api
from hub.permissions import Role
from hub.web.guards import public, signed_in

bp = Blueprint("pages", __name__)
AUDIT_PAGE_SIZE = 50
MAX_PAGE = 100000  # as on every other paged list: a larger page number shows an empty page, never a 500


@bp.get("/")
@signed_in()
def home() -> Any:
    return render_template("pages/home.html", title="Home", user=current_user)


@bp.get("/healthz")
@public
def healthz() -> tuple[dict[str, str], int]:
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}, 200


@bp.get("/api/docs")
@public
def api_docs() -> Any:
    """A readable API reference built from the OpenAPI document (no JavaScript)."""
    spec = api.spec.to_dict()
    return render_template("pages/api_docs.html", title="API reference", spec=spec)


@bp.get("/audit")
@signed_in(Role.ADMIN)
def audit_log() -> Any:
    page = max(1, min(request.args.get("page", 1, type=int) or 1, MAX_PAGE))
    action = request.args.get("action", "").strip()[:64]
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc())  # newest first, sealed or not yet
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    events = db.session.scalars(query.limit(AUDIT_PAGE_SIZE + 1).offset((page - 1) * AUDIT_PAGE_SIZE)).all()
    report = verify_chain() if request.args.get("verify") == "1" else None
    return render_template(
        "pages/audit.html",
        title="Audit log",
        events=events[:AUDIT_PAGE_SIZE],
        page=page,
        has_next=len(events) > AUDIT_PAGE_SIZE,
        action=action,
        report=report,
    )
