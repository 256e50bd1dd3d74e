"""Custody episodes, their release plans, who was told the date, and the
milestones already sent.

The dates a prison or probation gives are reported facts (``nominal_release_on``
with who told us and when); the hub's own dates (``statutory_on``,
``expected_on``, ``earliest_on``) are an expectation computed from them by
:mod:`releases.dates`, stored so that the board and the milestone job read them
from an index. ``plan_on`` is the day everything is planned for: the earliest
day she could walk out.
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import Agency, Contact
from consent.models import ServiceUser
from consent.sharing import SharedOnBasis
from hub.auth.models import User
from hub.db import Model, TimestampMixin, enum_column, utcnow
from releases.dates import CustodyType, ReleaseType, Rule, SentenceKind


class CustodyStatus(enum.StrEnum):
    IN_CUSTODY = "in_custody"
    RELEASED = "released"
    TRANSFERRED = "transferred"

    @property
    def label(self) -> str:
        return {"in_custody": "In custody", "released": "Released", "transferred": "Transferred"}[self.value]


class NightOne(enum.StrEnum):
    """Where she slept on her first night out, in the MoJ's accommodation categories."""

    SETTLED = "settled"
    OTHER_HOUSED = "other_housed"
    PROBATION_ACCOMMODATION = "probation_accommodation"
    HOMELESS = "homeless"
    ROUGH_SLEEPING = "rough_sleeping"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return NIGHT_ONE_LABELS[self]


NIGHT_ONE_LABELS = {
    NightOne.SETTLED: "Settled accommodation (her own or a family tenancy)",
    NightOne.OTHER_HOUSED: "Other housed (temporary, staying with friends or family)",
    NightOne.PROBATION_ACCOMMODATION: "Bail or probation accommodation (CAS or approved premises)",
    NightOne.HOMELESS: "Homeless (not rough sleeping)",
    NightOne.ROUGH_SLEEPING: "Rough sleeping",
    NightOne.UNKNOWN: "Not known",
}


