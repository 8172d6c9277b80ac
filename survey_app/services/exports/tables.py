"""The tables a download writes: :class:`Table`, the results tables and the codebook table.

A **table** is ordered :class:`~survey_app.services.codebook.Column` s (name, type,
description, value labels: the codebook) and an iterator of rows (sequences in column order),
read once. The results tables (``scores``, ``items``, ``reliability``, ``gaps``, ``trends``,
``drivers``) are read from the results persisted when a wave closed
(:class:`~survey_app.models.results.ResultTable`), with confidentiality suppression applied at
output time by :mod:`survey_app.services.results`: a download never recomputes. The raw
``responses`` are built in :mod:`survey_app.services.exports.responses`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import ResultTable
from survey_app.services import ServiceError, codebook, targets
from survey_app.services import results as results_service
from survey_app.services.codebook import DONT_KNOW, Column
from survey_app.services.exports.scope import Scope
from survey_app.services.results import SUPPRESSED
from survey_app.texts import N_

#: The results tables persisted when a wave closes, in the order pages list them.
RESULT_TABLES: tuple[str, ...] = (
    "scores", "items", "reliability", "gaps", "trends", "drivers", *results_service.DEEPER_TABLES,
)  # fmt: skip
#: Results tables about the relationship's closed waves so far: as of the chosen wave (each
#: wave stores them as they stood when it closed), or as of the latest for every wave.
RELATIONSHIP_TABLES: tuple[str, ...] = ("trends",)
#: Tables built when downloaded from what managers recorded and the published results.
DERIVED_TABLES: tuple[str, ...] = ("targets",)
#: Every table a download can name. ``codebook`` describes the columns of all the others.
TABLES: tuple[str, ...] = (*RESULT_TABLES, *DERIVED_TABLES, "responses", "codebook")
TABLE_TITLES = {
    "scores": N_("Scores per wave, side, service area and dimension (the index is a dimension)"),
    "items": N_("Item statistics per wave, side and service area"),
    "reliability": N_("Reliability (Cronbach's alpha) per dimension and wave"),
    "gaps": N_("Perception gaps between client and supplier"),
    "trends": N_("Trends and change across the closed waves, as they stood at the wave"),
    "drivers": N_("Drivers of the health index and of commitment"),
    "relative_weights": N_("What moves commitment most: relative weights of the dimensions"),
    "heat_map": N_("Heat map: each service area against the rest, marked where really different"),
    "margins": N_("Response rates and margins of error"),
    "targets": N_("Agreed targets as they stood at each wave, and the distance to them"),
    "responses": N_("Raw anonymised responses, one row per response"),
    "codebook": N_("Every column of every table, described"),
    "all": N_("Every results table, with the codebook"),
}
#: The description of a stored column the codebook does not know (a table stored by an
#: earlier version of the service, until it is recomputed).
UNDESCRIBED = "(not described in the codebook)"


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


# ---------------------------------------------------------------------------- results


def results_table(name: str, scope: Scope) -> Table:
    """A persisted results table over the scope's waves, suppressed for output.

    The rows are those stored when each wave closed; confidentiality suppression (k =
    ``MIN_CELL_SIZE``) is applied now, by the results service, so that a change of k takes
    effect without recomputing. Column descriptions come from the codebook.

    A wave table is read and suppressed one wave at a time (suppression works within a wave),
    so that the rows of all waves are never in memory at once. A relationship table
    (``trends``) is as of the scope's one wave, or as of the latest closed wave for a scope of
    every wave.
    """
    if name not in RESULT_TABLES:
        raise ServiceError(f"there is no results table {name!r}")
    if name in RELATIONSHIP_TABLES or len(scope.waves) <= 1:
        every_wave = name in RELATIONSHIP_TABLES and scope.wave_label is None
        waves = None if every_wave else scope.wave_models()
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
            if column not in names and column != SUPPRESSED:  # stored with its pattern: last
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
    """The columns of a results table, as the codebook describes them.

    A stored column the codebook does not describe gets its type from its values and says
    that it is undescribed (:data:`UNDESCRIBED`).
    """
    described = {column.name: column for column in codebook.columns(table)}
    return tuple(
        described.get(name)
        or Column(name, _infer_type(row[i] for row in rows), UNDESCRIBED, label=name)
        for i, name in enumerate(names)
    )


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


# ---------------------------------------------------------------------------- targets


def targets_table(scope: Scope) -> Table:
    """The ``targets`` table: for each wave of the scope, the targets it is read against and
    the distance of its published means to them (:func:`targets.wave_target_rows`)."""
    columns = codebook.columns("targets")

    def rows() -> Iterator[list[Any]]:  # read as the file is written (in that session)
        for row in targets.wave_target_rows(scope.relationship, scope.wave_models()):
            yield [row[c.name] for c in columns]

    return Table(
        name="targets",
        columns=columns,
        rows=rows(),
        title=TABLE_TITLES["targets"],
        notes=(targets.RATING_RULE,),
    )


# ---------------------------------------------------------------------------- codebook

CODEBOOK_COLUMNS = (
    Column(
        "table",
        "text",
        "The table (and XLSX sheet) the column belongs to.",
        label="Table",
        label_cy="Tabl",
        description_cy="Y tabl (a thaflen XLSX) y mae'r golofn yn perthyn iddo.",
    ),
    Column(
        "column",
        "text",
        "The column's name, as in the header row.",
        label="Column",
        label_cy="Colofn",
        description_cy="Enw'r golofn, fel yn y rhes pennawd.",
    ),
    Column(
        "type",
        "text",
        "text, integer, number (decimal), boolean (true/false) or answer (a scale point, "
        f"{DONT_KNOW} for don't know, blank when not answered).",
        label="Type",
        label_cy="Math",
        description_cy="text, integer, number (degol), boolean (true/false) neu answer (pwynt ar y "
        f"raddfa, {DONT_KNOW} am ddim yn gwybod, gwag pan na chafodd ei ateb).",
    ),
    Column(
        "label",
        "text",
        "A short label (the SPSS variable label); for an item of the responses, the wording "
        "the client's staff read.",
        label="Label",
        label_cy="Label",
        description_cy="Label byr (label newidyn SPSS); ar gyfer eitem o'r ymatebion, y geiriad a "
        "ddarllenodd staff y cleient.",
    ),
    Column(
        "label_cy",
        "text",
        "The label in Welsh: for an item of the responses, the Welsh wording the client's staff "
        "read (from the instrument's translation the wave froze), blank for an instrument "
        "without Welsh.",
        label="Label (Welsh)",
        label_cy="Label (Cymraeg)",
        description_cy="Y label yn Gymraeg: ar gyfer eitem o'r ymatebion, y geiriad Cymraeg a "
        "ddarllenodd staff y cleient (o gyfieithiad yr offeryn a rewodd y cylch), gwag ar gyfer "
        "offeryn heb Gymraeg.",
    ),
    Column(
        "supplier_label",
        "text",
        "For an item of the responses: the wording the supplier's staff read, where it "
        "differs from label (also in the SPSS file's document); blank otherwise.",
        label="Supplier staff's wording",
        label_cy="Geiriad staff y cyflenwr",
        description_cy="Ar gyfer eitem o'r ymatebion: y geiriad a ddarllenodd staff y cyflenwr, lle "
        "mae'n wahanol i label (hefyd yn nogfen y ffeil SPSS); gwag fel arall.",
    ),
    Column(
        "description",
        "text",
        "What the column holds.",
        label="Description",
        label_cy="Disgrifiad",
        description_cy="Beth sydd yn y golofn.",
    ),
    Column(
        "description_cy",
        "text",
        "The description in Welsh (a draft awaiting a qualified translator); blank where there "
        "is none.",
        label="Description (Welsh)",
        label_cy="Disgrifiad (Cymraeg)",
        description_cy="Y disgrifiad yn Gymraeg (drafft sy'n aros am gyfieithydd cymwys); gwag "
        "lle nad oes un.",
    ),
    Column(
        "value_labels",
        "text",
        "Codes and their meanings, as code = meaning; ...",
        label="Value labels",
        label_cy="Labeli gwerthoedd",
        description_cy="Codau a'u hystyron, fel cod = ystyr; ...",
    ),
    Column(
        "value_labels_cy",
        "text",
        "The meanings in Welsh, where they differ, as code = meaning; ...",
        label="Value labels (Welsh)",
        label_cy="Labeli gwerthoedd (Cymraeg)",
        description_cy="Yr ystyron yn Gymraeg, lle maent yn wahanol, fel cod = ystyr; ...",
    ),
)


def codebook_rows(tables: Iterable[Table]) -> Iterator[list[Any]]:
    """One row per column of every table, as :data:`CODEBOOK_COLUMNS` describe."""
    for table in tables:
        for column in table.columns:
            yield [
                table.name,
                column.name,
                column.type,
                column.label,
                column.label_cy,
                column.supplier_label,
                column.description,
                column.description_cy,
                "; ".join(f"{code} = {meaning}" for code, meaning in column.value_labels.items()),
                "; ".join(f"{code} = {word}" for code, word in column.value_labels_cy.items()),
            ]


def codebook_table(tables: Sequence[Table]) -> Table:
    """The ``codebook`` table: every column of ``tables``, described."""
    return Table(
        name="codebook",
        columns=CODEBOOK_COLUMNS,
        rows=codebook_rows(tables),
        title=TABLE_TITLES["codebook"],
    )
