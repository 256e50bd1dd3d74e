"""The open-work contract: everything a person holds, from every package,
and how to hand it on when they leave.

Each package that hangs work on people (agencies: relationships; consent:
a key worker's caseload; referrals: what our staff sent and what is
addressed to a partner contact; later rota slots, forum actions, release-plan
items) registers one :class:`OpenWork` provider in its ``init_app``::

    hub.work.register(app, ReferralWork())

Leaving goes through these providers only: a partner contact's work moves to
whoever takes over (:func:`move_contact_work`), and a member of staff's is
handed to named colleagues (``agencies.services.offboard_staff``), which
refuses to finish while :func:`held_by_staff` still finds anything. "Nothing
held by a leaver" is therefore one question asked of every provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask

from hub import registry
from hub.permissions import Actor

NAME = "open_work"


@dataclass(frozen=True)
class WorkItem:
    """One piece of open work, named without any woman's details.

    ``key`` is unique across packages (``"referral:12"``); ``section`` groups
    items in the handover pack; ``link`` is a path in the hub.
    """

    key: str
    section: str
    label: str
    link: str = ""

    @property
    def field(self) -> str:
        """The form field that names who takes this item over."""
        return self.key.replace(":", "-")


class OpenWork:
    """What a package tells the hub about the work people hold in it.

    Subclass it and override what applies: a package whose work only our
    staff hold writes the two staff methods; one whose work only partner
    contacts hold, the two contact methods. Every item listed must be moved by
    the matching method, which skips any key it was not given (an item that
    arrived meanwhile stays held, and offboarding will not finish).
    """

    def held_by_staff(self, user_id: int) -> list[WorkItem]:
        """Open items a member of our staff holds."""
        return []

    def hand_over_staff(self, actor: Actor, leaver_id: int, takers: Mapping[str, int]) -> int:
        """Give each item (by key) to the member of staff named for it; returns how many moved."""
        return 0

    def held_by_contact(self, contact_id: int) -> list[WorkItem]:
        """Open items addressed to a partner contact."""
        return []

    def move_contact_work(self, actor: Actor, contact_id: int, takeover_contact_id: int | None) -> int:
        """Move a leaving contact's items to ``takeover_contact_id`` (None: the agency as a whole)."""
        return 0


def register(app: Flask, provider: OpenWork) -> None:
    registry.register(app, NAME, provider)


def providers() -> list[OpenWork]:
    return registry.providers(NAME)


def held_by_staff(user_id: int) -> list[WorkItem]:
    return [item for provider in providers() for item in provider.held_by_staff(user_id)]


def held_by_contact(contact_id: int) -> list[WorkItem]:
    return [item for provider in providers() for item in provider.held_by_contact(contact_id)]


def hand_over_staff(actor: Actor, leaver_id: int, takers: Mapping[str, int]) -> int:
    return sum(provider.hand_over_staff(actor, leaver_id, takers) for provider in providers())


def move_contact_work(actor: Actor, contact_id: int, takeover_contact_id: int | None) -> int:
    return sum(provider.move_contact_work(actor, contact_id, takeover_contact_id) for provider in providers())
