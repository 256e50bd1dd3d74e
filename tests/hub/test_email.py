"""Email delivery against a real SMTP server (aiosmtpd) started by the test.

Notifications are queued by real flows (sending a referral, messages about
it, escalation, a consent expiry reminder, a withdrawal), then delivered by
``deliver_pending``. Every message must arrive once, carry the referral's
reference, the agency, the deadline and a link, and never the woman's name,
date of birth or the reason for the referral: in its plain-text part or in its
HTML part, both rendered from one template. Every message has ``Date`` and
``Message-ID`` headers. What could not be sent is tried again later, a bounded
number of times; what was held without a mail server goes once there is one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import email.utils
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from aiosmtpd.controller import Controller
from flask import Flask

from agencies.models import AgencyKind
from consent import services as consent
from consent.models import ConsentMethod
from hub.db import db
from hub.notifications.models import EmailStatus, Notification
from hub.notifications.services import MAX_ATTEMPTS, RETRY_AFTER, deliver_pending, notify, unread_count
from hub.permissions import SYSTEM, Role
from referrals import services
from referrals.escalation import chase_overdue_referrals
from tests.helpers import make_agency, make_contact, make_user

LONDON = ZoneInfo("Europe/London")
GIVEN, FAMILY, BORN = "Marigold", "Quennell", dt.date(1990, 3, 4)
REASON = "Leaving prison on licence with nowhere to live"
REFUSED = "refused@probation.example"


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=LONDON).astimezone(dt.UTC)


# The server ---------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """The plain-text part."""
        return self.message.get_body(("plain",)).get_content().replace("\r\n", "\n")

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content().replace("\r\n", "\n")


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every message, and refuses one address."""

    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Collector]]:
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, collector
    finally:
        controller.stop()


@contextlib.contextmanager
def mail_server_at(app: Flask, host: str, port: int) -> Iterator[None]:
    """Point the app's (frozen) settings at a mail server for a while, then restore them."""
    original = app.extensions["hub_settings"]
    app.extensions["hub_settings"] = original.with_(smtp_host=host, smtp_port=port)
    try:
        yield
    finally:
        app.extensions["hub_settings"] = original


@pytest.fixture
def collector(app: Flask, smtp_server) -> Iterator[Collector]:
    controller, collector = smtp_server
    with mail_server_at(app, controller.hostname, controller.port):
        yield collector


@pytest.fixture
def nothing_listening(app: Flask) -> Iterator[None]:
    with mail_server_at(app, "127.0.0.1", free_port()):
        yield


# The flow -------------------------------------------------------------------------


@dataclass
class Flow:
    agency_name: str
    references: dict[int, str]  # referral id -> reference
    officer_email: str


