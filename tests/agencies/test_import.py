"""Operator commands: ``flask agencies import`` and ``flask hub init | create-user
| create-client | demo``.

Each command runs through Flask's CLI runner inside the test's transaction,
so what it commits is rolled back afterwards. The tests look at what an
operator sees (exit code, messages on stdout and stderr) and at what ends up
in the hub (rows, audit entries).
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from agencies.importer import COLUMNS
from agencies.models import Agency, AgencyKind, Channel, Contact, ContactStatus
from hub.audit import AuditEvent, verify_chain
from hub.auth import passwords
from hub.auth.models import User
from hub.db import db
from hub.oauth.models import OAuthClient
from hub.permissions import Invalid, Role
from tests.helpers import host_agency, make_agency, make_contact, make_user, run_command

run = run_command


def count(model: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def totals() -> dict[str, int]:
    return {"agencies": count(Agency), "contacts": count(Contact), "audit": count(AuditEvent)}


def agency(slug: str) -> Agency | None:
    return db.session.scalar(sa.select(Agency).where(Agency.slug == slug))


def contacts_at(slug: str) -> dict[str, Contact]:
    found = db.session.scalars(
        sa.select(Contact).join(Agency, Contact.agency_id == Agency.id).where(Agency.slug == slug)
    )
    return {c.name: c for c in found}


# CSV files ------------------------------------------------------------------

AGENCY = {
    "agency_name": "Riverside Housing Options",
    "agency_kind": "housing",
    "services": "Homelessness assessments",
    "how_to_refer": "Duty to refer form",
    "agency_phone": "0113 496 0000",
    "agency_email": "team@riverside.example.org",
    "website": "https://riverside.example.org",
}


def row(slug: str = "riverside-housing", contact: str | None = None, **cells: str) -> dict[str, str]:
    """One CSV row: the agency's details, and a contact if ``contact`` is named."""
    values = {"agency_slug": slug, **AGENCY}
    if contact:
        local = contact.lower().replace(" ", ".")
        values.update(
            contact_name=contact,
            contact_role="Housing officer",
            contact_email=f"{local}@example.org",
            contact_phone="07700 900000",
            preferred_channel="phone",
            knowledge="Emergency beds",
        )
    values.update(cells)
    return values


