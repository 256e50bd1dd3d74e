"""The release-planning API as API.md "Release planning" writes it: custody
episodes and their ``release``, a date change that moves the plan and tells
every agency once, the release and a second one refused, the releases to
come, the day-of-release rule for any valid token, plan items and their
referrals through the consent gate, what a partner system sees (nothing of
custody or plans; only the releases her consent shares with it), and bad
input refused without a trace.

Today is Monday 2 February 2026; the release is the prison's Friday 27 March
2026 (expected Thursday 26, planned for Wednesday 25 March).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask.testing import FlaskClient

from agencies.models import Agency, AgencyKind
from consent.models import Disclosure
from hub.db import db, utcnow
from hub.notifications.models import Notification
from hub.oauth.models import OAuthToken, secret_hash
from hub.permissions import Role
from referrals.models import Referral
from releases.models import PlanItem, ReleaseNotice
from tests.helpers import make_agency, make_client, make_user
from tests.releases.world import build, consent_to

SCOPES = "releases:read releases:write"
FRIDAY = "2026-03-27"
RELEASE_KEYS = {"nominal_on", "statutory_on", "expected_on", "earliest_on", "rule", "explanation", "ask_the_prison"}
# Tables a release-planning call could change: a refused call leaves all of them as they were.
TABLES = (
    "custody_episodes",
    "release_plan_items",
    "release_notices",
    "release_milestones_sent",
    "referrals",
    "referral_events",
    "disclosures",
    "notifications",
    "audit_events",
)


@dataclass
class Api:
    """The world of ``tests.releases.world`` by id, and bearer tokens for systems of its agencies."""

    http: FlaskClient
    agencies: dict[str, int]  # host, prison, probation, health, housing, idva
    person: int
    po: int  # her probation practitioner (a contact)
    gp_lead: int
    staff: int
    _tokens: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def headers(self, who: str = "host", scope: str = SCOPES) -> dict[str, str]:
        """A bearer token for an API client of agency ``who``, minted straight into the database
        (the token endpoint is covered by tests/hub/test_oauth.py)."""
        if (who, scope) not in self._tokens:
            oauth_client, _secret = make_client(db.session.get_one(Agency, self.agencies[who]), scope)
            token = secrets.token_urlsafe(32)
            db.session.add(OAuthToken(token_hash=secret_hash(token), client_pk=oauth_client.id, scope=scope,
                                      issued_at=utcnow(), expires_in=3600))  # fmt: skip
            db.session.flush()
            self._tokens[(who, scope)] = {"Authorization": f"Bearer {token}"}
        return self._tokens[(who, scope)]

    def forget_tokens(self) -> None:
        self._tokens.clear()

    def call(self, method: str, path: str, who: str = "host", **kw: Any) -> Any:
        return self.http.open(f"/api/v1{path}", method=method, headers=self.headers(who), **kw)

    def custody_body(self, **overrides: Any) -> dict[str, Any]:
        return {
            "prison_agency_id": self.agencies["prison"], "custody_type": "sentenced", "sentence_kind": "determinate",
            "sentenced_on": "2026-01-12", "term_days": 168, "release_type": "automatic",
            "nominal_release_on": FRIDAY, "probation_contact_id": self.po,
            "date_told_by": "Offender management unit, by phone", "date_told_on": "2026-02-02", **overrides,
        }  # fmt: skip

    def record(self, **overrides: Any) -> dict[str, Any]:
        response = self.call("POST", f"/service-users/{self.person}/custody", json=self.custody_body(**overrides))
        assert response.status_code == 201, response.get_data(as_text=True)
        return dict(response.json)

    def item(self, custody_id: int, **data: Any) -> dict[str, Any]:
        body = {"pathway": "health", "title": "Register with a GP before release", **data}
        response = self.call("POST", f"/custody/{custody_id}/plan-items", json=body)
        assert response.status_code == 201, response.get_data(as_text=True)
        return dict(response.json)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(dt.datetime(2026, 2, 2, 10, 0, tzinfo=dt.UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def api(client: FlaskClient, clock: Any) -> Api:
    world = build()
    idva = make_agency(AgencyKind.IDVA, name="Example IDVA Service", slug="example-idva")
    make_user(Role.PARTNER_LEAD, idva, name="Ida Lead")
    # Release planning with her sentence only, not who she is.
    consent_to(world.staff, world.person, idva, ["release_planning"], ["criminal_justice"])
    agencies = {"host": world.host.id, "prison": world.prison.id, "probation": world.probation.id,
                "health": world.health.id, "housing": world.housing.id, "idva": idva.id}  # fmt: skip
    api = Api(client, agencies, world.person.id, world.po.id, world.gp_lead.id, world.staff.id)
    for who in agencies:
        if who != "prison":
            api.headers(who)
    db.session.commit()
    return api


def snapshot() -> dict[str, list[Any]]:
    return {t: db.session.execute(sa.text(f"SELECT * FROM {t} ORDER BY id")).all() for t in TABLES}


def assert_problem(response: Any, status: int | tuple[int, ...], field: str | None = None) -> dict[str, Any]:
    text = response.get_data(as_text=True)
    allowed = (status,) if isinstance(status, int) else status
    assert response.status_code in allowed, text[:2000]
    assert response.mimetype == "application/problem+json", text[:2000]
    problem = dict(response.json)
    assert {"type", "title", "status", "detail"} <= set(problem)
    if field is not None:
        assert field in problem.get("errors", {}), problem
    return problem


def _count(model: Any, *where: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


# Custody episodes -------------------------------------------------------------------------------


def test_recording_custody_gives_its_id_status_and_release(api: Api) -> None:
    made = api.record()
    assert made["status"] == "in_custody" and isinstance(made["id"], int) and made["reference"].startswith("C-")
    assert set(made["release"]) == RELEASE_KEYS
    release = made["release"]
    assert (release["nominal_on"], release["statutory_on"], release["expected_on"], release["earliest_on"]) == (
        "2026-03-27", "2026-03-27", "2026-03-26", "2026-03-25",
    )  # fmt: skip
    assert (release["rule"], release["ask_the_prison"]) == ("friday_scheme", False)
    assert "Friday and pre-bank-holiday release scheme" in release["explanation"]
    assert api.call("GET", f"/custody/{made['id']}").json == made
    listed = api.call("GET", f"/service-users/{api.person}/custody")
    assert listed.status_code == 200 and [c["id"] for c in listed.json] == [made["id"]]
    # Her probation practitioner's agency is in the plan and her consent covers it: told at once.
    assert _count(ReleaseNotice, ReleaseNotice.custody_id == made["id"]) == 1


def test_a_new_date_recomputes_the_release_moves_the_plan_and_tells_each_agency_once(api: Api) -> None:
    made = api.record()
    item = api.item(made["id"], agency_id=api.agencies["health"], due_on="2026-02-25")
    referred = api.call("POST", f"/plan-items/{item['id']}/referral", json={
        "agency_id": api.agencies["health"], "data_categories": ["identity", "physical_health"],
        "reason": "Please register her before release.", "urgency": "routine"})  # fmt: skip
    assert referred.status_code == 201, referred.get_data(as_text=True)
    dates_told = _count(Notification, Notification.kind == "release.date")

    changed = api.call("PATCH", f"/custody/{made['id']}", json={"nominal_release_on": "2026-03-20"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    release = changed.json["release"]
    assert (release["statutory_on"], release["expected_on"], release["earliest_on"]) == (
        "2026-03-20", "2026-03-19", "2026-03-18",
    )  # fmt: skip
    assert changed.json["nominal_release_on"] == "2026-03-20"
    items = api.call("GET", f"/custody/{made['id']}/plan-items").json
    assert [i["due_on"] for i in items] == ["2026-02-18"]  # a week earlier, with the day planned for
    referral = db.session.get_one(Referral, referred.json["id"])
    assert referral.needed_by == dt.date(2026, 2, 18) and referral.acknowledge_by <= dt.date(2026, 2, 18)
    told = db.session.scalars(
        sa.select(ReleaseNotice.agency_id).where(
            ReleaseNotice.custody_id == made["id"], ReleaseNotice.expected_on == dt.date(2026, 3, 19)
        )
    ).all()
    assert sorted(told) == sorted([api.agencies["probation"], api.agencies["health"]])
    assert _count(Notification, Notification.kind == "release.date") == dates_told + 2
    # The same date again tells nobody.
    again = api.call("PATCH", f"/custody/{made['id']}", json={"nominal_release_on": "2026-03-20"})
    assert again.status_code == 200
    assert _count(Notification, Notification.kind == "release.date") == dates_told + 2


def test_the_release_records_who_had_not_been_told(api: Api, clock: Any) -> None:
    made = api.record()
    api.item(made["id"], agency_id=api.agencies["housing"], title="Somewhere safe on the first night")
    clock.move_to(dt.datetime(2026, 3, 25, 17, 0, tzinfo=dt.UTC))
    api.forget_tokens()  # the day's tokens have expired by then
    released = api.call("POST", f"/custody/{made['id']}/released", json={"released_on": "2026-03-25",
                                                                          "night_one": "other_housed"})  # fmt: skip
    assert released.status_code == 200, released.get_data(as_text=True)
    assert (released.json["status"], released.json["released_on"]) == ("released", "2026-03-25")
    assert released.json["agencies_untold"] == 1  # housing: no consent for release planning, never told
    assert released.json["night_one"] == "other_housed"


def test_releasing_twice_is_409_and_changes_nothing(api: Api) -> None:
    made = api.record()
    first = api.call("POST", f"/custody/{made['id']}/released", json={"released_on": "2026-02-02"})
    assert first.status_code == 200, first.get_data(as_text=True)
    before = snapshot()
    twice = api.call("POST", f"/custody/{made['id']}/released", json={"released_on": "2026-02-02"})
    assert snapshot() == before
    assert_problem(twice, 409)


def test_releases_come_soonest_first_with_what_is_not_done(api: Api) -> None:
    later = api.record(nominal_release_on="2026-03-27")
    sooner = api.record(nominal_release_on="2026-03-11")
    api.record(nominal_release_on="2026-06-26")  # outside the range
    api.item(sooner["id"], due_on="2026-02-20")
    done = api.item(sooner["id"], title="Apply for ID", pathway="finance_and_id")
    assert api.call("PATCH", f"/plan-items/{done['id']}", json={"status": "done"}).status_code == 200
    listed = api.call("GET", "/releases?from=2026-03-01&to=2026-03-31")
    assert listed.status_code == 200, listed.get_data(as_text=True)
    assert [(r["id"], r["items_not_done"]) for r in listed.json] == [(sooner["id"], 1), (later["id"], 0)]
    assert listed.json[0]["service_user_id"] == api.person and set(listed.json[0]["release"]) == RELEASE_KEYS


# The day-of-release rule, storing nothing ------------------------------------------------------

EXAMPLES = [
    # nominal, sentenced_on, statutory, expected, earliest, rule
    ("2026-03-27", "2025-10-01", "2026-03-27", "2026-03-26", "2026-03-25", "friday_scheme"),
    ("2026-04-06", "2025-10-01", "2026-04-02", "2026-04-01", "2026-03-31", None),  # Easter Monday
    ("2026-12-25", "2026-06-01", "2026-12-24", "2026-12-23", "2026-12-22", None),  # Christmas Day
    ("2026-12-29", "2026-06-01", "2026-12-29", "2026-12-29", None, "none"),
    ("2026-03-27", "2026-03-02", "2026-03-27", "2026-03-27", None, "friday_scheme_excluded"),  # 25 days served
]


@pytest.mark.parametrize(("nominal", "sentenced", "statutory", "expected", "earliest", "rule"), EXAMPLES)
def test_the_release_date_examples_of_the_api_document(
    api: Api, nominal: str, sentenced: str, statutory: str, expected: str, earliest: str | None, rule: str | None
) -> None:
    query = (f"/api/v1/release-date?nominal_on={nominal}&custody_type=sentenced&sentence_kind=determinate"
             f"&sentenced_on={sentenced}&release_type=automatic")  # fmt: skip
    before = snapshot()
    response = api.http.get(query, headers=api.headers("health", "directory:read"))  # any valid token
    assert response.status_code == 200, response.get_data(as_text=True)
    got = response.json
    assert set(got) == RELEASE_KEYS
    assert (got["nominal_on"], got["statutory_on"], got["expected_on"], got["earliest_on"]) == (
        nominal, statutory, expected, earliest,
    )  # fmt: skip
    if rule is not None:
        assert got["rule"] == rule
    assert snapshot() == before  # stores nothing
    assert_problem(api.http.get(query), 401)


# Plan items and their referrals ------------------------------------------------------------------


def test_plan_items_are_listed_added_and_changed(api: Api) -> None:
    made = api.record()
    added = api.item(made["id"], agency_id=api.agencies["health"], due_on="2026-02-25")
    assert {k: added[k] for k in ("custody_id", "pathway", "status", "responsible", "agency_id", "due_on")} == {
        "custody_id": made["id"], "pathway": "health", "status": "not_started", "responsible": "partner",
        "agency_id": api.agencies["health"], "due_on": "2026-02-25",
    }  # fmt: skip
    changed = api.call("PATCH", f"/plan-items/{added['id']}", json={"status": "done", "due_on": "2026-02-27"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert (changed.json["status"], changed.json["done_on"], changed.json["due_on"]) == (
        "done", "2026-02-02", "2026-02-27",
    )  # fmt: skip
    listed = api.call("GET", f"/custody/{made['id']}/plan-items")
    assert listed.status_code == 200 and [i["id"] for i in listed.json] == [added["id"]]
    assert listed.json[0]["status"] == "done"


def test_a_plan_item_referral_is_a_release_planning_referral_through_the_consent_gate(api: Api) -> None:
    made = api.record()
    item = api.item(made["id"], due_on="2026-02-25")
    referred = api.call("POST", f"/plan-items/{item['id']}/referral", json={
        "agency_id": api.agencies["health"], "data_categories": ["identity", "physical_health"],
        "reason": "Please register her before release."})  # fmt: skip
    assert referred.status_code == 201, referred.get_data(as_text=True)
    assert (referred.json["purpose"], referred.json["status"]) == ("release_planning", "sent")
    assert referred.json["needed_by"] == "2026-02-25"
    assert db.session.get_one(PlanItem, item["id"]).referral_id == referred.json["id"]


def test_a_referral_her_consent_does_not_cover_is_422_with_missing_and_creates_nothing(api: Api) -> None:
    made = api.record()
    item = api.item(made["id"], title="Somewhere safe on the first night", pathway="accommodation")
    before, referrals = snapshot(), _count(Referral)
    refused = api.call("POST", f"/plan-items/{item['id']}/referral", json={
        "agency_id": api.agencies["housing"], "data_categories": ["identity", "criminal_justice"],
        "reason": "A bed for the first night."})  # fmt: skip
    problem = assert_problem(refused, 422)
    assert "purpose" in problem["missing"]
    assert _count(Referral) == referrals
    assert snapshot() == before


# What a partner system sees ----------------------------------------------------------------------


def test_a_partner_system_gets_404_from_every_custody_and_plan_endpoint(api: Api) -> None:
    made = api.record()
    item = api.item(made["id"], agency_id=api.agencies["health"])
    calls = [
        ("GET", f"/service-users/{api.person}/custody", None),
        ("POST", f"/service-users/{api.person}/custody", api.custody_body()),
        ("GET", f"/custody/{made['id']}", None),
        ("PATCH", f"/custody/{made['id']}", {"nominal_release_on": "2026-03-20"}),
        ("POST", f"/custody/{made['id']}/released", {"released_on": "2026-02-02"}),
        ("POST", f"/custody/{made['id']}/recall", {"nominal_release_on": "2026-06-05"}),
        ("GET", f"/custody/{made['id']}/plan-items", None),
        ("POST", f"/custody/{made['id']}/plan-items", {"pathway": "health", "title": "GP"}),
        ("PATCH", f"/plan-items/{item['id']}", {"status": "done"}),
        ("POST", f"/plan-items/{item['id']}/referral",
         {"agency_id": api.agencies["health"], "data_categories": ["identity"], "reason": "GP"}),
    ]  # fmt: skip
    before = snapshot()
    for who in ("health", "housing"):  # in her plan with consent, and without
        for method, path, body in calls:
            assert_problem(api.call(method, path, who=who, json=body), 404)
    assert snapshot() == before


def test_a_partner_system_lists_only_the_releases_her_consent_shares_with_it(api: Api) -> None:
    made = api.record()
    for who in ("health", "housing", "idva"):
        api.item(made["id"], agency_id=api.agencies[who], title=f"Something from {who}")
    window = "/releases?from=2026-03-01&to=2026-03-31"
    health = api.call("GET", window, who="health").json
    assert [(r["id"], r["service_user_id"], r["items_not_done"]) for r in health] == [(made["id"], api.person, None)]
    idva = api.call("GET", window, who="idva").json  # her consent there does not share who she is
    assert [(r["id"], r["service_user_id"]) for r in idva] == [(made["id"], None)]
    assert api.call("GET", window, who="housing").json == []  # consent for referrals only: no trace
    assert [r["id"] for r in api.call("GET", window, who="probation").json] == [made["id"]]  # her practitioner's
    logged = db.session.scalars(sa.select(Disclosure).where(Disclosure.context == "release_list")).all()
    assert {d.agency_id for d in logged} == {api.agencies[who] for who in ("health", "idva", "probation")}


# Bad input --------------------------------------------------------------------------------------

HUGE = 10**30
BAD_CUSTODY = [
    ("unknown field", {"licence_conditions": "none"}, "licence_conditions"),
    ("bad date", {"nominal_release_on": "2026-02-30"}, "nominal_release_on"),
    ("not a date", {"sentenced_on": "last Tuesday"}, "sentenced_on"),
    ("unknown custody type", {"custody_type": "jail"}, "custody_type"),
    ("unknown release type", {"release_type": "escape"}, "release_type"),
    ("a prison that is not one", {"prison_agency_id": "probation"}, "prison_agency_id"),
    ("sentenced after the release", {"sentenced_on": "2026-04-01"}, "sentenced_on"),
    ("a term of 0 days", {"term_days": 0}, "term_days"),
    ("a huge prison id", {"prison_agency_id": HUGE}, "prison_agency_id"),
    ("a huge contact id", {"probation_contact_id": HUGE}, "probation_contact_id"),
    ("a string for the term", {"term_days": "ten"}, "term_days"),
]


@pytest.mark.parametrize(("what", "bad", "field_name"), BAD_CUSTODY, ids=[c[0] for c in BAD_CUSTODY])
def test_bad_custody_input_is_refused_and_changes_nothing(api: Api, what: str, bad: dict[str, Any],
                                                          field_name: str) -> None:  # fmt: skip
    made = api.record()
    if bad.get("prison_agency_id") == "probation":
        bad = {"prison_agency_id": api.agencies["probation"]}
    before = snapshot()
    created = api.call("POST", f"/service-users/{api.person}/custody", json=api.custody_body(**bad))
    assert_problem(created, (400, 422), field_name)
    changed = api.call("PATCH", f"/custody/{made['id']}", json=bad)
    assert_problem(changed, (400, 422), field_name)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", f"/custody/{HUGE}"), ("PATCH", f"/custody/{HUGE}"), ("GET", f"/service-users/{HUGE}/custody"),
     ("GET", f"/custody/{HUGE}/plan-items"), ("PATCH", f"/plan-items/{HUGE}"),
     ("POST", f"/plan-items/{HUGE}/referral"), ("POST", f"/custody/{HUGE}/released")],
)  # fmt: skip
def test_huge_ids_in_the_address_are_404_never_500(api: Api, method: str, path: str) -> None:
    body = {"released_on": "2026-02-02"} if path.endswith("released") else {"status": "done"}
    response = api.call(method, path, json=body if method != "GET" else None)
    assert_problem(response, (404, 422))


@pytest.mark.parametrize(
    ("what", "query"),
    [("no date", "custody_type=sentenced&release_type=automatic"),
     ("bad date", "nominal_on=2026-13-01&custody_type=sentenced&release_type=automatic"),
     ("jail", "nominal_on=2026-03-27&custody_type=jail&release_type=automatic"),
     ("term 0", "nominal_on=2026-03-27&custody_type=sentenced&release_type=automatic&term_days=0"),
     ("sentenced after",
      "nominal_on=2026-03-27&custody_type=sentenced&release_type=automatic&sentenced_on=2026-04-01")],
)  # fmt: skip
def test_bad_release_date_questions_are_a_problem_never_a_500(api: Api, what: str, query: str) -> None:
    assert_problem(api.http.get(f"/api/v1/release-date?{query}", headers=api.headers()), (400, 422))


def test_a_bad_plan_item_is_refused_and_changes_nothing(api: Api) -> None:
    made = api.record()
    item = api.item(made["id"])
    before = snapshot()
    for body in ({"pathway": "wellbeing", "title": "x"}, {"pathway": "health", "title": ""},
                 {"pathway": "health", "title": "GP", "agency_id": api.agencies["host"]},
                 {"pathway": "health", "title": "GP", "due_on": "soon"},
                 {"pathway": "health", "title": "GP", "owner_user_id": api.gp_lead}):  # fmt: skip
        assert_problem(api.call("POST", f"/custody/{made['id']}/plan-items", json=body), (400, 422))
    for body in ({"status": "finished"}, {"custody_id": 1}, {"due_on": "2026-02-31"}):
        assert_problem(api.call("PATCH", f"/plan-items/{item['id']}", json=body), (400, 422))
    assert snapshot() == before
