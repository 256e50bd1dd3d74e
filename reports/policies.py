"""Who may see which reports, named after the services and queries they guard.

- Our staff see the reports with disclosure control applied (what may leave the charity); only our
  managers (and administrators) see the exact figures, the internal view, and export either.
- A partner lead sees its own agency's partnership figures, disclosure-controlled, and may export
  them; other partner staff see no reports.
- An API client of ours acts as a manager; a partner's system sees no reports.
"""

from __future__ import annotations

from hub.permissions import Actor, Role


def can_view_reports(actor: Actor) -> bool:
    return actor.is_staff and actor.role is not None


def can_view_exact(actor: Actor) -> bool:
    """The internal view: exact figures, small ones included."""
    return actor.is_staff and actor.is_manager


def can_view_partnership(actor: Actor, agency_id: int | None) -> bool:
    """Every agency's figures (``agency_id`` None) for our staff; a partner lead its own agency's only."""
    if actor.is_staff:
        return actor.role is not None
    return actor.role is Role.PARTNER_LEAD and agency_id is not None and agency_id == actor.agency_id


def can_export(actor: Actor, audience: str, agency_id: int | None = None) -> bool:
    if audience == "internal":
        return can_view_exact(actor)
    if actor.is_staff:
        return actor.is_manager
    return can_view_partnership(actor, agency_id)


def can_use_reports_api(actor: Actor) -> bool:
    """API.md: host managers and admins (a host system acts as a manager)."""
    return actor.is_staff and actor.is_manager


can_share_figures = can_use_reports_api
