"""Referral use cases: create, send, each step of the state machine, message,
open, and keep moving when a basis for sharing ends.

Each checks its own policy (``policies.can_<use case>``, which includes the
state the referral must be in), enforces invariants, changes state, audits,
notifies (in the same transaction) and flushes; the caller commits.
Notifications carry the referral's reference, the agency, the deadline and
a link: never her name or any detail of her life.

Every basis check (sending, resuming, showing her details, logging each
disclosure, holding when a basis ends) asks about the referral's own
``purpose``. A deadline is never later than the referral's ``needed_by``
(its last working day on or before), nor earlier than the day it is set.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from agencies import queries as directory
from agencies.models import Agency, AgencyKind, Contact
from consent import sharing
from consent.models import DisclosureKind, Purpose, ServiceUser
from hub import audit
from hub.auth.models import User
from hub.db import db, london_date, today, utcnow
from hub.db import new_reference as db_new_reference
from hub.notifications import services as notifications
from hub.notifications.models import Notification
from hub.permissions import Actor, Invalid, require
from referrals import deadlines, notify, policies, queries
from referrals.changes import move, record_event
from referrals.models import REFERRAL_PURPOSES, Referral, ReferralMessage, Urgency
from referrals.states import SHARED_OPEN, TRANSITIONS, Side, Status


def _new_reference() -> str:
    return db_new_reference("R", Referral.reference)


def _authorise(allowed: bool, actor: Actor, referral: Referral, action: str) -> None:
    """Refuse as the policy says: 403 when it is not the actor's to do, 409 when the state forbids it."""
    if not allowed:
        raise policies.refusal(actor, referral, action)


def _recipient_for(agency: Agency, requested: Contact | None) -> Contact | None:
    """The named contact if active, else whoever holds their work, else the
    agency's active key contact; None means the agency's partner leads."""
    if requested is not None and requested.agency_id == agency.id:
        holder = requested if requested.is_active else directory.current_holder(requested)
        if holder is not None:
            return holder
    key = db.session.get(Contact, agency.key_contact_id) if agency.key_contact_id else None
    return key if key is not None and key.is_active else None


def _require_basis(referral: Referral, detail: str, *, reveal: bool = True) -> sharing.Basis:
    """A valid basis covering this referral's agency, purpose and categories now, else 422. Where the
    purpose is what is lacking, ``missing`` names it, so the sender knows which consent to record."""
    try:
        return sharing.require_basis(
            referral.service_user_id,
            referral.agency_id,
            referral.purpose,
            set(referral.data_categories),
            detail,
            reveal=reveal,
        )
    except sharing.NotCovered as exc:
        if "purpose" in exc.extra.get("missing", {}):
            exc.extra["missing"]["purpose"] = f"no valid basis covers the purpose {referral.purpose}"
        raise


def mark_referral_seen(actor: Actor, referral: Referral) -> int:
    """Someone opened the referral: their notifications about it are read."""
    if not policies.can_mark_referral_seen(actor, referral):
        return 0
    return notifications.mark_read_about(Notification.user_id == actor.actor_id, f"/referrals/{referral.id}")


def _record(actor: Actor, referral: Referral, action: str, before: Status, note: str = "") -> None:
    # The acting side has done what its notifications about this referral asked: they are read.
    if actor.agency_id is not None:
        acting_side = Notification.user_id.in_(sa.select(User.id).where(User.agency_id == actor.agency_id))
        notifications.mark_read_about(acting_side, f"/referrals/{referral.id}")
    record_event(actor, referral, action, before, note=note)
    audit.record(actor, f"referral.{action}", referral, from_status=before.value, to_status=referral.status.value)


