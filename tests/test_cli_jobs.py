"""Commands that do long work run it as the job a page starts (one code path): ``relhealth
recompute`` follows the ``results.recompute`` job, or runs it in its own process with
``--inline``; a command that finds the same job already unfinished (a page's) follows that
one instead of starting a second.

Jobs run in the test process (huey's immediate mode), or — with the ``woken`` fixture, which
keeps the queue from running anything — only where ``--inline`` runs them.
"""

from __future__ import annotations

from sqlalchemy import select

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import Job, ResultTable, Wave
from survey_app.services import jobs
from survey_app.services.relationships import all_relationships


def recompute_jobs() -> list[Job]:
    db.session.rollback()
    return list(db.session.scalars(select(Job).where(Job.kind == "results.recompute")))


def test_relhealth_recompute_runs_the_pages_job_kind(app, runner, factory):
    rel = factory.relationship()
    factory.wave(rel, "2024-Q1", state="closed")
    factory.wave(rel, "2024-Q2", state="closed")
    rel_id, name = rel.id, rel.name
    out = runner.invoke(args=["recompute", "--relationship", name])
    assert out.exit_code == 0, out.output
    assert f"Rebuilt the results of 2 closed waves of {name}" in out.output
    (job,) = recompute_jobs()
    assert (job.state, job.relationship_id, job.parameters) == (
        "succeeded",
        rel_id,
        {"relationship_id": rel_id},
    )
    assert job.idempotency_key == jobs.recompute_key(rel_id)  # the page's key: one at a time
    assert "Job " in out.output and "2 of 2 waves rebuilt" in out.output  # its progress


def test_relhealth_recompute_joins_a_recompute_a_page_started_and_inline_runs_it(
    app, runner, factory, woken
):
    rel = factory.relationship()
    factory.wave(rel, "2024-Q1", state="closed")
    rel_id, name = rel.id, rel.name
    with write_transaction():  # what the page's button did: queued, no worker yet
        page_job = jobs.submit_job(
            "results.recompute", {"relationship_id": rel_id}, key=jobs.recompute_key(rel_id)
        ).id
    db.session.execute(ResultTable.__table__.delete())
    db.session.commit()
    out = runner.invoke(args=["recompute", "--relationship", name, "--inline"])
    assert out.exit_code == 0, out.output
    assert f"Job {page_job} was already doing this" in out.output
    (job,) = recompute_jobs()  # no second job
    assert (job.id, job.state, job.attempts) == (page_job, "succeeded", 1)
    assert db.session.scalars(select(ResultTable.wave_id).distinct()).all()  # stored again
    assert woken == [page_job]  # the command woke nothing more: it ran the job itself


def test_relhealth_recompute_with_a_new_k_refuses_to_join_a_recompute_with_another(
    app, runner, factory, woken
):
    # Joining would have followed the queued job and silently dropped --min-cell-size.
    rel = factory.relationship()
    wave = factory.wave(rel, "2024-Q1", state="closed")
    rel_id, name, wave_id = rel.id, rel.name, wave.id
    with write_transaction():  # the page's button: each wave's own k, queued, no worker yet
        page_job = jobs.submit_job(
            "results.recompute", {"relationship_id": rel_id}, key=jobs.recompute_key(rel_id)
        ).id
    out = runner.invoke(args=["recompute", "--relationship", name, "--min-cell-size", "7"])
    assert out.exit_code == 1
    assert f"job {page_job} (" in out.output
    assert "--min-cell-size 7" in out.output and "Wait for it to finish" in out.output
    assert [(j.id, j.state, j.parameters) for j in recompute_jobs()] == [
        (page_job, "queued", {"relationship_id": rel_id})
    ], "nothing queued, the page's job untouched"
    assert db.session.get(Wave, wave_id).min_cell_size != 7
    assert woken == [page_job]
    # A plain recompute does not join a queued one with a new k either; the same k joins.
    with write_transaction():
        db.session.get(Job, page_job).parameters = {"relationship_id": rel_id, "min_cell_size": 6}
    out = runner.invoke(args=["recompute", "--relationship", name])
    assert out.exit_code == 1 and "with k = 6" in out.output, out.output
    out = runner.invoke(
        args=["recompute", "--relationship", name, "--min-cell-size", "6", "--inline"]
    )
    assert out.exit_code == 0, out.output
    assert f"Job {page_job} was already doing this" in out.output
    assert [j.state for j in recompute_jobs()] == ["succeeded"]
    assert db.session.get(Wave, wave_id).min_cell_size == 6


def test_relhealth_recompute_of_every_relationship_refuses_before_rebuilding_any(
    app, runner, factory, woken
):
    # Refused only on reaching the relationship with another recompute, the command had
    # rebuilt (and given the new k to) the relationships before it.
    for name in ("First", "Second"):
        factory.wave(factory.relationship(name=name), "2024-Q1", state="closed")
    first, last = all_relationships()[0], all_relationships()[-1]
    first_wave = db.session.scalar(select(Wave.id).where(Wave.relationship_id == first.id))
    with write_transaction():  # a page's recompute of the last one, each wave's own k
        page_job = jobs.submit_job(
            "results.recompute", {"relationship_id": last.id}, key=jobs.recompute_key(last.id)
        ).id
    out = runner.invoke(args=["recompute", "--min-cell-size", "7", "--inline"])
    assert out.exit_code == 1 and f"job {page_job} (" in out.output, out.output
    assert [j.id for j in recompute_jobs()] == [page_job], "nothing queued for any relationship"
    assert db.session.get(Wave, first_wave).min_cell_size != 7


def test_relhealth_recompute_reports_a_failed_job_and_exits_1(app, runner, factory, monkeypatch):
    rel = factory.relationship()
    factory.wave(rel, "2024-Q1", state="closed")

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise jobs.kinds.ServiceError("the analysis refused these answers")

    monkeypatch.setattr(jobs.kinds, "recompute", broken)
    out = runner.invoke(args=["recompute", "--relationship", rel.name, "--inline"])
    assert out.exit_code == 1
    assert out.output.strip().endswith("failed: the analysis refused these answers")
    (job,) = recompute_jobs()
    assert job.state == "failed"


def test_relhealth_jobs_check_says_whether_a_worker_ran_its_job(app, runner, monkeypatch):
    ran = runner.invoke(args=["jobs", "check"])
    assert ran.exit_code == 0, ran.output
    assert ran.output.startswith("A worker ran job ") and "(attempts: 1)" in ran.output
    monkeypatch.setattr(jobs.job_queue(app), "wake", lambda ids: None)  # no worker at all
    nobody = runner.invoke(args=["jobs", "check", "--wait", "1"])
    assert nobody.exit_code == 1
    assert "within 1 s: is `relhealth worker` running" in nobody.output
