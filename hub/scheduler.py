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

import datetime as dt
import importlib
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy.orm import Mapped, mapped_column

from hub.audit import Origin, set_origin
from hub.db import Model, db, is_postgres, unit_of_work, utcnow
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


def run_job(app: Flask, job: Job) -> str:
    """Run one job now, as the scheduler would. Returns its outcome."""
    with app.app_context():
        set_origin(Origin("scheduler"))
        started = utcnow()
        try:
            with unit_of_work():
                if is_postgres() and not db.session.scalar(
                    sa.select(sa.func.pg_try_advisory_xact_lock(_lock_key(job.id)))
                ):
                    log.warning("job %s is already running elsewhere: skipped", job.id)
                    db.session.add(
                        JobRun(
                            job_id=job.id,
                            started_at=started,
                            finished_at=utcnow(),
                            outcome="skipped",
                            summary="already running",
                        )
                    )
                    return "skipped"
                summary = job.func()
                db.session.add(
                    JobRun(
                        job_id=job.id,
                        started_at=started,
                        finished_at=utcnow(),
                        outcome="ok",
                        summary=str(summary if summary is not None else "")[:200],
                    )
                )
            return "ok"
        except Exception as exc:
            log.exception("job %s failed", job.id)
            with unit_of_work():
                db.session.add(
                    JobRun(
                        job_id=job.id,
                        started_at=started,
                        finished_at=utcnow(),
                        outcome="failed",
                        summary=type(exc).__name__,
                    )
                )
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
