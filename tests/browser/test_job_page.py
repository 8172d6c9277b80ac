"""A job's progress page updates itself by script (no reload): the status region (aria-live)
shows the worker's news from /jobs/<id>.json, "Stop updating" stops it, and the outcome is
announced when the job ends. It fits a phone.

The page's clock is Playwright's (``page.clock``): its 5-second timer fires when a test moves
the clock on, so a test waits for the page's next update, not for five real seconds."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from survey_app.database import write_transaction
from survey_app.models import Job
from survey_app.texts import N_, stored_text, wording
from survey_app.web.jobs.routes import REFRESH_SECONDS
from tests.browser.page_types import job_in, signed_in

pytestmark = pytest.mark.browser

REFRESH_MS = REFRESH_SECONDS * 1000  # the page's interval (its data-interval)
#: Counts the page's fetches from now on (job.js fetches its news through window.fetch, which
#: a timer still running calls synchronously as the clock moves on).
COUNT_FETCHES = """() => { window.fetchesMade = 0; const fetch = window.fetch;
    window.fetch = (...args) => { window.fetchesMade += 1; return fetch(...args); }; }"""


def worker_reports(job_id: int, **values) -> None:  # type: ignore[no-untyped-def]
    with write_transaction():
        from survey_app.extensions import db

        db.session.execute(update(Job).where(Job.id == job_id).values(**values))


def test_the_progress_page_updates_its_status_region_until_told_to_stop(page, site, width):  # type: ignore[no-untyped-def]
    page.clock.install()
    job_in("running")(page, site)
    signed_in("admin", "/jobs/{job}")(page, site)
    job_id = site.ids["job"]
    status = page.locator("[data-job-status]")
    assert "2 of 5 waves rebuilt" in status.inner_text()
    assert page.get_by_role("button", name="Stop updating").is_visible()
    loads = page.evaluate("performance.getEntriesByType('navigation').length")

    worker_reports(job_id, progress_done=4, message=rebuilding("2024-Q3"))
    page.clock.run_for(REFRESH_MS)
    expect(status).to_contain_text("4 of 5 waves rebuilt", timeout=60_000)
    assert "Rebuilding the results of wave 2024-Q3" in status.inner_text()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == loads
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    worker_reports(job_id, state="succeeded", progress_done=5,
                   result={"summary": wording(N_("All closed waves rebuilt"))})  # fmt: skip
    page.clock.run_for(REFRESH_MS)
    expect(status).to_contain_text("All closed waves rebuilt", timeout=60_000)
    assert page.get_by_role("link", name="See how it went").is_visible()
    assert not page.get_by_role("button", name="Stop updating").is_visible()


def rebuilding(wave: str) -> str | None:
    """A progress message as the worker stores it (a wording)."""
    return stored_text(wording(N_("Rebuilding the results of wave %(wave)s"), wave=wave))


def test_a_welsh_reader_switches_by_the_headers_form_and_reads_the_workers_news_in_welsh(
    page, site, width
):  # type: ignore[no-untyped-def]
    """The admin's switch is a POST (the button in the header, no script needed): it saves
    their choice and returns to the same page, whose stored news now reads Welsh."""
    page.clock.install()
    job_in("running")(page, site)
    signed_in("admin", "/jobs/{job}")(page, site)
    job_id = site.ids["job"]
    switch = page.get_by_role("button", name="Cymraeg")
    assert switch.is_visible()
    switch.click()
    page.wait_for_url(f"**/jobs/{job_id}")
    assert page.locator("html").get_attribute("lang") == "cy"
    assert "Ailgyfrifo canlyniadau" in page.locator("h1").inner_text()
    status = page.locator("[data-job-status]")
    assert "Yn ailadeiladu canlyniadau cylch 2024-Q1" in status.inner_text()
    worker_reports(job_id, progress_done=4, message=rebuilding("2024-Q3"))
    page.clock.run_for(REFRESH_MS)
    expect(status).to_contain_text("Yn ailadeiladu canlyniadau cylch 2024-Q3", timeout=60_000)
    assert page.get_by_role("button", name="English").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_stop_updating_stops_the_polling(page, site):  # type: ignore[no-untyped-def]
    page.clock.install()
    job_in("running")(page, site)
    signed_in("admin", "/jobs/{job}")(page, site)
    page.evaluate(COUNT_FETCHES)
    page.get_by_role("button", name="Stop updating").click()
    assert "no longer updates itself" in page.locator("[data-job-status]").inner_text()
    assert page.evaluate("document.activeElement.textContent") == "Refresh the page"
    worker_reports(site.ids["job"], progress_done=4)
    page.clock.run_for(12 * REFRESH_MS)  # a timer left running would have fetched by now
    assert page.evaluate("window.fetchesMade") == 0
    assert "2 of 5 waves rebuilt" in page.locator("[data-job-status]").inner_text()
