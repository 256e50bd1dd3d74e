"""The public Open Referral UK feed, checked from outside as ../shared/API.md ("Open Referral UK") and the
profile write it: every answer validated against the profile's published JSON schemas, read at test time
from ../shared/standards/oruk-3.0/schema/ (never copied here), with a real JSON Schema validator
(jsonschema-rs, formats checked, offline: each ``$ref`` to openreferraluk.org answered from those files).

- Only services marked to publish appear; a partner's only when the partner itself said so.
- The drop-in service carries the rota's venue and weekly schedule (``freq: WEEKLY``, ``byday: WE``).
- ``assured_date`` is when someone last confirmed the service; ``last_modified`` its latest audit entry.
- Public (no sign-in), ``Access-Control-Allow-Origin: *`` on every answer, errors included.
- No named member of staff, no email of a person and no woman appears anywhere in any answer.
- A page costs the same statements for 2 services as for 30.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import sqlalchemy as sa
import time_machine

from agencies import services as agency_services
from agencies.models import AgencyKind, AgencyService, ServiceStatus
from consent import services as consent_services
from hub.db import db
from hub.permissions import Invalid, Role
from rota import services as rota_services
from tests.conftest import count_queries
from tests.helpers import host_agency, make_agency, make_contact, make_user

SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "standards" / "oruk-3.0" / "schema"
REMOTE = "https://openreferraluk.org/specifications/3.0/schema/"
STAFF_NAME, STAFF_EMAIL = "Philippa Quennell-Ashdown", "p.quennell@example.org"
PARTNER_NAME, PARTNER_EMAIL = "Barnaby Oyelowo-Fenwick", "barnaby.of@example.org"
WOMAN_GIVEN, WOMAN_FAMILY = "Esmeralda", "Thistlewood-Amankwah"


def _retrieve(uri: str) -> Any:
    assert uri.startswith(REMOTE), f"the schema refers outside the profile: {uri}"
    return json.loads((SCHEMAS / uri.removeprefix(REMOTE)).read_text())


def validator(name: str) -> Any:
    """The profile's schema ``name`` (e.g. ``service_list.json``), its references answered from the files."""
    if not SCHEMAS.is_dir():
        pytest.fail(f"the Open Referral UK schemas are not at {SCHEMAS} (../shared/standards/oruk-3.0/schema)")
    schema = json.loads((SCHEMAS / name).read_text())
    return jsonschema_rs.validator_for(schema, retriever=_retrieve, validate_formats=True)


def assert_valid(name: str, body: Any) -> None:
    errors = [f"{e.instance_path}: {e.message}" for e in validator(name).iter_errors(body)]
    assert not errors, f"{name}: {errors[:5]}"


@pytest.fixture
def world() -> dict[str, Any]:
    """Our published drop-in and an unpublished service; a partner's published and unpublished services, and
    one of a partner that never agreed; named people everywhere, and a woman."""
    host = host_agency()
    manager = make_user(Role.MANAGER, host, name=STAFF_NAME, email=STAFF_EMAIL)
    housing = make_agency(AgencyKind.HOUSING, name="Example Housing Options", email="housing@example.org")
    lead = make_user(Role.PARTNER_LEAD, housing, name=PARTNER_NAME, email=PARTNER_EMAIL)
    housing.key_contact_id = db.session.scalars(sa.select(sa.text("id")).select_from(sa.text("contacts"))
                                                .where(sa.text(f"user_id = {lead.id}"))).one()  # fmt: skip
    probation = make_agency(AgencyKind.PROBATION, name="Example Probation")
    make_contact(probation, name="Cordelia Stanhope-Mbeki", email="cordelia@example.org")
    woman = consent_services.create_service_user(manager, {"given_name": WOMAN_GIVEN, "family_name": WOMAN_FAMILY})
    rota_services.save_series(manager, None, {
        "name": "Wonder Women Wednesdays", "weekday": 2, "starts_at": dt.time(10), "ends_at": dt.time(14),
        "venue": "The Example Women's Centre, 1 Test Street", "weeks_ahead": 4, "wanted_services": ["housing"],
    })  # fmt: skip
    drop_in = agency_services.add_service(manager, host, {
        "name": "The women's drop-in", "description": "Come in for a cup of tea and help from every agency.",
        "publish": True, "drop_in": True, "email": "dropin@example.org",
    })  # fmt: skip
    hidden = agency_services.add_service(manager, host, {"name": "Prison in-reach", "description": "Visits"})
    beds = agency_services.add_service(lead, housing, {
        "name": "Emergency beds for women", "description": "Same-day beds.", "publish": True,
        "url": "https://housing.example.org/beds", "status": ServiceStatus.TEMPORARILY_CLOSED,
    })  # fmt: skip
    agency_services.add_service(lead, housing, {"name": "Housing register advice"})
    supervision = agency_services.add_service(manager, probation, {"name": "Supervision on licence"})
    db.session.commit()
    return {"host": host, "manager": manager, "housing": housing, "lead": lead, "probation": probation,
            "woman": woman, "drop_in": drop_in, "hidden": hidden, "beds": beds, "supervision": supervision}  # fmt: skip


