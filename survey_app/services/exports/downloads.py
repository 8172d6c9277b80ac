"""Downloads: the tables of DESIGN §5 and the writers that turn them into files.

A **table** is ordered :class:`Column` s (name, type, description, value labels: the codebook)
and an iterator of rows (sequences in column order), read once. Two kinds of source build them:

* ``responses`` — the raw anonymised responses, one row per response and one column per item
  key, streamed from the database with two ordered Core selects (responses, and their answers)
  merged in Python: never one ORM object per answer.
* the results tables (``scores``, ``items``, ``reliability``, ``gaps``, ``trends``,
  ``drivers``) — read from the results persisted when a wave closed
  (:class:`~survey_app.models.results.ResultTable`), with confidentiality suppression applied
  at output time by :mod:`survey_app.services.results`. A download never recomputes.

and four writers turn any table into a file:

=======  ===================================================================================
csv      UTF-8 with a byte-order mark (Excel opens it as UTF-8), CRLF line ends, a header row;
         yielded in chunks so that a web response streams with flat memory.
xlsx     openpyxl write-only workbook: a sheet per table and a ``codebook`` sheet. Rows go to
         temporary files as they are written, so memory stays flat; a table longer than a
         sheet (1,048,576 rows) continues on ``<name>_2``, ``<name>_3``...
json     one streamed JSON object ``{"table", "relationship", "waves", "columns": [{name,
         type, description, value_labels}], "rows": [[...], ...]}`` — rows are arrays in
         column order (``pandas.DataFrame(doc["rows"], columns=[c["name"] for c in
         doc["columns"]])``).
sav      SPSS system file via pyreadstat (``responses`` only): variable labels, value labels,
         user-missing "don't know" codes. pyreadstat writes from a DataFrame, so the whole
         table is held in memory: about 8 bytes per item answer plus ~150 bytes per response
         (≈ 450 MB for a million 37-item responses); per-wave downloads are small.
=======  ===================================================================================

Conventions, in every format:

* An item answer is its scale point ``1..K``; **blank** (CSV/XLSX empty cell, JSON ``null``,
  SPSS system-missing) means the item was skipped; ``dk`` (``DONT_KNOW``) means "don't know"
  (in SPSS a numeric code, 9 on scales of up to 8 points, else 99, declared user-missing and
  labelled "Don't know").
* **CSV injection**: a *text* cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is written with a leading ``'`` in CSV and XLSX. Numbers (a difference of
  -0.5) stay numbers. JSON and SPSS carry the text unchanged (neither runs formulas).
* A suppressed results cell is blank, and the row says why in its ``suppressed`` column
  (as the results service writes it). A number that is not finite (NaN, ±inf) is blank too
  (JSON ``null``): no spreadsheet reads it as a number.
* XLSX numbers carry 16 significant digits (openpyxl's writer; Excel itself keeps 15); CSV and
  JSON carry Python's shortest exact repr.
* **Comments** in ``responses``: a comment is given only when its response's cell — wave ×
  side × service area × role level, the narrowest group a row shows — holds at least
  ``MIN_COMMENT_CELL_SIZE`` responses (DESIGN §4.14); otherwise its cell is blank.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import tempfile
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import String, func, select, type_coerce

from instruments import Instrument
from survey_app.extensions import db
from survey_app.models import (
    ROLE_LEVELS,
    Answer,
    Comment,
    InstrumentVersion,
    Relationship,
    Response,
    ResultTable,
    ServiceArea,
    User,
    Wave,
)
from survey_app.services import ServiceError, audit, codebook
from survey_app.services import results as results_service
from survey_app.services.instruments import frozen_instrument
from survey_app.services.relationships import get_relationship
from survey_app.services.results import SUPPRESSED, closed_waves

#: The text an answer of "don't know" is written as (CSV, XLSX, JSON) and read back as.
DONT_KNOW = "dk"

#: The results tables persisted when a wave closes, in the order pages list them.
RESULT_TABLES: tuple[str, ...] = ("scores", "items", "reliability", "gaps", "trends", "drivers")
#: Results tables about the whole relationship (all closed waves), whichever wave is chosen.
RELATIONSHIP_TABLES: tuple[str, ...] = ("trends",)
#: Every table a download can name. ``codebook`` describes the columns of all the others.
TABLES: tuple[str, ...] = (*RESULT_TABLES, "responses", "codebook")
#: Formats, and the tables each serves (SPSS is for the raw responses).
FORMATS: dict[str, tuple[str, ...]] = {
    "csv": TABLES,
    "xlsx": (*TABLES, "all"),
    "json": TABLES,
    "sav": ("responses",),
}
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "sav": "application/x-spss-sav",
}
TABLE_TITLES = {
    "scores": "Scores per wave, side, service area and dimension (the index is a dimension)",
    "items": "Item statistics per wave, side and service area",
    "reliability": "Reliability (Cronbach's alpha) per dimension and wave",
    "gaps": "Perception gaps between client and supplier",
    "trends": "Trends and change across closed waves",
    "drivers": "Drivers of the health index and of commitment",
    "responses": "Raw anonymised responses, one row per response",
    "codebook": "Every column of every table, described",
    "all": "Every results table, with the codebook",
}

#: Column types: how writers treat a cell. ``answer`` cells are ints, None or DONT_KNOW.
COLUMN_TYPES = ("text", "integer", "number", "boolean", "answer")
XLSX_MAX_ROWS = 1_048_576
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One column of a table, as the codebook describes it."""

    name: str
    type: str
    description: str
    #: A short label (the SPSS variable label); the description when empty.
    label: str = ""
    #: Code → meaning, e.g. {1: "Strongly disagree", ..., "dk": "Don't know"}.
    value_labels: Mapping[Any, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name!r}: type must be one of {COLUMN_TYPES}")