class CustodyEpisode(TimestampMixin, Model):
    """A spell in prison for a woman the charity supports, and the release it leads to."""

    __tablename__ = "custody_episodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True)
    service_user_id: Mapped[int] = mapped_column(sa.ForeignKey("service_users.id"), index=True)
    prison_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    custody_type: Mapped[CustodyType] = mapped_column(enum_column(CustodyType, "custody_type"))
    sentence_kind: Mapped[SentenceKind | None] = mapped_column(enum_column(SentenceKind, "sentence_kind"))
    sentenced_on: Mapped[dt.date | None]
    term_days: Mapped[int | None]
    release_type: Mapped[ReleaseType] = mapped_column(enum_column(ReleaseType, "release_type"))
    nominal_release_on: Mapped[dt.date]
    # Who gave us the date, and when: the prison's date is authoritative, ours an expectation.
    date_told_by: Mapped[str] = mapped_column(sa.String(200), default="")
    date_told_on: Mapped[dt.date | None]
    probation_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    status: Mapped[CustodyStatus] = mapped_column(
        enum_column(CustodyStatus, "custody_status"), default=CustodyStatus.IN_CUSTODY
    )
    # The day-of-release rule's answer, kept in step with the inputs by ``services._recompute``.
    statutory_on: Mapped[dt.date]
    expected_on: Mapped[dt.date]
    earliest_on: Mapped[dt.date | None]
    plan_on: Mapped[dt.date]
    rule: Mapped[Rule] = mapped_column(enum_column(Rule, "release_rule"))
    ask_the_prison: Mapped[bool] = mapped_column(default=False)
    # A recall starts the timeline again: milestones are sent once per cycle.
    cycle: Mapped[int] = mapped_column(default=1)
    released_on: Mapped[dt.date | None]
    # At release: which agencies in the plan had been told the date, and when (the
    # "released without notice" figure is the count of those that had not).
    told_before_release: Mapped[list[dict[str, object]] | None] = mapped_column(sa.JSON)
    agencies_untold: Mapped[int | None]
    night_one: Mapped[NightOne | None] = mapped_column(enum_column(NightOne, "night_one"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    service_user: Mapped[ServiceUser] = relationship()
    prison: Mapped[Agency] = relationship(foreign_keys=[prison_agency_id])
    probation_contact: Mapped[Contact | None] = relationship(foreign_keys=[probation_contact_id])


# The board and the API's range: releases by expected day, among those still in custody.
sa.Index("ix_custody_by_expected", CustodyEpisode.status, CustodyEpisode.expected_on, CustodyEpisode.id)
# The milestone job: by the day planned for.
sa.Index("ix_custody_by_plan_on", CustodyEpisode.status, CustodyEpisode.plan_on)
# The milestone three weeks after release: by the day she left.
sa.Index("ix_custody_by_released_on", CustodyEpisode.status, CustodyEpisode.released_on)


class Pathway(enum.StrEnum):
    ACCOMMODATION = "accommodation"
    HEALTH = "health"
    SUBSTANCE_USE = "substance_use"
    FINANCE_AND_ID = "finance_and_id"
    CHILDREN_AND_FAMILY = "children_and_family"
    EDUCATION_AND_WORK = "education_and_work"
    ATTITUDES_AND_BEHAVIOUR = "attitudes_and_behaviour"
    DAY_OF_RELEASE = "day_of_release"

    @property
    def label(self) -> str:
        return PATHWAY_LABELS[self]


PATHWAY_LABELS = {
    Pathway.ACCOMMODATION: "Accommodation",
    Pathway.HEALTH: "Health",
    Pathway.SUBSTANCE_USE: "Drugs and alcohol",
    Pathway.FINANCE_AND_ID: "Finance and ID",
    Pathway.CHILDREN_AND_FAMILY: "Children, families and community",
    Pathway.EDUCATION_AND_WORK: "Education, skills and work",
    Pathway.ATTITUDES_AND_BEHAVIOUR: "Attitudes, thinking and behaviour",
    Pathway.DAY_OF_RELEASE: "The day of release",
}


class ItemStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUPPORT_REQUIRED = "support_required"
    SUPPORT_DECLINED = "support_declined"
    NOT_NEEDED = "not_needed"
    DONE = "done"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_open(self) -> bool:
        return self in OPEN_ITEM


OPEN_ITEM = frozenset({ItemStatus.NOT_STARTED, ItemStatus.IN_PROGRESS, ItemStatus.SUPPORT_REQUIRED})


class Responsible(enum.StrEnum):
    """Who does an item: the prison, her probation practitioner, the charity, or a named partner."""

    PRISON = "prison"
    PROBATION = "probation"
    CHARITY = "charity"
    PARTNER = "partner"

    @property
    def label(self) -> str:
        return {"prison": "The prison", "probation": "Her probation practitioner", "charity": "Us",
                "partner": "A partner agency"}[self.value]  # fmt: skip


class PlanItem(TimestampMixin, Model):
    """One thing to be in place by her release, with who does it and by when."""

    __tablename__ = "release_plan_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    custody_id: Mapped[int] = mapped_column(sa.ForeignKey("custody_episodes.id"), index=True)
    pathway: Mapped[Pathway] = mapped_column(enum_column(Pathway, "plan_pathway"))
    # The support need of the catalogue it was started from (``releases.catalogue``), if any: what
    # the reports count it as (ID applied for, GP registered, met at the gate ...) whatever its title.
    need: Mapped[str | None] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[ItemStatus] = mapped_column(enum_column(ItemStatus, "plan_item_status"))
    responsible: Mapped[Responsible] = mapped_column(enum_column(Responsible, "plan_responsible"))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    owner_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    due_on: Mapped[dt.date | None]
    # Days before the day planned for (negative: after), so a new date moves the item with it.
    days_before: Mapped[int | None]
    referral_id: Mapped[int | None] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    done_on: Mapped[dt.date | None]

    agency: Mapped[Agency | None] = relationship(foreign_keys=[agency_id])
    contact: Mapped[Contact | None] = relationship(foreign_keys=[contact_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_user_id])


class ReleaseNotice(SharedOnBasis, Model):
    """An agency in her plan was told the release date (a disclosure, on a basis)."""

    __tablename__ = "release_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    custody_id: Mapped[int] = mapped_column(sa.ForeignKey("custody_episodes.id"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agencies.id"), index=True)
    expected_on: Mapped[dt.date]
    earliest_on: Mapped[dt.date | None]
    told_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MilestoneSent(Model):
    """A milestone before (or after) release whose reminder has gone: once per day planned for and cycle."""

    __tablename__ = "release_milestones_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    custody_id: Mapped[int] = mapped_column(sa.ForeignKey("custody_episodes.id"), index=True)
    cycle: Mapped[int]
    milestone: Mapped[str] = mapped_column(sa.String(16))
    plan_on: Mapped[dt.date]
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recipients: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.UniqueConstraint("custody_id", "cycle", "milestone", "plan_on", name="uq_release_milestones_once"),
    )