def run_flow() -> Flow:
    """Queue the messages a referral over Christmas produces, with frozen time."""
    with time_machine.travel(at(dt.date(2026, 12, 24), 10), tick=False) as clock:
        staff = make_user(Role.PRACTITIONER, email="sender@charity.example")
        for i in (1, 2):
            make_user(Role.MANAGER, email=f"manager{i}@charity.example")
        agency = make_agency(AgencyKind.HOUSING, name="Riverside Housing Trust")
        key = make_contact(agency, name="Kim Key", email="key@housing.example")
        deputy = make_contact(agency, name="Dee Deputy", email="deputy@housing.example")
        officer = make_user(Role.PARTNER, agency=agency, linked=False, email="officer@housing.example")
        named = make_contact(agency, name="Ola Officer", email=officer.email, user_id=officer.id)
        agency.key_contact_id, agency.deputy_contact_id = key.id, deputy.id
        person = consent.create_service_user(staff, {"given_name": GIVEN, "family_name": FAMILY, "date_of_birth": BORN})
        record = consent.record_consent(
            staff,
            person,
            {
                "agency_id": agency.id,
                "purposes": ["referral"],
                "data_categories": ["identity", "housing", "criminal_justice"],
                "method": ConsentMethod.WRITTEN,
                "given_on": dt.date(2026, 12, 24),
                "expires_on": dt.date(2027, 1, 6),  # soon: the key worker is reminded
            },
        )
        draft = services.create_referral(staff, {**draft_data(person, agency), "contact_id": named.id})
        referral = services.send_referral(staff, draft)
        second = services.send_referral(staff, services.create_referral(staff, {**draft_data(person, agency)}))
        services.acknowledge_referral(officer, second)  # decide by 5 Jan 2027: not chased by then
        services.post_message(officer, referral, f"Can {GIVEN} {FAMILY} (born {BORN:%d/%m/%Y}) come on Tuesday?")
        services.post_message(staff, referral, f"Yes, {GIVEN} can come; she is {REASON.lower()}.")
        consent.remind_expiring_consents(SYSTEM)
        day = dt.date(2026, 12, 25)
        while day <= dt.date(2027, 1, 5):  # stage 1 on 31 Dec, 2 on 4 Jan, 3 on 5 Jan
            clock.move_to(at(day, 8))
            chase_overdue_referrals()
            day += dt.timedelta(days=1)
        consent.withdraw_consent(staff, record, "She asked us to stop")
        db.session.flush()
        return Flow(
            agency.name,
            {referral.id: referral.reference, second.id: second.reference},
            officer.email,
        )


def draft_data(person, agency) -> dict:
    return {
        "service_user_id": person.id,
        "agency_id": agency.id,
        "data_categories": ["identity", "housing", "criminal_justice"],
        "reason": REASON,
    }


def html_text(html: str) -> str:
    """What a reader of the HTML part sees: the text of its body, on one line."""
    body = html.split("<body", 1)[1].split(">", 1)[1]
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def forbidden_texts() -> list[str]:
    return [
        GIVEN,
        FAMILY,
        BORN.isoformat(),
        f"{BORN:%d/%m/%Y}",
        f"{BORN:%-d %B %Y}",
        REASON,
        "prison",
        "licence",
    ]


def all_notifications() -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).order_by(Notification.id)))


# Tests --------------------------------------------------------------------------------


def test_every_message_arrives_once_with_what_it_needs_and_nothing_about_her(app, collector):
    flow = run_flow()
    queued = all_notifications()
    kinds = {n.kind for n in queued}
    assert {
        "referral.received",
        "referral.message",
        "consent.expiring",
        "referral.overdue",
        "referral.escalated",
        "referral.hold",
    } <= kinds
    assert all(n.email_status is EmailStatus.PENDING for n in queued)

    summary = deliver_pending()

    assert summary == f"{len(queued)} sent, 0 failed"
    assert len(collector.messages) == len(queued)
    arrived = sorted((m.rcpt_tos[0], m.subject, m.body.split("\n\n")[0]) for m in collector.messages)
    expected = sorted((n.email, n.subject, n.body) for n in queued)
    assert arrived == expected  # each exactly once, to the right person
    assert all(len(m.rcpt_tos) == 1 for m in collector.messages)
    for n in all_notifications():
        assert (n.email_status, n.attempts, n.last_error) == (EmailStatus.SENT, 1, None)
        assert n.sent_at is not None

    base_url = app.extensions["hub_settings"].base_url
    by_message = {(n.email, n.subject, n.body): n for n in queued}
    # The deadline each kind of message must name: a referral waiting to be
    # acknowledged, or (once acknowledged) to be accepted or declined.
    deadlines = {
        "referral.received": "30 December 2026",
        "referral.message": "30 December 2026",
        "referral.overdue": "30 December 2026",
        "referral.escalated": "30 December 2026",
        "referral.acknowledge": "5 January 2027",
        "referral.hold": None,  # on hold: no deadline runs
    }
    for received in collector.messages:
        text = received.subject + "\n" + received.body
        for secret in forbidden_texts():
            assert secret.lower() not in text.lower(), (secret, text)
            assert secret.lower() not in received.html.lower(), (secret, received.html)
        assert flow.agency_name in text, text
        n = by_message[(received.rcpt_tos[0], received.subject, received.body.split("\n\n")[0])]
        if n.kind == "consent.expiring":  # about her consent, not a referral: its reference and end date
            assert "6 January 2027" in text and f"{base_url}/service-users/" in received.body
            continue
        (referral_id,) = [i for i, ref in flow.references.items() if ref in text]
        assert f"{base_url}/referrals/{referral_id}\n" in received.body, text
        deadline = deadlines[n.kind]
        if deadline is not None:
            assert deadline in text, text
    assert {n.kind for n in queued} == {*deadlines, "consent.expiring"}

    # Every message: a date, its own Message-ID, marked automatic, and the same words as HTML.
    ids = set()
    for received in collector.messages:
        message = received.message
        assert message.get_content_type() == "multipart/alternative"
        assert email.utils.parsedate_to_datetime(message["Date"]).tzinfo is not None
        assert re.fullmatch(r"<[0-9a-f]{32}\.hub@localhost>", message["Message-ID"]), message["Message-ID"]
        ids.add(message["Message-ID"])
        assert message["Auto-Submitted"] == "auto-generated"
        n = by_message[(received.rcpt_tos[0], received.subject, received.body.split("\n\n")[0])]
        page = html_text(received.html)
        assert n.body.replace("\n", " ") in page, (n.body, page)
        assert f'href="{n.link}"' in received.html
        assert "This message was sent by the Partnership Hub. Sign in to see more." in page
    assert len(ids) == len(collector.messages)

    # A second run sends nothing.
    assert deliver_pending() == "0 sent"
    assert len(collector.messages) == len(queued)


