"""Importing history as a job: the page checks the file's top at once and keeps it for the
``responses.import`` job, which imports and scores all or nothing; a refused file, a failure
or a killed worker leaves nothing of it, the page says why, and "Try again" works.

Jobs run in the test process: by the queue in huey's immediate mode, or — with ``woken`` —
by calling ``run_job`` as a worker thread would (to kill it on the way).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, Job, Response, ResultTable, Wave
from survey_app.services import imports, jobs
from survey_app.services.imports import uploads
from survey_app.services.jobs import kinds as job_kinds
from tests.exchange import (
    csv_bytes,
    fresh_rows,
    history_fixture,  # noqa: F401 (the history fixture)
    signed_in_client,
    upload,
)
from tests.factories import csrf_token, sign_in
from tests.job_support import Killed, expire_lease, fresh, sweep


def imported() -> tuple[int, ...]:
    """What an import adds: responses, answers, waves, stored result tables."""
    db.session.rollback()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Response, Answer, Wave, ResultTable)
    )


def kept_uploads() -> list[str]:
    return sorted(p.name for p in uploads.uploads_dir().iterdir())


def import_job() -> Job:
    db.session.rollback()
    (job,) = db.session.scalars(select(Job).where(Job.kind == "responses.import"))
    return job


def bad_row_14(relationship) -> bytes:
    rows = fresh_rows(relationship)
    rows[13][rows[0].index("tr3")] = "7"
    return csv_bytes(rows)


def test_a_problem_past_the_rows_checked_at_once_fails_the_job_and_stores_nothing(
    app, history, monkeypatch
):
    monkeypatch.setattr(uploads, "CHECKED_AT_ONCE", 5)  # the page checks rows 2-6 only
    rel_id, data = history.id, bad_row_14(history)
    client = signed_in_client(app, "admin")
    before = imported()
    response = upload(client, rel_id, data)
    assert response.status_code == 303  # the top of the file was fine: the job started
    job = import_job()
    assert job.state == "failed"
    with app.test_request_context():  # the stored refusal, said in English
        said = job.error_text
    assert said.splitlines()[:2] == [
        "Nothing was imported: 1 problem in 52 rows:",
        "  row 14, column tr3: 7 is not on the 1–5 scale (use a whole number 1–5 or leave it "
        "blank)",
    ]
    assert imported() == before
    page = client.get(response.location).get_data(as_text=True)
    assert "The job did not finish" in page and "Nothing was imported: 1 problem" in page
    assert "<li>Row 14, column tr3: 7 is not on the 1–5 scale" in page
    assert kept_uploads() == [f"{job.parameters['upload']}.upload"]  # kept for "Try again"


def test_a_refused_import_started_in_english_is_read_in_welsh(app, history, monkeypatch):
    """The job keeps its refusal as wordings, not as its starter's English: a Welsh admin
    reading the job page sees the outcome and each row's problem in Welsh."""
    monkeypatch.setattr(uploads, "CHECKED_AT_ONCE", 5)
    rel_id, data = history.id, bad_row_14(history)
    response = upload(signed_in_client(app, "admin"), rel_id, data)
    assert response.status_code == 303 and import_job().state == "failed"
    welsh = sign_in(app, "admin", email="cymraeg@exchange.example", name="Gweinyddwr")
    page = welsh.get(f"{response.location}?lang=cy").get_data(as_text=True)
    assert "Ni orffennodd y dasg" in page
    assert "Ni fewnforiwyd dim: 1 broblem mewn 52 rhes:" in page
    assert "<li>Rhes 14, colofn tr3: Nid yw 7 ar y raddfa 1–5 (defnyddiwch rif cyfan 1–5" in page
    assert "Nothing was imported" not in page and "is not on the" not in page


def test_a_problem_in_the_rows_checked_at_once_is_refused_by_the_page_and_nothing_kept(
    app, history
):
    rel_id, data = history.id, bad_row_14(history)
    client = signed_in_client(app, "admin")
    response = upload(client, rel_id, data)
    assert response.status_code == 400
    assert "Row 14, column tr3: 7 is not on the 1–5 scale" in response.get_data(as_text=True)
    assert db.session.scalars(select(Job)).all() == [] and kept_uploads() == []


def test_a_failed_import_rolls_back_everything_and_trying_again_imports_it(
    app, history, monkeypatch
):
    real = imports.compute_results
    calls: list[int] = []

    def scoring_breaks_once(relationship, waves):  # type: ignore[no-untyped-def]
        calls.append(len(waves))
        if len(calls) == 1:
            raise RuntimeError("the scoring ran out of memory")
        return real(relationship, waves)

    monkeypatch.setattr(imports.responses, "compute_results", scoring_breaks_once)
    rel_id, data = history.id, csv_bytes(fresh_rows(history))
    client = signed_in_client(app, "admin")
    before = imported()
    response = upload(client, rel_id, data)
    job = import_job()
    assert job.state == "failed" and "unexpected error" in job.error
    assert imported() == before  # the responses were stored before the scoring broke: undone
    page = client.get(response.location).get_data(as_text=True)
    retried = client.post(
        f"/jobs/{job.id}/retry", data={"csrf_token": csrf_token(page)}
    )  # the page's "Try again"
    assert retried.status_code == 303 and retried.location == f"/jobs/{job.id}"
    job = import_job()
    assert job.state == "succeeded"
    responses, answers, waves, tables = imported()
    assert (responses, waves) == (before[0] + 52, before[2] + 2) and tables > before[3]
    assert kept_uploads() == []  # deleted once imported


