"""What consent holds about her, for her subject-access pack (:mod:`hub.subject_access`): her record,
every consent with the words read to her, every safeguarding decision about sharing without consent,
and every disclosure (who was given or shown what, when, by whom, on what basis). Five statements."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from consent import information
from consent.models import ConsentRecord, DataCategory, Disclosure, SafeguardingDecision, ServiceUser
from consent.queries import disclosure_actors
from hub.db import db
from hub.subject_access import Section, when


def _categories(values: list[str]) -> str:
    return ", ".join(DataCategory(v).label if v in DataCategory._value2member_map_ else v for v in values)


def _words(record: ConsentRecord) -> str:
    if record.information_version == information.INFORMATION_VERSION:
        return information.INFORMATION.format(agency=record.agency.name, expires=f"{record.expires_on:%-d %B %Y}")
    return f"(version {record.information_version}: the hub no longer holds its text)"


def consent_sections(service_user_id: int) -> list[Section]:
    person = db.session.get_one(ServiceUser, service_user_id)
    record = Section("record", "Your record", "What we hold to know who you are.", ("field", "value"), [
        ("Reference", person.reference), ("Given name", person.given_name), ("Family name", person.family_name),
        ("Date of birth", when(person.date_of_birth)), ("Added", when(person.created_at)),
        ("Key worker", person.key_worker.name if person.key_worker else ""),
    ])  # fmt: skip
    consents = db.session.scalars(
        sa.select(ConsentRecord).where(ConsentRecord.service_user_id == service_user_id)
        .options(joinedload(ConsentRecord.agency)).order_by(ConsentRecord.given_on, ConsentRecord.id)
    ).all()  # fmt: skip
    consent = Section("consents", "Your consents", "Each time you agreed to share, with whom, what, for what, and "
                      "the words read to you.", ("agency", "purposes", "information", "given on", "ends on",
                      "how", "status", "withdrawn", "words read to you (version)", "words read to you"), [
        (c.agency.name, ", ".join(c.purposes), _categories(c.data_categories), when(c.given_on), when(c.expires_on),
         c.method.value, c.status.value, when(c.withdrawn_at), c.information_version, _words(c)) for c in consents
    ])  # fmt: skip
    decisions = db.session.scalars(
        sa.select(SafeguardingDecision).where(SafeguardingDecision.service_user_id == service_user_id)
        .options(joinedload(SafeguardingDecision.agency)).order_by(SafeguardingDecision.decided_at)
    ).all()  # fmt: skip
    decided = Section("safeguarding", "Decisions to share without your consent", "When we decided the law allowed "
                      "or required sharing without your consent, why, and whether you were told.",
                      ("agency", "purposes", "information", "decided", "lawful basis", "condition", "reason",
                       "why", "you were told", "status", "ended"), [
        (d.agency.name, ", ".join(d.purposes), _categories(d.data_categories), when(d.decided_at), d.art6_basis.value,
         d.art9_condition.value, d.para18_reason.value, d.justification, "yes" if d.she_was_told else
         f"no: {d.not_told_reason}", d.status.value, when(d.ended_at)) for d in decisions
    ])  # fmt: skip
    shown = db.session.scalars(
        sa.select(Disclosure).where(Disclosure.service_user_id == service_user_id)
        .options(joinedload(Disclosure.agency)).order_by(Disclosure.occurred_at, Disclosure.id)
    ).all()  # fmt: skip
    names = disclosure_actors(list(shown))
    told = Section("disclosures", "Who was told about you", "Every time your information was sent to an agency or "
                   "seen by someone outside the charity: when, who, what, why and on what basis.",
                   ("when", "agency", "sent or seen", "information", "purpose", "basis", "by", "as part of"), [
        (when(d.occurred_at), d.agency.name, d.kind.value, _categories(d.data_categories), d.purpose,
         f"your consent (given {when(next((c.given_on for c in consents if c.id == d.consent_id), None))})"
         if d.consent_id else "a decision to share without consent", names.get((d.actor_kind, d.actor_id or 0),
         "the hub" if d.actor_kind == "system" else d.actor_kind), f"{d.context} {d.context_id or ''}".strip())
        for d in shown
    ])  # fmt: skip
    return [record, consent, decided, told]