def write_csv(tmp_path: Path, rows: list[dict[str, str]], name: str = "partners.csv") -> Path:
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_text(tmp_path: Path, text: str | bytes, name: str = "partners.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def import_file(app: Flask, path: Path, *options: str) -> Any:
    return run(app, "agencies", "import", str(path), *options)


# Importing a good file ---------------------------------------------------------


def test_a_good_file_imports_agencies_and_contacts_with_their_key_roles(app, tmp_path):
    path = write_csv(
        tmp_path,
        [
            row("riverside-housing", "Alia Khan", key_contact="yes"),
            row("riverside-housing", "Bea Thornton", deputy="Yes"),
            row("riverside-housing", "Colm Byrne", key_contact="no", deputy="n"),
            row(
                "pathways",
                "Elena Rossi",
                agency_name="Pathways Drug and Alcohol Service",
                agency_kind="substance_use",
                key_contact="y",
                preferred_channel="email",
            ),
            row("hope-street-food-bank", agency_name="Hope Street Food Bank", agency_kind="other"),
        ],
    )

    result = import_file(app, path)

    assert result.exit_code == 0, result.output
    assert "Imported 3 new agencies and 4 contacts." in result.stdout
    riverside = agency("riverside-housing")
    assert riverside is not None
    assert riverside.name == "Riverside Housing Options"
    assert riverside.kind is AgencyKind.HOUSING
    assert riverside.website == "https://riverside.example.org"
    people = contacts_at("riverside-housing")
    assert sorted(people) == ["Alia Khan", "Bea Thornton", "Colm Byrne"]
    assert riverside.key_contact_id == people["Alia Khan"].id
    assert riverside.deputy_contact_id == people["Bea Thornton"].id
    assert riverside.roles_to_confirm is None
    alia = people["Alia Khan"]
    assert (alia.role, alia.email, alia.preferred_channel, alia.knowledge, alia.status) == (
        "Housing officer",
        "alia.khan@example.org",
        Channel.PHONE,
        "Emergency beds",
        ContactStatus.ACTIVE,
    )
    pathways = agency("pathways")
    assert pathways is not None
    assert pathways.kind is AgencyKind.SUBSTANCE_USE
    assert pathways.key_contact_id == contacts_at("pathways")["Elena Rossi"].id
    food_bank = agency("hope-street-food-bank")
    assert food_bank is not None
    assert contacts_at("hope-street-food-bank") == {}
    assert food_bank.key_contact_id is None


def test_progress_is_shown_while_checking_and_importing(app, tmp_path):
    path = write_csv(tmp_path, [row(contact=f"Person {n}") for n in range(30)])

    result = import_file(app, path)

    assert result.exit_code == 0, result.output
    assert "Checking rows" in result.stderr
    assert "Importing" in result.stderr
    assert "Imported 1 new agencies and 30 contacts." in result.stdout


def test_every_import_is_audited(app, tmp_path):
    path = write_csv(
        tmp_path,
        [
            row("riverside-housing", "Alia Khan"),
            row("riverside-housing", "Bea Thornton"),
            row("pathways", "Elena Rossi", agency_name="Pathways"),
        ],
    )

    result = import_file(app, path)

    assert result.exit_code == 0, result.output
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
    created_agencies = {e.object_id for e in events if e.action == "agency.created"}
    created_contacts = {e.object_id for e in events if e.action == "contact.created"}
    assert created_agencies == {agency("riverside-housing").id, agency("pathways").id}
    assert created_contacts == {c.id for slug in ("riverside-housing", "pathways") for c in contacts_at(slug).values()}
    assert {(e.channel, e.actor_kind) for e in events} == {("cli", "system")}
    assert verify_chain().ok


def test_rows_for_an_existing_agency_add_contacts_without_changing_it(app, tmp_path):
    existing = make_agency(
        AgencyKind.PROBATION,
        slug="city-probation",
        name="City Probation",
        services="Supervision",
        website="https://probation.example.org",
    )
    marion = make_contact(existing, name="Marion Hale")
    existing.key_contact_id = marion.id
    db.session.flush()
    before = count(Agency)
    path = write_csv(
        tmp_path,
        [
            row(
                "city-probation",
                "Devi Anand",
                agency_name="Renamed by the spreadsheet",
                agency_kind="housing",
                services="Something else",
                website="https://elsewhere.example.org",
            ),
            row("city-probation", "Gareth Lowe", agency_name="", agency_kind=""),
        ],
    )

    result = import_file(app, path)

    assert result.exit_code == 0, result.output
    assert "Imported 0 new agencies and 2 contacts." in result.stdout
    assert count(Agency) == before
    db.session.refresh(existing)
    assert (existing.name, existing.kind, existing.services, existing.website, existing.key_contact_id) == (
        "City Probation",
        AgencyKind.PROBATION,
        "Supervision",
        "https://probation.example.org",
        marion.id,
    )
    assert sorted(contacts_at("city-probation")) == ["Devi Anand", "Gareth Lowe", "Marion Hale"]
    assert not db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action.like("agency.%")))


def test_a_row_cannot_replace_an_existing_agencys_key_contact(app, tmp_path):
    existing = make_agency(slug="city-probation", name="City Probation")
    marion = make_contact(existing, name="Marion Hale")
    existing.key_contact_id = marion.id
    db.session.flush()
    path = write_csv(tmp_path, [row("city-probation", "Devi Anand", key_contact="yes")])

    result = import_file(app, path)

    assert result.exit_code != 0
    assert "Row 2: key_contact:" in result.stderr
    assert "already in the hub" in result.stderr
    db.session.refresh(existing)
    assert existing.key_contact_id == marion.id
    assert sorted(contacts_at("city-probation")) == ["Marion Hale"]


def test_importing_the_same_file_twice_does_not_duplicate_contacts(app, tmp_path):
    path = write_csv(
        tmp_path, [row("riverside-housing", "Alia Khan", key_contact="yes"), row("riverside-housing", "Bea Thornton")]
    )
    assert import_file(app, path).exit_code == 0
    before = totals()

    again = import_file(app, path)

    assert again.exit_code != 0
    assert "Row 2: " in again.stderr
    assert "Row 3: " in again.stderr
    assert "already in the hub" in again.stderr
    assert totals() == before


def test_a_failure_part_way_through_the_import_leaves_nothing_behind(app, tmp_path, monkeypatch):
    from agencies import importer, services

    real_add_contact = services.add_contact
    calls = itertools.count(1)

    def add_contact_failing_on_the_third(actor, agency, data):
        if next(calls) == 3:
            raise Invalid("The hub refused this contact")
        return real_add_contact(actor, agency, data)

    monkeypatch.setattr(importer.services, "add_contact", add_contact_failing_on_the_third)
    path = write_csv(tmp_path, [row(contact=f"Person {n}") for n in range(5)])
    before = totals()

    result = import_file(app, path)

    assert result.exit_code != 0
    assert "Error: nothing imported: The hub refused this contact" in result.stderr
    assert "Traceback" not in result.output
    assert totals() == before


