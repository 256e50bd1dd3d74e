"""The rota's pages as people use them: a partner lead takes a slot, names who comes, confirms or says they
cannot come; a partner never acts for another agency; partner staff answer only for the slots they are named
for; managers record a session (finalised, then changed only with a reason); reliability only for managers and
each agency's own lead; calendar feeds made and revoked; and the grid's statements do not grow with the weeks
shown or the agencies in it."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from agencies.models import AgencyKind
from hub.db import db
from hub.permissions import Role
from rota import generation, queries, services
from rota.models import CalendarFeed, RotaCommitment, RotaSlot, Service, SessionRecord, SlotStatus
from tests.conftest import count_queries
from tests.helpers import label_problems, make_agency, make_user, post_form, sign_in
from tests.rota.world import RotaWorld, contact_of, session_on, slot_for

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)  # a Monday
WED = dt.date(2026, 12, 9)
NEXT_WED = dt.date(2026, 12, 16)
LAST_WED = dt.date(2026, 12, 2)


def text_of(response: Any) -> str:
    html = response.get_data(as_text=True)
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def fresh_slot(slot: RotaSlot) -> RotaSlot:
    db.session.expire_all()
    return db.session.get_one(RotaSlot, slot.id)


def session_page(client: FlaskClient, day: dt.date) -> str:
    return f"/rota/sessions/{session_on(day).id}"


def test_a_partner_lead_takes_a_slot_names_who_comes_and_it_shows_on_the_rota(
    client: FlaskClient, world: RotaWorld
) -> None:
    sign_in(client, world.housing_lead)
    slot = slot_for(WED)
    page = session_page(client, WED)
    taken = post_form(client, f"/rota/slots/{slot.id}/take", {"contact_id": str(world.worker_contact.id)}, page)
    assert taken.status_code == 302
    after = fresh_slot(slot)
    assert (after.agency_id, after.contact_id, after.status) == (world.housing.id, world.worker_contact.id,
                                                                 SlotStatus.TAKEN)  # fmt: skip
    shown = text_of(client.get(page))
    assert "Housing support: taken." in shown and "Wes Worker" in shown
    assert not label_problems(client.get(page).get_data(as_text=True))  # one form per slot, each field its own id
    rota = text_of(client.get("/rota"))
    assert "Example Housing Options" in rota
    # The other agency sees who holds it, never who is coming for them.
    sign_in(client, world.advice_lead)
    other = text_of(client.get(page))
    assert "Example Housing Options" in other and "Wes Worker" not in other


def test_a_partner_lead_cannot_take_a_slot_for_another_agency_or_a_held_one(
    client: FlaskClient, world: RotaWorld
) -> None:
    sign_in(client, world.advice_lead)
    slot = slot_for(WED)
    page = session_page(client, WED)
    post_form(client, f"/rota/slots/{slot.id}/take", {"agency_id": str(world.housing.id)}, page)
    assert fresh_slot(slot).agency_id is None, "a lead put another agency down"
    post_form(client, f"/rota/slots/{slot.id}/take", {"contact_id": str(world.worker_contact.id)}, page)
    assert fresh_slot(slot).agency_id is None, "a lead named another agency's contact"
    services.take_slot(world.housing_lead, db.session.get_one(RotaSlot, slot.id), world.housing.id)
    db.session.commit()
    refused = post_form(client, f"/rota/slots/{slot.id}/take", {}, page)
    assert refused.status_code == 302 and fresh_slot(slot).agency_id == world.housing.id
    assert "Another agency has just taken this slot." in text_of(client.get(page))


def test_partner_staff_answer_only_for_the_slots_they_are_named_for(client: FlaskClient, world: RotaWorld) -> None:
    slot = slot_for(WED)
    services.take_slot(world.housing_lead, slot, world.housing.id, world.worker_contact.id)
    named_for_other = slot_for(NEXT_WED)
    services.take_slot(world.housing_lead, named_for_other, world.housing.id, contact_of(world.housing_lead).id)
    db.session.commit()
    sign_in(client, world.worker)
    page = session_page(client, WED)
    # Partner staff cannot take a slot: that is their lead's decision.
    idva_slot = slot_for(WED, Service.IDVA)
    post_form(client, f"/rota/slots/{idva_slot.id}/take", {}, page)
    assert fresh_slot(idva_slot).agency_id is None
    assert client.get(f"/rota/slots/{named_for_other.id}/cant-attend").status_code == 403
    post_form(client, f"/rota/slots/{slot.id}/confirm", {}, page)
    assert fresh_slot(slot).status is SlotStatus.CONFIRMED
    form = f"/rota/slots/{slot.id}/cant-attend"
    blank = post_form(client, form, {"reason": "  "})
    assert blank.status_code == 422 and "Say why" in text_of(blank)
    assert fresh_slot(slot).status is SlotStatus.CONFIRMED, "a refused form changed the slot"
    done = post_form(client, form, {"reason": "Our worker is on leave"})
    assert done.status_code == 302
    after = fresh_slot(slot)
    assert (after.status, after.agency_id) == (SlotStatus.CANT_ATTEND, None)
    # The other agency offering housing support was asked to cover.
    sign_in(client, world.advice_lead)
    assert client.get(form).status_code == 403
    post_form(client, f"/rota/slots/{slot.id}/take", {}, page)
    assert fresh_slot(slot).agency_id == world.advice.id


@pytest.mark.parametrize(
    "path",
    ["/rota/settings", "/rota/sessions/{s}/edit", "/rota/sessions/{s}/cancel", "/rota/sessions/{s}/record"],
)
def test_manager_pages_refuse_partners(client: FlaskClient, world: RotaWorld, path: str) -> None:
    target = path.format(s=session_on(WED).id)
    for who in (world.housing_lead, world.worker):
        sign_in(client, who)
        assert client.get(target).status_code == 403
    sign_in(client, world.manager)
    assert client.get(target).status_code == 200


def test_partners_cannot_run_the_rota_by_posting(client: FlaskClient, world: RotaWorld) -> None:
    wed = session_on(WED)
    slot = slot_for(WED)
    sign_in(client, world.housing_lead)
    token_page = "/rota"
    for path, data in (
        (f"/rota/sessions/{wed.id}/cancel", {"reason": "We say so"}),
        (f"/rota/sessions/{wed.id}/edit", {"starts_at": "06:00", "ends_at": "07:00", "venue": "Elsewhere"}),
        (f"/rota/sessions/{wed.id}/slots", {"service": "legal"}),
        (f"/rota/slots/{slot.id}/ask", {"agency_id": str(world.advice.id)}),
        ("/rota/settings", {"name": "Ours now", "starts_at": "06:00", "ends_at": "07:00", "venue": "Elsewhere"}),
    ):
        assert post_form(client, path, data, token_page).status_code == 403, path
    db.session.expire_all()
    assert session_on(WED).starts_at == dt.time(10) and session_on(WED).venue.startswith("The Example")
    legal = sa.select(sa.func.count()).select_from(RotaSlot).where(RotaSlot.service == Service.LEGAL)
    assert db.session.scalar(legal) == 0


def test_a_lead_commits_to_first_and_third_wednesdays_and_ends_it(client: FlaskClient, world: RotaWorld) -> None:
    sign_in(client, world.idva_lead)
    bad = post_form(client, "/rota/commitments/new", {"service": "idva", "starts_on": "31/2/2026"})
    assert bad.status_code == 422 and db.session.scalar(sa.select(sa.func.count()).select_from(RotaCommitment)) == 0
    made = post_form(client, "/rota/commitments/new", {"service": "idva", "weekdays_of_month": ["1", "3"],
                                                      "starts_on": "7/12/2026"})  # fmt: skip
    assert made.status_code == 302
    commitment = db.session.scalars(sa.select(RotaCommitment)).one()
    assert commitment.agency_id == world.idva.id and commitment.weekdays_of_month == [1, 3]
    held = db.session.scalars(sa.select(RotaSlot).where(RotaSlot.agency_id == world.idva.id)).all()
    assert held and all(s.session.date.day <= 7 or 15 <= s.session.date.day <= 21 for s in held)
    listed = text_of(client.get("/rota/commitments"))
    assert "Example IDVA Service" in listed
    # Another agency's lead cannot end it.
    sign_in(client, world.housing_lead)
    post_form(client, f"/rota/commitments/{commitment.id}/end", {}, "/rota/commitments")
    db.session.expire_all()
    assert db.session.get_one(RotaCommitment, commitment.id).ends_on is None
    sign_in(client, world.idva_lead)
    post_form(client, f"/rota/commitments/{commitment.id}/end", {}, "/rota/commitments")
    db.session.expire_all()
    assert db.session.get_one(RotaCommitment, commitment.id).ends_on is not None
    assert not db.session.scalars(
        sa.select(RotaSlot).where(RotaSlot.agency_id == world.idva.id, RotaSlot.status.in_(["taken", "confirmed"]))
    ).all()


def test_the_session_record_is_finalised_then_changed_only_with_a_reason(
    client: FlaskClient, world: RotaWorld, clock: Any
) -> None:
    services.take_slot(world.housing_lead, slot_for(WED), world.housing.id)
    db.session.commit()
    clock.move_to(dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC))
    sign_in(client, world.practitioner)
    path = f"/rota/sessions/{session_on(WED).id}/record"
    key = f"attendance-{world.housing.id}"
    bad = post_form(client, path, {"women_attended": "twelve", "new_women": "2", key: "attended"})
    assert bad.status_code == 422 and "whole number" in text_of(bad)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SessionRecord)) == 0
    saved = post_form(client, path, {"women_attended": "12", "new_women": "3", key: "late",
                                     f"women_seen-{world.housing.id}": "5", "finalise": "yes"})  # fmt: skip
    assert saved.status_code == 302, text_of(saved)[-1500:]
    record = db.session.scalars(sa.select(SessionRecord)).one()
    assert (record.women_attended, record.new_women, record.is_final) == (12, 3, True)
    no_reason = post_form(client, path, {"women_attended": "13", "new_women": "3", key: "late"})
    assert no_reason.status_code == 422 and "reason" in text_of(no_reason).lower()
    db.session.expire_all()
    assert db.session.scalars(sa.select(SessionRecord)).one().women_attended == 12
    changed = post_form(client, path, {"women_attended": "13", "new_women": "3", key: "late",
                                       "reason": "One woman was counted at the door late"})  # fmt: skip
    assert changed.status_code == 302
    page = text_of(client.get(path))
    assert "One woman was counted at the door late" in page


def test_reliability_is_for_managers_and_each_agencys_own_lead(
    client: FlaskClient, world: RotaWorld, clock: Any
) -> None:
    clock.move_to(dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC))
    world.series.starts_on = LAST_WED - dt.timedelta(days=2)  # the drop-in ran last week too
    generation.generate(LAST_WED - dt.timedelta(days=2))
    services.take_slot(world.housing_lead, slot_for(LAST_WED), world.housing.id)
    services.take_slot(world.idva_lead, slot_for(LAST_WED, Service.IDVA), world.idva.id)
    db.session.commit()
    clock.move_to(NOW)
    sign_in(client, world.housing_lead)
    own = text_of(client.get("/rota/reliability"))
    assert "Example Housing Options" in own and "Example IDVA Service" not in own
    sign_in(client, world.worker)
    assert client.get("/rota/reliability").status_code == 403
    sign_in(client, world.manager)
    every = text_of(client.get("/rota/reliability"))
    assert "Example Housing Options" in every and "Example IDVA Service" in every


def test_a_lead_makes_a_calendar_feed_that_works_until_revoked(client: FlaskClient, world: RotaWorld) -> None:
    sign_in(client, world.housing_lead)
    # Asking for the whole rota's feed, or another agency's, makes this agency's own.
    made = post_form(client, "/rota/feeds", {"agency_id": str(world.idva.id)})
    address = re.search(r"(http://localhost/calendar/[A-Za-z0-9_-]+\.ics)", made.get_data(as_text=True))
    assert made.status_code == 200 and address
    feed = db.session.scalars(sa.select(CalendarFeed)).one()
    assert feed.agency_id == world.housing.id
    served = client.get(address.group(1).removeprefix("http://localhost"))
    assert served.status_code == 200 and served.mimetype == "text/calendar"
    sign_in(client, world.idva_lead)
    assert post_form(client, f"/rota/feeds/{feed.id}/revoke", {}, "/rota/feeds").status_code == 404
    assert client.get(address.group(1).removeprefix("http://localhost")).status_code == 200
    sign_in(client, world.housing_lead)
    post_form(client, f"/rota/feeds/{feed.id}/revoke", {}, "/rota/feeds")
    assert client.get(address.group(1).removeprefix("http://localhost")).status_code == 404
    assert client.get("/calendar/not-a-real-token-at-all.ics").status_code == 404


def _more_agencies(world: RotaWorld, n: int) -> None:
    for i in range(n):
        agency = make_agency(AgencyKind.HOUSING, name=f"Example Partner {i}", slug=f"example-partner-{i}")
        lead = make_user(Role.PARTNER_LEAD, agency, name=f"Lead {i}")
        agency.key_contact_id = contact_of(lead).id
        for day in (WED, NEXT_WED, WED + dt.timedelta(weeks=3), WED + dt.timedelta(weeks=5)):
            slot = services.add_slot(world.manager, session_on(day), Service.LEGAL)
            services.take_slot(world.manager, slot, agency.id, None)
    db.session.commit()


def test_the_grid_sends_the_same_statements_whatever_the_weeks_and_agencies(
    app: Flask, client: FlaskClient, world: RotaWorld
) -> None:
    services.take_slot(world.housing_lead, slot_for(WED), world.housing.id)
    db.session.commit()
    with count_queries(app) as two_weeks:
        queries.grid(weeks=2)
    with count_queries(app) as eight_weeks:
        queries.grid(weeks=8)
    assert len(two_weeks) == len(eight_weeks)
    sign_in(client, world.manager)
    client.get("/rota")
    with count_queries(app) as few:
        assert client.get("/rota").status_code == 200
    _more_agencies(world, 6)
    db.session.expire_all()
    with count_queries(app) as many:
        page = client.get("/rota")
    assert page.status_code == 200 and "Example Partner 5" in text_of(page)
    assert len(many) == len(few), "\n".join(many)
