"""What a release plan is seeded from, and the milestones it is checked at.

The support needs follow the MoJ Resettlement Passport's catalogue by pathway,
with the women-specific items the charity's own evaluation asks for (a
release pack and phone, being met at the gate or the station, storage of her
belongings, places she must avoid). Each has who usually does it and how many
days before the day planned for it should be done, from what each partner
needs (the duty to refer at 56 days, GP registration up to a month before, a
prescription for the day itself, drug treatment within 3 weeks after).
"""

from __future__ import annotations

from dataclasses import dataclass

from releases.models import Pathway, Responsible


@dataclass(frozen=True)
class Need:
    key: str
    pathway: Pathway
    title: str
    responsible: Responsible
    days_before: int
    usual: bool = False  # ticked by default when a plan is started


P, R = Pathway, Responsible
CATALOGUE: tuple[Need, ...] = (
    Need("duty_to_refer", P.ACCOMMODATION, "Duty to refer to the council she chooses (with her consent)",
         R.PROBATION, 56, usual=True),
    Need("night_one", P.ACCOMMODATION, "Somewhere safe to stay on the first night", R.CHARITY, 28, usual=True),
    Need("tenancy", P.ACCOMMODATION, "Keep or end her tenancy while she is inside", R.CHARITY, 56),
    Need("storage", P.ACCOMMODATION, "Storage for her belongings", R.CHARITY, 28),
    Need("gp_register", P.HEALTH, "Register with a GP before release", R.PARTNER, 28, usual=True),
    Need("gp_appointment", P.HEALTH, "A GP appointment for after release", R.PARTNER, 14),
    Need("medication", P.HEALTH, "Medication for release day (at least 7 days, or a prescription)", R.PRISON, 14,
         usual=True),
    Need("mental_health", P.HEALTH, "Mental health support in the community", R.PARTNER, 28),
    Need("reconnect", P.HEALTH, "Care after custody (RECONNECT) referral", R.PRISON, 84),
    Need("script", P.SUBSTANCE_USE, "Prescription (script) ready on the day of release", R.PARTNER, 14),
    Need("treatment", P.SUBSTANCE_USE, "Community drug and alcohol appointment within 3 weeks", R.PARTNER, 14),
    Need("naloxone", P.SUBSTANCE_USE, "Naloxone and overdose advice before she leaves", R.PRISON, 2),
    Need("id", P.FINANCE_AND_ID, "Apply for ID", R.CHARITY, 56, usual=True),
    Need("bank", P.FINANCE_AND_ID, "Open a bank account", R.PRISON, 28),
    Need("benefits", P.FINANCE_AND_ID, "Benefits claim ready for release day", R.PRISON, 14, usual=True),
    Need("fines", P.FINANCE_AND_ID, "Freeze court fines and stop debts building up", R.CHARITY, 28),
    Need("children", P.CHILDREN_AND_FAMILY, "Contact with children's services arranged", R.CHARITY, 28),
    Need("idva", P.CHILDREN_AND_FAMILY, "Domestic abuse support (IDVA) in place", R.PARTNER, 28),
    Need("work", P.EDUCATION_AND_WORK, "Education, training or work plan", R.PRISON, 28),
    Need("safety_plan", P.ATTITUDES_AND_BEHAVIOUR, "Safety plan: places and people to avoid", R.CHARITY, 14,
         usual=True),
    Need("probation_appointment", P.DAY_OF_RELEASE, "First probation appointment: time and place", R.PROBATION, 14,
         usual=True),
    Need("release_pack", P.DAY_OF_RELEASE, "Release pack: phone, clothes, toiletries", R.CHARITY, 2, usual=True),
    Need("meet", P.DAY_OF_RELEASE, "Meet her at the gate or the station", R.CHARITY, 2, usual=True),
    Need("travel", P.DAY_OF_RELEASE, "Travel to where she will stay", R.PRISON, 2),
)  # fmt: skip
BY_KEY = {need.key: need for need in CATALOGUE}
BY_TITLE = {need.title.casefold(): need for need in CATALOGUE}  # an item added by hand with a catalogue title


@dataclass(frozen=True)
class Milestone:
    key: str
    label: str
    days_before: int  # negative: after the day planned for


# Relative to the day planned for (the earliest day she could walk out).
MILESTONES: tuple[Milestone, ...] = (
    Milestone("12w", "12 weeks to go", 84),
    Milestone("8w", "8 weeks to go", 56),
    Milestone("4w", "4 weeks to go", 28),
    Milestone("14d", "14 days to go", 14),
    Milestone("2d", "2 days to go", 2),
    Milestone("day", "the day of release", 0),
    Milestone("3w_after", "3 weeks after release", -21),
)
