"""The relhealth command line: each command works, and each bad argument fails clearly."""

from __future__ import annotations

import csv
import hashlib

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import (
    AuditEvent,
    Invitation,
    InvitationAddress,
    InvitationLink,
    Job,
    Relationship,
    User,
    Wave,
)
from survey_app.services.jobs import close_job_key, round_job_key
from tests.factories import STAFF, STAFF_EMAILS, Respondent, sections_of, staff_csv
from tests.smtp_mailbox import free_port, serving


def invoke(runner, *args: str, **kwargs):
    return runner.invoke(args=list(args), catch_exceptions=False, **kwargs)


def create_relationship(runner):
    return invoke(
        runner,
        "relationship", "create", "Council — Supplier",
        "--client", "The Council", "--supplier", "The Supplier",
        "--area", "Core ICT", "--area", "Contact centre",
    )  # fmt: skip


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_relationship_is_created_with_two_parties_and_its_areas(runner):
    result = create_relationship(runner)
    assert result.exit_code == 0, result.output
    rel = db.session.scalar(select(Relationship))
    assert {p.side: p.name for p in rel.parties} == {
        "client": "The Council",
        "supplier": "The Supplier",
    }
    assert [a.key for a in rel.service_areas] == ["core-ict", "contact-centre"]


def test_a_duplicate_relationship_fails_with_a_message_and_changes_nothing(runner):
    create_relationship(runner)
    result = create_relationship(runner)
    assert result.exit_code == 1
    assert "already exists" in result.output
    shouted = invoke(
        runner,
        "relationship", "create", "  COUNCIL — SUPPLIER ",
        "--client", "The Council", "--supplier", "The Supplier", "--area", "Core ICT",
    )  # fmt: skip
    assert shouted.exit_code == 1 and "already exists" in shouted.output  # whatever the case
    assert count(Relationship) == 1


def test_a_missing_option_is_a_usage_error(runner):
    result = invoke(runner, "relationship", "create", "X", "--client", "A")
    assert result.exit_code == 2
    assert "--supplier" in result.output


def test_a_wave_is_created_opened_and_closed_freezing_its_instrument(runner):
    create_relationship(runner)
    result = invoke(runner, "wave", "create", "Council — Supplier", "2024-Q1")
    assert result.exit_code == 0, result.output
    wave = db.session.scalar(select(Wave))
    assert wave.state == "draft"
    assert len(wave.instrument_version.content_hash) == 64
    assert wave.instrument_version.definition["key"] == "partnership-health"
    assert invoke(runner, "wave", "open", "Council — Supplier", "2024-Q1").exit_code == 0
    closed = invoke(runner, "wave", "close", "Council — Supplier", "2024-Q1")
    assert closed.exit_code == 0, closed.output
    assert "Wave 2024-Q1 is closed: its results are computed" in closed.stdout
    db.session.expire_all()
    assert db.session.scalar(select(Wave)).state == "closed"
    (job,) = db.session.scalars(select(Job)).all()  # the "Close wave" button's job and key
    assert (job.kind, job.state) == ("wave.close", "succeeded")
    assert job.idempotency_key == close_job_key(wave.id)
    listing = invoke(runner, "wave", "list", "Council — Supplier")
    assert "2024-Q1\tclosed" in listing.output


def test_illegal_wave_transitions_fail_clearly(runner):
    create_relationship(runner)
    invoke(runner, "wave", "create", "Council — Supplier", "2024-Q1")
    result = invoke(runner, "wave", "close", "Council — Supplier", "2024-Q1")
    assert result.exit_code == 1
    assert "only an open wave can be closed" in result.output
    invoke(runner, "wave", "open", "Council — Supplier", "2024-Q1")
    invoke(runner, "wave", "close", "Council — Supplier", "2024-Q1")
    result = invoke(runner, "wave", "open", "Council — Supplier", "2024-Q1")
    assert result.exit_code == 1 and "only a draft wave can be opened" in result.output


