"""Reads of referrals, scoped to the actor, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from consent import sharing
from consent.models import DataCategory, ServiceUser
from hub.auth.models import User
from hub.db import db, today, utcnow
from hub.permissions import Actor, NotFound
from hub.settings_access import settings
from referrals import policies
from referrals.models import Referral, ReferralEvent, ReferralMessage
from referrals.states import Status


@dataclass(frozen=True)
class Page:
    items: list[Any]  # referrals (the API's lists: rows of a referral's columns, read by the same names)
    total: int  # at most COUNT_CAP
    page: int
    per_page: int
    more: bool = False  # there are more than COUNT_CAP

    @property
    def pages(self) -> int:
        """Pages to offer: past the counted rows, always one more (there are more than we count)."""
        counted = max(1, -(-self.total // self.per_page))
        return max(counted, self.page + 1) if self.more else counted


def _visible(actor: Actor) -> list[sa.ColumnElement[bool]]:
    if actor.is_staff:
        return []
    # Only what was sent to them: not drafts, nor drafts cancelled before sending (policies.was_sent).
    return [Referral.agency_id == actor.agency_id, Referral.status != Status.DRAFT, Referral.sent_at.is_not(None)]


def overdue_clause(on: object = None) -> sa.ColumnElement[bool]:
    """Past the deadline it waits on (``Referral.due_on``: none unless sent or acknowledged)."""
    return Referral.due_on < (on or today())


# A page shows how many there are up to this many; past it, "more than" (counting every row of a
# busy agency on every view would cost more the bigger the partnership grows). Pages go on past it.
COUNT_CAP = 1_000


def _shown(actor: Actor, page: bool) -> list[Any]:
    """What a list shows beside each referral's own columns, loaded with the page's rows only.

    A page shows the agency and whom each is addressed to; our staff's pages also who it is about and
    who sent it (loaded for those rows only: a join would read every woman to find 25). The API's
    lists carry the referral's own columns alone, so load nothing more.
    """
    if not page:
        return []
    shown = [joinedload(Referral.agency), joinedload(Referral.recipient_contact)]
    if actor.is_staff:
        shown += [selectinload(Referral.service_user), selectinload(Referral.sender)]
    return shown


def list_referrals(
    actor: Actor,
    *,
    status: Status | None = None,
    agency_id: int | None = None,
    service_user_id: int | None = None,
    overdue: bool = False,
    page: int = 1,
    per_page: int = 50,
    for_page: bool = True,
) -> Page:
    where = _visible(actor)
    if status is not None:
        where.append(Referral.status == status)
    if agency_id is not None:
        where.append(Referral.agency_id == agency_id)
    if service_user_id is not None:
        where.append(Referral.service_user_id == service_user_id)
    if overdue:
        where.append(overdue_clause())
    capped = sa.select(Referral.id).where(*where).limit(COUNT_CAP + 1).subquery()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(capped)) or 0
    # Those waiting on a deadline first, the soonest (or most overdue) at the top; then the newest:
    # the order of the indexes ix_referrals_inbox and ix_referrals_by_due.
    order = (Referral.due_on.asc().nullslast(), Referral.id.desc())
    window = ((page - 1) * per_page, per_page)
    items: list[Any]
    if for_page:
        items = list(
            db.session.scalars(
                sa.select(Referral)
                .where(*where)
                .options(*_shown(actor, for_page))
                .order_by(*order)
                .offset(window[0])
                .limit(window[1])
            )
        )
    else:
        # The API's lists: the referral's own columns as plain rows (read by name, like the model),
        # without building an ORM object per row.
        items = list(
            db.session.execute(
                sa.select(*Referral.__table__.columns).where(*where).order_by(*order).offset(window[0]).limit(window[1])
            )
        )
    return Page(items, min(total, COUNT_CAP), page, per_page, more=total > COUNT_CAP)


@dataclass(frozen=True)
class Details:
    """What a viewer may see of the woman behind a referral, right now.

    ``identity``: her name, date of birth and hub reference may be shown (our
    staff always; a partner only when the referral shares ``identity`` and its
    basis is valid). Without it, nothing links this referral to any other
    about her.
    """

    visible: bool
    identity: bool = False


CLOSED = (Status.COMPLETED, Status.DECLINED, Status.CANCELLED)


def past_partner_view(referral: Referral) -> bool:
    """Retention: a closed referral's details are a partner's to see for HUB_RETENTION_PARTNER_VIEW_DAYS
    after it closed, then no longer (whatever her consent says); our staff still see them."""
    if referral.status not in CLOSED or referral.closed_at is None:
        return False
    return referral.closed_at < utcnow() - dt.timedelta(days=settings().partner_view_days)


def details_and_basis(actor: Actor, referral: Referral) -> tuple[Details, sharing.Basis | None]:
    """What this viewer may see of her now, and (for a partner) the basis that allows it."""
    if actor.is_staff:
        return Details(True, True), None
    # Another agency's partner, a referral that never reached the agency, or one closed longer ago than
    # the partner may keep seeing it: nothing to see.
    if not policies.can_see_referral(actor, referral) or referral.basis_lost or past_partner_view(referral):
        return Details(False), None
    # The basis must cover the purpose this referral is for (a release-planning referral needs her
    # consent to release planning), checked now, not only when it was sent.
    basis = sharing.find_basis(
        referral.service_user_id, referral.agency_id, referral.purpose, set(referral.data_categories)
    )
    if isinstance(basis, sharing.Missing):
        return Details(False), None
    return Details(True, DataCategory.IDENTITY.value in referral.data_categories), basis


@dataclass(frozen=True)
class Glimpse:
    """What a list shows of the woman behind one referral: her name (only where the referral shares
    ``identity`` and its basis is valid now) and the first words of what is asked (only while the
    basis is valid). None: "details not shared"."""

    name: str | None = None
    asked: str | None = None

    @property
    def shared(self) -> bool:
        return self.asked is not None


FIRST_WORDS = 12


def first_words(text: str, words: int = FIRST_WORDS) -> str:
    """The first ``words`` words of ``text``, with an ellipsis when there is more."""
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def glimpses_and_bases(actor: Actor, referrals: list[Referral]) -> dict[int, tuple[Glimpse, sharing.Basis]]:
    """For a partner's page of referrals: what may be shown of each woman now, and on what basis
    (a consent check for the whole page in two queries, her name in one more). Referrals with
    nothing to show are left out. Our staff see names in their own lists, not through this."""
    if actor.is_staff:
        return {}
    candidates = [r for r in referrals
                  if policies.can_see_referral(actor, r) and not r.basis_lost and not past_partner_view(r)]  # fmt: skip
    if not candidates:
        return {}
    found = sharing.find_bases_at_agency(
        actor.agency_id or 0,
        [(r.service_user_id, r.purpose, set(r.data_categories)) for r in candidates],
    )
    valid = [(r, b) for r, b in zip(candidates, found, strict=True) if not isinstance(b, sharing.Missing)]
    named = {r.service_user_id for r, _ in valid if DataCategory.IDENTITY.value in r.data_categories}
    names: dict[int, str] = {}
    if named:
        names = {
            row.id: f"{row.given_name} {row.family_name}"
            for row in db.session.execute(
                sa.select(ServiceUser.id, ServiceUser.given_name, ServiceUser.family_name).where(
                    ServiceUser.id.in_(named)
                )
            )
        }
    out: dict[int, tuple[Glimpse, sharing.Basis]] = {}
    for referral, basis in valid:
        name = names.get(referral.service_user_id) if DataCategory.IDENTITY.value in referral.data_categories else None
        out[referral.id] = (Glimpse(name, first_words(referral.reason)), basis)
    return out


def details_visible(actor: Actor, referral: Referral) -> Details:
    """What this viewer may see of her now, without recording a view (for histories and lists)."""
    return details_and_basis(actor, referral)[0]


def referrals_by_id(actor: Actor, ids: set[int]) -> list[Referral]:
    """Those of these referrals this actor may see (our staff: with who each is about), in one query."""
    query = sa.select(Referral).where(Referral.id.in_(sorted(ids)), *_visible(actor))
    if actor.is_staff:
        query = query.options(joinedload(Referral.service_user))
    return list(db.session.scalars(query))


def get_referral(actor: Actor, referral_id: int) -> Referral:
    referral = db.session.scalar(
        sa.select(Referral)
        .where(Referral.id == referral_id)
        .options(
            joinedload(Referral.agency),
            joinedload(Referral.recipient_contact),
            joinedload(Referral.service_user),
            joinedload(Referral.sender),
        )
    )
    if referral is None or not policies.can_see_referral(actor, referral):
        raise NotFound("No such referral.")
    return referral


def events_of(referral: Referral) -> list[ReferralEvent]:
    return list(
        db.session.scalars(
            sa.select(ReferralEvent).where(ReferralEvent.referral_id == referral.id).order_by(ReferralEvent.id)
        )
    )


def messages_of(referral: Referral) -> list[ReferralMessage]:
    return list(
        db.session.scalars(
            sa.select(ReferralMessage).where(ReferralMessage.referral_id == referral.id).order_by(ReferralMessage.id)
        )
    )


def user_names(user_ids: set[int]) -> dict[int, str]:
    """Names of the people who acted on a referral, in one query."""
    if not user_ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(user_ids))).tuples().all())
