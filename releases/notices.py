"""Telling the agencies in her plan the release date, and the reads that needs.

- :func:`plan_agency_ids`: the partner agencies in her plan (items not marked
  not needed, and her probation practitioner's); never the prison, which
  gave us the date.
- :func:`tell_agencies`: each such agency whose consent (or a safeguarding
  decision) covers ``release_planning`` and ``criminal_justice`` now gets one
  notice, one logged disclosure and one message carrying the custody
  reference and the dates only; the others stay gaps on "who knows".
- :func:`release_day_of`: the day-of-release rule for a custody's stored facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa

from agencies import messaging
from agencies import queries as directory
from agencies.models import Agency, Contact
from consent import sharing
from consent.models import DataCategory, DisclosureKind, Purpose
from hub import audit
from hub.db import db
from hub.permissions import Actor
from releases import dates
from releases.models import CustodyEpisode, CustodyStatus, ItemStatus, PlanItem, ReleaseNotice

PURPOSE = Purpose.RELEASE_PLANNING.value
# What telling an agency the release date shares: her sentence and release (criminal justice).
NOTICE_CATEGORIES = frozenset({DataCategory.CRIMINAL_JUSTICE.value})


def long_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def release_day_of(custody: CustodyEpisode) -> dates.ReleaseDay:
    return dates.release_day(
        custody.nominal_release_on,
        custody_type=custody.custody_type,
        release_type=custody.release_type,
        sentence_kind=custody.sentence_kind,
        sentenced_on=custody.sentenced_on,
        term_days=custody.term_days,
    )


# Who is in her plan --------------------------------------------------------------


def plan_agency_ids(custody: CustodyEpisode) -> list[int]:
    """The partner agencies in her plan: those with an item (not marked not needed), and her probation
    practitioner's. The prison gave us the date, so it is not among those told."""
    ids = db.session.scalars(
        sa.select(PlanItem.agency_id)
        .where(PlanItem.custody_id == custody.id, PlanItem.agency_id.is_not(None),
               PlanItem.status != ItemStatus.NOT_NEEDED)
        .distinct()
    ).all()  # fmt: skip
    found = {i for i in ids if i is not None}
    if custody.probation_contact_id is not None:
        contact = db.session.get(Contact, custody.probation_contact_id)
        if contact is not None:
            found.add(contact.agency_id)
    found.discard(custody.prison_agency_id)
    return sorted(found)


def named_contact(custody: CustodyEpisode, agency_id: int) -> Contact | None:
    """Whom at an agency the plan names (its items' contact, her probation practitioner), after any leaver."""
    candidates = db.session.scalars(
        sa.select(Contact)
        .join(PlanItem, PlanItem.contact_id == Contact.id)
        .where(PlanItem.custody_id == custody.id, PlanItem.agency_id == agency_id)
        .order_by(PlanItem.id)
    ).all()
    probation = custody.probation_contact
    if probation is not None and probation.agency_id == agency_id:
        candidates = [probation, *candidates]
    for contact in candidates:
        holder = contact if contact.is_active else directory.current_holder(contact)
        if holder is not None:
            return holder
    agency = db.session.get(Agency, agency_id)
    key = db.session.get(Contact, agency.key_contact_id) if agency and agency.key_contact_id else None
    return key if key is not None and key.is_active else None


def _notice_text(custody: CustodyEpisode) -> tuple[str, str]:
    subject = f"Release {custody.reference}: expected {long_date(custody.expected_on)}"
    body = f"The release {custody.reference} is expected on {long_date(custody.expected_on)}."
    if custody.earliest_on is not None:
        body += f" It could be as early as {long_date(custody.earliest_on)}."
    if custody.statutory_on != custody.expected_on:
        body += f" It will be no later than {long_date(custody.statutory_on)}."
    return subject, body + " Please plan for the earliest day."


def tell_agencies(
    actor: Actor, custody: CustodyEpisode, *, reason: str, only: Iterable[int] | None = None
) -> list[int]:
    """Tell each agency in her plan (or ``only`` these) the dates, where her consent covers
    release planning with it: one notice, one logged disclosure and one message each.
    Returns the agencies told; those not covered stay gaps on "who knows"."""
    if custody.status is not CustodyStatus.IN_CUSTODY:
        return []
    ids = plan_agency_ids(custody) if only is None else sorted(set(only) - {custody.prison_agency_id})
    if not ids:
        return []
    bases = sharing.find_bases(custody.service_user_id, ids, PURPOSE, set(NOTICE_CATEGORIES))
    subject, body = _notice_text(custody)
    told: list[int] = []
    for agency_id in ids:
        basis = bases[agency_id]
        if isinstance(basis, sharing.Missing):
            continue
        notice = ReleaseNotice(
            custody_id=custody.id, agency_id=agency_id, expected_on=custody.expected_on,
            earliest_on=custody.earliest_on,
        )  # fmt: skip
        notice.rest_on(basis)
        db.session.add(notice)
        sharing.disclose(
            actor, basis, service_user_id=custody.service_user_id, agency_id=agency_id, kind=DisclosureKind.SENT,
            categories=NOTICE_CATEGORIES, purpose=PURPOSE, context="release_notice", context_id=custody.id,
        )  # fmt: skip
        contact = named_contact(custody, agency_id)
        message = {"kind": "release.date", "subject": subject, "body": body, "link": f"/releases/{custody.id}"}
        if contact is None or not messaging.tell_contact(contact, **message):
            messaging.tell_agency_leads(agency_id, **message)
        told.append(agency_id)
    db.session.flush()
    if told:
        audit.record(actor, "custody.agencies_told", custody, reason=reason, agency_ids=told,
                     expected_on=custody.expected_on.isoformat())  # fmt: skip
    return told
