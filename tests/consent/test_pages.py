"""The consent pages as people use them: what they see and what their forms change."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from agencies.models import AgencyKind
from consent import services as consent
from consent import sharing
from consent.models import (
    ConsentMethod,
    ConsentRecord,
    ConsentStatus,
    SafeguardingDecision,
    SafeguardingStatus,
    ServiceUser,
)
from hub.db import db
from hub.permissions import Role
from tests.helpers import csrf_token, make_agency, make_contact, make_user, post_form, sign_in

TODAY = dt.date.today()


def _d(day: dt.date) -> str:
    return f"{day.day}/{day.month}/{day.year}"


def fresh(obj):
    """The row as it is now: each request ends its database session, so reload rather than refresh."""
    return db.session.get(type(obj), obj.id)


def text_of(response) -> str:
    """The page's text with tags removed and spaces collapsed, as a reader sees it."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def error_summary(response) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S)
    assert match, "no error summary on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


@pytest.fixture
def world():
    practitioner = make_user(Role.PRACTITIONER, name="Pat Practitioner")
    agency = make_agency(AgencyKind.PROBATION, name="City Probation")
    key = make_contact(agency, name="Kim Key")
    agency.key_contact_id = key.id
    person = consent.create_service_user(
        practitioner, {"given_name": "Ann", "family_name": "Example", "date_of_birth": dt.date(1990, 3, 27)}
    )
    return practitioner, agency, person


def _consent_form(agency_id: int, **overrides):
    data = {
        "agency_id": str(agency_id),
        "purposes": ["referral"],
        "data_categories": ["identity", "criminal_justice"],
        "method": "verbal",
        "given_on": _d(TODAY),
        "evidence_note": "Read to her at the drop-in.",
    }
    data.update(overrides)
    return data


# Service users ------------------------------------------------------------------------


