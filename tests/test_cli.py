"""The relhealth command line: each command works, and each bad argument fails clearly."""

from __future__ import annotations

import csv
import hashlib

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Invitation, Relationship, User, Wave


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
    assert {p.side: p.name for p in rel.parties} == {"client": "The Council", "supplier": "The Supplier"}
    assert [a.key for a in rel.service_areas] == ["core-ict", "contact-centre"]


def test_a_duplicate_relationship_fails_with_a_message_and_changes_nothing(runner):
    create_relationship(runner)
    result = create_relationship(runner)
    assert result.exit_code == 1
    assert "already exists" in result.output
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
    assert invoke(runner, "wave", "close", "Council — Supplier", "2024-Q1").exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(Wave)).state == "closed"
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
        "--side", "supplier", "-n", "3", "--area", "contact-centre", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3
    assert all(r["side"] == "supplier" and r["service_area"] == "Contact centre" for r in rows)
    tokens = [r["link"].rsplit("/s/", 1)[1] for r in rows]
    assert all(r["link"].startswith("http://survey.test/s/") for r in rows)
    hashes = set(db.session.scalars(select(Invitation.token_hash)))
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


def test_bad_users_are_refused(runner):
    result = invoke(runner, "user", "create", "not-an-email", "--name", "X", "--role", "admin", "--password", "short")
    assert result.exit_code == 1
    assert "not an email address" in result.output and "at least 12 characters" in result.output
    result = invoke(runner, "user", "create", "a@b.org", "--name", "X", "--role", "king", "--password", "x" * 12)
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
