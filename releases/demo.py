"""Fictional releases for the demo, loaded by ``flask hub demo`` after the referrals.

Three women of the demo (every name invented) at HMP Eastbrook:

- Shona, due out on a Friday three weeks from now: the Friday scheme applies,
  so the window opens two working days earlier. Her plan's prescription is
  referred to the drug service through the consent gate; her consent there does
  not cover her sentence and release, so "who knows" shows that gap first.
- Cass, due out in six weeks: her first probation appointment is referred to
  City Probation, whose staff see the release because her consent covers
  release planning with them.
- Lou, released last week, with where she stayed on her first night.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

import sqlalchemy as sa

from agencies.models import Agency, Contact
from consent.models import ServiceUser
from hub.auth.models import User
from hub.db import db, today
from releases import services
from releases.dates import CustodyType, ReleaseType, SentenceKind
from releases.models import CustodyEpisode, ItemStatus, NightOne, PlanItem

_T = TypeVar("_T")
TOLD_BY = "Offender management unit, by phone"


def _one(model: type[_T], **where: object) -> _T:
    found = db.session.scalar(sa.select(model).filter_by(**where))
    assert found is not None, where
    return found


def _friday_after(days: int) -> dt.date:
    start = today() + dt.timedelta(days=days)
    return start + dt.timedelta(days=(4 - start.weekday()) % 7)


def _item(custody: CustodyEpisode, title_start: str) -> PlanItem:
    items = db.session.scalars(sa.select(PlanItem).where(PlanItem.custody_id == custody.id)).all()
    return next(i for i in items if i.title.startswith(title_start))


def _record(staff: User, person: ServiceUser, prison: Agency, probation: Contact | None, nominal: dt.date,
            needs: list[str], *, served_days: int = 120) -> CustodyEpisode:  # fmt: skip
    return services.record_custody(staff, person, {
        "prison_agency_id": prison.id, "custody_type": CustodyType.SENTENCED,
        "sentence_kind": SentenceKind.DETERMINATE, "sentenced_on": nominal - dt.timedelta(days=served_days),
        "term_days": served_days * 2, "release_type": ReleaseType.AUTOMATIC, "nominal_release_on": nominal,
        "probation_contact_id": probation.id if probation else None, "date_told_by": TOLD_BY,
        "date_told_on": today() - dt.timedelta(days=3), "needs": needs,
    })  # fmt: skip


def load() -> bool:
    if db.session.scalar(sa.select(sa.func.count(CustodyEpisode.id))):
        return False
    staff = _one(User, email="practitioner@northgate.example.org")
    prison = _one(Agency, slug="hmp-eastbrook")
    drugs = _one(Agency, slug="pathways-drug-alcohol")
    officer = _one(Contact, name="Devi Anand")
    senior = _one(Contact, name="Marion Hale")
    women = {p.given_name: p for p in db.session.scalars(sa.select(ServiceUser))}
    usual = ["duty_to_refer", "night_one", "gp_register", "medication", "id", "safety_plan",
             "probation_appointment", "release_pack", "meet"]  # fmt: skip

    shona = _record(staff, women["Shona"], prison, officer, _friday_after(21), [*usual, "script"])
    script = _item(shona, "Prescription")
    services.refer_plan_item(staff, script, {
        "agency_id": drugs.id, "data_categories": ["identity", "substance_use"], "urgency": "urgent",
        "reason": "A script ready for the day she leaves, and a first appointment in the week after.",
    })  # fmt: skip
    services.change_plan_item(staff, _item(shona, "Apply for ID"), {"status": ItemStatus.DONE})
    services.change_plan_item(staff, _item(shona, "Meet her"), {"owner_user_id": staff.id})

    cass = _record(staff, women["Cass"], prison, senior, _friday_after(42) + dt.timedelta(days=3), usual)
    services.refer_plan_item(staff, _item(cass, "First probation appointment"), {
        "agency_id": senior.agency_id, "contact_id": senior.id, "data_categories": ["identity", "criminal_justice"],
        "urgency": "routine", "reason": "Her first appointment at our centre on the day she is released, please.",
    })  # fmt: skip

    left = today() - dt.timedelta(days=6)
    lou = _record(staff, women["Lou"], prison, officer, left, ["night_one", "medication", "meet"], served_days=40)
    services.record_release(staff, lou, left, NightOne.OTHER_HOUSED)
    db.session.flush()
    return True