def _recipient_moved(actor: Actor, referral: Referral, action: str, before: Status, note: str = "") -> Referral:
    """After a step the receiving agency took: record it and tell our side."""
    _record(actor, referral, action, before, note)
    label = notify.label(referral)
    notify.tell_sender(
        referral,
        f"referral.{action}",
        f"Referral {label}: {referral.status.label.lower()}",
        f"Referral {label} is now {referral.status.label.lower()}.{notify.deadline_note(referral)}",
    )
    return referral


# Creating and sending -------------------------------------------------------------


def create_referral(actor: Actor, data: dict[str, Any]) -> Referral:
    require(policies.can_create_referral(actor), "Only our own staff make referrals.")
    person = db.session.get(ServiceUser, data["service_user_id"])
    if person is None:
        raise Invalid.on_field("service_user_id", "No such service user")
    agency = db.session.get(Agency, data["agency_id"])
    if agency is None or agency.kind is AgencyKind.HOST:
        raise Invalid.on_field("agency_id", "Choose a partner agency")
    purpose = data.get("purpose") or Purpose.REFERRAL.value
    if purpose not in REFERRAL_PURPOSES:
        raise Invalid.on_field("purpose", "A referral is for referral or release_planning")
    contact = None
    if data.get("contact_id") is not None:
        contact = db.session.get(Contact, data["contact_id"])
        if contact is None or contact.agency_id != agency.id:
            raise Invalid.on_field("contact_id", "Choose a contact at this agency")
    referral = Referral(
        reference=_new_reference(),
        service_user_id=person.id,
        agency_id=agency.id,
        requested_contact_id=contact.id if contact else None,
        sender_user_id=actor.actor_id if actor.actor_kind == "user" else None,
        sender_client_id=actor.actor_id if actor.actor_kind == "client" else None,
        data_categories=sorted(set(data["data_categories"])),
        reason=data["reason"],
        urgency=data.get("urgency", Urgency.ROUTINE),
        purpose=purpose,
        needed_by=data.get("needed_by"),
        status=Status.DRAFT,
    )
    db.session.add(referral)
    db.session.flush()
    record_event(actor, referral, "create", None)
    audit.record(actor, "referral.created", referral, service_user_id=person.id, agency_id=agency.id, purpose=purpose)
    return referral


def send_referral(actor: Actor, referral: Referral) -> Referral:
    """Send a draft, if a valid basis covers it now; address it; start the clock."""
    _authorise(policies.can_send_referral(actor, referral), actor, referral, "send")
    basis = _require_basis(referral, "Her consent (or a safeguarding decision) does not cover this referral.")
    agency = referral.agency
    requested = db.session.get(Contact, referral.requested_contact_id) if referral.requested_contact_id else None
    recipient = _recipient_for(agency, requested)
    referral.rest_on(basis)
    move(
        referral,
        {Status.DRAFT},
        Status.SENT,
        sent_at=utcnow(),
        acknowledge_by=deadlines.acknowledge_by(agency, referral.urgency, today(), referral.needed_by),
        recipient_contact_id=recipient.id if recipient else None,
        consent_id=referral.consent_id,
        safeguarding_id=referral.safeguarding_id,
    )
    sharing.disclose(
        actor,
        basis,
        service_user_id=referral.service_user_id,
        agency_id=referral.agency_id,
        kind=DisclosureKind.SENT,
        categories=referral.data_categories,
        purpose=referral.purpose,
        context="referral",
        context_id=referral.id,
    )
    record_event(actor, referral, "send", Status.DRAFT)
    audit.record(
        actor,
        "referral.sent",
        referral,
        agency_id=referral.agency_id,
        basis=basis.ref.kind.value,
        basis_id=basis.ref.id,
        recipient_contact_id=referral.recipient_contact_id,
    )
    notify.tell_recipient(
        referral,
        "referral.received",
        f"New referral {referral.reference} for {agency.name}",
        f"{agency.name} has a new {referral.urgency.value} referral, {referral.reference}. Please "
        f"acknowledge it by {referral.acknowledge_by:%-d %B %Y}.",
    )
    return referral


