"""Fictional women, their consents and a safeguarding decision, for the demo.

Every name here is invented. Loaded by ``flask hub demo`` after the directory.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from agencies.models import Agency
from consent import services
from consent.models import Art6Basis, Art9Condition, ConsentMethod, Para18Reason, ServiceUser
from hub.auth.models import User
from hub.db import db, today

# reference-free: references are generated. (given, family, year of birth)
WOMEN = [
    ("Ria", "Calder", 1991),
    ("Shona", "Pike", 1986),
    ("Abi", "Trent", 1995),
    ("Lou", "Garvey", 1979),
    ("Mags", "Henley", 1983),
    ("Tina", "Roe", 1990),
    ("Cass", "Orme", 1998),
    ("Dee", "Lytton", 1975),
]

# woman index, agency slug, categories, given days ago, months valid
CONSENTS = [
    (0, "city-probation", ["identity", "criminal_justice", "housing"], 30, 12),
    (0, "riverside-housing-options", ["identity", "contact_details", "housing", "criminal_justice"], 30, 12),
    (1, "city-probation", ["identity", "criminal_justice", "substance_use"], 60, 12),
    (1, "pathways-drug-alcohol", ["identity", "substance_use", "physical_health"], 60, 12),
    (2, "riverside-housing-options", ["identity", "housing"], 10, 6),
    (3, "city-probation", ["identity", "criminal_justice"], 350, 12),  # expires within days: reminder
    (4, "pathways-drug-alcohol", ["identity", "substance_use"], 20, 12),
    (5, "riverside-housing-options", ["identity", "housing", "domestic_abuse"], 15, 12),
    (6, "city-probation", ["identity", "criminal_justice", "housing"], 5, 12),
    (7, "riverside-housing-options", ["identity", "housing"], 40, 12),
]


def _staff(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    assert user is not None, email
    return user


def load() -> bool:
    if db.session.scalar(sa.select(sa.func.count(ServiceUser.id))):
        return False
    practitioner = _staff("practitioner@northgate.example.org")
    manager = _staff("manager@northgate.example.org")
    agencies = {a.slug: a for a in db.session.scalars(sa.select(Agency))}
    women = []
    for given, family, year in WOMEN:
        women.append(
            services.create_service_user(
                practitioner,
                {
                    "given_name": given,
                    "family_name": family,
                    "date_of_birth": dt.date(year, 3, 14),
                },
            )
        )
    for index, slug, categories, days_ago, months in CONSENTS:
        given_on = today() - dt.timedelta(days=days_ago)
        services.record_consent(
            practitioner,
            women[index],
            {
                "agency_id": agencies[slug].id,
                "purposes": ["referral", "release_planning"],
                "data_categories": categories,
                "method": ConsentMethod.VERBAL if index % 2 else ConsentMethod.WRITTEN,
                "given_on": given_on,
                "expires_on": given_on + dt.timedelta(days=months * 30),
                "evidence_note": "Information sheet read with her at the drop-in; she asked questions and agreed.",
            },
        )
    # A safeguarding decision waiting for a second manager's approval.
    services.decide_safeguarding(
        manager,
        women[7],
        {
            "agency_id": agencies["northshire-police-vulnerability"].id,
            "purposes": ["referral"],
            "data_categories": ["identity", "sexual_exploitation"],
            "art6_basis": Art6Basis.VITAL_INTERESTS,
            "art9_condition": Art9Condition.SUBSTANTIAL_PUBLIC_INTEREST,
            "para18_reason": Para18Reason.WOULD_PREJUDICE,
            "justification": "Credible information that she is being moved between addresses by an exploiter; "
            "asking her now would alert him and put her at greater risk.",
            "she_was_told": False,
            "not_told_reason": "Telling her now would alert the exploiter.",
            "review_on": today() + dt.timedelta(days=28),
        },
    )
    return True
