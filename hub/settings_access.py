"""The running app's :class:`~hub.config.Settings`, for code below the web layer."""

from __future__ import annotations

from flask import current_app

from hub.config import Settings


def settings() -> Settings:
    return current_app.extensions["hub_settings"]  # type: ignore[no-any-return]
