"""The reminder to run a restore drill: the administrators (only they, and only active ones) are told when no
drill has passed for HUB_RESTORE_DRILL_DAYS, at most once a week; a drill that failed does not count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
import time_machine

from hub import backups, jobs
from hub.db import db, utcnow
from hub.notifications.models import Notification
from hub.permissions import Role
from tests.helpers import make_user


def _told() -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(Notification.kind == "backup.drill_due")))


def test_administrators_are_reminded_once_a_week_until_a_drill_passes(app: Any) -> None:
    admin = make_user(Role.ADMIN)
    gone = make_user(Role.ADMIN)
    gone.disabled_at = utcnow()
    make_user(Role.MANAGER)
    assert jobs.remind_restore_drill() == "1 administrators reminded"
    assert [n.user_id for n in _told()] == [admin.id] and "restore-drill" in _told()[0].body
    assert jobs.remind_restore_drill() == "already reminded this week"
    db.session.add(backups.RestoreDrill(backup="/backups/x.dump", passed=False, differences=["table x"]))
    db.session.flush()
    with time_machine.travel(utcnow() + dt.timedelta(days=8), tick=False):
        assert jobs.remind_restore_drill() == "1 administrators reminded"  # a failed drill does not count
        db.session.add(backups.RestoreDrill(backup="/backups/y.dump", passed=True, ran_at=utcnow()))
        db.session.flush()
        assert jobs.remind_restore_drill() == "a drill passed recently"
    with time_machine.travel(utcnow() + dt.timedelta(days=40), tick=False):
        assert jobs.remind_restore_drill() == "1 administrators reminded"  # 32 days since it passed
        assert "since" in _told()[-1].body


def test_the_job_is_scheduled() -> None:
    assert any(job.id == "hub.restore-drill-reminder" for job in jobs.JOBS)
