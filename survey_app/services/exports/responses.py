"""The ``responses`` table: the raw anonymised responses, one row per response.

Its columns are the fixed ones (key, wave, side, service area, role level, instrument and
version), one column per item key of every instrument version in the scope, and one per
free-text question. The rows are streamed from the database with ordered Core selects
(responses, their answers, their comments) merged in Python: never one ORM object per answer.

* An item answer is its scale point ``1..K``; blank (None) means the item was skipped;
  :data:`~survey_app.services.codebook.DONT_KNOW` means "don't know".
* **Comments**: a comment is given only when its response's cell — wave × side × service
  area × role level, the narrowest group a row shows — holds at least
  ``MIN_COMMENT_CELL_SIZE`` responses (DESIGN §4.14); otherwise its cell is blank.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import groupby
from operator import itemgetter
from typing import Any

from flask import current_app
from sqlalchemy import String, func, select, type_coerce

from instruments import CommentQuestion, Instrument, Item
from survey_app.extensions import db
from survey_app.models import (
    ROLE_LEVELS,
    Answer,
    Comment,
    InstrumentVersion,
    Response,
    ServiceArea,
)
from survey_app.services.codebook import DONT_KNOW, Column
from survey_app.services.exports.scope import Scope, WaveRef
from survey_app.services.exports.tables import TABLE_TITLES, Table
from survey_app.services.instruments import frozen_instrument

_FIXED_COLUMNS = (
    Column(
        "response_id",
        "text",
        "Random key of the response (a UUID). It links to nothing else: not to an invitation, "
        "not to a person, not to a time.",
        label="Response key",
    ),
    Column("wave", "text", "Label of the survey wave the response belongs to.", label="Wave"),
    Column(
        "side",
        "text",
        "Which party's staff answered: client (the council) or supplier.",
        label="Side",
        value_labels={"client": "Client (the council)", "supplier": "Supplier"},
    ),
    Column(
        "service_area",
        "text",
        "Key of the respondent's service area in the relationship (its value labels name each "
        "area); blank when not given.",
        label="Service area",
    ),
    Column(
        "role_level",
        "text",
        "Role level of the respondent; blank when not given.",
        label="Role level",
        value_labels=dict(ROLE_LEVELS),
    ),
    Column(
        "instrument",
        "text",
        "Key of the questionnaire (instrument) the response answered.",
        label="Instrument",
    ),
    Column(
        "instrument_version",
        "integer",
        "Version of the instrument answered: the item wording is that version's.",
        label="Instrument version",
    ),
)


@dataclass(frozen=True)
class VersionLayout:
    """Where the answers of one instrument version go in a row of ``responses``."""

    key: str
    version: int
    #: item_no -> column index in the row
    item_columns: tuple[int, ...]
    #: comment question key -> column index
    comment_columns: Mapping[str, int]


def responses_table(scope: Scope, *, batch: int = 5000) -> Table:
    """The raw anonymised responses of the scope: one row per response (see module notes)."""
    columns, layouts = responses_columns(scope)
    return Table(
        name="responses",
        columns=columns,
        rows=_response_rows(scope, len(columns), layouts, batch=batch),
        title=TABLE_TITLES["responses"],
        notes=(
            f"{DONT_KNOW} = don't know; blank = not answered.",
            f"Comments only for cells of at least {_comment_k()} responses.",
        ),
    )


def responses_columns(scope: Scope) -> tuple[tuple[Column, ...], dict[int, VersionLayout]]:
    """The columns of ``responses`` for a scope, and where each version's items go.

    Item columns are the union of the item keys of every instrument version in the scope, in
    the order first met (oldest wave first); comment columns follow, one per free-text
    question. A column absent from a response's version is blank in its row.
    """
    instruments = [(v, frozen_instrument(v)) for v in _scope_versions(scope)]
    items: dict[str, Column] = {}
    comments: dict[str, Column] = {}
    for _, instrument in instruments:
        for item in instrument.items:
            if item.key not in items:
                items[item.key] = _item_column(instrument, item, scope)
        for question in instrument.comments:
            if question.key not in comments:
                comments[question.key] = _comment_column(question)
    columns = [*_fixed_columns(scope), *items.values()]
    item_index = {key: len(_FIXED_COLUMNS) + n for n, key in enumerate(items)}
    comment_index: dict[str, int] = {}
    for key, column in comments.items():
        if key in items:  # a comment key equal to an item key: keep both, distinctly
            column = Column(f"comment_{key}", column.type, column.description, column.label)
        comment_index[key] = len(columns)
        columns.append(column)
    layouts = {
        version.id: VersionLayout(
            key=version.key,
            version=version.version,
            item_columns=tuple(item_index[i.key] for i in instrument.items),
            comment_columns={q.key: comment_index[q.key] for q in instrument.comments},
        )
        for version, instrument in instruments
    }
    return tuple(columns), layouts


def _fixed_columns(scope: Scope) -> tuple[Column, ...]:
    """The fixed columns, ``service_area`` labelled with the names of the scope's areas."""
    if not scope.service_areas:
        return _FIXED_COLUMNS
    return tuple(
        replace(column, value_labels=dict(scope.service_areas))
        if column.name == "service_area"
        else column
        for column in _FIXED_COLUMNS
    )


