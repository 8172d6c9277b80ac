"""Real workers: ``relhealth worker`` processes on each queue back-end (huey on an SQLite file
in the instance folder, and on Redis at ``REDIS_URL`` or 127.0.0.1:6379), a worker killed
with SIGKILL mid-job whose job a restarted worker resumes, and ``scripts/run.py`` (``make
run``) starting gunicorn and a worker and stopping both on Ctrl-C.

The workers are started exactly as ``make run`` starts them: the ``relhealth worker`` console
script, with the service's environment variables pointing at this run's database and instance
folder. Redis queues get a name unique to the run, and are emptied afterwards. Without Redis
the Redis cases are skipped, or fail when ``REQUIRE_REDIS`` is set (CI).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import urllib.request

import psutil
import pytest
from sqlalchemy import select

from benchmarks._server import TEST_GUNICORN_ARGS
from survey_app.database import write_transaction
from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import Job
from survey_app.services import jobs
from survey_app.services.accounts.sign_in import ensure_user
from tests.conftest import TEST_SECRET
from tests.factories import csrf_token
from tests.job_support import (
    job_row,
    stop,
    wait_for,
    worker,
)

#: Seconds a worker may take to start (the machine is shared) and a job to finish.

pytestmark = pytest.mark.slow


def start_recompute_from_its_page(app, factory) -> int:  # type: ignore[no-untyped-def]
    """An admin starts a recompute of a relationship with two closed waves: the job's id."""
    rel = factory.relationship()
    rel_id = rel.id
    factory.wave(rel, "2024-Q1", state="closed")
    factory.wave(rel, "2024-Q2", state="closed")
    ensure_user(
        "admin.worker@council.example",
        name="Worker admin",
        role="admin",
        password="worker passphrase 1",
    )
    db.session.commit()
    client = app.test_client()
    form = client.get("/sign-in").get_data(as_text=True)
    client.post(
        "/sign-in",
        data={"csrf_token": csrf_token(form), "email": "admin.worker@council.example",
              "password": "worker passphrase 1"},
    )  # fmt: skip
    page = client.get(f"/jobs/recompute/{rel_id}").get_data(as_text=True)
    started = client.post(f"/jobs/recompute/{rel_id}", data={"csrf_token": csrf_token(page)})
    return int(started.location.rsplit("/", 1)[1])


def test_real_workers_run_jobs_and_one_killed_mid_job_is_resumed_by_the_next(
    app, factory, queue, spawn
):
    # A recompute started from its page waits in the queue until a worker starts.
    recompute = start_recompute_from_its_page(app, factory)
    assert job_row(recompute).state == "queued"
    first = worker(spawn, queue, "first-worker")
    wait_for(lambda: job_row(recompute).finished, "the worker to finish the recompute")
    job = job_row(recompute)
    assert (job.state, job.progress_done, job.progress_total) == ("succeeded", 2, 2)

    # A long job: 30 steps, a tenth of a second each, committed one by one; killed mid-way.
    with write_transaction():
        job_id = jobs.submit_job("jobs.check", {"steps": 30, "pause": 0.1}).id
    wait_for(lambda: (job_row(job_id).checkpoint or {}).get("done", 0) >= 5, "5 steps done")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    killed = job_row(job_id)
    done_at_kill = killed.checkpoint["done"]
    assert killed.state == "running" and killed.lease_owner.split(":")[1] == str(first.pid)
    assert done_at_kill < 30

    # Its lease runs out (2 s, no heartbeat any more); the next worker takes the job back.
    wait_for(lambda: job_row(job_id).lease_expires_at < utcnow(), "the lease to run out", 10)
    second = worker(spawn, queue, "second-worker")
    wait_for(lambda: job_row(job_id).finished, "the restarted worker to finish the job")
    job = job_row(job_id)
    assert job.state == "succeeded" and job.attempts == 2
    starts = job.result["starts"]
    assert starts[0] == 0 and starts[1] >= done_at_kill  # resumed, not started again
    assert (job.progress_done, job.progress_total) == (30, 30)
    assert stop(second) == 0  # Ctrl-C: a clean stop, nothing left running
    assert db.session.scalars(select(Job).where(Job.state == "running")).all() == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children(pid: int) -> list[int]:
    return [c.pid for c in psutil.Process(pid).children(recursive=True)]


def test_make_run_serves_and_works_and_ctrl_c_stops_everything(app, spawn, tmp_path):
    app.config.update(JOB_QUEUE_IMMEDIATE=False)  # the SQLite queue in the instance folder
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "RELHEALTH_INSTANCE_PATH": app.instance_path,
        "SECRET_KEY": TEST_SECRET,
        "REDIS_URL": "",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_CMD_ARGS": " ".join(TEST_GUNICORN_ARGS),
        "PYTHONUNBUFFERED": "1",
    }
    supervisor = spawn([sys.executable, "scripts/run.py", "--threads", "1"], env, "run")

    def serving() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:  # noqa: S310
                return r.status == 200
        except OSError:
            assert supervisor.poll() is None, "scripts/run.py stopped"
            return False

    wait_for(serving, "gunicorn to answer")
    with write_transaction():
        job_id = jobs.submit_job("jobs.check", {"steps": 2}).id
    wait_for(lambda: job_row(job_id).state == "succeeded", "the worker to run a job")
    children = _children(supervisor.pid)
    assert len(children) >= 3  # the worker, gunicorn's arbiter and its one web worker
    assert stop(supervisor, signal.SIGINT) == 0
    wait_for(lambda: not any(psutil.pid_exists(c) for c in children), "every child to stop", 20)
