"""Who may see and act on custody episodes and release plans.

| action                                         | our staff | partners |
|------------------------------------------------|-----------|----------|
| see her custody, plan, who knows, release card | yes       | no       |
| record or change custody, plan items, release  | yes       | no       |
| refer a plan item to a partner                 | yes       | no       |
| see a release                                  | yes       | see below |
| work out a release day (stores nothing)        | anyone signed in, any valid token |

A partner sees a release only where their agency is in her plan and her
consent covers ``release_planning`` (with ``criminal_justice``) for it now.
A partner who may not see a release gets a 404: nothing says it exists. The
milestone job acts as the hub itself (``SYSTEM``).
"""

from __future__ import annotations

from hub.permissions import Actor
from releases.models import CustodyEpisode, CustodyStatus


def can_view_custody(actor: Actor) -> bool:
    return actor.is_staff


def can_record_custody(actor: Actor) -> bool:
    return actor.is_staff


def can_change_custody(actor: Actor, custody: CustodyEpisode) -> bool:
    return actor.is_staff and custody.status is not CustodyStatus.TRANSFERRED


def can_record_release(actor: Actor, custody: CustodyEpisode) -> bool:
    return actor.is_staff and custody.status is CustodyStatus.IN_CUSTODY


def can_record_recall(actor: Actor, custody: CustodyEpisode) -> bool:
    return actor.is_staff and custody.status is CustodyStatus.RELEASED


def can_record_night_one(actor: Actor, custody: CustodyEpisode) -> bool:
    return actor.is_staff and custody.status is CustodyStatus.RELEASED


def can_change_plan(actor: Actor, custody: CustodyEpisode) -> bool:
    return actor.is_staff and custody.status is not CustodyStatus.TRANSFERRED


def can_add_plan_item(actor: Actor, custody: CustodyEpisode) -> bool:
    return can_change_plan(actor, custody)


def can_change_plan_item(actor: Actor, custody: CustodyEpisode) -> bool:
    return can_change_plan(actor, custody)


def can_refer_plan_item(actor: Actor, custody: CustodyEpisode) -> bool:
    return can_change_plan(actor, custody)


def can_see_partner_releases(actor: Actor) -> bool:
    """A partner's list of releases shared with their agency (each still checked against her consent)."""
    return not actor.is_staff and actor.agency_id is not None


def can_work_out_release_day(actor: Actor) -> bool:
    return True