# Bad rows ------------------------------------------------------------------------

BAD_ROWS = {
    "kind not known": ([row("other-agency", "Olu Ade", agency_kind="charity")], "agency_kind:"),
    "kind is the host organisation": ([row("other-agency", "Olu Ade", agency_kind="host")], "agency_kind:"),
    "slug with capitals and spaces": ([row("Other Agency", "Olu Ade")], "agency_slug:"),
    "slug missing": ([row("", "Olu Ade")], "agency_slug:"),
    "agency name missing": ([row("other-agency", "Olu Ade", agency_name="")], "agency_name:"),
    "agency email invalid": ([row("other-agency", agency_email="team at example")], "agency_email:"),
    "contact email invalid": ([row("other-agency", "Olu Ade", contact_email="olu@")], "contact_email:"),
    "contact channel not known": ([row("other-agency", "Olu Ade", preferred_channel="fax")], "preferred_channel:"),
    "contact named twice": (
        [row("other-agency", "Olu Ade"), row("other-agency", "olu ade")],
        "the same contact appears twice",
    ),
    "two key contacts": (
        [row("other-agency", "Olu Ade", key_contact="yes"), row("other-agency", "Pat Lee", key_contact="yes")],
        "key_contact:",
    ),
    "two deputies": (
        [row("other-agency", "Olu Ade", deputy="yes"), row("other-agency", "Pat Lee", deputy="yes")],
        "deputy:",
    ),
    "key contact flag not yes/no": (
        [row("other-agency", "Olu Ade", key_contact="maybe")],
        "key_contact: write yes or no",
    ),
    "deputy flag not yes/no": ([row("other-agency", "Olu Ade", deputy="2")], "deputy: write yes or no"),
    "key contact and deputy at once": (
        [row("other-agency", "Olu Ade", key_contact="yes", deputy="yes")],
        "both the key contact and the deputy",
    ),
    "flag with no contact": ([row("other-agency", key_contact="yes")], "need a contact on the same row"),
}


