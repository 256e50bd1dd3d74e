"""Who may do what with the rota, named after the services they guard.

- Everyone signed in (and any partner system with ``rota:read``) sees the
  rota: sessions, slots, which agency holds each, and the gaps.
- Our managers run it: the weekly series, sessions, cancellations, slots,
  asking an agency to fill a gap, and any agency's slots and commitments.
- Our staff record what happened at a session.
- A partner lead (or a partner system) manages its own agency's slots and
  commitments only; partner staff confirm, or say they cannot come to, the
  slots they are named for.
- Reliability is for our managers and, for its own agency, the partner lead:
  never shown to other agencies.
"""

from __future__ import annotations

from hub.permissions import Actor, Role
from rota.models import CalendarFeed, RotaCommitment, RotaSlot


def can_view_rota(actor: Actor) -> bool:
    return actor.role is not None


def can_manage_rota(actor: Actor) -> bool:
    return actor.is_staff and actor.is_manager


def acts_for(actor: Actor, agency_id: int | None) -> bool:
    """A manager for any agency; a partner lead or partner system for its own."""
    if can_manage_rota(actor):
        return True
    return agency_id is not None and actor.agency_id == agency_id and actor.role is Role.PARTNER_LEAD


can_save_series = can_create_session = can_edit_session = can_cancel_session = can_add_slot = can_manage_rota
can_ask_agency = can_manage_rota


def can_record_session(actor: Actor) -> bool:
    return actor.is_staff


def can_take_slot(actor: Actor, agency_id: int) -> bool:
    return acts_for(actor, agency_id)


def can_answer_slot(actor: Actor, slot: RotaSlot, contact_id_of_actor: int | None) -> bool:
    """Confirm, or say they cannot come: whoever acts for its agency, or the partner named to attend."""
    if acts_for(actor, slot.agency_id):
        return True
    return (
        slot.agency_id is not None
        and actor.agency_id == slot.agency_id
        and contact_id_of_actor is not None
        and contact_id_of_actor == slot.contact_id
    )


can_confirm_slot = can_cant_attend = can_answer_slot


def can_set_attendee(actor: Actor, slot: RotaSlot) -> bool:
    return acts_for(actor, slot.agency_id)


def can_create_commitment(actor: Actor, agency_id: int) -> bool:
    return acts_for(actor, agency_id)


def can_change_commitment(actor: Actor, commitment: RotaCommitment) -> bool:
    return acts_for(actor, commitment.agency_id)


can_end_commitment = can_change_commitment


def can_see_reliability(actor: Actor, agency_id: int | None) -> bool:
    """``agency_id`` None: every agency's (managers only)."""
    if can_manage_rota(actor):
        return True
    return agency_id is not None and acts_for(actor, agency_id)


def can_create_feed(actor: Actor, agency_id: int | None) -> bool:
    """The whole rota's feed: our staff. An agency's: our managers, or that agency's lead."""
    if agency_id is None:
        return actor.is_staff
    return acts_for(actor, agency_id)


def can_revoke_feed(actor: Actor, feed: CalendarFeed) -> bool:
    if feed.agency_id is None:
        return actor.is_staff
    return acts_for(actor, feed.agency_id)