def test_staff_add_a_service_user_and_find_her(client, world):
    practitioner, _agency, _person = world
    sign_in(client, practitioner)
    response = post_form(
        client,
        "/service-users/new",
        {"given_name": "Beth", "family_name": "Newcomer", "date_of_birth": "1/2/1985", "key_worker_id": ""},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    person = db.session.scalar(sa.select(ServiceUser).where(ServiceUser.family_name == "Newcomer"))
    assert person is not None and person.key_worker_id == practitioner.id
    assert "Beth Newcomer" in text_of(page) and person.reference in text_of(page)
    assert "1 February 1985" in text_of(page)

    found = text_of(post_form(client, "/service-users", {"q": "newcom"}))
    assert "Beth Newcomer" in found and "Ann Example" not in found
    assert "1 woman found" in found


def test_searching_for_a_woman_never_puts_her_name_in_a_url(client, world, caplog):
    """M6: the search is posted, so a name typed into it reaches no URL, history, redirect or access log."""
    practitioner, _agency, _person = world
    sign_in(client, practitioner)
    page = client.get("/service-users").get_data(as_text=True)
    form = re.search(r'<form method="(\w+)" action="/service-users" role="search"', page)
    assert form and form.group(1) == "post"
    found = post_form(client, "/service-users", {"q": "Example"})
    assert found.status_code == 200 and "Ann Example" in text_of(found)
    # A name in the query string is not a search: it is ignored, never echoed.
    ignored = client.get("/service-users?q=Zebedee")
    assert "Zebedee" not in ignored.get_data(as_text=True)
    # Signed out, the search is refused before anything is read, and the sign-in link carries no name.
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/service-users")})
    bounced = client.get("/service-users")
    assert bounced.status_code == 302 and "Example" not in bounced.headers["Location"]


def test_adding_a_service_user_without_names_shows_the_errors_and_adds_nobody(client, world):
    practitioner, _agency, _person = world
    sign_in(client, practitioner)
    before = db.session.scalar(sa.select(sa.func.count(ServiceUser.id)))
    response = post_form(
        client, "/service-users/new", {"given_name": "", "family_name": "", "date_of_birth": "31/2/1990"}
    )
    assert response.status_code == 422
    summary = error_summary(response)
    assert "There is a problem" in summary
    assert "Enter her first name" in summary and "Enter her last name" in summary and "Enter a real date" in summary
    assert db.session.scalar(sa.select(sa.func.count(ServiceUser.id))) == before


# Consent ------------------------------------------------------------------------------


def test_recording_consent_reads_her_the_information_then_records_it(client, world, settings):
    practitioner, agency, person = world
    sign_in(client, practitioner)
    step1 = client.get(f"/service-users/{person.id}/consents/new")
    assert step1.status_code == 200 and "Which agency does she agree we can share with?" in text_of(step1)

    step2 = client.get(f"/service-users/{person.id}/consents/new?agency_id={agency.id}")
    page = text_of(step2)
    assert "Read this to her" in page
    assert "We would like to share some information about you with City Probation" in page
    from dateutil.relativedelta import relativedelta

    expiry = TODAY + relativedelta(months=settings.consent_default_months)
    assert f"Your consent lasts until {expiry:%-d %B %Y}" in page

    response = post_form(
        client, f"/service-users/{person.id}/consents/new?agency_id={agency.id}", _consent_form(agency.id)
    )
    assert response.status_code == 302
    record = db.session.scalar(sa.select(ConsentRecord).where(ConsentRecord.service_user_id == person.id))
    assert record.status is ConsentStatus.ACTIVE and record.expires_on == expiry
    assert record.data_categories == ["criminal_justice", "identity"] and record.recorded_by_id == practitioner.id
    her_page = text_of(client.get(f"/service-users/{person.id}"))
    assert "City Probation" in her_page and "Active" in her_page
    assert "Offending, sentence, licence and probation" in her_page


def test_consent_with_nothing_ticked_shows_the_errors_and_records_nothing(client, world):
    practitioner, agency, person = world
    sign_in(client, practitioner)
    path = f"/service-users/{person.id}/consents/new?agency_id={agency.id}"
    response = post_form(
        client, path, _consent_form(agency.id, purposes=[], data_categories=["nonsense"], method="", given_on="")
    )
    assert response.status_code == 422
    summary = error_summary(response)
    assert "Choose at least one purpose" in summary
    assert "Say how she gave consent" in summary
    assert "Enter the date she gave consent" in summary
    assert "Must be one of" in summary  # a tampered category, said once, not as a nested dict
    assert "{" not in summary
    assert db.session.scalar(sa.select(sa.func.count(ConsentRecord.id))) == 0


def test_consent_to_the_host_or_an_unknown_agency_goes_back_to_choosing(client, world, host):
    practitioner, _agency, person = world
    sign_in(client, practitioner)
    response = client.get(f"/service-users/{person.id}/consents/new?agency_id={host.id}")
    assert response.status_code == 422
    assert "Choose the agency she agrees we can share with" in error_summary(response)


def test_withdrawing_needs_a_reason_then_stops_sharing_at_once(client, world):
    practitioner, agency, person = world
    record = consent.record_consent(
        practitioner,
        person,
        {
            "agency_id": agency.id,
            "purposes": ["referral"],
            "data_categories": ["identity"],
            "method": ConsentMethod.WRITTEN,
            "given_on": TODAY,
        },
    )
    sign_in(client, practitioner)
    page = text_of(client.get(f"/service-users/{person.id}"))
    assert "Withdraw consent to share with City Probation" in page

    blank = post_form(client, f"/consents/{record.id}/withdraw", {"reason": "  "})
    assert blank.status_code == 422
    assert "Say why, or what she said" in error_summary(blank)
    record = fresh(record)
    assert record.status is ConsentStatus.ACTIVE

    done = post_form(client, f"/consents/{record.id}/withdraw", {"reason": "She asked us to stop."})
    assert done.status_code == 302
    record = fresh(record)
    assert record.status is ConsentStatus.WITHDRAWN and record.withdrawal_reason == "She asked us to stop."
    her_page = text_of(client.get(f"/service-users/{person.id}"))
    assert "Withdrawn" in her_page and "She asked us to stop." in her_page
    # Withdrawing again just says so.
    again = client.get(f"/consents/{record.id}/withdraw")
    assert again.status_code == 302


# Who may see these pages ---------------------------------------------------------------


def test_partners_get_404_on_every_service_user_page(client, world):
    practitioner, agency, person = world
    manager = make_user(Role.MANAGER)
    record = consent.record_consent(
        practitioner,
        person,
        {
            "agency_id": agency.id,
            "purposes": ["referral"],
            "data_categories": ["identity"],
            "method": ConsentMethod.VERBAL,
            "given_on": TODAY,
        },
    )
    decision = consent.decide_safeguarding(manager, person, _safeguarding_data(agency.id))
    for role in (Role.PARTNER, Role.PARTNER_LEAD):
        partner = make_user(role, agency=agency)
        sign_in(client, partner)
        pages = [
            "/service-users",
            "/service-users/new",
            f"/service-users/{person.id}",
            f"/service-users/{person.id}/consents/new",
            f"/service-users/{person.id}/consents/new?agency_id={agency.id}",
            f"/service-users/{person.id}/safeguarding/new",
            f"/service-users/{person.id}/referrals/new",
            f"/service-users/{person.id}/referrals/new?agency_id={agency.id}",
            f"/consents/{record.id}/withdraw",
            "/safeguarding",
            f"/safeguarding/{decision.id}",
        ]
        for path in pages:
            assert client.get(path).status_code == 404, (role, path)
        posts = [
            "/service-users/new",
            f"/service-users/{person.id}/consents/new?agency_id={agency.id}",
            f"/service-users/{person.id}/safeguarding/new",
            f"/service-users/{person.id}/referrals/new?agency_id={agency.id}",
            f"/consents/{record.id}/withdraw",
            f"/safeguarding/{decision.id}/approve",
            f"/safeguarding/{decision.id}/reject",
            f"/safeguarding/{decision.id}/end",
        ]
        for path in posts:
            response = post_form(client, path, {"reason": "x", "given_name": "X", "family_name": "Y"}, token_from="/")
            assert response.status_code == 404, (role, path)
    record = fresh(record)
    decision = fresh(decision)
    assert record.status is ConsentStatus.ACTIVE and decision.status is SafeguardingStatus.PENDING
    assert db.session.scalar(sa.select(sa.func.count(ServiceUser.id))) == 1


def test_unknown_and_malformed_ids_are_404(client, world):
    practitioner, _agency, _person = world
    sign_in(client, practitioner)
    for path in ("/service-users/999999", "/service-users/²", "/service-users/99999999999", "/safeguarding/0"):
        assert client.get(path).status_code == 404, path


# Safeguarding ---------------------------------------------------------------------------


def _safeguarding_data(agency_id: int, **overrides):
    data = {
        "agency_id": agency_id,
        "purposes": ["referral"],
        "data_categories": ["identity", "domestic_abuse"],
        "art6_basis": "6(1)(d)",
        "art9_condition": "9(2)(g)+sch1-18",
        "para18_reason": "would_prejudice",
        "justification": "Her ex-partner has threatened to kill her; police need to know now.",
        "she_was_told": False,
        "not_told_reason": "Telling her would alert him.",
        "review_on": TODAY + dt.timedelta(days=30),
        "emergency": False,
    }
    data.update(overrides)
    return data


def _safeguarding_form(agency_id: int, **overrides):
    data = _safeguarding_data(agency_id)
    data.update(
        agency_id=str(agency_id),
        she_was_told="no",
        emergency="no",
        review_on=_d(data["review_on"]),
    )
    data.update(overrides)
    return data


def test_practitioners_cannot_decide_to_share_without_consent(client, world):
    practitioner, agency, person = world
    sign_in(client, practitioner)
    assert "Decide to share without consent" not in text_of(client.get(f"/service-users/{person.id}"))
    assert client.get(f"/service-users/{person.id}/safeguarding/new").status_code == 403
    response = post_form(
        client, f"/service-users/{person.id}/safeguarding/new", _safeguarding_form(agency.id), token_from="/"
    )
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(SafeguardingDecision.id))) == 0