@dataclass
class Table:
    """Ordered columns and an iterable of rows (read once), with what the rows cover."""

    name: str
    columns: tuple[Column, ...]
    rows: Iterable[Sequence[Any]]
    title: str = ""
    notes: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class WaveRef:
    """A wave as a download needs it: plain values, safe after the session commits."""

    id: int
    label: str
    instrument_version_id: int


@dataclass(frozen=True)
class Scope:
    """What a download covers: one relationship and one closed wave, or all its closed waves.

    Plain values only (no ORM objects), so a streamed download can keep reading after the
    request has committed its audit entry.
    """

    relationship_id: int
    relationship_name: str
    waves: tuple[WaveRef, ...]
    wave_label: str | None = None
    supplier_name: str = "the supplier"

    @property
    def slug(self) -> str:
        """The part of a file name that says which waves: ``2012-Q3`` or ``all-waves``."""
        if self.wave_label is None:
            return "all-waves"
        return re.sub(r"[^A-Za-z0-9._-]+", "-", self.wave_label).strip("-") or "wave"

    @property
    def description(self) -> str:
        return f"wave {self.wave_label}" if self.wave_label else "all closed waves"

    @property
    def wave_ids(self) -> list[int]:
        return [w.id for w in self.waves]

    @property
    def relationship(self) -> Relationship:
        """The relationship, loaded in the current session."""
        found = db.session.get(Relationship, self.relationship_id)
        assert found is not None
        return found

    def wave_models(self) -> list[Wave]:
        """The waves, loaded in the current session, in scope order."""
        by_id = {
            w.id: w for w in db.session.scalars(select(Wave).where(Wave.id.in_(self.wave_ids)))
        }
        return [by_id[w.id] for w in self.waves]


