"""kill -9 in the middle of the load (issue 5, part 3), at small scale.

The service runs under gunicorn (the project's ``gunicorn.conf.py``, 4 workers) on
this run's database: a temporary SQLite file, or PostgreSQL when ``DATABASE_URL``
says so. Simulated respondents (``benchmarks/_browser.py``) complete the survey
page by page while one worker, and later the whole server, is killed with
SIGKILL and started again. ``benchmarks/load.py --faults`` does the same at full
scale.
"""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlencode

import pytest

from benchmarks._browser import (
    CSRF,
    SECTION,
    Browser,
    Respondent,
    complete_survey,
    drive,
    fill_form,
)
from benchmarks._checks import inspect_database, prepare_wave
from benchmarks._faults import FaultInjector
from benchmarks._server import GunicornServer, postgres_admin_url, server_environment
from survey_app.extensions import db
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(migrated: str, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("gunicorn")
    (folder / "instance").mkdir()
    env = server_environment(migrated, folder / "instance", TEST_SECRET)
    gunicorn = GunicornServer("wsgi:app", env, folder / "gunicorn.log", workers=4)
    gunicorn.start()
    yield gunicorn
    gunicorn.stop()


def _new_wave(n: int) -> tuple[int, list[Respondent]]:
    wave_id, people = prepare_wave(n, label="faults")
    db.session.remove()
    return wave_id, people


def _check(app, wave_id: int, people: list[Respondent]):  # type: ignore[no-untyped-def]
    """The database as the fault injector sees it, from its own thread."""

    def check():  # type: ignore[no-untyped-def]
        with app.app_context():
            try:
                return inspect_database(wave_id, people, final=False)
            finally:
                db.session.remove()

    return check


def test_kill_9_of_a_worker_then_of_the_whole_server_loses_and_duplicates_nothing(app, server):
    wave_id, people = _new_wave(20)
    injector = FaultInjector(
        server,
        people,
        [(0.3, "worker"), (0.7, "server")],
        check=_check(app, wave_id, people),
        pause_s=0.5,
        time_limit=120,
    )
    injector.start()
    run = drive(server.port, people, concurrency=5, faults=True, time_limit=120)
    injector.join(timeout=120)

    assert injector.failure is None, repr(injector.failure)
    assert [event.kind for event in injector.events] == ["worker", "server"]
    for event in injector.events:
        # Right after each kill, while the load goes on: every submit acknowledged
        # so far is stored complete, once; nothing partial.
        assert event.check is not None and event.check.ok, (event.kind, event.check)
    assert [p.error for p in people if p.error] == [], server.log_tail()
    assert not [s for s in run.samples if s.status >= 500]
    assert any(p.interruptions for p in people), "the kills interrupted nobody"
    # Everyone interrupted came back with the same link and finished.
    assert all(p.acknowledged or p.stored_unacknowledged for p in people)

    verdict = inspect_database(wave_id, people, final=True)
    assert verdict.ok, verdict.problems
    assert (verdict.responses, verdict.used_tokens, verdict.drafts) == (20, 20, 0)
    assert (verdict.partial, verdict.lost, verdict.duplicates) == (0, 0, 0)


def test_after_a_whole_server_kill_the_same_link_resumes_the_draft_and_submits(app, server):
    wave_id, (person,) = _new_wave(1)
    browser = Browser(server.port, [])
    assert browser.request("GET", f"/s/{person.token}", "link")[0] == 302
    for path in ("/survey/about", "/survey/section/1"):  # two pages saved, then the crash
        html = browser.request("GET", path, "page")[2]
        assert browser.request("POST", path, "post", fill_form(path, html, person))[0] == 302
    server.kill_all()
    server.start()

    browser.cookies.clear()
    status, location, _ = browser.request("GET", f"/s/{person.token}", "link")
    assert (status, location) == (302, "/survey/resume")
    status, location, _ = browser.request("GET", "/survey/resume", "resume")
    assert (status, location) == (302, "/survey/section/2")  # the draft survived the kill
    complete_survey(browser, person)
    browser.close()
    assert person.acknowledged and person.saw_done_page
    verdict = inspect_database(wave_id, [person])
    assert verdict.ok, verdict.problems


def test_a_submit_whose_answer_is_lost_is_stored_once_and_the_link_says_so(app, server):
    """The browser sends the submit and the connection dies before the answer arrives:
    the response is stored (or not) as a whole, and opening the link again tells the
    respondent it is done rather than storing a second copy."""
    wave_id, (person,) = _new_wave(1)
    browser = Browser(server.port, [])
    # Everything up to the check page, then post the submit and hang up at once.
    _complete_until_check(browser, person)
    html = browser.request("GET", "/survey/check", "check")[2]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(
        "POST",
        "/survey/check",
        body=urlencode({"csrf_token": CSRF.search(html).group(1), "submit": "y"}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items()),
        },
    )
    conn.close()  # the answer is never read
    person.submit_unanswered = True
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and inspect_database(wave_id, [person]).used_tokens == 0:
        time.sleep(0.1)

    complete_survey(browser, person)  # opens the link again
    browser.close()
    assert person.stored_unacknowledged
    verdict = inspect_database(wave_id, [person])
    assert verdict.ok, verdict.problems
    assert (verdict.responses, verdict.duplicates) == (1, 0)


def _complete_until_check(browser: Browser, person: Respondent) -> None:
    """Answer every page; stop on the 'Check your answers' page without submitting."""
    status, path, _ = browser.request("GET", f"/s/{person.token}", "link")
    assert status == 302
    for _ in range(40):
        status, location, html = browser.request("GET", path, "page")
        if status == 302:
            path = location
            continue
        assert status == 200, path
        if path == "/survey/check":
            return
        if path == "/survey/":
            path = "/survey/about"
            continue
        assert path == "/survey/about" or SECTION.match(path), path
        status, path, _ = browser.request("POST", path, "post", fill_form(path, html, person))
        assert status == 302
    raise AssertionError("never reached the check page")


def test_the_harness_refuses_a_database_server_that_is_not_on_loopback():
    with pytest.raises(SystemExit, match="only loopback"):
        postgres_admin_url("postgresql+psycopg://postgres@192.0.2.1:5432/test")
