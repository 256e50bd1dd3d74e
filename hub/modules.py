"""The domain packages the app factory loads, by dotted name, in order.

Each must expose ``init_app(app)``. Lower packages come first so that the
signal handlers of upper packages connect after the signals exist.
"""

MODULES: tuple[str, ...] = ("agencies", "consent", "referrals", "rota", "releases", "forum", "reports", "openreferral")
