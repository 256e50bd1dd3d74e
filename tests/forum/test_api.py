"""The forum's API, checked from outside exactly as ../shared/API.md ("Forum meetings") writes it.

- Forums and meetings are set up, the register kept, cases nominated (201 with their audience, or 422
  with ``missing`` when no agency in the room may hear her), actions recorded and closed, and minutes
  written and agreed (then locked: 409).
- The agenda builds itself: standing items, open actions from earlier meetings (``action_review``,
  never added to the later meeting), cases by label.
- Who may do what: a table of requests, each tried by the callers it must refuse (and the one it must
  allow). A partner system never sets up or runs the forum (403), never sees a meeting its agency is not
  on the register of (404), answers for its own agency's attendance only, and never learns who a case
  is about: every body any partner system is sent, in every test here, is searched for her name.
- Bad input gets a problem document with a 4xx (never a 500) and changes nothing.

Callers are OAuth systems with ``forum:read forum:write``: ``host`` (the charity: acts as a manager),
and the systems of ``probation``, ``housing`` (both may hear her case), ``drugs``, ``idva`` (neither may)
and ``police`` (on no forum at all).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from agencies.models import Agency, AgencyKind
from consent.models import ServiceUser
from forum import services
from forum.models import Forum, ForumAction, ForumCase, Meeting
from forum.recurrence import at_london
from hub.auth.models import User
from hub.db import db, utcnow
from hub.oauth.models import OAuthToken, secret_hash
from tests.forum.conftest import MEETING_MORNING
from tests.forum.world import FAMILY_NAME, GIVEN_NAME, ForumWorld, consent_for_forum, contact_of
from tests.helpers import make_agency, make_client

SCOPES = "forum:read forum:write"
PARTNERS = ("probation", "housing", "drugs", "idva", "police")
REASON = f"{GIVEN_NAME}'s risk has risen since her release"  # staff may name her in the reason: never shown
SECRET_ACTION = "Find the emergency bed in the north of the city"  # an action about her case


def ids_of(world: ForumWorld, police: Agency) -> SimpleNamespace:
    """The world by id: a refused request rolls the shared session back, so tests hold ids, not rows."""
    ids = {f.name: getattr(world, f.name).id for f in dataclasses.fields(world)}
    return SimpleNamespace(**ids, police=police.id, partners=[a.id for a in world.partners],
                           reference=world.woman.reference, standing=list(world.forum.standing_items),
                           contacts={a: contact_of(getattr(world, f"{a}_lead")).id for a in PARTNERS[:4]})  # fmt: skip


@dataclass
class Api:
    http: FlaskClient
    ids: SimpleNamespace
    _tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    partner_bodies: list[tuple[str, str, str]] = field(default_factory=list)  # (who, request, body)

    def world(self) -> ForumWorld:
        """The world's rows, loaded afresh (to act through the services)."""
        kinds = {f.name: f.type for f in dataclasses.fields(ForumWorld)}
        models = {"Agency": Agency, "User": User, "ServiceUser": ServiceUser, "Forum": Forum, "Meeting": Meeting}
        return ForumWorld(**{name: db.session.get_one(models[kind], getattr(self.ids, name))
                             for name, kind in kinds.items()})  # fmt: skip

    def headers(self, who: str) -> dict[str, str]:
        if who not in self._tokens:
            oauth_client, _ = make_client(db.session.get_one(Agency, getattr(self.ids, who)), SCOPES)
            token = secrets.token_urlsafe(32)
            db.session.add(OAuthToken(token_hash=secret_hash(token), client_pk=oauth_client.id, scope=SCOPES,
                                      issued_at=utcnow(), expires_in=30 * 86400))  # fmt: skip
            db.session.flush()
            self._tokens[who] = {"Authorization": f"Bearer {token}"}
        return self._tokens[who]

    def call(self, method: str, path: str, who: str = "host", body: Any = None, **kw: Any) -> Any:
        if body is not None:
            kw["json"] = body
        response = self.http.open(f"/api/v1{path}", method=method, headers=self.headers(who), **kw)
        assert response.status_code < 500, (method, path, who, response.get_data(as_text=True)[:800])
        if who != "host":
            self.partner_bodies.append((who, f"{method} {path}", response.get_data(as_text=True)))
        return response

    def ok(self, method: str, path: str, who: str = "host", body: Any = None, status: int = 200) -> Any:
        response = self.call(method, path, who, body)
        assert response.status_code == status, (method, path, who, response.get_data(as_text=True)[:800])
        return response.json


@pytest.fixture
def api(client: FlaskClient, world: ForumWorld) -> Iterator[Api]:
    police = make_agency(AgencyKind.POLICE, name="Example Police Public Protection", slug="ex-police")
    made = Api(client, ids_of(world, police))
    for who in ("host", *PARTNERS):
        made.headers(who)
    db.session.commit()
    yield made
    # Whatever the test did, no partner system was ever told who a case is about.
    for who, request, body in made.partner_bodies:
        for secret in (GIVEN_NAME, FAMILY_NAME, made.ids.reference):
            assert secret not in body, f"{who} was sent {secret!r} by {request}"


