"""Referral use cases: create, send, act on, message, and keep moving.

Each checks its policy, enforces invariants, changes state, audits, notifies
(in the same transaction) and flushes; the caller commits. Notifications
carry the referral's reference, the agency, the deadline and a link: never
her name or any detail of her life.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from agencies import queries as directory
from agencies.models import Agency, AgencyKind, Contact
from consent import services as consent_services
from consent.models import ConsentRecord, DisclosureKind, Purpose, SafeguardingDecision, ServiceUser
from hub import audit
from hub.auth.models import User
from hub.db import db, today, utcnow
from hub.db import new_reference as db_new_reference
from hub.notifications.services import notify
from hub.permissions import Actor, Conflict, Invalid, NotFound, Role, require
from hub.settings_access import settings
from hub.workdays import add_working_days
from referrals import policies
from referrals.models import Referral, ReferralEvent, ReferralMessage, Urgency
from referrals.states import SHARED_OPEN, TRANSITIONS, Side, Status

PURPOSE = Purpose.REFERRAL.value


def new_reference() -> str:
    return db_new_reference("R", Referral.reference)


def _event(actor: Actor, referral: Referral, action: str, before: Status | None, note: str = "") -> None:
    db.session.add(
        ReferralEvent(
            referral_id=referral.id,
            action=action,
            from_status=before.value if before else None,
            to_status=referral.status.value,
            actor_kind=actor.actor_kind,
            actor_id=actor.actor_id,
            actor_agency_id=actor.agency_id,
            note=note,
        )
    )


# Who hears about a referral ---------------------------------------------------


def recipient_for(agency: Agency, requested: Contact | None) -> Contact | None:
    """The named contact if active, else whoever holds their work, else the
    agency's active key contact; None means the agency's partner leads."""
    if requested is not None and requested.agency_id == agency.id:
        holder = requested if requested.is_active else directory.current_holder(requested)
        if holder is not None:
            return holder
    key = db.session.get(Contact, agency.key_contact_id) if agency.key_contact_id else None
    return key if key is not None and key.is_active else None


def _partner_users(agency_id: int, roles: set[Role]) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.agency_id == agency_id, User.role.in_(list(roles)), User.disabled_at.is_(None))
        )
    )


def reachable(contact: Contact) -> bool:
    """Whether :func:`tell_contact` can reach this contact at all."""
    if not contact.is_active:
        return False
    user = db.session.get(User, contact.user_id) if contact.user_id else None
    return user.is_active if user is not None else bool(contact.email)


def tell_contact(contact: Contact, **message: Any) -> int:
    """Tell an active contact: through their hub account if they have one, else by email.
    A contact whose hub account is closed is not told (not even at the contact's address)."""
    if not contact.is_active:
        return 0
    user = db.session.get(User, contact.user_id) if contact.user_id else None
    if user is not None:
        return 1 if user.is_active and notify(user=user, **message) else 0
    return 1 if contact.email and notify(email=contact.email, **message) else 0


def tell_recipient(referral: Referral, kind: str, subject: str, body: str, dedupe: str | None = None) -> int:
    """Tell the contact a referral is addressed to; if there is none, or they
    cannot be reached (no email, closed account), the agency's partner leads."""
    link = f"/referrals/{referral.id}"
    if referral.recipient_contact_id is not None:
        contact = db.session.get(Contact, referral.recipient_contact_id)
        if contact is not None and reachable(contact):
            return tell_contact(
                contact,
                kind=kind,
                subject=subject,
                body=body,
                link=link,
                dedupe_key=f"{dedupe}:c{contact.id}" if dedupe else None,
            )
    told = 0
    for user in _partner_users(referral.agency_id, {Role.PARTNER_LEAD}):
        told += bool(
            notify(
                user=user,
                kind=kind,
                subject=subject,
                body=body,
                link=link,
                dedupe_key=f"{dedupe}:u{user.id}" if dedupe else None,
            )
        )
    return told


def tell_sender(referral: Referral, kind: str, subject: str, body: str) -> None:
    sender = db.session.get(User, referral.sender_user_id) if referral.sender_user_id else None
    person = db.session.get(ServiceUser, referral.service_user_id)
    key_worker = db.session.get(User, person.key_worker_id) if person and person.key_worker_id else None
    for user in {u.id: u for u in (sender, key_worker) if u is not None}.values():
        notify(user=user, kind=kind, subject=subject, body=body, link=f"/referrals/{referral.id}")


def deadline_note(referral: Referral) -> str:
    """The deadline a referral is waiting on, for messages about it ("" when none runs)."""
    if referral.status is Status.SENT and referral.acknowledge_by is not None:
        return f" It is due to be acknowledged by {referral.acknowledge_by:%-d %B %Y}."
    if referral.status is Status.ACKNOWLEDGED and referral.decide_by is not None:
        return f" It is due to be accepted or declined by {referral.decide_by:%-d %B %Y}."
    return ""


# Deadlines ------------------------------------------------------------------


def acknowledge_days(agency: Agency, urgency: Urgency) -> int:
    cfg = settings()
    if urgency is Urgency.URGENT:
        return min(cfg.acknowledge_days_urgent, agency.acknowledge_days or cfg.acknowledge_days_urgent)
    return agency.acknowledge_days or cfg.acknowledge_days


def decide_days(agency: Agency) -> int:
    return agency.decide_days or settings().decide_days


# Use cases ------------------------------------------------------------------


def create_referral(actor: Actor, data: dict[str, Any]) -> Referral:
    require(policies.can_create_referral(actor), "Only our own staff make referrals.")
    person = db.session.get(ServiceUser, data["service_user_id"])
    if person is None:
        raise Invalid.on_field("service_user_id", "No such service user")
    agency = db.session.get(Agency, data["agency_id"])
    if agency is None or agency.kind is AgencyKind.HOST:
        raise Invalid.on_field("agency_id", "Choose a partner agency")
    contact = None
    if data.get("contact_id") is not None:
        contact = db.session.get(Contact, data["contact_id"])
        if contact is None or contact.agency_id != agency.id:
            raise Invalid.on_field("contact_id", "Choose a contact at this agency")
    referral = Referral(
        reference=new_reference(),
        service_user_id=person.id,
        agency_id=agency.id,
        requested_contact_id=contact.id if contact else None,
        sender_user_id=actor.actor_id if actor.actor_kind == "user" else None,
        sender_client_id=actor.actor_id if actor.actor_kind == "client" else None,
        data_categories=sorted(set(data["data_categories"])),
        reason=data["reason"],
        urgency=data.get("urgency", Urgency.ROUTINE),
        status=Status.DRAFT,
    )
    db.session.add(referral)
    db.session.flush()
    _event(actor, referral, "create", None)
    audit.record(actor, "referral.created", referral, service_user_id=person.id, agency_id=agency.id)
    return referral


def send_referral(actor: Actor, referral: Referral) -> Referral:
    """Send a draft, if a valid basis covers it now; address it; start the clock."""
    require(policies.can_act(actor, referral, Side.SENDER), "Only our own staff send referrals.")
    if referral.status is not Status.DRAFT:
        raise Conflict(f"This referral is {referral.status.label.lower()}, not a draft.")
    basis = consent_services.sharing_basis(
        referral.service_user_id, referral.agency_id, PURPOSE, set(referral.data_categories)
    )
    if isinstance(basis, consent_services.Missing):
        raise Invalid(
            "Her consent (or a safeguarding decision) does not cover this referral.",
            errors={"data_categories": ["Not covered: " + (", ".join(basis.data_categories) or "-")]},
            missing=basis.as_problem(),
        )
    agency = db.session.get(Agency, referral.agency_id)
    assert agency is not None
    requested = db.session.get(Contact, referral.requested_contact_id) if referral.requested_contact_id else None
    recipient = recipient_for(agency, requested)
    now = utcnow()
    _move(
        referral,
        {Status.DRAFT},
        Status.SENT,
        sent_at=now,
        acknowledge_by=add_working_days(today(), acknowledge_days(agency, referral.urgency)),
        recipient_contact_id=recipient.id if recipient else None,
        consent_id=basis.consent.id if basis.consent else None,
        safeguarding_id=basis.safeguarding.id if basis.safeguarding else None,
    )
    consent_services.record_disclosure(
        actor,
        service_user_id=referral.service_user_id,
        agency_id=referral.agency_id,
        kind=DisclosureKind.SENT,
        categories=referral.data_categories,
        purpose=PURPOSE,
        basis=basis,
        context="referral",
        context_id=referral.id,
    )
    _event(actor, referral, "send", Status.DRAFT)
    audit.record(
        actor,
        "referral.sent",
        referral,
        agency_id=referral.agency_id,
        basis=basis.kind,
        basis_id=basis.id,
        recipient_contact_id=referral.recipient_contact_id,
    )
    tell_recipient(
        referral,
        "referral.received",
        f"New referral {referral.reference} for {agency.name}",
        f"{agency.name} has a new {referral.urgency.value} referral, {referral.reference}. Please "
        f"acknowledge it by {referral.acknowledge_by:%-d %B %Y}.",
    )
    return referral


def _move(referral: Referral, sources: set[Status] | frozenset[Status], target: Status, **values: Any) -> None:
    """Change status atomically: only if it is still in ``sources`` (else 409)."""
    before = referral.status
    result = db.session.execute(
        sa.update(Referral)
        .where(Referral.id == referral.id, Referral.status.in_([s.value for s in sources]))
        .values(status=target, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.refresh(referral)
        raise Conflict(
            f"This referral is now {referral.status.label.lower()}: it cannot go from there to {target.label.lower()}."
        )
    db.session.refresh(referral)
    assert referral.status is target, (before, target)


def act_on_referral(actor: Actor, referral: Referral, action: str, reason: str = "", outcome: str = "") -> Referral:
    """acknowledge | accept | decline | start | hold | resume | complete | cancel."""
    transition = TRANSITIONS.get(action)
    if transition is None or action == "send":
        raise NotFound("No such action.")
    # Our staff may also resume a referral that went on hold because its basis was lost.
    sender_resumes = action == "resume" and referral.basis_lost and policies.can_act(actor, referral, Side.SENDER)
    require(
        policies.can_act(actor, referral, transition.side) or sender_resumes,
        "Only the receiving agency can do this."
        if transition.side is Side.RECIPIENT
        else "Only our own staff can do this.",
    )
    if transition.needs_reason and not reason.strip():
        raise Invalid.on_field("reason", "Give a reason")
    before = referral.status
    if before not in transition.sources:
        raise Conflict(
            f"A referral that is {before.label.lower()} cannot be {action}d."
            if action != "resume"
            else "Only a referral on hold can be resumed."
        )
    now = utcnow()
    values: dict[str, Any] = {}
    target = transition.target
    if action == "acknowledge":
        agency = db.session.get(Agency, referral.agency_id)
        values.update(acknowledged_at=now, decide_by=add_working_days(today(), decide_days(agency)))
    elif action in {"accept", "decline"}:
        values.update(decided_at=now, acknowledged_at=referral.acknowledged_at or now)
        if action == "decline":
            values["closed_at"] = now
    elif action == "hold":
        values["held_from"] = before
    elif action == "resume":
        _require_basis(referral)
        # A hold for a lost basis returns to where it was; an agency's own hold resumes work.
        target = referral.held_from if referral.basis_lost and referral.held_from else Status.IN_PROGRESS
        values.update(held_from=None, basis_lost=False)
    elif action == "complete":
        values.update(closed_at=now, outcome=outcome.strip())
    elif action == "cancel":
        values["closed_at"] = now
    assert target is not None
    _move(referral, transition.sources, target, **values)
    _event(actor, referral, action, before, note=(reason or outcome).strip())
    audit.record(actor, f"referral.{action}", referral, from_status=before.value, to_status=referral.status.value)
    label = f"{referral.reference} ({db.session.get(Agency, referral.agency_id).name})"
    if transition.side is Side.RECIPIENT:
        tell_sender(
            referral,
            f"referral.{action}",
            f"Referral {label}: {referral.status.label.lower()}",
            f"Referral {label} is now {referral.status.label.lower()}.{deadline_note(referral)}",
        )
    elif before is not Status.DRAFT:
        tell_recipient(
            referral,
            f"referral.{action}",
            f"Referral {label} cancelled",
            f"Referral {label} has been cancelled by the sender.",
        )
    return referral


def _require_basis(referral: Referral) -> None:
    basis = consent_services.sharing_basis(
        referral.service_user_id, referral.agency_id, PURPOSE, set(referral.data_categories)
    )
    if isinstance(basis, consent_services.Missing):
        raise Invalid(
            "There is no longer a valid basis for sharing this referral; record her consent again first.",
            missing=basis.as_problem(),
        )
    referral.consent_id = basis.consent.id if basis.consent else None
    referral.safeguarding_id = basis.safeguarding.id if basis.safeguarding else None


def post_message(actor: Actor, referral: Referral, body: str) -> ReferralMessage:
    require(policies.can_message(actor, referral), "You cannot message about this referral.")
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
    agency = db.session.get(Agency, referral.agency_id)
    subject = f"New message about referral {referral.reference} for {agency.name}"
    text = (
        f"There is a new message about referral {referral.reference} to {agency.name}.{deadline_note(referral)} "
        "Sign in to read it."
    )
    if policies.side_of(actor, referral) is Side.SENDER:
        tell_recipient(referral, "referral.message", subject, text)
    else:
        tell_sender(referral, "referral.message", subject, text)
    return message


@dataclass(frozen=True)
class Details:
    """What a viewer may see of the woman behind a referral, right now."""

    visible: bool
    basis: consent_services.Basis | None = None


def details_for(actor: Actor, referral: Referral, log_view: bool = True) -> Details:
    """Host staff always see her details; the agency only while a basis is valid,
    and each such view is logged as a disclosure."""
    if actor.is_staff:
        return Details(True)
    # Another agency's partner, or a referral that never reached the agency: nothing to see or log.
    if not policies.can_see_referral(actor, referral) or referral.basis_lost:
        return Details(False)
    basis = consent_services.sharing_basis(
        referral.service_user_id, referral.agency_id, PURPOSE, set(referral.data_categories)
    )
    if isinstance(basis, consent_services.Missing):
        return Details(False)
    if log_view:
        consent_services.record_disclosure(
            actor,
            service_user_id=referral.service_user_id,
            agency_id=referral.agency_id,
            kind=DisclosureKind.VIEWED,
            categories=referral.data_categories,
            purpose=PURPOSE,
            basis=basis,
            context="referral",
            context_id=referral.id,
        )
    return Details(True, basis)


# Keeping referrals moving when things change -----------------------------------


def hold_for_lost_basis(record: ConsentRecord | SafeguardingDecision, reason: str, actor: Actor) -> int:
    """Put on hold, at once, the open referrals that relied on an ended basis
    (unless another valid basis covers them), and tell the recipient without details."""
    column = Referral.consent_id if isinstance(record, ConsentRecord) else Referral.safeguarding_id
    affected = db.session.scalars(
        sa.select(Referral).where(column == record.id, Referral.status.in_([s.value for s in SHARED_OPEN]))
    ).all()
    held = 0
    for referral in affected:
        basis = consent_services.sharing_basis(
            referral.service_user_id, referral.agency_id, PURPOSE, set(referral.data_categories)
        )
        if isinstance(basis, consent_services.Basis):
            referral.consent_id = basis.consent.id if basis.consent else None
            referral.safeguarding_id = basis.safeguarding.id if basis.safeguarding else None
            continue
        before = referral.status
        _move(referral, SHARED_OPEN, Status.ON_HOLD, held_from=before, basis_lost=True)
        _event(actor, referral, "hold", before, note=f"basis {reason}")
        audit.record(actor, "referral.hold", referral, from_status=before.value, cause=f"basis {reason}")
        agency = db.session.get(Agency, referral.agency_id)
        tell_recipient(
            referral,
            "referral.hold",
            f"Referral {referral.reference} for {agency.name} is on hold",
            f"Referral {referral.reference} to {agency.name} is on hold and its details are no longer available "
            "to you. No action is needed unless we contact you.",
        )
        held += 1
    return held


def readdress_for_leaver(contact: Contact, takeover: Contact | None, actor: Actor) -> int:
    """Move a leaver's open referrals to whoever takes over (or the agency's partner leads)."""
    affected = db.session.scalars(
        sa.select(Referral).where(
            Referral.recipient_contact_id == contact.id,
            Referral.status.in_([s.value for s in SHARED_OPEN | {Status.ON_HOLD}]),
        )
    ).all()
    for referral in affected:
        referral.recipient_contact_id = takeover.id if takeover is not None and takeover.is_active else None
        _event(actor, referral, "readdress", referral.status, note="addressee left")
        audit.record(
            actor,
            "referral.readdressed",
            referral,
            from_contact_id=contact.id,
            to_contact_id=referral.recipient_contact_id,
        )
        if referral.status is not Status.ON_HOLD:
            tell_recipient(
                referral,
                "referral.readdressed",
                f"Referral {referral.reference} is now with you",
                f"Referral {referral.reference} was addressed to someone who has left and is now "
                "addressed to you."
                + (
                    f" Please acknowledge it by {referral.acknowledge_by:%-d %B %Y}."
                    if referral.status is Status.SENT and referral.acknowledge_by
                    else ""
                ),
            )
    db.session.flush()
    return len(affected)


def reassign_sender(leaver_id: int, new_owner_id: int | None, actor: Actor) -> int:
    if new_owner_id is None:
        return 0
    affected = db.session.scalars(
        sa.select(Referral).where(
            Referral.sender_user_id == leaver_id,
            Referral.status.in_([s.value for s in SHARED_OPEN | {Status.ON_HOLD, Status.DRAFT}]),
        )
    ).all()
    for referral in affected:
        referral.handed_over_from_id, referral.sender_user_id = leaver_id, new_owner_id
        _event(actor, referral, "reassign", referral.status, note="sender left")
        audit.record(actor, "referral.reassigned", referral, to_user_id=new_owner_id)
    db.session.flush()
    return len(affected)


def open_referral_lines(leaver_id: int) -> list[str]:
    """The open referrals a leaving member of staff had sent (now handed over), for the handover pack."""
    rows = db.session.execute(
        sa.select(Referral.reference, Referral.status, Agency.name, User.name)
        .join(Agency, Agency.id == Referral.agency_id)
        .outerjoin(User, User.id == Referral.sender_user_id)
        .where(
            sa.or_(Referral.sender_user_id == leaver_id, Referral.handed_over_from_id == leaver_id),
            Referral.status.in_([s.value for s in SHARED_OPEN | {Status.ON_HOLD, Status.DRAFT}]),
        )
        .order_by(Referral.id)
    ).all()
    return [
        f"{ref} to {agency}: {status.label.lower()}, now with {owner or 'nobody'}"
        for ref, status, agency, owner in rows
    ]