def _item_column(instrument: Instrument, item: Item, scope: Scope) -> Column:
    """An item's answer column: its dimension, both wordings, its scale and its version.

    Its label is the client staff's wording (the supplier's name filled in); where the
    supplier staff read something else (the council's name filled in), that is its
    ``supplier_label``.
    """
    scale = instrument.scale
    labels: dict[Any, str] = {v: scale.label(v) for v in scale.values}
    answer = f"Answer 1–{scale.points}; blank = not answered"
    if item.dont_know:
        labels[DONT_KNOW] = scale.dont_know_label
        answer += f"; {DONT_KNOW} = {scale.dont_know_label.lower()}"
    notes = [
        f"{instrument.dimension(item.dimension).title} ({item.dimension}).",
        f"Client wording: “{item.wording.client}”",
        f"Supplier wording: “{item.wording.supplier}”",
        f"{answer}.",
    ]
    if item.reverse:
        notes.append(f"Reverse-keyed: stored as answered, scored as {scale.points + 1} − answer.")
    notes.append(f"From {instrument.key} v{instrument.version}.")
    client = _wording(item, "client", scope.supplier_name)
    supplier = _wording(item, "supplier", scope.client_name)
    return Column(
        item.key,
        "answer",
        " ".join(notes),
        label=client,
        value_labels=labels,
        supplier_label=supplier if supplier != client else "",
    )


def _wording(item: Item, side: str, partner: str) -> str:
    """What ``side``'s staff read, the other party's name filled in."""
    try:
        return item.text(
            side, partner=partner, partner_side="supplier" if side == "client" else "client"
        )
    except (ValueError, KeyError):  # a placeholder this wording cannot fill
        return getattr(item.wording, side)


def _comment_column(question: CommentQuestion) -> Column:
    return Column(
        question.key,
        "text",
        f"Free-text answer to “{question.wording.client}” (client) / "
        f"“{question.wording.supplier}” (supplier). Given only where the "
        "response's wave × side × service area × role level holds at least "
        f"{_comment_k()} responses; blank otherwise (DESIGN §4.14).",
        label=f"Comment: {question.key}",
    )


def _scope_versions(scope: Scope) -> list[InstrumentVersion]:
    """Instrument versions answered in the scope, oldest wave first."""
    if not scope.waves:
        return []
    used = db.session.execute(
        select(Response.instrument_version_id, func.min(Response.wave_id))
        .where(Response.wave_id.in_(scope.wave_ids))
        .group_by(Response.instrument_version_id)
    ).all()
    ids = {w.instrument_version_id: w.id for w in scope.waves}
    for version_id, first_wave in used:
        ids[version_id] = min(ids.get(version_id, first_wave), first_wave)
    order = sorted(ids, key=lambda v: (ids[v], v))
    found = {
        v.id: v
        for v in db.session.scalars(
            select(InstrumentVersion).where(InstrumentVersion.id.in_(order))
        )
    }
    return [found[v] for v in order]


def _comment_k() -> int:
    return int(current_app.config.get("MIN_COMMENT_CELL_SIZE", 10))


