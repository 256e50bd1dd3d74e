"""The scheduler: jobs declared in one place with unique ids, each run
recorded, safe to run twice, and skipped while another process runs it."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from hub.auth.models import AuthSession, LoginAttempt
from hub.db import db, utcnow
from hub.scheduler import Job, JobRun, build_scheduler, collect_jobs, run_job
from tests.helpers import make_user


def test_jobs_have_unique_ids_and_are_scheduled(app):
    jobs = collect_jobs()
    assert "hub.purge-sign-in-records" in {j.id for j in jobs}
    scheduler = build_scheduler(app)
    assert {j.id for j in scheduler.get_jobs()} == {j.id for j in jobs}


def test_purge_job_forgets_old_records_and_is_safe_to_repeat(app):
    user = make_user()
    old = utcnow() - dt.timedelta(days=40)
    db.session.add_all(
        [
            LoginAttempt(account_key="k", ip="203.0.113.1", at=old),
            LoginAttempt(account_key="k", ip="203.0.113.1", at=utcnow()),
            AuthSession(token_hash="a" * 64, user_id=user.id, created_at=old, last_seen_at=old, ended_at=old),
            AuthSession(token_hash="b" * 64, user_id=user.id, created_at=utcnow(), last_seen_at=utcnow()),
        ]
    )
    db.session.commit()
    job = next(j for j in collect_jobs() if j.id == "hub.purge-sign-in-records")
    assert run_job(app, job) == "ok"
    assert run_job(app, job) == "ok"
    assert db.session.scalar(sa.select(sa.func.count(LoginAttempt.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(AuthSession.id))) == 1
    runs = db.session.scalars(sa.select(JobRun).where(JobRun.job_id == job.id)).all()
    assert [r.outcome for r in runs] == ["ok", "ok"]
    assert runs[0].summary == "1 attempts, 1 sessions"


def test_a_failing_job_is_recorded_and_changes_nothing(app):
    user = make_user()

    def broken() -> None:
        user.name = "changed"
        db.session.flush()
        raise RuntimeError("boom")

    assert run_job(app, Job("test.broken", broken)) == "failed"
    run = db.session.scalars(sa.select(JobRun).where(JobRun.job_id == "test.broken")).one()
    assert run.outcome == "failed" and run.summary == "RuntimeError"


def test_cli_lists_and_runs_jobs(app):
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["hub", "scheduler", "--list"])
    assert "hub.purge-sign-in-records" in listing.output
    result = runner.invoke(args=["hub", "scheduler", "--once", "hub.purge-sign-in-records"])
    assert result.exit_code == 0 and "ok" in result.output
    assert runner.invoke(args=["hub", "scheduler", "--once", "nope"]).exit_code == 2


def test_a_job_running_elsewhere_is_skipped_not_run_twice(app):
    from hub.scheduler import _lock_key

    calls = []
    job = Job("test.counted", lambda: calls.append(1))
    with db.engine.connect() as other_process:
        other_process.execute(sa.select(sa.func.pg_advisory_lock(_lock_key(job.id))))
        try:
            assert run_job(app, job) == "skipped"
        finally:
            other_process.execute(sa.select(sa.func.pg_advisory_unlock(_lock_key(job.id))))
    assert calls == []
    assert run_job(app, job) == "ok" and calls == [1]
