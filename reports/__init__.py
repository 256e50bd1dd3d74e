"""Indicators, partnership figures, charts, and exports with small-number
suppression.

Not written yet, and not loaded by the app: it is not in
:data:`hub.modules.MODULES` and has no ``init_app``. The package exists now so
that import-linter holds it to its place from the first line of code: it sits
on the top layer beside ``openreferral`` and may import every package below.
"""