def forum_tables() -> list[str]:
    names = db.session.scalars(sa.text("SELECT table_name FROM information_schema.tables "
                                       "WHERE table_schema = 'public' AND table_name LIKE 'forum%'"))  # fmt: skip
    return sorted(names)


def snapshot() -> dict[str, list[str]]:
    """Every row of every forum table (so a change, not only a new row, shows)."""
    rows = {t: db.session.execute(sa.text(f"SELECT * FROM {t}")).all() for t in forum_tables()}
    return {t: sorted(repr(tuple(r)) for r in found) for t, found in rows.items()}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:1500]
    assert response.mimetype == "application/problem+json"
    body = dict(response.json)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def nominate(api: Api, person: int | None = None, meeting: int | None = None) -> dict[str, Any]:
    path = f"/meetings/{meeting or api.ids.meeting}/cases"
    return api.ok("POST", path, body={"service_user_id": person or api.ids.woman, "reason": REASON}, status=201)


def hold(api: Api, clock: Any) -> None:
    """December's meeting, on its morning: every agency on the register present, the statement read, held."""
    meeting = api.ids.meeting
    clock.move_to(MEETING_MORNING)
    for line in api.ok("GET", f"/meetings/{meeting}")["attendance"]:
        api.ok("PUT", f"/meetings/{meeting}/attendance/{line['agency_id']}", body={"status": "present"})
    assert api.ok("POST", f"/meetings/{meeting}/hold", body={"confidentiality_read": True})["status"] == "held"


# Forums and meetings ----------------------------------------------------------------------------


def test_forums_are_set_up_by_the_charity_and_each_partner_lists_its_own(api: Api) -> None:
    w = api.ids
    made = api.ok("POST", "/forums", body={"name": "North Women's Forum", "member_agency_ids": [w.probation,
                                                                                              w.housing],
                                           "venue": "North Library"}, status=201)  # fmt: skip
    assert (made["name"], made["member_agency_ids"], made["venue"]) == ("North Women's Forum",
                                                                        [w.probation, w.housing],
                                                                        "North Library")  # fmt: skip
    assert isinstance(made["id"], int)
    assert {f["id"] for f in api.ok("GET", "/forums")} == {w.forum, made["id"]}
    assert {f["id"] for f in api.ok("GET", "/forums", "housing")} == {w.forum, made["id"]}
    assert [f["id"] for f in api.ok("GET", "/forums", "drugs")] == [w.forum]
    assert api.ok("GET", "/forums", "police") == []
    assert api.ok("GET", f"/forums/{made['id']}", "probation")["member_agency_ids"] == [w.probation, w.housing]
    problem(api.call("GET", f"/forums/{made['id']}", "drugs"), 404)


def test_meetings_are_scheduled_with_every_member_invited_and_listed_latest_first(api: Api) -> None:
    w = api.ids
    path = f"/forums/{w.forum}/meetings"
    january = api.ok("POST", path, body={"starts_at": "2027-01-12T10:00:00+00:00"}, status=201)
    assert {k: january[k] for k in ("forum_id", "starts_at", "status")} == {
        "forum_id": w.forum, "starts_at": "2027-01-12T10:00:00+00:00", "status": "planned"}  # fmt: skip
    summer = api.ok("POST", path, body={"starts_at": "2027-06-08T10:00", "venue": "The Garden Room"}, status=201)
    assert summer["starts_at"] == "2027-06-08T09:00:00+00:00"  # without an offset: London time (BST)
    listed = api.ok("GET", path)
    assert [m["id"] for m in listed] == [summer["id"], january["id"], w.meeting]
    assert {m["status"] for m in listed} == {"planned"}
    register = api.ok("GET", f"/meetings/{january['id']}")["attendance"]
    assert [(line["agency_id"], line["status"]) for line in register] == [(a, "invited") for a in w.partners]
    assert [m["id"] for m in api.ok("GET", path, "idva")] == [m["id"] for m in listed]
    problem(api.call("POST", path, body={"starts_at": "2027-01-12T10:00:00Z"}), 409)  # it meets then already


def test_a_meeting_has_its_register_cases_and_actions(api: Api) -> None:
    w = api.ids
    case = nominate(api)
    action = api.ok("POST", f"/meetings/{w.meeting}/actions", body={
        "text": "Share the risk plan", "agency_id": w.probation, "due_on": "2026-12-18"}, status=201)  # fmt: skip
    one = api.ok("GET", f"/meetings/{w.meeting}")
    assert (one["id"], one["forum_id"], one["status"]) == (w.meeting, w.forum, "planned")
    assert one["starts_at"] == "2026-12-08T10:00:00+00:00"
    assert [line["agency_id"] for line in one["attendance"]] == w.partners
    assert [(c["id"], c["label"], c["service_user_id"], c["reason"]) for c in one["cases"]] == [
        (case["id"], case["label"], w.woman, REASON)]  # fmt: skip
    assert [(a["id"], a["text"], a["status"]) for a in one["actions"]] == [(action["id"], "Share the risk plan",
                                                                            "open")]  # fmt: skip


