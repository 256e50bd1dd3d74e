"""Signals the consent package sends to the packages above it.

- ``basis_ended``: sender is the :class:`consent.sharing.BasisRef` of the
  ended basis (a consent withdrawn or expired, a safeguarding decision
  rejected, ended, or an emergency share not approved in time); ``reason`` is
  ``withdrawn`` | ``expired`` | ``rejected`` | ``ended`` | ``lapsed`` and
  ``actor`` who (or what) ended it. Receivers stop sharing what it covered,
  at once.
"""

from blinker import Namespace

_signals = Namespace()

basis_ended = _signals.signal("basis-ended")
