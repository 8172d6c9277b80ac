"""Background jobs in one process: submitting (idempotent), the lease (claim, heartbeat,
sweeper, fencing), checkpoints and resuming, failures, retry, cancel, and the
``results.recompute`` kind against ``relhealth recompute``'s own results.

Jobs run in the test process: ``run_job`` is called directly (as a worker thread would), or
by the app's queue in huey's immediate mode when a transaction commits. Real worker processes,
each queue back-end and ``kill -9`` are in ``test_jobs_worker.py``. Runs on SQLite and, with
``DATABASE_URL`` set, on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from instruments import find_instrument
from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import Answer, AuditEvent, Job, Response, ResultTable
from survey_app.models.job import utcnow
from survey_app.services import ServiceError, jobs, results
from survey_app.services.jobs import kinds as job_kinds
from survey_app.services.jobs import registry
from survey_app.services.jobs.lifecycle import PENDING_WAKES, record_checkpoint
from survey_app.services.waves import close_wave, create_wave, open_wave
from tests.job_support import Killed, expire_lease, fresh, submit, sweep

# ----------------------------------------------------------------------------- test kinds

#: What the test kinds saw, by name: reset by the ``seen`` fixture.
SEEN: dict[str, list] = {}
GATE = threading.Event()


def _note(name: str, value: object) -> None:
    SEEN.setdefault(name, []).append(value)


def fails_once(ctx, *, steps: int):  # type: ignore[no-untyped-def]
    """Checkpoints each step; on its first attempt refuses (a ServiceError) after step 2."""
    done = (ctx.resume_from or {}).get("done", 0)
    _note("fails_once.start", done)
    for step in range(done, steps):
        with write_transaction():
            ctx.checkpoint({"done": step + 1})
        if ctx.attempt == 1 and step == 1:
            raise ServiceError("the mail server refused the connection")
    return {"summary": "ok"}


def breaks(ctx):  # type: ignore[no-untyped-def]
    audit_row(ctx.job_id, "breaks")
    raise KeyError("an internal detail the page must not show")


def writes_then_waits(ctx):  # type: ignore[no-untyped-def]
    """Writes an audit row (uncommitted), reports progress, then waits for the test."""
    audit_row(ctx.job_id, "writes_then_waits")
    ctx.progress(3, 10, "Three done")
    assert GATE.wait(10)
    ctx.progress(4, 10, "Four done")  # LeaseLost here if the job was taken or cancelled
    return {"summary": "finished"}


def waits_then_writes(ctx):  # type: ignore[no-untyped-def]
    """Reports progress, waits for the test, then writes an audit row and finishes."""
    ctx.progress(3, 10, "Three done")
    assert GATE.wait(10)
    audit_row(ctx.job_id, "waits_then_writes")
    return {"summary": "finished"}


def reports_then_waits(ctx, *, seconds: float):  # type: ignore[no-untyped-def]
    """Reports progress outside any transaction, then waits ``seconds`` (or the gate)."""
    ctx.progress(3, 10, "Three done")
    GATE.wait(seconds)
    return {"summary": "waited"}


def audit_row(job_id: int, action: str) -> None:
    db.session.add(AuditEvent(action=action, actor="test", detail={"job": job_id}))
    db.session.flush()


for _name, _run in (
    ("tests.fails_once", fails_once),
    ("tests.breaks", breaks),
    ("tests.writes_then_waits", writes_then_waits),
    ("tests.waits_then_writes", waits_then_writes),
    ("tests.reports_then_waits", reports_then_waits),
):
    jobs.register(_name, run=_run, title=f"Test {_name}")


@pytest.fixture
def seen():  # type: ignore[no-untyped-def]
    SEEN.clear()
    GATE.clear()
    yield SEEN
    GATE.set()


# ----------------------------------------------------------------------------- submitting


def test_two_submissions_with_one_key_make_one_job_until_it_finishes(app, woken):
    key = jobs.idempotency_key("jobs.check", {"steps": 1}, "user:1")
    first = submit("jobs.check", {"steps": 1}, key=key)
    assert submit("jobs.check", {"steps": 1}, key=key) == first
    assert woken == [first]  # the second submission woke nobody
    assert jobs.run_job(first) == "succeeded"
    assert fresh(first).idempotency_key == key  # kept for the record, no longer holding it
    again = submit("jobs.check", {"steps": 1}, key=key)
    assert again != first
    assert submit("jobs.check", {"steps": 1}) != submit("jobs.check", {"steps": 1})  # no key


def test_two_submissions_at_the_same_moment_make_one_job(app, woken):
    key = jobs.idempotency_key("jobs.check", {}, "user:1")
    barrier = threading.Barrier(4)
    got: list[int] = []

    def click() -> None:
        with app.app_context():
            barrier.wait()
            got.append(submit("jobs.check", key=key))

    clicks = [threading.Thread(target=click) for _ in range(4)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()
    assert len(got) == 4 and len(set(got)) == 1
    assert db.session.scalars(select(Job.id)).all() == [got[0]]


def test_the_key_is_unique_among_unfinished_jobs_in_the_database_itself(app, woken):
    key = "jobs.check:same"
    submit("jobs.check", key=key)
    db.session.add(Job(kind="jobs.check", title="t", parameters={}, idempotency_key=key))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    db.session.add(
        Job(kind="jobs.check", title="t", parameters={}, idempotency_key=key, state="failed")
    )
    db.session.commit()  # a finished job may share it


def test_a_job_is_woken_only_when_its_transaction_commits(app, woken):
    job = jobs.submit_job("jobs.check", {"steps": 1})
    assert woken == [] and db.session.info[PENDING_WAKES] == [job.id]
    db.session.rollback()
    assert woken == [] and PENDING_WAKES not in db.session.info
    assert db.session.scalars(select(Job)).all() == []
    job = jobs.submit_job("jobs.check", {"steps": 1})
    db.session.commit()
    assert woken == [job.id]


@pytest.mark.parametrize(
    ("kind", "parameters", "message"),
    [
        ("no.such.kind", {}, "there is no kind of job called 'no.such.kind'"),
        ("jobs.check", {"when": object()}, "a job's parameters must be JSON values"),
    ],
)
def test_submitting_refuses_unknown_kinds_and_parameters_that_are_not_json(
    app, woken, kind, parameters, message
):
    with pytest.raises(ServiceError, match=message):
        jobs.submit_job(kind, parameters)
    assert woken == []


def test_in_immediate_mode_a_committed_job_has_run(app):
    job_id = submit("jobs.check", {"steps": 3})
    job = fresh(job_id)
    assert (job.state, job.progress_done, job.progress_total) == ("succeeded", 3, 3)
    assert job.result["starts"] == [0]
    assert job.summary_text == "A worker counted to 3; attempts: 1"
    assert job.lease_owner is None and job.attempts == 1 and job.finished_at is not None


# ----------------------------------------------------------------------------- the lease


def test_a_claimed_job_is_nobody_elses_until_its_lease_runs_out(app, woken):
    job_id = submit("jobs.check")
    claim = {"lease_seconds": 60, "max_attempts": 3}
    first = jobs.claim_job(job_id, "host-a:1:w1", **claim)
    assert first is not None and first.attempt == 1
    assert jobs.claim_job(job_id, "host-b:2:w1", **claim) is None
    assert sweep(app).requeued == ()  # the lease is still good
    expire_lease(job_id)
    second = jobs.claim_job(job_id, "host-b:2:w1", **claim)
    assert second is not None and second.attempt == 2
    job = fresh(job_id)
    assert (job.state, job.lease_owner, job.message) == ("running", "host-b:2:w1", "Resuming")


def test_the_sweeper_requeues_expired_jobs_and_fails_them_after_the_last_attempt(app, woken):
    job_id = submit("jobs.check")
    for attempt in (1, 2):
        assert jobs.claim_job(job_id, f"w{attempt}", lease_seconds=60, max_attempts=2)
        expire_lease(job_id)
        report = sweep(app, max_attempts=2)
        if attempt == 1:
            assert report.requeued == (job_id,) and woken[-1] == job_id
            assert fresh(job_id).state == "queued"
    assert report.failed == (job_id,) and report.requeued == ()
    job = fresh(job_id)
    assert job.state == "failed" and job.finished_at is not None
    assert job.error_text.startswith("The job stopped 2 times before it could finish")
    assert sweep(app).failed == ()  # idempotent


def test_the_sweeper_wakes_a_job_whose_wake_up_was_lost(app, woken):
    job_id = submit("jobs.check")
    assert sweep(app).woken == ()  # it was woken a moment ago
    with write_transaction():
        db.session.execute(
            update(Job).where(Job.id == job_id).values(woken_at=utcnow() - timedelta(minutes=2))
        )
    assert sweep(app).woken == (job_id,)
    assert woken == [job_id, job_id]
    assert sweep(app).woken == ()  # and not again for another lease


def test_a_heartbeat_keeps_a_long_job_from_being_taken_back(app, seen, woken):
    app.config["JOB_LEASE_SECONDS"] = 0.4
    job_id = submit("tests.reports_then_waits", {"seconds": 1.5})
    outcome: list[str | None] = []
    worker = threading.Thread(target=_run_in_context, args=(app, job_id, outcome))
    worker.start()
    readings = []
    began = time.monotonic()
    while worker.is_alive() and time.monotonic() - began < 1.2:
        readings.append(_progress_row(job_id))
        assert sweep(app, lease_seconds=0.4).requeued == ()
        time.sleep(0.1)
    worker.join()
    assert outcome == ["succeeded"]
    assert (3, 10, "Three done") in readings  # progress seen while the job ran


def _run_in_context(app, job_id: int, outcome: list, owner: str | None = None) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        outcome.append(jobs.run_job(job_id, owner=owner))


def _progress_row(job_id: int) -> tuple:
    with db.engine.connect() as conn:
        return tuple(
            conn.execute(
                select(Job.progress_done, Job.progress_total, Job.message).where(Job.id == job_id)
            ).one()
        )


def test_progress_is_written_on_its_own_while_the_work_is_uncommitted(app, seen, woken, dialect):
    if dialect == "sqlite":
        pytest.skip("on SQLite the job's open write transaction holds the one write lock")
    job_id = submit("tests.writes_then_waits")
    outcome: list[str | None] = []
    worker = threading.Thread(target=_run_in_context, args=(app, job_id, outcome))
    worker.start()
    deadline = time.monotonic() + 5
    while _progress_row(job_id)[0] != 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _progress_row(job_id) == (3, 10, "Three done")
    assert _audit_actions() == []  # the work itself is not committed yet
    GATE.set()
    worker.join()
    assert outcome == ["succeeded"] and _audit_actions() == ["writes_then_waits"]


def _audit_actions() -> list[str]:
    with db.engine.connect() as conn:
        return list(
            conn.scalars(
                select(AuditEvent.action).where(AuditEvent.action.startswith("writes_then"))
            )
        )


@pytest.mark.parametrize("how", ["taken back", "cancelled"])
def test_a_worker_that_lost_the_job_commits_none_of_its_work(app, seen, woken, how):
    app.config["JOB_LEASE_SECONDS"] = 30
    job_id = submit("tests.waits_then_writes")
    outcome: list[str | None] = []
    worker = threading.Thread(target=_run_in_context, args=(app, job_id, outcome, "w-old"))
    worker.start()
    deadline = time.monotonic() + 5
    while _progress_row(job_id)[0] != 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    if how == "taken back":  # the old worker stalled past its lease; another took the job
        expire_lease(job_id)
        assert jobs.claim_job(job_id, "w-new", lease_seconds=30, max_attempts=3)
    else:
        jobs.cancel_job(fresh(job_id), actor="test")
        db.session.commit()
    GATE.set()
    worker.join()
    assert outcome == [None]
    job = fresh(job_id)
    if how == "taken back":
        assert (job.state, job.lease_owner, job.attempts) == ("running", "w-new", 2)
    else:
        assert (job.state, job.message) == ("cancelled", "Cancelled")
    written = select(AuditEvent).where(AuditEvent.action == "waits_then_writes")
    assert db.session.scalars(written).all() == []  # its work was rolled back


def test_a_checkpoint_is_refused_once_the_lease_is_gone(app, woken):
    job_id = submit("jobs.check")
    assert jobs.claim_job(job_id, "w1", lease_seconds=60, max_attempts=3)
    expire_lease(job_id)
    assert jobs.claim_job(job_id, "w2", lease_seconds=60, max_attempts=3)
    with pytest.raises(jobs.LeaseLost):
        record_checkpoint(job_id, "w1", {"done": 5})
    db.session.rollback()
    record_checkpoint(job_id, "w2", {"done": 1})
    db.session.commit()
    assert fresh(job_id).checkpoint == {"done": 1}


def test_a_stopping_worker_hands_its_jobs_back_without_counting_the_attempt(app, woken):
    first, second = submit("jobs.check"), submit("jobs.check")
    jobs.claim_job(first, "host:7:Worker-1", lease_seconds=60, max_attempts=3)
    jobs.claim_job(second, "host:70:Worker-1", lease_seconds=60, max_attempts=3)
    assert jobs.release_leases("host:7:") == [first]
    assert jobs.release_leases("hos_:70:") == []  # a prefix, not a LIKE pattern
    job = fresh(first)
    assert (job.state, job.attempts, job.lease_owner) == ("queued", 0, None)
    assert woken[-1] == first and fresh(second).state == "running"


# ----------------------------------------------------------------------------- resuming


def test_a_job_taken_back_resumes_from_its_last_committed_checkpoint(app, woken):
    job_id = submit("jobs.check", {"steps": 5})
    # A first worker got through two steps, committed, and was killed.
    assert jobs.claim_job(job_id, "dead", lease_seconds=60, max_attempts=3)
    with write_transaction():
        record_checkpoint(job_id, "dead", {"done": 2, "starts": [0]})
    expire_lease(job_id)
    assert sweep(app).requeued == (job_id,)
    assert jobs.run_job(job_id) == "succeeded"
    job = fresh(job_id)
    assert job.result["starts"] == [0, 2]  # the second attempt started at step 2
    assert (job.attempts, job.progress_done, job.checkpoint["done"]) == (2, 5, 5)


def test_a_refused_job_fails_with_its_message_and_try_again_carries_on(app, seen, woken):
    job_id = submit("tests.fails_once", {"steps": 4})
    assert jobs.run_job(job_id) == "failed"
    job = fresh(job_id)
    assert job.error == "the mail server refused the connection"
    assert job.checkpoint == {"done": 2}  # the committed steps are kept
    assert jobs.retry_job(job, actor="test").state == "queued"
    db.session.commit()
    assert woken[-1] == job_id
    assert jobs.retry_job(fresh(job_id), actor="test").state == "queued"  # a second click
    assert jobs.run_job(job_id) == "succeeded"
    assert seen["fails_once.start"] == [0, 2]
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["job.submitted", "job.retried"]


def test_an_unexpected_error_fails_the_job_with_a_general_message_and_is_logged(app, woken, caplog):
    job_id = submit("tests.breaks")
    assert jobs.run_job(job_id) == "failed"
    job = fresh(job_id)
    assert job.error_text == (
        "The job stopped because of an unexpected error. Try again; if it fails again, tell "
        f"the service’s support team (job {job_id})."
    )
    assert "internal detail" not in job.error
    assert any(r.exc_info and "tests.breaks" in r.getMessage() for r in caplog.records)
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "breaks")).all() == []


# ----------------------------------------------------------------------------- the minute tick


def test_the_minute_tick_sweeps_then_runs_each_hook_and_a_failing_hook_stops_no_other(
    app, woken, caplog
):
    job_id = submit("jobs.check")
    jobs.claim_job(job_id, "dead", lease_seconds=60, max_attempts=3)
    expire_lease(job_id)
    calls: list[str] = []

    @jobs.on_tick("tests.broken")
    def broken() -> None:
        calls.append("broken")
        audit_row(0, "tick.broken")
        raise RuntimeError("schedule table missing")

    @jobs.on_tick("tests.fine")
    def fine() -> None:
        calls.append("fine")
        audit_row(0, "tick.fine")

    try:
        jobs.job_queue(app).every_minute()
    finally:
        registry._TICKS.pop("tests.broken")
        registry._TICKS.pop("tests.fine")
    assert calls == ["broken", "fine"] and fresh(job_id).state == "queued"
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "tick.fine" in actions and "tick.broken" not in actions  # each in its transaction
    assert any("the 'tests.broken' tick failed" in r.getMessage() for r in caplog.records)


# ----------------------------------------------------------------------------- results.recompute


def fill_wave(wave, rng: np.random.Generator, n: int) -> None:  # type: ignore[no-untyped-def]
    """``n`` responses with random answers (some "don't know"), in bulk."""
    instrument = find_instrument("partnership-health", 1)
    areas = [a.id for a in wave.relationship.service_areas]
    responses, answers = [], []
    for _ in range(n):
        rid = uuid.UUID(bytes=rng.bytes(16), version=4)
        responses.append(
            {
                "id": rid,
                "wave_id": wave.id,
                "instrument_version_id": wave.instrument_version_id,
                "side": str(rng.choice(["client", "supplier"])),
                "service_area_id": int(rng.choice(areas)),
                "role_level": None,
            }
        )
        values = rng.integers(1, 6, size=len(instrument.items))
        dont_know = rng.random(len(instrument.items)) < 0.05
        answers.extend(
            {"response_id": rid, "item_no": j, "value": None if dont_know[j] else int(v)}
            for j, v in enumerate(values)
        )
    db.session.execute(insert(Response.__table__), responses)
    db.session.execute(insert(Answer.__table__), answers)


def history(relationship, n_waves: int, n: int = 24) -> list:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(13)
    waves = []
    for i in range(n_waves):
        wave = create_wave(relationship, f"2023-W{i}")
        open_wave(wave)
        fill_wave(wave, rng, n)
        close_wave(wave)
        db.session.commit()
        waves.append(wave)
    return waves


def stored_tables() -> dict[tuple[int, str], tuple]:
    db.session.rollback()
    return {
        (t.wave_id, t.name): (t.columns, t.rows, t.analysis_version, t.min_cell_size)
        for t in db.session.scalars(select(ResultTable))
    }


def test_the_recompute_job_killed_and_resumed_stores_what_relhealth_recompute_stores(
    app, factory, woken, monkeypatch
):
    relationship = factory.relationship()
    waves = history(relationship, 5)
    rel_id, ids = relationship.id, [w.id for w in waves]
    with write_transaction():  # results as an older analysis left them: all to be rebuilt
        db.session.execute(update(ResultTable).values(rows=[], analysis_version="old"))
    steps: list[tuple[int, int]] = []
    real = results.recompute

    def recompute_step(relationship, wave, *, through):  # type: ignore[no-untyped-def]
        steps.append((wave.id, through.id))
        if len(steps) == 2:
            raise Killed  # the worker dies in its second step, which commits nothing
        return real(relationship, wave, through=through)

    monkeypatch.setattr(job_kinds, "recompute", recompute_step)
    job_id = submit("results.recompute", {"relationship_id": rel_id, "waves_per_step": 2})
    with pytest.raises(Killed):
        jobs.run_job(job_id, owner="dead")
    assert fresh(job_id).checkpoint == {"through": ids[1]}
    expire_lease(job_id)
    assert sweep(app).requeued == (job_id,)
    assert jobs.run_job(job_id) == "succeeded"
    # Attempt 2 carried on after the first committed step: waves 3-4, then 5.
    assert steps == [(ids[0], ids[1]), (ids[2], ids[3]), (ids[2], ids[3]), (ids[4], ids[4])]
    job = fresh(job_id)
    assert (job.progress_done, job.progress_total, job.attempts) == (5, 5, 2)
    assert job.summary_text == f"Closed waves of {relationship.name} rebuilt: 5"
    assert job.result["link"]["values"] == {"relationship_id": rel_id}
    by_job = stored_tables()
    assert all(version == results.ANALYSIS_VERSION for _, _, version, _ in by_job.values())
    results.recompute(db.session.get(type(relationship), rel_id))  # relhealth recompute's way
    db.session.commit()
    assert stored_tables() == by_job


def test_the_recompute_job_of_a_relationship_without_closed_waves_says_so(app, factory, woken):
    relationship = factory.relationship()
    job_id = submit("results.recompute", {"relationship_id": relationship.id})
    assert jobs.run_job(job_id) == "succeeded"
    assert fresh(job_id).summary_text.endswith(
        "has no closed waves: there were no results to rebuild"
    )
    gone = submit("results.recompute", {"relationship_id": 999999})
    assert jobs.run_job(gone) == "failed"
    assert fresh(gone).error_text == "The relationship no longer exists"


def test_recompute_through_a_wave_stops_there_and_refuses_a_wave_after_it(app, factory):
    relationship = factory.relationship()
    waves = history(relationship, 3, n=12)
    before = {
        t.wave_id: t.computed_at
        for t in db.session.scalars(select(ResultTable).where(ResultTable.name == "trends"))
    }
    summary = results.recompute(relationship, waves[0], through=waves[1])
    assert summary.waves == (waves[0].label, waves[1].label)
    db.session.expire_all()
    trends = db.session.scalars(
        select(ResultTable).where(
            ResultTable.relationship_id == relationship.id, ResultTable.name == "trends"
        )
    ).all()
    rebuilt = {t.wave_id for t in trends if t.computed_at != before[t.wave_id]}
    assert rebuilt == {waves[0].id, waves[1].id}  # the later wave keeps its trends until its step
    with pytest.raises(ServiceError, match="comes after wave"):
        results.recompute(relationship, waves[2], through=waves[1])
