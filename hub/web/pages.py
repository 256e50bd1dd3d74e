"""Kernel pages: the start page, the audit viewer, the API reference and a
liveness check."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, render_template, request
from flask_login import current_user

from hub.audit import AuditEvent, verify_chain
from hub.db import db
from hub.extensions import api
from hub.permissions import Role
from hub.web import audit_labels
from hub.web.guards import current_actor, public, signed_in
from hub.web.needs import NavItem, needs_for, register_nav, sections

bp = Blueprint("pages", __name__)
AUDIT_PAGE_SIZE = 50
MAX_PAGE = 100000  # as on every other paged list: a larger page number shows an empty page, never a 500


def register_sections(app: Flask) -> None:
    """The kernel's own sections of the navigation (hub.web.needs)."""
    admin = frozenset({Role.ADMIN})
    for item in (
        NavItem("notifications", "Notifications", "notifications.notifications", 80, covers=("notifications.",),
                exclude=("notifications.outbox",)),
        NavItem("account", "Your account", "auth.change_password", 90),
        NavItem("audit", "Audit log", "pages.audit_log", 70, roles=admin, group="manage",
                description="Who did what, when and from where; and a check that nothing in it was changed."),
        NavItem("outbox", "Email outbox", "notifications.outbox", 72, roles=admin, group="manage",
                description="Every email the hub has queued, sent, held or failed to send."),
    ):  # fmt: skip
        register_nav(app, item)


@bp.get("/")
@signed_in()
def home() -> Any:
    """What needs this person today, from every package (hub.web.needs), with counts and links."""
    actor = current_actor()
    lines = needs_for(actor)
    return render_template("pages/home.html", title="Home", user=current_user, needs=lines)


@bp.get("/manage")
@signed_in()
def manage() -> Any:
    """The management sections this person may use (health, staff, audit log, ... from every package)."""
    listed = sections(current_user.role, current_user.is_staff, "manage")
    if not listed:
        abort(404)
    return render_template("pages/manage.html", title="Manage", sections=listed)


@bp.get("/healthz")
@public
def healthz() -> tuple[dict[str, str], int]:
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}, 200


@bp.get("/api/docs")
@public
def api_docs() -> Any:
    """The API reference: Swagger UI over the OpenAPI document, served by the hub (a list of the
    operations without JavaScript)."""
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
    shown = events[:AUDIT_PAGE_SIZE]
    names = audit_labels.names_for(shown)  # every name on the page, in one query
    return render_template(
        "pages/audit.html",
        title="Audit log",
        entries=[
            {
                "event": e,
                "who": audit_labels.who(e, names),
                "action": audit_labels.action_label(e.action),
                "what": audit_labels.what(e, names),
                "details": audit_labels.details(e, names),
            }
            for e in shown
        ],
        page=page,
        has_next=len(events) > AUDIT_PAGE_SIZE,
        action=action,
        report=report,
    )
