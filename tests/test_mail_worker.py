"""Crash-safe sending with real workers: a round of invitations sent by a ``relhealth worker``
to a real local SMTP server (aiosmtpd), the worker killed with SIGKILL mid-round and a new one
started: every address receives its invitation, and no more messages go twice than were in
flight at the kill (the round sends with one thread: at most one). On both queue back-ends
(huey on an SQLite file, and on Redis), as ``make run`` starts workers.
"""

from __future__ import annotations

import signal
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import insert, select

from survey_app.database import write_transaction
from survey_app.extensions import db
from survey_app.models import InvitationAddress
from survey_app.models.job import utcnow
from survey_app.services import jobs
from tests.job_support import job_row, stop, wait_for, worker
from tests.smtp_mailbox import SENDER, serving

pytestmark = pytest.mark.slow

PEOPLE = 60
#: Messages a minute: slow enough to kill the worker mid-round, fast enough for a test.
PACE = 1200


def test_a_worker_killed_mid_round_misses_nobody_and_repeats_only_what_was_in_flight(
    app,
    factory,
    queue,  # noqa: F811
    spawn,  # noqa: F811
):
    wave = factory.wave()
    client = wave.relationship.party("client")
    emails = [f"person{n:03d}@council.example" for n in range(PEOPLE)]
    with write_transaction():
        db.session.execute(
            insert(InvitationAddress.__table__),
            [
                {"wave_id": wave.id, "email": e, "party_id": client.id, "added_on": date.today(),
                 "reminders_sent": 0}
                for e in emails
            ],
        )  # fmt: skip
    with serving(app) as mailbox:
        env = {
            **queue,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(app.config["SMTP_PORT"]),
            "SMTP_SECURITY": "none",
            "MAIL_FROM": SENDER,
            "MAIL_MAX_PER_MINUTE": str(PACE),
        }
        with write_transaction():
            job_id = jobs.submit_job("mail.round", {"wave_id": wave.id, "kind": "invitations"}).id
        first = worker(spawn, env, "first-worker")
        wait_for(lambda: len(mailbox.received) >= PEOPLE // 4, "a quarter of the round sent")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        db.session.rollback()
        at_kill = Counter(
            db.session.scalars(
                select(InvitationAddress.outbox).where(InvitationAddress.wave_id == wave.id)
            )
        )
        in_flight = at_kill["handed"]
        assert in_flight <= 1 and at_kill["to_send"] > 0  # killed mid-round, one thread
        wait_for(lambda: job_row(job_id).lease_expires_at < utcnow(), "the lease to run out", 10)
        second = worker(spawn, env, "second-worker")
        wait_for(lambda: job_row(job_id).finished, "the restarted worker to finish the round")
        assert job_row(job_id).state == "succeeded"
        received = Counter(r.to[0] for r in mailbox.received)
        assert stop(second) == 0
    assert set(received) == set(emails)  # nobody missed
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= in_flight
    db.session.rollback()
    assert set(
        db.session.scalars(
            select(InvitationAddress.outbox).where(InvitationAddress.wave_id == wave.id)
        )
    ) == {"sent"}
