"""Forums, meetings, consent-aware cases, actions and minutes.

Not written yet, and not loaded by the app: it is not in
:data:`hub.modules.MODULES` and has no ``init_app``. The package exists now so
that import-linter holds it to its place from the first line of code: it sits
beside ``releases``, may import ``hub``, ``agencies``, ``consent``,
``referrals`` and ``rota``, and is imported only by ``reports`` and
``openreferral``.
"""