@pytest.mark.parametrize(("bad_rows", "reason"), BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_a_bad_row_is_reported_with_its_line_and_nothing_is_imported(app, tmp_path, bad_rows, reason):
    path = write_csv(tmp_path, [row("riverside-housing", "Alia Khan"), *bad_rows])
    bad_line = 1 + 1 + len(bad_rows)  # header, the good row, then the bad ones
    before = totals()

    result = import_file(app, path)

    assert result.exit_code != 0
    assert f"Row {bad_line}: " in result.stderr
    reported = next(line for line in result.stderr.splitlines() if line.startswith(f"Row {bad_line}: "))
    assert reason in reported
    assert "1 bad row(s); nothing imported" in result.stderr
    assert "Traceback" not in result.output
    assert totals() == before
    assert agency("riverside-housing") is None


def test_a_row_with_more_cells_than_the_header_is_reported(app, tmp_path):
    header = ",".join(COLUMNS)
    good = "riverside-housing,Riverside Housing Options,housing" + "," * (len(COLUMNS) - 3)
    path = write_text(tmp_path, f"{header}\n{good}\n{good},surplus\n")

    result = import_file(app, path)

    assert result.exit_code != 0
    assert "Row 3: the row has more cells than the header" in result.stderr
    assert count(Agency) == 0


def test_every_bad_row_is_reported_not_just_the_first(app, tmp_path):
    path = write_csv(
        tmp_path,
        [
            row("riverside-housing", "Alia Khan"),
            row("riverside-housing", "Bea Thornton", contact_email="not-an-email"),
            row("pathways", "Elena Rossi", agency_kind="drugs"),
            row("riverside-housing", "Colm Byrne"),
            row("BAD SLUG", "Femi Adeyemi"),
        ],
    )

    result = import_file(app, path)

    assert result.exit_code != 0
    problems = [line for line in result.stderr.splitlines() if line.startswith("Row ")]
    assert [p.split(":")[0] for p in problems] == ["Row 3", "Row 4", "Row 6"]
    assert "3 bad row(s); nothing imported" in result.stderr
    assert count(Contact) == 0


def test_skip_bad_rows_imports_the_good_rows_and_reports_the_bad(app, tmp_path):
    path = write_csv(
        tmp_path,
        [
            row("riverside-housing", "Alia Khan", key_contact="yes"),
            row("riverside-housing", "Bea Thornton", key_contact="yes"),  # a second key contact
            row("riverside-housing", "Colm Byrne", deputy="yes"),
            row("pathways", "Elena Rossi", agency_kind="drugs"),  # the only row for its agency
        ],
    )

    result = import_file(app, path, "--skip-bad-rows")

    assert result.exit_code == 0, result.output
    assert "Row 3: key_contact:" in result.stderr
    assert "Row 5: agency_kind:" in result.stderr
    assert "Imported 1 new agencies and 2 contacts; skipped 2 bad row(s)." in result.stdout
    riverside = agency("riverside-housing")
    people = contacts_at("riverside-housing")
    assert sorted(people) == ["Alia Khan", "Colm Byrne"]
    assert (riverside.key_contact_id, riverside.deputy_contact_id) == (people["Alia Khan"].id, people["Colm Byrne"].id)
    assert agency("pathways") is None


# Files that cannot be read --------------------------------------------------------

HEADER = ",".join(COLUMNS)
GOOD_LINE = "riverside-housing,Riverside Housing Options,housing" + "," * (len(COLUMNS) - 3)
BAD_FILES: dict[str, tuple[str | bytes, str]] = {
    "empty file": ("", "the file is empty"),
    "blank lines only": ("\n\n", "the file is empty"),
    "header but no rows": (HEADER + "\n", "no rows"),
    "unknown column": (HEADER + ",favourite_colour\n" + GOOD_LINE + ",blue\n", "not known: 'favourite_colour'"),
    "misspelt column": (
        HEADER.replace("contact_email", "contact_e-mail") + "\n" + GOOD_LINE + "\n",
        "not known: 'contact_e-mail'",
    ),
    "slug column missing": (
        HEADER.replace("agency_slug,", "") + "\n" + GOOD_LINE.split(",", 1)[1] + "\n",
        "missing: agency_slug",
    ),
    "column named twice": (HEADER + ",agency_name\n" + GOOD_LINE + ",Other\n", "more than once: agency_name"),
    "not UTF-8": (
        (HEADER + "\n" + GOOD_LINE.replace("Riverside", "Rivièreside") + "\n").encode("latin-1"),
        "not UTF-8",
    ),
}


@pytest.mark.parametrize(("content", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_file_that_cannot_be_read_gives_a_clear_error_and_imports_nothing(app, tmp_path, content, message):
    path = write_text(tmp_path, content)

    result = import_file(app, path, "--skip-bad-rows")

    assert result.exit_code != 0
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert totals() == {"agencies": 0, "contacts": 0, "audit": 0}


def test_only_the_slug_column_is_required(app, tmp_path):
    make_agency(slug="city-probation", name="City Probation")
    path = write_text(
        tmp_path,
        "agency_slug,contact_name,contact_email\n"
        "city-probation,Devi Anand,devi@example.org\n"
        "new-agency,Olu Ade,olu@example.org\n",
    )

    result = import_file(app, path, "--skip-bad-rows")

    assert result.exit_code == 0, result.output
    reported = [line for line in result.stderr.splitlines() if line.startswith("Row ")]
    assert len(reported) == 1
    assert reported[0].startswith("Row 3: agency_name: ")
    assert "; agency_kind: " in reported[0]
    assert "Imported 0 new agencies and 1 contacts; skipped 1 bad row(s)." in result.stdout
    assert contacts_at("city-probation")["Devi Anand"].email == "devi@example.org"


def test_a_file_with_a_byte_order_mark_is_read(app, tmp_path):
    path = write_text(tmp_path, ("\ufeff" + HEADER + "\r\n" + GOOD_LINE + "\r\n").encode("utf-8"))

    result = import_file(app, path)

    assert result.exit_code == 0, result.output
    assert agency("riverside-housing") is not None


# flask hub init ------------------------------------------------------------------


def test_hub_init_creates_the_host_organisation_once(app):
    first = run(app, "hub", "init", "--name", "Northgate Women's Centre", "--slug", "northgate")
    again = run(app, "hub", "init", "--name", "Northgate Women's Centre", "--slug", "northgate")

    assert first.exit_code == 0, first.output
    assert "Created host organisation 'northgate'." in first.stdout
    assert again.exit_code == 0, again.output
    assert "already exists" in again.stdout
    hosts = db.session.scalars(sa.select(Agency).where(Agency.kind == AgencyKind.HOST)).all()
    assert [(h.slug, h.name) for h in hosts] == [("northgate", "Northgate Women's Centre")]
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "agency.created")) == 1


def test_hub_init_refuses_a_different_slug_once_the_host_exists(app):
    run(app, "hub", "init", "--name", "Northgate Women's Centre", "--slug", "northgate")

    result = run(app, "hub", "init", "--name", "Another Centre", "--slug", "another")

    assert result.exit_code != 0
    assert "already exists with slug 'northgate'" in result.stderr
    assert [a.slug for a in db.session.scalars(sa.select(Agency))] == ["northgate"]


@pytest.mark.parametrize(("name", "slug"), [("Northgate", "Not A Slug"), ("", "northgate")])
def test_hub_init_refuses_a_bad_name_or_slug(app, name, slug):
    result = run(app, "hub", "init", "--name", name, "--slug", slug)

    assert result.exit_code != 0
    assert result.stderr.startswith("Error: ")
    assert count(Agency) == 0


# flask hub create-user ------------------------------------------------------------


def test_create_user_prints_a_one_time_password(app, monkeypatch):
    monkeypatch.delenv("HUB_NEW_USER_PASSWORD", raising=False)
    host = host_agency()

    result = run(
        app,
        "hub",
        "create-user",
        "--email",
        "Priya.Natt@Northgate.example.org",
        "--agency",
        host.slug,
        "--role",
        "manager",
        "--name",
        "Priya Natt",
    )

    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "priya.natt@northgate.example.org"))
    assert user is not None
    assert (user.name, user.role, user.agency_id, user.must_change_password) == (
        "Priya Natt",
        Role.MANAGER,
        host.id,
        True,
    )
    printed = result.stdout.split("One-time password (they must change it at first sign-in): ")[1].strip()
    assert passwords.verify_password(user.password_hash, printed)
    assert printed not in user.password_hash
    assert (
        db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "user.created", AuditEvent.object_id == user.id)
        )
        is not None
    )


