"""Set-up of a load-test wave and the check of what the database holds afterwards.

These run inside an application context of the service bound to the same database.
Every respondent's answers are a deterministic function of its number, so the
check can recognise its response in the (anonymous) responses table: that is
how "lost" and "duplicated" are counted without any link in the database
between a response and an invitation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from benchmarks._browser import Respondent


def prepare_wave(respondents: int, label: str = "bench") -> tuple[int, list[Respondent]]:
    """An open wave (of a relationship of its own) with ``respondents`` personal links,
    half for each side; returns (wave id, respondents)."""
    from survey_app.extensions import db
    from survey_app.services.invitations import issue_invitations
    from survey_app.services.relationships import create_relationship
    from survey_app.services.waves import create_wave, open_wave

    relationship = create_relationship(
        f"Load-test Council {label} — Load-test Supplier",
        client="Load-test Council",
        supplier="Load-test Supplier",
        service_areas=["Core ICT", "Adult social care", "Revenues", "Contact centre"],
    )
    wave = create_wave(relationship, label)
    open_wave(wave)
    db.session.flush()
    clients = (respondents + 1) // 2
    issued = [("client", i) for i in issue_invitations(wave, "client", clients)]
    if respondents - clients:
        issued += [
            ("supplier", i) for i in issue_invitations(wave, "supplier", respondents - clients)
        ]
    db.session.commit()
    people = [Respondent(n, inv.token, side) for n, (side, inv) in enumerate(issued)]
    return wave.id, people


def database_totals() -> dict[str, int]:
    """Rows in the whole database (not only one wave): responses, used links, drafts."""
    from sqlalchemy import func, select

    from survey_app.extensions import db
    from survey_app.models import Answer, Draft, Invitation, Response

    count = db.session.scalar
    totals = {
        "responses": count(select(func.count()).select_from(Response)),
        "answers": count(select(func.count()).select_from(Answer)),
        "used_tokens": count(select(func.count()).where(Invitation.used_on.is_not(None))),
        "drafts": count(select(func.count()).select_from(Draft)),
    }
    db.session.rollback()
    return totals


def discard_wave(wave_id: int) -> None:
    """Delete a wave with everything in it (invitations, drafts, responses cascade)."""
    from sqlalchemy import delete

    from survey_app.extensions import db
    from survey_app.models import Wave

    db.session.execute(delete(Wave).where(Wave.id == wave_id))
    db.session.commit()


Fingerprint = tuple[Any, ...]


def expected_fingerprint(person: Respondent, item_numbers: dict[str, int]) -> Fingerprint | None:
    """What this respondent's stored response must look like, from what it posted."""
    posted = dict(person.posted)  # a copy: its browser thread may still be posting
    answers = []
    for key, number in item_numbers.items():
        value = posted.get(f"q_{key}")
        if value is None:
            return None  # never reached that question
        answers.append((number, None if value == "dk" else int(value)))
    area = posted.get("service_area")
    role = posted.get("role_level")
    texts = dict(person.texts)
    comments = tuple(
        sorted(
            (name.removeprefix("q_"), text.strip()) for name, text in texts.items() if text.strip()
        )
    )
    return (
        person.side,
        None if area in (None, "none") else area,
        None if role in (None, "not-said") else role,
        tuple(sorted(answers)),
        comments,
    )