# The receiving agency's steps ------------------------------------------------------------


def acknowledge_referral(actor: Actor, referral: Referral) -> Referral:
    _authorise(policies.can_acknowledge_referral(actor, referral), actor, referral, "acknowledge")
    before = referral.status
    move(
        referral,
        TRANSITIONS["acknowledge"].sources,
        Status.ACKNOWLEDGED,
        acknowledged_at=utcnow(),
        decide_by=deadlines.decide_by(referral.agency, today(), referral.needed_by),
    )
    return _recipient_moved(actor, referral, "acknowledge", before)


def accept_referral(actor: Actor, referral: Referral) -> Referral:
    _authorise(policies.can_accept_referral(actor, referral), actor, referral, "accept")
    before, now = referral.status, utcnow()
    move(
        referral,
        TRANSITIONS["accept"].sources,
        Status.ACCEPTED,
        decided_at=now,
        acknowledged_at=referral.acknowledged_at or now,
    )
    return _recipient_moved(actor, referral, "accept", before)


def decline_referral(actor: Actor, referral: Referral, reason: str) -> Referral:
    _authorise(policies.can_decline_referral(actor, referral), actor, referral, "decline")
    reason = _reason(reason)
    before, now = referral.status, utcnow()
    move(
        referral,
        TRANSITIONS["decline"].sources,
        Status.DECLINED,
        decided_at=now,
        acknowledged_at=referral.acknowledged_at or now,
        closed_at=now,
    )
    return _recipient_moved(actor, referral, "decline", before, reason)


def start_referral(actor: Actor, referral: Referral) -> Referral:
    _authorise(policies.can_start_referral(actor, referral), actor, referral, "start")
    before = referral.status
    move(referral, TRANSITIONS["start"].sources, Status.IN_PROGRESS)
    return _recipient_moved(actor, referral, "start", before)


def hold_referral(actor: Actor, referral: Referral, reason: str) -> Referral:
    _authorise(policies.can_hold_referral(actor, referral), actor, referral, "hold")
    reason = _reason(reason)
    before = referral.status
    move(referral, TRANSITIONS["hold"].sources, Status.ON_HOLD, held_from=before)
    return _recipient_moved(actor, referral, "hold", before, reason)


def complete_referral(actor: Actor, referral: Referral, outcome: str = "") -> Referral:
    _authorise(policies.can_complete_referral(actor, referral), actor, referral, "complete")
    before = referral.status
    move(referral, TRANSITIONS["complete"].sources, Status.COMPLETED, closed_at=utcnow(), outcome=outcome.strip())
    return _recipient_moved(actor, referral, "complete", before, outcome.strip())


def resume_referral(actor: Actor, referral: Referral) -> Referral:
    """Lift a hold. The agency lifts its own; we lift one caused by a lost basis, once a
    basis covers the referral again, and it returns to where it was."""
    _authorise(policies.can_resume_referral(actor, referral), actor, referral, "resume")
    ours = policies.side_of(actor, referral) is Side.SENDER
    basis = _require_basis(
        referral,
        "There is no longer a valid basis for sharing this referral; record her consent again first."
        if ours
        else "Her details are no longer shared with your agency: the referral stays on hold until we contact you.",
        reveal=ours,  # what else she consents to is not the agency's business
    )
    before = referral.status
    target = referral.held_from if referral.basis_lost and referral.held_from else Status.IN_PROGRESS
    referral.rest_on(basis)
    move(
        referral,
        {Status.ON_HOLD},
        target,
        held_from=None,
        basis_lost=False,
        consent_id=referral.consent_id,
        safeguarding_id=referral.safeguarding_id,
    )
    _record(actor, referral, "resume", before)
    label = notify.label(referral)
    if ours:
        notify.tell_recipient(
            referral,
            "referral.resume",
            f"Referral {label} has resumed",
            f"Referral {label} is no longer on hold: its details are available to you again.",
        )
    else:
        notify.tell_sender(
            referral, "referral.resume", f"Referral {label}: resumed", f"Referral {label} is no longer on hold."
        )
    return referral


