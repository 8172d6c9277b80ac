"""Background jobs: long work run by a worker, with its progress and outcome in the database.

The package's rooms, from the bottom up:

``registry``   the kinds of job (``register(name, run=..., title=...)``) and the minute tick hooks
``lifecycle``  a job's rows: submit (idempotent), claim under a lease, sweep, finish, retry, cancel
``running``    run one claimed job: its context (progress, checkpoint), heartbeat and outcome
``kinds``      the kinds the service runs (``results.recompute``, ``jobs.check``)
``schedule``   the minute tick that opens, reminds and closes waves on their schedule
``queue``      huey (SQLite file or Redis), which only wakes workers; ``init_app``

Start a job from a page with ``survey_app.web.jobs.start_job`` (POST → redirect → GET), from
code with :func:`submit_job` and a commit; ``relhealth worker`` runs them. Other packages
import from this face, not from the rooms.
"""

from survey_app.services.jobs import (
    kinds,  # noqa: F401  (registers the service's job kinds)
    schedule,  # noqa: F401  (registers the schedule's tick)
)
from survey_app.services.jobs.kinds import recompute_key
from survey_app.services.jobs.lifecycle import (
    ClaimedJob,
    LeaseLost,
    SweepReport,
    cancel_job,
    claim_job,
    idempotency_key,
    release_leases,
    retry_job,
    submit_job,
    sweep,
    unfinished_job,
    visible_job,
)
from survey_app.services.jobs.queue import JobQueue, init_app, job_queue, make_huey
from survey_app.services.jobs.registry import (
    JobKind,
    job_kind,
    job_kinds,
    on_tick,
    progress_text,
    register,
)
from survey_app.services.jobs.running import JobContext, run_job, worker_name, worker_prefix
from survey_app.services.jobs.schedule import (
    close_job_key,
    close_job_title,
    import_title,
    next_event,
    recompute_title,
    round_job_key,
    round_job_title,
    run_schedules,
)

__all__ = [
    "ClaimedJob",
    "JobContext",
    "JobKind",
    "JobQueue",
    "LeaseLost",
    "SweepReport",
    "cancel_job",
    "close_job_key",
    "close_job_title",
    "claim_job",
    "idempotency_key",
    "import_title",
    "init_app",
    "job_kind",
    "job_kinds",
    "job_queue",
    "make_huey",
    "next_event",
    "on_tick",
    "progress_text",
    "recompute_key",
    "recompute_title",
    "register",
    "release_leases",
    "retry_job",
    "round_job_key",
    "round_job_title",
    "run_schedules",
    "run_job",
    "submit_job",
    "sweep",
    "unfinished_job",
    "visible_job",
    "worker_name",
    "worker_prefix",
]
