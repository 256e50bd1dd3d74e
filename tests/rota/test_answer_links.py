"""A reminder's link lets its recipient answer without a hub account: confirm, or say the agency cannot come.
The link works for that slot only, while that agency holds it, until the day; a changed, guessed or stale link
answers 404 and changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from hub.audit import AuditEvent
from hub.db import db
from hub.notifications.models import Notification
from rota import jobs, services
from rota.models import RotaSlot, Service, SlotStatus
from tests.helpers import make_contact, post_form
from tests.rota.world import FAMILY_NAME, GIVEN_NAME, RotaWorld, slot_for

WED = dt.date(2026, 12, 16)
WEEK_BEFORE = dt.datetime(2026, 12, 9, 8, 0, tzinfo=dt.UTC)


def _link_for(email: str) -> str:
    links = db.session.scalars(sa.select(Notification.link).where(Notification.kind == jobs.KIND,
                                                                   Notification.email == email)).all()  # fmt: skip
    assert len(links) == 1, links
    path = re.sub(r"^https?://[^/]+", "", links[0])
    assert path.startswith("/rota/answer/")
    return path


def _fresh(slot_id: int) -> RotaSlot:
    db.session.expire_all()
    return db.session.get_one(RotaSlot, slot_id)


def _remind_advice_adviser(world: RotaWorld, clock: Any) -> tuple[int, str]:
    """Advice takes next week's housing slot, naming an adviser with no hub account; the reminder goes."""
    adviser = make_contact(world.advice, name="Ola Adviser", email="ola.adviser@advice.example.org")
    slot = slot_for(WED)
    services.take_slot(world.advice_lead, slot, world.advice.id, adviser.id)
    db.session.commit()
    clock.move_to(WEEK_BEFORE)
    assert jobs.send_reminders() == 1
    db.session.commit()
    return slot.id, _link_for("ola.adviser@advice.example.org")


def test_the_named_adviser_confirms_from_the_reminder_without_signing_in(
    client: FlaskClient, world: RotaWorld, clock: Any
) -> None:
    slot_id, link = _remind_advice_adviser(world, clock)
    page = client.get(link)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Example Tenancy Advice" in text and "Housing support" in text
    assert page.headers["Referrer-Policy"] == "no-referrer" and "no-store" in page.headers["Cache-Control"]
    assert GIVEN_NAME not in text and FAMILY_NAME not in text
    done = post_form(client, link, {"answer": "confirm"})
    assert done.status_code == 200 and "Confirmed: thank you" in done.get_data(as_text=True)
    assert _fresh(slot_id).status is SlotStatus.CONFIRMED
    entry = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "rota_slot.confirmed")).one()
    assert entry.data.get("by_link", "").startswith("c")


def test_we_cant_come_from_the_link_needs_a_reason_then_reopens_the_slot_and_kills_the_link(
    client: FlaskClient, world: RotaWorld, clock: Any
) -> None:
    slot_id, link = _remind_advice_adviser(world, clock)
    blank = post_form(client, link, {"answer": "cant_attend", "reason": ""})
    assert blank.status_code == 422 and "Say why" in blank.get_data(as_text=True)
    assert _fresh(slot_id).agency_id == world.advice.id
    done = post_form(client, link, {"answer": "cant_attend", "reason": "Our adviser is on leave"}, token_from=link)
    assert done.status_code == 200 and "Thank you for telling us" in done.get_data(as_text=True)
    slot = _fresh(slot_id)
    assert (slot.status, slot.agency_id) == (SlotStatus.CANT_ATTEND, None)
    assert client.get(link).status_code == 404  # the slot is not theirs now
    # The other agency offering housing was asked; when it takes the slot, the old link stays dead.
    services.take_slot(world.housing_lead, _fresh(slot_id), world.housing.id)
    db.session.commit()
    assert client.get(link).status_code == 404


@pytest.mark.parametrize("change", ["mac", "slot", "who", "junk"])
def test_a_changed_link_answers_404_and_changes_nothing(
    client: FlaskClient, world: RotaWorld, clock: Any, change: str
) -> None:
    slot_id, link = _remind_advice_adviser(world, clock)
    services.take_slot(world.idva_lead, slot_for(WED, Service.IDVA), world.idva.id)
    db.session.commit()
    _, _, _, slot, who, mac = link.split("/")
    other = slot_for(WED, Service.IDVA).id
    bad = {
        "mac": f"/rota/answer/{slot}/{who}/{mac[:-1]}{'0' if mac[-1] != '0' else '1'}",
        "slot": f"/rota/answer/{other}/{who}/{mac}",
        "who": f"/rota/answer/{slot}/u1/{mac}",
        "junk": f"/rota/answer/99999999999999999999/{who}/{'a' * 500}",
    }[change]
    assert client.get(bad).status_code == 404
    assert client.post(bad, data={"answer": "confirm"}).status_code in (400, 404)
    assert _fresh(slot_id).status is SlotStatus.TAKEN
    assert _fresh(other).status is SlotStatus.TAKEN


def test_the_link_stops_working_once_the_day_has_passed(client: FlaskClient, world: RotaWorld, clock: Any) -> None:
    _slot_id, link = _remind_advice_adviser(world, clock)
    clock.move_to(dt.datetime(2026, 12, 17, 9, 0, tzinfo=dt.UTC))
    assert client.get(link).status_code == 404
