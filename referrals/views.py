"""HTML pages of the referrals package: thin — parse, call the service, render."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("referrals", __name__, template_folder="templates")
