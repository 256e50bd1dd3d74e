"""The home page's "what needs you today", and the navigation, gathered from every package.

Each package registers, in its ``init_app``:

- ``needs`` providers: callables ``(actor) -> Iterable[Need]``, each a line of the home page with a
  count and a link (referrals to acknowledge, safeguarding decisions awaiting a second manager,
  consents about to expire...). Providers count with capped counts (:data:`COUNT_CAP`), a query or
  two each, so the home page costs the same at any size; they return nothing for what does not
  apply to this person, and lines with a count of 0 are left out.
- ``navigation`` entries (:class:`NavItem`): a top-level section of the navigation, who sees it
  and which endpoints belong to it (so the current section is highlighted on every page of it).

The kernel shows them and never imports the packages that provide them (``ARCHITECTURE.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, request, url_for

from hub import registry
from hub.db import db
from hub.permissions import Actor, Role

NEEDS = "needs"
NAVIGATION = "navigation"
COUNT_CAP = 99  # a line says "99+" past this: enough to know there is a pile


@dataclass(frozen=True)
class Need:
    """One line of "what needs you": ``count`` things, ``text`` saying what, ``href`` listing them.

    ``group`` is the heading it goes under; ``urgent`` lines (overdue, awaiting a decision that
    blocks sharing) come first, in red."""

    group: str
    text: str
    count: int
    href: str
    urgent: bool = False

    @property
    def shown_count(self) -> str:
        return f"{COUNT_CAP}+" if self.count > COUNT_CAP else str(self.count)


NeedsProvider = Callable[[Actor], Iterable[Need]]


def capped_count(query: sa.Select[tuple[int]]) -> int:
    """How many rows ``query`` (a select of ids) has, counted up to one past :data:`COUNT_CAP`."""
    capped = query.limit(COUNT_CAP + 1).subquery()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(capped)) or 0)


def register_needs(app: Flask, provider: NeedsProvider) -> None:
    registry.register(app, NEEDS, provider)


def needs_for(actor: Actor) -> list[Need]:
    """Every line of "what needs you" for this person, urgent first, in the order packages load."""
    lines = [need for provider in registry.providers(NEEDS) for need in provider(actor) if need.count > 0]
    return sorted(lines, key=lambda need: not need.urgent)


# Navigation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    """A section of the navigation. ``endpoint`` is where it leads; ``covers`` the endpoint prefixes
    of its pages (``"referrals."``, ``"agencies.health"``), less ``exclude``; ``roles`` who sees it
    (None: everyone signed in); ``order`` its place (work 10-59, personal 80-99). Sections in the
    ``manage`` group are listed on the *Manage* page, which the top row shows as one item, so the
    row stays one line as packages add sections."""

    key: str
    label: str
    endpoint: str
    order: int
    covers: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    roles: frozenset[Role] | None = None
    staff_only: bool = False
    partners_only: bool = False
    group: str = "main"
    description: str = ""

    def visible_to(self, role: Role, staff: bool) -> bool:
        if self.staff_only and not staff:
            return False
        if self.partners_only and staff:
            return False
        return self.roles is None or role in self.roles

    def match(self, endpoint: str) -> int:
        """How precisely this section names the endpoint: the length of its longest prefix that
        does, 0 when it does not cover it."""
        if any(endpoint.startswith(e) for e in self.exclude):
            return 0
        return max((len(p) for p in (self.endpoint, *self.covers) if endpoint.startswith(p)), default=0)


MANAGE = NavItem("manage", "Manage", "pages.manage", 70, covers=("pages.manage",), group="top")


def register_nav(app: Flask, item: NavItem) -> None:
    registry.register(app, NAVIGATION, item)


def sections(role: Role, staff: bool, group: str) -> list[NavItem]:
    """The sections of ``group`` this person sees, in order."""
    items = (i for i in registry.providers(NAVIGATION) if i.group == group and i.visible_to(role, staff))
    return sorted(items, key=lambda i: (i.order, i.label))


def navigation(role: Role, staff: bool, unread: int) -> list[dict[str, object]]:
    """The top row for this person, as GOV.UK service-navigation items, the current section
    active (of those covering this page, the one naming it most precisely; a managed section makes
    *Manage* active)."""
    top = sections(role, staff, "main")
    managed = sections(role, staff, "manage")
    if managed:
        top = sorted([*top, MANAGE], key=lambda i: (i.order, i.label))
    endpoint = request.endpoint or ""
    scores = {i.key: i.match(endpoint) for i in top}
    managed_score = max((i.match(endpoint) for i in managed), default=0)
    if managed_score:
        scores["manage"] = max(scores.get("manage", 0), managed_score)
    best = max(scores, key=lambda k: scores[k]) if any(scores.values()) else None
    out: list[dict[str, object]] = []
    for item in top:
        text = item.label
        if item.key == "notifications" and unread:
            text = f"{item.label} ({unread} unread)"
        out.append({"href": url_for(item.endpoint), "text": text, "active": item.key == best})
    return out
