"""The queue that wakes workers: huey, on an SQLite file in the instance folder or on Redis.

The queue carries only "job N is waiting" (and the scheduler's minute tick); everything about
the job is in the database. A message that is lost — a worker killed after taking it, Redis
restarted, a web process that committed a job and could not reach the queue — is made good by
the sweeper, which wakes jobs that have waited longer than a lease and takes back jobs whose
worker's lease ran out.

Two tasks are registered on the app's huey:

``run_job(job_id)``    claim the job and run it, in an app context of its own
``every_minute()``     (periodic) the lease sweeper, then every :func:`on_tick` hook

With ``JOB_QUEUE_IMMEDIATE`` (tests) huey runs each task in the process that enqueues it, at
once, with an in-memory queue.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from sqlalchemy import event
from sqlalchemy.orm import Session

from survey_app.extensions import db
from survey_app.services.jobs.lifecycle import PENDING_WAKES, SweepReport, sweep
from survey_app.services.jobs.registry import tick_hooks
from survey_app.services.jobs.running import run_job

log = logging.getLogger(__name__)

EXTENSION = "relhealth_jobs"
#: The huey file's name in the instance folder (without ``REDIS_URL``).
QUEUE_FILE = "job-queue.sqlite3"
_listening = False


def make_huey(config: dict[str, Any], instance_path: str | Path) -> Huey:
    """The queue the settings describe: Redis when ``REDIS_URL`` is set, else SQLite."""
    name = config["JOB_QUEUE_NAME"]
    options: dict[str, Any] = {"results": False, "immediate": bool(config["JOB_QUEUE_IMMEDIATE"])}
    if config.get("REDIS_URL"):
        return RedisHuey(name, url=config["REDIS_URL"], **options)
    return SqliteHuey(name, filename=str(Path(instance_path) / QUEUE_FILE), **options)


class JobQueue:
    """The app's queue (``app.extensions["relhealth_jobs"]``), made on first use."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._huey: Huey | None = None
        self._run_job: Any = None  # the huey task, made with the huey
        self._lock = threading.Lock()

    @property
    def huey(self) -> Huey:
        with self._lock:
            if self._huey is None:
                huey = make_huey(self.app.config, self.app.instance_path)
                self._run_job = huey.task(name="run_job")(self._run_job_task)
                huey.periodic_task(crontab(), name="every_minute")(self.every_minute)
                self._huey = huey
            return self._huey

    def wake(self, job_ids: Iterable[int]) -> None:
        """Tell a worker that these jobs are waiting."""
        self.huey  # noqa: B018 (made on first use, with its task)
        for job_id in job_ids:
            self._run_job(job_id)

    def waiting_messages(self) -> int:
        return int(self.huey.pending_count())

    def _run_job_task(self, job_id: int) -> None:
        with self.app.app_context():
            run_job(job_id)

    def sweep(self) -> SweepReport:
        """Take back expired leases and wake jobs whose wake-up was lost (in an app context)."""
        config = self.app.config
        report = sweep(
            lease_seconds=float(config["JOB_LEASE_SECONDS"]),
            max_attempts=int(config["JOB_MAX_ATTEMPTS"]),
            wake_waiting=self.huey.immediate or self.waiting_messages() == 0,
        )
        if report.requeued or report.failed or report.woken:
            log.info(
                "jobs sweeper: requeued %s, failed %s, woke %s",
                list(report.requeued), list(report.failed), list(report.woken),
            )  # fmt: skip
        return report

    def every_minute(self) -> None:
        """The periodic task: the sweeper, then each tick hook, each in its own context."""
        with self.app.app_context():
            self.sweep()
        for name, hook in tick_hooks().items():
            with self.app.app_context():
                try:
                    hook()
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    log.exception("the %r tick failed", name)

    def consumer(self, threads: int, *, periodic: bool = True) -> Consumer:
        """A huey consumer with ``threads`` worker threads (``relhealth worker``)."""
        return self.huey.create_consumer(
            workers=threads,
            worker_type="thread",
            periodic=periodic,
            check_worker_health=True,
            shutdown_timeout=5,
        )


def init_app(app: Flask) -> None:
    """Give the app its queue, and wake submitted jobs whenever a session commits."""
    global _listening
    app.extensions[EXTENSION] = JobQueue(app)
    if not _listening:
        event.listen(Session, "after_commit", _wake_committed)
        event.listen(Session, "after_rollback", _forget_wakes)
        _listening = True


def job_queue(app: Flask | None = None) -> JobQueue:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return app.extensions[EXTENSION]


def _wake_committed(session: Session) -> None:
    job_ids = session.info.pop(PENDING_WAKES, None)
    if not job_ids or not has_app_context():
        return
    try:
        job_queue().wake(job_ids)
    except Exception:  # the job is stored; the sweeper wakes it within a lease or two
        log.exception("could not wake jobs %s: the sweeper will", job_ids)


def _forget_wakes(session: Session) -> None:
    session.info.pop(PENDING_WAKES, None)
