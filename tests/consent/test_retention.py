"""Retention under frozen time: a woman whose last contact passed HUB_RETENTION_YEARS is erased, nothing of
hers remains in any text column of any table (her names, her reference, what was written about her), the
reports' past figures do not change, and a legal hold stops it; the job is logged without her details."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from consent import services
from consent.models import ServiceUser
from hub.audit import AuditEvent
from hub.db import db
from hub.permissions import SYSTEM, Denied, Role
from referrals.models import Referral, ReferralMessage
from reports import queries
from reports.disclosure import Rules
from tests.helpers import make_user
from tests.reports import world as w

LATER = dt.datetime(2033, 3, 1, 12, tzinfo=dt.UTC)  # more than 6 years after anything in the world


def _mark(person: ServiceUser, given: str, family: str) -> str:
    person.given_name, person.family_name = given, family
    return person.reference


def _text_columns_holding(needle: str) -> list[str]:
    """Every table and text column (JSON included, as text) where ``needle`` occurs."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, sa.String | sa.Text | sa.JSON):
                hit = db.session.scalar(sa.select(sa.func.count()).select_from(table)
                                        .where(sa.cast(column, sa.Text).contains(needle)))  # fmt: skip
                if hit:
                    found.append(f"{table.name}.{column.name}")
    return found


@pytest.fixture
def built(app: Any) -> w.World:
    world = w.build()
    ash = world.women["ash"]
    db.session.add(ReferralMessage(referral_id=db.session.scalars(sa.select(Referral.id)
                                   .where(Referral.service_user_id == ash.id)).first(), author_kind="user",
                                   body="Ashlinnea Quorvalle called about her tenancy"))  # fmt: skip
    db.session.commit()
    return world


def test_past_the_limit_her_record_is_erased_everywhere_and_the_figures_stand(built: w.World) -> None:
    ash, wren = built.women["ash"], built.women["wren"]
    references = {n: _mark(p, f"{n.capitalize()}linnea", f"Quorvall{n}") for n, p in built.women.items()}
    for r in db.session.scalars(sa.select(Referral).where(Referral.service_user_id == ash.id)):
        r.reason = "Ashlinnea Quorvallash needs somewhere safe"
    manager = make_user(Role.MANAGER)
    services.place_legal_hold(manager, wren, "A claim against the council is open")
    db.session.commit()
    before = {line.indicator.key: line.cell.value for line in queries.indicator_report(w.PERIOD, Rules(False)).lines}
    with time_machine.travel(LATER, tick=False):
        erased = services.erase_expired_records(SYSTEM)
    db.session.commit()
    assert erased == 4  # all but Wren, who is held
    for name in ("ash", "bay", "elm", "fir"):
        for needle in (f"{name.capitalize()}linnea", f"Quorvall{name}", references[name]):
            assert _text_columns_holding(needle) == [], (name, needle)
    assert _text_columns_holding("Quorvallwren") == ["service_users.family_name"]  # the held one is kept
    after = {line.indicator.key: line.cell.value for line in queries.indicator_report(w.PERIOD, Rules(False)).lines}
    assert after == before
    entry = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "retention.erased")).one()
    assert entry.data["women"] == 4 and "linnea" not in json.dumps(entry.data)


def test_before_the_limit_nothing_is_erased_and_only_the_hub_runs_it(built: w.World) -> None:
    with time_machine.travel(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), tick=False):
        assert services.erase_expired_records(SYSTEM) == 0
    with pytest.raises(Denied):
        services.erase_expired_records(make_user(Role.MANAGER))


def test_a_lifted_hold_no_longer_keeps_her(built: w.World) -> None:
    wren = built.women["wren"]
    hold = services.place_legal_hold(make_user(Role.MANAGER), wren, "Inquiry")
    services.lift_legal_hold(make_user(Role.MANAGER), hold)
    with time_machine.travel(LATER, tick=False):
        assert services.erase_expired_records(SYSTEM) == 5
    assert db.session.scalar(sa.select(ServiceUser.erased_at).where(ServiceUser.id == wren.id)) is not None


def test_a_manager_sees_who_is_due_next_month_and_holds_one(client: Any, built: w.World) -> None:
    from tests.helpers import label_problems, post_form, sign_in

    manager = make_user(Role.MANAGER)
    db.session.commit()
    with time_machine.travel(dt.datetime(2032, 12, 10, 12, tzinfo=dt.UTC), tick=True):
        sign_in(client, manager)
        page = client.get("/retention")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and label_problems(html) == []
        for person in built.women.values():
            assert person.reference in html
        wren = built.women["wren"]
        refused = post_form(client, "/retention/holds", {"service_user_id": str(wren.id), "reason": " "},
                            token_from="/retention")  # fmt: skip
        assert refused.status_code == 302
        assert "Not held" in client.get("/retention").get_data(as_text=True)
        held = post_form(client, "/retention/holds", {"service_user_id": str(wren.id), "reason": "Court order"},
                         token_from="/retention")  # fmt: skip
        assert held.status_code == 302
        html = client.get("/retention").get_data(as_text=True)
        assert "Court order" in html and html.count(wren.reference) >= 1
        sign_in(client, make_user(Role.PRACTITIONER))
        assert client.get("/retention").status_code == 403
