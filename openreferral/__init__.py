"""The public Open Referral UK feed of services and schedules (``/openreferral/``).

It sits on the top layer beside ``reports`` and may import every package below; nothing imports it.
Public, with no sign-in and no key, ``Access-Control-Allow-Origin: *`` on every answer (errors too), and
limited per address like the API. It publishes only what :mod:`openreferral.feed` says it may.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from hub.web.ratelimit import limit_api_blueprint
    from openreferral import views

    app.register_blueprint(views.bp)
    limit_api_blueprint(app, views.bp)
