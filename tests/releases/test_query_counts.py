"""The releases board (our staff), a partner's releases and the API's list send the same number of
SQL statements for 2 releases as for 14: nothing on them is loaded release by release."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from consent import services as consent_services
from hub.db import db
from releases import queries, services
from releases.models import PlanItem
from tests.conftest import count_queries
from tests.helpers import bearer, make_client, sign_in
from tests.releases.world import RELEASE_CATEGORIES, ReleaseWorld, build, consent_to

FRIDAY = dt.date(2027, 3, 5)


@pytest.fixture(autouse=True)
def _monday() -> object:
    with time_machine.travel(dt.datetime(2027, 2, 1, 10, 0, tzinfo=dt.UTC), tick=False) as traveller:
        yield traveller


def _add_releases(world: ReleaseWorld, count: int, start: int) -> None:
    """``count`` women, each with a release in the next 8 weeks, a plan with a GP item referred to the
    practice (every third one acknowledged), and a housing item: lazy loads per row would show."""
    for n in range(start, start + count):
        woman = consent_services.create_service_user(world.staff, {"given_name": f"Given{n}", "family_name": "Q"})
        for agency in (world.probation, world.health):
            consent_to(world.staff, woman, agency, ["referral", "release_planning"], RELEASE_CATEGORIES)
        nominal = FRIDAY + dt.timedelta(days=7 * (n % 4))
        episode = services.record_custody(world.staff, woman, {
            "prison_agency_id": world.prison.id, "custody_type": "sentenced", "sentence_kind": "determinate",
            "sentenced_on": nominal - dt.timedelta(days=120), "term_days": 240, "release_type": "automatic",
            "nominal_release_on": nominal, "probation_contact_id": world.po.id, "needs": ["gp_register", "meet"],
        })  # fmt: skip
        gp = next(i for i in queries.plan_items(episode) if i.title.startswith("Register"))
        referral = services.refer_plan_item(world.staff, gp, {
            "agency_id": world.health.id, "data_categories": ["identity", "physical_health"], "reason": "GP",
        })  # fmt: skip
        if n % 3 == 0:
            from referrals.actions import ACTIONS

            ACTIONS["acknowledge"].run(world.gp_lead, referral, {})
        services.add_plan_item(world.staff, episode, {"pathway": "accommodation", "title": "A bed",
                                                      "agency_id": world.housing.id})  # fmt: skip
    db.session.flush()


def _statements(app, fetch) -> int:
    fetch()  # warm: the first request loads what every request then has cached (settings, templates)
    with count_queries(app) as seen:
        response = fetch()
    assert response.status_code == 200
    return len(seen)


@pytest.mark.parametrize("who", ["staff", "partner", "api"])
def test_the_releases_lists_cost_the_same_for_2_releases_as_for_14(app, client, who):
    world = build()
    _add_releases(world, 2, 0)
    if who == "api":
        system, secret = make_client(world.host, "releases:read")
        headers = bearer(client, system, secret)

        def fetch():
            return client.get("/api/v1/releases?from=2027-02-01&to=2027-04-30", headers=headers)
    else:
        sign_in(client, world.staff if who == "staff" else world.gp_lead)

        def fetch():
            return client.get("/releases")

    few = _statements(app, fetch)
    _add_releases(world, 12, 2)
    assert db.session.query(PlanItem).count() == 14 * 3
    many = _statements(app, fetch)
    assert many == few, f"{who}: {few} statements for 2 releases, {many} for 14"
    listed = fetch()
    if who == "api":
        body = listed.json
        assert len(body if isinstance(body, list) else body["items"]) == 14, "every release is listed"
    else:
        text = listed.get_data(as_text=True)
        assert "Given13" in text and "Given0" in text, "every release is listed"