def export_scope(relationship: Relationship | str | int, wave_label: str | None = None) -> Scope:
    """The scope of a download; only closed waves can be downloaded (ServiceError otherwise)."""
    if not isinstance(relationship, Relationship):
        found = get_relationship(relationship)
        assert found is not None
        relationship = found
    waves = [WaveRef(w.id, w.label, w.instrument_version_id) for w in closed_waves(relationship)]
    base = {
        "relationship_id": relationship.id,
        "relationship_name": relationship.name,
        "supplier_name": _party_name(relationship, "supplier"),
    }
    if wave_label is None:
        return Scope(waves=tuple(waves), wave_label=None, **base)
    for wave in waves:
        if wave.label == wave_label:
            return Scope(waves=(wave,), wave_label=wave_label, **base)
    state = db.session.scalar(
        select(Wave.state).where(Wave.relationship_id == relationship.id, Wave.label == wave_label)
    )
    if state is None:
        raise ServiceError(f"relationship {relationship.name!r} has no wave {wave_label!r}")
    raise ServiceError(f"wave {wave_label!r} is {state}: only closed waves can be downloaded")


def file_name(table: str, scope: Scope, fmt: str) -> str:
    """``relhealth-scores-2012-Q3.csv``, ``relhealth-responses-all-waves.sav``."""
    return f"relhealth-{table}-{scope.slug}.{fmt}"


# ============================================================================ table sources


def build_tables(name: str, scope: Scope) -> list[Table]:
    """The tables a download of ``name`` writes: one, or every results table for ``all``.

    The ``codebook`` table describes the columns of every other table of the scope.
    """
    if name == "all":
        return [results_table(t, scope) for t in RESULT_TABLES]
    if name == "responses":
        return [responses_table(scope)]
    if name == "codebook":
        tables = [results_table(t, scope) for t in RESULT_TABLES] + [responses_table(scope)]
        return [codebook_table(tables)]
    if name in RESULT_TABLES:
        return [results_table(name, scope)]
    raise ServiceError(f"there is no table {name!r}: choose one of {', '.join(TABLES)}")


# ---------------------------------------------------------------------------- responses

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
        "Key of the respondent's service area in the relationship; blank when not given.",
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
class _VersionLayout:
    key: str
    version: int
    instrument: Instrument
    #: item_no -> column index in the row
    item_columns: tuple[int, ...]
    #: comment question key -> column index
    comment_columns: Mapping[str, int]


def _partner_wording(item_text: Callable[..., str], wording: str, partner: str) -> str:
    try:
        return item_text("client", partner=partner, partner_side="supplier")
    except (ValueError, KeyError):
        return wording