def test_the_agenda_carries_open_actions_from_earlier_meetings_without_adding_them(api: Api, clock: Any) -> None:
    w = api.ids
    december = w.meeting
    api.ok("POST", f"/meetings/{december}/actions", body={"text": "Assess for accommodation",
                                                          "agency_id": w.housing, "due_on": "2027-01-05"},
           status=201)  # fmt: skip
    closed = api.ok("POST", f"/meetings/{december}/actions", body={"text": "Book the room",
                                                                   "agency_id": w.idva, "due_on": "2026-12-09"},
                    status=201)  # fmt: skip
    api.ok("POST", f"/forum-actions/{closed['id']}/close", "idva", body={"status": "done", "note": ""})
    before = api.ok("GET", f"/meetings/{december}/agenda")
    assert [i["kind"] for i in before["items"]] == ["standing", "standing"] + ["suggestion"] * (
        len(before["items"]) - 2)  # nothing raised before December  # fmt: skip
    hold(api, clock)
    january = api.ok("GET", f"/forums/{w.forum}/meetings")[0]
    assert january["starts_at"] == "2027-01-12T10:00:00+00:00" and january["status"] == "planned"
    case = nominate(api, meeting=january["id"])
    items = api.ok("GET", f"/meetings/{january['id']}/agenda")["items"]
    assert {i["kind"] for i in items} <= {"standing", "action_review", "case", "suggestion"}
    assert all(i["title"] for i in items)
    assert [i["title"] for i in items if i["kind"] == "standing"] == w.standing
    reviewed = [i for i in items if i["kind"] == "action_review"]
    open_one = db.session.scalars(sa.select(ForumAction).where(ForumAction.text == "Assess for accommodation")).one()
    # Open since December; the one closed before December's meeting was reported there, not again.
    assert [(i["action_id"], i["agency_id"], i["status"]) for i in reviewed] == [(open_one.id, w.housing, "open")]
    cases = [i for i in items if i["kind"] == "case"]
    assert [(i["case_id"], i["label"]) for i in cases] == [(case["id"], case["label"])]
    assert cases[0]["audience_agency_ids"] == [w.probation, w.housing]
    assert cases[0]["excluded_agency_ids"] == [w.drugs, w.idva]
    # Carried, not added: January raised no action of its own.
    detail = api.ok("GET", f"/meetings/{january['id']}")
    assert detail["actions"] == [] and detail["carried_action_ids"] == [open_one.id]
    assert api.ok("GET", f"/meetings/{january['id']}/agenda", "drugs")["items"] == items


# The register and cases -------------------------------------------------------------------------


def test_attendance_is_one_line_each_and_every_cases_audience_follows_it(api: Api) -> None:
    w = api.ids
    case = nominate(api)
    assert (case["audience_agency_ids"], case["excluded_agency_ids"]) == ([w.probation, w.housing],
                                                                          [w.drugs, w.idva])  # fmt: skip
    path = f"/meetings/{w.meeting}/attendance"
    line = api.ok("PUT", f"{path}/{w.housing}", "housing", body={"status": "apologies", "information_sent": True})
    assert (line["agency_id"], line["status"], line["information_sent"]) == (w.housing, "apologies", True)
    heard = api.ok("GET", f"/meetings/{w.meeting}")["cases"][0]
    assert heard["audience_agency_ids"] == [w.probation]  # housing is not in the room any more
    assert w.housing not in heard["excluded_agency_ids"]
    api.ok("PUT", f"{path}/{w.housing}", body={"status": "invited"})
    assert api.ok("GET", f"/meetings/{w.meeting}")["cases"][0]["audience_agency_ids"] == [w.probation,
                                                                                             w.housing]  # fmt: skip
    # An agency not invited is added to the register, and counts at once.
    api.ok("PUT", f"{path}/{w.police}", body={"status": "invited"})
    assert api.ok("GET", f"/meetings/{w.meeting}")["cases"][0]["excluded_agency_ids"] == [w.drugs, w.idva,
                                                                                             w.police]  # fmt: skip
    assert api.ok("GET", f"/meetings/{w.meeting}", "police")["id"] == w.meeting  # now on the register


def test_a_case_nobody_in_the_room_may_hear_is_refused_with_missing(api: Api) -> None:
    w = api.ids
    before = snapshot()
    refused = problem(api.call("POST", f"/meetings/{w.meeting}/cases",
                               body={"service_user_id": w.other, "reason": "Worried about her"}), 422)  # fmt: skip
    assert refused["missing"]["purpose"] == "forum_discussion"
    assert [a["agency_id"] for a in refused["missing"]["agencies"]] == w.partners
    assert "service_user_id" in refused["errors"]
    assert snapshot() == before
    # Her consent to one agency in the room is enough; she is nominated once per meeting.
    world = api.world()
    consent_for_forum(world.practitioner, world.other, world.idva)
    db.session.commit()
    case = nominate(api, w.other)
    assert set(case) >= {"id", "label", "audience_agency_ids", "excluded_agency_ids"}
    assert case["audience_agency_ids"] == [w.idva] and case["label"].startswith("FC-")
    assert case["service_user_id"] == w.other and case["reason"] == REASON
    problem(api.call("POST", f"/meetings/{w.meeting}/cases", body={"service_user_id": w.other,
                                                                       "reason": "Again"}), 409)  # fmt: skip


