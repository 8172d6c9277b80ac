"""A round of invitations or reminders sent by a job, through a real local SMTP server
(aiosmtpd): every address written to once, the outbox state committed at each step, and a
worker that dies mid-round resumed by the next one — nothing missed, at most the message in
flight at the death sent twice (with a fresh link, the invitation accepting either, once).

Jobs run in the test process here (``run_job``, as a worker thread would);
tests/test_mail_worker.py kills real ``relhealth worker`` processes with SIGKILL.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import Invitation, InvitationAddress, InvitationLink, Job, Wave
from survey_app.services import jobs
from survey_app.services.mailing import rounds
from tests.factories import STAFF_EMAILS, Respondent, sections_of
from tests.job_support import (
    Killed,
    addresses,
    expire_lease,
    fresh,
    open_wave_with_staff,
    submit,
    sweep,
)


def start_round(wave_id: int, kind: str) -> int:
    key = jobs.idempotency_key("mail.round", {"wave_id": wave_id, "kind": kind})
    return submit("mail.round", {"wave_id": wave_id, "kind": kind}, key=key)


def links_of(email: str) -> int:
    return db.session.scalar(
        select(func.count(InvitationLink.id))
        .join(InvitationAddress, InvitationAddress.invitation_id == InvitationLink.invitation_id)
        .where(InvitationAddress.email == email)
    )


def test_a_round_writes_to_everybody_once_and_keeps_each_fate(app, admin, factory, mailbox, woken):
    wave_id = open_wave_with_staff(admin, factory)
    mailbox.refuse.add("cat@council.example")
    job_id = start_round(wave_id, "invitations")
    assert start_round(wave_id, "invitations") == job_id  # two clicks, one job
    assert jobs.run_job(job_id) == "succeeded"
    job = fresh(job_id)
    assert job.summary_text == (
        "Invitations sent: 4. Could not be sent: 1 (see the failed addresses)."
    )
    assert (job.progress_done, job.progress_total) == (5, 5)
    assert sorted(r.to[0] for r in mailbox.received) == sorted(
        set(STAFF_EMAILS) - {"cat@council.example"}
    )
    by_email = {a.email: a for a in addresses()}
    assert by_email["cat@council.example"].invitation_id is None
    assert by_email["cat@council.example"].last_error.startswith("refused by the mail server")
    assert {e: a.outbox for e, a in by_email.items()} == {
        **{e: "sent" for e in STAFF_EMAILS},
        "cat@council.example": None,
    }
    assert db.session.scalar(select(func.count(Invitation.id))) == 4
    for received in mailbox.received:  # each link works
        assert app.test_client().get(f"/s/{received.token}").status_code == 302

    # The round is over: the same key starts a new job, which finds nobody left to invite.
    again = start_round(wave_id, "invitations")
    assert again != job_id and jobs.run_job(again) == "succeeded"
    assert fresh(again).summary_text == "Nobody was waiting for invitations: nothing was sent."
    assert len(mailbox.received) == 4


def test_a_reminder_round_reaches_the_unused_with_a_new_link_that_carries_saved_answers(
    app, admin, factory, mailbox, woken
):
    wave_id = open_wave_with_staff(admin, factory)
    assert jobs.run_job(start_round(wave_id, "invitations")) == "succeeded"
    first = {r.to[0]: r.token for r in mailbox.received}
    sections = sections_of(db.session.get(Wave, wave_id))
    assert (
        Respondent(app.test_client(), first["ann@council.example"]).complete(sections).status_code
        == 302
    )
    bob = Respondent(app.test_client(), first["bob@council.example"])
    bob.open()
    assert bob.answer_about().status_code == 302
    mailbox.clear()

    job_id = start_round(wave_id, "reminders")
    assert jobs.run_job(job_id) == "succeeded"
    assert fresh(job_id).summary_text == "Reminders (round 1) sent: 4."
    reminded = {r.to[0]: r.token for r in mailbox.received}
    assert sorted(reminded) == sorted(set(STAFF_EMAILS) - {"ann@council.example"})
    assert {a.email: a.reminders_sent for a in addresses()} == {
        e: (0 if e == "ann@council.example" else 1) for e in STAFF_EMAILS
    }
    elsewhere = app.test_client().get(f"/s/{reminded['bob@council.example']}")
    assert elsewhere.headers["Location"] == "/survey/"  # sealed under the earlier link's key
    resumed = bob.client.get(f"/s/{reminded['bob@council.example']}")
    assert resumed.headers["Location"] == "/survey/resume"  # his browser holds the key
    assert app.test_client().get(f"/s/{first['bob@council.example']}").status_code == 302


def test_a_worker_killed_mid_round_is_resumed_and_only_the_message_in_flight_goes_twice(
    app, admin, factory, mailbox, woken, monkeypatch
):
    wave_id = open_wave_with_staff(admin, factory)
    real = rounds.deliver
    calls: list[str] = []

    def deliver_then_die(smtp, message):  # type: ignore[no-untyped-def]
        why = real(smtp, message)  # the server has the message ...
        calls.append(message["To"])
        if len(calls) == 3:
            raise Killed  # ... and the worker dies before recording it
        return why

    monkeypatch.setattr(rounds, "deliver", deliver_then_die)
    job_id = start_round(wave_id, "invitations")
    with pytest.raises(Killed):
        jobs.run_job(job_id, owner="dead")
    db.session.rollback()
    in_flight = calls[2]
    states = Counter(a.outbox for a in addresses())
    assert states == {"sent": 2, "handed": 1, "to_send": 2}
    assert fresh(job_id).state == "running"

    expire_lease(job_id)
    assert sweep(app).requeued == (job_id,)
    assert jobs.run_job(job_id) == "succeeded"
    received = Counter(r.to[0] for r in mailbox.received)
    assert set(received) == set(STAFF_EMAILS)  # none missed
    assert [e for e, n in received.items() if n > 1] == [in_flight]  # one duplicate, in flight
    assert received[in_flight] == 2
    assert links_of(in_flight) == 2
    assert {a.outbox for a in addresses()} == {"sent"}
    assert fresh(job_id).attempts == 2

    # Either of the in-flight person's two links works, once.
    first, second = [r.token for r in mailbox.received if r.to[0] == in_flight]
    sections = sections_of(db.session.get(Wave, wave_id))
    assert Respondent(app.test_client(), second).complete(sections).status_code == 302
    assert app.test_client().get(f"/s/{first}").status_code == 409


def test_a_mail_server_that_cannot_be_used_fails_the_round_and_a_retry_sends_the_rest(
    app, admin, factory, mailbox, woken
):
    wave_id = open_wave_with_staff(admin, factory)
    port = app.config["SMTP_PORT"]
    app.config["SMTP_PORT"] = 1  # nothing listens there
    job_id = start_round(wave_id, "invitations")
    assert jobs.run_job(job_id) == "failed"
    assert "could not connect to the mail server" in fresh(job_id).error
    assert Counter(a.outbox for a in addresses()) == {"to_send": 5}
    assert db.session.scalar(select(func.count(InvitationLink.id))) == 0  # no link left
    assert db.session.scalar(select(func.count(Invitation.id))) == 0  # nor an invitation
    app.config["SMTP_PORT"] = port
    with write_transaction():
        jobs.retry_job(db.session.get(Job, job_id), actor="test")
    assert jobs.run_job(job_id) == "succeeded"
    assert sorted(r.to[0] for r in mailbox.received) == sorted(STAFF_EMAILS)


def test_a_round_for_a_wave_that_is_not_open_fails_clearly(app, admin, factory, mailbox, woken):
    relationship = factory.relationship()
    wave_id = factory.wave(relationship, "2024-Q1", state="draft").id
    job_id = start_round(wave_id, "reminders")
    assert jobs.run_job(job_id) == "failed"
    assert (
        fresh(job_id).error == "Wave 2024-Q1 is draft: reminders can be sent only while it is open"
    )
