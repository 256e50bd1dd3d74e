"""Forums, meetings, consent-aware cases, actions and minutes.

It sits beside ``releases``: it may import ``hub``, ``agencies``,
``consent``, ``referrals`` and ``rota``, and is imported only by ``reports``
and ``openreferral``. What it suggests for the agenda from the other
packages comes through the ``forum_suggestions`` registry
(:mod:`hub.suggestions`), so it never imports ``releases``.

Invariants:
- A case's audience is the agencies in the room whose sharing with her is
  covered now for ``forum_discussion`` (:mod:`forum.audience`): computed at
  every question, so a change of attendance or of her consent counts at
  once; with no agency covered, a case is refused with ``missing``.
- Her name shows only to our staff and to signed-in members of her case's
  audience, each such view a disclosure; agendas, lists, emails, prints and
  calendars carry the case label.
- An action stays open, and on every later agenda of its forum, until it is
  closed as done or not done (and why); a leaver's actions move through the
  open-work contract (``work.py``).
- Agreed minutes are locked: every later change is refused (409).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from forum import api, feeds, views
    from forum import retention as forum_retention
    from forum.indicators import ForumIndicators
    from forum.needs import forum_needs
    from forum.subject_access import forum_sections
    from forum.work import ForumWork
    from hub import indicators, registry, retention, subject_access, work
    from hub.web import needs

    work.register(app, ForumWork())
    subject_access.register(app, forum_sections)
    retention.register(app, forum_retention.last_contact, forum_retention.reduce)
    indicators.register(app, ForumIndicators())
    needs.register_needs(app, forum_needs)
    needs.register_nav(app, needs.NavItem("forum", "Forum", "forum.index", 45, covers=("forum.",)))
    registry.register(app, "calendar_events", feeds.forum_events)
    registry.register(app, "service_user_sections", views.service_user_section)
    app.register_blueprint(views.bp)
    api.register(app)