# Actions ----------------------------------------------------------------------------------------


def test_actions_are_recorded_closed_once_and_their_outcome_explained(api: Api) -> None:
    w = api.ids
    case = nominate(api)
    path = f"/meetings/{w.meeting}/actions"
    made = api.ok("POST", path, body={"text": SECRET_ACTION, "agency_id": w.housing, "case_id": case["id"],
                                      "owner_contact_id": w.contacts["housing"], "due_on": "2026-12-22"},
                  status=201)  # fmt: skip
    assert (made["status"], made["agency_id"], made["case_id"], made["due_on"]) == (
        "open",
        w.housing,
        case["id"],
        "2026-12-22",
    )
    assert made["reference"].startswith("FA-") and made["owner_contact_id"] == w.contacts["housing"]
    # The drugs service may not hear her case: it sees that the action exists, not what it says.
    seen = api.ok("GET", f"/meetings/{w.meeting}", "drugs")["actions"]
    assert [(a["id"], a["text"]) for a in seen] == [(made["id"], None)]
    assert api.ok("GET", f"/forum-actions/{made['id']}", "drugs")["text"] is None
    assert api.ok("GET", f"/forum-actions/{made['id']}", "probation")["text"] == SECRET_ACTION
    assert api.ok("GET", f"/forum-actions/{made['id']}", "housing")["text"] == SECRET_ACTION
    # An action about her case is for an agency that may hear it.
    refused = problem(api.call("POST", path, body={"text": "Call her", "agency_id": w.idva,
                                                   "case_id": case["id"], "due_on": "2026-12-22"}), 422)  # fmt: skip
    assert "agency_id" in refused["errors"]
    close = f"/forum-actions/{made['id']}/close"
    problem(api.call("POST", close, "housing", body={"status": "not_done_agency", "note": " "}), 422)  # say why
    closed = api.ok("POST", close, "housing", body={"status": "not_done_circumstances", "note": "She moved away"})
    assert (closed["status"], closed["close_note"]) == ("not_done_circumstances", "She moved away")
    assert closed["closed_at"] == "2026-12-07T09:00:00+00:00"
    problem(api.call("POST", close, body={"status": "done", "note": ""}), 409)  # closed already
    assert api.ok("GET", f"/forum-actions/{made['id']}", "drugs")["close_note"] is None
    listed = api.ok("GET", "/forum-actions", "housing")
    assert [(a["id"], a["status"]) for a in listed] == [(made["id"], "not_done_circumstances")]
    assert api.ok("GET", "/forum-actions", "drugs") == []


# Minutes ----------------------------------------------------------------------------------------


def test_minutes_are_written_after_the_meeting_and_locked_once_agreed(api: Api, clock: Any) -> None:
    w = api.ids
    case = nominate(api)
    path = f"/meetings/{w.meeting}/minutes"
    problem(api.call("POST", f"{path}/agree"), 409)  # not held yet
    hold(api, clock)
    problem(api.call("POST", f"{path}/agree"), 422)  # nothing written yet
    saved = api.ok(
        "PUT",
        path,
        body={
            "text": "Present: all four members.",
            "cases": [{"case_id": case["id"], "text": "Housing will find a bed."}],
        },
    )
    assert (saved["text"], saved["agreed"], saved["revisions"]) == ("Present: all four members.", False, 1)
    assert api.ok("GET", path, "drugs")["text"] == "Present: all four members."  # the general record
    assert "Housing will find a bed" not in json.dumps(api.ok("GET", path, "probation"))  # case sections: in the hub
    agreed = api.ok("POST", f"{path}/agree")
    assert agreed["agreed"] is True and agreed["agreed_at"] == "2026-12-08T09:00:00+00:00"
    assert api.ok("GET", f"/meetings/{w.meeting}")["status"] == "minutes_agreed"
    before = snapshot()
    locked = problem(api.call("PUT", path, body={"text": "Rewritten afterwards"}), 409)
    assert "locked" in locked["detail"]
    problem(api.call("POST", f"{path}/agree"), 409)
    problem(api.call("POST", f"/meetings/{w.meeting}/actions", body={"text": "Late", "agency_id": w.idva,
                                                                         "due_on": "2026-12-20"}), 409)  # fmt: skip
    problem(api.call("PUT", f"/meetings/{w.meeting}/attendance/{w.idva}", body={"status": "absent"}), 409)
    assert snapshot() == before
    assert api.ok("GET", path)["text"] == "Present: all four members."


# Who may do what --------------------------------------------------------------------------------


