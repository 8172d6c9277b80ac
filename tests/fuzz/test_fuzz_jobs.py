"""Fuzzing the job buttons: "Try again" on a job and "Recompute the results".

Every example is bad by construction — a bad CSRF token, a job that is not the user's or does
not exist, or a relationship that does not exist — so the answer must be the CSRF error page
or the not-found page, and the database must not change (no job started, none retried).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from survey_app.database import write_transaction
from survey_app.services import jobs
from survey_app.services.accounts.sign_in import ensure_user
from tests.fuzz.conftest import (
    CSRF,
    FUZZ,
    assert_clear_refusal,
    csrf_passes,
    nothing_changes,
    page_csrf,
    send_form,
)
from tests.fuzz.strategies import fields, junk


def test_fuzz_job_buttons(app, admin, world, other_csrf, caplog):
    with write_transaction():  # a failed job of somebody else's (admins see every job)
        owner = ensure_user("owner.fuzz@council.example", "Owner", "manager", "x" * 20)
        failed = jobs.submit_job("jobs.check", requested_by=owner)
        failed.state, failed.error = "failed", "refused"
        other_id = failed.id
    valid = page_csrf(admin, f"/jobs/{other_id}")
    targets = [
        ("/jobs/999999/retry", True),
        ("/jobs/0/retry", True),
        ("/jobs/recompute/999999", True),
        (f"/jobs/{other_id}/retry", False),  # allowed, so only a bad token is refused
        (f"/jobs/recompute/{world.rel}", False),
    ]

    @FUZZ
    @given(target=st.sampled_from(targets), mode=CSRF, pairs=fields({"submit": junk}))
    def run(target, mode, pairs):  # type: ignore[no-untyped-def]
        path, missing = target
        if not missing and csrf_passes(mode):
            return  # a real retry or recompute: tests/test_jobs_pages.py
        with nothing_changes(caplog):
            response = send_form(admin, path, mode, valid, other_csrf, pairs)
            kind = assert_clear_refusal(response, statuses=(400, 404))
            assert kind == ("page" if csrf_passes(mode) else "csrf"), response.status_code

    run()
