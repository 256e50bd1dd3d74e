"""Retention of the hub's own records: notifications are forgotten HUB_NOTIFICATION_DAYS (180) after they were
made once read or sent (never one still waiting to go out), and access tokens 30 days after they were issued."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from hub import jobs
from hub.db import db, utcnow
from hub.notifications.models import EmailStatus, Notification
from hub.oauth.models import OAuthToken
from hub.permissions import Role
from tests.helpers import host_agency, make_client, make_user


def test_old_notifications_and_tokens_are_forgotten(app: Any) -> None:
    user = make_user(Role.PRACTITIONER)
    now = utcnow()
    old, recent = now - dt.timedelta(days=181), now - dt.timedelta(days=179)
    rows = {
        "old read": Notification(user_id=user.id, email=user.email, kind="t", subject="s", body="b", created_at=old,
                                 read_at=old, email_status=EmailStatus.HELD),
        "old sent": Notification(user_id=user.id, email=user.email, kind="t", subject="s", body="b", created_at=old,
                                 email_status=EmailStatus.SENT),
        "old waiting": Notification(user_id=user.id, email=user.email, kind="t", subject="s", body="b",
                                    created_at=old, email_status=EmailStatus.PENDING),
        "recent": Notification(user_id=user.id, email=user.email, kind="t", subject="s", body="b", created_at=recent,
                               read_at=recent, email_status=EmailStatus.SENT),
    }  # fmt: skip
    db.session.add_all(rows.values())
    system, _ = make_client(host_agency(), "referrals:read")
    db.session.add_all([OAuthToken(token_hash="a" * 64, client_pk=system.id, scope="x", expires_in=900,
                                   issued_at=now - dt.timedelta(days=31)),
                        OAuthToken(token_hash="b" * 64, client_pk=system.id, scope="x", expires_in=900,
                                   issued_at=now - dt.timedelta(days=1))])  # fmt: skip
    db.session.flush()
    summary = jobs.purge_housekeeping_records()
    assert "2 notifications" in summary and "1 access tokens" in summary
    kept = set(db.session.scalars(sa.select(Notification.id)))
    assert kept == {rows["old waiting"].id, rows["recent"].id}
    assert db.session.scalars(sa.select(OAuthToken.token_hash)).all() == ["b" * 64]