@pytest.fixture
def scene(api: Api) -> dict[str, int]:
    """Her case at December's meeting; an action about it for housing and one for idva; and a second forum
    (probation and housing only) whose meeting the drugs and idva services are not on the register of."""
    w = api.world()
    case, _ = services.nominate_case(w.practitioner, w.meeting, {"service_user_id": w.woman.id, "reason": REASON})
    about = services.add_action(
        w.practitioner,
        w.meeting,
        {"text": SECRET_ACTION, "agency_id": w.housing.id, "case_id": case.id, "due_on": dt.date(2026, 12, 22)},
    )
    idva = services.add_action(w.practitioner, w.meeting, {"text": "Offer a safety plan", "agency_id": w.idva.id,
                                                           "due_on": dt.date(2026, 12, 22)})  # fmt: skip
    closed = services.create_forum(w.manager, {"name": "Probation and Housing Panel",
                                               "member_agency_ids": [w.probation.id, w.housing.id]})  # fmt: skip
    panel = services.schedule_meeting(w.manager, closed, {"starts_at": at_london(dt.date(2026, 12, 15),
                                                                                 dt.time(14, 0))})  # fmt: skip
    panel_case, _ = services.nominate_case(w.practitioner, panel, {"service_user_id": w.woman.id, "reason": REASON})
    panel_action = services.add_action(w.practitioner, panel, {"text": "Joint visit", "agency_id": w.housing.id,
                                                               "due_on": dt.date(2026, 12, 22)})  # fmt: skip
    db.session.commit()
    return {"m": w.meeting.id, "f": w.forum.id, "case": case.id, "about": about.id, "idva_action": idva.id,
            "closed": closed.id, "panel": panel.id, "panel_case": panel_case.id,
            "panel_action": panel_action.id}  # fmt: skip


def _rules(w: SimpleNamespace, ids: dict[str, int]) -> list[tuple[str, str, str, Any, dict[str, int]]]:
    m, panel = ids["m"], ids["panel"]
    nominate_her = {"service_user_id": w.woman, "reason": "Again"}
    action = {"text": "Visit", "agency_id": w.drugs, "due_on": "2026-12-20"}
    return [  # label, method, path, body, {caller: status}: run in order
        ("set up a forum", "POST", "/forums", {"name": "Ours", "member_agency_ids": [w.drugs]},
         {"drugs": 403, "probation": 403, "police": 403}),
        ("schedule a meeting", "POST", f"/forums/{ids['f']}/meetings", {"starts_at": "2027-03-09T10:00"},
         {"drugs": 403, "housing": 403}),
        ("schedule at a forum it is not on", "POST", f"/forums/{ids['closed']}/meetings",
         {"starts_at": "2027-03-09T10:00"}, {"drugs": 404, "police": 404}),
        ("see a forum it is not on", "GET", f"/forums/{ids['closed']}", None, {"drugs": 404, "idva": 404,
                                                                              "housing": 200}),
        ("list its meetings", "GET", f"/forums/{ids['closed']}/meetings", None, {"drugs": 404, "probation": 200}),
        ("see a meeting it is not on the register of", "GET", f"/meetings/{panel}", None,
         {"drugs": 404, "idva": 404, "police": 404, "probation": 200}),
        ("its agenda", "GET", f"/meetings/{panel}/agenda", None, {"drugs": 404, "police": 404}),
        ("its minutes", "GET", f"/meetings/{panel}/minutes", None, {"drugs": 404}),
        ("put itself on that register", "PUT", f"/meetings/{panel}/attendance/{w.drugs}",
         {"status": "invited"}, {"drugs": 404}),
        ("an action agreed there", "GET", f"/forum-actions/{ids['panel_action']}", None, {"drugs": 404}),
        ("close an action agreed there", "POST", f"/forum-actions/{ids['panel_action']}/close",
         {"status": "done", "note": ""}, {"drugs": 404, "probation": 403}),
        ("withdraw a case there", "POST", f"/forum-cases/{ids['panel_case']}/withdraw", {"reason": "x"},
         {"drugs": 404, "housing": 403}),
        ("nominate a case", "POST", f"/meetings/{m}/cases", nominate_her, {"drugs": 403, "housing": 403,
                                                                          "police": 404, "host": 409}),
        ("record an action", "POST", f"/meetings/{m}/actions", action, {"drugs": 403, "probation": 403}),
        ("another agency's attendance", "PUT", f"/meetings/{m}/attendance/{w.housing}",
         {"status": "apologies"}, {"drugs": 403, "idva": 403}),
        ("its own presence before the day", "PUT", f"/meetings/{m}/attendance/{w.drugs}",
         {"status": "present"}, {"drugs": 422}),
        ("its own apologies", "PUT", f"/meetings/{m}/attendance/{w.drugs}",
         {"status": "apologies", "information_sent": True}, {"drugs": 200}),
        ("close another agency's action", "POST", f"/forum-actions/{ids['about']}/close",
         {"status": "done", "note": ""}, {"drugs": 403, "idva": 403, "probation": 403}),
        ("send an action as a referral", "POST", f"/forum-actions/{ids['idva_action']}/refer",
         {"data_categories": ["identity"]}, {"idva": 403, "drugs": 403}),
        ("withdraw a case", "POST", f"/forum-cases/{ids['case']}/withdraw", {"reason": "x"}, {"probation": 403}),
        ("send the agenda", "POST", f"/meetings/{m}/agenda/send", None, {"drugs": 403, "housing": 403}),
        ("hold the meeting", "POST", f"/meetings/{m}/hold", {"confidentiality_read": True}, {"probation": 403}),
        ("cancel the meeting", "POST", f"/meetings/{m}/cancel", {"reason": "x"}, {"idva": 403}),
        ("write the minutes", "PUT", f"/meetings/{m}/minutes", {"text": "Ours"}, {"drugs": 403, "housing": 403}),
        ("agree the minutes", "POST", f"/meetings/{m}/minutes/agree", None, {"probation": 403}),
        ("close its own action", "POST", f"/forum-actions/{ids['idva_action']}/close",
         {"status": "done", "note": "Offered"}, {"drugs": 403, "idva": 200}),
        ("close it again", "POST", f"/forum-actions/{ids['idva_action']}/close", {"status": "done", "note": ""},
         {"idva": 409}),
    ]  # fmt: skip