def test_a_decision_shares_nothing_until_a_second_manager_approves_it(client, world):
    _practitioner, agency, person = world
    first = make_user(Role.MANAGER, name="Mo First")
    second = make_user(Role.MANAGER, name="Sue Second")
    sign_in(client, first)
    assert "Decide to share without consent" in text_of(client.get(f"/service-users/{person.id}"))
    response = post_form(client, f"/service-users/{person.id}/safeguarding/new", _safeguarding_form(agency.id))
    assert response.status_code == 302
    decision = db.session.scalar(sa.select(SafeguardingDecision))
    assert decision.status is SafeguardingStatus.PENDING and decision.decided_by_id == first.id
    own = text_of(client.get(response.headers["Location"]))
    assert "You made this decision: a second manager must approve it." in own
    assert "Approve sharing" not in own
    # The decider cannot approve it, even by posting the form.
    refused = post_form(client, f"/safeguarding/{decision.id}/approve", {}, token_from=f"/safeguarding/{decision.id}")
    assert refused.status_code == 403
    decision = fresh(decision)
    assert decision.status is SafeguardingStatus.PENDING
    assert isinstance(sharing.find_basis(person.id, agency.id, "referral", {"identity"}), sharing.Missing)

    sign_in(client, second)
    listed = text_of(client.get("/safeguarding"))
    assert f"Decision {decision.id}" in listed and "Awaiting approval" in listed and "Ann Example" in listed
    page = client.get(f"/safeguarding/{decision.id}")
    assert "Approve sharing" in text_of(page)
    approved = post_form(client, f"/safeguarding/{decision.id}/approve", {})
    assert approved.status_code == 302
    decision = fresh(decision)
    assert decision.status is SafeguardingStatus.APPROVED and decision.approved_by_id == second.id
    assert "Approved" in text_of(client.get(f"/safeguarding/{decision.id}"))
    basis = sharing.find_basis(person.id, agency.id, "referral", {"identity"})
    assert isinstance(basis, sharing.Basis)
    assert basis.ref == sharing.BasisRef(sharing.BasisKind.SAFEGUARDING, decision.id)