def test_create_user_takes_the_password_from_the_environment(app, monkeypatch):
    monkeypatch.setenv("HUB_NEW_USER_PASSWORD", "a long and unusual pass phrase")
    partner = make_agency(slug="city-probation")

    result = run(
        app,
        "hub",
        "create-user",
        "--email",
        "lead@probation.example.org",
        "--agency",
        "city-probation",
        "--role",
        "partner_lead",
    )

    assert result.exit_code == 0, result.output
    assert "One-time password" not in result.output
    assert "a long and unusual pass phrase" not in result.output
    user = db.session.scalar(sa.select(User).where(User.email == "lead@probation.example.org"))
    assert (user.name, user.role, user.agency_id) == ("lead", Role.PARTNER_LEAD, partner.id)
    assert passwords.verify_password(user.password_hash, "a long and unusual pass phrase")


def test_create_user_refuses_a_weak_password_from_the_environment(app, monkeypatch):
    monkeypatch.setenv("HUB_NEW_USER_PASSWORD", "short")
    host = host_agency()

    result = run(
        app,
        "hub",
        "create-user",
        "--email",
        "sam@northgate.example.org",
        "--agency",
        host.slug,
        "--role",
        "practitioner",
    )

    assert result.exit_code != 0
    assert "12 characters or more" in result.stderr
    assert count(User) == 0


@pytest.mark.parametrize(
    ("role", "at_host"),
    [("manager", False), ("admin", False), ("practitioner", False), ("partner", True), ("partner_lead", True)],
)
def test_create_user_refuses_a_role_that_does_not_fit_the_agency(app, role, at_host):
    host = host_agency()
    partner = make_agency(slug="city-probation")

    result = run(
        app,
        "hub",
        "create-user",
        "--email",
        "someone@example.org",
        "--agency",
        host.slug if at_host else partner.slug,
        "--role",
        role,
    )

    assert result.exit_code != 0
    assert "belong to the host organisation" in result.stderr
    assert count(User) == 0


def test_create_user_refuses_an_email_already_in_use(app, monkeypatch):
    monkeypatch.delenv("HUB_NEW_USER_PASSWORD", raising=False)
    existing = make_user(Role.PRACTITIONER, email="sam@northgate.example.org")

    result = run(
        app,
        "hub",
        "create-user",
        "--email",
        "SAM@northgate.example.org ",
        "--agency",
        host_agency().slug,
        "--role",
        "manager",
    )

    assert result.exit_code != 0
    assert "already exists" in result.stderr
    assert db.session.scalars(sa.select(User)).all() == [existing]


