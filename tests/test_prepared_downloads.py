"""Large downloads prepared by a background job (issue 13 item 2): small downloads stay
immediate; a large one is prepared once however often it is asked for, fetched only by its
requester while they still reach the relationship, expires, is deleted by the sweep, and is
in the audit log both when prepared and when fetched."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import AuditEvent, Job, Membership, Relationship, User
from survey_app.services import exports, jobs
from survey_app.services.jobs.kinds import delete_expired_downloads
from survey_app.services.jobs.registry import tick_hooks
from tests.exchange import (
    download_bytes,
    history_fixture,  # noqa: F401 (the history fixture)
)
from tests.factories import csrf_token, sign_in, text
from tests.job_support import job_row, wait_for, worker

#: The history has two closed waves of 26 responses: all waves (52) are "large", one is not.
THRESHOLD = 50


@pytest.fixture
def large(app):  # type: ignore[no-untyped-def]
    app.config["DOWNLOAD_JOB_MIN_ROWS"] = THRESHOLD
    return app


def reviewer(app, rel_id: int, name: str = "asker"):  # type: ignore[no-untyped-def]
    """A client signed in as a reviewer of relationship ``rel_id`` only."""
    db.session.rollback()
    relationship = db.session.get(Relationship, rel_id)
    return sign_in(
        app,
        "reviewer",
        email=f"{name}.prepared@council.example",
        name=f"Reviewer {name}",
        relationships=[relationship],
    )


def prepare(client, rel_id: int, table: str = "responses", fmt: str = "csv", query: str = ""):  # type: ignore[no-untyped-def]
    """Press "Prepare the file" on the download's page; the job's id."""
    page = client.get(f"/downloads/{rel_id}/{table}.{fmt}/prepare{query}")
    assert page.status_code == 200
    response = client.post(
        f"/downloads/{rel_id}/{table}.{fmt}/prepare{query}",
        data={"csrf_token": csrf_token(text(page))},
    )
    assert response.status_code == 303, text(response)
    return int(re.fullmatch(r"/jobs/(\d+)", response.headers["Location"]).group(1))


def job(job_id: int) -> Job:
    db.session.rollback()  # a fresh snapshot: the request committed
    found = db.session.get(Job, job_id)
    assert found is not None
    return found


def stored_path(app, job_id: int) -> Path:
    with app.app_context():
        return exports.prepared_folder() / job(job_id).result["file"]["stored"]


def audit(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def job_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Job))


# ----------------------------------------------------------------------------- small and large


def test_a_small_download_stays_immediate_and_a_large_one_goes_to_its_prepare_page(large, history):
    rel = history.id
    client = reviewer(large, rel)
    small = client.get(f"/downloads/{rel}/responses.csv?wave=2024-Q1")
    assert small.status_code == 200 and small.is_streamed
    assert small.get_data() == download_bytes("responses", "csv", rel, "2024-Q1")

    big = client.get(f"/downloads/{rel}/responses.xlsx")
    assert big.status_code == 303
    assert big.headers["Location"] == f"/downloads/{rel}/responses.xlsx/prepare"
    page = client.get(big.headers["Location"])
    html = text(page)
    assert page.status_code == 200 and "Prepare a large download" in html
    assert "About 52 rows" in html and "relhealth-responses-all-waves.xlsx" in html
    assert "too large to write while you wait" in html
    small_page = text(client.get(f"/downloads/{rel}/responses.xlsx/prepare?wave=2024-Q1"))
    assert "small enough to download at once" in small_page  # reached by its address
    assert f'download href="/downloads/{rel}/responses.xlsx?wave=2024-Q1"' in small_page
    assert job_count() == 0, "showing the page starts nothing"

    listing = text(client.get(f"/downloads/{rel}/"))
    # the large file is linked to its page (a `download` link would save that page as the file)
    assert f'href="/downloads/{rel}/responses.xlsx/prepare"' in listing
    assert f'download href="/downloads/{rel}/codebook.csv"' in listing
    one_wave = text(client.get(f"/downloads/{rel}/?wave=2024-Q1"))
    assert "responses.csv/prepare" not in one_wave and "responses.sav/prepare" not in one_wave


def test_with_the_threshold_at_zero_nothing_is_prepared(app, history):
    rel = history.id
    app.config["DOWNLOAD_JOB_MIN_ROWS"] = 0
    client = reviewer(app, rel)
    assert client.get(f"/downloads/{rel}/responses.csv").status_code == 200
    assert "/prepare" not in text(client.get(f"/downloads/{rel}/"))


@pytest.mark.parametrize("fmt", ["csv", "sav"])
def test_the_requester_fetches_the_prepared_file_with_the_same_bytes_and_both_are_audited(
    large, history, fmt
):
    rel = history.id
    client = reviewer(large, rel)
    job_id = prepare(client, rel, fmt=fmt)
    done = job(job_id)
    assert done.state == "succeeded", done.error
    assert done.kind == exports.PREPARE_KIND and done.relationship_id == rel
    path = stored_path(large, job_id)
    assert path.parent == Path(large.instance_path) / "prepared-downloads" and path.is_file()

    progress = text(client.get(f"/jobs/{job_id}"))
    assert f'href="/downloads/prepared/{job_id}"' in progress
    assert f"Download relhealth-responses-all-waves.{fmt}" in progress

    response = client.get(f"/downloads/prepared/{job_id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Type"] == exports.MEDIA_TYPES[fmt]
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="relhealth-responses-all-waves.{fmt}"'
    )
    body = response.get_data()
    if fmt == "csv":
        assert body == download_bytes("responses", "csv", rel)
    else:
        assert body[:4] == b"$FL2" and len(body) > 1000  # an SPSS system file

    asker = "asker.prepared@council.example"
    (submitted,) = audit("job.submitted")
    assert submitted.actor == asker and submitted.detail["job"] == job_id
    (prepared,) = audit("download.prepared")
    assert prepared.actor == asker
    assert prepared.detail == {
        "job": job_id, "relationship": rel, "table": "responses", "format": fmt,
        "wave": "all", "bytes": path.stat().st_size,
    }  # fmt: skip
    (fetched,) = audit("download")
    assert fetched.actor == asker
    assert fetched.detail == {
        "relationship": rel, "table": "responses", "format": fmt, "wave": "all",
        "job": job_id,
    }  # fmt: skip


def test_two_clicks_start_one_job_and_reloading_starts_nothing(large, history, monkeypatch):
    rel = history.id
    sent: list[int] = []
    monkeypatch.setattr(jobs.job_queue(large), "wake", lambda ids: sent.extend(ids))  # no run
    client = reviewer(large, rel)
    first = prepare(client, rel, "all", "xlsx")
    second = prepare(client, rel, "all", "xlsx")
    assert first == second and job_count() == 1
    for _ in range(2):
        assert client.get(f"/jobs/{first}").status_code == 200
        assert client.get(f"/downloads/{rel}/all.xlsx/prepare").status_code == 200
    assert job_count() == 1
    # another person's click is their own job
    assert prepare(reviewer(large, rel, "other"), rel, "all", "xlsx") != first
    # the file is not ready while the job waits: its requester is told so
    waiting = client.get(f"/downloads/prepared/{first}")
    assert waiting.status_code == 409 and "not ready" in text(waiting)


def test_a_post_without_its_form_token_or_of_a_table_not_offered_starts_nothing(large, history):
    rel = history.id
    client = reviewer(large, rel)
    assert client.post(f"/downloads/{rel}/responses.csv/prepare").status_code == 400
    token = csrf_token(text(client.get(f"/downloads/{rel}/")))
    for path in ("scores.sav", "secrets.csv", "responses.csv?wave=2099-Q1"):
        table, _, query = path.partition("?")
        url = f"/downloads/{rel}/{table}/prepare" + (f"?{query}" if query else "")
        assert client.post(url, data={"csrf_token": token}).status_code == 404, path
    assert job_count() == 0


# ----------------------------------------------------------------------------- who may fetch it


def test_nobody_but_the_requester_may_fetch_the_file_not_even_an_admin(large, history, factory):
    rel = history.id
    client = reviewer(large, rel)
    job_id = prepare(client, rel)
    url = f"/downloads/prepared/{job_id}"
    others = [
        reviewer(large, rel, "colleague"),  # same relationship, same role
        sign_in(large, "reviewer", email="wide.prepared@council.example"),  # service-wide
        sign_in(large, "admin", email="admin.prepared@council.example"),  # may see the job
    ]
    elsewhere = factory.relationship("Council B — Supplier B")
    others.append(reviewer(large, elsewhere.id, "elsewhere"))
    for other in others:
        assert other.get(url).status_code == 404
    watched = others[2].get(f"/jobs/{job_id}")  # an admin watches jobs ...
    assert watched.status_code == 200 and f"/downloads/prepared/{job_id}" not in text(watched)
    assert others[2].get(f"/jobs/{job_id}.json").get_json()["link"] is None
    assert len(audit("download")) == 0  # ... but fetched nothing
    assert client.get(url).status_code == 200
    assert large.test_client().get(url).status_code == 302  # signed out: sign in first


def test_the_scope_is_checked_again_when_the_file_is_fetched(large, history, factory):
    """The requester, still a reviewer of another relationship (so past the page's role
    gate), loses this one: their own file is then a 404."""
    rel = history.id
    client = reviewer(large, rel)
    job_id = prepare(client, rel)
    asker = db.session.scalar(select(User).where(User.email.startswith("asker.prepared")))
    elsewhere = factory.relationship("Council B — Supplier B")
    db.session.add(Membership(user_id=asker.id, relationship_id=elsewhere.id, role="reviewer"))
    db.session.execute(
        delete(Membership).where(Membership.user_id == asker.id, Membership.relationship_id == rel)
    )
    db.session.commit()
    assert client.get("/downloads/").status_code == 200  # still a reviewer, elsewhere
    assert client.get(f"/downloads/prepared/{job_id}").status_code == 404
    assert len(audit("download")) == 0


def test_a_job_whose_requester_lost_the_role_before_it_ran_writes_nothing(
    large, history, monkeypatch
):
    rel = history.id
    monkeypatch.setattr(jobs.job_queue(large), "wake", lambda ids: None)  # run it later
    client = reviewer(large, rel)
    job_id = prepare(client, rel)
    asker = db.session.scalar(select(User).where(User.email.startswith("asker.prepared")))
    db.session.execute(delete(Membership).where(Membership.user_id == asker.id))
    db.session.commit()
    with large.app_context():
        assert jobs.run_job(job_id) == "failed"
        folder = exports.prepared_folder()
    assert "may no longer download it" in job(job_id).error
    assert not folder.exists() or not any(folder.iterdir())
    assert audit("download.prepared") == []


# ----------------------------------------------------------------------------- expiry


def test_an_expired_file_is_refused_and_the_sweep_deletes_it_and_unowned_files(large, history):
    rel = history.id
    client = reviewer(large, rel)
    kept, expired = prepare(client, rel), prepare(client, rel, fmt="json")
    kept_path, expired_path = stored_path(large, kept), stored_path(large, expired)
    assert expired_path.is_file()
    folder = kept_path.parent
    stray = folder / "job-999999-abc.csv"  # a job that no longer exists
    stray.write_bytes(b"x")
    other = folder / "notes.txt"
    other.write_bytes(b"x")
    with write_transaction():  # prepared 25 hours ago: one hour past PREPARED_DOWNLOAD_HOURS
        db.session.get(Job, expired).finished_at -= timedelta(hours=25)
    assert large.config["PREPARED_DOWNLOAD_HOURS"] == 24

    gone = client.get(f"/downloads/prepared/{expired}")
    assert gone.status_code == 410 and "expired" in text(gone)
    with large.app_context():
        assert tick_hooks()["downloads.expire"] is delete_expired_downloads  # every minute
        delete_expired_downloads()
        listed = {p.name for p in folder.iterdir()}
        assert exports.ready_files(db.session.get(User, job(kept).requested_by_id), rel)
    assert listed == {kept_path.name}
    assert client.get(f"/downloads/prepared/{kept}").status_code == 200
    assert client.get(f"/downloads/prepared/{expired}").status_code == 410
    with large.app_context():
        assert exports.delete_expired_files() == []  # idempotent


def test_the_sweep_keeps_the_file_a_running_job_is_writing(large, history):
    rel = history.id
    folder = Path(large.instance_path) / "prepared-downloads"
    folder.mkdir(parents=True, exist_ok=True)
    # One job a transaction: a second submit_job in the same one would wake the first job
    # (on its savepoint's release) while this transaction holds SQLite's write lock, and the
    # in-process queue would wait the whole busy timeout (15 s) for it.
    with write_transaction():
        running = jobs.submit_job(
            exports.PREPARE_KIND, {}, relationship=db.session.get(Relationship, rel)
        )
        running.state = "running"
    with write_transaction():
        failed = jobs.submit_job(
            exports.PREPARE_KIND, {"x": 1}, relationship=db.session.get(Relationship, rel)
        )
        failed.state = "failed"
    running_id, failed_id = running.id, failed.id
    writing = folder / f"job-{running_id}-abc.csv.part"
    left = folder / f"job-{failed_id}-abc.csv"
    writing.write_bytes(b"x")
    left.write_bytes(b"x")
    with large.app_context():
        assert exports.delete_expired_files() == [left.name]
    assert writing.exists()


def test_the_prepare_page_lists_the_requester_s_ready_files_of_that_download(large, history):
    rel = history.id
    client = reviewer(large, rel)
    job_id = prepare(client, rel)
    page = text(client.get(f"/downloads/{rel}/responses.csv/prepare"))
    assert f'href="/downloads/prepared/{job_id}"' in page
    other_format = text(client.get(f"/downloads/{rel}/responses.json/prepare"))
    assert "/downloads/prepared/" not in other_format
    colleague = text(reviewer(large, rel, "colleague").get(
        f"/downloads/{rel}/responses.csv/prepare"
    ))  # fmt: skip
    assert "/downloads/prepared/" not in colleague


# ----------------------------------------------------------------------------- real workers


def test_a_real_worker_on_each_queue_back_end_prepares_the_file(large, history, queue, spawn):
    """Started from the page, written by a ``relhealth worker`` process (huey on an SQLite
    file, or Redis), fetched by its requester through the web."""
    rel = history.id
    client = reviewer(large, rel)
    job_id = prepare(client, rel)
    assert job_row(job_id).state == "queued"  # nothing runs in the web process
    worker(spawn, {**queue, "DOWNLOAD_JOB_MIN_ROWS": str(THRESHOLD)})
    wait_for(lambda: job_row(job_id).state == "succeeded", "the worker to prepare the file")
    response = client.get(f"/downloads/prepared/{job_id}")
    assert response.status_code == 200
    assert response.get_data() == download_bytes("responses", "csv", rel)


def test_a_prepared_spss_file_is_labelled_in_its_requesters_language(large, history, tmp_path):
    """The worker has no reader: the job carries the language its requester read the page in
    (as the direct download labels the file in its reader's)."""
    import pyreadstat

    rel = history.id
    files = {}
    for language in ("cy", "en"):
        client = reviewer(large, rel, f"asker-{language}")
        db.session.scalar(
            select(User).where(User.email == f"asker-{language}.prepared@council.example")
        ).language = language
        db.session.commit()
        job_id = prepare(client, rel, fmt="sav")
        assert job(job_id).state == "succeeded", job(job_id).error_text
        path = tmp_path / f"{language}.sav"
        path.write_bytes(client.get(f"/downloads/prepared/{job_id}").get_data())
        _, files[language] = pyreadstat.read_sav(str(path), user_missing=True)
    welsh, english = files["cy"], files["en"]
    assert welsh.column_names_to_labels["side"] == "Ochr"
    assert welsh.column_names_to_labels["response_id"] == "Allwedd yr ymateb"
    assert welsh.variable_value_labels["side"]["client"] == "Cleient (y cyngor)"
    assert english.column_names_to_labels["side"] == "Side"
    assert english.variable_value_labels["side"]["client"] != "Cleient (y cyngor)"
    assert welsh.column_names_to_labels["sp1"] != english.column_names_to_labels["sp1"]