def responses_columns(
    scope: Scope,
) -> tuple[tuple[Column, ...], dict[int, _VersionLayout]]:
    """The columns of ``responses`` for a scope, and where each version's items go.

    Item columns are the union of the item keys of every instrument version in the scope, in
    the order first met (oldest wave first); comment columns follow, one per free-text
    question. A column absent from a response's version is blank in its row.
    """
    versions = _scope_versions(scope)
    partner = scope.supplier_name
    columns: list[Column] = list(_FIXED_COLUMNS)
    item_index: dict[str, int] = {}
    comment_index: dict[str, int] = {}
    item_specs: list[tuple[str, Column]] = []
    comment_specs: list[tuple[str, Column]] = []
    for version in versions:
        inst = frozen_instrument(version)
        scale_labels: dict[Any, str] = {v: inst.scale.label(v) for v in inst.scale.values}
        for item in inst.items:
            if item.key in item_index or any(k == item.key for k, _ in item_specs):
                continue
            labels = dict(scale_labels)
            if item.dont_know:
                labels[DONT_KNOW] = inst.scale.dont_know_label
            notes = [f"{inst.dimension(item.dimension).title} ({item.dimension})."]
            notes.append(f"Client wording: “{item.wording.client}”")
            notes.append(f"Supplier wording: “{item.wording.supplier}”")
            notes.append(f"Answer 1–{inst.scale.points}; blank = not answered")
            if item.dont_know:
                notes[-1] += f"; {DONT_KNOW} = {inst.scale.dont_know_label.lower()}"
            notes[-1] += "."
            if item.reverse:
                notes.append(
                    f"Reverse-keyed: stored as answered, scored as {inst.scale.points + 1} − answer."
                )
            notes.append(f"From {inst.key} v{inst.version}.")
            item_specs.append(
                (
                    item.key,
                    Column(
                        item.key,
                        "answer",
                        " ".join(notes),
                        label=_partner_wording(item.text, item.wording.client, partner),
                        value_labels=labels,
                    ),
                )
            )
        for question in inst.comments:
            if any(k == question.key for k, _ in comment_specs):
                continue
            comment_specs.append(
                (
                    question.key,
                    Column(
                        question.key,
                        "text",
                        f"Free-text answer to “{question.wording.client}” (client) / "
                        f"“{question.wording.supplier}” (supplier). Given only where the "
                        "response's wave × side × service area × role level holds at least "
                        f"{_comment_k()} responses; blank otherwise (DESIGN §4.14).",
                        label=f"Comment: {question.key}",
                    ),
                )
            )
    for key, column in item_specs:
        item_index[key] = len(columns)
        columns.append(column)
    for key, column in comment_specs:
        if key in item_index:  # a comment key equal to an item key: keep both, distinctly
            column = Column(f"comment_{key}", column.type, column.description, column.label)
        comment_index[key] = len(columns)
        columns.append(column)
    layouts = {
        v.id: _VersionLayout(
            key=v.key,
            version=v.version,
            instrument=(inst := frozen_instrument(v)),
            item_columns=tuple(item_index[i.key] for i in inst.items),
            comment_columns={q.key: comment_index[q.key] for q in inst.comments},
        )
        for v in versions
    }
    return tuple(columns), layouts


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


def _party_name(relationship: Relationship, side: str) -> str:
    try:
        return relationship.party(side).name
    except LookupError:
        return side


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