def test_a_refused_recipient_stays_pending_and_the_rest_are_sent(app, collector):
    user = make_user(Role.PRACTITIONER, email="ok@charity.example")
    from hub.notifications.services import notify

    notify(user=user, kind="test", subject="One", body="One", link="/")
    notify(email=REFUSED, kind="test", subject="Two", body="Two", link="/")
    notify(user=user, kind="test", subject="Three", body="Three", link="/")

    assert deliver_pending() == "2 sent, 1 failed"

    assert sorted(m.subject for m in collector.messages) == ["One", "Three"]
    refused = db.session.scalars(sa.select(Notification).where(Notification.email == REFUSED)).one()
    assert (refused.email_status, refused.attempts, refused.last_error) == (
        EmailStatus.PENDING,
        1,
        "SMTPRecipientsRefused",
    )


def test_an_unreachable_server_leaves_messages_pending_then_failed(app, nothing_listening):
    """Each message is tried MAX_ATTEMPTS times, spread over RETRY_AFTER (about two hours), not
    five times in five minutes; then it is failed, and never tried again."""
    queued_at = at(dt.date(2027, 2, 1), 9)
    with time_machine.travel(queued_at, tick=False) as clock:
        user = make_user(Role.PRACTITIONER, email="worker@charity.example")
        _queue(user, ["First message", "Second message"])
        queued = all_notifications()
        for attempt in range(1, MAX_ATTEMPTS):
            assert deliver_pending() == f"mail server unreachable: {len(queued)} deferred"
            for n in all_notifications():
                assert (n.email_status, n.attempts) == (EmailStatus.PENDING, attempt)
                assert n.last_error == "connect: ConnectionRefusedError"
            # Not tried again before its time, ...
            clock.move_to(queued_at + RETRY_AFTER[attempt] - dt.timedelta(seconds=1))
            assert deliver_pending() == "0 sent"
            assert {n.attempts for n in all_notifications()} == {attempt}
            clock.shift(dt.timedelta(seconds=1))  # ... but then

        deliver_pending()
        assert {(n.email_status, n.attempts) for n in all_notifications()} == {(EmailStatus.FAILED, MAX_ATTEMPTS)}
        clock.shift(dt.timedelta(days=1))
        assert deliver_pending() == "0 sent"  # given up: not tried again
        assert {n.attempts for n in all_notifications()} == {MAX_ATTEMPTS}
    assert RETRY_AFTER[-1] >= dt.timedelta(hours=2)


