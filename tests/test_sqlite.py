"""The embedded SQLite default: the same migrations apply, the demo loads,
and the main flows work end to end with real commits."""

from __future__ import annotations

import re
from collections.abc import Iterator

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask

from agencies.models import Agency, Contact, ContactStatus
from hub.app import create_app
from hub.auth.models import User
from hub.db import db
from tests.conftest import IsolatedClient, make_settings

pytestmark = pytest.mark.own_database


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    path = tmp_path_factory.mktemp("sqlite") / "hub.sqlite3"
    app = create_app(make_settings(database_url=f"sqlite:///{path}", require_2fa=False, demo=True))
    app.test_client_class = IsolatedClient
    with app.app_context():
        flask_migrate.upgrade()
    result = app.test_cli_runner().invoke(args=["hub", "demo"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


def _token(client, path):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _post(client, path, data, token_from=None):
    return client.post(path, data={"csrf_token": _token(client, token_from or path), **data})


@pytest.fixture
def signed_in(sqlite_app: Flask):
    from agencies.demo import DEMO_PASSWORD

    client = sqlite_app.test_client()
    response = _post(client, "/sign-in", {"email": "manager@northgate.example.org", "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def test_migrations_leave_no_drift_on_sqlite(sqlite_app):
    with sqlite_app.app_context():
        flask_migrate.check()


def test_demo_partnership_is_loaded(sqlite_app):
    with sqlite_app.app_context():
        partners = db.session.scalar(sa.select(sa.func.count(Agency.id)).where(Agency.kind != "host"))
        contacts = db.session.scalar(sa.select(sa.func.count(Contact.id)))
        left = db.session.scalar(sa.select(sa.func.count(Contact.id)).where(Contact.status == ContactStatus.LEFT))
        roles = {r for (r,) in db.session.execute(sa.select(User.role).distinct())}
    assert partners >= 15 and contacts >= 40 and left >= 5
    assert {r.value for r in roles} == {"admin", "manager", "practitioner", "partner_lead", "partner"}


def test_directory_search_agency_and_health_pages(signed_in):
    page = signed_in.get("/directory?q=emergency+bed").get_data(as_text=True)
    assert "Riverside Council Housing Options" in page
    with signed_in.application.app_context():
        agency_id = db.session.scalar(sa.select(Agency.id).where(Agency.slug == "city-probation"))
    page = signed_in.get(f"/agencies/{agency_id}").get_data(as_text=True)
    assert "Marion Hale" in page and "Paula Strand" in page
    health = signed_in.get("/health").get_data(as_text=True)
    assert "Dee Walsh" in health  # her relationships are held by someone who has left


def test_add_contact_and_record_a_leaver(signed_in):
    app = signed_in.application
    with app.app_context():
        agency_id = db.session.scalar(sa.select(Agency.id).where(Agency.slug == "beacon-isva"))
        jade = db.session.scalar(sa.select(Contact.id).where(Contact.name == "Jade Mensah"))
    response = _post(
        signed_in,
        f"/agencies/{agency_id}/contacts/new",
        {"name": "Nia Newcomer", "role": "ISVA", "email": "nia@beacon-isva.example.org"},
    )
    assert response.status_code == 302
    with app.app_context():
        nia = db.session.scalar(sa.select(Contact.id).where(Contact.name == "Nia Newcomer"))
    response = _post(signed_in, f"/contacts/{jade}/leave", {"left_on": "2026-11-01", "successor_id": str(nia)})
    assert response.status_code == 302
    with app.app_context():
        agency = db.session.get(Agency, agency_id)
        assert agency.key_contact_id == nia
        assert db.session.get(Contact, jade).status is ContactStatus.LEFT
    assert "Took over from" in signed_in.get(f"/contacts/{nia}").get_data(as_text=True)


def test_audit_chain_verifies_on_sqlite(sqlite_app):
    result = sqlite_app.test_cli_runner().invoke(args=["hub", "audit", "verify"])
    assert result.exit_code == 0, result.output


def test_release_planning_works_on_sqlite(sqlite_app, signed_in):
    """Record custody with a Friday release, refer a plan item through the consent gate, move the date
    (deadlines follow, agencies told), run the milestone job twice (once each), see the board."""
    import datetime as dt

    from consent import services as consent_services
    from consent.models import ConsentMethod, ServiceUser
    from hub.db import today
    from hub.scheduler import collect_jobs, run_job
    from releases import services as release_services
    from releases.models import MilestoneSent, ReleaseNotice

    with sqlite_app.app_context():
        manager = db.session.scalar(sa.select(User).where(User.email == "manager@northgate.example.org"))
        prison = db.session.scalar(sa.select(Agency).where(Agency.kind == "prison"))
        health = db.session.scalar(sa.select(Agency).where(Agency.kind == "health"))
        assert prison is not None and health is not None
        person = consent_services.create_service_user(manager, {"given_name": "Sqlite", "family_name": "Release"})
        consent_services.record_consent(manager, person, {
            "agency_id": health.id, "purposes": ["referral", "release_planning"],
            "data_categories": ["identity", "criminal_justice", "physical_health"],
            "method": ConsentMethod.WRITTEN, "given_on": today()})  # fmt: skip
        friday = today() + dt.timedelta(days=(4 - today().weekday()) % 7 + 49)
        custody = release_services.record_custody(manager, db.session.get(ServiceUser, person.id), {
            "prison_agency_id": prison.id, "custody_type": "sentenced", "sentence_kind": "determinate",
            "sentenced_on": today() - dt.timedelta(days=60), "term_days": 240, "release_type": "automatic",
            "nominal_release_on": friday, "needs": ["gp_register", "release_pack"]})  # fmt: skip
        assert custody.expected_on < custody.statutory_on == friday
        item = next(i for i in custody_items(custody.id) if i.title.startswith("Register"))
        referral = release_services.refer_plan_item(
            manager,
            item,
            {"agency_id": health.id, "data_categories": ["identity", "physical_health"], "reason": "GP, please"},
        )
        assert referral.purpose == "release_planning" and referral.acknowledge_by <= item.due_on
        release_services.change_custody(manager, custody, {"nominal_release_on": friday - dt.timedelta(days=7)})
        assert referral.needed_by == item.due_on
        told = db.session.scalars(sa.select(ReleaseNotice.agency_id).where(ReleaseNotice.custody_id == custody.id))
        assert sorted(told) == [health.id, health.id]  # told the first date, then the new one
        db.session.commit()
        custody_id = custody.id
    job = next(j for j in collect_jobs() if j.id == "releases.milestones")
    assert [run_job(sqlite_app, job), run_job(sqlite_app, job)] == ["ok", "ok"]
    with sqlite_app.app_context():
        sent = db.session.scalars(sa.select(MilestoneSent).where(MilestoneSent.custody_id == custody_id)).all()
        assert [m.milestone for m in sent] == ["8w"]  # 6 to 7 weeks to go: the 8-week milestone, once
    page = signed_in.get("/releases")
    assert page.status_code == 200 and "Sqlite Release" in page.get_data(as_text=True)


def custody_items(custody_id):
    from releases.models import PlanItem

    return db.session.scalars(sa.select(PlanItem).where(PlanItem.custody_id == custody_id)).all()


def test_the_drop_in_rota_works_on_sqlite(sqlite_app, signed_in):
    """The demo's rota: generation run twice adds nothing, two agencies race for one slot (one wins),
    "we can't come" reopens it and asks the others, reminders go once, the grid and a feed answer."""
    import datetime as dt

    import icalendar

    from agencies.demo import DEMO_PASSWORD
    from hub.db import today
    from hub.permissions import Conflict
    from hub.scheduler import collect_jobs, run_job
    from rota import services as rota_services
    from rota.models import RotaSession, RotaSlot, Service, SessionRecord, SlotStatus
    from rota.queries import gaps

    with sqlite_app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(RotaSession.id)))
        assert before >= 12 and db.session.scalar(sa.select(sa.func.count(SessionRecord.session_id))) == 1
        assert gaps(today(), today() + dt.timedelta(weeks=8)), "the demo shows housing gaps"
    jobs = {j.id: j for j in collect_jobs()}
    assert [run_job(sqlite_app, jobs["rota.generate-sessions"]) for _ in range(2)] == ["ok", "ok"]
    with sqlite_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(RotaSession.id))) == before
        manager = db.session.scalar(sa.select(User).where(User.email == "manager@northgate.example.org"))
        harbour = db.session.scalar(sa.select(Agency).where(Agency.slug == "harbour-housing"))
        riverside = db.session.scalar(sa.select(Agency).where(Agency.slug == "riverside-housing-options"))
        slot = db.session.scalars(
            sa.select(RotaSlot).join(RotaSession).where(RotaSlot.service == Service.HOUSING,
                                                        RotaSlot.status == SlotStatus.OPEN,
                                                        RotaSession.date > today() + dt.timedelta(days=8),
                                                        RotaSession.status == "scheduled")
            .order_by(RotaSession.date)).first()  # fmt: skip
        assert slot is not None
        rota_services.take_slot(manager, slot, harbour.id)
        with pytest.raises(Conflict):
            rota_services.take_slot(manager, slot, riverside.id)
        assert rota_services.cant_attend(manager, slot, "No adviser free that day") >= 1  # Riverside asked
        rota_services.take_slot(manager, slot, riverside.id)
        db.session.commit()
    assert [run_job(sqlite_app, jobs["rota.reminders"]) for _ in range(2)] == ["ok", "ok"]
    page = signed_in.get("/rota")
    assert page.status_code == 200 and "Riverside Council Housing Options" in page.get_data(as_text=True)
    lead = sqlite_app.test_client()
    assert _post(lead, "/sign-in", {"email": "lead@housing.example.org", "password": DEMO_PASSWORD}).status_code == 302
    made = _post(lead, "/rota/feeds", {"agency_id": "all"})
    address = re.search(r"/calendar/[A-Za-z0-9_-]+\.ics", made.get_data(as_text=True))
    assert address, made.get_data(as_text=True)
    feed = lead.get(address.group(0))
    assert feed.status_code == 200
    summaries = [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(feed.data).walk("VEVENT")]
    drop_ins = [s for s in summaries if s.startswith("Drop-in")]
    assert drop_ins and all(s.startswith("Drop-in: Riverside Council Housing Options") for s in drop_ins)
    assert "Forum: Northgate Women's Safeguarding Forum" in summaries  # its forum meetings are in its feed too


