"""The weekly drop-in: sessions, slots, agency commitments, attendance and
calendar feeds.

It sits beside ``referrals`` and imports ``hub`` and ``agencies`` only: it
never imports ``consent`` or ``referrals``, because the rota holds no data
about women (the session record is counts only, and no feed names her).

Invariants:
- Sessions are generated ahead by an idempotent, set-based job
  (:mod:`rota.generation`): unique keys refuse a second session on a day, a
  second wanted slot for a service, or a commitment applied twice.
- A slot is held by one agency at most; taking it is a conditional UPDATE,
  so of two agencies taking the last slot at once exactly one succeeds.
- A partner acts only for its own agency; who attends another agency's slot
  and every agency's reliability are not shown to other agencies.
- Slots and commitments join the open-work contract (``work.py``): a leaver
  holds none afterwards.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from hub import indicators, registry, work
    from hub.web import needs
    from rota import api, feeds, views
    from rota.indicators import RotaIndicators
    from rota.needs import rota_needs
    from rota.work import RotaWork

    work.register(app, RotaWork())
    indicators.register(app, RotaIndicators())
    needs.register_needs(app, rota_needs)
    needs.register_nav(app, needs.NavItem("rota", "Rota", "rota.index", 40, covers=("rota.",)))
    registry.register(app, feeds.REGISTRY, feeds.rota_events)
    from hub import suggestions
    from rota.suggestions import rota_suggestions

    suggestions.register(app, rota_suggestions)
    app.register_blueprint(views.bp)
    api.register(app)