def test_a_worker_killed_mid_import_leaves_nothing_and_the_next_one_imports_it_all(
    app, history, woken, monkeypatch
):
    rel_id, data = history.id, csv_bytes(fresh_rows(history))
    client = signed_in_client(app, "admin")
    before = imported()
    response = upload(client, rel_id, data)
    job_id = import_job().id
    assert woken == [job_id] and import_job().state == "queued"
    real = imports.compute_results

    def dies_while_scoring(relationship, waves):  # type: ignore[no-untyped-def]
        raise Killed

    monkeypatch.setattr(imports.responses, "compute_results", dies_while_scoring)
    with pytest.raises(Killed):
        jobs.run_job(job_id, owner="dead")
    assert imported() == before and fresh(job_id).checkpoint is None
    monkeypatch.setattr(imports.responses, "compute_results", real)
    expire_lease(job_id)
    assert sweep(app).requeued == (job_id,)
    assert jobs.run_job(job_id) == "succeeded"
    assert imported()[0] == before[0] + 52
    assert fresh(job_id).summary_text.startswith("Imported 52 responses into 2 waves")
    assert client.get(response.location).status_code == 200


def test_the_job_page_shows_an_imports_progress_while_its_transaction_is_open(
    app, history, woken, monkeypatch
):
    # On SQLite the import's one transaction holds the write lock, so the heartbeat cannot
    # write the job's row until it commits; the page reads the progress noted beside it.
    rel_id, data = history.id, csv_bytes(fresh_rows(history))
    client = signed_in_client(app, "admin")
    before = imported()
    upload(client, rel_id, data)
    job_id = import_job().id
    scoring, carry_on = threading.Event(), threading.Event()
    real = imports.compute_results

    def waits_while_scoring(relationship, waves):  # type: ignore[no-untyped-def]
        scoring.set()
        assert carry_on.wait(20)
        return real(relationship, waves)

    monkeypatch.setattr(imports.responses, "compute_results", waits_while_scoring)
    outcome: list[str | None] = []

    def work() -> None:
        with app.app_context():
            outcome.append(jobs.run_job(job_id))

    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert scoring.wait(20)
        deadline = time.monotonic() + 5
        status = client.get(f"/jobs/{job_id}.json").get_json()
        while status["progress"]["done"] != 52 and time.monotonic() < deadline:
            time.sleep(0.1)
            status = client.get(f"/jobs/{job_id}.json").get_json()
        assert status["state"] == "running"
        assert status["progress"]["done"] == 52
        message = "Computing the results of the imported waves: 2"
        assert status["progress"]["message"] == message
        page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
        assert message in page and 'value="52"' in page
        assert imported() == before  # nothing of it is committed yet
    finally:
        carry_on.set()
        worker.join()
    assert outcome == ["succeeded"] and imported()[0] == before[0] + 52
    job = fresh(job_id)
    assert (job.progress_done, job.progress_total) == (1, 1)
    assert client.get(f"/jobs/{job_id}.json").get_json()["progress"]["done"] == 1
    assert not (Path(app.instance_path) / "job-progress" / f"{job_id}.json").exists()


def test_two_identical_uploads_start_one_job(app, history, woken):
    rel_id, data = history.id, csv_bytes(fresh_rows(history))
    client = signed_in_client(app, "admin")
    first = upload(client, rel_id, data)
    second = upload(client, rel_id, data)
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert len(kept_uploads()) == 1
    other_wave = upload(client, rel_id, data, wave="2023-Q1")  # another import: its own job
    assert other_wave.location != first.location and len(kept_uploads()) == 2


def test_a_kept_upload_is_deleted_a_day_on_unless_an_unfinished_import_needs_it(
    app, history, woken
):
    rel_id, data = history.id, csv_bytes(fresh_rows(history))
    upload(signed_in_client(app, "admin"), rel_id, data)
    (name,) = kept_uploads()
    a_day_ago = time.time() - uploads.KEEP_HOURS * 3600 - 60
    for path in uploads.uploads_dir().iterdir():
        os.utime(path, (a_day_ago, a_day_ago))
    job_kinds.delete_stale_uploads()  # the minute tick: the job is still queued
    assert kept_uploads() == [name]
    jobs.cancel_job(import_job(), actor="test")
    db.session.commit()
    job_kinds.delete_stale_uploads()
    assert kept_uploads() == []