def _no_people(body: Any, world: dict[str, Any]) -> None:
    text = json.dumps(body)
    for person in (STAFF_NAME, STAFF_EMAIL, PARTNER_NAME, PARTNER_EMAIL, "Cordelia", WOMAN_GIVEN, WOMAN_FAMILY,
                   world["woman"].reference):  # fmt: skip
        assert person not in text, f"the feed names {person}"


def test_the_api_details_say_which_profile(client: Any) -> None:
    answer = client.get("/openreferral/")
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"
    assert_valid("api_details.json", answer.json)
    assert answer.json["version"] == "HSDS-UK-3.0"


def test_the_list_holds_only_what_its_agency_chose_to_publish(client: Any, world: dict[str, Any]) -> None:
    answer = client.get("/openreferral/services")
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"
    body = answer.json
    assert_valid("service_list.json", body)
    assert {s["id"] for s in body["contents"]} == {world["drop_in"].public_id, world["beds"].public_id}
    assert (body["total_items"], body["total_pages"], body["page_number"], body["size"]) == (2, 1, 1, 2)
    assert body["first_page"] and body["last_page"] and not body["empty"]
    beds = next(s for s in body["contents"] if s["name"] == "Emergency beds for women")
    assert beds["status"] == "temporarily closed" and beds["organization"]["name"] == "Example Housing Options"
    assert beds["organization_id"] == world["housing"].public_id == beds["organization"]["id"]
    _no_people(body, world)


def test_the_drop_in_is_nested_with_its_venue_and_weekly_schedule(client: Any, world: dict[str, Any]) -> None:
    answer = client.get(f"/openreferral/services/{world['drop_in'].public_id}")
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"
    body = answer.json
    assert_valid("service_with_definitions.json", body)
    assert_valid("service.json", body)
    (schedule,) = body["schedules"]
    weekly = (schedule["freq"], schedule["byday"], schedule["opens_at"], schedule["closes_at"])
    assert weekly == ("WEEKLY", "WE", "10:00", "14:00")
    (place,) = body["service_at_locations"]
    assert place["location"]["name"] == "The Example Women's Centre, 1 Test Street"
    assert place["location"]["location_type"] == "physical" and schedule["service_at_location_id"] == place["id"]
    assert body["contacts"] == [] and body["email"] == "dropin@example.org"
    assert body["assured_date"] == dt.date.today().isoformat()
    _no_people(body, world)
    again = client.get(f"/openreferral/services/{world['drop_in'].public_id}").json
    assert again["schedules"][0]["id"] == schedule["id"], "a schedule keeps its id"
    beds = client.get(f"/openreferral/services/{world['beds'].public_id}").json
    assert_valid("service_with_definitions.json", beds)
    assert beds["schedules"] == [] and beds["service_at_locations"] == []


def test_a_service_not_published_is_not_found(client: Any, world: dict[str, Any]) -> None:
    for service in ("hidden", "supervision"):
        answer = client.get(f"/openreferral/services/{world[service].public_id}")
        assert answer.status_code == 404 and answer.headers["Access-Control-Allow-Origin"] == "*", service
    for odd in ("not-a-uuid", "00000000-0000-0000-0000-000000000000", str(world["beds"].id)):
        answer = client.get(f"/openreferral/services/{odd}")
        assert answer.status_code == 404 and answer.headers["Access-Control-Allow-Origin"] == "*", odd
    assert client.get("/openreferral/organizations/x").headers["Access-Control-Allow-Origin"] == "*"