def cancel_referral(actor: Actor, referral: Referral, reason: str) -> Referral:
    _authorise(policies.can_cancel_referral(actor, referral), actor, referral, "cancel")
    reason = _reason(reason)
    before = referral.status
    move(referral, TRANSITIONS["cancel"].sources, Status.CANCELLED, closed_at=utcnow())
    _record(actor, referral, "cancel", before, reason)
    if before is not Status.DRAFT:
        label = notify.label(referral)
        notify.tell_recipient(
            referral,
            "referral.cancel",
            f"Referral {label} cancelled",
            f"Referral {label} has been cancelled by the sender.",
        )
    return referral


# The day it is needed by ----------------------------------------------------------------------


def reschedule_referral(actor: Actor, referral: Referral, needed_by: dt.date | None) -> bool:
    """Move the day the work is needed by (release planning does, when her release date moves) and
    bring the deadline it waits on into line: the agency's usual time from the day it was sent (or
    acknowledged), capped by ``needed_by``. The recipient is told a new deadline by reference and
    date only. True when that deadline moved; a closed referral is left as it was (False)."""
    if not policies.can_reschedule_referral(actor, referral):
        require(policies.side_of(actor, referral) is Side.SENDER, "Only our own staff move when work is needed by.")
        return False  # closed: its deadlines are history
    if needed_by == referral.needed_by:
        return False  # asked again with the same day (a plan re-saved): nothing to record or tell
    before, due_before = referral.status, referral.due_on
    agency = referral.agency
    values: dict[str, Any] = {"needed_by": needed_by}
    if before is Status.SENT and referral.sent_at is not None:
        sent_on = london_date(referral.sent_at)
        values["acknowledge_by"] = deadlines.acknowledge_by(agency, referral.urgency, sent_on, needed_by)
    elif before is Status.ACKNOWLEDGED and referral.acknowledged_at is not None:
        values["decide_by"] = deadlines.decide_by(agency, london_date(referral.acknowledged_at), needed_by)
    # The same compare-and-set UPDATE as a status change: due_on moves with the deadline, and a
    # referral that changed status meanwhile answers 409 rather than taking a stale deadline.
    move(referral, {before}, before, **values)
    moved = referral.due_on != due_before
    note = f"needed by moved to {needed_by:%-d %B %Y}" if needed_by else "needed by date removed"
    record_event(actor, referral, "reschedule", before, note=note)
    audit.record(
        actor,
        "referral.reschedule",
        referral,
        needed_by=needed_by.isoformat() if needed_by else None,
        due_on=referral.due_on.isoformat() if referral.due_on else None,
        deadline_moved=moved,
    )
    if moved:
        label = notify.label(referral)
        notify.tell_recipient(
            referral,
            "referral.reschedule",
            f"New deadline for referral {label}",
            f"The deadline for referral {label} has changed.{notify.deadline_note(referral)}",
        )
    return moved


def _reason(reason: str) -> str:
    if not reason.strip():
        raise Invalid.on_field("reason", "Give a reason")
    return reason.strip()


# Messages and reading ------------------------------------------------------------------------


def post_message(actor: Actor, referral: Referral, body: str) -> ReferralMessage:
    require(policies.can_post_message(actor, referral), "You cannot message about this referral.")
    body = body.strip()
    if not body:
        raise Invalid.on_field("body", "Write a message")
    author = db.session.get(User, actor.actor_id) if actor.actor_kind == "user" else None
    message = ReferralMessage(
        referral_id=referral.id,
        author_kind=actor.actor_kind,
        author_id=actor.actor_id,
        author_agency_id=actor.agency_id,
        author_name=author.name if author else "Partner system",
        body=body,
    )
    db.session.add(message)
    db.session.flush()
    audit.record(actor, "referral.message", referral, message_id=message.id)
    agency = referral.agency
    subject = f"New message about referral {referral.reference} for {agency.name}"
    text = (
        f"There is a new message about referral {referral.reference} to {agency.name}."
        f"{notify.deadline_note(referral)} Sign in to read it."
    )
    if policies.side_of(actor, referral) is Side.SENDER:
        notify.tell_recipient(referral, "referral.message", subject, text)
    else:
        notify.tell_sender(referral, "referral.message", subject, text)
    return message


