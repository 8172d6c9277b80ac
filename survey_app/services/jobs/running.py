"""Running one job: claim it, keep its lease alive, give its kind a context, record the end.

The job's work and its progress travel separately. The work runs in the worker's database
session and commits when the kind commits (at its checkpoints) or when the job succeeds — in
the same transaction as the fenced "succeeded", so that work of a worker that lost its lease
never commits. Progress goes through a :class:`Heartbeat` thread on a connection of its own:
``ctx.progress(...)`` only notes the figures and returns; the thread writes them (at most
twice a second) together with a renewed lease, and renews the lease every quarter of it even
when the kind reports nothing.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from typing import Any

from flask import current_app
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import User
from survey_app.services import ServiceError
from survey_app.services.jobs.lifecycle import (
    ClaimedJob,
    LeaseLost,
    claim_job,
    finish_job,
    record_checkpoint,
    renew_lease_statement,
    short,
)
from survey_app.services.jobs.registry import job_kind
from survey_app.texts import N_, Wording, stored_text, wording

log = logging.getLogger(__name__)

#: At most one progress write per this many seconds.
PROGRESS_INTERVAL = 0.5


#: Tells apart two processes with the same host name and process id (containers).
_PROCESS_TOKEN = secrets.token_hex(3)


def worker_prefix() -> str:
    """This process's name as a lease owner: ``host:pid:token:``."""
    return f"{socket.gethostname()}:{os.getpid()}:{_PROCESS_TOKEN}:"


def worker_name() -> str:
    """This thread's name as a lease owner: ``host:pid:token:thread``."""
    return worker_prefix() + threading.current_thread().name


def unexpected_error(job_id: int) -> Wording:
    return wording(
        N_(
            "The job stopped because of an unexpected error. Try again; if it fails again, "
            "tell the service’s support team (job %(job)s)."
        ),
        job=job_id,
    )


class Heartbeat:
    """A thread that renews a job's lease and writes its latest progress, on its own
    connection. It notices a lost lease (no row matched) and says so in :attr:`lost`."""

    def __init__(self, engine: Engine, job_id: int, owner: str, lease_seconds: float) -> None:
        self.engine = engine
        self.job_id = job_id
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.interval = max(lease_seconds / 4, 0.05)
        self.lost = False
        self.latest: dict[str, Any] | None = None
        self._unwritten: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-{job_id}-heartbeat")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def report(self, progress: dict[str, Any]) -> None:
        with self._lock:
            self.latest = progress
            self._unwritten = progress
        self._wake.set()

    def _run(self) -> None:
        spacing = min(PROGRESS_INTERVAL, self.interval)  # between two writes, at least
        last = 0.0
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.wait(max(0.0, last + spacing - time.monotonic())):
                return
            with self._lock:
                progress, self._unwritten = self._unwritten, None
            if not self._beat(progress):
                return
            last = time.monotonic()

    def _beat(self, progress: dict[str, Any] | None) -> bool:
        statement = renew_lease_statement(
            self.job_id, self.owner, lease_seconds=self.lease_seconds, progress=progress
        )
        try:
            with self.engine.begin() as conn:
                matched = conn.execute(statement).rowcount
        except SQLAlchemyError as exc:  # e.g. SQLite busy while the work holds the lock
            log.warning("job %s: could not renew its lease (%s); trying again", self.job_id, exc)
            with self._lock:
                self._unwritten = self._unwritten or progress
            return True
        if matched != 1:
            self.lost = True
            return False
        return True


class JobContext:
    """What a job kind's ``run(ctx, **parameters)`` is given.

    Attributes
    ----------
    job_id : int
    attempt : int
        1 on the first run; more when the job is resumed or retried.
    resume_from : object
        The last checkpoint committed by an earlier attempt (``None``: start from scratch).
    """

    def __init__(self, claimed: ClaimedJob, owner: str, heartbeat: Heartbeat) -> None:
        self.job_id = claimed.id
        self.attempt = claimed.attempt
        self.resume_from = claimed.checkpoint
        self.owner = owner
        self._requested_by_id = claimed.requested_by_id
        self._heartbeat = heartbeat

    def progress(
        self, done: int, total: int | None = None, message: Wording | str | None = None
    ) -> None:
        """Report how far the job has got ("``done`` of ``total``", and what it is doing: a
        :func:`~survey_app.texts.wording`, or a fixed text marked with ``N_``, shown later in
        its reader's language).
        Returns at once; :class:`LeaseLost` if the job is no longer this worker's."""
        self._check()
        self._heartbeat.report(
            {"progress_done": int(done), "progress_total": total, "message": short(message)}
        )

    def checkpoint(self, state: Any) -> None:
        """Record ``state`` (JSON) as how far the work has got, in the work's transaction:
        when it commits, a resumed job starts from it (``ctx.resume_from``)."""
        self._check()
        record_checkpoint(self.job_id, self.owner, state)

    def requested_by(self) -> User | None:
        """Who asked for the job (for the audit log), if they still exist."""
        if self._requested_by_id is None:
            return None
        return db.session.get(User, self._requested_by_id)

    def _check(self) -> None:
        if self._heartbeat.lost:
            raise LeaseLost(f"job {self.job_id} is no longer held by {self.owner}")


def run_job(job_id: int, *, owner: str | None = None) -> str | None:
    """Claim job ``job_id`` and run it to its end, in the current app context.

    Returns
    -------
    str or None
        The state the job ended in (``succeeded`` or ``failed``), or ``None`` when it was not
        this worker's to run (another has it, it has ended) or its lease was lost on the way.
    """
    config = current_app.config
    owner = owner or worker_name()
    lease = float(config["JOB_LEASE_SECONDS"])
    claimed = claim_job(
        job_id, owner, lease_seconds=lease, max_attempts=int(config["JOB_MAX_ATTEMPTS"])
    )
    if claimed is None:
        return None
    heartbeat = Heartbeat(db.engine, job_id, owner, lease)
    heartbeat.start()
    try:
        return _run_claimed(claimed, JobContext(claimed, owner, heartbeat), heartbeat)
    finally:
        heartbeat.stop()


def _run_claimed(claimed: ClaimedJob, ctx: JobContext, heartbeat: Heartbeat) -> str | None:
    try:
        outcome = job_kind(claimed.kind).run(ctx, **claimed.parameters)
        heartbeat.stop()
        if heartbeat.lost:
            raise LeaseLost(f"job {claimed.id} is no longer held by {ctx.owner}")
        finish_job(
            claimed.id,
            ctx.owner,
            "succeeded",
            result=dict(outcome or {}),  # a kind returns a dict (or None)
            progress=heartbeat.latest,
        )
        db.session.commit()
        return "succeeded"
    except LeaseLost:
        db.session.rollback()
        log.info(
            "job %s: lease lost (taken back or cancelled); its work is rolled back", claimed.id
        )
        return None
    except ServiceError as exc:
        db.session.rollback()
        return _fail(claimed.id, ctx.owner, exc.stored, heartbeat)
    except Exception:
        db.session.rollback()
        log.exception("job %s (%s) failed", claimed.id, claimed.kind)
        return _fail(claimed.id, ctx.owner, unexpected_error(claimed.id), heartbeat)


def _fail(job_id: int, owner: str, error: Wording | str, heartbeat: Heartbeat) -> str | None:
    heartbeat.stop()
    try:
        with write_transaction():
            finish_job(job_id, owner, "failed", error=stored_text(error), progress=heartbeat.latest)
    except LeaseLost:
        return None
    return "failed"
