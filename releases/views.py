"""Release-planning pages (being written)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from markupsafe import Markup

bp = Blueprint("releases", __name__, template_folder="templates")


def service_user_section(person: Any, actor: Any = None, **_kw: Any) -> Markup | None:
    return None