def _key(column: Any) -> Any:
    """A response key as the driver returns it cheaply: hex text on SQLite, uuid on PostgreSQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return type_coerce(column, String)
    return column


def _key_text(key: Any) -> str:
    if isinstance(key, uuid.UUID):
        return str(key)
    key = str(key)
    if len(key) == 32:
        return f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:]}"
    return key


def comment_cells(scope: Scope, k: int) -> set[tuple[Any, ...]]:
    """The (wave, side, service area, role level) cells with at least ``k`` responses."""
    if not scope.waves:
        return set()
    group = (Response.wave_id, Response.side, Response.service_area_id, Response.role_level)
    return {
        tuple(row[:4])
        for row in db.session.execute(
            select(*group, func.count())
            .where(Response.wave_id.in_(scope.wave_ids))
            .group_by(*group)
            .having(func.count() >= k)
        )
    }


def _response_rows(
    scope: Scope, width: int, layouts: Mapping[int, VersionLayout], *, batch: int
) -> Iterator[list[Any]]:
    """The rows of ``responses``, wave by wave (in scope order), each wave in key order.

    Per wave, two selects ordered by the same key column — the responses, and their answers —
    are merged in Python: each response's answers arrive as one run right when the response
    does (a response with every item skipped has no run), and fill its row by item position.
    Comments (a few per hundred responses) are a third stream merged the same way. Every
    select streams (``yield_per``: a server-side cursor on PostgreSQL).
    """
    if not scope.waves:
        return
    areas = dict(
        db.session.execute(
            select(ServiceArea.id, ServiceArea.key).where(
                ServiceArea.relationship_id == scope.relationship_id
            )
        ).all()
    )
    allowed = comment_cells(scope, _comment_k())
    for wave in scope.waves:
        yield from _wave_response_rows(wave, width, layouts, areas, allowed, batch=batch)


def response_queries(wave_id: int) -> tuple[Any, Any, Any]:
    """The three ordered selects of one wave's responses, answers and comments."""
    in_wave = Response.wave_id == wave_id
    responses = (
        select(
            _key(Response.id),
            Response.side,
            Response.service_area_id,
            Response.role_level,
            Response.instrument_version_id,
        )
        .where(in_wave)
        .order_by(Response.id)
    )
    # "IN (subquery)" rather than a join: SQLite then walks the answers' primary key in
    # response order (no temporary sort of the answers); PostgreSQL semi-joins.
    wave_ids = select(Response.id).where(in_wave)
    answers = (
        select(_key(Answer.response_id), Answer.item_no, Answer.value)
        .where(Answer.response_id.in_(wave_ids))
        .order_by(Answer.response_id, Answer.item_no)
    )
    comments = (
        select(_key(Comment.response_id), Comment.question_key, Comment.text)
        .where(Comment.response_id.in_(wave_ids))
        .order_by(Comment.response_id, Comment.question_key)
    )
    return responses, answers, comments


def _wave_response_rows(
    wave: WaveRef,
    width: int,
    layouts: Mapping[int, VersionLayout],
    areas: Mapping[int, str],
    allowed: set[tuple[Any, ...]],
    *,
    batch: int,
) -> Iterator[list[Any]]:
    response_q, answer_q, comment_q = response_queries(wave.id)
    options = {"yield_per": batch}
    conn = db.session.connection()
    first = itemgetter(0)
    answer_runs = groupby(conn.execute(answer_q, execution_options=options), first)
    comment_runs = groupby(conn.execute(comment_q, execution_options=options), first)
    run_key, run = next(answer_runs, (None, ()))
    c_key, c_run = next(comment_runs, (None, ()))
    blank = [None] * width
    blank[1] = wave.label
    dk = DONT_KNOW
    for key, side, area_id, role, version_id in conn.execute(response_q, execution_options=options):
        layout = layouts[version_id]
        row = blank.copy()
        row[0] = _key_text(key)
        row[2] = side
        row[3] = areas.get(area_id) if area_id is not None else None
        row[4] = role
        row[5] = layout.key
        row[6] = layout.version
        if run_key == key:
            item_columns = layout.item_columns
            for _, item_no, value in run:
                row[item_columns[item_no]] = dk if value is None else value
            run_key, run = next(answer_runs, (None, ()))
        if c_key == key:
            if (wave.id, side, area_id, role) in allowed:
                for _, question, text in c_run:
                    index = layout.comment_columns.get(question)
                    if index is not None:
                        row[index] = text
            c_key, c_run = next(comment_runs, (None, ()))
        yield row
