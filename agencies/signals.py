"""Signals the directory sends, for packages above it to act on.

- ``contact_left``: sender is the contact who left; ``takeover`` is the
  contact who now holds their work (their successor, else the agency's key
  contact, else None) and ``actor`` who recorded it. Packages with open work
  addressed to a contact (referrals, rota slots, forum actions) move it.
- ``staff_offboarded``: sender is the member of staff (a ``User``);
  ``assignments`` maps relationship keys to the staff id taking each over,
  ``default_user_id`` is who takes anything not listed.
- ``handover_items``: sender is the leaving member of staff; each receiver
  returns a list of ``(heading, [line, ...])`` sections of open work for the
  handover pack.
"""

from blinker import Namespace

_signals = Namespace()

contact_left = _signals.signal("contact-left")
staff_offboarded = _signals.signal("staff-offboarded")
handover_items = _signals.signal("handover-items")
