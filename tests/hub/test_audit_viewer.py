"""The audit viewer reads like the rest of the hub: people by name, UK local times, actions in words,
the record each entry is about linked to its page; the filter kept from page to page; names for
the whole page in one query; and it never names a woman."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from consent import services as consent
from hub import audit
from hub.audit import AuditEvent
from hub.db import db
from hub.oauth.server import client_actor
from hub.permissions import SYSTEM, Role
from hub.web import audit_labels
from tests.conftest import count_queries
from tests.helpers import make_agency, make_client, make_user, sign_in


def _text(response) -> str:
    assert response.status_code == 200
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def _at(event: AuditEvent, when: dt.datetime) -> None:
    """Give an (unsealed) entry a fixed time, as the log would have recorded it then."""
    db.session.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == event.id).values(occurred_at=when))
    db.session.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    db.session.expire_all()


def test_entries_name_people_in_uk_time_with_actions_in_words(client):
    admin = make_user(Role.ADMIN, name="Rowan Ellis")
    priya = make_user(Role.MANAGER, name="Priya Natt")
    kit = make_user(Role.PRACTITIONER, name="Kit Brennan")
    signed_in = audit.record(priya, "auth.signed_in", priya)
    _at(signed_in, dt.datetime(2026, 5, 3, 13, 5, tzinfo=dt.UTC))  # British Summer Time: 14:05 in London
    winter = audit.record(priya, "staff.handed_over", object_type="handover", object_id=7, leaver_id=kit.id, items=3)
    _at(winter, dt.datetime(2026, 12, 1, 23, 52, tzinfo=dt.UTC))  # GMT: the same time in London
    agency = make_agency(name="Harbour Housing")
    audit.record(priya, "agency.updated", agency, fields=["phone", "email"])
    system, _secret = make_client(agency, "directory:read")
    audit.record(client_actor(system), "referral.acknowledge", object_type="referral", object_id=12)
    audit.record(None, "auth.sign_in_failed", step="password", account="0123abcd")
    audit.record(SYSTEM, "rota.slot_taken", object_type="rota_slot", object_id=3)
    audit.record(admin, "user.disabled", kit, sessions_ended=1)

    sign_in(client, admin)
    response = client.get("/audit")
    page = _text(response)
    html = response.get_data(as_text=True)
    assert "3 May 2026, 14:05" in page and "1 December 2026, 23:52" in page
    assert "2026-05-03" not in page
    assert "Priya Natt Signed in" in page and "Account of Priya Natt" not in page  # her own: named once
    assert "Rowan Ellis Account closed Account of Kit Brennan" in page
    assert "Colleague's work handed over" in page or "Colleague&#39;s work handed over" in html
    assert "Leaver: Kit Brennan" in page and 'href="/handovers/7"' in html
    assert "Agency details changed" in page and f'href="/agencies/{agency.id}"' in html
    assert "Fields: phone, email" in page
    assert f"{system.name} (partner system)" in page and "Referral acknowledged" in page
    assert 'href="/referrals/12"' in html
    assert "Someone not signed in" in page and "Sign-in failed" in page
    assert "The hub itself" in page and "Rota: slot taken" in page  # an action the viewer does not know yet
    assert not re.search(r"\buser \d+\b", page) and not re.search(r"\bclient \d+\b", page)


def test_a_woman_is_never_named_only_her_record_linked(client):
    practitioner = make_user(Role.PRACTITIONER)
    person = consent.create_service_user(
        practitioner, {"given_name": "Ann", "family_name": "Example", "date_of_birth": dt.date(1990, 3, 27)}
    )
    sign_in(client, make_user(Role.ADMIN))
    response = client.get("/audit")
    page = _text(response)
    assert "Woman's record created" in page or "Woman&#39;s record created" in response.get_data(as_text=True)
    assert f'href="/service-users/{person.id}"' in response.get_data(as_text=True)
    assert "Ann" not in page and "Example" not in page


def test_the_filter_is_kept_on_every_page_and_in_the_check(client):
    for i in range(60):
        audit.record(SYSTEM, "contact.updated", object_type="contact", object_id=i, fields=["phone"])
    audit.record(SYSTEM, "agency.updated", object_type="agencie", object_id=1, fields=["phone"])
    sign_in(client, make_user(Role.ADMIN))
    response = client.get("/audit?action=contact.")
    html = response.get_data(as_text=True)
    assert 'value="contact."' in html
    assert "page=2&amp;action=contact." in html or "action=contact.&amp;page=2" in html
    assert "verify=1&amp;action=contact." in html or "action=contact.&amp;verify=1" in html
    assert "Agency details changed" not in _text(response)
    second = client.get("/audit?action=contact.&page=2")
    assert "Contact details changed" in _text(second) and "Agency details changed" not in _text(second)
    nothing = _text(client.get("/audit?action=nothing.here"))
    assert "No entries for actions starting “nothing.here”" in nothing


def test_the_page_names_everyone_in_one_query(app, client):
    admin = make_user(Role.ADMIN)
    sign_in(client, admin)

    def cost() -> int:
        db.session.commit()
        db.session.expunge_all()
        with count_queries(app) as statements:
            assert client.get("/audit").status_code == 200
        return len(statements)

    for _ in range(2):
        user = make_user(Role.PRACTITIONER)
        audit.record(user, "auth.signed_in", user)
    few = cost()
    for _ in range(45):
        user = make_user(Role.PRACTITIONER)
        audit.record(user, "auth.signed_in", user)
    assert cost() == few


def test_readable_actions_have_a_fallback_for_codes_not_yet_known():
    assert audit_labels.action_label("auth.signed_in") == "Signed in"
    assert audit_labels.action_label("referral.acknowledge") == "Referral acknowledged"
    assert audit_labels.action_label("forum.action_added") == "Forum: action added"
    assert audit_labels.action_label("oddity") == "Oddity"
