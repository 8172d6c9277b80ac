"""A job's progress page, its JSON, "Try again", who may see it, and POST → redirect → GET:
two clicks start one job, and reloading a page starts nothing."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import AuditEvent, Job, User
from survey_app.services import jobs
from survey_app.texts import N_, lines, say, stored_text, wording
from tests import factories
from tests.factories import csrf_token, text


def sign_in(app, role: str, name: str = ""):  # type: ignore[no-untyped-def]
    """A test client signed in as ``role`` (``name`` tells two of a role apart)."""
    return factories.sign_in(app, role, email=email_of(role, name), name=f"Jobs {role}{name}")


def email_of(role: str, name: str = "") -> str:
    return f"{role}{name}.jobs@council.example"


def user(role: str, name: str = "") -> User:
    found = db.session.scalar(select(User).where(User.email == email_of(role, name)))
    assert found is not None
    return found


@pytest.fixture
def woken(app, monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """Wake-ups are recorded, and no job runs."""
    sent: list[int] = []
    monkeypatch.setattr(jobs.job_queue(app), "wake", lambda ids: sent.extend(ids))
    return sent


def job_with(requested_by: User | None, **values) -> int:  # type: ignore[no-untyped-def]
    with write_transaction():
        job_id = jobs.submit_job("jobs.check", {"steps": 1}, requested_by=requested_by).id
        if values:
            db.session.execute(update(Job).where(Job.id == job_id).values(**values))
    return job_id


def count_rows() -> tuple[int, int]:
    db.session.rollback()
    return (
        db.session.scalar(select(func.count()).select_from(Job)),
        db.session.scalar(select(func.count()).select_from(AuditEvent)),
    )


# ----------------------------------------------------------------------------- the page


def test_a_running_job_shows_how_far_it_has_got_and_updates_by_script_not_by_reloading(app, woken):
    manager = sign_in(app, "manager")
    job_id = job_with(
        user("manager"),
        state="running",
        progress_done=312,
        progress_total=20000,
        message="Sending invitations to Contact centre",
    )
    page = text(manager.get(f"/jobs/{job_id}"))
    assert "In progress" in page and "Sending invitations to Contact centre" in page
    assert '<label for="job-progress" data-job-progress-text>312 of 20,000 steps done</label>' in (
        page
    )
    assert re.search(r'<progress id="job-progress"[^>]* max="20000" value="312">', page)
    assert 'http-equiv="refresh"' not in page  # the page never reloads by itself
    assert f'data-source="/jobs/{job_id}.json" data-interval="5"' in page
    assert 'role="status" aria-live="polite"' in page
    assert re.search(r"<p [^>]*data-job-control hidden>.*Stop updating</button>", page)
    assert "/app/job.js" in page
    assert f'href="/jobs/{job_id}" data-job-reload>Refresh the page</a>' in page  # no script


def test_a_job_of_a_kind_the_service_no_longer_has_still_shows(app, woken):
    admin = sign_in(app, "admin")
    job_id = job_with(user("admin"), kind="retired.kind", progress_done=1, progress_total=2)
    assert "1 of 2 done" in text(admin.get(f"/jobs/{job_id}"))


def test_a_queued_job_says_it_is_waiting(app, woken):
    admin = sign_in(app, "admin")
    page = text(admin.get(f"/jobs/{job_with(user('admin'))}"))
    assert "Waiting to start" in page and "Waiting for a worker to start this job." in page
    assert "of 1 steps done" not in page  # no figures before the job gives them


def test_a_finished_job_shows_its_outcome_with_a_link_and_stops_refreshing(app, factory, woken):
    admin = sign_in(app, "admin")
    rel_id = factory.relationship().id
    job_id = job_with(
        user("admin"),
        state="succeeded",
        result={
            "summary": "Rebuilt the results of 4 closed waves",
            "link": {"endpoint": "dashboard.relationship", "values": {"relationship_id": rel_id},
                     "text": "See the results"},
        },
    )  # fmt: skip
    page = text(admin.get(f"/jobs/{job_id}"))
    assert "govuk-panel" in page and "Rebuilt the results of 4 closed waves" in page
    assert f'<a class="govuk-link" href="/dashboard/{rel_id}/">See the results</a>' in page
    assert 'http-equiv="refresh"' not in page


def test_a_failed_job_shows_its_error_and_try_again_runs_it_again(app):
    reviewer = sign_in(app, "reviewer")
    job_id = job_with(
        user("reviewer"), state="failed", error="The mail server <b>refused</b> the connection"
    )
    page = text(reviewer.get(f"/jobs/{job_id}"))
    assert "The job did not finish" in page
    assert "The mail server &lt;b&gt;refused&lt;/b&gt; the connection" in page
    assert f'action="/jobs/{job_id}/retry"' in page and "Try again" in page
    response = reviewer.post(f"/jobs/{job_id}/retry", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303 and response.location == f"/jobs/{job_id}"
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    assert job.state == "succeeded"  # retried, and run at once (the tests' immediate queue)
    again = reviewer.post(f"/jobs/{job_id}/retry", data={"csrf_token": csrf_token(page)})
    assert again.status_code == 303  # a second click only goes to the page
    retried = select(func.count()).where(AuditEvent.action == "job.retried")
    assert db.session.scalar(retried) == 1


def test_the_json_says_the_same_as_the_page(app, woken):
    manager = sign_in(app, "manager")
    job_id = job_with(user("manager"), state="running", progress_done=3, progress_total=40)
    payload = manager.get(f"/jobs/{job_id}.json").get_json()
    assert payload["state"] == "running" and payload["state_text"] == "In progress"
    assert payload["progress"] == {
        "done": 3, "total": 40, "message": None, "text": "3 of 40 steps done",
    }  # fmt: skip
    assert payload["link"] is None and payload["error"] is None


# ----------------------------------------------------------------------------- who may see it


def test_only_the_requester_and_admins_may_see_a_job(app, woken):
    owner = sign_in(app, "manager")
    other = sign_in(app, "manager", "2")
    admin = sign_in(app, "admin")
    job_id = job_with(user("manager"), state="failed", error="x")
    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}.json"):
        assert owner.get(path).status_code == 200
        assert admin.get(path).status_code == 200
        assert other.get(path).status_code == 404
    token = csrf_token(text(other.get("/")))  # the sign-out form carries one
    before = count_rows()
    assert other.post(f"/jobs/{job_id}/retry", data={"csrf_token": token}).status_code == 404
    assert count_rows() == before and db.session.get(Job, job_id).state == "failed"
    cli_job = job_with(None)  # started from the command line: admins only
    assert admin.get(f"/jobs/{cli_job}").status_code == 200
    assert owner.get(f"/jobs/{cli_job}").status_code == 404


# ----------------------------------------------------------------------------- POST → redirect → GET


def test_two_identical_posts_start_one_job_and_reloading_its_page_starts_nothing(
    app, factory, woken
):
    admin = sign_in(app, "admin")
    rel = factory.relationship()
    rel_id, rel_name = rel.id, rel.name
    path = f"/jobs/recompute/{rel_id}"
    form = text(admin.get(path))
    assert "Recompute the results" in form and "already started" not in form
    first = admin.post(path, data={"csrf_token": csrf_token(form)})
    second = admin.post(path, data={"csrf_token": csrf_token(form)})
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    (job,) = db.session.scalars(select(Job)).all()
    assert first.location == f"/jobs/{job.id}" and woken == [job.id]
    assert job.title_text == f"Recompute the results of {rel_name}"
    assert (job.kind, job.parameters, job.relationship_id) == (
        "results.recompute", {"relationship_id": rel_id}, rel_id,
    )  # fmt: skip
    assert f'href="/jobs/{job.id}">See how far it has got' in text(admin.get(path))
    before = count_rows()
    for _ in range(3):
        assert admin.get(f"/jobs/{job.id}").status_code == 200
        assert admin.get(f"/jobs/{job.id}.json").status_code == 200
    assert count_rows() == before and woken == [job.id]


def test_a_recompute_started_from_its_page_runs_and_links_to_the_results(app, factory):
    admin = sign_in(app, "admin")
    rel = factory.relationship()
    rel_id, rel_name = rel.id, rel.name
    path = f"/jobs/recompute/{rel_id}"
    assert f'href="{path}">Recompute the results' in text(
        admin.get(f"/admin/relationships/{rel_id}/")
    )
    response = admin.post(path, data={"csrf_token": csrf_token(text(admin.get(path)))})
    page = text(admin.get(response.location))
    assert "Done" in page and "has no closed waves" in page
    assert f'href="/dashboard/{rel_id}/">See the results of {rel_name}</a>' in page


def test_a_job_page_for_an_unknown_relationship_or_job_is_not_found(app):
    admin = sign_in(app, "admin")
    assert admin.get("/jobs/recompute/999999").status_code == 404
    assert admin.get("/jobs/999999").status_code == 404


# ----------------------------------------------------------------------------- languages


def test_a_job_started_by_an_english_user_reads_welsh_to_a_welsh_one(app, factory):
    english = sign_in(app, "admin")
    welsh = sign_in(app, "admin", "cy")
    user("admin", "cy").language = "cy"
    db.session.commit()
    rel = factory.relationship()
    rel_id, rel_name = rel.id, rel.name
    path = f"/jobs/recompute/{rel_id}"
    done = english.post(path, data={"csrf_token": csrf_token(text(english.get(path)))})
    assert "has no closed waves" in text(english.get(done.location))
    page = text(welsh.get(done.location))
    assert f"Ailgyfrifo canlyniadau {rel_name}</h1>" in page  # the title, stored by an English user
    assert f"Nid oes gan {rel_name} gylchoedd sydd wedi cau" in page  # the summary
    assert f'href="/dashboard/{rel_id}/">Gweld canlyniadau {rel_name}</a>' in page
    assert "has no closed waves" not in page and "Recompute the results" not in page
    payload = welsh.get(f"{done.location}.json").get_json()
    assert payload["title"] == f"Ailgyfrifo canlyniadau {rel_name}"
    assert payload["summary"].startswith(f"Nid oes gan {rel_name} gylchoedd")


def test_a_running_or_failed_jobs_stored_wording_is_shown_in_the_readers_language(app, woken):
    welsh = sign_in(app, "manager", "cy")
    user("manager", "cy").language = "cy"
    db.session.commit()
    message = jobs.lifecycle.short(
        wording(N_("Rebuilding the results of waves %(first)s to %(last)s"), first="A", last="B")
    )
    running = job_with(
        user("manager", "cy"), state="running", message=message, progress_done=1,
        progress_total=4,
    )  # fmt: skip
    page = text(welsh.get(f"/jobs/{running}"))
    assert "Yn ailadeiladu canlyniadau cylchoedd A i B" in page
    assert "Gwirio’r gweithwyr" in page  # the kind's title, stored in English
    payload = welsh.get(f"/jobs/{running}.json").get_json()
    assert payload["progress"]["message"] == "Yn ailadeiladu canlyniadau cylchoedd A i B"
    assert payload["progress"]["text"] == "1 o 4: cam wedi’u gwneud"
    failed = job_with(
        user("manager", "cy"),
        state="failed",
        error=stored_text(jobs.running.unexpected_error(7)),
    )
    page = text(welsh.get(f"/jobs/{failed}"))
    assert "Stopiodd y dasg oherwydd gwall annisgwyl" in page and "(tasg 7)" in page
    assert welsh.get(f"/jobs/{failed}.json").get_json()["error"].startswith("Stopiodd y dasg")
    # The command line (no reader) says it in English.
    assert db.session.get(Job, failed).error_text.startswith("The job stopped because")


def test_a_stored_wording_keeps_to_its_column_and_plain_texts_still_show():
    long = wording(N_("Writing %(file)s"), file="x" * 1000)
    kept = stored_text(long, 300)
    assert kept is not None and len(kept) <= 300 and say(kept).startswith("Writing xxx")
    assert say("An English sentence stored before wordings were") == (
        "An English sentence stored before wordings were"
    )
    assert say(None) == "" and say('{"text" broken') == '{"text" broken'


def test_a_stored_message_of_several_lines_is_said_line_by_line(app):
    message = lines(wording(N_("Nothing was imported")), wording(N_("%(count)s rows"), count="52"))
    kept = stored_text(message)
    with app.test_request_context():
        assert say(kept) == "Nothing was imported\n52 rows"
        with force_locale("cy"):
            assert say(kept) == say(message) == "Ni fewnforiwyd dim\n52 rhes"
