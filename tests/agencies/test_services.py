"""An agency's services as records: the API of ../shared/API.md (``/api/v1/agencies/{id}/services``,
``PATCH /api/v1/services/{id}``), the agency's page, who may change and who may publish, bad input, and
the migration that keeps what the free-text field held."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa

from agencies.models import AgencyKind, AgencyService
from hub.app import create_app
from hub.db import db
from hub.permissions import Role
from tests.conftest import make_settings
from tests.helpers import bearer, host_agency, make_agency, make_client, make_user, post_form, sign_in


@pytest.fixture
def world() -> dict[str, Any]:
    host = host_agency()
    housing = make_agency(AgencyKind.HOUSING, name="Example Housing Options")
    other = make_agency(AgencyKind.IDVA, name="Example IDVA")
    made = {"host": host, "housing": housing, "other": other,
            "manager": make_user(Role.MANAGER, host), "practitioner": make_user(Role.PRACTITIONER, host),
            "lead": make_user(Role.PARTNER_LEAD, housing), "staff": make_user(Role.PARTNER, housing),
            "other_lead": make_user(Role.PARTNER_LEAD, other)}  # fmt: skip
    db.session.commit()
    return made


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AgencyService.id))) or 0


def test_a_partner_system_lists_adds_and_changes_its_own_services(client: Any, world: dict[str, Any]) -> None:
    system, secret = make_client(world["housing"], "directory:read directory:write")
    headers = bearer(client, system, secret)
    path = f"/api/v1/agencies/{world['housing'].id}/services"
    assert client.get(path, headers=headers).json == []
    made = client.post(path, headers=headers, json={"name": "Emergency beds", "description": "Same-day beds",
                                                    "publish": True, "email": "beds@example.org"})  # fmt: skip
    assert made.status_code == 201, made.json
    body = made.json
    assert {"id", "agency_id", "name", "description", "status", "publish"} <= set(body)
    assert (body["agency_id"], body["status"], body["publish"]) == (world["housing"].id, "active", True)
    assert body["last_verified_on"] == dt.date.today().isoformat() and len(body["public_id"]) == 36
    changed = client.patch(f"/api/v1/services/{body['id']}", headers=headers, json={"status": "temporarily_closed"})
    assert changed.status_code == 200 and changed.json["status"] == "temporarily_closed"
    listed = client.get(path, headers=headers).json
    assert [s["name"] for s in listed] == ["Emergency beds"]
    # Not another agency's
    elsewhere = client.post(f"/api/v1/agencies/{world['other'].id}/services", headers=headers, json={"name": "Mine"})
    assert elsewhere.status_code == 403 and _count() == 1


def test_our_system_may_not_publish_a_partners_service(client: Any, world: dict[str, Any]) -> None:
    system, secret = make_client(world["host"], "directory:read directory:write")
    headers = bearer(client, system, secret)
    path = f"/api/v1/agencies/{world['housing'].id}/services"
    refused = client.post(path, headers=headers, json={"name": "Beds", "publish": True})
    assert refused.status_code == 422 and "publish" in refused.json["errors"] and _count() == 0
    made = client.post(path, headers=headers, json={"name": "Beds"})
    assert made.status_code == 201
    again = client.patch(f"/api/v1/services/{made.json['id']}", headers=headers, json={"publish": True})
    assert again.status_code == 422 and db.session.get(AgencyService, made.json["id"]).publish is False
    ours = client.post(f"/api/v1/agencies/{world['host'].id}/services", headers=headers,
                       json={"name": "The drop-in", "publish": True, "drop_in": True})  # fmt: skip
    assert ours.status_code == 201 and ours.json["drop_in"] is True
    not_ours = client.patch(f"/api/v1/services/{made.json['id']}", headers=headers, json={"drop_in": True})
    assert not_ours.status_code == 422 and "drop_in" in not_ours.json["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "name"), ({"name": "x"}, "name"), ({"name": "Beds", "status": "open"}, "status"),
     ({"name": "Beds", "publish": "yes"}, "publish"), ({"name": "Beds", "url": "javascript:alert(1)"}, "url"),
     ({"name": "Beds", "email": "not an email"}, "email"), ({"name": "Beds", "colour": "red"}, "colour"),
     ({"name": "B" * 201}, "name"), ({"name": "Beds\nand more"}, "name")],
)  # fmt: skip
def test_bad_input_gets_a_clear_problem_and_changes_nothing(
    client: Any, world: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    system, secret = make_client(world["housing"], "directory:write")
    answer = client.post(f"/api/v1/agencies/{world['housing'].id}/services", headers=bearer(client, system, secret),
                         json=body)  # fmt: skip
    assert answer.status_code == 422 and field in answer.json.get("errors", {}), answer.json
    assert _count() == 0


def test_without_the_scope_or_a_token_the_api_refuses(client: Any, world: dict[str, Any]) -> None:
    path = f"/api/v1/agencies/{world['housing'].id}/services"
    assert client.get(path).status_code == 401
    system, secret = make_client(world["housing"], "directory:read")
    assert client.post(path, headers=bearer(client, system, secret), json={"name": "Beds"}).status_code == 403
    assert client.get("/api/v1/services/999999", headers=bearer(client, system, secret)).status_code == 404


def test_the_agency_page_lists_its_services_and_the_lead_adds_and_publishes_one(
    client: Any, world: dict[str, Any]
) -> None:
    sign_in(client, world["lead"])
    page = f"/agencies/{world['housing'].id}"
    assert "No services recorded yet." in client.get(page).get_data(as_text=True)
    form = f"{page}/services/new"
    blank = post_form(client, form, {"name": ""})
    assert blank.status_code == 422 and "Enter the service" in blank.get_data(as_text=True) and _count() == 0
    made = post_form(client, form, {"name": "Emergency beds", "description": "Same-day beds", "status": "active",
                                    "publish": "yes"})  # fmt: skip
    assert made.status_code == 302 and made.headers["Location"].endswith(f"{page}#services")
    service = db.session.scalars(sa.select(AgencyService)).one()
    assert service.publish and service.agency_id == world["housing"].id
    shown = client.get(page).get_data(as_text=True)
    assert "Emergency beds" in shown and "Listed" in shown
    edited = post_form(client, f"/services/{service.id}/edit", {"status": "inactive"})
    assert edited.status_code == 302
    db.session.expire_all()
    assert db.session.get_one(AgencyService, service.id).status.value == "inactive"
    # Partner staff and another agency's lead see it, but cannot change it
    for who in ("staff", "other_lead"):
        sign_in(client, world[who])
        assert "Emergency beds" in client.get(page).get_data(as_text=True)
        assert client.get(f"/services/{service.id}/edit").status_code == 403, who
        assert client.get(f"{page}/services/new").status_code == 403, who


def test_our_staff_confirm_a_service_is_still_right(client: Any, world: dict[str, Any]) -> None:
    service = AgencyService(agency_id=world["housing"].id, name="Beds", last_verified_on=dt.date(2025, 1, 1))
    db.session.add(service)
    db.session.commit()
    sign_in(client, world["practitioner"])
    page = f"/agencies/{world['housing'].id}"
    form = client.get(f"/services/{service.id}/edit").get_data(as_text=True)
    assert 'name="publish"' not in form  # our staff cannot list a partner's service
    assert "Only Example Housing Options can list this service" in form
    done = post_form(client, f"/services/{service.id}/verify", {}, page)
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get_one(AgencyService, service.id).last_verified_on == dt.date.today()


def test_the_migration_keeps_each_line_of_the_free_text_as_a_service(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    app = create_app(make_settings(database_url=url))
    engine = sa.create_engine(url)
    with app.app_context():
        flask_migrate.upgrade(revision="d18f7c6c0016")
    with engine.begin() as connection:
        connection.execute(sa.text(
            "insert into agencies (slug, name, kind, services, how_to_refer, address, phone, email, website,"
            " has_agreement, agreement_summary, created_at, updated_at) values"
            " ('beds', 'Beds', 'housing', :text, '', '', '', '', '', 0, '', '2026-01-01', '2026-01-01'),"
            " ('none', 'None', 'idva', '', '', '', '', '', '', 0, '', '2026-01-01', '2026-01-01')"
        ), {"text": "Emergency beds.\n - The housing register\n\n" + "Tenancy support " * 20})  # fmt: skip
    with app.app_context():
        flask_migrate.upgrade()
    with engine.connect() as connection:
        rows = connection.execute(sa.text("select a.slug, s.name, s.description, s.publish, s.status from"
                                          " agency_services s join agencies a on a.id = s.agency_id"
                                          " order by s.id")).all()  # fmt: skip
        ids = connection.execute(sa.text("select public_id from agencies")).scalars().all()
    engine.dispose()
    assert [(slug, name) for slug, name, *_ in rows[:2]] == [("beds", "Emergency beds"),
                                                              ("beds", "The housing register")]  # fmt: skip
    long_one = rows[2]
    assert len(long_one[1]) == 200 and long_one[2].startswith("Tenancy support") and len(long_one[2]) > 300
    assert all(publish in (0, False) and status == "active" for *_, publish, status in rows)
    assert len(rows) == 3 and len(set(ids)) == 2 and all(len(i) == 36 for i in ids)
