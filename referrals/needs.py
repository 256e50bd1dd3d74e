"""The referrals' lines of the home page's "what needs you" (hub.web.needs)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from hub.permissions import Actor
from hub.web.needs import Need, capped_count
from referrals import queries, services
from referrals.models import Referral
from referrals.queries import overdue_clause
from referrals.states import Status

GROUP = "Referrals"


def referral_needs(actor: Actor) -> list[Need]:
    """A partner: what her agency must acknowledge or decide, and what is overdue. Our staff: every
    referral an agency has let go past its deadline (the chase job reminds them; staff follow up)."""
    if actor.is_staff:
        return [
            Need(
                GROUP,
                "Referrals overdue at an agency",
                capped_count(sa.select(Referral.id).where(overdue_clause())),
                url_for("referrals.overdue"),
                urgent=True,
            ),
        ]
    mine = [Referral.agency_id == actor.agency_id, Referral.sent_at.is_not(None), Referral.status != Status.DRAFT]
    return [
        Need(
            GROUP,
            "Overdue: past the date to acknowledge or decide",
            capped_count(sa.select(Referral.id).where(*mine, overdue_clause())),
            url_for("referrals.overdue"),
            urgent=True,
        ),
        Need(
            GROUP,
            "To acknowledge",
            capped_count(sa.select(Referral.id).where(*mine, Referral.status == Status.SENT)),
            url_for("referrals.inbox", status=Status.SENT.value),
        ),
        Need(
            GROUP,
            "To accept or decline",
            capped_count(sa.select(Referral.id).where(*mine, Referral.status == Status.ACKNOWLEDGED)),
            url_for("referrals.inbox", status=Status.ACKNOWLEDGED.value),
        ),
    ]


def notifications_about(actor: Actor, linked: list[tuple[int, str]]) -> dict[int, str]:
    """For the notifications page: who and what each message linking to a referral is about, as
    this person may see it now (a partner: her name and the first words of what is asked only
    under a valid basis, each shown recorded as a disclosure; our staff: always)."""
    wanted: dict[int, list[int]] = {}
    for notification_id, path in linked:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "referrals" and parts[1].isdigit() and len(parts[1]) < 10:
            wanted.setdefault(int(parts[1]), []).append(notification_id)
    if not wanted:
        return {}
    referrals = queries.referrals_by_id(actor, set(wanted))
    if actor.is_staff:
        texts = {r.id: f"About {r.service_user.full_name}: {queries.first_words(r.reason)}" for r in referrals}
    else:
        glimpses = services.glimpse_referrals(actor, referrals)
        texts = {
            r.id: "About " + (g.name or "a woman whose name is not shared with you") + f": {g.asked}"
            for r in referrals
            if (g := glimpses.get(r.id)) is not None
        }
        texts.update({r.id: "Her details are not shared with you." for r in referrals if r.id not in texts})
    return {n: text for referral_id, text in texts.items() for n in wanted[referral_id]}
