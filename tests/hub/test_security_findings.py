"""Findings of the security review (``reviews/security.md``), each reproduced
as a user would notice it, and fixed.

The parallel-code race (M2) is in ``test_totp_race.py``, the poisoned email
batch (M4c) in ``test_email.py`` and the audit chain's head (M5) in
``test_audit.py``: each needs those files' fixtures.
"""

from __future__ import annotations

import sqlalchemy as sa

from agencies.models import Agency, AgencyKind, Contact
from consent.models import ServiceUser
from hub.auth.models import User
from hub.db import db
from hub.permissions import Role
from tests.helpers import bearer, csrf_token, host_agency, make_agency, make_client, make_user, sign_in

POISON = "Harbour Housing\nBcc: x@evil.example"
NOT_ONE_LINE = "Use letters, numbers and punctuation only: no line breaks or control characters"


# M4b: single-line fields refuse control characters ---------------------------------------


def test_api_refuses_a_line_break_in_an_agency_name_and_changes_nothing(client):
    """M4: a host system's PATCH cannot put a line break (an email header) into an agency's name."""
    agency = make_agency(AgencyKind.HOUSING, name="Harbour Housing")
    system, secret = make_client(host_agency(), "directory:read directory:write")
    headers = bearer(client, system, secret)
    for field, value in (
        ("name", POISON),
        ("name", "Harbour\rHousing"),
        ("name", "Harbour\tHousing"),
        ("name", "Harbour\x7fHousing"),
        ("name", "Harbour\u2028Housing"),
        ("phone", "0161 000\n0000"),
    ):
        response = client.patch(f"/api/v1/agencies/{agency.id}", json={field: value}, headers=headers)
        assert response.status_code == 422, (field, value, response.json)
        assert response.mimetype == "application/problem+json"
        assert response.json["errors"][field] == [NOT_ONE_LINE]
    db.session.expire_all()
    stored = db.session.get(Agency, agency.id)
    assert (stored.name, stored.phone) == ("Harbour Housing", "")
    created = client.post("/api/v1/agencies", json={"name": POISON, "kind": "housing"}, headers=headers)
    assert created.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).where(Agency.name.contains("evil"))) == 0


def test_api_refuses_control_characters_in_a_contacts_name_role_and_phone(client):
    """M4: contact name, role and phone are single-line; nothing is created."""
    agency = make_agency()
    system, secret = make_client(host_agency(), "directory:read directory:write")
    headers = bearer(client, system, secret)
    good = {"name": "Kim Key", "role": "Officer", "phone": "0161 000 0000"}
    for field, bad in (("name", "Kim\nKey"), ("role", "Officer\r\nBcc: x"), ("phone", "0161\x00000")):
        response = client.post(f"/api/v1/agencies/{agency.id}/contacts", json={**good, field: bad}, headers=headers)
        assert response.status_code in (400, 422), (field, response.json)
        assert response.status_code != 500
    assert db.session.scalar(sa.select(sa.func.count()).where(Contact.agency_id == agency.id)) == 0
    # Multi-line fields keep their line breaks.
    ok = client.post(
        f"/api/v1/agencies/{agency.id}/contacts",
        json={**good, "knowledge": "Knows the housing team.\nCall before 10."},
        headers=headers,
    )
    assert ok.status_code == 201, ok.json
    address = client.patch(f"/api/v1/agencies/{agency.id}", json={"address": "1 High Street\nTown"}, headers=headers)
    assert address.status_code == 200 and address.json["address"] == "1 High Street\nTown"


def test_web_form_refuses_a_line_break_in_an_agency_name_and_changes_nothing(client):
    """M4: the manager's edit form refuses the name with a clear error, and keeps the old one."""
    agency = make_agency(AgencyKind.HOUSING, name="Harbour Housing")
    sign_in(client, make_user(Role.MANAGER))
    path = f"/agencies/{agency.id}/edit"
    response = client.post(
        path, data={"csrf_token": csrf_token(client, path), "name": POISON, "kind": "housing", "has_agreement": "no"}
    )
    assert response.status_code == 422
    assert NOT_ONE_LINE in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).name == "Harbour Housing"


def test_a_service_users_names_are_single_line(client):
    """M4: her given and family names refuse line breaks, in the API and the form."""
    system, secret = make_client(host_agency(), "service-users:read service-users:write")
    headers = bearer(client, system, secret)
    for body in ({"given_name": "Ann\nBcc: x", "family_name": "Example"}, {"given_name": "Ann", "family_name": "Ex\r"}):
        response = client.post("/api/v1/service-users", json=body, headers=headers)
        assert response.status_code == 422, response.json
    sign_in(client, make_user(Role.PRACTITIONER))
    token = csrf_token(client, "/service-users/new")
    form = client.post(
        "/service-users/new", data={"csrf_token": token, "given_name": "Ann", "family_name": "Ex\tample"}
    )
    assert form.status_code == 422
    assert NOT_ONE_LINE in form.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceUser)) == 0


def test_create_user_refuses_a_name_with_a_line_break(app):
    """M4: ``flask hub create-user --name`` refuses control characters; no account is made."""
    host = host_agency()
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=[
            "hub",
            "create-user",
            "--email",
            "new@example.org",
            "--agency",
            host.slug,
            "--role",
            "practitioner",
            "--name",
            "New\nPerson",
        ]
    )
    assert result.exit_code == 2, result.output
    assert NOT_ONE_LINE in result.output
    assert db.session.scalar(sa.select(User.id).where(User.email == "new@example.org")) is None
