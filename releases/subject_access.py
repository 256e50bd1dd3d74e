"""Her time in custody and her release plans, for her subject-access pack (:mod:`hub.subject_access`):
three statements."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from agencies.models import Agency
from hub.db import db
from hub.subject_access import Section, when
from releases.models import CustodyEpisode, PlanItem, ReleaseNotice


def release_sections(service_user_id: int) -> list[Section]:
    episodes = db.session.scalars(
        sa.select(CustodyEpisode).where(CustodyEpisode.service_user_id == service_user_id)
        .options(joinedload(CustodyEpisode.prison)).order_by(CustodyEpisode.created_at)
    ).all()  # fmt: skip
    ids = [e.id for e in episodes]
    items = db.session.scalars(sa.select(PlanItem).where(PlanItem.custody_id.in_(ids))
                               .options(joinedload(PlanItem.agency)).order_by(PlanItem.custody_id, PlanItem.id)
                               ).all() if ids else []  # fmt: skip
    notices = db.session.execute(
        sa.select(ReleaseNotice, Agency.name).join(Agency, Agency.id == ReleaseNotice.agency_id)
        .where(ReleaseNotice.custody_id.in_(ids)).order_by(ReleaseNotice.told_at)
    ).all() if ids else []  # fmt: skip
    reference = {e.id: e.reference for e in episodes}
    return [
        Section("custody", "Your time in custody", "What we recorded to plan your release.",
                ("reference", "prison", "status", "expected release", "released", "first night"), [
            (e.reference, e.prison.name, e.status.label, when(e.expected_on), when(e.released_on),
             e.night_one.label if e.night_one else "") for e in episodes
        ]),
        Section("release_plan", "Your release plans", "Each thing to be in place by your release, who did it.",
                ("custody", "what", "status", "who", "agency", "due", "done"), [
            (reference[i.custody_id], i.title, i.status.label, i.responsible.label, i.agency.name if i.agency else "",
             when(i.due_on), when(i.done_on)) for i in items
        ]),
        Section("release_notices", "Agencies told your release date", "Who was told when you would be released.",
                ("custody", "agency", "told", "expected release"), [
            (reference[n.custody_id], name, when(n.told_at), when(n.expected_on)) for n, name in notices
        ]),
    ]  # fmt: skip
