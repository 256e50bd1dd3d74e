"""Service users, their consent to share, safeguarding decisions to share
without consent, and the log of every disclosure.

Invariants:
- Service users and their consents are visible to host-organisation staff only.
- A sharing basis is a consent (to one named agency, for stated purposes and
  data categories, given and not yet expired or withdrawn) or a safeguarding
  decision (approved by a second manager, or an emergency share awaiting that
  approval), checked at the moment of each disclosure.
- Withdrawal takes effect at once; ``consent_withdrawn`` (and, from the daily
  job, ``consent_expired``) tell the packages above so they stop sharing.
- Every disclosure to, or view by, someone outside the host organisation is
  logged with who, to whom, what categories, when and on what basis.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from consent import api, views

    app.register_blueprint(views.bp)
    api.register(app)
