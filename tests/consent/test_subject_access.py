"""Her subject-access pack: one action gathers what every part of the hub holds about her (her record,
consents with the words read to her, a safeguarding decision, referrals, custody and her release plan, the
agencies told her release date, her forum case and who heard it) and lists every disclosure the hub logged
for her; the page and the JSON file are the pack as given; making it is recorded; no other woman is in it;
only a manager or her key worker may make or see it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from consent import services
from consent.information import INFORMATION_VERSION
from consent.models import (
    Art6Basis,
    Art9Condition,
    ConsentRecord,
    Disclosure,
    DisclosureKind,
    Para18Reason,
    SafeguardingDecision,
    SafeguardingStatus,
    SubjectAccessPack,
)  # fmt: skip
from forum.models import CaseHearing, ForumCase
from hub.audit import AuditEvent
from hub.db import db
from hub.permissions import Denied, Role
from releases.models import CustodyEpisode, ReleaseNotice
from tests.helpers import make_user, post_form, sign_in
from tests.reports import world as w


@pytest.fixture
def scene(app: Any) -> dict[str, Any]:
    """The reports' world, with Ash (released in March) given a safeguarding decision, a release notice,
    a forum case heard by probation, and five disclosures of every context; Wren has disclosures of her own."""
    built = w.build()
    ash, wren = built.women["ash"], built.women["wren"]
    manager = make_user(Role.MANAGER)
    keyworker = make_user(Role.PRACTITIONER)
    ash.key_worker_id = keyworker.id
    decision = SafeguardingDecision(
        service_user_id=ash.id, agency_id=built.probation.id, purposes=["referral"], data_categories=["identity"],
        art6_basis=Art6Basis.VITAL_INTERESTS, art9_condition=Art9Condition.VITAL_INTERESTS,
        para18_reason=Para18Reason.CANNOT_GIVE, justification="Immediate risk to life", she_was_told=True,
        review_on=dt.date(2026, 4, 1), decided_by_id=manager.id, status=SafeguardingStatus.APPROVED,
    )  # fmt: skip
    db.session.add(decision)
    db.session.flush()
    for record in db.session.scalars(sa.select(ConsentRecord).where(ConsentRecord.service_user_id == ash.id)):
        record.information_version = INFORMATION_VERSION  # the words read to her are the hub's current ones
    custody = db.session.scalars(sa.select(CustodyEpisode).where(CustodyEpisode.service_user_id == ash.id)).one()
    db.session.add(ReleaseNotice(custody_id=custody.id, agency_id=built.housing.id, expected_on=dt.date(2026, 3, 10),
                                 consent_id=None, safeguarding_id=decision.id))  # fmt: skip
    meeting_case = db.session.scalars(sa.select(ForumCase)).first()
    case = ForumCase(meeting_id=meeting_case.meeting_id, service_user_id=ash.id, label="FC-TEST-ASH1",
                     reason="Risk rose after release", nominated_by_kind="user")  # fmt: skip
    db.session.add(case)
    db.session.flush()
    db.session.add(CaseHearing(case_id=case.id, agency_id=built.probation.id, safeguarding_id=decision.id))
    for context, agency, kind in (("referral", built.probation, DisclosureKind.SENT),
                                  ("release_notice", built.housing, DisclosureKind.SENT),
                                  ("forum_case", built.probation, DisclosureKind.SENT),
                                  ("referral", built.probation, DisclosureKind.VIEWED),
                                  ("release_plan", built.drugs, DisclosureKind.VIEWED)):  # fmt: skip
        db.session.add(Disclosure(service_user_id=ash.id, agency_id=agency.id, kind=kind, data_categories=["identity"],
                                  purpose="referral", safeguarding_id=decision.id, actor_kind="user",
                                  actor_id=manager.id, context=context, context_id=1))  # fmt: skip
    db.session.add(Disclosure(service_user_id=wren.id, agency_id=built.housing.id, kind=DisclosureKind.SENT,
                              data_categories=["housing"], purpose="referral", actor_kind="system",
                              context="referral", context_id=2))  # fmt: skip
    db.session.commit()
    return {"world": built, "ash": ash, "wren": wren, "manager": manager, "keyworker": keyworker}


def _sections(pack: SubjectAccessPack) -> dict[str, list[dict[str, str]]]:
    return {s["key"]: s["records"] for s in pack.contents["sections"]}


def test_the_pack_holds_what_every_part_of_the_hub_holds_and_every_disclosure(scene: dict[str, Any]) -> None:
    ash = scene["ash"]
    pack = services.make_subject_access_pack(scene["manager"], ash)
    found = _sections(pack)
    assert set(found) >= {"record", "consents", "safeguarding", "disclosures", "referrals", "custody",
                          "release_plan", "release_notices", "forum_cases"}  # fmt: skip
    logged = db.session.scalar(sa.select(sa.func.count()).select_from(Disclosure)
                               .where(Disclosure.service_user_id == ash.id))  # fmt: skip
    assert len(found["disclosures"]) == logged == 5
    assert {d["as part of"].split()[0] for d in found["disclosures"]} == {"referral", "release_notice", "forum_case",
                                                                          "release_plan"}  # fmt: skip
    assert all(d["basis"] == "a decision to share without consent" for d in found["disclosures"])
    assert {d["agency"] for d in found["disclosures"]} == {"Test Probation", "Test Housing", "Test Drugs"}
    assert found["safeguarding"][0]["why"] == "Immediate risk to life"
    assert found["consents"][0]["words read to you"].startswith("We would like to share")  # Ash's consent of 2025
    assert "Test Probation" in found["consents"][0]["words read to you"]
    assert [r["reference"] for r in found["referrals"]] and found["custody"][0]["first night"].startswith("Settled")
    assert found["release_notices"][0]["agency"] == "Test Housing"
    assert found["forum_cases"][0]["heard by"] == "Test Probation"
    assert {r["value"] for r in found["record"]} >= {"Ash", "Testperson", ash.reference}
    text = json.dumps(pack.contents)
    assert "Wren" not in text and "Bay" not in text and 'housing"]' not in text  # no other woman


def test_making_it_is_recorded_and_the_page_and_file_are_the_pack(client: FlaskClient, scene: dict[str, Any]) -> None:
    ash = scene["ash"]
    sign_in(client, scene["keyworker"])
    page = client.get(f"/service-users/{ash.id}")
    assert "Make her subject-access pack" in page.get_data(as_text=True)
    made = post_form(client, f"/service-users/{ash.id}/subject-access", {}, token_from=f"/service-users/{ash.id}")
    assert made.status_code == 302
    pack = db.session.scalars(sa.select(SubjectAccessPack).where(SubjectAccessPack.service_user_id == ash.id)).one()
    html = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "Who was told about you" in html and "Immediate risk to life" in html and "FC-TEST-ASH1" in html
    got = client.get(f"/service-users/{ash.id}/subject-access/{pack.id}.json")
    assert got.status_code == 200 and got.content_type.startswith("application/json")
    assert json.loads(got.get_data(as_text=True)) == pack.contents
    audit = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "subject_access.pack_made")).one()
    assert audit.data["records"]["disclosures"] == 5 and "Ash" not in json.dumps(audit.data)


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.PARTNER_LEAD, Role.PARTNER])
def test_only_a_manager_or_her_key_worker(client: FlaskClient, scene: dict[str, Any], role: Role) -> None:
    ash = scene["ash"]
    other = make_user(role, scene["world"].probation) if not role.is_staff else make_user(role)
    with pytest.raises(Denied):
        services.make_subject_access_pack(other, ash)
    pack = services.make_subject_access_pack(scene["manager"], ash)
    db.session.commit()
    sign_in(client, other)
    for path in (f"/service-users/{ash.id}/subject-access/{pack.id}",
                 f"/service-users/{ash.id}/subject-access/{pack.id}.json"):  # fmt: skip
        assert client.get(path).status_code in (403, 404)
    assert "Make her subject-access pack" not in client.get(f"/service-users/{ash.id}").get_data(as_text=True)


def test_a_pack_of_another_woman_is_not_found_under_her(client: FlaskClient, scene: dict[str, Any]) -> None:
    pack = services.make_subject_access_pack(scene["manager"], scene["ash"])
    db.session.commit()
    sign_in(client, scene["manager"])
    assert client.get(f"/service-users/{scene['wren'].id}/subject-access/{pack.id}").status_code == 404
    assert client.get(f"/service-users/{scene['ash'].id}/subject-access/99999999999").status_code == 404
