"""Schemathesis over the whole API, as a host-organisation system and as a partner system.

A real server (werkzeug, in a thread) on a database of its own, seeded with a partnership, is
tested by the ``schemathesis run`` command with every check it has: no server errors, status
codes, content types, headers and bodies as the OpenAPI document says, schema-valid data accepted
and invalid data refused, unsupported methods, authentication not ignored... A bounded number of
examples per operation, generated deterministically (the same cases every run).

One setting is ours: ``positive_data_acceptance`` also accepts 422 and 409. A body can be valid
JSON of the documented shape and still break a rule no schema can state (API.md: "422 valid JSON
that breaks a rule": an agency that does not exist, a consent that does not cover the referral;
"409 not allowed in the current state").
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa

from agencies import services as agency_services
from agencies.models import AgencyKind
from consent import services as consent_services
from consent.models import ConsentMethod
from hub.app import create_app
from hub.auth import services as auth_services
from hub.db import db, today
from hub.oauth.models import OAuthClient, secret_hash
from hub.oauth.server import client_actor
from hub.permissions import ALL_SCOPES, SYSTEM, Role
from referrals import services as referral_services
from tests.conftest import _drop_database, _recreate_database, make_settings, own_database_url
from tests.helpers import serving

pytestmark = [pytest.mark.own_database, pytest.mark.timeout(600)]

MAX_EXAMPLES = int(os.environ.get("HUB_SCHEMATHESIS_EXAMPLES", "8"))
CONFIG = """
# Strings the hub refuses with 400 whatever the schema (PostgreSQL cannot store them; the 400 is
# documented, and tests/*/test_bad_input.py covers it): no NUL, no unpaired surrogates.
[generation]
allow-x00 = false
codec = "utf-8"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]

# The document's two security schemes: a bearer token for the API, HTTP Basic for /oauth/*.
[auth.openapi.oauth2]
bearer = "{token}"

[auth.openapi.clientBasic]
username = "{client_id}"
password = "{secret}"
"""


@dataclass(frozen=True)
class Live:
    url: str
    host: tuple[str, str]
    partner: tuple[str, str]


def _client(agency_id: int, name: str, host: bool) -> tuple[str, str]:
    client_id, secret = f"{name}-client", f"{name}-secret-0123456789abcdef"
    db.session.add(
        OAuthClient(
            client_id=client_id,
            secret_hash=secret_hash(secret),
            name=name,
            agency_id=agency_id,
            acts_for_host=host,
            scope=" ".join(sorted(ALL_SCOPES)),
        )
    )
    return client_id, secret


def _seed() -> dict[str, Any]:
    """A small partnership: the charity, a probation service with two officers, a woman who
    consented, and referrals in several states."""
    host = agency_services.create_agency(SYSTEM, {"name": "Test Women's Centre", "kind": AgencyKind.HOST})
    probation = agency_services.create_agency(SYSTEM, {"name": "Riverside Probation", "kind": AgencyKind.PROBATION})
    housing = agency_services.create_agency(SYSTEM, {"name": "Hope Housing", "kind": AgencyKind.HOUSING})
    key = agency_services.add_contact(
        SYSTEM, probation, {"name": "Kay Key", "role": "Officer", "email": "k@example.org"}
    )
    agency_services.add_contact(SYSTEM, probation, {"name": "Olu Other", "role": "Officer", "email": "o@example.org"})
    agency_services.update_agency(SYSTEM, probation, {"key_contact_id": key.id})
    staff, _ = auth_services.create_user(
        SYSTEM, email="sam@example.org", name="Sam Staff", agency_id=host.id, role=Role.PRACTITIONER
    )
    person = consent_services.create_service_user(staff, {"given_name": "Ann", "family_name": "Example"})
    for agency in (probation, housing):
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
    partner = _client(probation.id, "partner", host=False)
    host_system = _client(host.id, "host", host=True)
    db.session.flush()
    officer = client_actor(db.session.scalar(sa.select(OAuthClient).where(OAuthClient.client_id == partner[0])))
    for step in range(4):  # draft, sent, acknowledged, accepted
        referral = referral_services.create_referral(
            staff,
            {
                "service_user_id": person.id,
                "agency_id": probation.id,
                "data_categories": ["identity", "housing"],
                "reason": "Needs housing on release",
            },
        )
        if step >= 1:
            referral_services.send_referral(staff, referral)
        if step >= 2:
            referral_services.acknowledge_referral(officer, referral)
        if step >= 3:
            referral_services.accept_referral(officer, referral)
        db.session.flush()
    db.session.commit()
    return {"partner": partner, "host": host_system}


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    url = own_database_url(f"schemathesis_{os.getpid()}")
    _recreate_database(url)
    # Schemathesis sends thousands of requests with one token: the rate limit is not under test here.
    hub = create_app(make_settings(database_url=url, ratelimit_api="100000 per minute", ratelimit_token="10000/minute"))
    try:
        with hub.app_context():
            flask_migrate.upgrade()
            seeded = _seed()
        with serving(hub) as base_url:
            yield Live(base_url, **seeded)
    finally:
        with hub.app_context():
            db.engine.dispose()
        _drop_database(url)


def _token(live: Live, credentials: tuple[str, str]) -> str:
    basic = base64.b64encode(":".join(credentials).encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        f"{live.url}/oauth/token",
        data=b"grant_type=client_credentials",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        token: str = json.loads(response.read())["access_token"]
    return token


def _run(live: Live, credentials: tuple[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "schemathesis.toml"
    client_id, secret = credentials
    config.write_text(CONFIG.format(token=_token(live, credentials), client_id=client_id, secret=secret))
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{live.url}/api/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",
        "--no-color",
        "--request-timeout",
        "30",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=540, cwd=tmp_path, check=False)  # noqa: S603


@pytest.mark.parametrize("who", ["host", "partner"])
def test_schemathesis_finds_nothing(live: Live, who: str, tmp_path: Path) -> None:
    result = _run(live, getattr(live, who), tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
