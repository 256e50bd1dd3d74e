"""Who may see and act on a referral, and in which state: one function per use case.

- Host staff (admin, manager, practitioner) and the hub's own jobs see every
  referral; they create, send, cancel, message and reschedule, and resume a
  referral put on hold because the basis for sharing ended (once her consent
  is recorded again).
- The receiving agency's staff and systems see referrals to their agency from
  ``sent`` on, and her details only while a basis is valid; they acknowledge,
  accept, decline, start, hold, resume (their own holds only), complete and
  message. A draft cancelled before it was sent never reached them: they
  never see it.
- Anyone else sees nothing: 404, as if the referral did not exist.

Each ``can_<use case>(actor, referral)`` includes the state the referral must
be in, so the page that decides which buttons to show and the service that
does the work ask the same question (:func:`available_actions`). When it says
no, :func:`refusal` tells the service whether to answer 403 (not yours to do)
or 409 (not in this state).
"""

from __future__ import annotations

from collections.abc import Callable

from hub.permissions import Actor, Conflict, Denied, HubError, Role
from referrals.models import Referral
from referrals.states import OPEN, TRANSITIONS, Side, Status


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


def can_open_referral(actor: Actor, referral: Referral) -> bool:
    """Read it (and, while a basis is valid, her details: a partner's view is then a disclosure)."""
    return can_see_referral(actor, referral)


def can_create_referral(actor: Actor) -> bool:
    return actor.is_staff


def _may(actor: Actor, referral: Referral, action: str) -> bool:
    """The actor is on the side that takes this action, and the referral is in a state it starts from."""
    transition = TRANSITIONS[action]
    return (
        can_see_referral(actor, referral)
        and side_of(actor, referral) is transition.side
        and referral.status in transition.sources
    )


def can_send_referral(actor: Actor, referral: Referral) -> bool:
    return _may(actor, referral, "send")


def can_acknowledge_referral(actor: Actor, referral: Referral) -> bool:
    return _may(actor, referral, "acknowledge")


def can_accept_referral(actor: Actor, referral: Referral) -> bool:
    return _may(actor, referral, "accept")


def can_decline_referral(actor: Actor, referral: Referral) -> bool:
    return _may(actor, referral, "decline")


def can_start_referral(actor: Actor, referral: Referral) -> bool:
    return _may(actor, referral, "start")


def can_hold_referral(actor: Actor, referral: Referral) -> bool:
    return _may(actor, referral, "hold")


def can_complete_referral(actor: Actor, referral: Referral) -> bool:
    return _may(actor, referral, "complete")


def can_cancel_referral(actor: Actor, referral: Referral) -> bool:
    return _may(actor, referral, "cancel")


def can_resume_referral(actor: Actor, referral: Referral) -> bool:
    """A hold for a lost basis is ours to lift (once her consent is recorded again); any other
    hold is the agency's own, and only the agency resumes it."""
    if referral.status is not Status.ON_HOLD or not can_see_referral(actor, referral):
        return False
    side = side_of(actor, referral)
    return side is (Side.SENDER if referral.basis_lost else Side.RECIPIENT)


def can_reschedule_referral(actor: Actor, referral: Referral) -> bool:
    """Move the day an open referral's work is needed by: our staff, or the hub's own jobs (release
    planning, when her release date moves). A closed referral's deadlines are history."""
    return side_of(actor, referral) is Side.SENDER and referral.status in OPEN


def can_post_message(actor: Actor, referral: Referral) -> bool:
    return can_see_referral(actor, referral) and was_sent(referral)


def can_hold_for_lost_basis(actor: Actor) -> bool:
    """Putting referrals on hold follows from ending a basis: our staff, or the hub's own jobs."""
    return actor.is_staff


ACTION_POLICIES: dict[str, Callable[[Actor, Referral], bool]] = {
    "send": can_send_referral,
    "acknowledge": can_acknowledge_referral,
    "accept": can_accept_referral,
    "decline": can_decline_referral,
    "start": can_start_referral,
    "hold": can_hold_referral,
    "resume": can_resume_referral,
    "complete": can_complete_referral,
    "cancel": can_cancel_referral,
}


def available_actions(actor: Actor, referral: Referral) -> list[str]:
    """The actions this actor may take on this referral now, in the order of ``TRANSITIONS``."""
    return [name for name, allowed in ACTION_POLICIES.items() if allowed(actor, referral)]


def refusal(actor: Actor, referral: Referral, action: str) -> HubError:
    """Why an action the policy refused is refused: 403 when it is not this actor's to take, else 409."""
    if not can_see_referral(actor, referral):
        return Denied("This referral has not been sent to your agency.")
    side = side_of(actor, referral)
    if action == "resume":
        if side is Side.SENDER and not referral.basis_lost:
            return Denied("Only the receiving agency resumes a referral it put on hold.")
        if side is Side.RECIPIENT and referral.basis_lost:
            return Denied("The basis for sharing ended: only the host organisation can resume this referral.")
        return Conflict("Only a referral on hold can be resumed.")
    if side is not TRANSITIONS[action].side:
        return Denied(
            "Only the receiving agency can do this."
            if TRANSITIONS[action].side is Side.RECIPIENT
            else "Only our own staff can do this."
        )
    if action == "send":
        return Conflict(f"This referral is {referral.status.label.lower()}, not a draft.")
    return Conflict(f"A referral that is {referral.status.label.lower()} cannot be {_DONE[action]}.")


_DONE = {
    "acknowledge": "acknowledged",
    "accept": "accepted",
    "decline": "declined",
    "start": "started",
    "hold": "put on hold",
    "complete": "completed",
    "cancel": "cancelled",
}


def can_mark_referral_seen(actor: Actor, referral: Referral) -> bool:
    """A person (not a system) who may see the referral marks their own notifications about it read."""
    return actor.actor_kind == "user" and actor.actor_id is not None and can_see_referral(actor, referral)


def can_glimpse_referrals(actor: Actor) -> bool:
    """A partner's lists show what her consent allows of each woman (our staff's lists show names
    already, and are not disclosures to another agency)."""
    return not actor.is_staff
