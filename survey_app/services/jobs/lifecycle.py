"""A job's life in the database: submitted, claimed under a lease, taken back when the lease
runs out, finished, retried or cancelled.

Every statement a worker makes about a job it runs is *fenced*: it changes the row only where
``lease_owner`` is still that worker and the job still ``running``, and raises
:class:`LeaseLost` when no row matched. A worker whose lease was taken back (it stalled past
the lease, or the job was cancelled) can therefore neither report progress nor commit work.

Submitting, retrying and taking back a job ask for a wake-up (:data:`PENDING_WAKES` in the
session's ``info``); the queue sends it once the transaction commits, so that a worker never
looks for a job that is not there yet. A lost wake-up is not lost work: the sweeper wakes a
job that has waited longer than a lease.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from survey_app.database import write_transaction
from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import UNFINISHED_STATES, Job, Relationship, User
from survey_app.services import ServiceError, audit
from survey_app.services.accounts.scope import scope_of
from survey_app.services.jobs.registry import job_kind
from survey_app.texts import N_, Wording, stored_text, wording

#: ``session.info`` key: ids of jobs to wake once the transaction commits.
PENDING_WAKES = "relhealth_jobs_to_wake"
#: The most a job's progress message or error keeps (the column's size).
MESSAGE_LENGTH = 300
#: The most a job's title keeps (the column's size).
TITLE_LENGTH = 200
#: How many expired leases one sweep takes back (the next sweep takes the rest).
SWEEP_BATCH = 100


class LeaseLost(RuntimeError):
    """This worker no longer holds the job: its lease was taken back, or the job cancelled."""


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """What a worker needs of a job it has just claimed (read in the claiming transaction)."""

    id: int
    kind: str
    parameters: dict[str, Any]
    checkpoint: Any
    attempt: int
    requested_by_id: int | None


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did: jobs queued again, jobs failed (too many attempts), jobs woken."""

    requeued: tuple[int, ...]
    failed: tuple[int, ...]
    woken: tuple[int, ...]


# ----------------------------------------------------------------------------- submitting


def idempotency_key(kind: str, parameters: dict[str, Any], *scope: object) -> str:
    """A key for "the same job": its kind, its parameters and ``scope`` (e.g. who asks)."""
    text = json.dumps([kind, parameters, [str(s) for s in scope]], sort_keys=True, default=str)
    return f"{kind}:{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def unfinished_job(key: str) -> Job | None:
    """The queued or running job holding ``key``, if there is one."""
    return db.session.scalar(
        select(Job).where(Job.idempotency_key == key, Job.state.in_(UNFINISHED_STATES))
    )


def submit_job(
    kind: str,
    parameters: dict[str, Any] | None = None,
    *,
    requested_by: User | None = None,
    relationship: Relationship | None = None,
    key: str | None = None,
    title: Wording | str | None = None,
) -> Job:
    """Queue a job of ``kind`` — or return the unfinished job that already holds ``key``.

    Parameters
    ----------
    kind : str
        A registered kind (:func:`~survey_app.services.jobs.registry.register`).
    parameters : dict, optional
        JSON values passed to the kind's ``run`` as keyword arguments.
    requested_by : User, optional
        Who asked (they, and admins, may watch it); ``None`` for the command line.
    relationship : Relationship, optional
        The relationship the job works on, if any.
    key : str, optional
        Two submissions with the same key while the first is unfinished start one job (see
        :func:`idempotency_key`). ``None``: every submission is a new job.
    title : wording or str, optional
        What the job does, for its page (default: the kind's title), stored as a
        :func:`~survey_app.texts.wording` so that each reader reads it in their language.

    Returns
    -------
    Job
        Flushed; woken when the caller commits. On SQLite call it inside
        :func:`~survey_app.database.write_transaction`, so that two submissions serialise.
    """
    spec = job_kind(kind)
    parameters = dict(parameters or {})
    try:
        json.dumps(parameters)
    except (TypeError, ValueError) as exc:
        raise ServiceError(f"a job's parameters must be JSON values ({exc})") from exc
    if key is not None and (existing := unfinished_job(key)) is not None:
        return existing
    now = utcnow()
    job = Job(
        kind=kind,
        title=stored_text(title or spec.title, TITLE_LENGTH),
        parameters=parameters,
        state="queued",
        requested_by_id=requested_by.id if requested_by is not None else None,
        relationship_id=relationship.id if relationship is not None else None,
        idempotency_key=key,
        created_at=now,
        woken_at=now,
    )
    try:
        with db.session.begin_nested():  # two clicks at once: the second finds the first
            db.session.add(job)
    except IntegrityError:
        existing = unfinished_job(key) if key is not None else None
        if existing is None:
            raise
        return existing
    audit.record("job.submitted", actor=requested_by or "cli", job=job.id, kind=kind)
    wake_after_commit(job.id)
    return job


