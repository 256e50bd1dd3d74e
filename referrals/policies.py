"""Who may see and act on a referral.

- Host staff (admin, manager, practitioner) see every referral; they create,
  send, cancel and message, and may resume a hold caused by a lost basis.
- The receiving agency's staff and systems see referrals to their agency from
  ``sent`` on, and her details only while a basis is valid; they acknowledge,
  accept, decline, start, hold, resume, complete and message. A draft
  cancelled before it was sent never reached them: they never see it.
- Anyone else sees nothing: 404, as if the referral did not exist.
"""

from __future__ import annotations

from hub.permissions import Actor, Role
from referrals.models import Referral
from referrals.states import Side, Status


def side_of(actor: Actor, referral: Referral) -> Side | None:
    if actor.is_staff:
        return Side.SENDER
    if actor.agency_id == referral.agency_id and (
        actor.role in {Role.PARTNER, Role.PARTNER_LEAD} or actor.actor_kind == "client"
    ):
        return Side.RECIPIENT
    return None


def was_sent(referral: Referral) -> bool:
    """Whether it ever reached the agency: not a draft, nor a draft cancelled before sending."""
    return referral.sent_at is not None and referral.status is not Status.DRAFT


def can_see_referral(actor: Actor, referral: Referral) -> bool:
    side = side_of(actor, referral)
    return side is Side.SENDER or (side is Side.RECIPIENT and was_sent(referral))


def can_create_referral(actor: Actor) -> bool:
    return actor.is_staff


def can_act(actor: Actor, referral: Referral, side: Side) -> bool:
    return can_see_referral(actor, referral) and side_of(actor, referral) is side


def can_message(actor: Actor, referral: Referral) -> bool:
    return can_see_referral(actor, referral) and was_sent(referral)
