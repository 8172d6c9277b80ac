"""The ``responses`` table: the raw anonymised responses, one row per response.

Its columns are the fixed ones (key, wave, side, service area, role level, instrument and
version), one column per item key of every instrument version in the scope, and one per
free-text question. The rows are streamed from the database with ordered Core selects
(responses, their answers, their comments) merged in Python: never one ORM object per answer.

* An item answer is its scale point ``1..K``; blank (None) means the item was skipped;
  :data:`~survey_app.services.codebook.DONT_KNOW` means "don't know".
* **k-anonymous** (DESIGN §4.14): side, service area and role level are the quasi-identifiers.
  Per wave, :func:`analysis.anonymity.k_anonymous_recoding` generalises them row by row — role
  level first, then area, then side — to :data:`OTHER` until every combination holds at least
  ``MIN_CELL_SIZE`` responses (the wave's own k) and no count the results publish, minus the
  rows visibly in it, leaves a smaller group — and further
  (:func:`analysis.anonymity.protect_release`) while the released combinations together with
  the side × area cells the wave's results show would narrow a smaller group to a range under
  k wide; a wave of fewer than k responses is left out. That audit is computed once per wave,
  when its results are stored, and read here (:mod:`survey_app.services.results.release`;
  downloads refuse open waves). This is the one place
  raw rows leave the service (CSV, XLSX, JSON, SPSS and the API all read this table).
* **Comments**: a comment is given only when its row is not generalised and its group (side ×
  area × role level) is one whose comments are published
  (:func:`~survey_app.services.results.published_comment_groups`: at least
  ``MIN_COMMENT_CELL_SIZE`` responses, suppressed as a cube so that no difference of shown
  groups isolates a smaller one); otherwise its cell is blank.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import groupby
from operator import itemgetter
from typing import Any

from flask_babel import force_locale, gettext
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
    Wave,
)
from survey_app.services.codebook import DONT_KNOW, OTHER, OTHER_LABEL, Column
from survey_app.services.exports.scope import Scope, WaveRef
from survey_app.services.exports.tables import TABLE_TITLES, Table
from survey_app.services.instruments import frozen_instrument, wave_instrument
from survey_app.services.results import (
    AREA_NONE,
    ROLE_NONE,
    min_cell_size,
    min_comment_cell_size,
    published_comment_groups,
    wave_release,
)
from survey_app.texts import N_

_GENERALISED_NOTE = (
    f" {OTHER} = other: a group of fewer than k responses (MIN_CELL_SIZE) combined with others "
    "so that no row can be singled out (k-anonymity, DESIGN §4.14)."
)
_GENERALISED_NOTE_CY = (
    f" {OTHER} = arall: grŵp o lai na k ymateb (MIN_CELL_SIZE) wedi'i gyfuno ag eraill fel na "
    "ellir adnabod unrhyw res (k-anhysbysrwydd, DESIGN §4.14)."
)

_FIXED_COLUMNS = (
    Column(
        "response_id",
        "text",
        "Random key of the response (a UUID). It links to nothing else: not to an invitation, "
        "not to a person, not to a time.",
        label=N_("Response key"),
        description_cy="Allwedd ar hap yr ymateb (UUID). Nid yw'n cysylltu â dim arall: nid â "
        "gwahoddiad, nid â pherson, nid ag amser.",
    ),
    Column(
        "wave",
        "text",
        "Label of the survey wave the response belongs to.",
        label=N_("Wave"),
        description_cy="Label cylch yr arolwg y mae'r ymateb yn perthyn iddo.",
    ),
    Column(
        "side",
        "text",
        "Which party's staff answered: client (the council) or supplier.",
        label=N_("Side"),
        description_cy="Staff pa barti a atebodd: client (y cyngor) neu supplier (y cyflenwr).",
        value_labels={
            "client": N_("Client (the council)"),
            "supplier": N_("Supplier"),
            OTHER: OTHER_LABEL,
        },
    ),
    Column(
        "service_area",
        "text",
        "Key of the respondent's service area in the relationship (its value labels name each "
        "area); blank when not given." + _GENERALISED_NOTE,
        label=N_("Service area"),
        description_cy="Allwedd maes gwasanaeth yr ymatebydd yn y berthynas (mae ei labeli "
        "gwerthoedd yn enwi pob maes); gwag pan na chafodd ei roi." + _GENERALISED_NOTE_CY,
    ),
    Column(
        "role_level",
        "text",
        "Role level of the respondent; blank when not given." + _GENERALISED_NOTE,
        label=N_("Role level"),
        description_cy="Lefel rôl yr ymatebydd; gwag pan na chafodd ei rhoi."
        + _GENERALISED_NOTE_CY,
        value_labels={**dict(ROLE_LEVELS), OTHER: OTHER_LABEL},
    ),
    Column(
        "instrument",
        "text",
        "Key of the questionnaire (instrument) the response answered.",
        label=N_("Instrument"),
        description_cy="Allwedd yr holiadur (offeryn) a atebodd yr ymateb.",
    ),
    Column(
        "instrument_version",
        "integer",
        "Version of the instrument answered: the item wording is that version's.",
        label=N_("Instrument version"),
        description_cy="Fersiwn yr offeryn a atebwyd: geiriad yr eitemau yw geiriad y fersiwn honno.",
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
            f"{OTHER} = a group of fewer than {_scope_k(scope)} responses combined with others.",
            f"Comments only for groups of at least {min_comment_cell_size()} responses.",
        ),
    )


def _scope_k(scope: Scope) -> str:
    """The k of the scope's waves (each keeps its own: "5" or "5 or 7")."""
    ks = {
        min_cell_size(k)
        for k in db.session.scalars(
            select(Wave.min_cell_size).where(Wave.id.in_([w.id for w in scope.waves]))
        )
    } or {min_cell_size()}
    return " or ".join(str(k) for k in sorted(ks))


