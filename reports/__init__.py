"""Indicators, partnership figures, charts, and exports with small-number suppression.

It sits on the top layer beside ``openreferral`` and reads every package below through the
indicator registry (:mod:`hub.indicators`): each package counts its own records; the reports add
the women counted once across them all, disclosure control (:mod:`reports.disclosure`), charts
drawn on the server, the CSV and XLSX downloads and the API. It writes nothing but the audit
trail's record of what left.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from hub.permissions import MANAGERS, Role
    from hub.web import needs
    from reports import api, views

    needs.register_nav(
        app,
        needs.NavItem("reports", "Reports", "reports.index", 65, covers=("reports.",),
                      roles=frozenset(MANAGERS | {Role.PARTNER_LEAD}), group="manage",
                      description="Figures for funders, with small numbers withheld, the release funnel, and how "
                      "each partner agency performs (a partner lead: its own)."),
    )  # fmt: skip
    app.register_blueprint(views.bp)
    api.register(app)