def test_a_safeguarding_form_with_gaps_shows_the_errors_and_records_nothing(client, world):
    _practitioner, agency, person = world
    sign_in(client, make_user(Role.MANAGER))
    response = post_form(
        client,
        f"/service-users/{person.id}/safeguarding/new",
        _safeguarding_form(agency.id, justification="Too short", art6_basis="", she_was_told="", review_on=""),
    )
    assert response.status_code == 422
    summary = error_summary(response)
    assert "Choose the UK GDPR Article 6 basis" in summary
    assert "Say whether she was told" in summary
    assert "Enter a review date" in summary
    assert "Shorter than minimum length 20" in summary or "20" in summary
    # A rule the service enforces comes back the same way.
    response = post_form(
        client, f"/service-users/{person.id}/safeguarding/new", _safeguarding_form(agency.id, not_told_reason="")
    )
    assert response.status_code == 422
    assert "Say why she was not told" in error_summary(response)
    assert db.session.scalar(sa.select(sa.func.count(SafeguardingDecision.id))) == 0


def test_rejecting_needs_a_reason_and_an_overdue_emergency_is_flagged(client, world):
    _practitioner, agency, person = world
    first = make_user(Role.MANAGER)
    second = make_user(Role.MANAGER)
    decision = consent.decide_safeguarding(first, person, _safeguarding_data(agency.id, emergency=True))
    assert decision.status is SafeguardingStatus.EMERGENCY
    decision.approval_due_on = TODAY - dt.timedelta(days=1)
    sign_in(client, second)
    listed = text_of(client.get("/safeguarding"))
    assert "Emergency: shared, awaiting approval" in listed and "Not approved in time: stopped sharing" in listed
    assert "Not approved in time: stopped sharing" in text_of(client.get(f"/service-users/{person.id}"))
    # It can no longer be approved, and the page does not offer it (the policy and the page agree).
    page = text_of(client.get(f"/safeguarding/{decision.id}"))
    assert "Approve sharing" not in page and "can no longer be approved" in page
    late = post_form(client, f"/safeguarding/{decision.id}/approve", {}, token_from=f"/safeguarding/{decision.id}")
    assert late.status_code == 409

    blank = post_form(
        client, f"/safeguarding/{decision.id}/reject", {"reject_reason": ""}, token_from=f"/safeguarding/{decision.id}"
    )
    assert blank.status_code == 422
    assert "Say why the decision is rejected" in error_summary(blank)
    decision = fresh(decision)
    assert decision.status is SafeguardingStatus.EMERGENCY

    done = post_form(
        client,
        f"/safeguarding/{decision.id}/reject",
        {"reject_reason": "The risk was overstated."},
        token_from=f"/safeguarding/{decision.id}",
    )
    assert done.status_code == 302
    decision = fresh(decision)
    assert decision.status is SafeguardingStatus.REJECTED
    page = text_of(client.get(f"/safeguarding/{decision.id}"))
    assert "Rejected" in page and "The risk was overstated." in page
    assert "Approve sharing" not in page
    # Reviewing it again is refused with a clear message, and changes nothing.
    again = post_form(client, f"/safeguarding/{decision.id}/approve", {}, token_from=f"/safeguarding/{decision.id}")
    assert again.status_code == 409
    assert "This decision is rejected" in error_summary(again)
    assert "No decisions are waiting." in text_of(client.get("/safeguarding"))


def test_a_manager_can_end_an_approved_decision(client, world):
    _practitioner, agency, person = world
    first, second = make_user(Role.MANAGER), make_user(Role.MANAGER)
    decision = consent.decide_safeguarding(first, person, _safeguarding_data(agency.id))
    consent.approve_safeguarding(second, decision)
    sign_in(client, first)
    blank = post_form(
        client, f"/safeguarding/{decision.id}/end", {"end_reason": ""}, token_from=f"/safeguarding/{decision.id}"
    )
    assert blank.status_code == 422 and "Say why sharing should stop" in error_summary(blank)
    done = post_form(
        client,
        f"/safeguarding/{decision.id}/end",
        {"end_reason": "She is safe now."},
        token_from=f"/safeguarding/{decision.id}",
    )
    assert done.status_code == 302
    decision = fresh(decision)
    assert decision.status is SafeguardingStatus.ENDED