def responses_columns(scope: Scope) -> tuple[tuple[Column, ...], dict[int, VersionLayout]]:
    """The columns of ``responses`` for a scope, and where each version's items go.

    Item columns are the union of the item keys of every instrument version in the scope, in
    the order first met (oldest wave first); comment columns follow, one per free-text
    question. A column absent from a response's version is blank in its row.
    """
    instruments = [(v, _translated(v, scope)) for v in _scope_versions(scope)]
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
            column = replace(column, name=f"comment_{key}")
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
    """The fixed columns, ``service_area`` labelled with the names of the scope's areas, and
    each with its Welsh labels from the catalogue."""
    areas = {**dict(scope.service_areas), OTHER: OTHER_LABEL}
    found = []
    for column in _FIXED_COLUMNS:
        if column.name == "service_area" and scope.service_areas:
            column = replace(column, value_labels=areas)
        found.append(_in_welsh(column))
    return tuple(found)


def _in_welsh(column: Column) -> Column:
    """``column`` with its Welsh labels: its label's and value labels' translations in the
    catalogue (names of areas, which are data, stay as they are)."""
    with force_locale("cy"):
        welsh = {code: gettext(meaning) for code, meaning in column.value_labels.items()}
        label = gettext(column.label) if column.label else ""
    return replace(
        column,
        label_cy=label if label != column.label else "",
        value_labels_cy={c: w for c, w in welsh.items() if w != column.value_labels[c]},
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
        description_cy=_item_description_cy(instrument, item),
        **_welsh_labels(instrument, item, scope),
    )


def _item_description_cy(instrument: Instrument, item: Item) -> str:
    """An item column's description in Welsh: the instrument's Welsh title and wordings where it
    carries Welsh, its English ones otherwise."""
    scale = instrument.scale
    dimension = instrument.dimension(item.dimension)
    title, wording = dimension.title, item.wording
    if "cy" in instrument.languages:
        with contextlib.suppress(ValueError):  # a part the translation does not carry
            title, wording = dimension.title_in("cy"), item.wording_in("cy")
    answer = f"Ateb 1–{scale.points}; gwag = heb ei ateb"
    if item.dont_know:
        answer += f"; {DONT_KNOW} = ddim yn gwybod"
    notes = [
        f"{title} ({item.dimension}).",
        f"Geiriad y cleient: “{wording.client}”",
        f"Geiriad y cyflenwr: “{wording.supplier}”",
        f"{answer}.",
    ]
    if item.reverse:
        notes.append(
            f"Wedi'i wrthdroi: wedi'i storio fel y'i hatebwyd, wedi'i sgorio fel "
            f"{scale.points + 1} − ateb."
        )
    notes.append(f"O {instrument.key} f{instrument.version}.")
    return " ".join(notes)