def test_a_server_that_comes_back_gets_the_deferred_messages(app, smtp_server):
    controller, collector = smtp_server
    with mail_server_at(app, "127.0.0.1", free_port()):
        run_flow()
        deliver_pending()
    queued = all_notifications()
    with mail_server_at(app, controller.hostname, controller.port), time_machine.travel(at(dt.date(2027, 1, 6))):
        assert deliver_pending() == f"{len(queued)} sent, 0 failed"
    assert len(collector.messages) == len(queued)
    assert {(n.email_status, n.attempts) for n in all_notifications()} == {(EmailStatus.SENT, 2)}


def test_without_a_mail_server_messages_are_held_and_readable_in_the_hub(app):
    assert not app.extensions["hub_settings"].smtp_host
    flow = run_flow()
    queued = all_notifications()
    assert queued and {n.email_status for n in queued} == {EmailStatus.HELD}

    assert deliver_pending() == "no mail server configured"

    assert {n.email_status for n in all_notifications()} == {EmailStatus.HELD}
    assert {n.attempts for n in all_notifications()} == {0}
    from hub.auth.models import User

    officer = db.session.scalars(sa.select(User).where(User.email == flow.officer_email)).one()
    mine = [n for n in queued if n.user_id == officer.id]
    assert mine and unread_count(officer.id) == len(mine)
    assert any(
        n.kind == "referral.received" and n.link.endswith(f"/referrals/{next(iter(flow.references))}") for n in mine
    )


# One bad message never stops the others (security review M4) -------------------------


def _delivery_job_run(app: Flask) -> str:
    """Run the delivery job as the scheduler does: one unit of work, rolled back if it fails."""
    from hub.scheduler import collect_jobs, run_job

    return run_job(app, next(job for job in collect_jobs() if job.id == "hub.deliver-email"))


def _queue(user, subjects: list[str]) -> None:
    from hub.notifications.services import notify

    for subject in subjects:
        notify(user=user, kind="test", subject=subject, body=f"About {subject.split()[0]}", link="/")


def test_a_poisoned_subject_in_the_middle_stops_nothing_and_nothing_is_sent_twice(app, collector):
    """M4: a stored agency name with a line break used to fail every delivery run and resend the rest."""
    user = make_user(Role.PRACTITIONER, email="worker@charity.example")
    poisoned = "Referral for Harbour Housing\nBcc: x@evil.example"
    _queue(user, ["First message", "Second message", poisoned, "Fourth message", "Fifth message"])

    assert _delivery_job_run(app) == "ok"
    assert _delivery_job_run(app) == "ok"

    subjects = [m.subject for m in collector.messages]
    for subject in ("First message", "Second message", "Fourth message", "Fifth message"):
        assert subjects.count(subject) == 1, subjects
    # The bad one goes too, once, its subject on one line and to nobody else.
    assert subjects.count("Referral for Harbour Housing Bcc: x@evil.example") == 1, subjects
    assert len(collector.messages) == 5
    assert all(m.rcpt_tos == [user.email] and m.message["Bcc"] is None for m in collector.messages)
    assert {(n.email_status, n.attempts) for n in all_notifications()} == {(EmailStatus.SENT, 1)}