def open_referral(actor: Actor, referral: Referral) -> queries.Details:
    """A viewer opens a referral: our staff always see her details; the agency only while a basis
    is valid, and each such view is recorded as a disclosure."""
    if not policies.can_open_referral(actor, referral):
        return queries.Details(False)  # nothing to see, and nothing to log (queries answer 404 before this)
    details, basis = queries.details_and_basis(actor, referral)
    if basis is not None:
        sharing.disclose(
            actor,
            basis,
            service_user_id=referral.service_user_id,
            agency_id=referral.agency_id,
            kind=DisclosureKind.VIEWED,
            categories=referral.data_categories,
            purpose=referral.purpose,
            context="referral",
            context_id=referral.id,
        )
    return details


def glimpse_referrals(actor: Actor, referrals: list[Referral]) -> dict[int, queries.Glimpse]:
    """A partner's list page shows, for each referral whose basis is valid now, the first words of
    what is asked and (where it shares ``identity``) her name: each shown is recorded as a
    disclosure (one row per referral shown, all in one statement)."""
    if not policies.can_glimpse_referrals(actor):
        return {}
    found = queries.glimpses_and_bases(actor, referrals)
    by_id = {r.id: r for r in referrals}
    sharing.disclose_many(
        actor,
        [
            (
                basis,
                {
                    "service_user_id": by_id[referral_id].service_user_id,
                    "agency_id": by_id[referral_id].agency_id,
                    "kind": DisclosureKind.VIEWED,
                    "categories": by_id[referral_id].data_categories,
                    "purpose": by_id[referral_id].purpose,
                    "context": "referral_list",
                    "context_id": referral_id,
                },
            )
            for referral_id, (_glimpse, basis) in found.items()
        ],
    )
    return {referral_id: glimpse for referral_id, (glimpse, _basis) in found.items()}


# When a basis ends --------------------------------------------------------------------------


def hold_for_lost_basis(actor: Actor, ref: sharing.BasisRef, reason: str) -> int:
    """Put on hold, at once, the open referrals that relied on an ended basis
    (unless another valid basis covers them), and tell the recipient without details."""
    require(policies.can_hold_for_lost_basis(actor), "Only our staff or the hub's jobs end a basis.")
    affected = db.session.scalars(
        sa.select(Referral).where(Referral.relying_on(ref), Referral.status.in_([s.value for s in SHARED_OPEN]))
    ).all()
    held = 0
    for referral in affected:
        basis = sharing.find_basis(
            referral.service_user_id, referral.agency_id, referral.purpose, set(referral.data_categories)
        )
        if isinstance(basis, sharing.Basis):
            referral.rest_on(basis)
            continue
        before = referral.status
        move(referral, SHARED_OPEN, Status.ON_HOLD, held_from=before, basis_lost=True)
        record_event(actor, referral, "hold", before, note=f"basis {reason}")
        audit.record(actor, "referral.hold", referral, from_status=before.value, cause=f"basis {reason}")
        agency = referral.agency
        notify.tell_recipient(
            referral,
            "referral.hold",
            f"Referral {referral.reference} for {agency.name} is on hold",
            f"Referral {referral.reference} to {agency.name} is on hold and its details are no longer available "
            "to you. No action is needed unless we contact you.",
        )
        held += 1
    db.session.flush()
    return held
