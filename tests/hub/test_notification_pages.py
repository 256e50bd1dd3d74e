"""The in-app notifications page, the unread count in the navigation, and the
administrators' email outbox (where held emails are read when there is no mail server)."""

from __future__ import annotations

import sqlalchemy as sa

from hub.db import db
from hub.notifications.models import EmailStatus, Notification
from hub.notifications.services import notify
from hub.permissions import Role
from tests.consent.test_pages import text_of
from tests.helpers import make_user, post_form, sign_in


def test_a_user_reads_their_notifications_newest_first_and_marks_them_read(client):
    user = make_user(Role.PARTNER)
    other = make_user(Role.PARTNER)
    notify(user=user, kind="test", subject="First subject", body="The first body.", link="/inbox")
    notify(user=user, kind="test", subject="Second subject", body="The second body.")
    notify(user=other, kind="test", subject="Someone else's", body="Not yours.")
    sign_in(client, user)
    response = client.get("/notifications")
    page = text_of(response)
    assert "Notifications (2 unread)" in page
    assert page.index("Second subject") < page.index("First subject")
    assert "Someone else's" not in page
    assert 'href="/inbox"' in response.get_data(as_text=True)  # a link within the hub, not to the email's base URL

    first = db.session.scalar(sa.select(Notification).where(Notification.subject == "First subject"))
    theirs = db.session.scalar(sa.select(Notification).where(Notification.user_id == other.id))
    assert post_form(client, f"/notifications/{first.id}/read", {}, token_from="/notifications").status_code == 302
    assert post_form(client, f"/notifications/{theirs.id}/read", {}, token_from="/notifications").status_code == 302
    assert db.session.get(Notification, first.id).read_at is not None
    assert db.session.get(Notification, theirs.id).read_at is None  # only ever your own
    assert "Notifications (1 unread)" in text_of(client.get("/notifications"))

    assert post_form(client, "/notifications/read-all", {}, token_from="/notifications").status_code == 302
    page = text_of(client.get("/notifications"))
    assert "0 unread of 2" in page and "unread)" not in page


def test_admins_read_held_emails_in_the_outbox_and_nobody_else_can(client, settings):
    admin = make_user(Role.ADMIN)
    notify(email="someone@example.org", kind="test", subject="Referral R-TEST-0001", body="Please acknowledge it.")
    held = db.session.scalar(sa.select(Notification).where(Notification.email == "someone@example.org"))
    assert held.email_status is EmailStatus.HELD  # no mail server in the tests
    for role in (Role.MANAGER, Role.PRACTITIONER, Role.PARTNER_LEAD):
        sign_in(client, make_user(role))
        assert client.get("/notifications/outbox").status_code == 403
    sign_in(client, admin)
    page = text_of(client.get("/notifications/outbox"))
    assert "No mail server is configured" in page
    assert "someone@example.org" in page and "Referral R-TEST-0001" in page and "Held" in page
    assert "Referral R-TEST-0001" in text_of(client.get("/notifications/outbox?status=held"))
    assert "Referral R-TEST-0001" not in text_of(client.get("/notifications/outbox?status=sent"))
    assert client.get("/notifications/outbox?status=nonsense").status_code == 404
