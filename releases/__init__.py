"""Custody episodes, the day-of-release rule, release plans and release
alerts.

Not written yet, and not loaded by the app: it is not in
:data:`hub.modules.MODULES` and has no ``init_app``. The package exists now so
that import-linter holds it to its place from the first line of code: it sits
beside ``forum``, may import ``hub``, ``agencies``, ``consent``, ``referrals``
and ``rota``, and is imported only by ``reports`` and ``openreferral``.
"""