def test_our_staff_cannot_publish_a_partners_service(world: dict[str, Any]) -> None:
    supervision = world["supervision"]
    with pytest.raises(Invalid) as refused:
        agency_services.update_service(world["manager"], supervision, {"publish": True})
    assert "Only the agency itself" in str(refused.value.errors)
    db.session.rollback()
    assert db.session.get(AgencyService, supervision.id).publish is False
    # ... but may take one out of the feed at once
    agency_services.update_service(world["manager"], world["beds"], {"publish": False})
    assert world["beds"].publish is False


def test_last_modified_comes_from_the_audit_log_and_assured_date_from_the_last_check(
    client: Any, world: dict[str, Any]
) -> None:
    later = dt.datetime(2027, 3, 4, 11, 22, 33, 456000, tzinfo=dt.UTC)
    with time_machine.travel(later, tick=False):
        agency_services.update_service(world["lead"], world["beds"], {"description": "Same-day beds, every day."})
        db.session.commit()
        body = client.get(f"/openreferral/services/{world['beds'].public_id}").json
    assert body["last_modified"] == "2027-03-04T11:22:33.456Z"
    assert body["assured_date"] == "2027-03-04" and body["description"] == "Same-day beds, every day."


def test_pages_search_and_organisation(client: Any, world: dict[str, Any]) -> None:
    for n in range(3):
        agency_services.add_service(world["lead"], world["housing"], {"name": f"Tenancy help {n}", "publish": True})
    db.session.commit()
    first = client.get("/openreferral/services?per_page=2").json
    assert_valid("service_list.json", first)
    assert (first["total_items"], first["total_pages"], first["size"], first["last_page"]) == (5, 3, 2, False)
    last = client.get("/openreferral/services?per_page=2&page=3").json
    assert (last["size"], last["last_page"], last["first_page"]) == (1, True, False)
    beyond = client.get("/openreferral/services?per_page=2&page=9").json
    assert_valid("service_list.json", beyond)
    assert beyond["empty"] and beyond["contents"] == []
    seen = {
        s["id"] for p in (1, 2, 3) for s in client.get(f"/openreferral/services?per_page=2&page={p}").json["contents"]
    }
    assert len(seen) == 5, "each service on one page only"
    found = client.get("/openreferral/services?search=tenancy").json
    assert found["total_items"] == 3
    assert client.get("/openreferral/services?search=100%25").json["total_items"] == 0
    ours = client.get(f"/openreferral/services?organization_id={world['host'].public_id}").json
    assert [s["id"] for s in ours["contents"]] == [world["drop_in"].public_id]


@pytest.mark.parametrize("query", ["page=0", "page=x", "per_page=0", "per_page=201", "page=-1",
                                   "organization_id=nope", "page=%C2%B2"])  # fmt: skip
def test_bad_paging_gets_a_clear_problem(client: Any, world: dict[str, Any], query: str) -> None:
    answer = client.get(f"/openreferral/services?{query}")
    assert answer.status_code == 422, query
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.json["detail"]


def test_a_page_costs_the_same_for_2_services_as_for_30(app: Any, client: Any, world: dict[str, Any]) -> None:
    def statements() -> int:
        client.get("/openreferral/services?per_page=50")
        with count_queries(app) as seen:
            assert client.get("/openreferral/services?per_page=50").status_code == 200
        return len(seen)

    few = statements()
    for n in range(28):
        agency = make_agency(AgencyKind.OTHER, name=f"Partner {n}")
        lead = make_user(Role.PARTNER_LEAD, agency)
        agency_services.add_service(lead, agency, {"name": f"Service {n}", "publish": True})
    db.session.commit()
    many = statements()
    assert client.get("/openreferral/services?per_page=50").json["total_items"] == 30
    assert many == few, f"{few} statements for 2 services, {many} for 30"
