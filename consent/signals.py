"""Signals the consent package sends to the packages above it.

- ``basis_ended``: sender is the ended basis (a ``ConsentRecord`` withdrawn or
  expired, or a ``SafeguardingDecision`` rejected or ended); ``reason`` is
  ``withdrawn`` | ``expired`` | ``rejected`` | ``ended`` and ``actor`` who (or
  what) ended it. Receivers stop sharing what it covered, at once.
- ``service_user_sections``: sender is a ``ServiceUser`` whose page is being
  shown, ``actor`` who is looking. Receivers return a section of that page as
  HTML (``markupsafe.Markup``), or None: how the packages above add what they
  know about her (her referrals, say) without consent importing them.
"""

from blinker import Namespace

_signals = Namespace()

basis_ended = _signals.signal("basis-ended")
service_user_sections = _signals.signal("service-user-sections")