def _welsh_labels(instrument: Instrument, item: Item, scope: Scope) -> dict[str, Any]:
    """An item's Welsh label (the client staff's Welsh wording) and its scale's Welsh value
    labels, where the instrument carries Welsh (none otherwise)."""
    if "cy" not in instrument.languages:
        return {}
    scale = instrument.scale
    labels: dict[Any, str] = dict(zip(scale.values, scale.labels_in("cy"), strict=True))
    if item.dont_know:
        labels[DONT_KNOW] = scale.dont_know_label_in("cy")
    try:
        label = item.text_in("client", "cy", partner=scope.supplier_name, partner_side="supplier")
    except (ValueError, KeyError):  # a placeholder this wording cannot fill
        label = ""
    return {"label_cy": label, "value_labels_cy": labels}


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
        "response's side, service area and role level are shown (not other) and that group "
        f"of the wave holds at least {min_comment_cell_size()} responses, and is not hidden to "
        "protect a smaller group; blank otherwise (DESIGN §4.14).",
        label=f"Comment: {question.key}",
        label_cy=f"Sylw: {question.key}",
        description_cy=f"Ateb testun rhydd i “{question.wording.client}” (cleient) / "
        f"“{question.wording.supplier}” (cyflenwr). Fe'i rhoddir dim ond lle dangosir ochr, maes "
        "gwasanaeth a lefel rôl yr ymateb (nid arall) a bod gan y grŵp hwnnw o'r cylch o leiaf "
        f"{min_comment_cell_size()} ymateb, ac nad yw wedi'i guddio i ddiogelu grŵp llai; gwag "
        "fel arall (DESIGN §4.14).",
    )


def _translated(version: InstrumentVersion, scope: Scope) -> Instrument:
    """The version with the translations the scope's latest wave of it froze (its Welsh)."""
    waves = db.session.scalars(
        select(Wave)
        .where(Wave.id.in_(scope.wave_ids), Wave.instrument_version_id == version.id)
        .order_by(Wave.id)
    ).all()
    offering = [w for w in waves if w.translations]
    return wave_instrument(offering[-1]) if offering else frozen_instrument(version)


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


def released_quasi_identifiers(wave_id: int, areas: Mapping[int, str]) -> dict[Any, Released]:
    """How each group of a wave's responses is released: its recoded side, area and role level.

    Keyed by the group as the responses select returns it (side, service area id, role
    level); a group left out (its wave holds fewer than k responses) is absent. The recoding
    is the one stored with the wave's results, or computed the same way for a wave that has
    none (:func:`~survey_app.services.results.wave_release`). Comments follow the comment
    threshold in force now. See the module notes.
    """
    groups = wave_release(db.session.get(Wave, wave_id))
    sizes: Counter = Counter()
    for g in groups:
        sizes[(g.side, areas.get(g.service_area_id, AREA_NONE), g.role_level or ROLE_NONE)] += (
            g.n_responses
        )
    commented = published_comment_groups(sizes)
    released: dict[Any, Released] = {}
    for g in groups:
        if g.withheld:
            continue
        generalised = g.side_generalised or g.area_generalised or g.role_generalised
        base = (g.side, areas.get(g.service_area_id, AREA_NONE), g.role_level or ROLE_NONE)
        released[(g.side, g.service_area_id, g.role_level)] = Released(
            side=OTHER if g.side_generalised else g.side,
            area=OTHER if g.area_generalised else areas.get(g.service_area_id),
            role=OTHER if g.role_generalised else g.role_level,
            comments=not generalised and base in commented,
        )
    return released


@dataclass(frozen=True, slots=True)
class Released:
    """The quasi-identifiers a response is released with, and whether its comments are."""

    side: str
    area: str | None
    role: str | None
    comments: bool


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
    for wave in scope.waves:
        released = released_quasi_identifiers(wave.id, areas)
        yield from _wave_response_rows(wave, width, layouts, released, batch=batch)


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
    released: Mapping[Any, Released],
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
    for key, side, area, role, version_id in conn.execute(response_q, execution_options=options):
        layout = layouts[version_id]
        release = released.get((side, area, role))
        row = blank.copy()
        if release is not None:
            row[0] = _key_text(key)
            row[2] = release.side
            row[3] = release.area
            row[4] = release.role
            row[5] = layout.key
            row[6] = layout.version
        if run_key == key:
            item_columns = layout.item_columns
            for _, item_no, value in run:
                row[item_columns[item_no]] = dk if value is None else value
            run_key, run = next(answer_runs, (None, ()))
        if c_key == key:
            if release is not None and release.comments:
                for _, question, text in c_run:
                    index = layout.comment_columns.get(question)
                    if index is not None:
                        row[index] = text
            c_key, c_run = next(comment_runs, (None, ()))
        if release is not None:
            yield row
