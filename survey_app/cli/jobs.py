"""``relhealth worker`` (run background jobs), ``relhealth jobs check`` (is one running?), and
:func:`run_as_job`: how a command does long work — as the job a page would start, followed
here (its progress printed) while a worker runs it, or run in the command's own process
(``--inline``). One code path: the page's job, the command's job and the inline run are the
same job kind, under the same idempotency key."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import Job, Relationship
from survey_app.services.jobs import (
    job_queue,
    progress_text,
    release_leases,
    run_job,
    submit_job,
    unfinished_job,
    worker_name,
    worker_prefix,
)
from survey_app.texts import Wording

#: How often a followed job is read again, and how long it may wait for a worker before the
#: command says that none seems to be running.
POLL_SECONDS = 0.5
NO_WORKER_HINT_SECONDS = 15.0
#: ``--inline``, the option of every command that runs a job.
INLINE_HELP = "Run the job in this process instead of waiting for a worker to run it."


def inline_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--inline", is_flag=True, help=INLINE_HELP)(command)


def _log_to_stderr() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    root.setLevel(logging.INFO)


@click.command("worker")
@click.option(
    "--threads",
    "-t",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="How many jobs this worker runs at once.",
)
@click.option(
    "--no-periodic",
    is_flag=True,
    help="Leave the minute tick (lease sweeper, schedules) to other workers.",
)
def worker(threads: int, no_periodic: bool) -> None:
    """Run background jobs until stopped (Ctrl-C or SIGTERM).

    The queue is the SQLite file in the instance folder, or Redis when REDIS_URL is set: run
    as many workers, on as many hosts, as the work needs (with Redis and PostgreSQL). Every
    minute one of them takes back the jobs of workers that stopped and runs the schedules.
    On stopping, the jobs this worker was running are handed back for another to resume.
    """
    _log_to_stderr()
    queue = job_queue(current_app._get_current_object())  # type: ignore[attr-defined]
    if queue.huey.immediate:
        raise click.ClickException("JOB_QUEUE_IMMEDIATE is set: jobs run where they start")
    report = queue.sweep()  # what a worker killed before this one left behind
    click.echo(
        f"Worker {worker_prefix()} starting {threads} thread(s) on {type(queue.huey).__name__} "
        f"{queue.huey.name!r}; took back {len(report.requeued)} job(s)",
        err=True,
    )
    queue.consumer(threads, periodic=not no_periodic).run()
    db.session.remove()
    released = release_leases(worker_prefix())
    if released:
        click.echo(f"Handed back job(s) {released} for another worker to resume", err=True)


@click.group("jobs")
def jobs() -> None:
    """Background jobs."""


@jobs.command("check")
@click.option(
    "--wait",
    type=click.FloatRange(1, 3600),
    default=60,
    show_default=True,
    help="Seconds to wait for a worker to run the check.",
)
def check(wait: float) -> None:
    """Run a small job and wait for a worker to finish it: is a worker running?"""
    with write_transaction():
        job_id = submit_job("jobs.check", {"steps": 1}).id
    job = follow(job_id, deadline=time.monotonic() + wait, quiet=True)
    if job is None:
        raise click.ClickException(
            f"no worker finished job {job_id} within {wait:g} s: is `relhealth worker` running "
            "against this database and queue?"
        )
    click.echo(f"A worker ran job {job_id} (attempts: {job.attempts})")


# ----------------------------------------------------------------------------- commands' jobs


def run_as_job(
    kind: str,
    parameters: dict[str, Any],
    *,
    key: str,
    title: Wording | str,
    relationship: Relationship | None = None,
    inline: bool = False,
    refuse_to_join: Callable[[Job], str | None] | None = None,
) -> Job:
    """Start the job (or join the unfinished one holding ``key``: a page's, or another
    command's), then follow it to its end, printing its progress; run it in this process with
    ``inline``. Returns the succeeded job; a failed or cancelled one ends the command with its
    error (exit 1).

    ``refuse_to_join`` is asked about an unfinished job holding ``key``: a message ends the
    command with it (exit 1), having queued nothing — for a job that would not do what was
    asked, such as a recompute with another k."""
    with write_transaction():
        running = unfinished_job(key)
        refusal = None if running is None or refuse_to_join is None else refuse_to_join(running)
        if refusal:
            raise click.ClickException(refusal)
        job_id = submit_job(kind, parameters, relationship=relationship, key=key, title=title).id
    if running is not None:
        click.echo(
            f"Job {job_id} was already doing this ({running.title_text}): following it", err=True
        )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    here = None
    if inline:
        here = threading.Thread(target=_run_here, args=(app, job_id), name=f"job-{job_id}")
        here.start()
    try:
        job = follow(job_id)
    except KeyboardInterrupt:
        if here is not None:
            release_leases(worker_prefix())  # its work so far rolls back; a worker resumes it
        click.echo(f"Stopped following job {job_id}: a worker carries on with it", err=True)
        raise
    finally:
        if here is not None:
            here.join()
    assert job is not None
    if job.state != "succeeded":
        raise click.ClickException(f"job {job_id} {job.state}: {job.error_text or job.state_text}")
    return job


def _run_here(app: Flask, job_id: int) -> None:
    with app.app_context():
        run_job(job_id, owner=worker_name())
        db.session.remove()


def follow(job_id: int, *, deadline: float | None = None, quiet: bool = False) -> Job | None:
    """Read job ``job_id`` until it has finished (``None`` if ``deadline`` passes first),
    printing each new progress line to standard error unless ``quiet``."""
    started = time.monotonic()
    said = None
    hinted = quiet
    while deadline is None or time.monotonic() < deadline:
        db.session.rollback()  # a fresh read each time: never hold a snapshot the worker waits on
        job = db.session.get(Job, job_id)
        assert job is not None
        db.session.refresh(job)
        line = _progress_line(job)
        if not quiet and line != said and line:
            click.echo(line, err=True)
            said = line
        if job.finished:
            return job
        if (
            not hinted
            and job.state == "queued"
            and time.monotonic() - started > NO_WORKER_HINT_SECONDS
        ):
            click.echo(
                f"Job {job_id} is waiting for a worker: is `relhealth worker` running? (--inline "
                "runs it in this process)",
                err=True,
            )
            hinted = True
        time.sleep(POLL_SECONDS)
    return None


def _progress_line(job: Job) -> str | None:
    figures = progress_text(job.kind, job.progress_done, job.progress_total)
    parts = [p for p in (figures, job.message_text) if p]
    return f"Job {job.id}: " + "; ".join(parts) if parts else None


COMMANDS = (worker, jobs)
