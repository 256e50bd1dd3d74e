"""The audit log as people read it: who by name, what in words, and which record, linked.

The log itself stores codes and ids only (:mod:`hub.audit`); the audit page turns them into words
here. People are named from the kernel's own tables (accounts and partner systems), all the names a
page needs in one query. Records of the domain packages are named by kind and number and linked to
their page (by path: the kernel imports no domain package), never by a woman's details: the log
holds none, and its page shows none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hub.audit import AuditEvent
from hub.auth.models import User
from hub.db import db
from hub.oauth.models import OAuthClient

# Every action the hub records, in words. Anything not listed (a package added later) is shown by
# its code made readable: "rota.slot_taken" -> "Rota: slot taken".
ACTIONS: dict[str, str] = {
    "auth.signed_in": "Signed in",
    "auth.signed_out": "Signed out",
    "auth.sign_in_failed": "Sign-in failed",
    "auth.password_changed": "Password changed",
    "auth.two_factor_enrolled": "Two-factor sign-in set up",
    "user.created": "Account created",
    "user.reopened": "Account reopened",
    "user.disabled": "Account closed",
    "oauth.client_created": "Partner system registered",
    "oauth.client_disabled": "Partner system switched off",
    "oauth.client_auth_failed": "Partner system failed to authenticate",
    "oauth.token_issued": "API token issued",
    "oauth.token_revoked": "API token revoked",
    "agency.created": "Agency added",
    "agency.updated": "Agency details changed",
    "agency.key_roles_confirmed": "Key contacts confirmed",
    "contact.created": "Contact added",
    "contact.updated": "Contact details changed",
    "contact.left": "Contact recorded as having left",
    "contact.account_linked": "Hub account linked to a contact",
    "interaction.logged": "Added to the interaction log",
    "staff.handed_over": "Colleague's work handed over",
    "staff.offboarded": "Colleague's account closed after handover",
    "staff.relationships_handed_over": "Colleague's relationships handed over",
    "service_user.created": "Woman's record created",
    "service_user.key_worker_changed": "Key worker changed",
    "consent.recorded": "Consent recorded",
    "consent.withdrawn": "Consent withdrawn",
    "consent.expired": "Consent expired",
    "safeguarding.decided": "Sharing without consent decided",
    "safeguarding.approved": "Sharing without consent approved",
    "safeguarding.rejected": "Sharing without consent rejected",
    "safeguarding.ended": "Sharing without consent ended",
    "safeguarding.lapsed": "Sharing without consent lapsed (not reviewed)",
    "safeguarding.emergency_lapsed": "Emergency sharing lapsed (not approved in time)",
    "referral.created": "Referral drafted",
    "referral.sent": "Referral sent",
    "referral.acknowledge": "Referral acknowledged",
    "referral.accept": "Referral accepted",
    "referral.decline": "Referral declined",
    "referral.start": "Work started on a referral",
    "referral.hold": "Referral put on hold",
    "referral.complete": "Referral completed",
    "referral.resume": "Referral resumed",
    "referral.cancel": "Referral cancelled",
    "referral.message": "Message on a referral",
    "referral.reassigned": "Referral passed to a colleague",
    "referral.readdressed": "Referral readdressed",
}

# Record kinds (as the log names them: the table's name less its final "s") in words, and their page.
OBJECTS: dict[str, tuple[str, str | None]] = {
    "agencie": ("Agency", "/agencies/{}"),
    "agency": ("Agency", "/agencies/{}"),
    "contact": ("Contact", "/contacts/{}"),
    "interaction": ("Interaction log entry", None),
    "handover": ("Handover", "/handovers/{}"),
    "service_user": ("Woman's record", "/service-users/{}"),
    "consent_record": ("Consent", None),
    "safeguarding_decision": ("Safeguarding decision", "/safeguarding/{}"),
    "referral": ("Referral", "/referrals/{}"),
    "user": ("Account", None),
    "oauth_client": ("Partner system", None),
}

# Details that hold the id of an account: shown as the person's name.
USER_KEYS = frozenset({"user_id", "to_user_id", "from_user_id", "leaver_id", "taker_id"})


def _readable(code: str) -> str:
    words = code.replace("_", " ").replace(".", ": ", 1).strip()
    return words[:1].upper() + words[1:]


def action_label(code: str) -> str:
    return ACTIONS.get(code) or _readable(code)


@dataclass(frozen=True)
class Names:
    """The names of the accounts and partner systems a page of the log mentions."""

    users: dict[int, str]
    clients: dict[int, str]

    def user(self, user_id: Any) -> str:
        return self.users.get(user_id, f"account {user_id} (no longer recorded)")

    def client(self, client_id: Any) -> str:
        return self.clients.get(client_id, f"partner system {client_id} (no longer recorded)")


def _ints(values: Iterable[Any]) -> set[int]:
    return {v for v in values if isinstance(v, int) and not isinstance(v, bool)}


def names_for(events: Sequence[AuditEvent]) -> Names:
    """Every name the page shows, in one query (none when it names nobody)."""
    user_ids = _ints(e.actor_id for e in events if e.actor_kind == "user")
    user_ids |= _ints(e.object_id for e in events if e.object_type == "user")
    user_ids |= _ints(v for e in events for k, v in (e.data or {}).items() if k in USER_KEYS)
    client_ids = _ints(e.actor_id for e in events if e.actor_kind == "client")
    client_ids |= _ints(e.object_id for e in events if e.object_type == "oauth_client")
    if not user_ids and not client_ids:
        return Names({}, {})
    rows = db.session.execute(
        sa.union_all(
            sa.select(sa.literal("user").label("kind"), User.id, User.name).where(User.id.in_(user_ids)),
            sa.select(sa.literal("client").label("kind"), OAuthClient.id, OAuthClient.name).where(
                OAuthClient.id.in_(client_ids)
            ),
        )
    ).all()
    return Names(
        {int(i): str(n) for k, i, n in rows if k == "user"},
        {int(i): str(n) for k, i, n in rows if k == "client"},
    )


def who(event: AuditEvent, names: Names) -> str:
    if event.actor_kind == "user" and event.actor_id is not None:
        return names.user(event.actor_id)
    if event.actor_kind == "client" and event.actor_id is not None:
        return f"{names.client(event.actor_id)} (partner system)"
    if event.actor_kind == "system":
        return "The hub itself"
    if event.actor_kind == "anonymous":
        return "Someone not signed in"
    return _readable(event.actor_kind)


def what(event: AuditEvent, names: Names) -> tuple[str, str | None]:
    """The record the entry is about, in words, and its page (if it has one)."""
    if event.object_type is None:
        return "", None
    if event.object_type == "user" and event.object_id is not None:
        if event.actor_kind == "user" and event.actor_id == event.object_id:
            return "", None  # their own account ("Signed in"): already named under Who
        return f"Account of {names.user(event.object_id)}", None
    if event.object_type == "oauth_client" and event.object_id is not None:
        return f"Partner system {names.client(event.object_id)}", None
    label, path = OBJECTS.get(event.object_type, (_readable(event.object_type), None))
    if event.object_id is None:
        return label, None
    return f"{label} {event.object_id}", path.format(event.object_id) if path else None


def details(event: AuditEvent, names: Names) -> list[tuple[str, str]]:
    """The entry's details (ids, codes, field names), each as "what: value", accounts by name."""
    shown = []
    for key, value in (event.data or {}).items():
        if key in USER_KEYS and value is not None:
            text = names.user(value)
        elif isinstance(value, list):
            text = ", ".join(str(v).replace("_", " ") for v in value) or "none"
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        else:
            text = str(value).replace("_", " ") if value is not None else "none"
        label = key.removesuffix("_id").replace("_", " ") if key in USER_KEYS else key.replace("_", " ")
        shown.append((label[:1].upper() + label[1:], text))
    return shown
