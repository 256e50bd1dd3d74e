"""Answer links: a reminder carries a link its recipient can follow without a hub account (most partner
contacts have none) to confirm the slot or say the agency cannot come.

A link names one slot and one recipient and carries a keyed hash (HMAC-SHA256 with the hub's secret key) of
the slot, the agency holding it, the recipient and the session's date. Nothing is stored: the link works
while that agency still holds that slot on that date, and until the session is over. When the slot changes
hands, the session moves or passes, or the secret key is changed, every link to it stops working at once.
It can do nothing else: no other slot, no other page, nothing about anyone.
"""

from __future__ import annotations

import hashlib
import hmac

from hub.db import db, today
from hub.settings_access import settings
from rota.models import HELD, RotaSession, RotaSlot

PURPOSE = "rota-answer"


def _mac(slot: RotaSlot, session: RotaSession, who: str) -> str:
    message = f"{PURPOSE}:{slot.id}:{slot.agency_id}:{who}:{session.date.isoformat()}"
    return hmac.new(settings().secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()[:40]


def answer_path(slot: RotaSlot, session: RotaSession, who: str) -> str:
    """The path of the answer page for this slot, for this recipient (a ``Recipient.key`` such as ``c12``)."""
    return f"/rota/answer/{slot.id}/{who}/{_mac(slot, session, who)}"


def valid(slot_id: int, who: str, mac: str) -> tuple[RotaSlot, RotaSession] | None:
    """The slot and its session if this link still works, else None (and nothing says why)."""
    if not (1 <= slot_id < 2**31 and 2 <= len(who) <= 12 and who[0] in "cu" and who[1:].isdigit()):
        return None
    slot = db.session.get(RotaSlot, slot_id)
    if slot is None or slot.agency_id is None or slot.status not in HELD:
        return None
    session = db.session.get_one(RotaSession, slot.session_id)
    if session.is_cancelled or session.date < today():
        return None
    if not hmac.compare_digest(_mac(slot, session, who), mac):
        return None
    return slot, session
