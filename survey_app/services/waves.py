"""Waves: creating, scheduling, opening and closing them, and their order in time.

Each operation checks what a user could get wrong, changes the database, flushes and writes
the audit log, whoever calls it (admin pages, command line, import, demo).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from instruments import Instrument
from survey_app.database import vacuum_after_commit
from survey_app.dates import end_of_day, utcnow
from survey_app.extensions import db
from survey_app.models import (
    Answer,
    Comment,
    Draft,
    IllegalTransition,
    Invitation,
    Relationship,
    Response,
    ResultTable,
    User,
    Wave,
)
from survey_app.services import ServiceError, audit, mailing
from survey_app.services.instruments import (
    freeze_instrument,
    offered_translations,
    wave_instrument,
)
from survey_app.services.results import closed_waves, compute_wave_themes, score_closed_wave

LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._\-]{0,39}$")


def create_wave(
    relationship: Relationship,
    label: str,
    *,
    instrument_key: str = "partnership-health",
    instrument_version: int = 1,
    closes_on: date | None = None,
    actor: User | str = "cli",
    today: date | None = None,
) -> Wave:
    """A draft wave on an instrument version (frozen into the database on first use).

    A planned closing date, when given, must be today or later: the wave closes at the end of
    that day on the organisation's clock (:func:`schedule_wave` sets a time).
    """
    label = label.strip()
    if not LABEL.match(label):
        raise ServiceError(
            _(
                "wave label %(label)r must be 1–40 letters, digits, spaces, dots, dashes or "
                "underscores, e.g. 2012-Q4",
                label=label,
            )
        )
    if closes_on is not None and closes_on < (today or date.today()):
        raise ServiceError(_("The closing date must be today or in the future"))
    if get_wave(relationship, label, required=False) is not None:
        raise ServiceError(
            _(
                "relationship %(relationship)r already has a wave %(label)r",
                relationship=relationship.name,
                label=label,
            )
        )
    frozen = freeze_instrument(instrument_key, instrument_version)
    wave = Wave(
        relationship=relationship,
        instrument_version=frozen,
        label=label,
        state="draft",
        closes_at=end_of_day(closes_on) if closes_on is not None else None,
    )
    return audit.created(wave, "wave.create", actor=actor, id_as="wave", label=label)


def instrument_in_use(relationship: Relationship) -> Instrument | None:
    """The instrument of the relationship's latest closed wave, else of its latest wave in
    time order (None before it has any): what its dimensions are now, for actions and
    targets."""
    waves = closed_waves(relationship) or waves_in_time_order(relationship)
    return wave_instrument(waves[-1]) if waves else None  # with its translations


def get_wave(relationship: Relationship, label: str, *, required: bool = True) -> Wave | None:
    wave = db.session.scalar(
        select(Wave).where(Wave.relationship_id == relationship.id, Wave.label == label)
    )
    if wave is None and required:
        raise ServiceError(f"relationship {relationship.name!r} has no wave {label!r}")
    return wave


def open_wave(wave: Wave, *, actor: User | str = "cli") -> Wave:
    try:
        wave.open(utcnow())
    except IllegalTransition as exc:
        raise ServiceError(str(exc)) from exc
    wave.translations = offered_translations(wave.instrument_version)
    audit.record("wave.open", actor=actor, wave=wave.id)
    db.session.flush()
    return wave


def check_can_close(wave: Wave) -> None:
    """Refuse, with the reason, to close a wave that is not open (before a closing job)."""
    try:
        wave.check_can_close()
    except IllegalTransition as exc:
        raise ServiceError(str(exc)) from exc


def close_wave(wave: Wave, *, actor: User | str = "cli") -> Wave:
    """Close a wave: no more submissions, unfinished drafts are deleted, and its results
    (every table of DESIGN §5, the relationship's trends, and the themes of its comments) are
    computed and stored."""
    try:
        wave.close(utcnow())
    except IllegalTransition as exc:
        raise ServiceError(str(exc)) from exc
    db.session.execute(delete(Draft).where(Draft.wave_id == wave.id))
    mailing.delete_address_list(wave, actor=actor)  # data minimisation: addresses go at close
    rewrite_in_one_transaction(wave)
    audit.record("wave.close", actor=actor, wave=wave.id)
    db.session.flush()
    score_closed_wave(wave)
    compute_wave_themes(wave, actor=actor)
    return wave


#: What a submit writes, so what its transaction id would link: rewritten at close.
SUBMITTED = (Invitation, Response, Answer, Comment)


def rewrite_in_one_transaction(wave: Wave) -> None:
    """On PostgreSQL, give every row a submit wrote for ``wave`` this transaction's id.

    A submit marks the invitation used and inserts the response, its answers and comments in
    one transaction, so on PostgreSQL all of them carry that transaction's id (``xmin``),
    which anyone able to read both tables can compare. Updating each row to itself here
    writes new versions that all share the closing transaction's id; VACUUM (after the
    commit) then removes the old versions. SQLite keeps no such column: nothing to do.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    responses = select(Response.id).where(Response.wave_id == wave.id)
    rewrites = (
        update(Invitation)
        .where(Invitation.wave_id == wave.id, Invitation.used_on.is_not(None))
        .values(used_on=Invitation.used_on),
        update(Response).where(Response.wave_id == wave.id).values(side=Response.side),
        update(Answer).where(Answer.response_id.in_(responses)).values(value=Answer.value),
        update(Comment).where(Comment.response_id.in_(responses)).values(text=Comment.text),
    )
    for rewrite in rewrites:
        db.session.execute(rewrite.execution_options(synchronize_session=False))
    vacuum_after_commit(tuple(model.__tablename__ for model in SUBMITTED))


