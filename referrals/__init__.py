"""Referrals: a request to a partner agency to help a service user, shared
only on a valid basis, acknowledged and acted on by the agency, chased when
deadlines pass.

Invariants:
- A referral is sent only if, at that moment, a valid consent or safeguarding
  decision covers the agency, the referral's purpose (``referral`` or
  ``release_planning``) and every data category it shares; its details are
  shown outside the host organisation only while such a basis is still
  valid, and every such view is logged.
- It is addressed to an active contact (or to the agency's partner leads),
  never to someone who has left; when a contact leaves, or one of our staff,
  their open referrals move through the open-work contract (``work.py``).
- To a partner, nothing in a referral identifies her across referrals unless
  that referral shares ``identity`` and its basis is valid.
- Status changes follow ``states.TRANSITIONS`` and are atomic: of two
  simultaneous acknowledgements, exactly one succeeds.
- Each reminder or escalation is sent once, and never to someone who has left.
- No deadline is later than the day its work is ``needed_by`` (nor earlier
  than the day it was set).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from hub import indicators, registry, retention, subject_access, work
    from hub.notifications import views as notification_views
    from hub.web import needs
    from referrals import api, handlers, views
    from referrals import retention as referrals_retention
    from referrals.indicators import ReferralIndicators
    from referrals.needs import notifications_about, referral_needs
    from referrals.subject_access import referral_sections
    from referrals.work import ReferralWork

    work.register(app, ReferralWork())
    subject_access.register(app, referral_sections)
    retention.register(app, referrals_retention.last_contact, referrals_retention.reduce)
    indicators.register(app, ReferralIndicators())
    needs.register_needs(app, referral_needs)
    registry.register(app, notification_views.ABOUT, notifications_about)
    for key, label, endpoint, staff in (("referrals", "Referrals", "referrals.referrals", True),
                                        ("inbox", "Inbox", "referrals.inbox", False)):  # fmt: skip
        needs.register_nav(
            app,
            needs.NavItem(
                key, label, endpoint, 30, covers=("referrals.",), exclude=("referrals.send_referral",),
                staff_only=staff, partners_only=not staff,
            ),
        )  # fmt: skip
    registry.register(app, "service_user_sections", views.service_user_section)
    from hub import suggestions
    from referrals.suggestions import overdue_by_agency

    suggestions.register(app, overdue_by_agency)
    app.register_blueprint(views.bp)
    api.register(app)
    handlers.connect()
