"""What the job and mailing tests share (one home, as tests/factories.py is for the rest):
jobs run by hand in the test process (``woken``, ``submit``, ``fresh``, a lease run out, a
sweep, a simulated death), real ``relhealth worker`` processes on each queue back-end
(``queue``, ``spawn``, ``worker``), a real SMTP mailbox (``mailbox``), and an open wave with
a staff list. The fixtures are
registered for every test by ``pytest_plugins`` in tests/conftest.py.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select, update

from survey_app.database import write_transaction
from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import InvitationAddress, Job
from survey_app.services import jobs
from tests.conftest import TEST_SECRET
from tests.factories import STAFF, staff_csv, upload
from tests.smtp_mailbox import serving


class Killed(BaseException):
    """Stands for the worker dying: not an Exception, so nothing in the job catches it."""


@pytest.fixture
def woken(app, monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """The wake-ups the queue sends (and nothing run): a list of job ids."""
    sent: list[int] = []
    monkeypatch.setattr(jobs.job_queue(app), "wake", lambda ids: sent.extend(ids))
    return sent


def fresh(job_id: int) -> Job:
    db.session.rollback()
    job = db.session.get(Job, job_id)
    assert job is not None
    db.session.refresh(job)
    return job


def submit(kind: str, parameters: dict | None = None, **kwargs) -> int:  # type: ignore[no-untyped-def]
    with write_transaction():
        job_id = jobs.submit_job(kind, parameters, **kwargs).id
    return job_id


def send_round_now(wave_id: int, kind: str, **parameters) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """Send a round of ``kind`` for the wave by its job (``mail.round``), which the test queue
    runs in this process as it is submitted; the job's result (``sent``, ``failed``...)."""
    job = fresh(submit("mail.round", {"wave_id": wave_id, "kind": kind, **parameters}))
    assert job.state == "succeeded", job.error
    return job.result


def expire_lease(job_id: int) -> None:
    with write_transaction():
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )


def sweep(app, **kwargs) -> jobs.SweepReport:  # type: ignore[no-untyped-def]
    options = {"lease_seconds": 60.0, "max_attempts": app.config["JOB_MAX_ATTEMPTS"]}
    return jobs.sweep(**(options | kwargs))


ROOT = Path(__file__).resolve().parents[1]


RELHEALTH = str(Path(sys.executable).with_name("relhealth"))


REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
#: How long a test run may hold the Redis database it claimed (a crashed run's claim ends).
REDIS_CLAIM_SECONDS = 3600


PATIENCE = 90


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_db() -> Iterator[str | None]:
    """A Redis database of this test run's own, emptied before and after: the URL, or None
    when Redis does not answer. Runs side by side (the SQLite and PostgreSQL passes, other
    checkouts) each claim a free database number 1-15 with a key in ``REDIS_URL``'s database
    that expires after :data:`REDIS_CLAIM_SECONDS`, so that no run empties another's."""
    if not redis_answers(REDIS_URL):
        yield None
        return
    server = redis.Redis.from_url(REDIS_URL)
    count = int(server.config_get("databases").get("databases", 16))
    token = f"{os.getpid()}:{secrets.token_hex(4)}"
    for number in range(1, count):
        if server.set(f"relhealth-test-db:{number}", token, nx=True, ex=REDIS_CLAIM_SECONDS):
            break
    else:
        pytest.fail(f"every Redis database 1-{count - 1} is claimed by another test run")
    url = f"{REDIS_URL.rsplit('/', 1)[0]}/{number}"
    own = redis.Redis.from_url(url)
    own.flushdb()
    try:
        yield url
    finally:
        own.flushdb()
        if server.get(f"relhealth-test-db:{number}") == token.encode():
            server.delete(f"relhealth-test-db:{number}")


@pytest.fixture(params=["sqlite", "redis"])
def queue(request, app, redis_db) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    """The app's queue made real (not immediate) on one back-end; the workers' environment."""
    redis_url = ""
    if request.param == "redis":
        if redis_db is None:
            if os.environ.get("REQUIRE_REDIS"):
                pytest.fail(f"Redis does not answer at {REDIS_URL} (REQUIRE_REDIS is set)")
            pytest.skip(f"Redis does not answer at {REDIS_URL}")
        redis_url = redis_db
    name = f"relhealth-test-{secrets.token_hex(6)}"
    app.config.update(JOB_QUEUE_IMMEDIATE=False, JOB_QUEUE_NAME=name, REDIS_URL=redis_url)
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "RELHEALTH_INSTANCE_PATH": app.instance_path,
        "SECRET_KEY": TEST_SECRET,
        "REDIS_URL": redis_url,
        "JOB_QUEUE_NAME": name,
        "JOB_QUEUE_IMMEDIATE": "0",
        "JOB_LEASE_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
    }
    yield env
    jobs.job_queue(app).huey.storage.flush_all()  # this run's queue only (its own name)


@pytest.fixture
def spawn(tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:  # type: ignore[type-arg]
    """Start a process with its output in a log file; whatever is still running at the end
    is killed (and its log shown if the test failed)."""
    started: list[tuple[subprocess.Popen, Path]] = []  # type: ignore[type-arg]

    def start(command: list[str], env: dict[str, str], name: str) -> subprocess.Popen:  # type: ignore[type-arg]
        log = tmp_path / f"{name}.log"
        with log.open("wb") as output:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
            )
        started.append((process, log))
        return process

    yield start
    for process, log in started:
        if process.poll() is None:
            process.kill()
            process.wait()
        print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")


def worker(spawn, env: dict[str, str], name: str = "worker") -> subprocess.Popen:  # type: ignore[no-untyped-def, type-arg]
    return spawn([RELHEALTH, "worker", "--threads", "2"], env, name)


def wait_for(condition: Callable[[], object], what: str, timeout: float = PATIENCE) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def job_row(job_id: int) -> Job:
    db.session.rollback()  # a fresh read: never hold a snapshot the worker must wait for
    job = db.session.get(Job, job_id)
    assert job is not None
    db.session.refresh(job)
    return job


def stop(process: subprocess.Popen, how: signal.Signals = signal.SIGINT) -> int:  # type: ignore[type-arg]
    process.send_signal(how)
    return process.wait(30)


def open_wave_with_staff(admin, factory, people=STAFF) -> int:  # type: ignore[no-untyped-def]
    relationship = factory.relationship()
    wave_id = factory.wave(relationship, "2024-Q1", state="open").id
    assert upload(admin, wave_id, staff_csv(people)).status_code == 200
    return wave_id


def addresses() -> list[InvitationAddress]:
    db.session.expire_all()
    return list(db.session.scalars(select(InvitationAddress).order_by(InvitationAddress.id)))


@pytest.fixture
def mailbox(app):  # type: ignore[no-untyped-def]
    """A real SMTP server (aiosmtpd) the app sends through (tests/smtp_mailbox.py)."""
    with serving(app) as box:
        yield box
