"""Housekeeping: the tables that only grow are trimmed every night, set-based.

The scheduler writes a ``job_runs`` row per run (the email job alone 1,440 a
day); the API keeps an ``idempotency_keys`` row per create that carried a key.
Both are forgotten by ``hub.purge-housekeeping-records``: job runs after 30
days, keys after ``HUB_IDEMPOTENCY_KEY_DAYS`` (at least one day, 7 unless set),
so a partner system retrying within that time still gets its first answer.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from hub import idempotency
from hub.config import Settings
from hub.db import db, utcnow
from hub.idempotency import IdempotencyKey
from hub.jobs import JOB_RUN_DAYS
from hub.scheduler import JobRun, build_scheduler, collect_jobs, run_job

JOB_ID = "hub.purge-housekeeping-records"


def _job():
    return next(j for j in collect_jobs() if j.id == JOB_ID)


def _key(key: str, age: dt.timedelta, owner: str = "client:1") -> None:
    db.session.add(
        IdempotencyKey(
            owner=owner,
            key=key,
            request_hash=idempotency.fingerprint({"k": key}),
            status_code=201,
            response={"id": 1},
            created_at=utcnow() - age,
        )
    )


def _run(job_id: str, age: dt.timedelta) -> None:
    started = utcnow() - age
    db.session.add(JobRun(job_id=job_id, started_at=started, finished_at=started, outcome="ok", summary=""))


def _keys() -> set[str]:
    return set(db.session.scalars(sa.select(IdempotencyKey.key)))


def test_the_job_runs_every_night(app):
    job = _job()
    assert job.cron == {"hour": 3, "minute": 25}
    assert JOB_ID in {j.id for j in build_scheduler(app).get_jobs()}


def test_old_job_runs_and_idempotency_keys_are_forgotten_and_recent_ones_kept(app):
    days = dt.timedelta(days=1)
    _run("hub.deliver-email", JOB_RUN_DAYS * days + dt.timedelta(minutes=1))
    _run("hub.deliver-email", JOB_RUN_DAYS * days - dt.timedelta(minutes=1))
    _run("hub.seal-audit", 400 * days)
    _key("eight-days", 8 * days)
    _key("seven-days-and-a-minute", 7 * days + dt.timedelta(minutes=1))
    _key("six-days", 6 * days)
    _key("an-hour", dt.timedelta(hours=1), owner="user:3")
    db.session.commit()

    assert run_job(app, _job()) == "ok"

    kept_runs = db.session.scalars(sa.select(JobRun).where(JobRun.job_id != JOB_ID)).all()
    assert [r.job_id for r in kept_runs] == ["hub.deliver-email"]
    assert _keys() == {"six-days", "an-hour"}
    (record,) = db.session.scalars(sa.select(JobRun).where(JobRun.job_id == JOB_ID)).all()
    summary = "2 job runs, 2 idempotency keys, 0 notifications, 0 access tokens"
    assert (record.outcome, record.summary) == ("ok", summary)

    assert run_job(app, _job()) == "ok"  # safe to repeat: nothing more to forget
    assert _keys() == {"six-days", "an-hour"}
    last = db.session.scalars(sa.select(JobRun).where(JobRun.job_id == JOB_ID).order_by(JobRun.id.desc())).first()
    assert last.summary == "0 job runs, 0 idempotency keys, 0 notifications, 0 access tokens"


def test_a_key_kept_still_answers_a_retry_with_the_first_answer(app):
    _key("retried-after-six-days", dt.timedelta(days=6))
    db.session.commit()
    assert run_job(app, _job()) == "ok"
    assert idempotency.replay("client:1", "retried-after-six-days", {"k": "retried-after-six-days"}) == (
        201,
        {"id": 1},
    )


def test_how_long_keys_are_kept_is_a_setting(app):
    _key("three-days", dt.timedelta(days=3))
    _key("one-day", dt.timedelta(hours=23))
    db.session.commit()
    original = app.extensions["hub_settings"]
    app.extensions["hub_settings"] = original.with_(idempotency_key_days=2)
    try:
        assert run_job(app, _job()) == "ok"
    finally:
        app.extensions["hub_settings"] = original
    assert _keys() == {"one-day"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUB_IDEMPOTENCY_KEY_DAYS": "0"}, "HUB_IDEMPOTENCY_KEY_DAYS must be at least 1"),
        ({"HUB_IDEMPOTENCY_KEY_DAYS": "a week"}, "HUB_IDEMPOTENCY_KEY_DAYS must be a whole number"),
        ({"HUB_EMAIL_HELD_DAYS": "-1"}, "HUB_EMAIL_HELD_DAYS must be 0"),
    ],
)
def test_settings_that_would_forget_keys_too_soon_are_refused(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env({"HUB_DEMO": "true", **env})


def test_the_settings_default_to_a_week():
    settings = Settings.from_env({"HUB_DEMO": "true"})
    assert (settings.idempotency_key_days, settings.email_held_days) == (7, 7)
    assert Settings.from_env({"HUB_DEMO": "true", "HUB_IDEMPOTENCY_KEY_DAYS": "30"}).idempotency_key_days == 30
