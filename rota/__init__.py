"""The weekly drop-in: sessions, slots, agency commitments, attendance and
calendar feeds.

Not written yet, and not loaded by the app: it is not in
:data:`hub.modules.MODULES` and has no ``init_app``. The package exists now so
that import-linter holds it to its place from the first line of code: it sits
beside ``referrals`` and may import ``hub`` and ``agencies`` only. It never
imports ``consent`` or ``referrals``: the rota holds no data about women.
"""
