"""The agenda's suggestions come from the other packages through the ``forum_suggestions`` registry:
referrals past their deadline by agency, agencies whose knowledge rests on one person (and, where
there are any, releases with plan gaps and rota gaps). They name agencies and counts, never her."""

from __future__ import annotations

import datetime as dt
from typing import Any

from consent import services as consent_services
from consent.models import ConsentMethod
from forum import agenda, services
from hub.db import db
from referrals import services as referral_services
from tests.forum.world import FAMILY_NAME, GIVEN_NAME, ForumWorld


def test_the_agenda_suggests_what_the_partnership_should_talk_about(world: ForumWorld, clock: Any) -> None:
    referral = referral_services.create_referral(world.practitioner, {
        "service_user_id": world.woman.id, "agency_id": world.probation.id, "data_categories": ["identity"],
        "reason": "Needs support", "purpose": "referral"})  # fmt: skip
    consent_services.record_consent(world.practitioner, world.woman, {
        "agency_id": world.probation.id, "purposes": ["referral"], "data_categories": ["identity"],
        "method": ConsentMethod.WRITTEN, "given_on": dt.date(2026, 11, 1)})  # fmt: skip
    referral_services.send_referral(world.practitioner, referral)
    january = services.schedule_meeting(world.manager, world.forum,
                                        {"starts_at": dt.datetime(2027, 1, 12, 10, 0, tzinfo=dt.UTC)})  # fmt: skip
    services.nominate_case(world.practitioner, january, {"service_user_id": world.woman.id, "reason": "Risk"})
    db.session.commit()
    clock.move_to(dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC))  # the referral is long past its deadline
    items = agenda.build(january, world.forum)
    kinds = [i.kind for i in items]
    assert kinds[:2] == ["standing", "standing"] and "case" in kinds
    suggested = {(i.extra["source"], i.extra["agency_id"]) for i in items if i.kind == "suggestion"}
    assert ("referrals", world.probation.id) in suggested
    # Housing has two named contacts; the other three rest on their lead alone.
    assert {a for s, a in suggested if s == "directory"} == {world.probation.id, world.drugs.id, world.idva.id}
    assert not any(GIVEN_NAME in i.title + i.detail or FAMILY_NAME in i.title + i.detail for i in items)
