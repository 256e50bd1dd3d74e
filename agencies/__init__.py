"""The partner directory: agencies, their named contacts, our staff's
relationships with them, and what happens when people on either side leave.

Invariants:
- A contact who leaves keeps their record and history; nothing names them as
  a current owner afterwards (key contact, deputy, successor of open work).
- Internal notes and the interaction log are for host-organisation staff only.
- A partner lead manages their own agency's contacts and nobody else's.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from agencies import api, cli, views

    app.register_blueprint(views.bp)
    api.register(app)
    app.cli.add_command(cli.agencies_cli)