@dataclass
class Verdict:
    """What the database holds, against what the respondents were told."""

    respondents: int
    acknowledged: int
    stored_unacknowledged: int
    responses: int
    used_tokens: int
    drafts: int
    partial: int  # responses without exactly one answer per item
    lost: int  # acknowledged (or confirmed stored) respondents whose response is not there
    duplicates: int  # responses beyond one per respondent, or matching no respondent
    missing: int  # respondents with no response at all (should be 0 after a full run)
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def inspect_database(wave_id: int, people: list[Respondent], *, final: bool = True) -> Verdict:
    """Read the wave's responses in bulk and match them to the respondents' answers.

    ``final``: every respondent should by now have exactly one response and no draft.
    Otherwise (a check in the middle of the load) only the acknowledged ones must.
    """
    from sqlalchemy import func, select

    from survey_app.extensions import db
    from survey_app.models import Answer, Comment, Draft, Invitation, Response, ServiceArea, Wave
    from survey_app.services.instruments import frozen_instrument

    # Who must already be stored is decided before the database is read: an
    # acknowledgement seen now means a commit before the snapshot taken below.
    must_be_stored = [p for p in people if p.acknowledged or p.stored_unacknowledged]
    acknowledged = sum(p.acknowledged for p in must_be_stored)
    unacked_stored = len(must_be_stored) - acknowledged
    session = db.session
    session.rollback()
    if session.get_bind().dialect.name == "postgresql":  # one snapshot for every count below
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    wave = session.get(Wave, wave_id)
    instrument = frozen_instrument(wave.instrument_version)
    item_numbers = {item.key: n for n, item in enumerate(instrument.items)}
    areas = dict(session.execute(select(ServiceArea.id, ServiceArea.key)).all())

    responses = session.execute(
        select(Response.id, Response.side, Response.service_area_id, Response.role_level).where(
            Response.wave_id == wave_id
        )
    ).all()
    ids = [r.id for r in responses]
    answers: dict[Any, list[tuple[int, int | None]]] = {i: [] for i in ids}
    comments: dict[Any, list[tuple[str, str]]] = {i: [] for i in ids}
    for response_id, item_no, value in session.execute(
        select(Answer.response_id, Answer.item_no, Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.wave_id == wave_id)
    ):
        answers[response_id].append((item_no, value))
    for response_id, key, text in session.execute(
        select(Comment.response_id, Comment.question_key, Comment.text)
        .join(Response, Response.id == Comment.response_id)
        .where(Response.wave_id == wave_id)
    ):
        comments[response_id].append((key, text))
    used = session.scalar(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.wave_id == wave_id, Invitation.used_on.is_not(None))
    )
    drafts = session.scalar(select(func.count()).select_from(Draft).where(Draft.wave_id == wave_id))
    session.rollback()

    partial = sum(1 for i in ids if len(answers[i]) != len(item_numbers))
    stored = Counter(
        (
            r.side,
            areas.get(r.service_area_id),
            r.role_level,
            tuple(sorted(answers[r.id])),
            tuple(sorted(comments[r.id])),
        )
        for r in responses
    )
    expected = {p.number: expected_fingerprint(p, item_numbers) for p in people}
    fingerprints = [f for f in expected.values() if f is not None]
    problems = []
    if len(set(fingerprints)) != len(fingerprints):
        problems.append("two respondents gave identical answers: the check cannot tell them apart")
    lost = sum(1 for p in must_be_stored if stored.get(expected[p.number], 0) == 0)
    known = set(fingerprints)
    duplicates = sum(c - 1 for c in stored.values() if c > 1) + sum(
        c for f, c in stored.items() if f not in known
    )
    missing = sum(1 for p in people if stored.get(expected[p.number], 0) == 0)

    # (something wrong?, what to say): always, then only once every respondent is done
    checks = [
        (partial, f"{partial} responses are partial (not one answer per item)"),
        (lost, f"{lost} acknowledged responses are not stored complete"),
        (duplicates, f"{duplicates} duplicated or unrecognised responses"),
        (used != len(responses), f"{used} used tokens but {len(responses)} responses"),
    ]
    if final:
        checks += [
            (
                len(responses) != len(people),
                f"{len(responses)} responses for {len(people)} respondents",
            ),
            (missing, f"{missing} respondents have no response"),
            (drafts, f"{drafts} drafts left behind"),
            (used != len(people), f"{used} used tokens for {len(people)} respondents"),
        ]
    problems += [message for wrong, message in checks if wrong]
    return Verdict(
        respondents=len(people),
        acknowledged=acknowledged,
        stored_unacknowledged=unacked_stored,
        responses=len(responses),
        used_tokens=used,
        drafts=drafts,
        partial=partial,
        lost=lost,
        duplicates=duplicates,
        missing=missing,
        problems=problems,
    )
