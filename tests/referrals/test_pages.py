"""The referral pages as people use them: sending, the inbox, a referral's page,
its actions and messages, and the overdue dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from agencies.models import AgencyKind
from consent import services as consent
from consent.models import ConsentMethod, Disclosure, DisclosureKind
from hub.db import db
from hub.permissions import Role
from referrals import services
from referrals.models import Referral, ReferralMessage
from referrals.states import Status
from tests.consent.test_pages import _d, error_summary, fresh, text_of
from tests.helpers import make_agency, make_contact, make_user, post_form, sign_in

TODAY = dt.date.today()


@pytest.fixture
def world():
    return build_world()


def build_world():
    """A practitioner, City Probation with its officer as key contact, and a woman (Ann Example)."""
    practitioner = make_user(Role.PRACTITIONER, name="Pat Practitioner")
    agency = make_agency(AgencyKind.PROBATION, name="City Probation")
    officer = make_user(Role.PARTNER, agency=agency, linked=False, name="Olu Officer")
    key = make_contact(agency, name="Olu Officer", user_id=officer.id)
    agency.key_contact_id = key.id
    person = consent.create_service_user(
        practitioner, {"given_name": "Ann", "family_name": "Example", "date_of_birth": dt.date(1990, 3, 27)}
    )
    return practitioner, agency, officer, person


def _consent(staff, person, agency, categories=("identity", "criminal_justice")):
    return consent.record_consent(
        staff,
        person,
        {
            "agency_id": agency.id,
            "purposes": ["referral"],
            "data_categories": list(categories),
            "method": ConsentMethod.VERBAL,
            "given_on": TODAY,
        },
    )


def _sent(staff, person, agency, categories=("identity", "criminal_justice")):
    referral = services.create_referral(
        staff,
        {
            "service_user_id": person.id,
            "agency_id": agency.id,
            "data_categories": list(categories),
            "reason": "Induction appointment after release",
        },
    )
    return services.send_referral(staff, referral)


def _referral_form(agency_id: int, **overrides):
    data = {
        "agency_id": str(agency_id),
        "contact_id": "",
        "data_categories": ["identity", "criminal_justice"],
        "reason": "Please book her induction appointment.",
        "urgency": "routine",
        "action": "send",
    }
    data.update(overrides)
    return data


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id))) or 0


# Sending -----------------------------------------------------------------------------------


def test_record_consent_then_send_a_referral_through_the_pages(client, world):
    practitioner, agency, _officer, person = world
    sign_in(client, practitioner)
    recorded = post_form(
        client,
        f"/service-users/{person.id}/consents/new?agency_id={agency.id}",
        {
            "agency_id": str(agency.id),
            "purposes": ["referral"],
            "data_categories": ["identity", "criminal_justice"],
            "method": "written",
            "given_on": _d(TODAY),
        },
    )
    assert recorded.status_code == 302

    her_page = text_of(client.get(f"/service-users/{person.id}"))
    assert "Send a referral" in her_page and "No referrals yet." in her_page
    choose = client.get(f"/service-users/{person.id}/referrals/new")
    assert "Which agency are you referring her to?" in text_of(choose)
    page = client.get(f"/service-users/{person.id}/referrals/new?agency_id={agency.id}")
    shown = text_of(page)
    assert "What we may share with City Probation" in shown
    assert "Offending, sentence, licence and probation Yes Her consent, until" in shown
    assert "Housing No Not covered" in shown

    sent = post_form(
        client, f"/service-users/{person.id}/referrals/new?agency_id={agency.id}", _referral_form(agency.id)
    )
    assert sent.status_code == 302
    referral = db.session.scalar(sa.select(Referral))
    assert referral.status is Status.SENT and referral.data_categories == ["criminal_justice", "identity"]
    assert sent.headers["Location"].endswith(f"/referrals/{referral.id}")
    page = text_of(client.get(f"/referrals/{referral.id}"))
    assert f"Referral {referral.reference}" in page and "Sent" in page
    assert f"Acknowledge by {referral.acknowledge_by:%-d %B %Y}" in page
    assert "Addressed to Olu Officer" in page and "Ann Example" in page
    assert "Please book her induction appointment." in page
    assert referral.reference in text_of(client.get(f"/service-users/{person.id}"))
    listed = text_of(client.get("/referrals"))
    assert referral.reference in listed and "Ann Example" in listed


def test_sending_without_consent_shows_what_is_missing_and_sends_nothing(client, world):
    practitioner, agency, _officer, person = world
    sign_in(client, practitioner)
    path = f"/service-users/{person.id}/referrals/new?agency_id={agency.id}"
    page = text_of(client.get(path))
    assert "Nothing she has agreed to lets us send City Probation a referral about her" in page

    response = post_form(client, path, _referral_form(agency.id))
    assert response.status_code == 422
    assert "She has not consented to share anything with City Probation" in error_summary(response)
    assert _count(Referral) == 0

    _consent(practitioner, person, agency, categories=("identity",))
    response = post_form(
        client, path, _referral_form(agency.id, data_categories=["identity", "housing", "mental_health"])
    )
    assert response.status_code == 422
    summary = error_summary(response)
    assert "Her consent does not cover: Housing, Mental health" in summary
    assert 'href="#data_categories"' in response.get_data(as_text=True)
    assert _count(Referral) == 0
    # What was typed is kept.
    assert "Please book her induction appointment." in response.get_data(as_text=True)


def test_a_draft_can_be_saved_without_consent_and_sent_once_it_is_recorded(client, world):
    practitioner, agency, _officer, person = world
    sign_in(client, practitioner)
    saved = post_form(
        client,
        f"/service-users/{person.id}/referrals/new?agency_id={agency.id}",
        _referral_form(agency.id, action="draft"),
    )
    assert saved.status_code == 302
    referral = db.session.scalar(sa.select(Referral))
    assert referral.status is Status.DRAFT
    page = text_of(client.get(f"/referrals/{referral.id}"))
    assert "Draft" in page and "Send" in page

    refused = post_form(client, f"/referrals/{referral.id}/actions/send", {}, token_from=f"/referrals/{referral.id}")
    assert refused.status_code == 422
    assert "She has not consented to share anything with City Probation" in error_summary(refused)
    assert fresh(referral).status is Status.DRAFT

    _consent(practitioner, person, agency)
    done = post_form(client, f"/referrals/{referral.id}/actions/send", {}, token_from=f"/referrals/{referral.id}")
    assert done.status_code == 302
    assert fresh(referral).status is Status.SENT


def test_the_referral_form_with_gaps_shows_the_errors(client, world):
    practitioner, agency, _officer, person = world
    _consent(practitioner, person, agency)
    sign_in(client, practitioner)
    response = post_form(
        client,
        f"/service-users/{person.id}/referrals/new?agency_id={agency.id}",
        _referral_form(agency.id, data_categories=[], reason="", urgency="whenever"),
    )
    assert response.status_code == 422
    summary = error_summary(response)
    assert "Choose what to share" in summary and "Say what you are asking for" in summary
    assert _count(Referral) == 0


# What partners see ---------------------------------------------------------------------------


def test_the_inbox_lists_only_referrals_sent_to_the_partners_own_agency(client, world):
    practitioner, agency, officer, person = world
    other = make_agency(AgencyKind.HOUSING, name="Town Housing")
    _consent(practitioner, person, agency)
    _consent(practitioner, person, other)
    mine = _sent(practitioner, person, agency)
    theirs = _sent(practitioner, person, other)
    draft = services.create_referral(
        practitioner,
        {
            "service_user_id": person.id,
            "agency_id": agency.id,
            "data_categories": ["identity"],
            "reason": "Not yet sent",
        },
    )
    sign_in(client, officer)
    response = client.get("/inbox")
    inbox = text_of(response)
    assert mine.reference in inbox and "Addressed to you" in inbox
    assert theirs.reference not in inbox and draft.reference not in inbox
    assert "1 referral" in inbox
    # Her name shows beside a referral that shares identity, while her consent covers it (logged).
    assert "Ann Example" in inbox
    # Partners are sent to their inbox; staff to the list.
    assert client.get("/referrals").headers["Location"].endswith("/inbox")
    nav = response.get_data(as_text=True)
    assert ">Inbox<" in nav and "Service users" not in nav


def test_a_partner_gets_404_for_another_agencys_referral_and_for_a_draft(client, world):
    practitioner, agency, officer, person = world
    other = make_agency(AgencyKind.HOUSING)
    _consent(practitioner, person, other)
    theirs = _sent(practitioner, person, other)
    draft = services.create_referral(
        practitioner,
        {
            "service_user_id": person.id,
            "agency_id": agency.id,
            "data_categories": ["identity"],
            "reason": "Not yet sent",
        },
    )
    sign_in(client, officer)
    for referral in (theirs, draft):
        assert client.get(f"/referrals/{referral.id}").status_code == 404
        assert client.get(f"/referrals/{referral.id}/actions/acknowledge").status_code == 404
        acted = post_form(client, f"/referrals/{referral.id}/actions/acknowledge", {}, token_from="/inbox")
        assert acted.status_code == 404
        posted = post_form(client, f"/referrals/{referral.id}/messages", {"body": "Hello"}, token_from="/inbox")
        assert posted.status_code == 404
    assert fresh(theirs).status is Status.SENT
    assert _count(ReferralMessage) == 0


def test_a_partner_sees_her_details_until_consent_is_withdrawn(client, world):
    practitioner, agency, officer, person = world
    record = _consent(practitioner, person, agency)
    referral = _sent(practitioner, person, agency)
    sign_in(client, officer)
    page = text_of(client.get(f"/referrals/{referral.id}"))
    assert "Ann Example" in page and "27 March 1990" in page and "Induction appointment after release" in page
    assert "Her details are not available" not in page
    views = db.session.scalars(sa.select(Disclosure).where(Disclosure.kind == DisclosureKind.VIEWED)).all()
    assert [(d.agency_id, d.actor_id) for d in views] == [(agency.id, officer.id)]

    consent.withdraw_consent(practitioner, fresh(record), "She changed her mind")
    page = text_of(client.get(f"/referrals/{referral.id}"))
    assert "Her details are not available to you." in page
    assert "Ann Example" not in page and "Example" not in page and "1990" not in page
    assert "Induction appointment after release" not in page
    assert "On hold" in page and "Resume" not in page
    assert _count(Disclosure) == 2  # sent once, viewed once: the refused view is not a disclosure

    # Her page lists the disclosures, for a subject-access request.
    sign_in(client, practitioner)
    history = text_of(client.get(f"/service-users/{person.id}"))
    assert "Sent to City Probation by Pat Practitioner" in history
    assert "Seen at City Probation by Olu Officer" in history


# Acting on a referral -----------------------------------------------------------------------------


def test_partner_acknowledges_accepts_starts_and_completes_and_the_sender_sees_it(client, world):
    practitioner, agency, officer, person = world
    _consent(practitioner, person, agency)
    referral = _sent(practitioner, person, agency)
    path = f"/referrals/{referral.id}"
    sign_in(client, officer)
    page = text_of(client.get(path))
    for label in ("Acknowledge", "Accept", "Decline"):
        assert label in page
    assert "Cancel referral" not in page

    for action in ("acknowledge", "accept", "start"):
        response = post_form(client, f"{path}/actions/{action}", {}, token_from=path)
        assert response.status_code == 302, action
    assert fresh(referral).status is Status.IN_PROGRESS
    form = client.get(f"{path}/actions/complete")
    assert "Outcome (optional)" in text_of(form)
    done = post_form(client, f"{path}/actions/complete", {"outcome": "Induction held; supervision arranged."})
    assert done.status_code == 302
    referral = fresh(referral)
    assert referral.status is Status.COMPLETED and referral.outcome == "Induction held; supervision arranged."

    sign_in(client, practitioner)
    page = text_of(client.get(path))
    assert "Completed" in page and "Induction held; supervision arranged." in page
    for label in ("Acknowledged", "Accepted", "Work started"):
        assert label in page
    assert "Olu Officer" in page


def test_decline_needs_a_reason_and_bad_input_changes_nothing(client, world):
    practitioner, agency, officer, person = world
    _consent(practitioner, person, agency)
    referral = _sent(practitioner, person, agency)
    path = f"/referrals/{referral.id}"
    sign_in(client, officer)
    blank = post_form(client, f"{path}/actions/decline", {"reason": "   "})
    assert blank.status_code == 422
    assert "Give a reason" in error_summary(blank)
    assert fresh(referral).status is Status.SENT

    unknown = post_form(client, f"{path}/actions/explode", {}, token_from=path)
    assert unknown.status_code == 404
    not_theirs = post_form(client, f"{path}/actions/cancel", {"reason": "No"}, token_from=path)
    assert not_theirs.status_code == 403
    assert fresh(referral).status is Status.SENT

    declined = post_form(client, f"{path}/actions/decline", {"reason": "She lives outside our area."})
    assert declined.status_code == 302
    assert fresh(referral).status is Status.DECLINED
    # Acting again from a stale page is refused with a clear message.
    again = post_form(client, f"{path}/actions/acknowledge", {}, token_from=path)
    assert again.status_code == 409
    assert "There is a problem" in error_summary(again)
    assert fresh(referral).status is Status.DECLINED
    assert "She lives outside our area." in text_of(client.get(path))


def test_staff_cancel_with_a_reason(client, world):
    practitioner, agency, _officer, person = world
    _consent(practitioner, person, agency)
    referral = _sent(practitioner, person, agency)
    path = f"/referrals/{referral.id}"
    sign_in(client, practitioner)
    assert "Acknowledge" not in text_of(client.get(path)).replace("Acknowledge by", "")
    blank = post_form(client, f"{path}/actions/cancel", {"reason": ""})
    assert blank.status_code == 422 and "Give a reason" in error_summary(blank)
    done = post_form(client, f"{path}/actions/cancel", {"reason": "She has moved away."})
    assert done.status_code == 302
    assert fresh(referral).status is Status.CANCELLED


def test_messages_between_sender_and_recipient(client, world):
    practitioner, agency, officer, person = world
    _consent(practitioner, person, agency)
    referral = _sent(practitioner, person, agency)
    path = f"/referrals/{referral.id}"
    sign_in(client, practitioner)
    posted = post_form(client, f"{path}/messages", {"body": "She prefers morning appointments."}, token_from=path)
    assert posted.status_code == 302

    sign_in(client, officer)
    page = text_of(client.get(path))
    assert "She prefers morning appointments." in page and "Pat Practitioner" in page
    blank = post_form(client, f"{path}/messages", {"body": ""}, token_from=path)
    assert blank.status_code == 422
    assert "Write a message" in error_summary(blank)
    assert _count(ReferralMessage) == 1
    reply = post_form(client, f"{path}/messages", {"body": "Booked for Tuesday 10am."}, token_from=path)
    assert reply.status_code == 302
    assert [m.body for m in db.session.scalars(sa.select(ReferralMessage).order_by(ReferralMessage.id))] == [
        "She prefers morning appointments.",
        "Booked for Tuesday 10am.",
    ]


def test_staff_resume_a_hold_after_consent_is_recorded_again(client, world):
    practitioner, agency, _officer, person = world
    record = _consent(practitioner, person, agency)
    referral = _sent(practitioner, person, agency)
    consent.withdraw_consent(practitioner, record, "Changed her mind")
    path = f"/referrals/{referral.id}"
    sign_in(client, practitioner)
    assert "Record her consent again before resuming it." in text_of(client.get(path))
    refused = post_form(client, f"{path}/actions/resume", {}, token_from=path)
    assert refused.status_code == 422
    assert "no longer a valid basis" in error_summary(refused)
    assert fresh(referral).status is Status.ON_HOLD
    _consent(practitioner, person, agency)
    resumed = post_form(client, f"{path}/actions/resume", {}, token_from=path)
    assert resumed.status_code == 302
    assert fresh(referral).status is Status.SENT


# The overdue dashboard -----------------------------------------------------------------------------


def test_overdue_referrals_are_shown_to_staff_and_to_their_agency_only(client, world):
    practitioner, agency, officer, person = world
    other = make_agency(AgencyKind.HOUSING)
    other_partner = make_user(Role.PARTNER, agency=other)
    _consent(practitioner, person, agency)
    late = _sent(practitioner, person, agency)
    on_time = _sent(practitioner, person, agency)
    late.acknowledge_by = late.due_on = TODAY - dt.timedelta(days=3)
    sign_in(client, practitioner)
    page = text_of(client.get("/overdue"))
    assert late.reference in page and on_time.reference not in page
    # Three calendar days: counted in working days, like the deadline (tests/referrals/test_overdue_days.py).
    assert ("working day" in page or "Late since" in page) and "3 days late" not in page and "Ann Example" in page
    assert "Overdue" in text_of(client.get(f"/referrals/{late.id}"))

    sign_in(client, officer)
    page = text_of(client.get("/overdue"))
    assert late.reference in page and "Ann Example" not in page
    sign_in(client, other_partner)
    assert "Nothing is overdue." in text_of(client.get("/overdue"))


def test_her_name_is_shown_to_a_partner_only_when_the_referral_shares_who_she_is(client, world):
    practitioner, agency, officer, person = world
    _consent(practitioner, person, agency)
    referral = _sent(practitioner, person, agency, categories=("criminal_justice",))
    sign_in(client, officer)
    page = text_of(client.get(f"/referrals/{referral.id}"))
    assert "Induction appointment after release" in page and "Not shared with your agency" in page
    # Not even her hub reference: it is the same on every referral, and would link this one to the others.
    assert person.reference not in page
    assert "Ann" not in page and "Example" not in page and "1990" not in page
