"""HTML pages of the consent package: thin — parse, call the service, render."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("consent", __name__, template_folder="templates")