def schedule_wave(
    wave: Wave,
    *,
    closes_at: datetime,
    opens_at: datetime | None = None,
    reminder_days: list[int] | None = None,
    actor: User | str,
    at: datetime | None = None,
) -> Wave:
    """Set a draft or open wave's schedule (stored UTC times): when it opens (a draft wave
    only; None: when an admin opens it), when it closes, and the days after opening on which a
    reminder round goes to those who have not submitted. The worker's tick keeps it
    (``services/jobs/schedule.py``)."""
    at = at or utcnow()
    days = sorted(set(reminder_days or []))
    if wave.state == "closed":
        raise ServiceError(
            _("Wave %(label)s is closed: its schedule cannot change", label=wave.label)
        )
    if opens_at is not None and wave.state != "draft":
        raise ServiceError(
            _("Wave %(label)s is open already: it has no opening time to set", label=wave.label)
        )
    if closes_at <= at:
        raise ServiceError(_("The closing time must be in the future"))
    if opens_at is not None and opens_at <= at:
        raise ServiceError(
            _("The opening time must be in the future: to open the wave now, use Open wave")
        )
    if opens_at is not None and closes_at <= opens_at:
        raise ServiceError(_("The closing time must be after the opening time"))
    start = wave.opened_at or opens_at
    late = [d for d in days if start is not None and start + timedelta(days=d) >= closes_at]
    if late:
        raise ServiceError(
            _(
                "A reminder %(days)s days after opening would be after the wave closes: "
                "choose fewer days, or a later closing time",
                days=late[0],
            )
        )
    before = (wave.opens_at, wave.closes_at, wave.reminder_days)
    wave.opens_at, wave.closes_at, wave.reminder_days = opens_at, closes_at, days or None
    if (wave.opens_at, wave.closes_at, wave.reminder_days) != before:
        db.session.flush()
        audit.record(
            "wave.schedule",
            actor=actor,
            wave=wave.id,
            opens_at=opens_at.isoformat() if opens_at else None,
            closes_at=closes_at.isoformat(),
            reminder_days=days,
        )
    return wave


def waves_of(relationship: Relationship) -> list[Wave]:
    """The relationship's waves, newest first (the reverse of :func:`waves_in_time_order`)."""
    return waves_in_time_order(relationship)[::-1]


def waves_in_time_order(relationship: Relationship) -> list[Wave]:
    """The relationship's waves, whatever their state, in time order (:attr:`Wave.time_order`)."""
    waves = db.session.scalars(select(Wave).where(Wave.relationship_id == relationship.id))
    return sorted(waves, key=lambda w: w.time_order)


def waves_with_results(relationship: Relationship) -> set[int]:
    """The ids of the relationship's waves whose results are stored."""
    return set(
        db.session.scalars(
            select(ResultTable.wave_id).where(
                ResultTable.relationship_id == relationship.id, ResultTable.name == "scores"
            )
        )
    )