def test_the_forum_works_on_sqlite(sqlite_app, signed_in):
    """The demo's forum: last month's open action is carried onto the next agenda with Ria Calder's case
    (by label); partner staff of an agency she did not agree to see the label only; a nomination that
    cannot stand is refused on the form."""
    from agencies.demo import DEMO_PASSWORD
    from forum.models import ForumCase, Meeting, MeetingStatus

    with sqlite_app.app_context():
        upcoming = db.session.scalar(sa.select(Meeting).where(Meeting.status == MeetingStatus.PLANNED))
        case = db.session.scalar(sa.select(ForumCase).where(ForumCase.meeting_id == upcoming.id))
        meeting_id, case_id, label = upcoming.id, case.id, case.label
    agenda = signed_in.get(f"/api/v1/meetings/{meeting_id}/agenda")
    assert agenda.status_code in (401, 403)  # the API takes a bearer token, not a browser session
    page = signed_in.get(f"/forum/meetings/{meeting_id}/agenda").get_data(as_text=True)
    assert label in page and "Offer a named worker" not in page and "Action FA-" in page and "Calder" not in page
    assert "Ria Calder" in signed_in.get(f"/forum/cases/{case_id}").get_data(as_text=True)
    lead = sqlite_app.test_client()  # Pathways: a member, not in her case's audience
    assert (
        _post(lead, "/sign-in", {"email": "worker@pathways.example.org", "password": DEMO_PASSWORD}).status_code == 302
    )
    seen = lead.get(f"/forum/cases/{case_id}")
    assert seen.status_code == 200 and label in seen.get_data(as_text=True)
    assert "Calder" not in seen.get_data(as_text=True)
    refused = _post(signed_in, f"/forum/meetings/{meeting_id}/nominate", {"reference": "SU-NONE-NONE", "reason": "x"})
    assert refused.status_code == 422


def test_the_reports_and_the_feed_work_on_sqlite(sqlite_app, signed_in):
    """The demo's figures count on SQLite (London days through the hub's own SQL function); the feed
    publishes the charity's two published services and the one City Probation's lead chose to."""
    page = signed_in.get("/reports/?audience=internal")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Exact figures: managers only" in html and 'id="chart-funnel"' in html
    assert signed_in.get("/reports/partnership").status_code == 200
    got = signed_in.get("/reports/export?report=indicators&format=xlsx")
    assert got.status_code == 200 and got.data[:2] == b"PK"
    feed = sqlite_app.test_client().get("/openreferral/services").get_json()
    names = sorted(s["name"] for s in feed["contents"])
    assert names == sorted(["Prison in-reach and release support", "Wonder Women Wednesdays drop-in",
                            "Women's probation reporting at the centre"])  # fmt: skip
    drop_in = next(s for s in feed["contents"] if s["name"].startswith("Wonder"))
    one = sqlite_app.test_client().get(f"/openreferral/services/{drop_in['id']}").get_json()
    assert one["schedules"] and one["schedules"][0]["byday"] == "WE"