def test_the_access_table(api: Api, scene: dict[str, int]) -> None:
    """Each refusal is a problem document, and changes nothing."""
    for label, method, path, body, expected in _rules(api.ids, scene):
        for who, status in expected.items():
            before = snapshot() if status >= 400 else None
            response = api.call(method, path, who, body)
            assert response.status_code == status, (label, who, response.get_data(as_text=True)[:500])
            if before is not None:
                problem(response, status)
                assert snapshot() == before, (label, who)


def test_a_partner_system_learns_only_labels_and_what_its_agency_may_hear(api: Api, scene: dict[str, int]) -> None:
    """Every read a partner system can make, by each partner: her case by label only (no service user, no
    reason, to any of them), and an action's text only where its agency may hear the case. (The fixture then
    searches every one of these bodies for her name and reference.)"""
    w = api.ids
    for who in ("probation", "housing", "drugs", "idva"):
        one = api.ok("GET", f"/meetings/{scene['m']}", who)
        assert [(c["label"], c["service_user_id"], c["reason"]) for c in one["cases"]] == [
            (db.session.get_one(ForumCase, scene["case"]).label, None, None)]  # fmt: skip
        texts = {a["id"]: a["text"] for a in one["actions"]}
        hears = who in ("probation", "housing")
        assert texts[scene["about"]] == (SECRET_ACTION if hears else None), who
        assert texts[scene["idva_action"]] == "Offer a safety plan"
        for path in ("/forums", f"/forums/{scene['f']}", f"/forums/{scene['f']}/meetings",
                     f"/meetings/{scene['m']}/agenda", f"/meetings/{scene['m']}/minutes", "/forum-actions",
                     f"/forum-actions/{scene['about']}", f"/forum-actions/{scene['idva_action']}"):  # fmt: skip
            response = api.call("GET", path, who)
            assert response.status_code in (200, 404), (who, path)
            if not hears:
                assert SECRET_ACTION not in response.get_data(as_text=True), (who, path)
            assert REASON not in response.get_data(as_text=True), (who, path)
    # Writes answer with labels too: the drugs service's apologies, and a case it may not hear.
    api.ok("PUT", f"/meetings/{scene['m']}/attendance/{w.drugs}", "drugs", body={"status": "apologies"})
    # At the panel's meeting too, probation's system learns her case by its label only.
    held = api.ok("GET", f"/meetings/{scene['panel']}", "probation")
    assert all(c["service_user_id"] is None and c["reason"] is None for c in held["cases"])


# Bad input --------------------------------------------------------------------------------------


