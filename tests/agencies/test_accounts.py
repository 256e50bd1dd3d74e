"""Accounts belong to contacts (C1 of the security review): a partner account is
linked to one active contact of its agency, its lead can open and close it,
and recording the contact as having left closes it at once, through the page
and through the API: the old session is refused, a fresh sign-in fails,
nothing reaches them afterwards, and ``GET /api/v1/users`` shows it inactive.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from agencies import messaging, services
from agencies.models import Agency, AgencyKind, Contact, ContactStatus
from hub.auth.models import AuthSession, User
from hub.db import db
from hub.notifications.models import EmailStatus, Notification
from hub.permissions import SYSTEM, Role
from tests.helpers import (
    PASSWORD,
    bearer,
    csrf_token,
    host_agency,
    make_agency,
    make_client,
    make_contact,
    make_user,
    post_form,
    run_command,
    sign_in,
)

ROOT = Path(__file__).resolve().parents[2]


def _linked(agency: Agency, role: Role = Role.PARTNER, **kw: Any) -> tuple[Contact, User]:
    """A contact with a hub account of their own."""
    user = make_user(role, agency, **kw)
    contact = db.session.scalar(sa.select(Contact).where(Contact.user_id == user.id))
    assert contact is not None
    return contact, user


def _team() -> tuple[Agency, Contact, User, Contact, User]:
    agency = make_agency(AgencyKind.PROBATION, name="Harbour Probation")
    lead_contact, lead = _linked(agency, Role.PARTNER_LEAD, name="Lia Lead")
    officer_contact, officer = _linked(agency, name="Olu Officer")
    agency.key_contact_id = lead_contact.id
    db.session.flush()
    return agency, lead_contact, lead, officer_contact, officer


def _password_step(client: Any, email: str) -> Any:
    return client.post(
        "/sign-in", data={"csrf_token": csrf_token(client, "/sign-in"), "email": email, "password": PASSWORD}
    )


def _users_api(client: Any, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/users{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert int(response.headers["X-Total-Count"]) == len(response.json)
    return response.json


def _notifications_to(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count(Notification.id)).where(Notification.user_id == user.id)) or 0


# A contact who leaves loses access at once ---------------------------------------------------


def test_a_leaver_recorded_by_their_lead_on_the_page_loses_access_at_once(client: Any, app: Flask) -> None:
    agency, _lead_contact, lead, officer_contact, officer = _team()
    officer_browser = app.test_client()
    sign_in(officer_browser, officer)
    assert officer_browser.get("/inbox").status_code == 200

    waiting = Notification(
        user_id=officer.id,
        email=officer.email,
        kind="referral.received",
        subject="New referral",
        body="b",
        email_status=EmailStatus.PENDING,
    )
    db.session.add(waiting)
    db.session.flush()

    sign_in(client, lead)
    response = post_form(client, f"/contacts/{officer_contact.id}/leave", {"left_on": "1/12/2026"})
    assert response.status_code == 302
    # An email queued before they left is never sent.
    assert db.session.get(Notification, waiting.id, populate_existing=True).email_status is EmailStatus.FAILED

    db.session.expire_all()
    assert db.session.get(User, officer.id).disabled_at is not None
    # The session they already had is refused at once ...
    assert officer_browser.get("/inbox").status_code == 302
    sessions = db.session.scalars(sa.select(AuthSession).where(AuthSession.user_id == officer.id)).all()
    assert sessions and all(s.ended_at is not None and s.end_reason == "left" for s in sessions)
    # ... and a fresh sign-in fails, exactly like a wrong password.
    assert _password_step(app.test_client(), officer.email).status_code == 401
    # Nothing reaches them afterwards, not even as one of the agency's people.
    before = _notifications_to(officer)
    messaging.tell_contact(db.session.get(Contact, officer_contact.id), kind="t", subject="s", body="b")
    assert _notifications_to(officer) == before
    # The host organisation's systems see the account closed.
    host_client, _secret = make_client(host_agency(), "admin")
    rows = _users_api(client, bearer(client, host_client, _secret), f"?agency_id={agency.id}")
    assert {r["email"]: r["active"] for r in rows} == {lead.email: True, officer.email: False}


def test_a_leaver_recorded_through_the_api_loses_access_at_once(client: Any, app: Flask) -> None:
    agency, _lead_contact, _lead, officer_contact, officer = _team()
    officer_browser = app.test_client()
    sign_in(officer_browser, officer)
    partner_system, secret = make_client(agency, "directory:write admin")
    headers = bearer(client, partner_system, secret)

    response = client.post(
        f"/api/v1/contacts/{officer_contact.id}/leave", json={"left_on": "2026-12-01"}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["status"] == "left"

    assert officer_browser.get("/inbox").status_code == 302
    assert _password_step(app.test_client(), officer.email).status_code == 401
    row = next(r for r in _users_api(client, headers) if r["id"] == officer.id)
    assert row == {
        "id": officer.id,
        "email": officer.email,
        "name": officer.name,
        "role": "partner",
        "agency_id": agency.id,
        "contact_id": officer_contact.id,
        "active": False,
    }


def test_a_lead_who_left_no_longer_receives_the_agencys_referrals() -> None:
    agency, lead_contact, lead, _officer_contact, _officer = _team()
    _other_contact, other_lead = _linked(agency, Role.PARTNER_LEAD, name="Ona Other")
    assert {u.id for u in messaging.agency_leads(agency.id)} == {lead.id, other_lead.id}

    services.record_leaver(SYSTEM, lead_contact, left_on=dt.date(2026, 12, 1))

    assert [u.id for u in messaging.agency_leads(agency.id)] == [other_lead.id]
    told = messaging.tell_agency_leads(agency.id, kind="referral.received", subject="New referral", body="b")
    assert told == 1
    assert _notifications_to(lead) == 0


def test_the_leads_fallback_never_picks_an_unlinked_or_closed_account() -> None:
    agency = make_agency()
    unlinked = make_user(Role.PARTNER_LEAD, agency, linked=False)  # no contact of its own
    _contact, closed = _linked(agency, Role.PARTNER_LEAD)
    services.close_account(make_user(Role.ADMIN), closed)
    assert messaging.agency_leads(agency.id) == []
    assert unlinked.is_active


# Leads open and close their own agency's accounts ----------------------------------------------


def test_a_lead_invites_a_contact_who_must_then_set_a_password_and_two_factor(client: Any, app: Flask) -> None:
    agency, _lead_contact, lead, _officer_contact, _officer = _team()
    newcomer = make_contact(agency, name="Nia Newcomer", email="nia.newcomer@harbour.example.org")
    sign_in(client, lead)
    assert "Give Nia Newcomer a hub account" in client.get(f"/contacts/{newcomer.id}").get_data(as_text=True)

    page = post_form(client, f"/contacts/{newcomer.id}/invite", {"role": "partner"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    password = html.split('id="one-time-password">')[1].split("<")[0]
    db.session.expire_all()
    account = db.session.scalar(sa.select(User).where(User.email == "nia.newcomer@harbour.example.org"))
    assert account is not None and account.role is Role.PARTNER and account.agency_id == agency.id
    assert db.session.get(Contact, newcomer.id).user_id == account.id
    assert account.must_change_password and account.totp_enabled_at is None

    # Her first sign-in: the password works once, then she must set up two-factor sign-in ...
    browser = app.test_client()
    step = browser.post(
        "/sign-in",
        data={"csrf_token": csrf_token(browser, "/sign-in"), "email": account.email, "password": password},
    )
    assert step.status_code == 302 and step.headers["Location"].endswith("/sign-in/set-up-code")
    # ... and cannot get past it without a code.
    assert browser.get("/inbox").status_code == 302

    # Inviting twice is refused.
    again = post_form(client, f"/contacts/{newcomer.id}/invite", {"role": "partner"}, token_from="/directory")
    assert again.status_code == 409


def test_invitations_are_for_the_leads_own_agency_and_its_current_contacts(client: Any) -> None:
    agency, _lead_contact, lead, _officer_contact, officer = _team()
    elsewhere = make_contact(make_agency(), email="someone@elsewhere.example.org")
    gone = make_contact(agency, email="gone@harbour.example.org", status=ContactStatus.LEFT)
    no_email = make_contact(agency, email="")
    sign_in(client, lead)
    token = csrf_token(client, "/directory")

    def invite(contact: Contact) -> int:
        return client.post(f"/contacts/{contact.id}/invite", data={"csrf_token": token, "role": "partner"}).status_code

    assert invite(elsewhere) == 403
    assert invite(gone) == 403
    assert invite(no_email) == 422
    bad_role = client.post(f"/contacts/{make_contact(agency).id}/invite", data={"csrf_token": token, "role": "admin"})
    assert bad_role.status_code == 422
    sign_in(client, officer)  # partner staff are not leads
    assert client.get(f"/contacts/{make_contact(agency).id}/invite").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email.like("%elsewhere%"))) == 0


def test_a_lead_closes_their_own_agencys_accounts_and_no_one_elses(client: Any, app: Flask) -> None:
    agency, _lead_contact, lead, _officer_contact, officer = _team()
    _other_contact, stranger = _linked(make_agency())
    officer_browser = app.test_client()
    sign_in(officer_browser, officer)
    sign_in(client, lead)
    listing = client.get(f"/agencies/{agency.id}/accounts").get_data(as_text=True)
    assert officer.email in listing and stranger.email not in listing

    assert post_form(client, f"/accounts/{stranger.id}/close", {}, token_from="/directory").status_code == 404
    assert post_form(client, f"/accounts/{lead.id}/close", {}, token_from="/directory").status_code == 403
    assert client.get(f"/agencies/{stranger.agency_id}/accounts").status_code == 404

    closed = post_form(client, f"/accounts/{officer.id}/close", {}, token_from="/directory")
    assert closed.status_code == 302
    assert officer_browser.get("/inbox").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, stranger.id).disabled_at is None
    assert db.session.get(User, lead.id).disabled_at is None


def test_partner_staff_and_practitioners_manage_no_accounts(client: Any) -> None:
    agency, _lead_contact, lead, _officer_contact, officer = _team()
    for who in (officer, make_user(Role.PRACTITIONER)):
        sign_in(client, who)
        assert client.get(f"/agencies/{agency.id}/accounts").status_code == 404
        assert post_form(client, f"/accounts/{lead.id}/close", {}, token_from="/directory").status_code == 404
    db.session.expire_all()
    assert db.session.get(User, lead.id).disabled_at is None


# GET /api/v1/users --------------------------------------------------------------------------------


def test_the_users_api_shows_the_host_every_account_and_a_partner_only_its_own(client: Any) -> None:
    agency, lead_contact, lead, _officer_contact, officer = _team()
    _c, stranger = _linked(make_agency())
    staff = make_user(Role.PRACTITIONER)
    host_system, host_secret = make_client(host_agency(), "admin")
    own_system, own_secret = make_client(agency, "admin")
    no_scope, no_scope_secret = make_client(agency, "directory:read")

    everyone = _users_api(client, bearer(client, host_system, host_secret))
    assert {lead.id, officer.id, stranger.id, staff.id} <= {r["id"] for r in everyone}
    assert next(r for r in everyone if r["id"] == staff.id)["contact_id"] is None
    own = _users_api(client, bearer(client, own_system, own_secret))
    assert {r["id"] for r in own} == {lead.id, officer.id}
    assert next(r for r in own if r["id"] == lead.id)["contact_id"] == lead_contact.id
    # Asking for another agency's accounts finds nothing.
    assert _users_api(client, bearer(client, own_system, own_secret), f"?agency_id={stranger.agency_id}") == []
    refused = client.get("/api/v1/users", headers=bearer(client, no_scope, no_scope_secret))
    assert refused.status_code == 403
    assert (
        client.get("/api/v1/users?agency_id=abc", headers=bearer(client, host_system, host_secret)).status_code == 422
    )


# Operator commands ---------------------------------------------------------------------------------


_run = run_command


def test_create_user_links_a_partner_account_to_its_contact(app: Flask) -> None:
    agency = make_agency(slug="harbour-probation")
    named = make_contact(agency, email="named@harbour.example.org")
    by_email = make_contact(agency, email="Same.Email@harbour.example.org")
    env = {"HUB_NEW_USER_PASSWORD": "a long enough passphrase here"}

    first = _run(
        app,
        "hub",
        "create-user",
        "--email",
        "x@harbour.example.org",
        "--agency",
        agency.slug,
        "--role",
        "partner",
        "--contact",
        str(named.id),
        env=env,
    )
    assert first.exit_code == 0, first.output
    second = _run(
        app,
        "hub",
        "create-user",
        "--email",
        "same.email@harbour.example.org",
        "--agency",
        agency.slug,
        "--role",
        "partner_lead",
        env=env,
    )
    assert second.exit_code == 0, second.output
    third = _run(
        app,
        "hub",
        "create-user",
        "--email",
        "brand.new@harbour.example.org",
        "--agency",
        agency.slug,
        "--role",
        "partner",
        "--name",
        "Bree New",
        env=env,
    )
    assert third.exit_code == 0, third.output
    db.session.expire_all()
    users = {u.email: u for u in db.session.scalars(sa.select(User).where(User.agency_id == agency.id))}
    assert db.session.get(Contact, named.id).user_id == users["x@harbour.example.org"].id
    assert db.session.get(Contact, by_email.id).user_id == users["same.email@harbour.example.org"].id
    made = db.session.scalar(sa.select(Contact).where(Contact.user_id == users["brand.new@harbour.example.org"].id))
    assert made is not None and made.name == "Bree New" and made.agency_id == agency.id and made.is_active


def test_create_user_refuses_a_contact_that_cannot_be_the_accounts(app: Flask) -> None:
    agency = make_agency(slug="harbour-housing")
    elsewhere = make_contact(make_agency())
    gone = make_contact(agency, status=ContactStatus.LEFT)
    taken_contact, _taken = _linked(agency)
    host_agency()
    env = {"HUB_NEW_USER_PASSWORD": "a long enough passphrase here"}
    for contact in (elsewhere, gone, taken_contact):
        result = _run(
            app,
            "hub",
            "create-user",
            "--email",
            f"c{contact.id}@example.org",
            "--agency",
            agency.slug,
            "--role",
            "partner",
            "--contact",
            str(contact.id),
            env=env,
        )
        assert result.exit_code == 2, result.output
    staff = _run(
        app,
        "hub",
        "create-user",
        "--email",
        "staff@example.org",
        "--agency",
        "host",
        "--role",
        "practitioner",
        "--contact",
        str(taken_contact.id),
        env=env,
    )
    assert staff.exit_code == 2 and "--contact is for partner accounts" in staff.output
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email.like("c%@example.org"))) == 0


def test_unlinked_accounts_are_listed_then_linked_by_an_administrator(app: Flask) -> None:
    agency = make_agency(slug="lost-links")
    orphan = make_user(Role.PARTNER, agency, linked=False, email="orphan@lost.example.org")
    contact = make_contact(agency, email="someone.else@lost.example.org")
    listed = _run(app, "hub", "unlinked-accounts")
    assert listed.exit_code == 1 and "orphan@lost.example.org" in listed.output

    linked = _run(app, "hub", "link-account", "--email", orphan.email, "--contact", str(contact.id))
    assert linked.exit_code == 0, linked.output
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).user_id == orphan.id
    after = _run(app, "hub", "unlinked-accounts")
    assert after.exit_code == 0 and "orphan@lost.example.org" not in after.output


def _migration() -> Any:
    spec = importlib.util.spec_from_file_location(
        "link_migration", ROOT / "migrations/versions/20261202_1600_a7c3e5d10007_accounts_belong_to_contacts.py"
    )
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


def test_the_migration_links_existing_partner_accounts_by_email() -> None:
    """Accounts made before accounts belonged to contacts are linked to the one active contact
    of their agency with the same email; ambiguous or missing ones are left for the command."""
    migration = _migration()
    agency = make_agency()
    one = make_user(Role.PARTNER, agency, linked=False, email="one@link.example.org")
    match = make_contact(agency, email="ONE@link.example.org")
    twice = make_user(Role.PARTNER, agency, linked=False, email="twice@link.example.org")
    make_contact(agency, email="twice@link.example.org")
    make_contact(agency, email="twice@link.example.org")
    other_agency = make_user(Role.PARTNER, make_agency(), linked=False, email="moved@link.example.org")
    stale = make_contact(agency, email="moved@link.example.org")

    db.session.execute(sa.text(migration.LINK_BY_EMAIL))
    db.session.expire_all()
    assert db.session.get(Contact, match.id).user_id == one.id
    assert db.session.scalar(sa.select(sa.func.count(Contact.id)).where(Contact.user_id == twice.id)) == 0
    assert db.session.get(Contact, stale.id).user_id is None
    assert other_agency.id not in set(
        db.session.scalars(sa.select(Contact.user_id).where(Contact.user_id.is_not(None)))
    )


@pytest.mark.parametrize("role", [Role.PARTNER, Role.PARTNER_LEAD])
def test_every_demo_partner_account_belongs_to_an_active_contact(app: Flask, role: Role, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.extensions, "hub_settings", app.extensions["hub_settings"].with_(demo=True))
    assert _run(app, "hub", "demo").exit_code == 0
    accounts = db.session.scalars(sa.select(User).where(User.role == role, User.disabled_at.is_(None))).all()
    assert accounts
    for user in accounts:
        contact = db.session.scalar(sa.select(Contact).where(Contact.user_id == user.id))
        assert contact is not None and contact.is_active and contact.agency_id == user.agency_id, user.email


# What the review of this work found ---------------------------------------------------------------


def test_a_partner_account_that_belongs_to_no_current_contact_cannot_sign_in_or_act(client: Any, app: Flask) -> None:
    agency = make_agency()
    orphan = make_user(Role.PARTNER, agency, linked=False)
    browser = app.test_client()
    sign_in(browser, orphan)
    assert browser.get("/inbox").status_code == 302  # its session ends at the next request
    assert _password_step(app.test_client(), orphan.email).status_code == 401
    services.link_account(SYSTEM, orphan, make_contact(agency))
    assert _password_step(app.test_client(), orphan.email).status_code == 302


def test_the_upgrade_closes_the_accounts_of_contacts_who_had_already_left(app: Flask) -> None:
    """Before this version, recording a leaver left their account open (C1): the upgrade closes it."""
    migration = _migration()
    agency = make_agency()
    contact, leaver = _linked(agency)
    _still_here, stayer = _linked(agency)
    contact.status = ContactStatus.LEFT
    sign_in(app.test_client(), leaver)
    db.session.execute(sa.text(migration.END_LEAVERS_SESSIONS))
    db.session.execute(sa.text(migration.CLOSE_LEAVERS))
    db.session.expire_all()
    assert db.session.get(User, leaver.id).disabled_at is not None
    assert db.session.get(User, stayer.id).disabled_at is None
    sessions = db.session.scalars(sa.select(AuthSession).where(AuthSession.user_id == leaver.id)).all()
    assert sessions and all(s.ended_at is not None for s in sessions)


def test_emails_waiting_for_a_leavers_work_address_are_withheld() -> None:
    agency = make_agency()
    no_account = make_contact(agency, email="no.account@partner.example.org")
    team = make_contact(agency, email="team@partner.example.org")
    make_contact(agency, email="team@partner.example.org")  # a shared inbox someone still reads
    waiting = {
        c.id: Notification(
            email=c.email, kind="referral.received", subject="s", body="b", email_status=EmailStatus.PENDING
        )
        for c in (no_account, team)
    }
    db.session.add_all(waiting.values())
    db.session.flush()
    services.record_leaver(SYSTEM, no_account, left_on=dt.date(2026, 12, 1))
    services.record_leaver(SYSTEM, team, left_on=dt.date(2026, 12, 1))
    db.session.expire_all()
    assert db.session.get(Notification, waiting[no_account.id].id).email_status is EmailStatus.FAILED
    assert db.session.get(Notification, waiting[team.id].id).email_status is EmailStatus.PENDING


def test_a_closed_account_can_be_opened_again_by_inviting_the_contact(client: Any, app: Flask) -> None:
    _agency, _lead_contact, lead, officer_contact, officer = _team()
    services.close_account(lead, officer)
    sign_in(client, lead)
    assert "Give Olu Officer a hub account" in client.get(f"/contacts/{officer_contact.id}").get_data(as_text=True)
    page = post_form(client, f"/contacts/{officer_contact.id}/invite", {"role": "partner"})
    assert page.status_code == 200 and 'id="one-time-password"' in page.get_data(as_text=True)
    db.session.expire_all()
    reopened = db.session.get(User, officer.id)
    assert reopened.is_active and reopened.must_change_password and reopened.totp_enabled_at is None
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email == officer.email)) == 1


def test_nobody_gives_a_host_contact_a_partner_account(client: Any) -> None:
    host_contact = make_contact(host_agency(), email="someone@charity.example.org")
    sign_in(client, make_user(Role.ADMIN))
    response = post_form(
        client, f"/contacts/{host_contact.id}/invite", {"role": "partner_lead"}, token_from="/directory"
    )
    assert response.status_code == 403
    assert db.session.scalar(sa.select(User.id).where(User.email == "someone@charity.example.org")) is None


@pytest.mark.parametrize(
    "extra",
    [["--contact", "99999999999"], ["--name", "x" * 300], ["--name", "A"], ["--email", "a@" + "b" * 260 + ".org"]],
    ids=["huge-contact-id", "long-name", "one-letter-name", "long-email"],
)
def test_create_user_refuses_bad_input_with_a_message_not_a_traceback(app: Flask, extra: list[str]) -> None:
    agency = make_agency(slug="cli-checks")
    args = ["hub", "create-user", "--email", "cli@checks.example.org", "--agency", agency.slug, "--role", "partner"]
    if extra[0] == "--email":
        args[3] = extra[1]
        extra = []
    result = _run(app, *args, *extra, env={"HUB_NEW_USER_PASSWORD": "a long enough passphrase here"})
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.agency_id == agency.id)) == 0
