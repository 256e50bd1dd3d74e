"""The referrals package's JSON API (``/api/v1``) for partner systems."""

from __future__ import annotations

from flask import Flask

from hub.extensions import ApiBlueprint, api, csrf

blp = ApiBlueprint("referrals_api", __name__, url_prefix="/api/v1", description="referrals")


def register(app: Flask) -> None:
    api.register_blueprint(blp)
    csrf.exempt(blp)
