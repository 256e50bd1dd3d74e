"""Release planning: custody episodes, the day-of-release rule, release plans
and the alerts before a woman leaves prison.

Invariants:
- The hub's release dates are an expectation computed from the date the
  prison or probation gave (:mod:`releases.dates`), never a sentence
  calculation, and never later than the statutory day: nobody may be held
  past their release date.
- Custody and plans are for our staff. A partner sees a release only where
  its agency is in her plan and, at that moment, her consent (or a
  safeguarding decision) covers ``release_planning`` and ``criminal_justice``
  for it; each view is logged as a disclosure.
- When the dates change, every plan item and open plan referral moves with
  them and every agency in the plan is told once, in the same transaction;
  messages carry the custody reference and the dates, never her name.
- A plan item that needs a partner is a referral with purpose
  ``release_planning`` (its deadline, reminders and escalation are the
  referrals'); plan items join the open-work contract (``work.py``).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from hub import indicators, registry, retention, subject_access, work
    from hub.web import needs
    from releases import api, views
    from releases import retention as releases_retention
    from releases.indicators import ReleaseIndicators
    from releases.needs import release_needs
    from releases.subject_access import release_sections
    from releases.work import ReleaseWork

    work.register(app, ReleaseWork())
    subject_access.register(app, release_sections)
    retention.register(app, releases_retention.last_contact, releases_retention.reduce)
    indicators.register(app, ReleaseIndicators())
    needs.register_needs(app, release_needs)
    # One section for our staff (the board) and partners (the releases shared with them) alike.
    needs.register_nav(app, needs.NavItem("releases", "Releases", "releases.board", 35, covers=("releases.",)))
    registry.register(app, "service_user_sections", views.service_user_section)
    from hub import suggestions
    from releases.suggestions import releases_with_gaps

    suggestions.register(app, releases_with_gaps)
    app.register_blueprint(views.bp)
    api.register(app)
