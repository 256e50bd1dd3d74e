"""Template filters shared by every package's pages."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask, g
from flask_login import current_user

from hub.notifications.services import unread_count

LONDON = ZoneInfo("Europe/London")


def when(moment: dt.datetime | None) -> str:
    """A stored (UTC) time as people in the hub read it: London time, "3 May 2026, 14:05"."""
    if moment is None:
        return ""
    local = moment.astimezone(LONDON)
    return f"{local:%-d %B %Y}, {local:%H:%M}"


def _unread_notifications() -> int:
    """For the navigation: how many of the signed-in user's notifications are unread.

    Counted once per request (GOV.UK Frontend's page template renders the header twice)."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = unread_count(current_user.id)
    return int(g.unread_notifications)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.globals["unread_notifications"] = _unread_notifications