def _response_rows(
    scope: Scope, width: int, layouts: Mapping[int, _VersionLayout], *, batch: int
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
    layouts: Mapping[int, _VersionLayout],
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


# ---------------------------------------------------------------------------- results


def results_table(name: str, scope: Scope) -> Table:
    """A persisted results table over the scope's waves, suppressed for output.

    The rows are those stored when each wave closed; confidentiality suppression (k =
    ``MIN_CELL_SIZE``) is applied now, by the results service, so that a change of k takes
    effect without recomputing. Column descriptions come from the results codebook.

    A wave table is read and suppressed one wave at a time (suppression works within a wave),
    so that the rows of all waves are never in memory at once.
    """
    if name not in RESULT_TABLES:
        raise ServiceError(f"there is no results table {name!r}")
    if name in RELATIONSHIP_TABLES or len(scope.waves) <= 1:
        waves = None if name in RELATIONSHIP_TABLES else scope.wave_models()
        names, rows = results_service.output_table(name, scope.relationship, waves)
        described = _results_columns(name, names, rows)
        return Table(name=name, columns=described, rows=rows, title=TABLE_TITLES[name])
    names = _stored_columns(name, scope)
    first_names, first_rows = results_service.output_table(
        name, scope.relationship, scope.wave_models()[:1]
    )
    sample = _aligned(first_names, first_rows, names)
    return Table(
        name=name,
        columns=_results_columns(name, names, sample),
        rows=_wave_by_wave(name, scope, names),
        title=TABLE_TITLES[name],
    )


def _stored_columns(name: str, scope: Scope) -> list[str]:
    """The columns of a wave table over the scope's waves (their union, in order), checking
    now that every wave has it stored — a download must not fail half-way."""
    stored = dict(
        db.session.execute(
            select(ResultTable.wave_id, ResultTable.columns).where(
                ResultTable.wave_id.in_(scope.wave_ids), ResultTable.name == name
            )
        ).all()
    )
    names: list[str] = []
    for wave in scope.waves:
        if wave.id not in stored:
            raise ServiceError(f"wave {wave.label!r} has no stored {name}: run relhealth recompute")
        for column in stored[wave.id]:
            if column not in names:
                names.append(column)
    return [*names, SUPPRESSED]


def _aligned(
    have: Sequence[str], rows: Iterable[Sequence[Any]], want: Sequence[str]
) -> list[list[Any]]:
    if list(have) == list(want):
        return [list(r) for r in rows]
    where = [have.index(c) if c in have else None for c in want]
    return [[row[i] if i is not None else None for i in where] for row in rows]


def _wave_by_wave(name: str, scope: Scope, names: list[str]) -> Iterator[list[Any]]:
    relationship = scope.relationship
    for wave in scope.wave_models():
        have, rows = results_service.output_table(name, relationship, [wave])
        yield from _aligned(have, rows, names)


def _results_columns(
    table: str, names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[Column, ...]:
    """Columns of a results table, typed and described from the results codebook.

    A column the codebook does not describe (or every column, while there is no codebook)
    gets its type from its values and says that it is undescribed.
    """
    described = _codebook_entries(table)
    out = []
    for i, name in enumerate(names):
        entry = described.get(name)
        if entry is None:
            out.append(Column(name, _infer_type(row[i] for row in rows), UNDESCRIBED))
            continue
        out.append(
            Column(
                name,
                _column_type(str(_field(entry, "type") or ""))
                if _field(entry, "type")
                else _infer_type(row[i] for row in rows),
                str(_field(entry, "description") or ""),
                label=str(_field(entry, "label") or ""),
                value_labels=dict(_field(entry, "value_labels") or {}),
            )
        )
    return tuple(out)


UNDESCRIBED = "(not described in the codebook)"


def _field(entry: Any, name: str) -> Any:
    if isinstance(entry, Mapping):
        return entry.get(name)
    return getattr(entry, name, None)


def _codebook_entries(table: str) -> dict[str, Any]:
    """The results codebook's entries for ``table``, by column name (empty if there is none)."""
    return {str(_field(e, "name")): e for e in codebook.columns(table)}


def _infer_type(values: Iterable[Any]) -> str:
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float):
            return "number"
        return "text"
    return "text"


def _column_type(kind: str) -> str:
    kind = (kind or "text").lower()
    aliases = {
        "str": "text",
        "string": "text",
        "int": "integer",
        "float": "number",
        "real": "number",
        "bool": "boolean",
    }
    kind = aliases.get(kind, kind)
    return kind if kind in COLUMN_TYPES else "text"


# ---------------------------------------------------------------------------- codebook

CODEBOOK_COLUMNS = (
    Column("table", "text", "The table (and XLSX sheet) the column belongs to."),
    Column("column", "text", "The column's name, as in the header row."),
    Column(
        "type",
        "text",
        "text, integer, number (decimal), boolean (true/false) or answer (a scale point, "
        f"{DONT_KNOW} for don't know, blank when not answered).",
    ),
    Column("label", "text", "A short label (the SPSS variable label)."),
    Column("description", "text", "What the column holds."),
    Column("value_labels", "text", "Codes and their meanings, as code = meaning; ..."),
)


def codebook_rows(tables: Iterable[Table]) -> Iterator[list[Any]]:
    for table in tables:
        for column in table.columns:
            yield [
                table.name,
                column.name,
                column.type,
                column.label,
                column.description,
                "; ".join(f"{code} = {meaning}" for code, meaning in column.value_labels.items()),
            ]


def codebook_table(tables: Sequence[Table]) -> Table:
    return Table(
        name="codebook",
        columns=CODEBOOK_COLUMNS,
        rows=codebook_rows(tables),
        title=TABLE_TITLES["codebook"],
    )


# ============================================================================ writers


def neutralise(text: str) -> str:
    """A text cell safe to open in a spreadsheet: formula-like text gets a leading quote."""
    if text and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _cell(value: Any) -> Any:
    """A cell for CSV or XLSX: text neutralised, non-finite numbers blank, numpy unwrapped."""
    kind = value.__class__
    if kind is str:
        return neutralise(value) if value else value
    if value is None or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is bool:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return neutralise(str(value))
    if hasattr(value, "item"):  # numpy scalar
        return _cell(value.item())
    return neutralise(str(value))


def _converter(columns: Sequence[Column]) -> Callable[[Sequence[Any]], list[Any]]:
    """A row converter that leaves answer and integer columns alone (they hold ints, None or
    ``dk``) and makes every other cell safe."""
    others = [i for i, c in enumerate(columns) if c.type not in ("answer",)]
    if len(others) == len(columns):
        return lambda row: [_cell(v) for v in row]

    def convert(row: Sequence[Any]) -> list[Any]:
        out = list(row)
        for i in others:
            v = out[i]
            if v is not None and v.__class__ is not int:
                out[i] = _cell(v)
        return out

    return convert


def _csv_text(value: Any) -> Any:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


def csv_chunks(table: Table, *, chunk_size: int = 1 << 16) -> Iterator[bytes]:
    """The table as CSV bytes: BOM, header, rows; CRLF; yielded in chunks of ~64 KiB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(table.column_names)
    convert = _converter(table.columns)
    booleans = [i for i, c in enumerate(table.columns) if c.type == "boolean"]
    write = writer.writerow
    count = 0
    for row in table.rows:
        cells = convert(row)
        for i in booleans:
            cells[i] = _csv_text(cells[i])
        write(cells)
        count += 1
        if count == 256:
            count = 0
            if buffer.tell() >= chunk_size:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _json_cell(value: Any) -> Any:
    if value.__class__ is float and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, int, float, bool)):
        return _json_cell(value.item())
    return value


def json_chunks(
    table: Table, *, scope: Scope | None = None, chunk_rows: int = 500
) -> Iterator[bytes]:
    """The table as one JSON object, streamed: metadata and columns first, then ``rows``."""
    head = {
        "table": table.name,
        "title": table.title,
        "relationship": scope.relationship_name if scope else None,
        "waves": [w.label for w in scope.waves] if scope else None,
        "dont_know": DONT_KNOW,
        "columns": [
            {
                "name": c.name,
                "type": c.type,
                "label": c.label,
                "description": c.description,
                "value_labels": {str(k): v for k, v in c.value_labels.items()},
            }
            for c in table.columns
        ],
    }
    opening = json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": ['
    yield opening.encode("utf-8")
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_json_default).encode
    floats = [i for i, c in enumerate(table.columns) if c.type in ("number", "text")]
    parts: list[str] = []
    separator = "\n"
    for row in table.rows:
        cells = list(row)
        for i in floats:
            v = cells[i]
            if v is not None and v.__class__ is not str:
                cells[i] = _json_cell(v)
        parts.append(separator + dumps(cells))
        separator = ",\n"
        if len(parts) >= chunk_rows:
            yield "".join(parts).encode("utf-8")
            parts.clear()
    parts.append("\n]}\n")
    yield "".join(parts).encode("utf-8")


def _sheet_title(name: str, used: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
    base, n = title, 1
    while title.lower() in used:
        n += 1
        suffix = f"_{n}"
        title = base[: 31 - len(suffix)] + suffix
    used.add(title.lower())
    return title


def write_xlsx(tables: Sequence[Table], target: str | Path | IO[bytes]) -> None:
    """A workbook with a sheet per table and a ``codebook`` sheet (openpyxl write-only)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    used: set[str] = set()
    bold = Font(bold=True)

    def header(sheet: Any, names: Sequence[str]) -> None:
        sheet.freeze_panes = "A2"
        cells = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    def clean(value: Any) -> Any:
        if value.__class__ is str and ILLEGAL_CHARACTERS_RE.search(value):
            return ILLEGAL_CHARACTERS_RE.sub("", value)
        return value

    for table in tables:
        names = table.column_names
        convert = _converter(table.columns)
        texts = [i for i, c in enumerate(table.columns) if c.type == "text"]
        sheet = workbook.create_sheet(_sheet_title(table.name, used))
        header(sheet, names)
        rows_left = XLSX_MAX_ROWS - 1
        part = 1
        for row in table.rows:
            if rows_left == 0:
                part += 1
                sheet = workbook.create_sheet(_sheet_title(f"{table.name}_{part}", used))
                header(sheet, names)
                rows_left = XLSX_MAX_ROWS - 1
            cells = convert(row)
            for i in texts:
                if cells[i].__class__ is str:
                    cells[i] = clean(cells[i])
            sheet.append(cells)
            rows_left -= 1
    codebook = workbook.create_sheet(_sheet_title("codebook", used))
    header(codebook, [c.name for c in CODEBOOK_COLUMNS])
    for row in codebook_rows(t for t in tables if t.name != "codebook"):
        codebook.append([clean(_cell(v)) for v in row])
    workbook.save(target)


# ---------------------------------------------------------------------------- SPSS

_SPSS_RESERVED = {
    "ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH",
}  # fmt: skip


def spss_names(names: Sequence[str]) -> list[str]:
    """Valid, unique SPSS variable names (letters, digits, ``_.@#$``; ≤ 64 bytes)."""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        spss = re.sub(r"[^A-Za-z0-9_.@#$]", "_", name)
        if not spss or not spss[0].isalpha():
            spss = "v" + spss
        spss = spss.rstrip(".")[:64] or "v"
        if spss.upper() in _SPSS_RESERVED:
            spss += "_"
        base, n = spss, 1
        while spss.lower() in seen:
            n += 1
            spss = f"{base[: 64 - len(str(n)) - 1]}_{n}"
        seen.add(spss.lower())
        out.append(spss)
    return out


def dont_know_code(points: int) -> int:
    """The SPSS code for "don't know": 9, 99 or 999 — the first above the scale's top point."""
    code = 9
    while code <= points:
        code = code * 10 + 9
    return code


def write_sav(table: Table, target: str | Path, *, file_label: str = "") -> None:
    """An SPSS .sav file of the table (pyreadstat; the table is held in memory to write it).

    Answer columns are numeric: the scale point, system-missing when skipped, and the
    :func:`dont_know_code` for "don't know", declared user-missing and labelled. Value labels
    come from the codebook; variable labels are the columns' labels (for items, the client
    wording with the supplier's name filled in). Integer columns get an F format with no
    decimals. Text columns are strings (blank for none).
    """
    import numpy as np
    import pandas as pd
    import pyreadstat

    columns = table.columns
    names = spss_names([c.name for c in columns])
    numeric = [c.type in ("answer", "integer", "number", "boolean") for c in columns]
    dk_codes: dict[int, int] = {}
    for i, column in enumerate(columns):
        if column.type == "answer":
            points = max((k for k in column.value_labels if isinstance(k, int)), default=5)
            dk_codes[i] = dont_know_code(points)
    data: list[Any] = [array("d") if numeric[i] else [] for i in range(len(columns))]
    nan = math.nan
    for row in table.rows:
        for i, value in enumerate(row):
            if numeric[i]:
                if value is None:
                    value = nan
                elif value == DONT_KNOW and i in dk_codes:
                    value = dk_codes[i]
                elif (
                    value.__class__ is str or isinstance(value, float) and not math.isfinite(value)
                ):
                    value = nan
                data[i].append(float(value))
            else:
                data[i].append("" if value is None else str(value))
    frame = pd.DataFrame(
        {
            name: (np.frombuffer(values, dtype=np.float64) if numeric[i] else values)
            for i, (name, values) in enumerate(zip(names, data, strict=True))
        }
    )
    value_labels: dict[str, dict[Any, str]] = {}
    missing: dict[str, list[Any]] = {}
    measure: dict[str, str] = {}
    formats: dict[str, str] = {}
    for i, (name, column) in enumerate(zip(names, columns, strict=True)):
        labels = {}
        for code, meaning in column.value_labels.items():
            if column.type == "answer" and code == DONT_KNOW:
                labels[float(dk_codes[i])] = meaning
            elif numeric[i] and isinstance(code, (int, float)) and not isinstance(code, bool):
                labels[float(code)] = meaning
            elif not numeric[i]:
                labels[str(code)] = meaning
        if labels:
            value_labels[name] = labels
        if column.type == "answer":
            if DONT_KNOW in column.value_labels:
                missing[name] = [float(dk_codes[i])]
            measure[name] = "ordinal"
            formats[name] = f"F{len(str(dk_codes[i]))}.0"
        elif column.type in ("integer", "boolean"):
            measure[name] = "scale" if column.type == "integer" else "nominal"
            formats[name] = "F8.0"
        elif column.type == "number":
            measure[name] = "scale"
            formats[name] = "F10.4"
        else:
            measure[name] = "nominal"
    pyreadstat.write_sav(
        frame,
        str(target),
        file_label=file_label[:64],
        column_labels=[(c.label or c.description)[:256] for c in columns],
        variable_value_labels=value_labels,
        missing_ranges=missing,
        variable_measure=measure,
        variable_format=formats,
    )


# ============================================================================ downloads


@dataclass
class Download:
    """A file ready to send: its name and media type, and its bytes as chunks."""

    filename: str
    media_type: str
    chunks: Iterator[bytes]
    table: str
    fmt: str
    scope: Scope


def _spooled(write: Callable[[Path], None], suffix: str) -> Iterator[bytes]:
    """Write a file to a temporary folder, then yield it in chunks and delete it."""
    with tempfile.TemporaryDirectory(prefix="relhealth-export-") as folder:
        path = Path(folder) / f"export{suffix}"
        write(path)
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 16):
                yield chunk