def test_a_message_that_cannot_be_composed_fails_alone(app, collector):
    """M4: any error on one message (not only an SMTP error) counts against that message only."""
    user = make_user(Role.PRACTITIONER, email="worker@charity.example")
    _queue(user, ["First message"])
    from hub.notifications.services import notify

    notify(email="someone@example.org\nBcc: x@evil.example", kind="test", subject="Broken address", body="x")
    _queue(user, ["Third message"])

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)):
        assert _delivery_job_run(app) == "ok"
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=3)):  # the broken one's retry is due
        assert _delivery_job_run(app) == "ok"

    assert sorted(m.subject for m in collector.messages) == ["First message", "Third message"]
    broken = db.session.scalars(sa.select(Notification).where(Notification.subject == "Broken address")).one()
    assert (broken.email_status, broken.attempts, broken.last_error) == (EmailStatus.PENDING, 2, "ValueError")
    others = db.session.scalars(sa.select(Notification).where(Notification.subject != "Broken address")).all()
    assert {(n.email_status, n.attempts) for n in others} == {(EmailStatus.SENT, 1)}


@pytest.mark.parametrize("setting", [{"smtp_starttls": True}, {"smtp_username": "hub", "smtp_password": "pw"}])
def test_a_refused_starttls_or_sign_in_defers_the_batch(app, smtp_server, setting):
    """M4: the mail server refusing STARTTLS or the sign-in defers every message one attempt, no crash."""
    controller, collector = smtp_server
    user = make_user(Role.PRACTITIONER, email="worker@charity.example")
    original = app.extensions["hub_settings"]
    app.extensions["hub_settings"] = original.with_(smtp_host=controller.hostname, smtp_port=controller.port, **setting)
    try:
        _queue(user, ["First message", "Second message"])
        summary = deliver_pending()
    finally:
        app.extensions["hub_settings"] = original
    assert summary == "mail server refused the secure connection or the sign-in: 2 deferred"
    assert collector.messages == []
    for n in all_notifications():
        assert (n.email_status, n.attempts) == (EmailStatus.PENDING, 1)
        assert n.last_error == "starttls or login: SMTPNotSupportedError"


# Held while no mail server was configured, sent once there is one ---------------------------


def _held(user=None, *, email: str = "", subject: str, days_ago: float = 0):
    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago), tick=False):
        message = notify(user=user, email=email, kind="test", subject=subject, body=f"About {subject}", link="/")
    assert message is not None and message.email_status is EmailStatus.HELD
    return message


def test_held_messages_from_the_last_days_go_once_a_mail_server_is_configured(app, smtp_server):
    """The demo, or a hub set up before its mail server: what was held in the last HUB_EMAIL_HELD_DAYS
    (7) days is sent once SMTP is configured; older messages stay held, readable in the outbox."""
    assert app.extensions["hub_settings"].email_held_days == 7
    user = make_user(Role.PRACTITIONER, email="worker@charity.example")
    recent = _held(user, subject="Recent", days_ago=6.9)
    contact_only = _held(email="partner@housing.example", subject="To a contact")
    old = _held(user, subject="Old", days_ago=7.1)
    assert deliver_pending() == "no mail server configured"

    controller, collector = smtp_server
    with mail_server_at(app, controller.hostname, controller.port):
        assert deliver_pending() == "2 held released; 2 sent, 0 failed"
        assert deliver_pending() == "0 sent"  # once

    assert sorted(m.subject for m in collector.messages) == ["Recent", "To a contact"]
    for message in (recent, contact_only):
        db.session.refresh(message)
        assert (message.email_status, message.attempts) == (EmailStatus.SENT, 1)
    db.session.refresh(old)
    assert (old.email_status, old.attempts, old.sent_at) == (EmailStatus.HELD, 0, None)