@pytest.mark.parametrize("email", ["not-an-email", "sam@", ""])
def test_create_user_refuses_an_invalid_email(app, email):
    result = run(app, "hub", "create-user", "--email", email, "--agency", host_agency().slug, "--role", "manager")

    assert result.exit_code != 0
    assert result.stderr.startswith("Error: ")
    assert count(User) == 0


def test_create_user_refuses_an_unknown_agency(app):
    result = run(app, "hub", "create-user", "--email", "x@example.org", "--agency", "nowhere", "--role", "partner")

    assert result.exit_code != 0
    assert "no agency with slug 'nowhere'" in result.stderr


# flask hub create-client ------------------------------------------------------------


def test_create_client_prints_its_credentials_as_one_json_object(app, client):
    partner = make_agency(slug="city-probation")

    result = run(
        app,
        "hub",
        "create-client",
        "--name",
        "Probation case system",
        "--agency",
        "city-probation",
        "--scope",
        "directory:read referrals:read directory:read",
    )

    assert result.exit_code == 0, result.output
    credentials = json.loads(result.stdout)
    assert set(credentials) == {"client_id", "client_secret"}
    registered = db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == credentials["client_id"]))
    assert (registered.name, registered.agency_id, registered.acts_for_host, registered.scope) == (
        "Probation case system",
        partner.id,
        False,
        "directory:read referrals:read",
    )
    # The credentials work at the token endpoint.
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(credentials["client_id"], credentials["client_secret"]),
    )
    assert token.status_code == 200, token.get_data(as_text=True)


def test_create_client_stores_the_secret_only_hashed(app):
    make_agency(slug="city-probation")

    result = run(
        app, "hub", "create-client", "--name", "Probation", "--agency", "city-probation", "--scope", "directory:read"
    )

    secret = json.loads(result.stdout)["client_secret"]
    registered = db.session.scalar(sa.select(OAuthClient))
    assert registered.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(v) for v in db.session.execute(sa.select(OAuthClient.__table__)).one()]
    stored += [json.dumps(e.data) for e in db.session.scalars(sa.select(AuditEvent))]
    assert not any(secret in value for value in stored)


@pytest.mark.parametrize("scope", ["directory:read everything", "", "   "])
def test_create_client_refuses_an_unknown_scope(app, scope):
    make_agency(slug="city-probation")

    result = run(app, "hub", "create-client", "--name", "Probation", "--agency", "city-probation", "--scope", scope)

    assert result.exit_code != 0
    assert "unknown scope" in result.stderr
    assert result.stdout == ""
    assert count(OAuthClient) == 0


# flask hub demo -------------------------------------------------------------------


@pytest.fixture
def demo_mode(app, monkeypatch):
    """The hub running with HUB_DEMO=true (the session's app runs as a real hub)."""
    monkeypatch.setitem(app.extensions, "hub_settings", app.extensions["hub_settings"].with_(demo=True))


def test_demo_refuses_a_hub_not_in_demo_mode(app):
    """H1: the demo's accounts share a published password; they never load into a real hub."""
    result = run(app, "hub", "demo")
    assert result.exit_code == 2
    assert "HUB_DEMO=true" in result.stderr
    assert count(User) == 0
    assert count(Agency) == 0


def test_demo_refuses_a_database_that_has_data(app, demo_mode):
    make_agency()
    before = totals()
    result = run(app, "hub", "demo")
    assert result.exit_code == 2
    assert "already holds data" in result.stderr
    assert totals() == before


def test_demo_loads_a_whole_partnership_once(app, demo_mode):
    result = run(app, "hub", "demo")

    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.stdout
    partners = db.session.scalars(sa.select(Agency).where(Agency.kind != AgencyKind.HOST)).all()
    contacts = db.session.scalars(sa.select(Contact)).all()
    assert 12 <= len(partners) <= 20
    assert 35 <= len(contacts) <= 50
    leavers = [c for c in contacts if c.status is ContactStatus.LEFT]
    assert leavers
    for leaver in leavers:
        successor = db.session.get(Contact, leaver.successor_id)
        assert successor is not None
        assert successor.is_active
        assert successor.agency_id == leaver.agency_id
    users = db.session.scalars(sa.select(User)).all()
    assert {u.role for u in users if u.is_active} == set(Role)
    assert verify_chain().ok
    before = totals()

    again = run(app, "hub", "demo")

    assert again.exit_code == 2, again.output
    assert "already holds data" in again.stderr
    assert totals() == before
