"""Who may see and act on service users, consent and safeguarding decisions.

Service users, consent records, safeguarding decisions and disclosure
history are for host-organisation staff only (partners learn what a referral
shares with them, and nothing else).

| action                               | admin/manager | practitioner | partners |
|--------------------------------------|---------------|--------------|----------|
| see service users, consents, history | yes           | yes          | no       |
| add a service user, record/withdraw consent | yes    | yes          | no       |
| decide to share without consent      | yes           | no           | no       |
| approve such a decision              | another manager than the one who decided | no | no |
"""

from __future__ import annotations

from consent.models import SafeguardingDecision
from hub.permissions import Actor


def can_view_service_users(actor: Actor) -> bool:
    return actor.is_staff


def can_create_service_user(actor: Actor) -> bool:
    return actor.is_staff


def can_record_consent(actor: Actor) -> bool:
    return actor.is_staff


def can_withdraw_consent(actor: Actor) -> bool:
    return actor.is_staff


def can_decide_safeguarding(actor: Actor) -> bool:
    return actor.is_manager and actor.actor_kind == "user"


def can_approve_safeguarding(actor: Actor, decision: SafeguardingDecision) -> bool:
    """A second manager: never the one who decided."""
    return can_decide_safeguarding(actor) and actor.actor_id != decision.decided_by_id


def can_end_safeguarding(actor: Actor) -> bool:
    return can_decide_safeguarding(actor)
