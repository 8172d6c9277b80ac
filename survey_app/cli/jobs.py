"""``relhealth worker`` (run background jobs) and ``relhealth jobs check`` (is one running?)."""

from __future__ import annotations

import logging
import time

import click
from flask import current_app

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import Job
from survey_app.services.jobs import job_queue, release_leases, submit_job, worker_prefix


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
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        db.session.rollback()  # a fresh read of the job each time
        job = db.session.get(Job, job_id)
        assert job is not None
        if job.finished:
            if job.state != "succeeded":
                raise click.ClickException(f"job {job_id} {job.state}: {job.error}")
            click.echo(f"A worker ran job {job_id} (attempts: {job.attempts})")
            return
        time.sleep(0.2)
    raise click.ClickException(
        f"no worker finished job {job_id} within {wait:g} s: is `relhealth worker` running "
        "against this database and queue?"
    )


COMMANDS = (worker, jobs)
