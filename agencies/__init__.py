"""The partner directory: agencies, their named contacts, our staff's
relationships with them, and what happens when people on either side leave.

Invariants:
- A contact who leaves keeps their record and history; nothing names them as
  a current owner afterwards (key contact, deputy, successor of open work).
- Internal notes and the interaction log are for host-organisation staff only.
- A partner lead manages their own agency's contacts and nobody else's.
- A partner account belongs to one active contact of its agency, and closes
  when that contact leaves.
- People's open work, in every package, is handed on through the open-work
  registry (:mod:`hub.work`); the directory provides its own part (agencies
  led and contacts known by our staff, key roles held by contacts).
"""

from __future__ import annotations

from flask import Flask

# Endpoints of the directory's blueprint that belong to the Manage sections, not the directory.
_MANAGED = ("agencies.health", "agencies.staff", "agencies.offboard", "agencies.handover", "agencies.complete_handover")


def init_app(app: Flask) -> None:
    from agencies import api, cli, queries, views
    from agencies.needs import directory_needs
    from agencies.suggestions import single_points
    from agencies.work import DirectoryWork
    from hub import registry, suggestions, work
    from hub.auth import services as auth_services
    from hub.permissions import MANAGERS
    from hub.web import needs

    work.register(app, DirectoryWork())
    needs.register_needs(app, directory_needs)
    suggestions.register(app, single_points)
    needs.register_nav(
        app,
        needs.NavItem("directory", "Directory", "agencies.directory", 10, covers=("agencies.",), exclude=_MANAGED),
    )
    needs.register_nav(
        app,
        needs.NavItem(
            "health", "Partnership health", "agencies.health", 60, covers=("agencies.health",), roles=MANAGERS,
            group="manage", description="Where partnership knowledge rests on one person, has gone cold or "
            "is held by someone who has left, with what fixes each.",
        ),
    )  # fmt: skip
    needs.register_nav(
        app,
        needs.NavItem(
            "staff", "Staff and handover", "agencies.staff", 62,
            covers=("agencies.staff", "agencies.offboard", "agencies.handover", "agencies.complete_handover"),
            roles=MANAGERS, group="manage",
            description="Hand over a leaving colleague's relationships and work, and their handover packs.",
        ),
    )  # fmt: skip
    # A partner account that belongs to no current contact can neither sign in nor act.
    registry.register(app, auth_services.ACCOUNT_STANDING, queries.belongs_to_a_current_contact)
    app.register_blueprint(views.bp)
    api.register(app)
    app.cli.add_command(cli.agencies_cli)
