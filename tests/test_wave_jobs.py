"""Closing a wave runs in a job: the page starts it (POST → redirect → GET), two clicks start
one job, the results appear when it has scored the wave, and a job taken back after its
commit finds the wave closed instead of failing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, ResultTable, Wave
from survey_app.services import jobs
from survey_app.services.jobs.running import JobContext
from tests.factories import submit, text
from tests.job_support import Killed, expire_lease, fresh, sweep


def close_from_the_page(admin, wave_id: int) -> int:  # type: ignore[no-untyped-def]
    started = submit(admin, f"/admin/waves/{wave_id}/close")
    assert started.status_code == 303
    return int(started.location.rsplit("/", 1)[1])


def test_closing_a_wave_from_its_page_is_one_job_however_often_it_is_clicked(
    app, admin, factory, woken
):
    wave_id = factory.wave().id
    job_id = close_from_the_page(admin, wave_id)
    assert close_from_the_page(admin, wave_id) == job_id
    waiting = text(admin.get(f"/jobs/{job_id}"))
    assert "Close wave 2024-Q1 and compute its results" in waiting
    assert db.session.get(Wave, wave_id).state == "open"  # nothing happens until a worker runs it
    assert jobs.run_job(job_id) == "succeeded"
    db.session.expire_all()
    assert db.session.get(Wave, wave_id).state == "closed"
    assert db.session.scalar(select(func.count()).where(ResultTable.wave_id == wave_id)) > 0
    done = text(admin.get(f"/jobs/{job_id}"))
    assert "Wave 2024-Q1 is closed: its results are computed" in done
    assert f'href="/admin/waves/{wave_id}/"' in done
    # closed now: the page refuses a second close with the reason, and starts nothing
    refused = submit(admin, f"/admin/waves/{wave_id}/close")
    assert refused.status_code == 409 and "only an open wave can be closed" in text(refused)


def test_a_close_job_taken_back_after_its_commit_finds_the_wave_closed(
    app, admin, factory, woken, monkeypatch
):
    wave_id = factory.wave().id
    job_id = close_from_the_page(admin, wave_id)
    real = JobContext.progress

    def die_once_closed(self, done, total=None, message=None):  # type: ignore[no-untyped-def]
        if done == 1:
            raise Killed  # the worker dies right after the close committed
        return real(self, done, total, message)

    monkeypatch.setattr(JobContext, "progress", die_once_closed)
    with pytest.raises(Killed):
        jobs.run_job(job_id, owner="dead")
    monkeypatch.setattr(JobContext, "progress", real)
    db.session.rollback()
    assert db.session.get(Wave, wave_id).state == "closed"
    expire_lease(job_id)
    assert sweep(app).requeued == (job_id,)
    assert jobs.run_job(job_id) == "succeeded"
    assert fresh(job_id).attempts == 2
    closes = select(func.count()).where(AuditEvent.action == "wave.close")
    assert db.session.scalar(closes) == 1  # closed once
