"""The scheduler process (``flask hub scheduler``): periodic jobs, run in a
process of their own, never inside web workers.

Jobs are declared in code — the kernel's in :mod:`hub.jobs`, each domain
package's in its ``jobs.JOBS`` — with stable ids. Each run:
- takes a PostgreSQL advisory lock for its job id (a second scheduler started
  by mistake skips the run instead of doing it twice);
- is one unit of work: it commits once, or not at all;
- writes a ``job_runs`` row (started, finished, outcome, error type).
Jobs themselves select what is due and not yet done, so running one twice is
harmless.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import logging
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy.orm import Mapped, mapped_column

from hub.audit import Origin, set_origin
from hub.db import Model, db, unit_of_work, utcnow
from hub.modules import MODULES

log = logging.getLogger(__name__)
TIMEZONE = "Europe/London"


@dataclass(frozen=True)
class Job:
    """A periodic job: ``func()`` returns a short summary (e.g. a count) or None."""

    id: str
    func: Callable[[], Any]
    cron: dict[str, Any] = field(default_factory=dict)
    description: str = ""


class JobRun(Model):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.String(80), index=True)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    outcome: Mapped[str] = mapped_column(sa.String(16))  # ok | failed | skipped
    summary: Mapped[str] = mapped_column(sa.String(200), default="")


def collect_jobs() -> list[Job]:
    """The kernel's jobs and every loaded package's ``jobs.JOBS``, ids unique."""
    from hub import jobs as kernel_jobs

    found = list(kernel_jobs.JOBS)
    for name in MODULES:
        try:
            module = importlib.import_module(f"{name}.jobs")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.jobs":
                raise
            continue
        found.extend(module.JOBS)
    ids = [job.id for job in found]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise RuntimeError(f"duplicate job ids: {sorted(duplicates)}")
    return found


def _lock_key(job_id: str) -> int:
    return zlib.crc32(job_id.encode()) & 0x7FFFFFFF


@contextlib.contextmanager
def _exclusive(job_id: str) -> Iterator[bool]:
    """Whether this process may run the job now: a PostgreSQL advisory lock held on a connection of
    its own for the whole run, so the job may commit in batches and a second scheduler still skips
    it. (SQLite, the single-process demo, needs no lock.)"""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    with db.engine.connect() as holder:
        got = bool(holder.scalar(sa.select(sa.func.pg_try_advisory_lock(_lock_key(job_id)))))
        try:
            yield got
        finally:
            if got:
                holder.scalar(sa.select(sa.func.pg_advisory_unlock(_lock_key(job_id))))
            holder.rollback()


def _record(job: Job, started: dt.datetime, outcome: str, summary: str) -> None:
    with unit_of_work():
        db.session.add(
            JobRun(job_id=job.id, started_at=started, finished_at=utcnow(), outcome=outcome, summary=summary[:200])
        )


def run_job(app: Flask, job: Job) -> str:
    """Run one job now, as the scheduler would. Returns its outcome.

    The job's work is one unit of work, unless the job commits its own batches (a backlog is
    worked through in bounded batches, each committed, so a crash loses nothing done)."""
    with app.app_context():
        set_origin(Origin("scheduler"))
        started = utcnow()
        try:
            with _exclusive(job.id) as mine:
                if not mine:
                    log.warning("job %s is already running elsewhere: skipped", job.id)
                    _record(job, started, "skipped", "already running")
                    return "skipped"
                with unit_of_work():
                    summary = job.func()
                _record(job, started, "ok", str(summary if summary is not None else ""))
            return "ok"
        except Exception as exc:
            log.exception("job %s failed", job.id)
            db.session.rollback()
            _record(job, started, "failed", type(exc).__name__)
            return "failed"
        finally:
            db.session.remove()


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone=TIMEZONE, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
    )
    for job in collect_jobs():
        scheduler.add_job(
            run_job,
            CronTrigger(timezone=TIMEZONE, **job.cron),
            args=[app, job],
            id=job.id,
            name=job.description or job.id,
            replace_existing=True,
        )
    return scheduler
