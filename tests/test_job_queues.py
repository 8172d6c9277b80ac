"""The queue on each back-end, in the test process: huey on an SQLite file in the instance
folder, and on Redis (a database of the run's own, ``tests/job_support.py``). A committed
submission puts one wake-up on the queue and a rolled-back one none; a worker's task runs the
job; the sweeper wakes a job whose wake-up was lost, and only when the queue is empty.

The same jobs in real ``relhealth worker`` processes, one killed: ``test_jobs_worker.py``.
"""

from __future__ import annotations

from datetime import timedelta

from huey import RedisHuey, SqliteHuey
from sqlalchemy import update

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import Job
from survey_app.models.job import utcnow
from survey_app.services import jobs
from tests.job_support import job_row


def run_next(queue: jobs.JobQueue) -> None:
    """What a consumer thread does with the next message."""
    task = queue.huey.dequeue()
    assert task is not None
    queue.huey.execute(task)


def test_a_committed_job_is_woken_through_the_queue_and_run_by_its_task(app, queue):
    backend = jobs.job_queue(app)
    assert isinstance(backend.huey, RedisHuey if queue["REDIS_URL"] else SqliteHuey)
    assert not backend.huey.immediate and backend.waiting_messages() == 0
    with write_transaction():
        job_id = jobs.submit_job("jobs.check", {"steps": 3}).id
    assert backend.waiting_messages() == 1  # sent after the commit
    try:
        with write_transaction():
            jobs.submit_job("jobs.check", {"steps": 1})
            raise RuntimeError("the request failed")
    except RuntimeError:
        pass
    assert backend.waiting_messages() == 1  # a rolled-back submission wakes nobody
    run_next(backend)
    job = job_row(job_id)
    assert (job.state, job.progress_done, job.attempts) == ("succeeded", 3, 1)
    assert backend.waiting_messages() == 0


def test_the_sweeper_wakes_a_job_whose_wake_up_was_lost_once_the_queue_is_empty(app, queue):
    backend = jobs.job_queue(app)
    with write_transaction():
        lost = jobs.submit_job("jobs.check", {"steps": 1}).id
        db.session.execute(  # queued longer than a lease ago
            update(Job).where(Job.id == lost).values(woken_at=utcnow() - timedelta(hours=1))
        )
    assert backend.waiting_messages() == 1
    assert backend.sweep().woken == ()  # a message still waits: a worker is on its way
    backend.huey.flush()  # Redis restarted: the message is gone
    assert backend.sweep().woken == (lost,)
    assert backend.waiting_messages() == 1
    run_next(backend)
    assert job_row(lost).state == "succeeded"
