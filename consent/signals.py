"""Signals the consent package sends to the packages above it.

- ``basis_ended``: sender is the ended basis (a ``ConsentRecord`` withdrawn or
  expired, or a ``SafeguardingDecision`` rejected or ended); ``reason`` is
  ``withdrawn`` | ``expired`` | ``rejected`` | ``ended`` and ``actor`` who (or
  what) ended it. Receivers stop sharing what it covered, at once.
"""

from blinker import Namespace

_signals = Namespace()

basis_ended = _signals.signal("basis-ended")
