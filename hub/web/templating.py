"""Template filters shared by every package's pages."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask, g
from flask_login import current_user

from hub.db import today
from hub.notifications.services import unread_count
from hub.web import needs
from hub.workdays import working_days_between

LONDON = ZoneInfo("Europe/London")


def when(moment: dt.datetime | None) -> str:
    """A stored (UTC) time as people in the hub read it: London time, "3 May 2026, 14:05"."""
    if moment is None:
        return ""
    local = moment.astimezone(LONDON)
    return f"{local:%-d %B %Y}, {local:%H:%M}"


def working_days_left(due: dt.date | None, on: dt.date | None = None) -> str:
    """A deadline in working days, as people say it: "due today", "1 working day left",
    "3 working days late" (counted like the deadlines themselves, bank holidays excluded)."""
    if due is None:
        return ""
    on = on or today()
    if due == on:
        return "due today"
    if due > on:
        n = working_days_between(on, due)
        return f"{n} working day{'' if n == 1 else 's'} left"
    n = working_days_between(due, on)
    # Past, with no working day since (a weekend or bank holiday): late all the same.
    return f"{n} working day{'' if n == 1 else 's'} late" if n else f"late since {due:%A}"


def _unread_notifications() -> int:
    """For the navigation: how many of the signed-in user's notifications are unread.

    Counted once per request (GOV.UK Frontend's page template renders the header twice)."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = unread_count(current_user.id)
    return int(g.unread_notifications)


def _navigation() -> list[dict[str, object]]:
    """The signed-in person's navigation (hub.web.needs), with their unread count."""
    if not current_user.is_authenticated:
        return []
    return needs.navigation(current_user.role, current_user.is_staff, _unread_notifications())


def init_app(app: Flask) -> None:
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["working_days_left"] = working_days_left
    app.jinja_env.globals["unread_notifications"] = _unread_notifications
    app.jinja_env.globals["navigation"] = _navigation
