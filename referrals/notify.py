"""Who hears about a referral, and what they are told: its reference, the
agency, the deadline and a link, never her name or any detail of her life.

The recipient is the contact it is addressed to, else the agency's partner
leads (:mod:`agencies.messaging`, which never tells anyone who has left or
whose account is closed); the sender side is the member of staff who sent it
and her key worker.
"""

from __future__ import annotations

import sqlalchemy as sa

from agencies import messaging
from agencies.models import Contact
from hub.auth.models import User
from hub.db import db
from hub.notifications.services import notify_users
from referrals.models import Referral
from referrals.states import Status


def label(referral: Referral) -> str:
    return f"{referral.reference} ({referral.agency.name})"


def tell_recipient(referral: Referral, kind: str, subject: str, body: str, dedupe: str | None = None) -> int:
    """Tell the contact a referral is addressed to; if there is none, or they
    cannot be reached (no email, closed account), the agency's partner leads."""
    link = f"/referrals/{referral.id}"
    if referral.recipient_contact_id is not None:
        contact = db.session.get(Contact, referral.recipient_contact_id)
        if contact is not None and messaging.reachable(contact):
            return messaging.tell_contact(
                contact,
                kind=kind,
                subject=subject,
                body=body,
                link=link,
                dedupe_key=f"{dedupe}:c{contact.id}" if dedupe else None,
            )
    return messaging.tell_agency_leads(
        referral.agency_id, kind=kind, subject=subject, body=body, link=link, dedupe_key=dedupe
    )


def tell_sender(referral: Referral, kind: str, subject: str, body: str) -> None:
    """Tell the member of staff who sent it, and her key worker (both read in one query)."""
    ids = {referral.sender_user_id, referral.service_user.key_worker_id} - {None}
    if not ids:
        return
    users = db.session.scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.id)).all()
    notify_users(users, kind=kind, subject=subject, body=body, link=f"/referrals/{referral.id}")


def deadline_note(referral: Referral) -> str:
    """The deadline a referral is waiting on, for messages about it ("" when none runs)."""
    if referral.due_on is None:
        return ""
    what = "acknowledged" if referral.status is Status.SENT else "accepted or declined"
    return f" It is due to be {what} by {referral.due_on:%-d %B %Y}."
