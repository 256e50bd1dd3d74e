"""A correction to her details is told to every agency that was given or shown who she is, without the
details; an agency that never had her identity is not told; bad input changes nothing."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from consent import services
from consent.models import Disclosure, DisclosureKind, ServiceUser
from hub.audit import AuditEvent
from hub.db import db
from hub.notifications.models import Notification
from hub.permissions import Role
from tests.helpers import make_agency, make_user, post_form, sign_in
from tests.reports.world import consent


def _scene() -> dict[str, Any]:
    staff = make_user(Role.PRACTITIONER)
    person = services.create_service_user(staff, {"given_name": "Ana", "family_name": "Exampel"})
    told, housing_only, never = (make_agency(name=n) for n in ("Told Agency", "Housing-only Agency", "Never Agency"))
    leads = {a.id: make_user(Role.PARTNER_LEAD, a) for a in (told, housing_only, never)}
    for agency, categories in ((told, ["identity", "housing"]), (housing_only, ["housing"])):
        basis = consent(person, agency, "2026-11-01")
        db.session.add(Disclosure(service_user_id=person.id, agency_id=agency.id, kind=DisclosureKind.SENT,
                                  data_categories=categories, purpose="referral", actor_kind="user",
                                  actor_id=staff.id, context="referral", context_id=1,
                                  consent_id=basis.id))  # fmt: skip
    db.session.commit()
    return {"staff": staff, "person": person, "told": told, "housing": housing_only, "never": never, "leads": leads}


def _names(s: dict[str, Any]) -> tuple[str, str]:
    row = db.session.execute(sa.select(ServiceUser.given_name, ServiceUser.family_name)
                             .where(ServiceUser.id == s["person"].id)).one()  # fmt: skip
    return row[0], row[1]


def test_every_agency_given_who_she_is_is_told_without_the_details(client: FlaskClient, app: Any) -> None:
    s = _scene()
    sign_in(client, s["staff"])
    path = f"/service-users/{s['person'].id}/correct"
    done = post_form(client, path, {"given_name": "Anna", "family_name": "Example", "date_of_birth": ""})
    assert done.status_code == 302
    assert _names(s) == ("Anna", "Example")
    sent = db.session.scalars(sa.select(Notification).where(Notification.kind == "service_user.corrected")).all()
    assert [n.user_id for n in sent] == [s["leads"][s["told"].id].id]  # not housing-only, not never
    for text in (sent[0].subject, sent[0].body):
        assert "Anna" not in text and "Example" not in text and "Ana" not in text and s["person"].reference in text
    entry = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "service_user.corrected")).one()
    assert entry.data["fields"] == ["given_name", "family_name"] and "Anna" not in json.dumps(entry.data)


def test_no_change_tells_nobody_and_bad_input_changes_nothing(client: FlaskClient, app: Any) -> None:
    s = _scene()
    assert services.correct_service_user(s["staff"], s["person"], {"given_name": "Ana"}) == []
    sign_in(client, s["staff"])
    path = f"/service-users/{s['person'].id}/correct"
    bad = post_form(client, path, {"given_name": "", "family_name": "X", "date_of_birth": "31/2/1990"})
    assert bad.status_code == 422 and "There is a problem" in bad.get_data(as_text=True)
    future = post_form(client, path, {"given_name": "A", "family_name": "X", "date_of_birth": "1/1/2999"})
    assert future.status_code == 422
    assert _names(s) == ("Ana", "Exampel")
    assert not db.session.scalars(sa.select(Notification).where(Notification.kind == "service_user.corrected")).all()


def test_partners_cannot_correct_her(client: FlaskClient, app: Any) -> None:
    s = _scene()
    sign_in(client, s["leads"][s["told"].id])
    got = client.get(f"/service-users/{s['person'].id}/correct")
    assert got.status_code in (403, 404)