def _bad(w: SimpleNamespace, ids: dict[str, int]) -> list[tuple[str, str, Any, int, str | None]]:
    """method, path, body, status, the field the problem names (None: no field)."""
    m, f = ids["m"], ids["f"]
    big = 99999999999
    forum = {"name": "A forum", "member_agency_ids": [w.probation]}
    meeting = {"starts_at": "2027-03-09T10:00"}
    case = {"service_user_id": w.woman, "reason": "Worried"}
    action = {"text": "Visit", "agency_id": w.housing, "due_on": "2026-12-20"}
    close = f"/forum-actions/{ids['about']}/close"
    return [
        ("POST", "/forums", {**forum, "colour": "red"}, 422, "colour"),
        ("POST", "/forums", {**forum, "name": ""}, 422, "name"),
        ("POST", "/forums", {**forum, "name": 12}, 422, "name"),
        ("POST", "/forums", {**forum, "name": None}, 422, "name"),
        ("POST", "/forums", {**forum, "name": "Two\nlines"}, 422, "name"),
        ("POST", "/forums", {"member_agency_ids": [w.probation]}, 422, "name"),
        ("POST", "/forums", {**forum, "member_agency_ids": str(w.probation)}, 422, "member_agency_ids"),
        ("POST", "/forums", {**forum, "member_agency_ids": [str(w.probation)]}, 422, "member_agency_ids"),
        ("POST", "/forums", {**forum, "member_agency_ids": [big]}, 422, "member_agency_ids"),
        ("POST", "/forums", {**forum, "member_agency_ids": [w.host]}, 422, "member_agency_ids"),
        ("POST", "/forums", {**forum, "member_agency_ids": [2_147_483_000]}, 422, "member_agency_ids"),
        ("POST", "/forums", {**forum, "chair_user_id": w.probation_lead}, 422, "chair_user_id"),
        ("POST", "/forums", {**forum, "chair_user_id": big}, 422, "chair_user_id"),
        ("POST", "/forums", {**forum, "weekday": 7}, 422, "weekday"),
        ("POST", "/forums", {**forum, "weekday": "1"}, 422, "weekday"),
        ("POST", "/forums", {**forum, "starts_at": "25:00"}, 422, "starts_at"),
        ("POST", "/forums", {**forum, "venue": "x" * 301}, 422, "venue"),
        ("POST", "/forums", {**forum, "standing_items": [""]}, 422, "standing_items"),
        ("POST", "/forums", [forum], 422, None),
        ("POST", "/forums", "A forum", 422, None),
        ("POST", "/forums", None, 415, None),  # no body at all
        ("POST", f"/forums/{big}/meetings", meeting, 404, None),
        ("POST", f"/forums/{f}/meetings", {"starts_at": "2027-02-30T10:00"}, 422, "starts_at"),
        ("POST", f"/forums/{f}/meetings", {"starts_at": ""}, 422, "starts_at"),
        ("POST", f"/forums/{f}/meetings", {"starts_at": 20270309}, 422, "starts_at"),
        ("POST", f"/forums/{f}/meetings", {"starts_at": "next Tuesday"}, 422, "starts_at"),
        ("POST", f"/forums/{f}/meetings", {"starts_at": "2027-03-09T10:00+25:00"}, 422, "starts_at"),
        ("POST", f"/forums/{f}/meetings", {"starts_at": "9999-12-31T23:59-05:00"}, 422, "starts_at"),
        ("POST", f"/forums/{f}/meetings", {"starts_at": "9999-12-31T23:00:00+00:00"}, 422, "starts_at"),  # ends after
        ("POST", f"/forums/{f}/meetings", {"starts_at": "2026-12-01T10:00"}, 422, "starts_at"),  # passed
        ("POST", f"/forums/{f}/meetings", {**meeting, "status": "held"}, 422, "status"),
        ("POST", f"/forums/{f}/meetings", {}, 422, "starts_at"),
        ("GET", f"/forums/{big}", None, 404, None),
        ("GET", f"/forums/{big}/meetings", None, 404, None),
        ("GET", f"/meetings/{big}", None, 404, None),
        ("GET", f"/meetings/{big}/agenda", None, 404, None),
        ("GET", "/meetings/2147483000", None, 404, None),
        ("GET", f"/forum-actions?agency_id={big}", None, 422, "agency_id"),
        ("GET", "/forum-actions?agency_id=abc", None, 422, "agency_id"),
        ("GET", "/forum-actions?status=bogus", None, 422, "status"),
        ("PUT", f"/meetings/{m}/attendance/{w.drugs}", {"status": "maybe"}, 422, "status"),
        ("PUT", f"/meetings/{m}/attendance/{w.drugs}", {"status": ""}, 422, "status"),
        ("PUT", f"/meetings/{m}/attendance/{w.drugs}", {"status": None}, 422, "status"),
        ("PUT", f"/meetings/{m}/attendance/{w.drugs}", {}, 422, "status"),
        ("PUT", f"/meetings/{m}/attendance/{w.drugs}", {"status": "apologies", "information_sent": "yes"}, 422,
         "information_sent"),
        ("PUT", f"/meetings/{m}/attendance/{w.drugs}", {"status": "apologies", "information_sent": 1}, 422,
         "information_sent"),
        ("PUT", f"/meetings/{m}/attendance/{w.drugs}", {"status": "apologies", "why": "ill"}, 422, "why"),
        ("PUT", f"/meetings/{m}/attendance/{w.drugs}", {"status": "apologies",
                                                           "representative_contact_id": w.contacts["idva"]},
         422, "representative_contact_id"),
        ("PUT", f"/meetings/{m}/attendance/{w.drugs}", {"status": "apologies", "representative_contact_id": big},
         422, "representative_contact_id"),
        ("PUT", f"/meetings/{m}/attendance/{big}", {"status": "apologies"}, 404, None),
        ("PUT", f"/meetings/{m}/attendance/2147483000", {"status": "apologies"}, 422, "agency_id"),
        ("PUT", f"/meetings/{m}/attendance/{w.host}", {"status": "apologies"}, 422, "agency_id"),
        ("PUT", f"/meetings/{big}/attendance/{w.drugs}", {"status": "apologies"}, 404, None),
        ("POST", f"/meetings/{m}/cases", {**case, "service_user_id": str(w.woman)}, 422, "service_user_id"),
        ("POST", f"/meetings/{m}/cases", {**case, "service_user_id": big}, 422, "service_user_id"),
        ("POST", f"/meetings/{m}/cases", {**case, "service_user_id": 2_147_483_000}, 422, "service_user_id"),
        ("POST", f"/meetings/{m}/cases", {**case, "service_user_id": 0}, 422, "service_user_id"),
        ("POST", f"/meetings/{m}/cases", {**case, "service_user_id": True}, 422, "service_user_id"),
        ("POST", f"/meetings/{m}/cases", {**case, "service_user_id": 1.5}, 422, "service_user_id"),
        ("POST", f"/meetings/{m}/cases", {**case, "reason": ""}, 422, "reason"),
        ("POST", f"/meetings/{m}/cases", {"service_user_id": w.woman}, 422, "reason"),
        ("POST", f"/meetings/{m}/cases", {**case, "name": GIVEN_NAME}, 422, "name"),
        ("POST", f"/meetings/{big}/cases", case, 404, None),
        ("POST", f"/meetings/{m}/actions", {**action, "due_on": "2027-02-30"}, 422, "due_on"),
        ("POST", f"/meetings/{m}/actions", {**action, "due_on": ""}, 422, "due_on"),
        ("POST", f"/meetings/{m}/actions", {**action, "due_on": 20261220}, 422, "due_on"),
        ("POST", f"/meetings/{m}/actions", {**action, "due_on": "2026-12-01"}, 422, "due_on"),  # in the past
        ("POST", f"/meetings/{m}/actions", {**action, "text": ""}, 422, "text"),
        ("POST", f"/meetings/{m}/actions", {**action, "text": ["Visit"]}, 422, "text"),
        ("POST", f"/meetings/{m}/actions", {**action, "agency_id": big}, 422, "agency_id"),
        ("POST", f"/meetings/{m}/actions", {**action, "agency_id": w.host}, 422, "agency_id"),
        ("POST", f"/meetings/{m}/actions", {**action, "case_id": big}, 422, "case_id"),
        ("POST", f"/meetings/{m}/actions", {**action, "case_id": ids["panel_case"]}, 422, "case_id"),
        ("POST", f"/meetings/{m}/actions", {**action, "owner_contact_id": w.contacts["drugs"]}, 422,
         "owner_contact_id"),
        ("POST", f"/meetings/{m}/actions", {**action, "agency_id": w.drugs, "case_id": ids["case"]}, 422,
         "agency_id"),
        ("POST", f"/meetings/{m}/actions", {**action, "status": "done"}, 422, "status"),
        ("POST", close, {"status": "open", "note": ""}, 422, "status"),
        ("POST", close, {"status": "", "note": ""}, 422, "status"),
        ("POST", close, {"status": "finished"}, 422, "status"),
        ("POST", close, {"status": "not_done_agency", "note": ""}, 422, "note"),
        ("POST", close, {"status": "done", "note": 5}, 422, "note"),
        ("POST", close, {"status": "done", "closed_at": "2026-12-01"}, 422, "closed_at"),
        ("POST", f"/forum-actions/{big}/close", {"status": "done"}, 404, None),
        ("PUT", f"/meetings/{m}/minutes", {"text": 5}, 422, "text"),
        ("PUT", f"/meetings/{m}/minutes", {}, 422, "text"),
        ("PUT", f"/meetings/{m}/minutes", {"text": "x", "cases": [{"case_id": big, "text": "x"}]}, 422, "cases"),
        ("PUT", f"/meetings/{m}/minutes", {"text": "x", "cases": [{"case_id": ids["panel_case"], "text": "x"}]},
         422, "case_notes"),
        ("PUT", f"/meetings/{m}/minutes", {"text": "x", "cases": {"case_id": ids["case"]}}, 422, "cases"),
        ("PUT", f"/meetings/{m}/minutes", {"text": "x", "agreed": True}, 422, "agreed"),
        ("PUT", f"/meetings/{big}/minutes", {"text": "x"}, 404, None),
        ("POST", f"/meetings/{big}/minutes/agree", None, 404, None),
    ]  # fmt: skip


