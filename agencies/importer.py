"""Bulk import of agencies and contacts from CSV.

One row per contact (or per agency, with the contact columns left blank).
Rows with the same ``agency_slug`` belong to one agency; a slug already in
the hub adds contacts to that agency without changing it. Every row is
checked before anything is written, and the whole file is imported in one
transaction, so a file with errors changes nothing unless the caller asks
to skip the bad rows.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from agencies import queries, schemas, services
from agencies.models import Agency, AgencyKind, Contact
from hub.db import db
from hub.permissions import Actor, HubError

AGENCY_COLUMNS = {
    "agency_name": "name",
    "agency_kind": "kind",
    "services": "services",
    "how_to_refer": "how_to_refer",
    "address": "address",
    "agency_phone": "phone",
    "agency_email": "email",
    "website": "website",
}
CONTACT_COLUMNS = {
    "contact_name": "name",
    "contact_role": "role",
    "contact_email": "email",
    "contact_phone": "phone",
    "preferred_channel": "preferred_channel",
    "knowledge": "knowledge",
}
FLAG_COLUMNS = ("key_contact", "deputy")
COLUMNS = ("agency_slug", *AGENCY_COLUMNS, *CONTACT_COLUMNS, *FLAG_COLUMNS)
REQUIRED_COLUMNS = ("agency_slug",)
MAX_ROWS = 20_000
MAX_FILE_BYTES = 10 * 1024 * 1024


class FileProblem(Exception):
    """The file as a whole cannot be read."""


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str


@dataclass
class Plan:
    new_agencies: dict[str, dict[str, Any]] = field(default_factory=dict)
    good: list[tuple[int, str, dict[str, Any] | None, set[str]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    agencies: int
    contacts: int


def read(path: Path) -> list[tuple[int, dict[str, str]]]:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise FileProblem(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            if not any(header):
                raise FileProblem(
                    "the file is empty: its first line must be the header row, naming " + ", ".join(COLUMNS)
                )
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            unknown = [h for h in header if h not in COLUMNS]
            repeated = sorted({h for h in header if header.count(h) > 1})
            if missing or unknown or repeated:
                raise FileProblem(
                    f"the header row must name {', '.join(REQUIRED_COLUMNS)}, and may name only these columns: "
                    + ", ".join(COLUMNS)
                    + (f" (missing: {', '.join(missing)})" if missing else "")
                    + (f" (not known: {', '.join(repr(h) for h in unknown)})" if unknown else "")
                    + (f" (named more than once: {', '.join(repeated)})" if repeated else "")
                )
            reader.fieldnames = header
            rows = []
            for row in reader:
                if len(rows) >= MAX_ROWS:
                    raise FileProblem(f"the file has more than {MAX_ROWS} rows")
                if None in row:
                    rows.append((reader.line_num, {"__extra__": "yes"}))
                    continue
                rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
            if not rows:
                raise FileProblem("the file has a header row but no rows to import")
            return rows
    except UnicodeDecodeError as exc:
        raise FileProblem('the file is not UTF-8 text: save it from your spreadsheet as "CSV UTF-8"') from exc
    except csv.Error as exc:
        raise FileProblem(f"the file is not valid CSV: {exc}") from exc


def _messages(error: ma.ValidationError, names: dict[str, str]) -> str:
    reverse = {v: k for k, v in names.items()}
    messages = error.messages if isinstance(error.messages, dict) else {"row": error.messages}
    return "; ".join(f"{reverse.get(k, k)}: {' '.join(map(str, v))}" for k, v in messages.items())


def _flag(value: str) -> bool | None:
    lowered = value.lower()
    if lowered in {"", "no", "n", "false", "0"}:
        return False
    if lowered in {"yes", "y", "true", "1"}:
        return True
    return None


def check(rows: list[tuple[int, dict[str, str]]], progress: Callable[[int], Any] = lambda _n: None) -> Plan:
    """Validate every row; nothing is written."""
    plan = Plan()
    seen_contacts: set[tuple[str, str, str]] = set()
    flags_taken: set[tuple[str, str]] = set()
    existing: dict[str, Agency | None] = {}
    known_contacts: dict[str, set[tuple[str, str]]] = {}

    def in_hub(slug: str) -> Agency | None:
        if slug not in existing:
            existing[slug] = queries.get_agency_by_slug(slug)
        return existing[slug]

    def known_at(agency: Agency) -> set[tuple[str, str]]:
        if agency.slug not in known_contacts:
            found = db.session.execute(sa.select(Contact.name, Contact.email).where(Contact.agency_id == agency.id))
            known_contacts[agency.slug] = {(name.lower(), (email or "").lower()) for name, email in found}
        return known_contacts[agency.slug]

    for line, row in rows:
        progress(1)
        if "__extra__" in row:
            plan.problems.append(Problem(line, "the row has more cells than the header"))
            continue
        slug = row.get("agency_slug", "")
        try:
            schemas.AgencyIn().load({"slug": slug, "name": "x" * 2, "kind": "other"})
        except ma.ValidationError:
            plan.problems.append(Problem(line, "agency_slug: use lower-case letters, numbers and single hyphens"))
            continue
        agency = in_hub(slug)
        agency_values = {AGENCY_COLUMNS[k]: v for k, v in row.items() if k in AGENCY_COLUMNS and v}
        if agency is None and slug not in plan.new_agencies:
            try:
                new_agency = schemas.AgencyIn().load({"slug": slug, **agency_values})
            except ma.ValidationError as exc:
                plan.problems.append(Problem(line, _messages(exc, AGENCY_COLUMNS)))
                continue
            if new_agency["kind"] is AgencyKind.HOST:
                plan.problems.append(
                    Problem(line, "agency_kind: the host organisation is set up with 'flask hub init', not imported")
                )
                continue
            plan.new_agencies[slug] = new_agency
        contact_values = {CONTACT_COLUMNS[k]: v for k, v in row.items() if k in CONTACT_COLUMNS and v}
        flags = set()
        for column in FLAG_COLUMNS:
            value = _flag(row.get(column, ""))
            if value is None:
                plan.problems.append(Problem(line, f"{column}: write yes or no"))
                break
            if value:
                flags.add(column)
        else:
            if not contact_values:
                if flags:
                    plan.problems.append(Problem(line, "key_contact/deputy need a contact on the same row"))
                else:
                    plan.good.append((line, slug, None, set()))
                continue
            if len(flags) > 1:
                plan.problems.append(
                    Problem(line, "key_contact, deputy: one person cannot be both the key contact and the deputy")
                )
                continue
            if flags and agency is not None:
                column = next(iter(flags))
                plan.problems.append(
                    Problem(
                        line,
                        f"{column}: {slug} is already in the hub, and an import does not "
                        f"change it; choose its {column.replace('_', ' ')} in the hub",
                    )
                )
                continue
            try:
                contact = schemas.ContactIn().load(contact_values)
            except ma.ValidationError as exc:
                plan.problems.append(Problem(line, _messages(exc, CONTACT_COLUMNS)))
                continue
            person = (contact["name"].lower(), (contact.get("email") or "").lower())
            if agency is not None and person in known_at(agency):
                plan.problems.append(Problem(line, "this contact is already in the hub at this agency"))
                continue
            identity = (slug, *person)
            if identity in seen_contacts:
                plan.problems.append(Problem(line, "the same contact appears twice for this agency"))
                continue
            clash = [f for f in flags if (slug, f) in flags_taken]
            if clash:
                plan.problems.append(Problem(line, f"{clash[0]}: another row already names this agency's {clash[0]}"))
                continue
            seen_contacts.add(identity)
            flags_taken.update((slug, f) for f in flags)
            plan.good.append((line, slug, contact, flags))
    # An agency whose only rows were bad is not created.
    used = {slug for _line, slug, _c, _f in plan.good}
    plan.new_agencies = {s: v for s, v in plan.new_agencies.items() if s in used}
    return plan


def apply(actor: Actor, plan: Plan, progress: Callable[[int], Any] = lambda _n: None) -> Result:
    """Write the good rows (in the caller's transaction)."""
    agencies: dict[str, Agency] = {}
    for slug, data in plan.new_agencies.items():
        agencies[slug] = services.create_agency(actor, data)
    contacts = 0
    for _line, slug, contact, flags in plan.good:
        progress(1)
        agency = agencies.get(slug) or queries.get_agency_by_slug(slug)
        if agency is None:
            raise HubError(f"agency {slug} vanished during import")
        agencies[slug] = agency
        if contact is None:
            continue
        created = services.add_contact(actor, agency, contact)
        contacts += 1
        changes = {}
        if "key_contact" in flags:
            changes["key_contact_id"] = created.id
        if "deputy" in flags:
            changes["deputy_contact_id"] = created.id
        if changes:
            services.update_agency(actor, agency, changes)
    return Result(agencies=len(plan.new_agencies), contacts=contacts)
