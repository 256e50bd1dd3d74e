"""Service users, consent and safeguarding: one function per use case.

Each checks its policy, enforces the invariants, changes state, audits,
signals and flushes; the caller commits. Audit entries carry ids and codes,
never a name or a detail of her life.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from agencies.models import Agency, AgencyKind
from consent import policies, signals
from consent.information import INFORMATION_VERSION
from consent.models import (
    ConsentRecord,
    ConsentStatus,
    Disclosure,
    LegalHold,
    SafeguardingDecision,
    SafeguardingStatus,
    ServiceUser,
    SubjectAccessPack,
)
from consent.sharing import BasisKind, BasisRef
from hub import audit
from hub.auth.models import User
from hub.auth.services import active_managers
from hub.db import db, today, utcnow
from hub.db import new_reference as db_new_reference
from hub.notifications import services as notifications
from hub.notifications.services import Message, notify, notify_many
from hub.permissions import Actor, Conflict, Denied, HubError, Invalid, Role, require
from hub.settings_access import settings
from hub.workdays import add_working_days


def _new_reference() -> str:
    return db_new_reference("SU", ServiceUser.reference)


def _partner_agency(agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.kind is AgencyKind.HOST:
        raise Invalid.on_field("agency_id", "Choose a partner agency")
    return agency


def _active_staff(user_id: int | None, field_name: str) -> User | None:
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_staff or not user.is_active:
        raise Invalid.on_field(field_name, "Choose a current member of staff")
    return user


# Service users -----------------------------------------------------------


def create_service_user(actor: Actor, data: dict[str, Any]) -> ServiceUser:
    require(policies.can_create_service_user(actor), "Only our own staff record the women we support.")
    if data.get("date_of_birth") and data["date_of_birth"] > today():
        raise Invalid.on_field("date_of_birth", "Date of birth must be in the past")
    key_worker = _active_staff(data.get("key_worker_id"), "key_worker_id")
    if key_worker is None and actor.actor_kind == "user":
        key_worker = db.session.get(User, actor.actor_id)
    person = ServiceUser(
        reference=_new_reference(),
        given_name=data["given_name"],
        family_name=data["family_name"],
        date_of_birth=data.get("date_of_birth"),
        key_worker_id=key_worker.id if key_worker else None,
    )
    db.session.add(person)
    db.session.flush()
    audit.record(actor, "service_user.created", person)
    return person


# Consent ------------------------------------------------------------------


def record_consent(actor: Actor, person: ServiceUser, data: dict[str, Any]) -> ConsentRecord:
    require(policies.can_record_consent(actor), "Only our own staff record consent.")
    if person.restricted_at is not None or person.erased_at is not None:
        raise Conflict("Her record is restricted or erased at her request: nothing about her may be shared.")
    agency = _partner_agency(data["agency_id"])
    given_on = data["given_on"]
    if given_on > today():
        raise Invalid.on_field("given_on", "The date she gave consent must be today or earlier")
    expires_on = data.get("expires_on") or given_on + relativedelta(months=settings().consent_default_months)
    if expires_on <= given_on:
        raise Invalid.on_field("expires_on", "Consent must last beyond the day it was given")
    if expires_on > given_on + relativedelta(years=3):
        raise Invalid.on_field("expires_on", "Consent can last three years at most: ask her again then")
    record = ConsentRecord(
        service_user_id=person.id,
        agency_id=agency.id,
        purposes=sorted(set(data["purposes"])),
        data_categories=sorted(set(data["data_categories"])),
        method=data["method"],
        given_on=given_on,
        expires_on=expires_on,
        recorded_by_id=actor.actor_id if actor.actor_kind == "user" else None,
        evidence_note=data.get("evidence_note", ""),
        information_version=INFORMATION_VERSION,
        status=ConsentStatus.ACTIVE if expires_on >= today() else ConsentStatus.EXPIRED,
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        actor,
        "consent.recorded",
        record,
        service_user_id=person.id,
        agency_id=agency.id,
        purposes=record.purposes,
        data_categories=record.data_categories,
        method=record.method.value,
    )
    return record


def withdraw_consent(actor: Actor, record: ConsentRecord, reason: str) -> ConsentRecord:
    """Withdrawal takes effect at once: open sharing on this consent stops."""
    require(policies.can_withdraw_consent(actor), "Only our own staff record a withdrawal.")
    if record.status is not ConsentStatus.ACTIVE:
        raise Conflict(f"This consent is already {record.status.value}.")
    record.status = ConsentStatus.WITHDRAWN
    record.withdrawn_at = utcnow()
    record.withdrawn_by_id = actor.actor_id if actor.actor_kind == "user" else None
    record.withdrawal_reason = reason
    db.session.flush()
    audit.record(actor, "consent.withdrawn", record, service_user_id=record.service_user_id)
    signals.basis_ended.send(BasisRef(BasisKind.CONSENT, record.id), reason="withdrawn", actor=actor)
    return record


def _ref(decision: SafeguardingDecision) -> BasisRef:
    return BasisRef(BasisKind.SAFEGUARDING, decision.id)


def _stop(
    actor: Actor,
    decision: SafeguardingDecision,
    status: SafeguardingStatus,
    reason: str,
    action: str,
    signal: str | None = "ended",
) -> None:
    """End a decision now, audit it as ``safeguarding.<action>`` and, if it was sharing, tell
    the packages above (``signal`` is the reason they are given; None: nothing was shared on it)."""
    decision.status, decision.ended_at, decision.end_reason = status, utcnow(), reason
    audit.record(actor, f"safeguarding.{action}", decision, service_user_id=decision.service_user_id)
    if signal is not None:
        signals.basis_ended.send(_ref(decision), reason=signal, actor=actor)


EMERGENCY_MEMORY_DAYS = 30


def _unapproved_emergency(service_user_id: int, agency_id: int) -> SafeguardingDecision | None:
    """An emergency share for her with this agency, in the last 30 days, that no second manager
    approved (still waiting, rejected, or stopped when its approval fell due): while there is one,
    the emergency path is closed, or one manager could share for ever by deciding again and again."""
    since = utcnow() - dt.timedelta(days=EMERGENCY_MEMORY_DAYS)
    return db.session.scalar(
        sa.select(SafeguardingDecision)
        .where(
            SafeguardingDecision.service_user_id == service_user_id,
            SafeguardingDecision.agency_id == agency_id,
            SafeguardingDecision.emergency.is_(True),
            SafeguardingDecision.approved_at.is_(None),
            SafeguardingDecision.decided_at >= since,
        )
        .order_by(SafeguardingDecision.id.desc())
        .limit(1)
    )


def _approvers(but: int | None = None) -> list[User]:
    """Who may approve a decision to share without consent: managers (not the hub administrator)."""
    return [m for m in active_managers() if m.role is Role.MANAGER and m.id != but]


# The daily jobs ---------------------------------------------------------------


def expire_lapsed_consents(actor: Actor) -> int:
    """Mark consents past their expiry date as expired (the daily job)."""
    require(policies.can_expire_lapsed_consents(actor), "Only the hub's own jobs expire consents.")
    lapsed = db.session.scalars(
        sa.select(ConsentRecord).where(ConsentRecord.status == ConsentStatus.ACTIVE, ConsentRecord.expires_on < today())
    ).all()
    for record in lapsed:
        record.status, record.expired_at = ConsentStatus.EXPIRED, utcnow()
        audit.record(actor, "consent.expired", record, service_user_id=record.service_user_id)
        signals.basis_ended.send(BasisRef(BasisKind.CONSENT, record.id), reason="expired", actor=actor)
    db.session.flush()
    return len(lapsed)


def end_unreviewed_decisions(actor: Actor) -> int:
    """End safeguarding decisions whose review date has passed without a new decision
    (the daily job): sharing on them stops, and what they covered goes on hold."""
    require(policies.can_end_unreviewed_decisions(actor), "Only the hub's own jobs end decisions.")
    lapsed = db.session.scalars(
        sa.select(SafeguardingDecision).where(
            SafeguardingDecision.status.in_([SafeguardingStatus.APPROVED, SafeguardingStatus.EMERGENCY]),
            SafeguardingDecision.review_on < today(),
        )
    ).all()
    for decision in lapsed:
        _stop(actor, decision, SafeguardingStatus.ENDED, "The review date passed without a review.", "lapsed")
    db.session.flush()
    return len(lapsed)


def lapse_unapproved_emergencies(actor: Actor) -> int:
    """End emergency shares whose second approval fell due without coming (the daily job).

    They stopped counting as a basis at the end of their due day already
    (:meth:`SafeguardingDecision.valid_at`); this records it, puts what they
    covered on hold exactly as a withdrawal does, and tells the managers.
    """
    require(policies.can_lapse_unapproved_emergencies(actor), "Only the hub's own jobs end decisions.")
    lapsed = db.session.scalars(
        sa.select(SafeguardingDecision).where(
            SafeguardingDecision.status == SafeguardingStatus.EMERGENCY,
            SafeguardingDecision.approved_at.is_(None),
            SafeguardingDecision.approval_due_on < today(),
        )
    ).all()
    for decision in lapsed:
        reason = "No second manager approved it by the day it was due."
        _stop(actor, decision, SafeguardingStatus.ENDED, reason, "emergency_lapsed", signal="lapsed")
        for manager in _approvers():
            notify(
                user=manager,
                kind="safeguarding.emergency_lapsed",
                subject=f"Emergency share {decision.id} has stopped: it was not approved in time",
                body=(
                    f"The emergency decision {decision.id} to share without consent was not approved by a second "
                    f"manager by {decision.approval_due_on:%-d %B %Y}, so it no longer allows sharing and what it "
                    "covered is on hold. Record a new decision if sharing is still necessary."
                ),
                link=f"/safeguarding/{decision.id}",
                dedupe_key=f"safeguarding-lapsed:{decision.id}:{manager.id}",
            )
    db.session.flush()
    return len(lapsed)


REMINDER_BATCH = 1000


def remind_expiring_consents(actor: Actor, limit: int = REMINDER_BATCH) -> int:
    """Tell the key worker, once, a set number of days before a consent expires (managers, if she
    has no active key worker). One query finds a batch, one statement queues the messages and one
    marks the consents reminded; the job calls it until it returns 0."""
    require(policies.can_remind_expiring_consents(actor), "Only the hub's own jobs send these reminders.")
    horizon = today() + dt.timedelta(days=settings().consent_reminder_days)
    due = db.session.scalars(
        sa.select(ConsentRecord)
        .where(
            ConsentRecord.status == ConsentStatus.ACTIVE,
            ConsentRecord.expires_on <= horizon,
            ConsentRecord.expires_on >= today(),
            ConsentRecord.expiry_reminder_sent_at.is_(None),
        )
        .options(
            sa.orm.joinedload(ConsentRecord.service_user).joinedload(ServiceUser.key_worker),
            sa.orm.joinedload(ConsentRecord.agency),
        )
        .order_by(ConsentRecord.expires_on, ConsentRecord.id)
        .limit(limit)
    ).all()
    if not due:
        return 0
    managers = active_managers()
    messages = []
    for record in due:
        person = record.service_user
        recipients = [person.key_worker] if person.key_worker and person.key_worker.is_active else managers
        messages += [
            Message(
                "consent.expiring",
                f"Consent for {person.reference} expires on {record.expires_on:%-d %B %Y}",
                f"The consent recorded for {person.reference} to share with {record.agency.name} expires on "
                f"{record.expires_on:%-d %B %Y}. Ask her whether she wants to renew it.",
                f"/service-users/{person.id}",
                f"consent-expiring:{record.id}:{user.id}",
                user=user,
            )
            for user in recipients
        ]
    notify_many(messages)
    db.session.execute(
        sa.update(ConsentRecord)
        .where(ConsentRecord.id.in_([record.id for record in due]))
        .values(expiry_reminder_sent_at=utcnow())
        .execution_options(synchronize_session="evaluate")
    )
    return len(due)


# Safeguarding --------------------------------------------------------------


def decide_safeguarding(actor: Actor, person: ServiceUser, data: dict[str, Any]) -> SafeguardingDecision:
    """Record a decision to share without consent. It shares nothing until a
    second manager approves, unless it is an emergency."""
    require(policies.can_decide_safeguarding(actor), "Only a manager can decide to share without consent.")
    if person.erased_at is not None:
        raise Conflict("Her record was erased.")
    agency = _partner_agency(data["agency_id"])
    if not data["she_was_told"] and not data.get("not_told_reason"):
        raise Invalid.on_field("not_told_reason", "Say why she was not told")
    if data["review_on"] <= today():
        raise Invalid.on_field("review_on", "The review date must be in the future")
    latest = today() + relativedelta(months=settings().safeguarding_review_months)
    if data["review_on"] > latest:
        raise Invalid.on_field(
            "review_on",
            f"Review a decision to share without consent within {settings().safeguarding_review_months} months, "
            f"by {latest:%-d %B %Y} at the latest",
        )
    emergency = bool(data.get("emergency"))
    if emergency and (earlier := _unapproved_emergency(person.id, agency.id)) is not None:
        raise Invalid.on_field(
            "emergency",
            f"An emergency share with {agency.name} (decision {earlier.id}) was not approved by a second manager. "
            "Record this as a decision for a second manager to approve before anything is shared.",
        )
    decision = SafeguardingDecision(
        service_user_id=person.id,
        agency_id=agency.id,
        purposes=sorted(set(data["purposes"])),
        data_categories=sorted(set(data["data_categories"])),
        art6_basis=data["art6_basis"],
        art9_condition=data["art9_condition"],
        para18_reason=data["para18_reason"],
        justification=data["justification"],
        she_was_told=data["she_was_told"],
        not_told_reason=data.get("not_told_reason", ""),
        review_on=data["review_on"],
        emergency=emergency,
        approval_due_on=add_working_days(today(), settings().emergency_approval_days) if emergency else None,
        decided_by_id=actor.actor_id,
        status=SafeguardingStatus.EMERGENCY if emergency else SafeguardingStatus.PENDING,
    )
    db.session.add(decision)
    db.session.flush()
    audit.record(
        actor,
        "safeguarding.decided",
        decision,
        service_user_id=person.id,
        agency_id=agency.id,
        emergency=emergency,
        data_categories=decision.data_categories,
    )
    for manager in _approvers(but=actor.actor_id):
        notify(
            user=manager,
            kind="safeguarding.approval_needed",
            subject=f"Approval needed: sharing without consent for {person.reference}",
            body=(
                f"A manager decided to share information about {person.reference} with {agency.name} "
                "without her consent. A second manager must review it"
                + (
                    f" by {decision.approval_due_on:%-d %B %Y}: it shares at once, as an emergency, "
                    "and stops sharing if nobody approves it by then."
                    if emergency
                    else " before anything is shared."
                )
            ),
            link=f"/safeguarding/{decision.id}",
            dedupe_key=f"safeguarding-approve:{decision.id}:{manager.id}",
        )
    return decision


def _review_refused(actor: Actor, decision: SafeguardingDecision) -> HubError:
    """403 for someone who may not review it at all; else 409: it is not awaiting review (any more)."""
    if not policies.may_review_safeguarding(actor, decision):
        return Denied("A second manager, not the one who decided, must review it.")
    if decision.awaiting_approval and decision.last_day < today() and decision.status is SafeguardingStatus.EMERGENCY:
        return Conflict("Its approval was due by the end of its due day: it has stopped sharing. Decide again.")
    return Conflict(f"This decision is {decision.status.value}.")


def approve_safeguarding(actor: Actor, decision: SafeguardingDecision) -> SafeguardingDecision:
    if not policies.can_approve_safeguarding(actor, decision):
        raise _review_refused(actor, decision)
    decision.status, decision.approved_by_id, decision.approved_at = (
        SafeguardingStatus.APPROVED,
        actor.actor_id,
        utcnow(),
    )
    db.session.flush()
    audit.record(actor, "safeguarding.approved", decision, service_user_id=decision.service_user_id)
    _reviewed(decision)
    return decision


def reject_safeguarding(actor: Actor, decision: SafeguardingDecision, reason: str) -> SafeguardingDecision:
    """Refuse a decision; an emergency share already made stops at once."""
    if not policies.can_reject_safeguarding(actor, decision):
        raise _review_refused(actor, decision)
    was_sharing = decision.status is SafeguardingStatus.EMERGENCY
    _stop(actor, decision, SafeguardingStatus.REJECTED, reason, "rejected", signal="rejected" if was_sharing else None)
    db.session.flush()
    _reviewed(decision)
    return decision


def _reviewed(decision: SafeguardingDecision) -> None:
    """A second manager has reviewed it: the messages asking every manager to are read (what
    tells the decider the outcome stays unread)."""
    notifications.mark_read_about(
        None, f"/safeguarding/{decision.id}", kinds=("safeguarding.approval_needed", "safeguarding.approval_due")
    )


def end_safeguarding(actor: Actor, decision: SafeguardingDecision, reason: str) -> SafeguardingDecision:
    if not policies.can_end_safeguarding(actor, decision):
        if not policies.can_decide_safeguarding(actor):
            raise Denied("Only a manager can end a safeguarding decision.")
        raise Conflict(f"This decision is {decision.status.value}.")
    _stop(actor, decision, SafeguardingStatus.ENDED, reason, "ended")
    db.session.flush()
    return decision


def remind_unapproved_emergencies(actor: Actor) -> int:
    """Tell the managers, once a day, about emergency shares whose second approval falls
    due today or on the next working day: they stop sharing after that day."""
    require(policies.can_remind_unapproved_emergencies(actor), "Only the hub's own jobs send these reminders.")
    due = db.session.scalars(
        sa.select(SafeguardingDecision).where(
            SafeguardingDecision.status == SafeguardingStatus.EMERGENCY,
            SafeguardingDecision.approved_at.is_(None),
            SafeguardingDecision.approval_due_on >= today(),
            SafeguardingDecision.approval_due_on <= add_working_days(today(), 1),
        )
    ).all()
    for decision in due:
        for manager in _approvers(but=decision.decided_by_id):
            notify(
                user=manager,
                kind="safeguarding.approval_due",
                subject=f"Approve or reject emergency share {decision.id} by {decision.approval_due_on:%-d %B %Y}",
                body=(
                    "An emergency share without consent is waiting for a second manager. Unless it is approved by "
                    f"the end of {decision.approval_due_on:%-d %B %Y}, it stops sharing and what it covered goes "
                    "on hold. Review it now."
                ),
                link=f"/safeguarding/{decision.id}",
                dedupe_key=f"safeguarding-due:{decision.id}:{manager.id}:{today().isoformat()}",
            )
    return len(due)


def make_subject_access_pack(actor: Actor, person: ServiceUser) -> SubjectAccessPack:
    """Everything the hub holds about her and everyone it told, from every package, as given to her now:
    kept as given (the page and the file are made from it), and the giving recorded (audit, no details)."""
    require(policies.can_make_subject_access_pack(actor, person), "Only a manager or her key worker makes it.")
    from hub import subject_access

    sections = subject_access.gather(person.id)
    now = utcnow()
    pack = SubjectAccessPack(service_user_id=person.id, made_by_id=actor.actor_id if actor.actor_kind == "user"
                             else None, made_at=now, contents={
        "made_at": now.isoformat(timespec="seconds"), "reference": person.reference,
        "controller": "the charity running this Partnership Hub",
        "sections": [s.as_dict() for s in sections],
    })  # fmt: skip
    db.session.add(pack)
    db.session.flush()
    audit.record(actor, "subject_access.pack_made", pack, service_user_id=person.id,
                 records={s.key: len(s.rows) for s in sections})  # fmt: skip
    return pack


CORRECTABLE = ("given_name", "family_name", "date_of_birth")


def correct_service_user(actor: Actor, person: ServiceUser, data: dict[str, Any]) -> list[str]:
    """Correct her name or date of birth; every agency the hub gave or showed who she is is told, without
    the details (UK GDPR Art. 19), so it can update its own records. Returns the fields changed."""
    require(policies.can_correct_service_user(actor, person), "Only our own staff correct her details.")
    if data.get("date_of_birth") and data["date_of_birth"] > today():
        raise Invalid.on_field("date_of_birth", "Date of birth must be in the past")
    changed = [name for name in CORRECTABLE if name in data and data[name] != getattr(person, name)]
    if not changed:
        return []
    for name in changed:
        setattr(person, name, data[name])
    told = _told_who_she_is(person.id)
    audit.record(actor, "service_user.corrected", person, fields=changed, agencies_told=sorted(told))
    from agencies import messaging

    for agency_id in sorted(told):
        messaging.tell_agency_leads(
            agency_id, kind="service_user.corrected", subject=f"A correction to details we shared ({person.reference})",
            body=f"We have corrected the details (name or date of birth) of a woman whose details we shared with "
            f"you; her hub reference is {person.reference}. Please update any record you keep of her from what the "
            "hub now shows you, where you may still see it.",
        )  # fmt: skip
    db.session.flush()
    return changed


def _told_who_she_is(service_user_id: int) -> set[int]:
    """The agencies the hub ever gave or showed her identity."""
    return set(_shared_on_days(service_user_id))


RETENTION_BATCH = 500


def erase_expired_records(actor: Actor, on: dt.date | None = None) -> int:
    """The daily retention job: erase, in batches, every woman whose last contact was HUB_RETENTION_YEARS
    ago and who has no legal hold. Logged in the audit trail as a count, never who."""
    require(policies.can_erase_expired_records(actor), "Only the hub itself erases on retention.")
    from consent import retention

    last_day = retention.cutoff(on or today(), settings().retention_years)
    erased = 0
    while batch := retention.due(last_day, limit=RETENTION_BATCH):
        retention.erase([i for i, _, _ in batch], utcnow())
        erased += len(batch)
        db.session.flush()
    if erased:
        audit.record(actor, "retention.erased", object_type="service_user", women=erased,
                     last_contact_on_or_before=last_day.isoformat())  # fmt: skip
    return erased


def place_legal_hold(actor: Actor, person: ServiceUser, reason: str) -> LegalHold:
    require(policies.can_place_legal_hold(actor, person), "Only a manager places a legal hold.")
    reason = reason.strip()
    if not reason:
        raise Invalid.on_field("reason", "Say why her record must be kept")
    hold = LegalHold(service_user_id=person.id, reason=reason[:500],
                     placed_by_id=actor.actor_id if actor.actor_kind == "user" else None)  # fmt: skip
    db.session.add(hold)
    db.session.flush()
    audit.record(actor, "legal_hold.placed", hold, service_user_id=person.id)
    return hold


def lift_legal_hold(actor: Actor, hold: LegalHold) -> LegalHold:
    require(policies.can_lift_legal_hold(actor, hold), "Only a manager lifts a standing legal hold.")
    hold.lifted_at = utcnow()
    audit.record(actor, "legal_hold.lifted", hold, service_user_id=hold.service_user_id)
    db.session.flush()
    return hold


def _tell_recipients(person: ServiceUser, subject: str, body: str) -> int:
    from agencies import messaging

    told = sorted(_told_who_she_is(person.id))
    for agency_id in told:
        messaging.tell_agency_leads(agency_id, kind="service_user.on_request", subject=subject, body=body)
    return len(told)


def _shared_on_days(service_user_id: int) -> dict[int, list[dt.date]]:
    """The London days the hub gave or showed her identity to each agency."""
    from hub.db import london_date

    days: dict[int, set[dt.date]] = {}
    for agency_id, categories, at in db.session.execute(
        sa.select(Disclosure.agency_id, Disclosure.data_categories, Disclosure.occurred_at)
        .where(Disclosure.service_user_id == service_user_id)
    ):  # fmt: skip
        if "identity" in (categories or []):
            days.setdefault(agency_id, set()).add(london_date(at))
    return {a: sorted(d) for a, d in days.items()}


def _stop_sharing(actor: Actor, person: ServiceUser, reason: str) -> None:
    """Every active consent withdrawn and every standing decision ended: open referrals, plans and forum
    cases are held at once, as for any withdrawal."""
    active = sa.and_(ConsentRecord.service_user_id == person.id, ConsentRecord.status == ConsentStatus.ACTIVE)
    for record in db.session.scalars(sa.select(ConsentRecord).where(active)).all():
        withdraw_consent(actor, record, reason)
    for decision in db.session.scalars(sa.select(SafeguardingDecision).where(
            SafeguardingDecision.service_user_id == person.id)).all():  # fmt: skip
        if policies.can_end_safeguarding(actor, decision):
            _stop(actor, decision, SafeguardingStatus.ENDED, reason, "ended")


def restrict_on_request(actor: Actor, person: ServiceUser, reason: str) -> int:
    """Restriction at her request (Art. 18): her record is kept, no partner sees it from now and nothing is
    sent; every agency that received who she is is told, without details. Returns how many were told."""
    require(policies.can_restrict_on_request(actor, person), "Only a manager restricts her record.")
    reason = reason.strip()
    if not reason:
        raise Invalid.on_field("reason", "Say why (her request, and what it covers)")
    if person.restricted_at is not None:
        raise Conflict("Her record is already restricted.")
    _stop_sharing(actor, person, f"Restricted at her request: {reason}")
    person.restricted_at = utcnow()
    told = _tell_recipients(person, f"Stop using details we shared ({person.reference})",
                            f"A woman whose details we shared with you (hub reference {person.reference}) has asked "
                            "us to restrict them. Please stop using them except to store them.")  # fmt: skip
    audit.record(actor, "service_user.restricted", person, reason=reason[:500], agencies_told=told)
    db.session.flush()
    return told


def erase_on_request(actor: Actor, person: ServiceUser, reason: str) -> int:
    """Erasure at her request (Art. 17): sharing stops, her personal data is erased everywhere (as on
    retention), every agency that received who she is is told to erase theirs, without details. A legal hold
    refuses it (restrict instead). The reason is kept in the audit trail. Returns how many were told."""
    require(policies.can_erase_on_request(actor, person), "Only a manager erases her record.")
    reason = reason.strip()
    if not reason:
        raise Invalid.on_field("reason", "Say why (her request, and what the law lets us keep)")
    held = db.session.scalar(sa.select(sa.func.count()).select_from(LegalHold).where(
        LegalHold.service_user_id == person.id, LegalHold.lifted_at.is_(None)))  # fmt: skip
    if held:
        raise Conflict("A legal hold keeps her record: restrict it instead, or lift the hold first.")
    from consent import retention

    _stop_sharing(actor, person, "Erased at her request")
    shared = _shared_on_days(person.id)
    db.session.flush()
    retention.erase([person.id], utcnow())
    from agencies import messaging

    for agency_id, days in sorted(shared.items()):  # after erasure: the notice names days, never her reference
        messaging.tell_agency_leads(
            agency_id, kind="service_user.on_request", subject="Erase details we shared with you",
            body="A woman whose details we shared with you on " + ", ".join(d.strftime("%-d %B %Y") for d in days[:10])
            + " has asked us to erase them. Please erase what you hold of them, unless the law requires you to "
            "keep it.",
        )  # fmt: skip
    told = len(shared)
    audit.record(actor, "service_user.erased_on_request", object_type="service_user", object_id=person.id,
                 reason=reason[:500], agencies_told=told)  # fmt: skip
    db.session.expire(person)
    return told