def prepare_download(table: str, fmt: str, scope: Scope) -> Download:
    """Check that ``table`` exists in ``fmt`` and build what writes it (nothing runs yet).

    The tables' columns (and the small results tables) are read now, so that a problem is
    raised before any byte is sent; the rows are read lazily, as the chunks are taken.
    """
    if fmt not in FORMATS:
        raise ServiceError(f"there is no format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if table not in FORMATS[fmt]:
        allowed = ", ".join(FORMATS[fmt])
        raise ServiceError(f"the {table!r} table is not offered as {fmt}: {fmt} offers {allowed}")
    if table not in TABLES and table != "all":
        raise ServiceError(f"there is no table {table!r}: choose one of {', '.join(TABLES)}")

    if table in RELATIONSHIP_TABLES and scope.wave_label is not None:
        scope = export_scope(scope.relationship, None)  # trends cover every closed wave
    tables = build_tables(table, scope)  # columns now (errors surface before any byte)

    def chunks() -> Iterator[bytes]:
        if fmt == "csv":
            yield from csv_chunks(tables[0])
        elif fmt == "json":
            yield from json_chunks(tables[0], scope=scope)
        elif fmt == "xlsx":
            yield from _spooled(lambda path: write_xlsx(tables, path), ".xlsx")
        else:
            label = f"{scope.relationship_name}: {scope.description}"
            yield from _spooled(lambda path: write_sav(tables[0], path, file_label=label), ".sav")

    return Download(
        filename=file_name(table, scope, fmt),
        media_type=MEDIA_TYPES[fmt],
        chunks=chunks(),
        table=table,
        fmt=fmt,
        scope=scope,
    )


def record_download(download: Download, *, actor: User | str) -> None:
    """Write the download to the audit log: who, which relationship, table, format and waves."""
    audit.record(
        "download",
        actor=actor,
        relationship=download.scope.relationship_id,
        table=download.table,
        format=download.fmt,
        wave=download.scope.wave_label or "all",
    )
    db.session.flush()
