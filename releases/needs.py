"""Release planning's lines of the home page's "what needs you" (:mod:`hub.web.needs`).

- Our staff: releases in the next 14 days that are not green on the board
  (the same conditions as :attr:`releases.queries.BoardRow.colour`, in SQL),
  and the plan items they hold that are overdue.
- A partner: the releases shared with their agency in the next 8 weeks,
  counted only where her consent covers it now (a count must not tell a
  partner that a release it may not see exists).

Each is a capped count, a fixed number of statements at any size.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import QueryableAttribute

from agencies.models import Contact
from hub.db import today
from hub.permissions import Actor
from hub.web.needs import COUNT_CAP, Need, capped_count
from referrals.models import Referral
from releases import policies, queries
from releases.models import OPEN_ITEM, CustodyEpisode, CustodyStatus, ItemStatus, PlanItem, ReleaseNotice

GROUP = "Releases"
SOON_DAYS = 14


def release_needs(actor: Actor) -> list[Need]:
    if policies.can_view_custody(actor):
        return [
            Need(GROUP, f"Releases in the next {SOON_DAYS} days not yet green", capped_count(not_green_soon()),
                 url_for("releases.board"), urgent=True),
            Need(GROUP, "Your release plan items that are overdue", capped_count(overdue_items(actor)),
                 url_for("releases.board") + "#yours", urgent=True),
        ]  # fmt: skip
    if policies.can_see_partner_releases(actor):
        return [Need(GROUP, f"Releases shared with your agency in the next {queries.BOARD_WEEKS} weeks",
                     shared_soon(actor), url_for("releases.board"))]  # fmt: skip
    return []


def not_green_soon(on: dt.date | None = None) -> sa.Select[tuple[int]]:
    """Releases expected within 14 days whose board row is red or amber: an open item overdue or due within
    2 weeks, or open at all with 2 days to go; a plan referral waiting or late; an agency in the plan not
    told the current date; or the date to check with the prison."""
    now = on or today()
    soon = now + dt.timedelta(days=queries.SOON_DAYS)
    open_item = sa.and_(PlanItem.custody_id == CustodyEpisode.id, PlanItem.status.in_([s.value for s in OPEN_ITEM]))
    item_pressing = sa.exists().where(
        open_item, sa.or_(PlanItem.due_on <= soon, CustodyEpisode.plan_on <= now + dt.timedelta(days=2))
    )
    referral_pressing = sa.exists().where(
        PlanItem.custody_id == CustodyEpisode.id, Referral.id == PlanItem.referral_id,
        sa.or_(Referral.status == "sent", Referral.due_on < now),
    )  # fmt: skip
    return sa.select(CustodyEpisode.id).where(
        CustodyEpisode.status == CustodyStatus.IN_CUSTODY,
        CustodyEpisode.expected_on >= now,
        CustodyEpisode.expected_on <= now + dt.timedelta(days=SOON_DAYS),
        sa.or_(CustodyEpisode.ask_the_prison, item_pressing, referral_pressing, _untold()),
    )


def _told(agency_id: QueryableAttribute[Any]) -> sa.Exists:
    return sa.exists().where(
        ReleaseNotice.custody_id == CustodyEpisode.id,
        ReleaseNotice.agency_id == agency_id,
        ReleaseNotice.expected_on == CustodyEpisode.expected_on,
    )


def _untold() -> sa.ColumnElement[bool]:
    """An agency in her plan (an item not marked not needed, or her probation practitioner's), other than the
    prison, that has not been told the current expected day."""
    item_agency = sa.exists().where(
        PlanItem.custody_id == CustodyEpisode.id, PlanItem.agency_id.is_not(None),
        PlanItem.status != ItemStatus.NOT_NEEDED, PlanItem.agency_id != CustodyEpisode.prison_agency_id,
        ~_told(PlanItem.agency_id),
    )  # fmt: skip
    probation = sa.exists().where(
        Contact.id == CustodyEpisode.probation_contact_id, Contact.agency_id != CustodyEpisode.prison_agency_id,
        ~_told(Contact.agency_id),
    )  # fmt: skip
    return sa.or_(item_agency, probation)


def overdue_items(actor: Actor) -> sa.Select[tuple[int]]:
    return (
        sa.select(PlanItem.id)
        .join(CustodyEpisode, CustodyEpisode.id == PlanItem.custody_id)
        .where(*queries.overdue_item_clause(), PlanItem.owner_user_id == actor.actor_id)
    )


def shared_soon(actor: Actor) -> int:
    """The releases in the next 8 weeks this partner may see now, among the first ``COUNT_CAP + 1`` of theirs."""
    end = today() + dt.timedelta(weeks=queries.BOARD_WEEKS)
    shared = queries.partner_releases(actor, limit=COUNT_CAP + 1)
    return sum(1 for custody, _basis in shared if today() <= custody.expected_on <= end)
