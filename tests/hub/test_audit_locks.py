"""Issue 7: no audited write waits for another's commit. One partner acknowledges a referral and
keeps its transaction open; another acknowledges a different referral meanwhile, and commits.
(Before, every audited write queued on one advisory lock held until commit.) The chain still
verifies once the entries are sealed, and an unsealed entry can be sealed and nothing else."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask

from consent import services as consent_services
from consent.models import ConsentMethod
from hub import audit
from hub.app import create_app
from hub.audit import AuditEvent, verify_chain
from hub.db import db
from hub.permissions import Role
from referrals import services
from referrals.models import Referral
from referrals.states import Status
from tests.conftest import _drop_database, _recreate_database, make_settings, own_database_url
from tests.helpers import host_agency, make_agency, make_user

pytestmark = pytest.mark.own_database
WAIT = 10  # seconds: far longer than either acknowledgement needs


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[Flask, int, list[int]]]:
    url = own_database_url(f"audit_locks_{os.getpid()}")
    _recreate_database(url)
    app = create_app(make_settings(database_url=url))
    with app.app_context():
        flask_migrate.upgrade()
        host_agency()
        agency = make_agency()
        staff = make_user(Role.PRACTITIONER)
        partner = make_user(Role.PARTNER, agency)
        person = consent_services.create_service_user(staff, {"given_name": "Tess", "family_name": "Example"})
        consent_services.record_consent(
            staff,
            person,
            {
                "agency_id": agency.id,
                "purposes": ["referral"],
                "data_categories": ["housing"],
                "method": ConsentMethod.VERBAL,
                "given_on": dt.date.today(),
            },
        )
        ids = []
        for _ in range(2):
            referral = services.create_referral(
                staff,
                {"service_user_id": person.id, "agency_id": agency.id, "data_categories": ["housing"], "reason": "Bed"},
            )
            services.send_referral(staff, referral)
            ids.append(referral.id)
        db.session.commit()
        partner_id = partner.id
    yield app, partner_id, ids
    with app.app_context():
        db.engine.dispose()
    _drop_database(url)


def test_a_second_acknowledgement_commits_while_the_first_is_still_open(live) -> None:
    app, partner_id, (first, second) = live
    first_written, second_done, release = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold_open() -> None:
        try:
            with app.app_context():
                from hub.auth.models import User

                partner = db.session.get(User, partner_id)
                services.acknowledge_referral(partner, db.session.get(Referral, first))
                db.session.flush()
                first_written.set()
                assert release.wait(WAIT), "never released"
                db.session.commit()
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
            first_written.set()

    holder = threading.Thread(target=hold_open)
    holder.start()
    assert first_written.wait(WAIT)
    try:
        with app.app_context():
            from hub.auth.models import User

            # Before this change the audit entry waited here, on the lock the first one holds until commit.
            db.session.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
            partner = db.session.get(User, partner_id)
            services.acknowledge_referral(partner, db.session.get(Referral, second))
            db.session.commit()
            second_done.set()
    finally:
        release.set()
        holder.join(WAIT)
    assert not failures, failures
    assert second_done.is_set()
    with app.app_context():
        statuses = db.session.scalars(sa.select(Referral.status).where(Referral.id.in_([first, second]))).all()
        assert set(statuses) == {Status.ACKNOWLEDGED}
        while audit.seal():
            db.session.commit()
        db.session.commit()
        assert audit.unsealed() == 0
        assert verify_chain().ok
        acknowledged = db.session.scalars(
            sa.select(AuditEvent.object_id).where(AuditEvent.action == "referral.acknowledge")
        ).all()
        assert sorted(acknowledged) == sorted([first, second])


def test_an_unsealed_entry_can_be_sealed_and_nothing_else(live) -> None:
    app, _partner_id, _ids = live
    with app.app_context():
        entry = audit.record(None, "test.unsealed", object_type="thing", object_id=1)
        db.session.commit()
        for statement in (
            "UPDATE audit_events SET action = 'test.changed' WHERE id = :id",
            "UPDATE audit_events SET seq = 999999, prev_hash = 'x', hash = 'y', action = 'test.changed' WHERE id = :id",
            "DELETE FROM audit_events WHERE id = :id",
        ):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                db.session.execute(sa.text(statement), {"id": entry.id})
            db.session.rollback()
        assert audit.seal() >= 1
        db.session.commit()
        sealed = db.session.get(AuditEvent, entry.id)
        assert sealed.seq is not None and sealed.hash == sealed.compute_hash()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.text("UPDATE audit_events SET hash = 'z' WHERE id = :id"), {"id": entry.id})
        db.session.rollback()
        assert verify_chain().ok
