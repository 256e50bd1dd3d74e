"""Operator commands that name agencies: ``flask hub init | create-user |
create-client | demo`` and ``flask agencies import FILE.csv``.

Each command is one unit of work: it commits once, at the end, or not at all.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
import marshmallow as ma
import sqlalchemy as sa
from flask.cli import AppGroup

from agencies import importer, queries, schemas, services
from agencies.models import Agency, AgencyKind, Contact
from hub.audit import Origin, set_origin
from hub.auth import services as auth_services
from hub.auth.models import User
from hub.cli import hub_cli
from hub.db import MAX_ID, db, unit_of_work
from hub.oauth.models import OAuthClient, secret_hash
from hub.oauth.server import new_client_credentials
from hub.permissions import ALL_SCOPES, HOST_ROLES, SYSTEM, HubError, Role
from hub.web.fields import NOT_ONE_LINE, SingleLine

agencies_cli = AppGroup("agencies", help="The partner directory.")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def _agency(slug: str) -> Agency:
    agency = queries.get_agency_by_slug(slug)
    if agency is None:
        _fail(f"no agency with slug {slug!r}")
    assert agency is not None
    return agency


@hub_cli.command("init")
@click.option("--name", required=True, help="The host organisation's name.")
@click.option("--slug", required=True, help="Its short name for links, e.g. womens-centre.")
def init(name: str, slug: str) -> None:
    """Create the host organisation (the charity running the hub). Idempotent."""
    set_origin(Origin("cli"))
    try:
        schemas.AgencyIn().load({"name": name, "slug": slug, "kind": AgencyKind.HOST.value})
    except ma.ValidationError as exc:
        _fail("; ".join(f"--{k}: {' '.join(v)}" for k, v in exc.normalized_messages().items()))
    host = db.session.scalar(sa.select(Agency).where(Agency.kind == AgencyKind.HOST))
    if host is not None:
        if host.slug != slug:
            _fail(f"the host organisation already exists with slug {host.slug!r}")
        click.echo(f"Host organisation {host.slug!r} already exists.")
        return
    try:
        with unit_of_work():
            agency = services.create_agency(SYSTEM, {"name": name, "slug": slug, "kind": AgencyKind.HOST})
    except HubError as exc:
        _fail(exc.detail)
    click.echo(f"Created host organisation {agency.slug!r}.")


@hub_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--agency", "agency_slug", required=True, help="Slug of the agency the user works for.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default=None, help="Display name (defaults to the contact's name, or the email's local part).")
@click.option(
    "--contact",
    "contact_id",
    type=click.IntRange(min=1, max=MAX_ID),
    default=None,
    help="A partner account's contact (id); else the agency's contact with the same email; else a new contact.",
)
def create_user(email: str, agency_slug: str, role: str, name: str | None, contact_id: int | None) -> None:
    """Create a user; print a one-time password (or take HUB_NEW_USER_PASSWORD).

    A partner account (partner_lead, partner) belongs to one active contact of
    its agency, and closes when that contact is recorded as having left.
    """
    set_origin(Origin("cli"))
    try:
        ma.validate.Email(error="--email: enter a real email address, like name@example.org")(email.strip())
        ma.validate.Length(max=254, error="--email: 254 characters at most")(email.strip())
        if name is not None:
            SingleLine(error=f"--name: {NOT_ONE_LINE}")(name)
            ma.validate.Length(min=2, max=120, error="--name: between 2 and 120 characters")(name.strip())
    except ma.ValidationError as exc:
        _fail(" ".join(exc.messages))
    agency = _agency(agency_slug)
    role_enum = Role(role)
    if (role_enum in HOST_ROLES) != agency.is_host:
        _fail(
            "admin, manager and practitioner belong to the host organisation; "
            "partner_lead and partner to a partner agency"
        )
    if contact_id is not None and agency.is_host:
        _fail("--contact is for partner accounts: our own staff are not directory contacts")
    password = os.environ.get("HUB_NEW_USER_PASSWORD") or None
    linked = ""
    try:
        with unit_of_work():
            if agency.is_host:
                user, password = auth_services.create_user(
                    SYSTEM,
                    email=email,
                    name=name or email.split("@")[0],
                    agency_id=agency.id,
                    role=role_enum,
                    password=password,
                )
            else:
                user, contact, password = services.create_partner_account(
                    SYSTEM, agency, email=email, role=role_enum, name=name, contact_id=contact_id, password=password
                )
                linked = f", linked to contact {contact.id} ({contact.name})"
    except HubError as exc:
        errors = getattr(exc, "errors", {}) or {}
        _fail("; ".join([exc.detail] + [m for msgs in errors.values() for m in msgs]))
    click.echo(f"Created {role} {user.email} at {agency.slug}{linked}.")
    if not os.environ.get("HUB_NEW_USER_PASSWORD"):
        click.echo(f"One-time password (they must change it at first sign-in): {password}")


@hub_cli.command("unlinked-accounts")
def unlinked_accounts() -> None:
    """List open partner accounts that belong to no active contact of their agency.

    Such an account would not close when its person leaves: link each with
    ``flask hub link-account``, or close it with ``flask hub disable-user``.
    """
    users = queries.unlinked_partner_accounts()
    if not users:
        click.echo("Every open partner account belongs to an active contact.")
        return
    slugs = dict(db.session.execute(sa.select(Agency.id, Agency.slug)).tuples().all())
    for user in users:
        click.echo(f"{user.email}\t{user.role.value}\t{slugs.get(user.agency_id, user.agency_id)}")
    click.echo(f"{len(users)} account(s) to link: flask hub link-account --email E --contact ID", err=True)
    sys.exit(1)


@hub_cli.command("link-account")
@click.option("--email", required=True, help="The partner account's email.")
@click.option(
    "--contact", "contact_id", type=click.IntRange(min=1, max=MAX_ID), required=True, help="The contact it belongs to."
)
def link_account(email: str, contact_id: int) -> None:
    """Link a partner account to the active contact of its agency it belongs to."""
    set_origin(Origin("cli"))
    user = db.session.scalar(sa.select(User).where(User.email == auth_services.normalise_email(email)))
    contact = db.session.get(Contact, contact_id)
    if user is None:
        _fail(f"no account with email {email}")
    if contact is None:
        _fail(f"no contact {contact_id}")
    assert user is not None
    assert contact is not None
    try:
        with unit_of_work():
            services.link_account(SYSTEM, user, contact)
    except HubError as exc:
        _fail(exc.detail)
    click.echo(f"Linked {user.email} to contact {contact.id} ({contact.name}).")


@hub_cli.command("create-client")
@click.option("--name", required=True)
@click.option("--agency", "agency_slug", required=True)
@click.option("--scope", required=True, help='Space-separated scopes, e.g. "directory:read referrals:read".')
def create_client(name: str, agency_slug: str, scope: str) -> None:
    """Register a partner-system OAuth2 client; print its credentials as JSON."""
    set_origin(Origin("cli"))
    agency = _agency(agency_slug)
    scopes = scope.split()
    unknown = sorted(set(scopes) - ALL_SCOPES)
    if unknown or not scopes:
        _fail(f"unknown scope(s): {', '.join(unknown) or '(none given)'}; known: {' '.join(sorted(ALL_SCOPES))}")
    client_id, secret = new_client_credentials()
    from hub import audit

    with unit_of_work():
        client = OAuthClient(
            client_id=client_id,
            secret_hash=secret_hash(secret),
            name=name[:120],
            agency_id=agency.id,
            acts_for_host=agency.is_host,
            scope=" ".join(sorted(set(scopes))),
        )
        db.session.add(client)
        db.session.flush()
        audit.record(
            SYSTEM,
            "oauth.client_created",
            object_type="oauth_client",
            object_id=client.id,
            agency_id=agency.id,
            scope=client.scope,
        )
    click.echo(json.dumps({"client_id": client_id, "client_secret": secret}))


@agencies_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows even if some rows are bad.")
def import_csv(path: Path, skip_bad_rows: bool) -> None:
    """Load agencies and contacts from a CSV file (see README for the columns)."""
    set_origin(Origin("cli"))
    try:
        rows = importer.read(path)
    except importer.FileProblem as exc:
        _fail(str(exc))
    with click.progressbar(length=len(rows), label="Checking rows", file=sys.stderr) as bar:
        plan = importer.check(rows, progress=bar.update)
    for problem in plan.problems:
        click.echo(f"Row {problem.line}: {problem.reason}", err=True)
    if plan.problems and not skip_bad_rows:
        _fail(f"{len(plan.problems)} bad row(s); nothing imported. Fix them, or use --skip-bad-rows.")
    try:
        with click.progressbar(length=len(plan.good), label="Importing", file=sys.stderr) as bar, unit_of_work():
            result = importer.apply(SYSTEM, plan, progress=bar.update)
    except HubError as exc:
        _fail(f"nothing imported: {exc.detail}")
    click.echo(
        f"Imported {result.agencies} new agencies and {result.contacts} contacts"
        + (f"; skipped {len(plan.problems)} bad row(s)." if plan.problems else ".")
    )