def test_bad_input_gets_a_clear_problem_and_changes_nothing(api: Api, scene: dict[str, int]) -> None:
    before = snapshot()
    for method, path, body, status, named in _bad(api.ids, scene):
        kw: dict[str, Any] = {} if body is None else {"data": json.dumps(body), "content_type": "application/json"}
        response = api.call(method, path, **kw)
        found = problem(response, status) if response.status_code == status else None
        assert found is not None, (method, path, body, response.status_code, response.get_data(as_text=True)[:500])
        if named is not None:
            assert named in found.get("errors", {}), (method, path, body, found)
        assert snapshot() == before, (method, path, body)


def test_a_body_that_is_not_json_is_refused(api: Api) -> None:
    before = snapshot()
    for body in ("{not json", "", "name=A+forum"):
        for ctype in ("application/json", "application/x-www-form-urlencoded", "text/plain"):
            response = api.call("POST", "/forums", data=body, content_type=ctype)
            assert 400 <= response.status_code < 500, (body, ctype)
            assert response.mimetype == "application/problem+json", (body, ctype)
    assert snapshot() == before


def test_without_the_forum_scopes_the_api_answers_401_or_403(api: Api, client: FlaskClient) -> None:
    w = api.ids
    assert client.get("/api/v1/forums").status_code == 401
    oauth_client, _ = make_client(db.session.get_one(Agency, w.probation), "rota:read")
    token = secrets.token_urlsafe(32)
    db.session.add(OAuthToken(token_hash=secret_hash(token), client_pk=oauth_client.id, scope="rota:read",
                              issued_at=utcnow(), expires_in=3600))  # fmt: skip
    db.session.commit()
    wrong = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/forums", headers=wrong).status_code == 403
    assert client.get(f"/api/v1/meetings/{w.meeting}", headers=wrong).status_code == 403