def test_held_messages_to_someone_who_can_no_longer_be_told_are_never_sent(app, smtp_server):
    """A closed account, or the work address of a contact who has left: what was held for them is
    withheld too (and a held message to a closed account is not released even if it was not)."""
    from hub.auth import services as auth_services
    from hub.notifications.services import withhold_pending

    closed = make_user(Role.PRACTITIONER, email="closed@charity.example")
    still_here = make_user(Role.PRACTITIONER, email="here@charity.example")
    to_closed = _held(closed, subject="To a closed account")
    to_leaver = _held(email="leaver@housing.example", subject="To a leaver")
    to_open = _held(still_here, subject="To someone still here")
    auth_services.disable_user(SYSTEM, closed)
    assert withhold_pending(email="leaver@housing.example") == 1
    db.session.refresh(to_closed)
    db.session.refresh(to_leaver)
    assert {to_closed.email_status, to_leaver.email_status} == {EmailStatus.FAILED}

    # Held for the account before it was closed, and not withheld (as before this rule existed).
    slipped = Notification(
        user_id=closed.id, email=closed.email, kind="test", subject="Slipped", body="x", email_status=EmailStatus.HELD
    )
    db.session.add(slipped)
    db.session.flush()

    controller, collector = smtp_server
    with mail_server_at(app, controller.hostname, controller.port):
        assert deliver_pending() == "1 held released; 1 sent, 0 failed"
    db.session.flush()  # what the job wrote (the scheduler commits it)
    assert [m.subject for m in collector.messages] == ["To someone still here"]
    db.session.refresh(to_open)
    db.session.refresh(slipped)
    assert to_open.email_status is EmailStatus.SENT
    assert slipped.email_status is EmailStatus.HELD


def test_held_messages_stay_held_when_the_setting_says_none(app, smtp_server):
    user = make_user(Role.PRACTITIONER, email="worker@charity.example")
    held = _held(user, subject="Held")
    controller, collector = smtp_server
    original = app.extensions["hub_settings"]
    app.extensions["hub_settings"] = original.with_(
        smtp_host=controller.hostname, smtp_port=controller.port, email_held_days=0
    )
    try:
        assert deliver_pending() == "0 sent"
    finally:
        app.extensions["hub_settings"] = original
    db.session.refresh(held)
    assert held.email_status is EmailStatus.HELD and collector.messages == []


# The message itself ------------------------------------------------------------------------


FOOTER = "This message was sent by the Partnership Hub. Sign in to see more."


def test_the_html_part_escapes_what_was_stored_and_says_what_the_text_says(app, collector):
    """An agency name stored with markup is shown as text in both parts, never as HTML."""
    user = make_user(Role.PRACTITIONER, email="worker@charity.example")
    body = 'Referral R-AB12 from Smith & Jones <script>alert("x")</script>\nDeadline 5 January 2027.\n\nSecond part.'
    notify(user=user, kind="test", subject='Smith & Jones <b>"quoted"</b>', body=body, link="/referrals/7?tab=a&b=c")

    assert deliver_pending() == "1 sent, 0 failed"

    (received,) = collector.messages
    assert received.subject == 'Smith & Jones <b>"quoted"</b>'
    base_url = app.extensions["hub_settings"].base_url
    assert received.body == (
        f"{body}\n\n{base_url}/referrals/7?tab=a&b=c\n\n"
        "This message was sent by the Partnership Hub. Sign in to see more.\n"
    )
    assert "<script>" not in received.html and "&lt;script&gt;" in received.html
    assert "<b>" not in received.html
    assert f'href="{base_url}/referrals/7?tab=a&amp;b=c"' in received.html
    assert html_text(received.html) == " ".join([*body.split(), f"{base_url}/referrals/7?tab=a&b=c", *FOOTER.split()])
    assert "<br>" in received.html and received.html.count("<p ") == 4  # two paragraphs, the link, the footer


def test_every_attempt_at_one_message_carries_the_same_message_id(app, smtp_server):
    """If a message is ever sent twice (README "Known limits"), the receiving server can tell."""
    from hub.notifications.services import _compose, message_id

    user = make_user(Role.PRACTITIONER, email="worker@charity.example")
    first = notify(user=user, kind="test", subject="One", body="One", link="/")
    second = notify(user=user, kind="test", subject="Two", body="Two", link="/")
    sender = "Partnership Hub <hub@charity.example>"
    assert _compose(first, sender)["Message-ID"] == _compose(first, sender)["Message-ID"] == message_id(first, sender)
    assert message_id(first, sender) != message_id(second, sender)
    assert message_id(first, sender).endswith(".hub@charity.example>")
