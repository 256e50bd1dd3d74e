"""A fictional partnership for the demo: every name, address and number here
is invented (emails use the reserved example.org domain, phones Ofcom's
drama range)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from agencies import services
from agencies.models import Agency, AgencyKind, Channel, Contact, InteractionKind
from hub.auth import services as auth_services
from hub.auth.models import User
from hub.db import db, today
from hub.permissions import SYSTEM, Role

DEMO_PASSWORD = "demo-hub-password-2026"  # noqa: S105 - published on purpose: demo data is fictional
HOST = ("Northgate Women's Centre", "northgate")
# The charity's own directory entry: how a partner reaches it (its staff are its contacts, below).
HOST_DETAILS = {
    "services": "Outreach, drop-in, prison in-reach, floating support.",
    "how_to_refer": "Through the hub, or phone the duty worker (weekdays 9am to 5pm); "
    "the Wednesday drop-in needs no referral.",
    "address": "The Old Library, 3 Mill Lane, Northgate",
    "phone": "0113 496 0900",
    "email": "hello@northgate.example.org",
    "website": "https://northgate.example.org",
}
# Each member of staff's entry among the charity's contacts: role, what they are good for.
STAFF_CONTACTS = {
    "Rowan Ellis": ("Hub administrator", "Hub accounts and partner systems' access."),
    "Priya Natt": ("Partnerships manager", "Working agreements, safeguarding decisions, escalations."),
    "Jo Marsh": ("Services manager", "Drop-in and rota; second approver for safeguarding decisions."),
    "Sam Okafor": ("Key worker", "Prison in-reach and release days; knows probation's women's team well."),
    "Kit Brennan": ("Key worker", "Housing and drug and alcohol referrals."),
    "Dee Walsh": ("Outreach worker", "Street outreach and the food bank."),
}

STAFF = [
    ("admin@northgate.example.org", "Rowan Ellis", Role.ADMIN),
    ("manager@northgate.example.org", "Priya Natt", Role.MANAGER),
    ("jo.marsh@northgate.example.org", "Jo Marsh", Role.MANAGER),
    ("practitioner@northgate.example.org", "Sam Okafor", Role.PRACTITIONER),
    ("kit.brennan@northgate.example.org", "Kit Brennan", Role.PRACTITIONER),
    ("dee.walsh@northgate.example.org", "Dee Walsh", Role.PRACTITIONER),
]
# Partner staff who sign in; each is also a named contact in the directory.
PARTNER_USERS = [
    ("lead@probation.example.org", "Marion Hale", Role.PARTNER_LEAD, "city-probation"),
    ("officer@probation.example.org", "Devi Anand", Role.PARTNER, "city-probation"),
    ("lead@housing.example.org", "Alia Khan", Role.PARTNER_LEAD, "riverside-housing-options"),
    ("worker@pathways.example.org", "Elena Rossi", Role.PARTNER, "pathways-drug-alcohol"),
]

# slug, name, kind, services, how to refer, agreement (agreed days ago, review in days) or None
AGENCIES: list[tuple[str, str, AgencyKind, str, str, tuple[int, int] | None]] = [
    (
        "city-probation",
        "City Probation Delivery Unit",
        AgencyKind.PROBATION,
        "Supervision on licence and community orders; women's team holds appointments at our centre.",
        "Email the women's team inbox with the person's PNC-free hub reference; urgent: phone the duty officer.",
        (400, 20),
    ),
    (
        "hmp-eastbrook",
        "HMP Eastbrook (women's prison)",
        AgencyKind.PRISON,
        "Resettlement and pre-release planning; in-reach visits by arrangement.",
        "Book in-reach visits through the resettlement hub at least 5 working days ahead.",
        (200, 165),
    ),
    (
        "riverside-housing-options",
        "Riverside Council Housing Options",
        AgencyKind.HOUSING,
        "Homelessness assessments, emergency accommodation, housing register.",
        "Duty to refer form; for release day, refer at least 56 days before release.",
        (300, 65),
    ),
    (
        "harbour-housing",
        "Harbour Housing Association",
        AgencyKind.HOUSING,
        "Supported housing for women, 24 bed spaces.",
        "Referral form via housing options panel.",
        None,
    ),
    (
        "pathways-drug-alcohol",
        "Pathways Drug and Alcohol Service",
        AgencyKind.SUBSTANCE_USE,
        "Assessment, prescribing, recovery groups; women-only clinic on Wednesdays.",
        "Self-referral or professional referral form; scripts arranged for release day on request.",
        (100, 265),
    ),
    (
        "safer-homes-idva",
        "Safer Homes IDVA Service",
        AgencyKind.IDVA,
        "Independent domestic violence advisers for high-risk cases; attends the Wednesday drop-in.",
        "Referral with a completed risk checklist; MARAC referrals via the police.",
        (500, -10),
    ),
    (
        "beacon-isva",
        "Beacon ISVA Service",
        AgencyKind.ISVA,
        "Independent sexual violence advisers, court support.",
        "Phone or secure email.",
        None,
    ),
    (
        "northshire-police-vulnerability",
        "Northshire Police Vulnerability Hub",
        AgencyKind.POLICE,
        "Safeguarding and exploitation team.",
        "Non-urgent: secure email. Emergencies: 999.",
        None,
    ),
    (
        "millbrook-medical",
        "Millbrook Medical Practice",
        AgencyKind.HEALTH,
        "GP practice that registers women with no fixed address.",
        "Phone the practice manager.",
        None,
    ),
    (
        "open-minds-cmht",
        "Open Minds Community Mental Health Team",
        AgencyKind.MENTAL_HEALTH,
        "Secondary mental health care, crisis line.",
        "GP referral, or via the crisis line.",
        None,
    ),
    (
        "clearview-sexual-health",
        "Clearview Sexual Health Clinic",
        AgencyKind.SEXUAL_HEALTH,
        "Testing, contraception, outreach clinic at the drop-in once a month.",
        "Drop-in or book online.",
        (150, 215),
    ),
    (
        "fairway-law-centre",
        "Fairway Law Centre",
        AgencyKind.LEGAL,
        "Housing, benefits and family law advice.",
        "Book via the centre's referral line.",
        None,
    ),
    (
        "northshire-childrens-services",
        "Northshire Children's Social Care",
        AgencyKind.SOCIAL_CARE,
        "Child protection, family support, contact arrangements.",
        "Front door team by phone.",
        None,
    ),
    (
        "hope-street-food-bank",
        "Hope Street Food Bank",
        AgencyKind.OTHER,
        "Food parcels and hot meals for the drop-in.",
        "Voucher from any partner.",
        None,
    ),
    (
        "quiet-room-therapy",
        "Quiet Room Therapy Collective",
        AgencyKind.MENTAL_HEALTH,
        "Trauma-informed counselling; a therapist attends the drop-in.",
        "Referral form, 6-week waiting list.",
        None,
    ),
]

# slug, name, role, channel, knowledge, known by (staff index), spoken days ago, verified days ago, left?
CONTACTS: list[tuple[str, str, str, Channel, str, int | None, int | None, int | None]] = [
    (
        "city-probation",
        "Marion Hale",
        "Senior probation officer, women's team",
        Channel.EMAIL,
        "Knows every woman on licence in the city; can move appointments to our centre.",
        1,
        10,
        30,
    ),
    (
        "city-probation",
        "Devi Anand",
        "Probation officer",
        Channel.PHONE,
        "Good on recall risk; answers the phone before 10am.",
        3,
        20,
        60,
    ),
    ("city-probation", "Gareth Lowe", "Probation officer", Channel.EMAIL, "Approved premises placements.", 4, 200, 300),
    (
        "hmp-eastbrook",
        "Fiona Carr",
        "Resettlement lead",
        Channel.EMAIL,
        "Tells us release dates early if asked; arranges gate pick-ups.",
        5,
        15,
        40,
    ),
    ("hmp-eastbrook", "Leon Price", "Offender management unit", Channel.PHONE, "Sentence calculations.", 5, 120, 400),
    (
        "riverside-housing-options",
        "Alia Khan",
        "Housing options officer (prison releases)",
        Channel.PHONE,
        "Really good person to talk to at housing: can get an emergency bed the same day.",
        3,
        5,
        20,
    ),
    (
        "riverside-housing-options",
        "Bea Thornton",
        "Team leader",
        Channel.EMAIL,
        "Escalations and complaints.",
        1,
        90,
        90,
    ),
    (
        "riverside-housing-options",
        "Colm Byrne",
        "Housing register officer",
        Channel.EMAIL,
        "Register banding.",
        None,
        None,
        None,
    ),
    ("harbour-housing", "Dana Frost", "Scheme manager", Channel.PHONE, "Supported housing vacancies.", 4, 40, 40),
    (
        "pathways-drug-alcohol",
        "Elena Rossi",
        "Women's clinic lead",
        Channel.PHONE,
        "Arranges scripts for release day if told 5 days before.",
        3,
        8,
        30,
    ),
    ("pathways-drug-alcohol", "Femi Adeyemi", "Recovery worker", Channel.TEXT, "Groups and peer support.", 4, 30, 30),
    ("pathways-drug-alcohol", "Grace Lin", "Prescriber", Channel.EMAIL, "Dose queries.", None, 300, 500),
    ("safer-homes-idva", "Hannah Cole", "IDVA team manager", Channel.EMAIL, "MARAC and high-risk cases.", 1, 12, 60),
    ("safer-homes-idva", "Imogen Shaw", "IDVA", Channel.PHONE, "Attends the Wednesday drop-in.", 3, 3, 30),
    ("beacon-isva", "Jade Mensah", "ISVA", Channel.PHONE, "Court support and police liaison.", 4, 60, 100),
    (
        "northshire-police-vulnerability",
        "Karl Jensen",
        "Detective sergeant, exploitation team",
        Channel.EMAIL,
        "Exploitation disruption; will meet at the centre.",
        1,
        45,
        200,
    ),
    (
        "northshire-police-vulnerability",
        "Lola Grant",
        "Police community support officer",
        Channel.PHONE,
        "Street outreach area.",
        3,
        25,
        50,
    ),
    (
        "millbrook-medical",
        "Mo Hussain",
        "Practice manager",
        Channel.PHONE,
        "Registers women with no fixed address; sets up medication before release.",
        5,
        70,
        150,
    ),
    ("open-minds-cmht", "Nell Parry", "Care coordinator", Channel.EMAIL, "Crisis plans.", 4, 100, 100),
    ("open-minds-cmht", "Oren Blake", "Duty worker", Channel.PHONE, "Same-day assessments.", None, None, 365),
    (
        "clearview-sexual-health",
        "Pia Ward",
        "Outreach nurse",
        Channel.TEXT,
        "Monthly clinic at the drop-in.",
        3,
        14,
        14,
    ),
    (
        "fairway-law-centre",
        "Quentin Moss",
        "Housing solicitor",
        Channel.EMAIL,
        "Challenges to intentionality.",
        1,
        80,
        80,
    ),
    (
        "fairway-law-centre",
        "Rhea Patel",
        "Benefits adviser",
        Channel.EMAIL,
        "Universal Credit advance payments.",
        5,
        35,
        35,
    ),
    (
        "northshire-childrens-services",
        "Sian Roberts",
        "Social worker",
        Channel.PHONE,
        "Contact arrangements.",
        1,
        50,
        120,
    ),
    (
        "northshire-childrens-services",
        "Tariq Aziz",
        "Front door team manager",
        Channel.EMAIL,
        "Threshold advice.",
        4,
        150,
        150,
    ),
    ("hope-street-food-bank", "Una Fields", "Coordinator", Channel.PHONE, "Hot meals for Wednesdays.", 5, 7, 30),
    (
        "quiet-room-therapy",
        "Vic Lowry",
        "Trauma therapist",
        Channel.EMAIL,
        "Attends the drop-in fortnightly.",
        3,
        21,
        21,
    ),
    ("quiet-room-therapy", "Wren Adair", "Clinical lead", Channel.EMAIL, "Waiting-list priority.", 1, 200, 200),
    ("beacon-isva", "Xena Cruz", "ISVA manager", Channel.EMAIL, "Allocations.", 1, 90, 90),
    (
        "hmp-eastbrook",
        "Yusuf Ali",
        "Chaplaincy",
        Channel.IN_PERSON,
        "Support for women without visitors.",
        None,
        150,
        150,
    ),
    ("harbour-housing", "Zara Quinn", "Support worker", Channel.PHONE, "Move-in support.", 3, 30, 30),
    ("city-probation", "Abi North", "Probation service officer", Channel.PHONE, "Induction appointments.", 4, 10, 10),
    (
        "riverside-housing-options",
        "Ben Carver",
        "Outreach housing officer",
        Channel.PHONE,
        "Rough sleeping team.",
        3,
        18,
        18,
    ),
    ("safer-homes-idva", "Cara Dean", "IDVA (hospital-based)", Channel.PHONE, "A&E disclosures.", None, 60, 60),
    ("open-minds-cmht", "Dylan Frye", "Psychologist", Channel.EMAIL, "Complex trauma.", 4, 120, 120),
]
# Contacts who have left: (slug, name, role, knowledge, left days ago, successor name)
LEAVERS = [
    (
        "city-probation",
        "Paula Strand",
        "Women's team manager",
        "Set up appointments at our centre in 2019.",
        200,
        "Marion Hale",
    ),
    ("hmp-eastbrook", "Ian Gould", "Resettlement officer", "Release-day transport.", 400, "Fiona Carr"),
    (
        "riverside-housing-options",
        "Kay Morton",
        "Prison release housing officer",
        "Early release referrals.",
        120,
        "Alia Khan",
    ),
    ("pathways-drug-alcohol", "Luke Varga", "Women's clinic lead", "Started the women-only clinic.", 90, "Elena Rossi"),
    ("safer-homes-idva", "Mina Osei", "IDVA", "Drop-in IDVA before Imogen.", 60, "Imogen Shaw"),
]


def _ago(days: int | None) -> dt.date | None:
    return None if days is None else today() - dt.timedelta(days=days)


def load() -> bool:
    """Create the demo partnership. Returns False if the hub already has agencies."""
    if db.session.scalar(sa.select(sa.func.count(Agency.id))):
        return False
    host = services.create_agency(SYSTEM, {"name": HOST[0], "slug": HOST[1], "kind": AgencyKind.HOST, **HOST_DETAILS})
    staff: list[User] = []
    staff_contacts: dict[str, Contact] = {}
    for index, (email, name, role) in enumerate(STAFF):
        user, _ = auth_services.create_user(
            SYSTEM, email=email, name=name, agency_id=host.id, role=role, password=DEMO_PASSWORD
        )
        user.must_change_password = False
        staff.append(user)
        job, knowledge = STAFF_CONTACTS[name]
        staff_contacts[name] = contact = services.add_contact(
            SYSTEM,
            host,
            {
                "name": name,
                "role": job,
                "knowledge": knowledge,
                "email": email,
                "phone": f"07700 900{500 + index:03d}",
                "preferred_channel": Channel.PHONE if role is Role.PRACTITIONER else Channel.EMAIL,
                "last_verified_on": _ago(30),
                "started_on": _ago(900),
            },
        )
        contact.user_id = user.id  # their work contact details, shown to partners on their referrals
    services.update_agency(
        SYSTEM,
        host,
        {"key_contact_id": staff_contacts["Priya Natt"].id, "deputy_contact_id": staff_contacts["Jo Marsh"].id},
    )
    by_slug: dict[str, Agency] = {}
    for index, (slug, name, kind, offer, refer, agreement) in enumerate(AGENCIES):
        data: dict[str, Any] = {
            "slug": slug,
            "name": name,
            "kind": kind,
            "services": offer,
            "how_to_refer": refer,
            "phone": f"0113 496 0{index:03d}",
            "email": f"team@{slug}.example.org",
            "website": f"https://{slug}.example.org",
            "relationship_owner_id": staff[index % 5].id,
        }
        if agreement:
            data.update(
                has_agreement=True,
                agreement_agreed_on=_ago(agreement[0]),
                agreement_review_on=today() + dt.timedelta(days=agreement[1]),
                agreement_summary="Response within 2 working days; named contact and deputy; "
                "attends the Wednesday drop-in when on the rota.",
            )
        by_slug[slug] = services.create_agency(SYSTEM, data)
    contacts = {}
    for slug, name, role, channel, knowledge, known_by, spoken, verified in CONTACTS:
        local = name.lower().replace(" ", ".")
        contact = services.add_contact(
            SYSTEM,
            by_slug[slug],
            {
                "name": name,
                "role": role,
                "preferred_channel": channel,
                "knowledge": knowledge,
                "email": f"{local}@{slug}.example.org",
                "phone": f"07700 900{len(contacts):03d}",
                "known_by_id": staff[known_by].id if known_by is not None else None,
                "last_spoken_on": _ago(spoken),
                "last_verified_on": _ago(verified),
                "started_on": _ago(900),
            },
        )
        contacts[name] = contact
    # Key contacts and deputies: the first two contacts of each agency, except
    # where the demo shows a gap on the health page.
    for slug, agency in by_slug.items():
        mine = [c for c in contacts.values() if c.agency_id == agency.id]
        changes = {}
        if mine and slug != "open-minds-cmht":
            changes["key_contact_id"] = mine[0].id
        if len(mine) > 1 and slug not in {"beacon-isva", "open-minds-cmht"}:
            changes["deputy_contact_id"] = mine[1].id
        if changes:
            services.update_agency(SYSTEM, agency, changes)
    for slug, name, role, knowledge, left_days, successor in LEAVERS:
        leaver = services.add_contact(
            SYSTEM,
            by_slug[slug],
            {
                "name": name,
                "role": role,
                "knowledge": knowledge,
                "preferred_channel": Channel.EMAIL,
                "email": f"{name.lower().replace(' ', '.')}@{slug}.example.org",
                "started_on": _ago(1500),
            },
        )
        services.record_leaver(
            SYSTEM,
            leaver,
            left_on=_ago(left_days) or today(),
            successor_id=contacts[successor].id,
            handover_note="Handed over in person; see the log for open threads.",
        )
    for agency in by_slug.values():
        agency.roles_to_confirm = None
    for email, name, role, slug in PARTNER_USERS:
        user, _ = auth_services.create_user(
            SYSTEM, email=email, name=name, agency_id=by_slug[slug].id, role=role, password=DEMO_PASSWORD
        )
        user.must_change_password = False
        contacts[name].user_id = user.id
    entries = [
        (
            "city-probation",
            "Marion Hale",
            InteractionKind.MEETING,
            10,
            "Agreed to hold two licence appointments a week at the centre.",
        ),
        (
            "riverside-housing-options",
            "Alia Khan",
            InteractionKind.CALL,
            5,
            "Emergency bed found same day for ref HUB-DEMO-0003.",
        ),
        (
            "hmp-eastbrook",
            "Fiona Carr",
            InteractionKind.EMAIL,
            15,
            "Asked for 6 weeks' notice of Friday releases; agreed.",
        ),
        (
            "safer-homes-idva",
            None,
            InteractionKind.NOTE,
            30,
            "Working agreement review overdue: raise at the next forum.",
        ),
        ("pathways-drug-alcohol", "Elena Rossi", InteractionKind.VISIT, 8, "Visited the women's clinic."),
    ]
    for slug, who, kind, days, summary in entries:
        services.log_interaction(
            staff[3],
            by_slug[slug],
            {
                "kind": kind,
                "occurred_on": _ago(days),
                "summary": summary,
                "contact_id": contacts[who].id if who else None,
            },
        )
    # Dee Walsh has left without a handover: her relationships show on the health page, and the Staff
    # page offers to hand them over, until someone does.
    services.record_leaver(
        SYSTEM, staff_contacts["Dee Walsh"], left_on=_ago(14) or today(), successor_id=staff_contacts["Jo Marsh"].id
    )
    auth_services.disable_user(SYSTEM, staff[5], reason="left")
    _services(host, by_slug)
    return True


def _services(host: Agency, by_slug: dict[str, Agency]) -> None:
    """The charity's services as records (two published in the Open Referral UK feed, the drop-in with
    the rota's venue and weekly times), and one a partner lead chose to publish."""
    ours = [
        {"name": "Wonder Women Wednesdays drop-in", "drop_in": True, "publish": True,
         "description": "A weekly drop-in for women: a hot meal, housing advice, an IDVA, drug and alcohol "
         "workers and probation in one room. No referral or appointment needed.",
         "eligibility": "Women aged 18 and over", "email": "hello@northgate.example.org"},
        {"name": "Prison in-reach and release support", "publish": True,
         "description": "We visit women in custody, plan their release with them and the agencies they need, "
         "and meet them at the gate or the station on the day.",
         "eligibility": "Women in custody who will live in the area on release",
         "email": "hello@northgate.example.org"},
        {"name": "Floating support", "publish": False,
         "description": "Support at home after release: benefits, tenancy, appointments kept."},
    ]  # fmt: skip
    for data in ours:
        services.add_service(SYSTEM, host, data)
    probation = by_slug["city-probation"]
    lead = db.session.scalar(sa.select(User).where(User.email == "lead@probation.example.org"))
    if lead is not None:
        services.add_service(lead, probation, {
            "name": "Women's probation reporting at the centre", "publish": True,
            "description": "Licence appointments held at the women's centre on Wednesdays.",
            "eligibility": "Women under City Probation supervision",
        })  # fmt: skip


def sign_ins() -> list[tuple[str, str]]:
    return [(email, role.label) for email, _n, role in STAFF[:4]] + [
        (email, f"{role.label}, {slug}") for email, _n, role, slug in PARTNER_USERS[:2]
    ]
