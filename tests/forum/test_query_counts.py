"""A meeting's pages and the API's agenda and meeting send the same number of SQL statements for one case
and one carried action as for eight cases and ten: nothing on them is loaded case by case or action by
action (audiences for every case in two queries, names in one, the views recorded in one insert).

Two forums of the same four agencies, one small and one large, each with a meeting held (its cases
heard, its actions agreed) and the next one planned with cases nominated and the earlier actions
carried onto its agenda. Every page is fetched once to warm what a first request caches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from consent import services as consent_services
from forum import queries, services
from forum.models import ForumAction, ForumCase, Meeting
from forum.recurrence import at_london
from hub.db import db
from tests.conftest import count_queries
from tests.forum.world import ForumWorld, consent_for_forum, contact_of
from tests.helpers import bearer, make_client, sign_in

HELD_DAY = dt.date(2026, 12, 9)


def _scene(world: ForumWorld, clock: Any, name: str, cases: int, actions: int) -> tuple[Meeting, Meeting]:
    """A forum whose meeting on 9 December heard ``cases`` women and agreed ``actions`` actions (half about a
    case), and whose next meeting has ``cases`` more women nominated; every action still open."""
    forum = services.create_forum(world.manager, {
        "name": name, "member_agency_ids": [a.id for a in world.partners], "chair_user_id": world.manager.id,
        "weekday": 2, "week_of_month": 2, "starts_at": dt.time(14, 0),
        "standing_items": ["Welcome and confidentiality statement", "Any other business"],
    })  # fmt: skip
    for agency in world.partners:
        representative = contact_of(world.lead_of(agency)).id
        services.set_member(world.manager, forum, agency.id, {"representative_contact_id": representative})
    first = services.schedule_meeting(world.manager, forum, {"starts_at": at_london(HELD_DAY, dt.time(14, 0))})
    heard = [_nominate(world, first, f"{name} held {n}") for n in range(cases)]
    owner = contact_of(world.probation_lead).id
    for n in range(actions):
        services.add_action(world.practitioner, first, {
            "text": f"Action {n}", "agency_id": world.probation.id, "owner_contact_id": owner,
            "due_on": dt.date(2027, 1, 20), "case_id": heard[n % cases].id if n % 2 else None,
        })  # fmt: skip
    db.session.commit()
    clock.move_to(dt.datetime.combine(HELD_DAY, dt.time(9, 0), tzinfo=dt.UTC))
    for line in queries.register(first.id):
        services.set_attendance(world.manager, first, line.agency_id, {"status": "present"})
    following = services.hold_meeting(world.manager, first, {"confidentiality_read": True})
    assert following is not None
    for n in range(cases):
        _nominate(world, following, f"{name} next {n}")
    db.session.commit()
    clock.move_to(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC))
    return first, following


def _nominate(world: ForumWorld, meeting: Meeting, family: str) -> Any:
    woman = consent_services.create_service_user(world.practitioner, {"given_name": "Q", "family_name": family})
    consent_for_forum(world.practitioner, woman, world.probation)
    consent_for_forum(world.practitioner, woman, world.housing)
    case, _ = services.nominate_case(world.practitioner, meeting, {"service_user_id": woman.id, "reason": "Risk"})
    return case


def _statements(app: Any, fetch: Callable[[], Any]) -> int:
    fetch()  # warm: settings, templates and the like, cached by the first request
    with count_queries(app) as seen:
        response = fetch()
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    return len(seen)


# name: (which meeting: 0 the held one, 1 the next; its address)
PAGES = {
    "meeting page": (1, "/forum/meetings/{id}"),
    "agenda page": (1, "/forum/meetings/{id}/agenda"),
    "held meeting page": (0, "/forum/meetings/{id}"),
    "minutes page": (0, "/forum/meetings/{id}/minutes"),
    "API agenda": (1, "/api/v1/meetings/{id}/agenda"),
    "API meeting": (1, "/api/v1/meetings/{id}"),
}


@pytest.mark.parametrize("who", ["manager", "probation lead"])
@pytest.mark.parametrize("page", list(PAGES))
def test_a_meetings_pages_cost_the_same_for_1_case_as_for_8(
    app: Any, client: Any, world: ForumWorld, clock: Any, page: str, who: str
) -> None:
    small = _scene(world, clock, "Small Forum", cases=1, actions=1)
    large = _scene(world, clock, "Large Forum", cases=8, actions=10)
    carried = sa.select(sa.func.count(ForumAction.id)).where(ForumAction.meeting_id == large[0].id)
    assert db.session.scalar(carried) == 10
    if page.startswith("API"):
        if who == "manager":
            system, secret = make_client(world.host, "forum:read")
        else:
            system, secret = make_client(world.probation, "forum:read")
        headers = bearer(client, system, secret)

        def fetch_for(meetings: tuple[Meeting, Meeting]) -> Callable[[], Any]:
            return lambda: client.get(_path(page, meetings), headers=headers)
    else:
        sign_in(client, world.manager if who == "manager" else world.probation_lead)

        def fetch_for(meetings: tuple[Meeting, Meeting]) -> Callable[[], Any]:
            return lambda: client.get(_path(page, meetings))

    few = _statements(app, fetch_for(small))
    many = _statements(app, fetch_for(large))
    assert many == few, f"{page} as {who}: {few} statements for 1 case and 1 action, {many} for 8 and 10"
    shown = fetch_for(large)().get_data(as_text=True)
    which = large[PAGES[page][0]]
    labels = db.session.scalars(sa.select(ForumCase.label).where(ForumCase.meeting_id == which.id)).all()
    assert len(labels) == 8 and all(label in shown for label in labels), "every case is on it"
    if page == "agenda page" or page == "API agenda":
        references = db.session.scalars(sa.select(ForumAction.reference).where(ForumAction.meeting_id == large[0].id))
        assert all(reference in shown for reference in references), "every open action is carried onto it"


def _path(page: str, meetings: tuple[Meeting, Meeting]) -> str:
    which, template = PAGES[page]
    return template.format(id=meetings[which].id)
