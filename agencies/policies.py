"""Who may see and change what in the directory.

Everyone signed in (and every partner system with ``directory:read``) sees
all agencies and the work details of active contacts.

| action                     | admin/manager | practitioner | partner lead      | partner |
|----------------------------|---------------|--------------|-------------------|---------|
| see contacts who have left | yes           | yes          | own agency        | own     |
| see internal notes and log | yes           | yes          | no                | no      |
| create an agency           | yes           | no           | no                | no      |
| edit an agency             | all fields    | not agreement| own: public + key | no      |
| add / edit / leave contact | yes           | yes          | own agency        | no      |
| log an interaction         | yes           | yes          | no                | no      |
| add / edit its services    | yes           | yes          | own agency        | no      |
| publish a service (feed)   | our own: yes  | our own: yes | own agency        | no      |
| partnership health, staff  | yes           | no           | no                | no      |
| hand over a colleague      | yes (an administrator's: admin only) | no | no       | no      |
| see accounts               | all           | no           | own agency's      | no      |
| invite a contact, close an account | admin | no           | own agency's      | no      |

Publishing a partner's service in the public Open Referral UK feed is the
partner agreeing to it: only its own lead (or its own system) may switch it
on; our staff may switch it off at any time.

A partner account belongs to one active contact of its agency: it is opened
for a contact (an invitation) and closes when that contact leaves.
"""

from __future__ import annotations

from agencies.models import Agency, AgencyService, Contact
from hub.auth.models import User
from hub.permissions import PARTNER_ROLES, Actor, Role, require

PUBLIC_AGENCY_FIELDS = frozenset(
    {"services", "how_to_refer", "address", "phone", "email", "website", "key_contact_id", "deputy_contact_id"}
)
STAFF_AGENCY_FIELDS = PUBLIC_AGENCY_FIELDS | {"relationship_owner_id"}
MANAGER_AGENCY_FIELDS = STAFF_AGENCY_FIELDS | {
    "name",
    "kind",
    "has_agreement",
    "agreement_agreed_on",
    "agreement_review_on",
    "agreement_summary",
    "acknowledge_days",
    "decide_days",
}
PARTNER_CONTACT_FIELDS = frozenset(
    {"name", "role", "email", "phone", "preferred_channel", "knowledge", "started_on", "last_verified_on"}
)
STAFF_CONTACT_FIELDS = PARTNER_CONTACT_FIELDS | {"known_by_id", "last_spoken_on"}


def _own_lead(actor: Actor, agency_id: int) -> bool:
    return actor.role is Role.PARTNER_LEAD and actor.agency_id == agency_id


def can_see_leavers(actor: Actor, agency_id: int) -> bool:
    """Who left an agency (and what the note about its key contacts says)."""
    return actor.is_staff or actor.agency_id == agency_id


def can_see_contact(actor: Actor, contact: Contact) -> bool:
    return contact.is_active or can_see_leavers(actor, contact.agency_id)


def can_see_internal(actor: Actor) -> bool:
    """Internal notes, the interaction log, who on our side knows whom."""
    return actor.is_staff


def can_create_agency(actor: Actor) -> bool:
    return actor.is_manager


def editable_agency_fields(actor: Actor, agency: Agency) -> frozenset[str]:
    if actor.is_manager:
        return MANAGER_AGENCY_FIELDS
    if actor.is_staff:
        return STAFF_AGENCY_FIELDS
    if _own_lead(actor, agency.id):
        return PUBLIC_AGENCY_FIELDS
    return frozenset()


def can_update_agency(actor: Actor, agency: Agency) -> bool:
    return bool(editable_agency_fields(actor, agency))


def can_add_contact(actor: Actor, agency: Agency) -> bool:
    return actor.is_staff or _own_lead(actor, agency.id)


def can_add_service(actor: Actor, agency: Agency) -> bool:
    return actor.is_staff or _own_lead(actor, agency.id)


def can_update_service(actor: Actor, service: AgencyService) -> bool:
    return actor.is_staff or _own_lead(actor, service.agency_id)


def may_publish(actor: Actor, agency: Agency) -> bool:
    """Switching a service into the public feed: ours by our staff; a partner's by the partner itself."""
    return actor.is_staff if agency.is_host else _own_lead(actor, agency.id)


def editable_contact_fields(actor: Actor, contact: Contact) -> frozenset[str]:
    if actor.is_staff:
        return STAFF_CONTACT_FIELDS
    if _own_lead(actor, contact.agency_id):
        return PARTNER_CONTACT_FIELDS
    return frozenset()


def can_update_contact(actor: Actor, contact: Contact) -> bool:
    return bool(editable_contact_fields(actor, contact))


def can_record_leaver(actor: Actor, contact: Contact) -> bool:
    return can_update_contact(actor, contact)


def can_confirm_key_roles(actor: Actor, agency: Agency) -> bool:
    return actor.is_staff or _own_lead(actor, agency.id)


def can_log_interaction(actor: Actor) -> bool:
    return actor.is_staff


def can_view_health(actor: Actor) -> bool:
    return actor.is_manager


def can_view_staff(actor: Actor) -> bool:
    return actor.is_manager


def can_offboard_staff(actor: Actor, leaver: User) -> bool:
    """A manager hands over a colleague's work; only an administrator closes an administrator's account,
    and nobody hands over their own."""
    if not actor.is_manager or actor.actor_id == leaver.id:
        return False
    return leaver.role is not Role.ADMIN or actor.role is Role.ADMIN


def can_complete_offboarding(actor: Actor, leaver: User) -> bool:
    return can_offboard_staff(actor, leaver)


def can_see_all_accounts(actor: Actor) -> bool:
    return actor.is_manager


def can_see_agency_accounts(actor: Actor, agency_id: int | None) -> bool:
    return actor.is_manager or (agency_id is not None and _own_lead(actor, agency_id))


def _manages_accounts_of(actor: Actor, agency_id: int) -> bool:
    return (actor.role is Role.ADMIN and actor.actor_kind == "user") or _own_lead(actor, agency_id)


def can_invite_contact(actor: Actor, contact: Contact) -> bool:
    """Give an active contact of a partner agency a hub account."""
    return contact.is_active and not contact.agency.is_host and _manages_accounts_of(actor, contact.agency_id)


def can_close_account(actor: Actor, user: User) -> bool:
    """Close a partner account (not one's own: ask another lead or the administrator)."""
    return user.role in PARTNER_ROLES and user.id != actor.actor_id and _manages_accounts_of(actor, user.agency_id)


def can_link_account(actor: Actor) -> bool:
    """Link an existing partner account to its contact (an operator command, or an administrator)."""
    return actor.actor_kind == "system" or (actor.role is Role.ADMIN and actor.actor_kind == "user")


def can_create_partner_account(actor: Actor) -> bool:
    """``flask hub create-user`` for a partner: the operator at the command line."""
    return can_link_account(actor)


def require_fields(allowed: frozenset[str], given: set[str]) -> None:
    """Refuse a change that touches a field this actor may not set."""
    refused = sorted(given - allowed)
    require(not refused, "You may not change: " + ", ".join(refused))
