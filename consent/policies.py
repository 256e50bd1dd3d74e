"""Who may see and act on service users, consent and safeguarding decisions.

Service users, consent records, safeguarding decisions and disclosure
history are for host-organisation staff only (partners learn what a referral
shares with them, and nothing else).

| action                               | admin/manager | practitioner | partners |
|--------------------------------------|---------------|--------------|----------|
| see service users, consents, history | yes           | yes          | no       |
| add a service user, record/withdraw consent | yes    | yes          | no       |
| decide to share without consent      | manager only  | no           | no       |
| approve or reject such a decision    | another manager than the one who decided | no | no |

Sharing without consent is a manager's decision, checked by a second
manager: the hub administrator (who looks after accounts and configuration)
takes no part in it. The daily jobs act as the hub itself (``SYSTEM``) and
nobody else may run them.
"""

from __future__ import annotations

from consent.models import LegalHold, SafeguardingDecision, SafeguardingStatus, ServiceUser
from hub.db import today
from hub.permissions import Actor, Role


def can_view_service_users(actor: Actor) -> bool:
    return actor.is_staff


def can_create_service_user(actor: Actor) -> bool:
    return actor.is_staff


def can_record_consent(actor: Actor) -> bool:
    return actor.is_staff


def can_withdraw_consent(actor: Actor) -> bool:
    return actor.is_staff


def can_decide_safeguarding(actor: Actor) -> bool:
    return actor.role is Role.MANAGER and actor.actor_kind == "user"


def may_review_safeguarding(actor: Actor, decision: SafeguardingDecision) -> bool:
    """Who reviews a decision: a second manager, never the one who decided (whatever its state)."""
    return can_decide_safeguarding(actor) and actor.actor_id != decision.decided_by_id


def _awaiting_review(decision: SafeguardingDecision) -> bool:
    return decision.status in {SafeguardingStatus.PENDING, SafeguardingStatus.EMERGENCY}


def can_approve_safeguarding(actor: Actor, decision: SafeguardingDecision) -> bool:
    """A second manager approves a decision awaiting review; an emergency share only by the end of
    its due day (after that it has stopped sharing, and a new decision is needed)."""
    lapsed = decision.awaiting_approval and decision.last_day < today()
    return may_review_safeguarding(actor, decision) and _awaiting_review(decision) and not lapsed


def can_reject_safeguarding(actor: Actor, decision: SafeguardingDecision) -> bool:
    return may_review_safeguarding(actor, decision) and _awaiting_review(decision)


def can_end_safeguarding(actor: Actor, decision: SafeguardingDecision) -> bool:
    """Any manager stops a decision that is sharing."""
    return can_decide_safeguarding(actor) and decision.status in {
        SafeguardingStatus.APPROVED,
        SafeguardingStatus.EMERGENCY,
    }


def _the_hub_itself(actor: Actor) -> bool:
    return actor.actor_kind == "system"


def can_expire_lapsed_consents(actor: Actor) -> bool:
    return _the_hub_itself(actor)


def can_end_unreviewed_decisions(actor: Actor) -> bool:
    return _the_hub_itself(actor)


def can_lapse_unapproved_emergencies(actor: Actor) -> bool:
    return _the_hub_itself(actor)


def can_remind_expiring_consents(actor: Actor) -> bool:
    return _the_hub_itself(actor)


def can_remind_unapproved_emergencies(actor: Actor) -> bool:
    return _the_hub_itself(actor)


def can_make_subject_access_pack(actor: Actor, person: ServiceUser) -> bool:
    """Her subject-access pack: a manager, or her key worker (our staff only)."""
    if not actor.is_staff or actor.role is None:
        return False
    return actor.is_manager or (actor.actor_kind == "user" and actor.actor_id == person.key_worker_id)


can_view_subject_access_pack = can_make_subject_access_pack


def can_correct_service_user(actor: Actor, person: ServiceUser) -> bool:
    """Her name and date of birth are corrected by our staff."""
    return actor.is_staff and actor.role is not None


def can_erase_expired_records(actor: Actor) -> bool:
    return _the_hub_itself(actor)


def can_see_retention(actor: Actor) -> bool:
    return actor.is_staff and actor.is_manager and actor.role is not None


def can_place_legal_hold(actor: Actor, person: ServiceUser) -> bool:
    return can_see_retention(actor)


def can_lift_legal_hold(actor: Actor, hold: LegalHold) -> bool:
    return can_see_retention(actor) and hold.lifted_at is None


def can_erase_on_request(actor: Actor, person: ServiceUser) -> bool:
    """Erasure or restriction on her request: a manager, with a reason."""
    return can_see_retention(actor) and person.erased_at is None


can_restrict_on_request = can_erase_on_request
