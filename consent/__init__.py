"""Service users, their consent to share, safeguarding decisions to share
without consent, and the log of every disclosure.

Invariants:
- Service users and their consents are visible to host-organisation staff only.
- A sharing basis is a consent (to one named agency, for stated purposes and
  data categories, given and not yet expired or withdrawn) or a safeguarding
  decision (approved by a second manager, or an emergency share awaiting that
  approval), checked at the moment of each disclosure.
- Whether a basis covers a disclosure is decided in one place,
  :mod:`consent.sharing`, at the moment of each disclosure; an emergency
  safeguarding share counts only until its second approval falls due.
- When a basis ends (withdrawal at once; expiry, review and unapproved
  emergencies by the daily job) ``signals.basis_ended`` tells the packages
  above, so they stop sharing.
- Every disclosure to, or view by, someone outside the host organisation is
  logged with who, to whom, what categories, when and on what basis.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from consent import api, views
    from consent.indicators import ConsentIndicators
    from consent.needs import consent_needs
    from consent.subject_access import consent_sections
    from consent.work import CaseloadWork
    from hub import indicators, subject_access, work
    from hub.web import needs

    work.register(app, CaseloadWork())
    subject_access.register(app, consent_sections)
    indicators.register(app, ConsentIndicators())
    needs.register_needs(app, consent_needs)
    needs.register_nav(
        app,
        needs.NavItem(
            "service_users", "Service users", "consent.service_users", 20,
            covers=("consent.", "referrals.send_referral"), staff_only=True,
        ),
    )  # fmt: skip
    from hub.permissions import MANAGERS

    needs.register_nav(app, needs.NavItem(
        "retention", "Retention", "consent.retention_page", 68, covers=("consent.retention_page",), roles=MANAGERS,
        group="manage", description="Whose personal data will be erased next month, and legal holds that keep it.",
    ))  # fmt: skip
    app.register_blueprint(views.bp)
    api.register(app)
