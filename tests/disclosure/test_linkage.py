"""Linkage attacks (issue 11, leak 5): an admin who holds the address list (email → invitation)
and copies of the database files and the logs, taken while a wave runs, tries to say which
response is whose. Each test plays one attack on responses submitted through personal links in
a known order, and shows that it links nobody (or, where the README's threat model says a
thing is not protected, that the limit is exactly as stated).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import ProgrammingError

from survey_app.extensions import db
from survey_app.models import Answer, AuditEvent, InvitationAddress
from survey_app.services.invitations import hash_token
from tests.disclosure.files import commit_ends, contains, copy_files, states_in_log, wal_bytes
from tests.disclosure.logs import AccessLog
from tests.factories import Respondent

PEOPLE = 5


def n_sections() -> int:
    from instruments import find_instrument

    inst = find_instrument("partnership-health", 1)
    return len(inst.dimensions) + (1 if inst.comments else 0)


@dataclass
class Wave:
    wave: object
    tokens: list[str]

    def hashes(self) -> list[str]:
        return [hash_token(t) for t in self.tokens]


@pytest.fixture
def running(factory) -> Wave:
    wave = factory.wave()
    return Wave(wave, factory.tokens(wave, "client", PEOPLE))


def submit(client, token: str, value: str = "4") -> None:  # type: ignore[no-untyped-def]
    response = Respondent(client, token).complete(n_sections(), value)
    assert response.status_code == 302, response.status_code
    db.session.remove()  # the test holds no read transaction open, as no request would


@pytest.fixture
def sqlite_only(dialect: str) -> None:
    if dialect != "sqlite":
        pytest.skip("the database files of SQLite")


def used_and_stored(connection: sqlite3.Connection) -> tuple[set[str], set[str]]:
    used = {
        r[0]
        for r in connection.execute(
            "SELECT l.token_hash FROM invitation_links l JOIN invitations i "
            "ON i.id = l.invitation_id WHERE i.used_on IS NOT NULL"
        )
    }
    stored = {r[0] for r in connection.execute("SELECT id FROM responses")}
    return used, stored


def link_by_difference(states: list[tuple[set[str], set[str]]]) -> dict[str, str]:
    """Invitation hash → response id wherever one state adds exactly one of each."""
    links = {}
    for (used_before, stored_before), (used_after, stored_after) in zip(states, states[1:]):
        used, stored = used_after - used_before, stored_after - stored_before
        if len(used) == 1 and len(stored) == 1:
            links[used.pop()] = stored.pop()
    return links


def test_the_write_ahead_log_holds_no_submit(
    app, client, running, sqlite_only, tmp_path: Path
) -> None:
    """Leak 5b: each submit is one transaction (invitation used, response stored, draft
    deleted); replaying the ``-wal`` file commit by commit would pair them. The log is
    checkpointed and truncated after every submit, so a copy holds no submit to replay."""
    for number, token in enumerate(running.tokens):
        submit(client, token, value=str(1 + number % 5))
    copy = copy_files(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "copy")
    states = list(states_in_log(copy, tmp_path / "replay", used_and_stored))
    with sqlite3.connect(copy) as connection:
        used, stored = used_and_stored(connection)
    assert len(used) == len(stored) == PEOPLE  # the copy is complete...
    assert link_by_difference(states) == {}  # ...and no transaction of the log links anyone
    assert commit_ends(wal_bytes(copy)) == []


def test_deleted_addresses_are_gone_from_the_files_after_close(
    app, client, factory, running, sqlite_only, tmp_path: Path
) -> None:
    """Leak 5b: the address list is deleted at close, but without ``secure_delete`` its rows
    stay in the file's free space (and in the log) for anyone with a copy. Within a minute
    of close (the worker's checkpoint tick) no address is anywhere in the files."""
    from survey_app.services.jobs.kinds import checkpoint_log
    from survey_app.services.waves import close_wave

    emails = [f"person{n}@council.example" for n in range(PEOPLE)]
    party = running.wave.relationship.party("client")
    db.session.execute(
        insert(InvitationAddress),
        [
            {"wave_id": running.wave.id, "email": e, "party_id": party.id, "added_on": date.today()}
            for e in emails
        ],
    )
    db.session.commit()
    submit(client, running.tokens[0])
    close_wave(db.session.merge(running.wave))
    db.session.commit()
    checkpoint_log()
    copy = copy_files(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "copy")
    found = [e for e in emails if contains(copy, e.encode())]
    assert found == []


def test_two_copies_a_submit_apart_link_that_submit(
    app, client, running, sqlite_only, tmp_path: Path
) -> None:
    """The threat model's stated limit: inserts are not batched, so two copies of the files
    taken either side of one known submit differ by exactly that invitation and that
    response. (Should submits ever be batched, this test must change with the README.)"""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    submit(client, running.tokens[0])
    before = copy_files(url, tmp_path / "before")
    submit(client, running.tokens[1])
    after = copy_files(url, tmp_path / "after")
    states = []
    for copy in (before, after):
        with sqlite3.connect(copy) as connection:
            states.append(used_and_stored(connection))
    links = link_by_difference(states)
    assert list(links) == [running.hashes()[1]]


def test_a_busy_reader_keeps_the_log_and_says_so(
    app, client, running, sqlite_only, tmp_path: Path
) -> None:
    """The checkpoint's result is checked: while another connection reads, TRUNCATE cannot
    finish (busy), the submit does not wait for it, and the next attempt empties the log."""
    from survey_app.database import checkpoint_wal

    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM invitations").fetchone()
    submit(client, running.tokens[0])  # its own attempt is busy: the log stays
    copy = copy_files(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "copy")
    assert commit_ends(wal_bytes(copy)) != []
    assert checkpoint_wal(wait=False) is False
    reader.execute("COMMIT")
    reader.close()
    assert checkpoint_wal(wait=False) is True
    assert wal_bytes(copy_files(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "after")) == b""


def test_the_minute_checkpoint_holds_writers_for_a_moment_only_while_a_reader_stays(
    app, sqlite_only, tmp_path: Path
) -> None:
    """The tick's TRUNCATE holds the writer lock while it waits for readers: it gives up after
    CHECKPOINT_WAIT_MS (not the 15 s busy timeout), and empties the log once nobody reads."""
    from survey_app.database import CHECKPOINT_WAIT_MS, checkpoint_wal
    from survey_app.services.jobs.kinds import checkpoint_log

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    path = uri.removeprefix("sqlite:///")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM invitations").fetchone()
    db.session.add(AuditEvent(action="tick.probe", actor="test", detail={}))
    db.session.commit()  # a write the reader's snapshot does not see
    began = time.monotonic()
    checkpoint_log()  # the tick: busy this minute, logged
    assert time.monotonic() - began < CHECKPOINT_WAIT_MS / 1000 + 1.5
    assert wal_bytes(copy_files(uri, tmp_path / "busy")) != b""
    reader.execute("COMMIT")
    reader.close()
    assert checkpoint_wal() is True
    assert wal_bytes(copy_files(uri, tmp_path / "after")) == b""


class LoggedClient:
    """A browser whose every request reaches the access log, as behind gunicorn."""

    def __init__(self, client, log: AccessLog) -> None:  # type: ignore[no-untyped-def]
        self.client, self.log = client, log

    def get(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.log.request(self.client, "GET", path, **kwargs)

    def post(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.log.request(self.client, "POST", path, **kwargs)


def test_the_access_log_gives_no_size_and_no_minute(app, client, factory, running, tmp_path):
    """Leak 5c: ``GET /survey/check`` lists the respondent's answers, so its logged size,
    calibrated with probe links, says what they answered, and its logged second says who
    (whoever was seen submitting then). Respondent routes are now logged without size or
    duration and with the hour only; the calibration attack links nobody."""
    log = AccessLog(tmp_path / "access.log")
    try:
        for number, token in enumerate(running.tokens):  # everyone answers differently
            submit(LoggedClient(client, log), token, value=str(1 + number))
        probes = factory.tokens(running.wave, "client", 5)
        for value, token in enumerate(probes, start=1):  # the intruder's calibration
            probe = Respondent(LoggedClient(app.test_client(), log), token)
            probe.open()
            probe.answer_about()
            for number in range(1, n_sections() + 1):
                probe.answer_section(number, str(value))
            probe.client.get("/survey/check")
        lines = log.lines()
    finally:
        log.close()
    checks = [line["b"] for line in lines if line["r"] == "GET /survey/check HTTP/1.1"]
    people, calibration = checks[:PEOPLE], checks[PEOPLE:]
    value_of_size = {size: value for value, size in enumerate(calibration, start=1)}
    stored = dict(db.session.execute(select(Answer.response_id, Answer.value).distinct()).all())
    response_of_value = {value: rid for rid, value in stored.items()}
    links = {
        token: response_of_value[value_of_size[size]]
        for token, size in zip(running.tokens, people, strict=True)
        if size in value_of_size and len(set(calibration)) == len(calibration)
    }
    assert links == {}
    survey_lines = [line for line in lines if "/s/" in line["r"] or "/survey" in line["r"]]
    assert survey_lines and all(
        re.search(r":00:00 [+-]\d{4}$", line["t"]) and line["b"] == line["M"] == "-"
        for line in survey_lines
    )


def test_werkzeug_and_the_apps_own_lines_time_respondents_to_the_hour(app, caplog) -> None:
    """The same rule in the development server's log and in the app's own messages logged
    during a respondent's request; other routes keep their sizes and seconds."""
    from flask.logging import default_handler

    werkzeug = logging.getLogger("werkzeug")
    line = '127.0.0.1 - - [03/Dec/2026 07:41:09] "%s" %s %s\n'
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        werkzeug.info(line, "GET /survey/check HTTP/1.1", "200", "18234")
        werkzeug.info(line, "GET /dashboard/ HTTP/1.1", "200", "18234")
    survey, other = (record.getMessage().strip() for record in caplog.records[-2:])
    assert survey == '127.0.0.1 - - [03/Dec/2026 07:00:00] "GET /survey/check HTTP/1.1" 200 -'
    assert other == '127.0.0.1 - - [03/Dec/2026 07:41:09] "GET /dashboard/ HTTP/1.1" 200 18234'
    assert caplog.records[-2].created % 3600 == 0

    def logged_at(path: str) -> float:
        record = logging.LogRecord(
            "survey_app.services.x", logging.WARNING, "", 1, "busy", (), None
        )
        record.created = 1_796_284_869.5  # 1 min 9.5 s past an hour
        with app.test_request_context(path):
            assert default_handler.filter(record)
        return record.created

    assert logged_at("/survey/section/3") == 1_796_284_800.0
    assert logged_at("/admin/") == 1_796_284_869.5


def test_drafts_read_during_the_wave_link_nobody(app, client, factory, running, tmp_path) -> None:
    """Leak 5a: drafts were stored in clear under their link's hash, so reading them while the
    wave ran and matching each person's last draft to a response named every respondent.
    Drafts are now sealed: the reader sees same-sized ciphertexts and no answer (both
    databases; on SQLite the copied files hold no answer text either)."""
    from survey_app.models import Draft

    browsers = {}
    for number, token in enumerate(running.tokens):  # everyone answers all but the last page
        person = Respondent(app.test_client(), token)
        person.open()
        person.answer_about()
        for section in range(1, n_sections()):
            person.answer_section(section, str(1 + number))
        browsers[token] = person
    db.session.remove()
    person_of_link = dict(zip(running.hashes(), running.tokens, strict=True))
    seen = {}  # what the intruder reads from the drafts table while the wave runs
    for draft in db.session.scalars(select(Draft)):
        text = draft.data if draft.data is not None else draft.sealed
        seen[person_of_link[draft.token_hash]] = text
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        copy = copy_files(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "copy")
        assert not contains(copy, b'"answers"') and not contains(copy, b'"about"')
    db.session.remove()
    for token, person in browsers.items():
        person.answer_section(n_sections(), "4")
        assert person.post("/survey/check", {}).status_code == 302
    db.session.remove()
    answers_of = {}
    for response_id, value in db.session.execute(select(Answer.response_id, Answer.value)):
        answers_of.setdefault(response_id, []).append(value)
    links = {}
    for token, text in seen.items():
        if isinstance(text, dict):  # a draft in clear: its answers are the person's
            values = sorted(text["answers"].values())
            matches = [r for r, v in answers_of.items() if sorted(v)[: len(values)] == values]
            if len(matches) == 1:
                links[token] = matches[0]
    assert links == {}
    assert len({len(text) for text in seen.values()}) == 1  # nothing in their sizes either


def test_a_one_person_invitation_area_names_nobody(app, client, factory) -> None:
    """Leak 5d: an area with one invited person and one used invitation named its respondent
    (and the response stored with that area). A staff list's areas with fewer than k people
    of a party are no longer fixed on invitations: the intruder finds no group of one."""
    import csv
    import io

    from survey_app.models import Invitation, Response
    from survey_app.services.imports import load_staff_list
    from survey_app.services.mailing.mail_merge import mail_merge_invitations

    wave = factory.wave()
    people = [("ann@council.example", "client", "Core ICT")] + [
        (f"p{n}@council.example", "client", "") for n in range(5)
    ]
    staff = io.StringIO()
    csv.writer(staff).writerows([("email", "party", "service area"), *people])
    load_staff_list(wave, io.BytesIO(staff.getvalue().encode()), actor="test")
    db.session.commit()
    merged, _ = mail_merge_invitations(wave, actor="test")
    link_of = {
        row["email"]: row["link"] for row in csv.DictReader(io.StringIO(merged.lstrip("\ufeff")))
    }
    ann = Respondent(client, link_of["ann@council.example"].rsplit("/s/", 1)[1])
    assert ann.complete(n_sections()).status_code == 302  # she gives Core ICT on "About you"
    db.session.remove()
    # the intruder: invitation areas with every invitation used, and one person in them
    groups = db.session.execute(
        select(Invitation.service_area_id, func.count(), func.count(Invitation.used_on))
        .where(Invitation.wave_id == wave.id)
        .group_by(Invitation.service_area_id)
    ).all()
    named = [area for area, invited, used in groups if invited == used == 1]
    links = {
        area: db.session.scalars(select(Response.id).where(Response.service_area_id == area)).all()
        for area in named
    }
    assert links == {}
    assert sorted((invited, used) for _, invited, used in groups) == [(6, 1)]


def test_transaction_ids_pair_submits_while_open_and_nothing_after_close(
    app, client, running, dialect
) -> None:
    """The PostgreSQL ``xmin`` attack: a submit's invitation update and response rows share
    its transaction id, so while the wave is open a role that can read both tables pairs
    them (the threat model's stated limit). Closing rewrites them all in one transaction and
    vacuums: afterwards every row of the wave carries one ``xmin`` and nothing pairs."""
    if dialect != "postgresql":
        pytest.skip("PostgreSQL's transaction ids")
    from survey_app.services.waves import close_wave

    for number, token in enumerate(running.tokens[:3]):
        submit(client, token, value=str(1 + number))

    def xmins() -> tuple[dict[str, int], dict[str, str], set[str]]:
        invitations = dict(
            db.session.execute(
                text("SELECT xmin::text, id FROM invitations WHERE used_on IS NOT NULL")
            ).all()
        )
        responses = dict(db.session.execute(text("SELECT xmin::text, id FROM responses")).all())
        answers = set(db.session.scalars(text("SELECT DISTINCT xmin::text FROM answers")))
        db.session.commit()
        return invitations, responses, answers

    invitations, responses, answers = xmins()
    pairs = {invitations[x]: responses[x] for x in invitations.keys() & responses.keys()}
    assert len(pairs) == 3 and len(answers) == 3  # linked while open: the stated limit
    close_wave(db.session.merge(running.wave))
    db.session.commit()
    invitations, responses, answers = xmins()
    assert len(set(invitations) | set(responses) | answers) == 1  # one id for all of them
    assert len(invitations) == len(responses) == 1  # so no pair is any more likely than another
    # The row versions themselves, read from the pages (pgstattuple), not the statistics
    # view: a backend reports its updates' dead rows up to a second after its commit, so
    # n_dead_tup can count them after the VACUUM that removed them (seen once in CI: 114).
    db.session.execute(text("CREATE EXTENSION IF NOT EXISTS pgstattuple"))
    dead = db.session.scalar(
        text(
            "SELECT sum((pgstattuple(t)).dead_tuple_count)"
            " FROM unnest(ARRAY['responses', 'answers']) AS t"
        )
    )
    assert dead == 0  # vacuumed: the old versions are gone


def test_the_analysts_role_reads_responses_but_no_invitation(app, runner, running, dialect):
    """The threat model's PostgreSQL roles: ``relhealth analyst-role`` lets a role read the
    responses and results but not invitations, links, drafts or addresses, so it has no
    second table to compare a submit's transaction id with."""
    if dialect != "postgresql":
        result = runner.invoke(args=["analyst-role", "analyst"])
        assert result.exit_code == 1 and "PostgreSQL's" in result.output
        return
    role = f"analyst_{uuid.uuid4().hex[:8]}"
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} NOLOGIN")
    try:
        result = runner.invoke(args=["analyst-role", role])
        assert result.exit_code == 0, result.output
        readable = {}
        with db.engine.connect() as connection:
            for table in ("responses", "answers", "waves", "invitations", "invitation_links",
                          "drafts", "invitation_addresses", "users"):  # fmt: skip
                readable[table] = connection.exec_driver_sql(
                    "SELECT has_table_privilege(%(role)s, %(table)s, 'SELECT')",
                    {"role": role, "table": table},
                ).scalar()
            connection.exec_driver_sql(f"SET ROLE {role}")
            assert connection.exec_driver_sql("SELECT count(*) FROM responses").scalar() == 0
            with pytest.raises(ProgrammingError, match="permission denied"):
                connection.exec_driver_sql("SELECT xmin FROM invitations").all()
            connection.rollback()
        assert readable == {
            "responses": True, "answers": True, "waves": True, "invitations": False,
            "invitation_links": False, "drafts": False, "invitation_addresses": False,
            "users": False,
        }  # fmt: skip
    finally:
        with db.engine.begin() as connection:
            connection.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
            connection.exec_driver_sql(f"DROP ROLE {role}")
    assert runner.invoke(args=["analyst-role", "nobody_here"]).exit_code == 1
