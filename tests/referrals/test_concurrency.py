"""Racing requests against a real server on PostgreSQL, with real commits.

- 50 partner-system threads acknowledge one sent referral at the same
  moment: exactly one succeeds, 49 get 409, and the history and the audit
  log each hold one acknowledgement.
- 20 threads create the same referral under one ``Idempotency-Key``:
  exactly one referral exists afterwards.

The rollback-per-test fixture cannot see across threads, so (as in
``tests/browser/conftest.py``) the server gets a database of its own, built
by the migrations, and serves it with werkzeug in a thread.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask

from agencies import services as agency_services
from agencies.models import AgencyKind
from consent import services as consent_services
from consent.models import ConsentMethod
from hub.app import create_app
from hub.audit import AuditEvent, verify_chain
from hub.auth import services as auth_services
from hub.db import db, today
from hub.idempotency import IdempotencyKey
from hub.oauth.models import OAuthClient, secret_hash
from hub.permissions import SYSTEM, Role
from referrals import services
from referrals.models import Referral, ReferralEvent
from referrals.states import Status
from tests.conftest import _drop_database, _recreate_database, make_settings, own_database_url
from tests.helpers import serving

pytestmark = pytest.mark.own_database

ACKNOWLEDGERS = 50
CREATORS = 20
TIMEOUT = 60


def _database_url() -> str:
    return own_database_url(f"concurrency_{os.getpid()}")


@dataclass(frozen=True)
class Live:
    url: str
    app: Flask
    referral_id: int  # sent to the partner agency
    service_user_id: int
    agency_id: int
    partner: tuple[str, str]  # client id, secret: a partner system of that agency
    host: tuple[str, str]  # a host-organisation system


def _client(agency_id: int, scope: str, name: str) -> tuple[str, str]:
    client_id, secret = f"{name}-client", f"{name}-secret-0123456789abcdef"
    db.session.add(
        OAuthClient(
            client_id=client_id,
            secret_hash=secret_hash(secret),
            name=name,
            agency_id=agency_id,
            acts_for_host=name == "host",
            scope=scope,
        )
    )
    return client_id, secret


def _seed() -> dict[str, Any]:
    host = agency_services.create_agency(SYSTEM, {"name": "Test Women's Centre", "kind": AgencyKind.HOST})
    agency = agency_services.create_agency(SYSTEM, {"name": "Riverside Probation", "kind": AgencyKind.PROBATION})
    key = agency_services.add_contact(SYSTEM, agency, {"name": "Kay Key", "role": "Officer", "email": "k@example.org"})
    agency_services.update_agency(SYSTEM, agency, {"key_contact_id": key.id})
    staff, _ = auth_services.create_user(
        SYSTEM, email="sam@example.org", name="Sam", agency_id=host.id, role=Role.PRACTITIONER
    )
    person = consent_services.create_service_user(staff, {"given_name": "Ann", "family_name": "Example"})
    consent_services.record_consent(
        staff,
        person,
        {
            "agency_id": agency.id,
            "purposes": ["referral"],
            "data_categories": ["identity", "housing"],
            "method": ConsentMethod.WRITTEN,
            "given_on": today(),
        },
    )
    referral = services.create_referral(
        staff,
        {
            "service_user_id": person.id,
            "agency_id": agency.id,
            "data_categories": ["identity", "housing"],
            "reason": "Needs housing on release",
        },
    )
    services.send_referral(staff, referral)
    partner = _client(agency.id, "referrals:read referrals:write", "partner")
    host_system = _client(host.id, "referrals:read referrals:write", "host")
    db.session.commit()
    return {
        "referral_id": referral.id,
        "service_user_id": person.id,
        "agency_id": agency.id,
        "partner": partner,
        "host": host_system,
    }


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    url = _database_url()
    _recreate_database(url)
    hub = create_app(make_settings(database_url=url))
    try:
        with hub.app_context():
            flask_migrate.upgrade()
            seeded = _seed()
        with serving(hub) as base_url:
            yield Live(base_url, hub, **seeded)
    finally:
        with hub.app_context():
            db.engine.dispose()
        _drop_database(url)


def _request(
    url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None, form: bytes | None = None
) -> tuple[int, Any, dict[str, str]]:
    data = form if form is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310 - http://127.0.0.1
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), dict(error.headers)


def _token(live: Live, credentials: tuple[str, str]) -> dict[str, str]:
    basic = base64.b64encode(":".join(credentials).encode()).decode()
    status, out, _ = _request(
        f"{live.url}/oauth/token",
        "POST",
        form=b"grant_type=client_credentials",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200, out
    return {"Authorization": f"Bearer {out['access_token']}"}


def _race(count: int, call: Any) -> list[tuple[int, Any, dict[str, str]]]:
    """Run ``call`` in ``count`` threads released at the same moment; return what each got."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait(timeout=TIMEOUT)
        try:
            results[i] = call()
        except Exception as error:  # report it as the thread's result, not a hang
            results[i] = (0, repr(error), {})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert not any(t.is_alive() for t in threads), "a request hung"
    return results


def test_fifty_simultaneous_acknowledgements_one_succeeds(live: Live) -> None:
    headers = _token(live, live.partner)
    url = f"{live.url}/api/v1/referrals/{live.referral_id}/acknowledge"
    results = _race(ACKNOWLEDGERS, lambda: _request(url, "POST", headers=headers))
    statuses = sorted(status for status, _out, _h in results)
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == ACKNOWLEDGERS - 1, statuses
    for status, out, _h in results:
        if status == 409:
            assert out["status"] == 409 and out["type"] and out["detail"]
        else:
            assert out["status"] == "acknowledged"
    with live.app.app_context():
        referral = db.session.get(Referral, live.referral_id)
        assert referral is not None and referral.status is Status.ACKNOWLEDGED
        events = db.session.scalars(
            sa.select(ReferralEvent.action).where(ReferralEvent.referral_id == live.referral_id)
        ).all()
        assert events.count("acknowledge") == 1, events
        audited = db.session.scalar(
            sa.select(sa.func.count()).where(
                AuditEvent.action == "referral.acknowledge", AuditEvent.object_id == live.referral_id
            )
        )
        assert audited == 1
        assert verify_chain().ok  # no fork in the audit chain under load
    status, out, _ = _request(f"{live.url}/api/v1/referrals/{live.referral_id}/events", headers=headers)
    assert status == 200 and [e["action"] for e in out].count("acknowledge") == 1


def test_twenty_simultaneous_creates_with_one_idempotency_key_make_one_referral(live: Live) -> None:
    headers = {**_token(live, live.host), "Idempotency-Key": "2f1d8c3e-race"}
    body = {
        "service_user_id": live.service_user_id,
        "agency_id": live.agency_id,
        "data_categories": ["housing"],
        "reason": "Raced request: one referral only",
    }
    url = f"{live.url}/api/v1/referrals"
    results = _race(CREATORS, lambda: _request(url, "POST", body=body, headers=headers))
    statuses = [status for status, _out, _h in results]
    assert set(statuses) <= {201, 409}, results
    created = {out["id"] for status, out, _h in results if status == 201}
    assert len(created) == 1, results  # every 201 names the same referral
    with live.app.app_context():
        rows = db.session.scalar(
            sa.select(sa.func.count()).where(Referral.reason == "Raced request: one referral only")
        )
        assert rows == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 1
        assert verify_chain().ok
    # And a retry after the race replays it
    status, out, response_headers = _request(url, "POST", body=body, headers=headers)
    assert status == 201 and out["id"] in created
    assert response_headers.get("Idempotent-Replayed") == "true"
