"""Fuzzing the job buttons: "Try again" on a job, "Recompute the results", "Prepare the
file" (a large download) and "Prepare the board pack".

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
        owner = ensure_user(
            "owner.fuzz@council.example", name="Owner", role="manager", password="x" * 20
        )
        failed = jobs.submit_job("jobs.check", requested_by=owner)
        failed.state, failed.error = "failed", "refused"
        other_id = failed.id
    valid = page_csrf(admin, f"/jobs/{other_id}")
    targets = [
        ("/jobs/999999/retry", True),
        ("/jobs/0/retry", True),
        ("/jobs/recompute/999999", True),
        (f"/jobs/{other_id}/retry", False),  # allowed, so only a bad token is refused
        (f"/jobs/recompute/{world.rel.id}", False),
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


def test_fuzz_prepare_a_download(app, admin, world, other_csrf, caplog):
    app.config["DOWNLOAD_JOB_MIN_ROWS"] = 1  # every download with a row is prepared
    valid = page_csrf(admin, f"/downloads/{world.rel.id}/")
    targets = [
        ("/downloads/999999/responses.csv/prepare", True),
        (f"/downloads/{world.other.id}/scores.csv/prepare?wave=2024-Q1", True),  # no such wave
        (f"/downloads/{world.rel.id}/secrets.csv/prepare", True),
        (f"/downloads/{world.rel.id}/scores.sav/prepare", True),  # SPSS is for responses only
        (f"/downloads/{world.rel.id}/responses.csv/prepare?wave=2024-Q2", True),  # open wave
        (f"/downloads/{world.rel.id}/responses.csv/prepare", False),  # allowed: a bad token only
    ]

    refuse_bad_buttons(admin, targets, valid, other_csrf, caplog)  # real: test_prepared_downloads


def test_fuzz_board_pack_button(app, admin, world, other_csrf, caplog):
    valid = page_csrf(admin, f"/dashboard/{world.rel.id}/")
    targets = [
        ("/dashboard/999999/board-pack", True),
        (f"/dashboard/{world.rel.id}/board-pack?wave=nope", True),
        (f"/dashboard/{world.rel.id}/board-pack?wave=2024-Q2", True),  # an open wave
        (f"/dashboard/{world.rel.id}/board-pack?wave=%00", True),
        (f"/dashboard/{world.rel.id}/board-pack", False),  # allowed: a bad token only
    ]

    refuse_bad_buttons(admin, targets, valid, other_csrf, caplog)  # real jobs: test_reports


def refuse_bad_buttons(admin, targets, valid, other_csrf, caplog) -> None:  # type: ignore[no-untyped-def]
    """POST each of ``targets`` (path, whether it names something missing) with every bad
    token, and the missing ones with a good token too: a clear refusal, nothing changed."""

    @FUZZ
    @given(target=st.sampled_from(targets), mode=CSRF, pairs=fields({"submit": junk}))
    def run(target, mode, pairs):  # type: ignore[no-untyped-def]
        path, missing = target
        if not missing and csrf_passes(mode):
            return  # a real job: tested where it is made
        with nothing_changes(caplog):
            response = send_form(admin, path, mode, valid, other_csrf, pairs)
            kind = assert_clear_refusal(response, statuses=(400, 404))
            assert kind == ("page" if csrf_passes(mode) else "csrf"), response.status_code

    run()