def visible_job(job_id: int, user: User) -> Job | None:
    """The job, if ``user`` may watch it (they asked for it, or they are an admin of its
    relationship — service-wide for a job of no relationship)."""
    job = db.session.get(Job, job_id)
    if job is None:
        return None
    if job.requested_by_id == user.id or scope_of(user, {"admin"}).allows(job.relationship_id):
        return job
    return None


def wake_after_commit(job_id: int) -> None:
    db.session.info.setdefault(PENDING_WAKES, []).append(job_id)


def retry_job(job: Job, *, actor: User | str) -> Job:
    """Queue a failed job again, resuming from its last checkpoint; any other job as it is.

    If another unfinished job holds the same key meanwhile, that job is returned instead.
    """
    if job.state != "failed":
        return job
    if job.idempotency_key and (other := unfinished_job(job.idempotency_key)) is not None:
        return other
    job.state = "queued"
    job.error = job.result = job.finished_at = None
    job.lease_owner = job.lease_expires_at = None
    job.attempts = 0
    job.message = N_("Waiting to start again")
    job.woken_at = job.updated_at = utcnow()
    db.session.flush()
    audit.record("job.retried", actor=actor, job=job.id, kind=job.kind)
    wake_after_commit(job.id)
    return job


def cancel_job(job: Job, *, actor: User | str) -> Job:
    """Stop a queued or running job (its worker stops at its next progress report, and its
    uncommitted work is rolled back); a finished job is left as it is."""
    if job.state not in UNFINISHED_STATES:
        return job
    job.state = "cancelled"
    job.lease_owner = job.lease_expires_at = None
    job.finished_at = job.updated_at = utcnow()
    job.message = N_("Cancelled")
    db.session.flush()
    audit.record("job.cancelled", actor=actor, job=job.id, kind=job.kind)
    return job


# ----------------------------------------------------------------------------- the lease


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        Job.state == "queued",
        and_(Job.state == "running", Job.lease_expires_at < now),
    )


def claim_job(
    job_id: int, owner: str, *, lease_seconds: float, max_attempts: int
) -> ClaimedJob | None:
    """Take the job for ``owner`` if it is queued (or its worker's lease has run out), in a
    transaction of its own; ``None`` when another worker has it or it has ended.

    The row is read ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (a job whose row another worker
    is writing is left to it) and under the write lock on SQLite.
    """
    now = utcnow()
    with write_transaction():
        job = db.session.scalar(
            select(Job).where(Job.id == job_id, _claimable(now)).with_for_update(skip_locked=True)
        )
        if job is None:
            return None
        if job.state == "running" and not _take_back(job, now, max_attempts):
            return None
        job.state = "running"
        job.lease_owner = owner[:200]
        job.lease_expires_at = now + timedelta(seconds=lease_seconds)
        job.attempts += 1
        job.started_at = job.started_at or now
        job.updated_at = now
        if job.attempts > 1:
            job.message = N_("Resuming")
        claimed = ClaimedJob(
            job.id, job.kind, dict(job.parameters), job.checkpoint, job.attempts,
            job.requested_by_id,
        )  # fmt: skip
    return claimed


def _take_back(job: Job, now: datetime, max_attempts: int) -> bool:
    """Queue again a running job whose lease ran out; fail it after ``max_attempts``.
    Returns whether it may run again."""
    job.lease_owner = job.lease_expires_at = None
    job.updated_at = now
    if job.attempts >= max_attempts:
        job.state = "failed"
        job.finished_at = now
        job.error = stored_text(
            wording(
                N_(
                    "The job stopped %(count)s times before it could finish (its worker was "
                    "stopped or ran out of memory). Try again; if it stops again, tell the "
                    "service’s support team (job %(job)s)."
                ),
                count=job.attempts,
                job=job.id,
            )
        )
        return False
    job.state = "queued"
    job.message = N_("Waiting to resume: the worker running it stopped")
    return True


