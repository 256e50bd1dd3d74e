"""The charity can be reached like any agency: its own directory entry has its phone, email, address
and its staff as contacts (in the demo too), and every phone number and email on the directory's
pages is a link that phones or writes (``tel:`` without spaces, ``mailto:``)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from agencies import demo, queries, services
from agencies.models import Agency, AgencyKind, Contact, ContactStatus
from hub.auth.models import User
from hub.db import db, today
from hub.permissions import SYSTEM, Role
from tests.helpers import host_agency, make_agency, make_contact, make_user, post_form, sign_in

TEL = re.compile(r'href="tel:([^"]*)"')
MAILTO = re.compile(r'href="mailto:([^"]*)"')


def _links_for(html: str, phone: str, email: str) -> None:
    """Every appearance of the number and the address on the page is the text of a link to it."""
    assert phone.replace(" ", "") in TEL.findall(html), f"no tel: link for {phone}"
    assert email in MAILTO.findall(html), f"no mailto: link for {email}"
    for number in TEL.findall(html):
        assert not re.search(r"\s", number), f"tel:{number} has spaces"
    visible = re.sub(r"<a\b[^>]*>.*?</a>", "", html, flags=re.S)  # everything not inside a link
    assert phone not in visible and email not in visible, "a phone number or email shown as plain text"


@pytest.fixture
def demo_hub(app):
    assert demo.load()
    db.session.flush()
    host = queries.host_agency()
    assert host is not None
    return host


def test_the_demo_gives_the_charity_a_directory_entry_a_partner_can_reach(client, demo_hub):
    host = demo_hub
    assert host.phone and host.email and host.address
    staff_contacts = db.session.scalars(
        sa.select(Contact).where(Contact.agency_id == host.id, Contact.status == ContactStatus.ACTIVE)
    ).all()
    names = {c.name for c in staff_contacts}
    assert {"Priya Natt", "Sam Okafor", "Jo Marsh"} <= names
    assert "Dee Walsh" not in names  # she has left: listed as left, not as someone to call
    assert all(c.user_id and c.phone and c.email for c in staff_contacts)
    assert db.session.get(Contact, host.key_contact_id).name == "Priya Natt"

    officer = db.session.scalar(sa.select(User).where(User.email == "officer@probation.example.org"))
    sign_in(client, officer)
    response = client.get(f"/agencies/{host.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    _links_for(html, host.phone, host.email)
    sam = next(c for c in staff_contacts if c.name == "Sam Okafor")
    _links_for(html, sam.phone, sam.email)
    assert "Dee Walsh" not in html  # a partner does not see who left another agency

    directory = client.get("/directory").get_data(as_text=True)
    assert "Northgate Women&#39;s Centre" in directory or "Northgate Women's Centre" in directory
    host_row = directory[directory.index(f'href="/agencies/{host.id}"') :]
    assert "Priya Natt" in host_row.split("</tr>")[0]  # its key contact, not a red "None"


def test_a_member_of_staffs_work_contact_is_their_entry_in_the_charitys_directory(demo_hub):
    sam = db.session.scalar(sa.select(User).where(User.email == "practitioner@northgate.example.org"))
    contact = queries.work_contact_of(sam.id)
    assert contact is not None and contact.agency_id == demo_hub.id and contact.phone


def test_phone_numbers_and_emails_are_links_on_the_agency_contact_and_directory_pages(client):
    agency = make_agency(
        AgencyKind.PROBATION, name="City Probation", phone="0113 496 0001", email="team@cp.example.org"
    )
    devi = make_contact(
        agency, name="Devi Anand", phone="07700 900 001", email="devi@cp.example.org", knowledge="recall"
    )
    sign_in(client, make_user(Role.PARTNER))
    _links_for(client.get(f"/agencies/{agency.id}").get_data(as_text=True), agency.phone, agency.email)
    _links_for(client.get(f"/agencies/{agency.id}").get_data(as_text=True), devi.phone, devi.email)
    _links_for(client.get(f"/contacts/{devi.id}").get_data(as_text=True), devi.phone, devi.email)
    _links_for(client.get("/directory?q=recall").get_data(as_text=True), devi.phone, devi.email)


def test_recording_a_member_of_staffs_directory_entry_as_left_does_not_close_their_account(client):
    """A practitioner may record any contact as left; one of our managers' entries in the charity's
    own directory entry leaving must not close the manager's account (only offboarding does)."""
    host = host_agency()
    manager = make_user(Role.MANAGER, name="Mo Manager")
    entry = make_contact(host, name="Mo Manager", user_id=manager.id)
    practitioner = make_user(Role.PRACTITIONER)
    sign_in(client, practitioner)
    response = post_form(client, f"/contacts/{entry.id}/leave", {"left_on": "1/11/2026"})
    assert response.status_code == 302
    assert db.session.get(Contact, entry.id).status is ContactStatus.LEFT
    assert db.session.get(User, manager.id).is_active


def test_a_partners_account_still_closes_when_their_contact_leaves(client):
    agency = make_agency()
    partner = make_user(Role.PARTNER, agency=agency)
    contact = db.session.scalar(sa.select(Contact).where(Contact.user_id == partner.id))
    services.record_leaver(SYSTEM, contact, left_on=today())
    assert not db.session.get(User, partner.id).is_active


def test_closing_a_colleagues_account_records_their_entry_in_the_charitys_directory_as_left(client):
    host = host_agency()
    leaver = make_user(Role.PRACTITIONER, name="Kit Brennan")
    taker = make_user(Role.PRACTITIONER, name="Sam Okafor")
    kit = make_contact(host, name="Kit Brennan", user_id=leaver.id)
    sam = make_contact(host, name="Sam Okafor", user_id=taker.id)
    host.key_contact_id, host.deputy_contact_id = kit.id, sam.id
    partner_agency = make_agency(relationship_owner_id=leaver.id)
    db.session.flush()
    sign_in(client, make_user(Role.MANAGER))
    response = post_form(client, f"/staff/{leaver.id}/offboard", {"default_user_id": str(taker.id)})
    assert response.status_code == 302
    handover_path = response.headers["Location"]
    assert post_form(client, f"{handover_path}/complete", {}, token_from=handover_path).status_code == 302

    assert db.session.get(Contact, kit.id).status is ContactStatus.LEFT
    fresh_host = db.session.get(Agency, host.id)
    assert fresh_host.key_contact_id == sam.id  # the deputy steps up, flagged to confirm
    assert fresh_host.roles_to_confirm
    assert db.session.get(Agency, partner_agency.id).relationship_owner_id == taker.id
    assert queries.work_contact_of(leaver.id) is None