def test_wave_commands_name_what_is_unknown(runner):
    create_relationship(runner)
    result = invoke(runner, "wave", "create", "No such relationship", "2024-Q1")
    assert result.exit_code == 1 and "no relationship 'No such relationship'" in result.output
    result = invoke(runner, "wave", "create", "Council — Supplier", "2024-Q1", "--version", "99")
    assert result.exit_code == 1 and "no instrument" in result.output
    result = invoke(runner, "wave", "create", "Council — Supplier", "bad/label!")
    assert result.exit_code == 1 and "wave label" in result.output
    result = invoke(runner, "wave", "open", "Council — Supplier", "2030-Q9")
    assert result.exit_code == 1 and "has no wave '2030-Q9'" in result.output
    assert count(Wave) == 0


def test_invitations_are_written_to_a_csv_and_stored_only_as_hashes(runner, tmp_path, app):
    create_relationship(runner)
    invoke(runner, "wave", "create", "Council — Supplier", "2024-Q1")
    out = tmp_path / "links.csv"
    result = invoke(
        runner, "invite", "Council — Supplier", "2024-Q1",
        "--side", "supplier", "-n", "5", "--area", "contact-centre", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5
    assert all(r["side"] == "supplier" and r["service_area"] == "Contact centre" for r in rows)
    tokens = [r["link"].rsplit("/s/", 1)[1] for r in rows]
    assert all(r["link"].startswith("http://survey.test/s/") for r in rows)
    hashes = set(db.session.scalars(select(InvitationLink.token_hash)))
    assert hashes == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
    assert not any(t in h for t in tokens for h in hashes)


def test_invite_refuses_an_existing_file_an_unknown_area_and_a_closed_wave(runner, tmp_path):
    create_relationship(runner)
    invoke(runner, "wave", "create", "Council — Supplier", "2024-Q1")
    existing = tmp_path / "links.csv"
    existing.write_text("keep me")
    base = ["invite", "Council — Supplier", "2024-Q1", "--side", "client", "-n", "2"]
    result = invoke(runner, *base, "-o", str(existing))
    assert result.exit_code == 1 and "already exists" in result.output
    assert existing.read_text() == "keep me"
    result = invoke(runner, *base, "--area", "mars", "-o", str(tmp_path / "a.csv"))
    assert result.exit_code == 1 and "no service area 'mars'" in result.output
    # two links fixed to one area would let a used one show who answered (issue 11, leak 5d)
    result = invoke(runner, *base, "--area", "core-ict", "-o", str(tmp_path / "small.csv"))
    assert result.exit_code == 1 and "fewer than 5 invitations of one side" in result.output
    assert "issue at least 5, or leave the area out" in result.output
    assert not (tmp_path / "small.csv").exists()
    result = invoke(runner, *base[:-1], "0", "-o", str(tmp_path / "b.csv"))
    assert result.exit_code == 2
    invoke(runner, "wave", "open", "Council — Supplier", "2024-Q1")
    invoke(runner, "wave", "close", "Council — Supplier", "2024-Q1")
    result = invoke(runner, *base, "-o", str(tmp_path / "c.csv"))
    assert result.exit_code == 1 and "closed" in result.output
    assert count(Invitation) == 0


def test_users_are_created_with_a_role_and_a_hashed_password(runner):
    result = invoke(
        runner, "user", "create", "Ana@Example.org", "--name", "Ana", "--role", "reviewer",
        "--password", "correct horse battery",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert user.email == "ana@example.org" and user.role == "reviewer"
    assert "correct horse" not in user.password_hash
    assert user.check_password("correct horse battery")


def test_a_user_may_hold_the_role_on_named_relationships_only(runner, factory):
    factory.relationship()
    result = invoke(
        runner, "user", "create", "m@example.org", "--name", "M", "--role", "manager",
        "--relationship", "Test Council — Test Supplier", "--password", "correct horse battery",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "of Test Council — Test Supplier" in result.output
    user = db.session.scalar(select(User))
    assert user.role is None and [m.role for m in user.memberships] == ["manager"]
    unknown = invoke(
        runner, "user", "create", "n@example.org", "--name", "N", "--role", "manager",
        "--relationship", "Nowhere", "--password", "correct horse battery",
    )  # fmt: skip
    assert unknown.exit_code == 1 and count(User) == 1


def test_bad_users_are_refused(runner):
    result = invoke(
        runner,
        "user",
        "create",
        "not-an-email",
        "--name",
        "X",
        "--role",
        "admin",
        "--password",
        "short",
    )
    assert result.exit_code == 1
    assert "not an email address" in result.output and "at least 12 characters" in result.output
    result = invoke(
        runner, "user", "create", "a@b.org", "--name", "X", "--role", "king", "--password", "x" * 12
    )
    assert result.exit_code == 2
    assert count(User) == 0


def test_instrument_check_validates_the_shipped_instruments(runner, tmp_path):
    result = invoke(runner, "instrument", "check")
    assert result.exit_code == 0, result.output
    assert "partnership-health v1" in result.output
    bad = tmp_path / "v1.yaml"
    bad.write_text("key: [unclosed\n")
    result = runner.invoke(args=["instrument", "check", str(bad)])
    assert result.exit_code == 1
    assert str(bad) in result.output


# ------------------------------------------------------------ sending email

REL = "Test Council — Test Supplier"


@pytest.fixture
def mailbox(app):
    with serving(app) as box:
        yield box


def wave_with_staff(factory) -> int:
    """A draft wave with five people on its address list."""
    from survey_app.services.imports import load_staff_list

    wave = factory.wave(factory.relationship(), "2024-Q1", state="draft")
    load_staff_list(wave, staff_csv(STAFF), actor="test", filename="staff.csv")
    db.session.commit()
    return wave.id


@pytest.fixture
def staffed(factory, runner) -> int:
    """An open wave with five people on its address list."""
    wave_id = wave_with_staff(factory)
    assert invoke(runner, "wave", "open", REL, "2024-Q1").exit_code == 0
    return wave_id


def test_send_invitations_sends_to_everybody_as_the_pages_job(runner, mailbox, staffed):
    result = invoke(runner, "send-invitations", REL, "2024-Q1")
    assert result.exit_code == 0, result.output
    assert sorted(r.to[0] for r in mailbox.received) == STAFF_EMAILS  # each exactly once
    assert result.stdout.splitlines() == ["2024-Q1: Invitations sent: 5."]
    assert "Job 1: 5 of 5 addresses done" in result.stderr  # its progress
    tokens = [r.token for r in mailbox.received]
    assert not any(t in result.output for t in tokens)  # never a link
    assert count(Invitation) == 5
    (job,) = db.session.scalars(select(Job)).all()  # the invitations page's job and key
    assert (job.kind, job.parameters, job.state) == (
        "mail.round",
        {"wave_id": staffed, "kind": "invitations"},
        "succeeded",
    )
    assert job.idempotency_key == round_job_key(staffed, "invitations")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "invitations.round"))
    assert [(e.actor, e.detail["sent"]) for e in events] == [("worker", 5)]

    again = invoke(runner, "send-invitations", REL, "2024-Q1", "--inline")
    assert again.exit_code == 0
    assert "Nobody was waiting for invitations: nothing was sent" in again.output
    assert len(mailbox.received) == 5


def test_a_refused_address_is_listed_and_can_be_tried_again(runner, mailbox, staffed):
    mailbox.refuse = {"cat@council.example"}
    result = invoke(runner, "send-invitations", REL, "2024-Q1")
    assert result.exit_code == 0, result.output
    assert (
        "2024-Q1: Invitations sent: 4. Could not be sent: 1 (see the failed addresses)."
        in result.stdout
    )
    assert "Not sent to cat@council.example: refused by the mail server: 550" in result.stderr
    assert "--retry-failed" in result.stderr
    assert count(Invitation) == 4

    mailbox.refuse = set()
    again = invoke(runner, "send-invitations", REL, "2024-Q1", "--retry-failed")
    assert again.exit_code == 0, again.output
    assert "2024-Q1: Invitations sent: 1." in again.output and "Not sent" not in again.output
    assert mailbox.received[-1].to == ["cat@council.example"]
    assert count(Invitation) == 5


def test_a_reminder_the_server_refused_goes_again_with_retry_failed(runner, mailbox, staffed):
    invoke(runner, "send-invitations", REL, "2024-Q1")
    mailbox.clear()
    mailbox.refuse = {"cat@council.example"}
    first = invoke(runner, "send-reminders", REL, "2024-Q1")
    assert first.exit_code == 0, first.output
    assert (
        "2024-Q1: Reminders (round 1) sent: 4. Could not be sent: 1 (see the failed addresses)."
        in first.stdout
    )
    assert "Not sent to cat@council.example" in first.stderr
    mailbox.refuse = set()
    again = invoke(runner, "send-reminders", REL, "2024-Q1", "--retry-failed")
    assert again.exit_code == 0, again.output
    assert "2024-Q1: Reminders (round 1) sent: 1." in again.stdout
    assert [r.to[0] for r in mailbox.received][-1] == "cat@council.example"
    assert len(mailbox.received) == 5  # the four of round 1, then cat's
    db.session.expire_all()
    reminded = dict(
        db.session.execute(select(InvitationAddress.email, InvitationAddress.reminders_sent)).all()
    )
    assert set(reminded.values()) == {1}  # everybody reached once in round 1


def test_send_reminders_reaches_those_who_have_not_submitted(app, runner, mailbox, staffed):
    invoke(runner, "send-invitations", REL, "2024-Q1")
    first = {r.to[0]: r.token for r in mailbox.received}
    ann = Respondent(app.test_client(), first["ann@council.example"])
    assert ann.complete(sections_of(db.session.get(Wave, staffed))).status_code == 302
    mailbox.clear()

    result = invoke(runner, "send-reminders", REL, "2024-Q1")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["2024-Q1: Reminders (round 1) sent: 4."]
    assert sorted(r.to[0] for r in mailbox.received) == [
        e for e in STAFF_EMAILS if e != "ann@council.example"
    ]
    for received in mailbox.received:
        assert received.message["Subject"].startswith("Reminder: ")
        assert received.token not in result.output
        assert app.test_client().get(f"/s/{received.token}").status_code == 302
    db.session.expire_all()
    reminded = dict(
        db.session.execute(select(InvitationAddress.email, InvitationAddress.reminders_sent)).all()
    )
    assert reminded == {e: (0 if e == "ann@council.example" else 1) for e in STAFF_EMAILS}


@pytest.mark.parametrize(
    ("args", "setup", "message"),
    [
        (["No such relationship", "2024-Q1"], None, "no relationship 'No such relationship'"),
        ([REL, "2030-Q9"], None, "has no wave '2030-Q9'"),
        ([REL, "2024-Q1"], "draft", "Wave 2024-Q1 is draft"),
        ([REL, "2024-Q1"], "closed", "Wave 2024-Q1 is closed"),
        ([REL, "2024-Q1"], "no smtp", "email is not set up: set SMTP_HOST and MAIL_FROM"),
        ([REL, "2024-Q1"], "no list", "wave 2024-Q1 has no address list"),
    ],
    ids=["relationship", "wave", "draft", "closed", "no SMTP", "no address list"],
)
@pytest.mark.parametrize("command", ["send-invitations", "send-reminders"])
def test_sending_refuses_bad_input_clearly(
    app, runner, factory, mailbox, command, args, setup, message
):
    if setup == "no list":
        factory.wave(factory.relationship(), "2024-Q1", state="open")
    else:
        wave_with_staff(factory)
        if setup != "draft":
            invoke(runner, "wave", "open", REL, "2024-Q1")
        if setup == "closed":
            invoke(runner, "wave", "close", REL, "2024-Q1")
    if setup == "no smtp":
        app.config.update(SMTP_HOST="", MAIL_FROM="")
    result = invoke(runner, command, *args)
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1  # one line: "Error: ..."
    assert mailbox.received == [] and count(Invitation) == 0


def test_an_unreachable_server_stops_sending_with_exit_status_1(app, runner, staffed):
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=free_port(),
        SMTP_SECURITY="none",
        MAIL_FROM="survey@council.example",
    )
    result = invoke(runner, "send-invitations", REL, "2024-Q1")
    assert result.exit_code == 1
    assert (
        "failed: Sending stopped: could not connect to the mail server 127.0.0.1:"
        in (result.output.splitlines()[-1])
    )
    assert count(Invitation) == 0