def sweep(*, lease_seconds: float, max_attempts: int, wake_waiting: bool = True) -> SweepReport:
    """Take back every running job whose lease has run out and queue it again (or fail it
    after ``max_attempts``), and wake queued jobs that have waited longer than a lease.

    Idempotent, and safe for several workers at once: rows are read ``FOR UPDATE SKIP
    LOCKED`` on PostgreSQL, under the write lock on SQLite.
    """
    now = utcnow()
    requeued: list[int] = []
    failed: list[int] = []
    woken: list[int] = []
    with write_transaction():
        expired = db.session.scalars(
            select(Job)
            .where(Job.state == "running", Job.lease_expires_at < now)
            .order_by(Job.id)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for job in expired:
            (requeued if _take_back(job, now, max_attempts) else failed).append(job.id)
            job.woken_at = now
        if wake_waiting:
            waiting = db.session.scalars(
                select(Job)
                .where(
                    Job.state == "queued",
                    Job.woken_at < now - timedelta(seconds=lease_seconds),
                )
                .order_by(Job.id)
                .limit(SWEEP_BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            for job in waiting:
                job.woken_at = now
                woken.append(job.id)
        for job_id in (*requeued, *woken):
            wake_after_commit(job_id)
    return SweepReport(tuple(requeued), tuple(failed), tuple(woken))


def release_leases(owner_prefix: str) -> list[int]:
    """Queue again the jobs held by workers whose names start with ``owner_prefix`` (a worker
    shutting down), without counting the attempt; they are woken for another worker."""
    released = []
    with write_transaction():
        held = db.session.scalars(
            select(Job)
            .where(
                Job.state == "running", Job.lease_owner.startswith(owner_prefix, autoescape=True)
            )
            .with_for_update(skip_locked=True)
        ).all()
        for job in held:
            job.state = "queued"
            job.lease_owner = job.lease_expires_at = None
            job.attempts = max(job.attempts - 1, 0)
            job.message = N_("Waiting to resume: the worker running it was stopped")
            job.woken_at = job.updated_at = utcnow()
            released.append(job.id)
            wake_after_commit(job.id)
    return released


# ----------------------------------------------------------------------------- fenced writes


def _fenced(job_id: int, owner: str):  # type: ignore[no-untyped-def]
    return (
        update(Job)
        .where(Job.id == job_id, Job.lease_owner == owner, Job.state == "running")
        .execution_options(synchronize_session=False)
    )


def renew_lease_statement(
    job_id: int, owner: str, *, lease_seconds: float, progress: dict[str, Any] | None = None
):  # type: ignore[no-untyped-def]
    """The UPDATE a heartbeat runs on its own connection: the lease pushed forward, and the
    latest progress (``progress_done``, ``progress_total``, ``message``) if any."""
    now = utcnow()
    values: dict[str, Any] = {
        "lease_expires_at": now + timedelta(seconds=lease_seconds),
        "updated_at": now,
    }
    values.update(progress or {})
    return _fenced(job_id, owner).values(**values)


def record_checkpoint(job_id: int, owner: str, state: Any) -> None:
    """Write ``state`` as the job's checkpoint in the current transaction (it becomes true
    when the work beside it commits); :class:`LeaseLost` if the job is no longer ours."""
    result = db.session.execute(_fenced(job_id, owner).values(checkpoint=state))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(f"job {job_id} is no longer held by {owner}")


def finish_job(
    job_id: int,
    owner: str,
    state: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    progress: dict[str, Any] | None = None,
) -> None:
    """End the job in the current transaction (``succeeded`` commits with the job's last
    work); :class:`LeaseLost` if the job is no longer ours."""
    now = utcnow()
    values: dict[str, Any] = {
        "state": state,
        "result": result,
        "error": error,
        "lease_owner": None,
        "lease_expires_at": None,
        "finished_at": now,
        "updated_at": now,
    }
    values.update(progress or {})
    done = db.session.execute(_fenced(job_id, owner).values(**values))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLost(f"job {job_id} is no longer held by {owner}")


def short(text: Wording | str | None) -> str | None:
    """A progress message (a wording, or a fixed text marked with ``N_``) as its column keeps
    it (:func:`~survey_app.texts.stored_text`)."""
    return stored_text(text, MESSAGE_LENGTH)
