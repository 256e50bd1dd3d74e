"""Who is acting, what roles exist, and the errors a policy may raise.

Services receive an :class:`Actor` as an argument (never ``current_user``),
so the same rules apply to a person at a browser, a partner system calling
the API, the scheduler and an operator at the command line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    PRACTITIONER = "practitioner"
    PARTNER_LEAD = "partner_lead"
    PARTNER = "partner"

    @property
    def is_staff(self) -> bool:
        return self in HOST_ROLES

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


HOST_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.PRACTITIONER})
PARTNER_ROLES = frozenset({Role.PARTNER_LEAD, Role.PARTNER})
MANAGERS = frozenset({Role.ADMIN, Role.MANAGER})
ROLE_LABELS = {
    Role.ADMIN: "Hub administrator",
    Role.MANAGER: "Manager",
    Role.PRACTITIONER: "Practitioner",
    Role.PARTNER_LEAD: "Partner lead",
    Role.PARTNER: "Partner staff",
}


class Scope(enum.StrEnum):
    DIRECTORY_READ = "directory:read"
    DIRECTORY_WRITE = "directory:write"
    SERVICE_USERS_READ = "service-users:read"
    SERVICE_USERS_WRITE = "service-users:write"
    CONSENT_WRITE = "consent:write"
    REFERRALS_READ = "referrals:read"
    REFERRALS_WRITE = "referrals:write"
    RELEASES_READ = "releases:read"
    RELEASES_WRITE = "releases:write"
    ROTA_READ = "rota:read"
    ROTA_WRITE = "rota:write"
    FORUM_READ = "forum:read"
    FORUM_WRITE = "forum:write"
    REPORTS_READ = "reports:read"
    ADMIN = "admin"


ALL_SCOPES = frozenset(s.value for s in Scope)


class Actor(Protocol):
    """Anyone who can cause a change: a user, a partner system, the hub itself."""

    @property
    def actor_kind(self) -> str: ...
    @property
    def actor_id(self) -> int | None: ...
    @property
    def agency_id(self) -> int | None: ...
    @property
    def role(self) -> Role | None: ...
    @property
    def is_staff(self) -> bool: ...
    @property
    def is_manager(self) -> bool: ...


@dataclass(frozen=True)
class ClientActor:
    """A partner system acting through an OAuth 2.0 token.

    A client acts for its agency with the rights of that agency's lead (or,
    for the host organisation's own systems, a manager), narrowed by the
    scopes of its token.
    """

    client_pk: int
    agency_id: int | None
    agency_is_host: bool
    scopes: frozenset[str] = field(default_factory=frozenset)
    actor_kind: str = "client"

    @property
    def actor_id(self) -> int:
        return self.client_pk

    @property
    def role(self) -> Role:
        return Role.MANAGER if self.agency_is_host else Role.PARTNER_LEAD

    @property
    def is_staff(self) -> bool:
        return self.agency_is_host

    @property
    def is_manager(self) -> bool:
        return self.agency_is_host


@dataclass(frozen=True)
class SystemActor:
    """The hub itself: an operator command or a scheduled job."""

    name: str = "system"
    actor_kind: str = "system"
    actor_id: None = None
    agency_id: None = None
    role: Role = Role.ADMIN
    is_staff: bool = True
    is_manager: bool = True


SYSTEM = SystemActor()


class HubError(Exception):
    """A refusal that the web layer turns into a 4xx (never a 500)."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class Denied(HubError):
    status = 403
    title = "Not allowed"


class NotFound(HubError):
    """Absent, or not visible to the caller: the two must look the same."""

    status = 404
    title = "Not found"


class Conflict(HubError):
    status = 409
    title = "Not allowed in the current state"


class Invalid(HubError):
    """Valid input that breaks a rule. ``errors`` maps field names to messages."""

    status = 422
    title = "The request breaks a rule"

    def __init__(self, detail: str = "", errors: dict[str, list[str]] | None = None, **extra: Any):
        super().__init__(detail or "Check the highlighted fields.", **extra)
        self.errors = errors or {}

    @classmethod
    def on_field(cls, field: str, message: str) -> Invalid:
        """A refusal about one field, shown next to it in forms and in ``errors`` in the API."""
        return cls(message, errors={field: [message]})


def require(allowed: bool, detail: str = "You are not allowed to do this.") -> None:
    if not allowed:
        raise Denied(detail)
