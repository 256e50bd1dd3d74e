"""The signed-in user's notifications, and the email outbox for administrators.

Without a mail server (the demo), emails are held: the outbox is where they
can be read.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hub import registry
from hub.db import unit_of_work
from hub.notifications import services
from hub.notifications.models import EmailStatus
from hub.permissions import Role
from hub.settings_access import settings
from hub.web.forms import path_id
from hub.web.guards import current_actor, signed_in

bp = Blueprint("notifications", __name__, template_folder="templates")
PER_PAGE = 50
# Registry of callables ``(actor, [(notification_id, path)]) -> {notification_id: text}``: a package
# says who and what a message linking to one of its pages is about, as this person may see it now
# (messages themselves never carry her name: they are also sent by email).
ABOUT = "notification_about"


def _page() -> int:
    return max(1, min(request.args.get("page", 1, type=int) or 1, 100000))


def local_link(link: str) -> str:
    """Links in messages are absolute (for email); in the hub they stay on this site."""
    base = settings().base_url
    if link.startswith(base + "/"):
        return link[len(base) :]
    return link if link.startswith("/") else ""


def _user_id() -> int:
    """The signed-in person's id: notifications belong to people, never to systems."""
    user_id = current_actor().actor_id
    assert user_id is not None, "signed_in() admits people only"
    return user_id


@bp.get("/notifications")
@signed_in()
def notifications() -> Any:
    user_id = _user_id()
    page = _page()
    items, total = services.notifications_for(user_id, page, PER_PAGE)
    links = [(n, local_link(n.link)) for n in items]
    with unit_of_work():  # what a package shows of who a message is about may be logged as a disclosure
        about: dict[int, str] = {}
        for provider in registry.providers(ABOUT):
            about.update(provider(current_actor(), [(n.id, href) for n, href in links if href]))
        return render_template(
            "notifications/list.html",
            title="Notifications",
            items=links,
            about=about,
            total=total,
            page=page,
            pages=max(1, -(-total // PER_PAGE)),
            unread=services.unread_count(user_id),
        )


@bp.post("/notifications/<notification_id>/read")
@signed_in()
def mark_read(notification_id: str) -> Response:
    with unit_of_work():
        services.mark_read(_user_id(), path_id(notification_id))
    return redirect(url_for("notifications.notifications", page=request.args.get("page", type=int)))


@bp.post("/notifications/read-all")
@signed_in()
def mark_all_read() -> Response:
    with unit_of_work():
        count = services.mark_read(_user_id())
    flash(f"{count} notification{'' if count == 1 else 's'} marked as read.")
    return redirect(url_for("notifications.notifications"))


@bp.get("/notifications/outbox")
@signed_in(Role.ADMIN)
def outbox() -> Any:
    value = request.args.get("status") or None
    if value is not None and value not in EmailStatus._value2member_map_:
        abort(404)
    status = EmailStatus(value) if value else None
    page = _page()
    items, total = services.outbox(status, page, PER_PAGE)
    return render_template(
        "notifications/outbox.html",
        title="Email outbox",
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        status=value,
        statuses=list(EmailStatus),
        mail_server=bool(settings().smtp_host),
    )
