"""Demo referrals in every status. Loaded by ``flask hub demo`` after consent."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from agencies.models import Agency
from consent import services as consent_services
from consent.models import ConsentRecord, ServiceUser
from hub.auth.models import User
from hub.db import db, today
from hub.workdays import add_working_days
from referrals import services
from referrals.actions import ACTIONS
from referrals.models import Referral, Urgency

# woman index, agency slug, categories, reason, actions by the agency after sending
PLAN = [
    (0, "riverside-housing-options", ["identity", "housing"], "Needs emergency accommodation on release.", []),
    (
        0,
        "city-probation",
        ["identity", "criminal_justice"],
        "Asks for licence appointments at the centre.",
        ["acknowledge"],
    ),
    (1, "pathways-drug-alcohol", ["identity", "substance_use"], "Wants a script in place for release day.", ["accept"]),
    (
        1,
        "city-probation",
        ["identity", "criminal_justice"],
        "Support with her licence conditions.",
        ["accept", "start"],
    ),
    (
        2,
        "riverside-housing-options",
        ["identity", "housing"],
        "Housing register application.",
        ["acknowledge", ("decline", "She is already on our register; see message.")],
    ),
    (
        4,
        "pathways-drug-alcohol",
        ["identity", "substance_use"],
        "Recovery group referral.",
        ["accept", "start", ("complete", "Attended six sessions.")],
    ),
    (
        5,
        "riverside-housing-options",
        ["identity", "housing", "domestic_abuse"],
        "Safe accommodation away from her former partner.",
        ["accept", "start"],
    ),
    (6, "city-probation", ["identity", "criminal_justice", "housing"], "Pre-release planning.", ["acknowledge"]),
]


def _user(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    assert user is not None, email
    return user


def load() -> bool:
    if db.session.scalar(sa.select(sa.func.count(Referral.id))):
        return False
    practitioner = _user("practitioner@northgate.example.org")
    partners = {u.agency_id: u for u in db.session.scalars(sa.select(User).where(User.role == "partner_lead"))}
    partners.setdefault(_agency("pathways-drug-alcohol").id, _user("worker@pathways.example.org"))
    women = list(db.session.scalars(sa.select(ServiceUser).order_by(ServiceUser.id)))
    made = []
    for index, slug, categories, reason, actions in PLAN:
        agency = _agency(slug)
        referral = services.create_referral(
            practitioner,
            {
                "service_user_id": women[index].id,
                "agency_id": agency.id,
                "data_categories": categories,
                "reason": reason,
                "urgency": Urgency.URGENT if index == 6 else Urgency.ROUTINE,
            },
        )
        services.send_referral(practitioner, referral)
        for action in actions:
            name, note = action if isinstance(action, tuple) else (action, "")
            ACTIONS[name].run(partners[agency.id], referral, {"reason": note, "outcome": note})
        made.append(referral)
    # A draft, and a cancelled one.
    services.create_referral(
        practitioner,
        {
            "service_user_id": women[3].id,
            "agency_id": _agency("city-probation").id,
            "data_categories": ["identity", "criminal_justice"],
            "reason": "Draft: waiting to speak to her first.",
        },
    )
    cancelled = services.create_referral(
        practitioner,
        {
            "service_user_id": women[2].id,
            "agency_id": _agency("riverside-housing-options").id,
            "data_categories": ["identity"],
            "reason": "Sent to the wrong team.",
        },
    )
    services.send_referral(practitioner, cancelled)
    services.cancel_referral(practitioner, cancelled, "Sent to the wrong team by mistake.")
    # Overdue: the first referral was sent a week ago and nobody has acknowledged it.
    overdue = made[0]
    overdue.sent_at = overdue.sent_at - dt.timedelta(days=7) if overdue.sent_at else None
    overdue.acknowledge_by = overdue.due_on = add_working_days(today() - dt.timedelta(days=7), 2)
    services.post_message(practitioner, made[4], "She is on your register already? Could you check band C?")
    # On hold: Ria withdraws consent for probation, which holds the acknowledged referral.
    record = db.session.scalar(
        sa.select(ConsentRecord).where(
            ConsentRecord.service_user_id == women[0].id, ConsentRecord.agency_id == _agency("city-probation").id
        )
    )
    assert record is not None
    consent_services.withdraw_consent(practitioner, record, "She does not want probation told about the centre.")
    db.session.flush()
    return True


def _agency(slug: str) -> Agency:
    agency = db.session.scalar(sa.select(Agency).where(Agency.slug == slug))
    assert agency is not None, slug
    return agency
