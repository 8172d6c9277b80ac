"""Scoring waves: bulk loading of answers, every table of DESIGN §5, and status over time.

The statistics all come from the pure :mod:`analysis` package; this module loads the answers
of a wave into NumPy arrays, lays out the cells (wave × side × service area, with every
margin), calls the analysis functions once per table over all cells at once, and turns the
results into rows. :mod:`survey_app.services.results` persists those rows when a wave closes
and applies confidentiality suppression when they are shown.

Cells
-----
Every wave is cut into a cube of cells: side (``client``, ``supplier``, ``all``) × service
area (each area of the relationship, ``_none`` for responses without an area, ``_all``).
A response belongs to four cells (its side and area, both sides in its area, its side in all
areas, everyone); the answers are stacked four times with one cell code per copy, so that
one vectorised call of an analysis function computes every cell and margin (the analysis
functions reduce by :func:`numpy.bincount` over cell codes). Drivers and reliability, whose
analysis functions take one group at a time, loop over cells (21) or dimensions (≈10) — never
over respondents.

Tables (columns in :mod:`survey_app.services.codebook`)
-------------------------------------------------------
``scores``       wave × side × area × dimension (the health index is the dimension ``index``)
``items``        wave × side × area × item
``reliability``  wave × side × dimension (a dimension row, then one row per item)
``gaps``         wave × area × dimension: client vs supplier
``drivers``      wave × side × area × outcome × dimension
``trends``       relationship × side × area × dimension across closed waves (latest status)

Status over time (DESIGN §4.11–4.12) is computed for every wave as it stood when the wave
closed, from the closed waves up to and including it, so a wave's results never change when
later waves close. Trends run across instrument versions on the dimensions that did not
change; where one changed, its series restarts at the new version and ``comparability_note``
says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy import Select, case, func, literal, select
from sqlalchemy.engine import Connection

from analysis import agreement, drivers, gaps, reliability, scoring, status, trends
from instruments import Instrument, changed_dimensions
from survey_app.extensions import db
from survey_app.models import ROLE_LEVELS, Answer, Relationship, Response, Wave
from survey_app.services import ServiceError
from survey_app.services.instruments import frozen_instrument

#: Bump when a formula or a table layout changes: persisted results of another version are
#: stale and ``relhealth recompute`` rebuilds them.
ANALYSIS_VERSION = "1"

SIDE_KEYS = ("client", "supplier", "all")
SIDE_WORDS = {"client": "client staff", "supplier": "supplier staff", "all": "both sides"}
AREA_ALL = "_all"
AREA_NONE = "_none"
AREA_ALL_NAME = "All service areas"
AREA_NONE_NAME = "Not stated"
INDEX = "index"
INDEX_TITLE = "Relationship health index"
ROLE_KEYS = tuple(ROLE_LEVELS)
#: Waves of an EWMA/CUSUM chart's baseline (the first observed waves set centre and sigma).
CHART_BASELINE_WAVES = 4
#: Drivers are shown only for groups of at least this many respondents (DESIGN §4.13).
DRIVER_MIN_N = drivers.MIN_N
WAVE_TABLES = ("scores", "items", "reliability", "gaps", "drivers")
RELATIONSHIP_TABLES = ("trends",)
TABLES = (*WAVE_TABLES, *RELATIONSHIP_TABLES)

#: Decimals that a response's health index, and the wave means and changes that the status
#: rules compare, are rounded to. Far below any reported precision, it makes values that are
#: equal in exact arithmetic equal in floating point (an index of 3.5 reached by different
#: sums; a change of exactly 5 points), so ties in rank tests and rule thresholds do not
#: depend on summation order.
TIE_DECIMALS = 12

# Answers come back from the database packed into one integer each (see answer_statements).
_ROW_SHIFT = 20
_ITEM_SHIFT = 4
_VALUE_MASK = (1 << _ITEM_SHIFT) - 1
_ITEM_MASK = (1 << (_ROW_SHIFT - _ITEM_SHIFT)) - 1


# =============================================================================== loading


@dataclass(frozen=True, slots=True, eq=False)
class WaveAnswers:
    """The answers of one wave as arrays, one row per response (in response-key order).

    Attributes
    ----------
    wave_id : int
    instrument : Instrument
        The frozen instrument version the wave used; column ``j`` of ``x`` is its item ``j``.
    x : ndarray of float64, shape (n_responses, n_items)
        The answer as given (``1..K``, not reverse-keyed); NaN for "don't know" or skipped.
    dont_know : ndarray of bool, shape (n_responses, n_items)
        True where the answer was "don't know" (a stored NULL); a skipped item is False.
    side : ndarray of int8, shape (n_responses,)
        0 = client, 1 = supplier.
    area : ndarray of int16, shape (n_responses,)
        Index into ``area_ids``; -1 when the response has no service area.
    role : ndarray of int8, shape (n_responses,)
        Index into :data:`ROLE_KEYS`; -1 when not given.
    area_ids : tuple of int
        Service area ids of the relationship, in the relationship's order.
    """

    wave_id: int
    instrument: Instrument
    x: np.ndarray
    dont_know: np.ndarray
    side: np.ndarray
    area: np.ndarray
    role: np.ndarray
    area_ids: tuple[int, ...]

    @property
    def n(self) -> int:
        return int(self.x.shape[0])


def _driver_batches(
    connection: Connection, statement: Select[Any], batch_size: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Run a Core select and stream its rows from the driver cursor in batches of tuples.

    SQLAlchemy compiles the statement (bound parameters, dialect SQL); the rows are then
    fetched straight from the DBAPI cursor, in the connection's current transaction, without
    SQLAlchemy's per-row ``Row`` objects (measured at ~1.2 µs a row, three times the
    driver's own cost). On PostgreSQL a named (server-side) cursor streams the rows; SQLite
    steps through them as they are fetched.
    """
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    raw = connection.connection.dbapi_connection
    assert raw is not None
    if connection.dialect.name == "postgresql":
        cursor = raw.cursor(name="relhealth_bulk_answers")  # type: ignore[call-arg]
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(batch_size):
            yield rows
    finally:
        cursor.close()


def _ints(rows: list[tuple[Any, ...]], width: int) -> np.ndarray:
    """A batch of integer tuples as an int64 array of shape (len(rows), width)."""
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=len(rows) * width)
    return flat.reshape(-1, width)


def answer_statements(wave_ids: Sequence[int]) -> tuple[Select[Any], Select[Any]]:
    """The two Core selects of :func:`load_answer_grid` for some waves.

    Returns
    -------
    responses : Select
        ``(wave_id, side code, service_area_id or -1, role code, instrument_version_id)``
        per response, ordered by response key.
    answers : Select
        One integer per answer, ``row × 2**20 + item_no × 16 + value`` (value 0 for "don't
        know"), ``row`` being the response's position in the first select.

    Notes
    -----
    Both follow the response key, the leading column of the answers' primary key, so the
    database reads answers in storage order (SQLite: one pass along the WITHOUT ROWID
    B-tree; PostgreSQL: a hash join over one sequential scan) rather than seeking once per
    response in random key order.
    """
    side_code = case((Response.side == "supplier", 1), else_=0)
    role_code = case(
        *((Response.role_level == key, i) for i, key in enumerate(ROLE_KEYS)), else_=-1
    )
    responses = (
        select(
            Response.wave_id,
            side_code,
            func.coalesce(Response.service_area_id, -1),
            role_code,
            Response.instrument_version_id,
        )
        .where(Response.wave_id.in_(list(wave_ids)))
        .order_by(Response.id)
    )
    ranked = (
        select(
            Response.id.label("response_id"),
            (func.row_number().over(order_by=Response.id) - 1).label("row"),
        )
        .where(Response.wave_id.in_(list(wave_ids)))
        .cte("ranked")
    )
    packed = (
        ranked.c.row * literal(1 << _ROW_SHIFT)
        + Answer.item_no * literal(1 << _ITEM_SHIFT)
        + func.coalesce(Answer.value, 0)
    )
    answers = select(packed).join_from(ranked, Answer, Answer.response_id == ranked.c.response_id)
    return responses, answers


@dataclass(frozen=True, slots=True, eq=False)
class AnswerGrid:
    """The answers of some waves as one small-integer grid, one row per response.

    ``grid[r, j]`` is response ``r``'s answer to item ``j`` (``1..K``), 0 for "don't know"
    and -1 for skipped (int8: a million 40-item responses take 40 MB). :meth:`wave` turns a
    wave's rows into the float arrays the analysis functions take.
    """

    waves: tuple[Wave, ...]
    grid: np.ndarray
    meta: np.ndarray  # (n, 5): wave_id, side, service_area_id, role, instrument_version_id

    def wave(self, wave: Wave) -> WaveAnswers:
        """The answers of one of the grid's waves (rows in response-key order)."""
        instrument = frozen_instrument(wave.instrument_version)
        n_items = len(instrument.items)
        rows = np.flatnonzero(self.meta[:, 0] == wave.id)
        meta = self.meta[rows]
        if np.any(meta[:, 4] != wave.instrument_version_id):
            raise ServiceError(
                f"wave {wave.label!r} has responses to another instrument version than the "
                "wave's own; they cannot be scored together"
            )
        grid = self.grid[rows]
        if np.any(grid[:, n_items:] != -1):
            raise ServiceError(f"wave {wave.label!r} has answers to items its instrument lacks")
        grid = grid[:, :n_items]
        if grid.size and grid.max() > instrument.scale.points:
            raise ServiceError(
                f"wave {wave.label!r} has answers above its {instrument.scale.points}-point scale"
            )
        areas = tuple(a.id for a in wave.relationship.service_areas)
        area = np.full(rows.size, -1, dtype=np.int16)
        for i, area_id in enumerate(areas):  # a handful of areas, not respondents
            area[meta[:, 2] == area_id] = i
        if np.any((area < 0) & (meta[:, 2] >= 0)):
            raise ServiceError(f"wave {wave.label!r} has responses in another relationship's area")
        return WaveAnswers(
            wave_id=wave.id,
            instrument=instrument,
            x=np.where(grid > 0, grid, np.nan),
            dont_know=grid == 0,
            side=meta[:, 1].astype(np.int8),
            area=area,
            role=meta[:, 3].astype(np.int8),
            area_ids=areas,
        )


def load_answer_grid(waves: Sequence[Wave], *, batch_size: int = 100_000) -> AnswerGrid:
    """Load the answers of one or many waves in bulk: two Core selects, streamed.

    Parameters
    ----------
    waves : sequence of Wave
    batch_size : int, optional
        Rows fetched from the driver at a time.

    Returns
    -------
    AnswerGrid

    Notes
    -----
    The selects are :func:`answer_statements`. Each answer comes back as **one integer**
    ``row × 2**20 + item_no × 16 + value``: no response key crosses the wire with an
    answer, so nothing depends on how the database spells a UUID (``CHAR(32)`` hex on
    SQLite, ``uuid`` on PostgreSQL) and no Python object is made per answer beyond the
    driver's own row tuple. Each fetched batch is unpacked with array arithmetic and
    scattered into the grid by fancy indexing, then dropped, so memory holds the grid and
    one batch.
    """
    waves = tuple(waves)
    wave_ids = [int(w.id) for w in waves]
    width = max((len(frozen_instrument(w.instrument_version).items) for w in waves), default=0)
    if not waves:
        return AnswerGrid(waves, np.zeros((0, 0), np.int8), np.zeros((0, 5), np.int64))
    connection = db.session.connection()
    responses_sql, answers_sql = answer_statements(wave_ids)
    parts = [_ints(b, 5) for b in _driver_batches(connection, responses_sql, batch_size)]
    meta = np.concatenate(parts) if parts else np.zeros((0, 5), np.int64)
    grid = np.full((meta.shape[0], width), -1, dtype=np.int8)
    for batch in _driver_batches(connection, answers_sql, batch_size):
        packed = _ints(batch, 1)[:, 0]
        row = packed >> _ROW_SHIFT
        item = (packed >> _ITEM_SHIFT) & _ITEM_MASK
        if item.size and (item.max() >= width or row.max() >= grid.shape[0]):
            raise ServiceError("answers refer to items beyond every instrument of these waves")
        grid[row, item] = packed & _VALUE_MASK
    return AnswerGrid(waves, grid, meta)


def load_answers(waves: Sequence[Wave], *, batch_size: int = 100_000) -> list[WaveAnswers]:
    """Load the answers of one or many waves into NumPy arrays, in bulk.

    Parameters
    ----------
    waves : sequence of Wave
        The waves to load (any instrument versions).
    batch_size : int, optional
        Rows fetched from the driver at a time.

    Returns
    -------
    list of WaveAnswers
        One per wave, in the order given: ``x`` (n_responses, n_items) float with NaN for
        "don't know" and skipped, ``dont_know``, and side, area and role codes.

    Notes
    -----
    Two Core selects for all the waves together (see :func:`load_answer_grid`); no ORM
    object and no Python loop per answer.
    """
    grid = load_answer_grid(waves, batch_size=batch_size)
    return [grid.wave(w) for w in grid.waves]


# =============================================================================== layout


@dataclass(frozen=True, slots=True)
class Design:
    """What scoring needs from an instrument version, as arrays."""

    instrument: Instrument
    points: int
    reverse: np.ndarray
    item_dimension: np.ndarray
    dimension_keys: tuple[str, ...]
    dimension_titles: tuple[str, ...]
    weights: np.ndarray
    outcome: np.ndarray
    favourable: tuple[int, ...]
    unfavourable: tuple[int, ...]
    strength: float
    concern: float

    @classmethod
    def of(cls, instrument: Instrument) -> Design:
        keys = tuple(d.key for d in instrument.dimensions)
        position = {key: i for i, key in enumerate(keys)}
        return cls(
            instrument=instrument,
            points=instrument.scale.points,
            reverse=np.array([item.reverse for item in instrument.items], dtype=bool),
            item_dimension=np.array(
                [position[item.dimension] for item in instrument.items], dtype=np.int64
            ),
            dimension_keys=keys,
            dimension_titles=tuple(d.title for d in instrument.dimensions),
            weights=np.array([d.weight for d in instrument.dimensions], dtype=np.float64),
            outcome=np.array([d.outcome for d in instrument.dimensions], dtype=bool),
            favourable=tuple(instrument.scale.favourable),
            unfavourable=tuple(instrument.scale.unfavourable),
            strength=instrument.bands.strength,
            concern=instrument.bands.concern,
        )

    @property
    def n_dimensions(self) -> int:
        return len(self.dimension_keys)

    @property
    def score_keys(self) -> tuple[str, ...]:
        """Dimension keys then ``index``: the columns of a response's scores."""
        return (*self.dimension_keys, INDEX)

    @property
    def score_titles(self) -> tuple[str, ...]:
        return (*self.dimension_titles, INDEX_TITLE)

    def items_of(self, d: int) -> np.ndarray:
        """Item columns of score column ``d`` (every item for the index)."""
        if d == self.n_dimensions:
            return np.arange(self.item_dimension.size)
        return np.flatnonzero(self.item_dimension == d)


@dataclass(frozen=True, slots=True)
class Layout:
    """The cells of a relationship: sides (client, supplier, all) × areas (…, _none, _all)."""

    area_keys: tuple[str, ...]
    area_names: tuple[str, ...]

    @classmethod
    def of(cls, relationship: Relationship) -> Layout:
        areas = relationship.service_areas
        return cls(tuple(a.key for a in areas), tuple(a.name for a in areas))

    @property
    def n_areas(self) -> int:
        """Real service areas (A)."""
        return len(self.area_keys)

    @property
    def n_area_levels(self) -> int:
        """A areas, then _none (index A), then _all (index A + 1)."""
        return self.n_areas + 2

    @property
    def n_cells(self) -> int:
        return 3 * self.n_area_levels

    @property
    def level_keys(self) -> tuple[str, ...]:
        return (*self.area_keys, AREA_NONE, AREA_ALL)

    @property
    def level_names(self) -> tuple[str, ...]:
        return (*self.area_names, AREA_NONE_NAME, AREA_ALL_NAME)

    def cell(self, side: int, level: int) -> int:
        return side * self.n_area_levels + level


@dataclass(frozen=True, slots=True, eq=False)
class Cube:
    """Each response stacked four times, once per cell it belongs to.

    ``rows[i]`` is the response of stacked row ``i`` and ``cells[i]`` its cell; the four
    blocks are (side, area), (both sides, area), (side, all areas), (both sides, all areas).
    """

    rows: np.ndarray
    cells: np.ndarray
    side_level: np.ndarray
    area_level: np.ndarray

    @classmethod
    def of(cls, answers: WaveAnswers, layout: Layout) -> Cube:
        n = answers.n
        side = answers.side.astype(np.int64)
        level = np.where(answers.area < 0, layout.n_areas, answers.area).astype(np.int64)
        everyone = np.full(n, 2, dtype=np.int64)
        all_areas = np.full(n, layout.n_areas + 1, dtype=np.int64)
        side_level = np.concatenate([side, everyone, side, everyone])
        area_level = np.concatenate([level, level, all_areas, all_areas])
        rows = np.tile(np.arange(n, dtype=np.int64), 4)
        return cls(rows, side_level * layout.n_area_levels + area_level, side_level, area_level)


@dataclass(frozen=True, slots=True, eq=False)
class ScoredWave:
    """A wave's responses scored: what the next wave needs to test its change."""

    label: str
    design: Design
    layout: Layout
    answers: WaveAnswers
    scored: np.ndarray  # reverse-keyed answers (n, n_items)
    scores: np.ndarray  # dimension scores then the index (n, D + 1)
    cube: Cube


def score_wave(answers: WaveAnswers, layout: Layout, label: str) -> ScoredWave:
    """Reverse-key, score dimensions (half rule) and the health index of every response.

    Notes
    -----
    DESIGN §4.1–4.3 via :func:`analysis.scoring.reverse_key`,
    :func:`~analysis.scoring.dimension_scores` and :func:`~analysis.scoring.health_index`
    (weights from the instrument; the index needs half the dimensions).
    """
    design = Design.of(answers.instrument)
    scored = scoring.reverse_key(answers.x, design.reverse, points=design.points)
    dims = scoring.dimension_scores(scored, design.item_dimension, design.n_dimensions)
    # Held to TIE_DECIMALS so that equal indices reached by different sums tie exactly.
    index = np.round(scoring.health_index(dims, design.weights), TIE_DECIMALS)
    return ScoredWave(
        label=label,
        design=design,
        layout=layout,
        answers=answers,
        scored=scored,
        scores=np.column_stack([dims, index]),
        cube=Cube.of(answers, layout),
    )


# =============================================================================== tables

Columns = dict[str, list[Any]]


def _plain(values: Any) -> list[Any]:
    """A column as JSON-ready Python values: NaN and ±inf → None, NumPy scalars → Python.

    (JSON has no NaN or infinity; an infinite statistic, such as ICC(2) when every area mean
    is equal, is undefined and stored as blank.)
    """
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        out = arr.astype(object)
        out[~np.isfinite(arr)] = None
        return out.tolist()
    if arr.dtype.kind == "O":
        return [_scalar(v) for v in arr.tolist()]
    return arr.tolist()


def _scalar(v: Any) -> Any:
    """A JSON-ready Python value (NumPy scalars unwrapped, NaN and ±inf as None)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@dataclass(frozen=True, slots=True)
class _Grid:
    """A table laid out as rows (cells or area levels) × columns (scores or items), flattened
    row-major, with ``keep`` marking the positions that become table rows."""

    keep: np.ndarray
    n_rows: int
    n_cols: int

    def _kept(self, values: Sequence[Any]) -> list[Any]:
        return [v for v, k in zip(values, self.keep, strict=True) if k]

    def flat(self, a: Any) -> list[Any]:
        """An (n_rows, n_cols) array, as the kept rows' values."""
        return self._kept(_plain(np.asarray(a).ravel()))

    def per_row(self, values: Sequence[Any]) -> list[Any]:
        """One value per row (a cell's label), repeated across its columns."""
        return self._kept(_repeat(values, self.n_cols))

    def per_col(self, values: Sequence[Any]) -> list[Any]:
        """One value per column (a score's key), repeated down the rows."""
        return self._kept(_tile(values, self.n_rows))

    def columns(self):  # type: ignore[no-untyped-def]
        return self.flat, self.per_row, self.per_col


def _repeat(values: Sequence[Any], n: int) -> list[Any]:
    return [v for v in values for _ in range(n)]


def _tile(values: Sequence[Any], n: int) -> list[Any]:
    return list(values) * n


@dataclass(slots=True)
class WaveTables:
    """The tables of one wave, column-major (``{column: [values]}``), before persisting."""

    label: str
    design: Design
    tables: dict[str, Columns] = field(default_factory=dict)


def _shares_from_items(
    shares: scoring.ItemShares, design: Design
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pool item-level shares (n_cells, n_items) into each score column (n_cells, D + 1).

    The favourable/unfavourable counts behind each item percentage are whole numbers;
    they are recovered exactly (rounded) and summed over the items of a dimension.
    """
    n = shares.n_answers.astype(np.float64)
    with np.errstate(invalid="ignore"):
        fav = np.rint(np.nan_to_num(shares.favourable_pct) * n / 100.0)
        unfav = np.rint(np.nan_to_num(shares.unfavourable_pct) * n / 100.0)
    member = np.zeros((design.item_dimension.size, design.n_dimensions + 1))
    member[np.arange(design.item_dimension.size), design.item_dimension] = 1.0
    member[:, design.n_dimensions] = 1.0
    n_d, fav_d, unfav_d = n @ member, fav @ member, unfav @ member
    with np.errstate(invalid="ignore", divide="ignore"):
        fav_pct = np.where(n_d > 0, 100.0 * fav_d / n_d, np.nan)
        unfav_pct = np.where(n_d > 0, 100.0 * unfav_d / n_d, np.nan)
        neutral_pct = np.where(n_d > 0, 100.0 * (n_d - fav_d - unfav_d) / n_d, np.nan)
    return n_d.astype(np.int64), fav_pct, neutral_pct, unfav_pct


def _aligned(previous: ScoredWave, current: ScoredWave, changed: set[str]) -> np.ndarray:
    """The previous wave's scores in the current wave's score columns (NaN where not comparable)."""
    prev_keys = {key: j for j, key in enumerate(previous.design.score_keys)}
    out = np.full((previous.answers.n, len(current.design.score_keys)), np.nan)
    for j, key in enumerate(current.design.score_keys):
        if key in prev_keys and key not in changed:
            out[:, j] = previous.scores[:, prev_keys[key]]
    return out


def compute_wave_tables(
    wave: ScoredWave,
    *,
    previous: ScoredWave | None = None,
    previous_gaps: Columns | None = None,
    changed: dict[str, str] | None = None,
) -> WaveTables:
    """Every per-wave table of DESIGN §5 for one scored wave (status columns left empty).

    Parameters
    ----------
    wave : ScoredWave
    previous : ScoredWave, optional
        The previous closed wave, for the change between waves (DESIGN §4.10).
    previous_gaps : dict, optional
        The previous wave's ``gaps`` columns, for the change of each perception gap.
    changed : dict, optional
        Score keys whose make-up changed since ``previous`` (→ reason); they get no change.

    Returns
    -------
    WaveTables
        ``scores``, ``items``, ``reliability``, ``gaps`` and ``drivers``. The status and
        alert columns are filled by :func:`fill_status`.
    """
    changed = dict(changed or {})
    out = WaveTables(wave.label, wave.design)
    items = _item_level(wave)
    out.tables["scores"] = _scores_table(wave, items, previous, changed)
    out.tables["items"] = _items_table(wave, items)
    out.tables["reliability"] = _reliability_table(wave)
    out.tables["gaps"] = _gaps_table(wave, previous, previous_gaps, changed)
    out.tables["drivers"] = _drivers_table(wave)
    return out


def _present_levels(wave: ScoredWave) -> np.ndarray:
    """Area levels to publish: every area and the margin, and _none if anyone lacks an area."""
    layout = wave.layout
    keep = np.ones(layout.n_area_levels, dtype=bool)
    keep[layout.n_areas] = bool(np.any(wave.answers.area < 0))
    return keep


def _cell_labels(wave: ScoredWave) -> tuple[list[str], list[str], list[str]]:
    layout = wave.layout
    sides = _repeat(SIDE_KEYS, layout.n_area_levels)
    areas = _tile(layout.level_keys, 3)
    names = _tile(layout.level_names, 3)
    return sides, areas, names


@dataclass(frozen=True, slots=True, eq=False)
class _ItemLevel:
    """Item-level results of every cell, shared by the ``scores`` and ``items`` tables."""

    aggregates: scoring.GroupAggregates
    shares: scoring.ItemShares
    dont_know: np.ndarray
    rwg_by_dimension: list[agreement.AgreementResult]


def _item_level(wave: ScoredWave) -> _ItemLevel:
    """One pass of the item-level analysis functions over the stacked answers of all cells."""
    design, layout, cube = wave.design, wave.layout, wave.cube
    n_cells, n_items = layout.n_cells, len(design.instrument.items)
    x_cube = wave.scored[cube.rows]
    aggregates = scoring.item_aggregates(x_cube, cube.cells, n_cells, points=design.points)
    shares = scoring.item_shares_by_item(
        x_cube,
        cube.cells,
        n_cells,
        favourable=design.favourable,
        unfavourable=design.unfavourable,
    )
    dk = wave.answers.dont_know[cube.rows]
    cell_item = cube.cells[:, None] * n_items + np.arange(n_items)[None, :]
    n_dk = np.bincount(cell_item[dk], minlength=n_cells * n_items).reshape(n_cells, n_items)
    # Agreement only where people are aggregated to a service area (not the all-areas rows).
    in_area = cube.area_level <= layout.n_areas
    x_area, cells_area = x_cube[in_area], cube.cells[in_area]
    by_dimension = [
        agreement.rwg_j(x_area[:, design.items_of(d)], cells_area, n_cells, points=design.points)
        for d in range(design.n_dimensions)
    ]
    return _ItemLevel(aggregates, shares, n_dk, by_dimension)


def _scores_table(
    wave: ScoredWave,
    items: _ItemLevel,
    previous: ScoredWave | None,
    changed: dict[str, str],
) -> Columns:
    design, layout, cube = wave.design, wave.layout, wave.cube
    n_cells, n_scores = layout.n_cells, design.n_dimensions + 1
    values = wave.scores[cube.rows]
    agg = scoring.group_aggregates(values, cube.cells, n_cells, points=design.points)
    n_answers, fav, neutral, unfav = _shares_from_items(items.shares, design)

    # Agreement (r_wg(j), AD) of each dimension's items within area cells; not for the index,
    # which is not one scale, nor for the all-areas margins.
    rwg = np.full((n_cells, n_scores), np.nan)
    ad = np.full((n_cells, n_scores), np.nan)
    truncated = np.zeros((n_cells, n_scores), dtype=bool)
    no_shared = np.zeros((n_cells, n_scores), dtype=bool)
    for d, res in enumerate(items.rwg_by_dimension):
        rwg[:, d], ad[:, d] = res.rwg, res.ad
        truncated[:, d], no_shared[:, d] = res.rwg_truncated, res.no_shared_view
    is_area_cell = np.array(
        [lvl <= layout.n_areas for _ in SIDE_KEYS for lvl in range(layout.n_area_levels)]
    )
    rwg[~is_area_cell] = np.nan
    ad[~is_area_cell] = np.nan
    has_agreement = is_area_cell[:, None] & (np.arange(n_scores) < design.n_dimensions)[None, :]

    # ICC(1), ICC(2) across the real areas, per side, on the all-areas rows.
    icc1 = np.full((n_cells, n_scores), np.nan)
    icc2 = np.full((n_cells, n_scores), np.nan)
    area = wave.answers.area.astype(np.int64)
    for s in range(3):
        mask = np.ones(wave.answers.n, dtype=bool) if s == 2 else wave.answers.side == s
        if layout.n_areas == 0:
            continue
        res_icc = agreement.icc_oneway(wave.scores[mask], area[mask], layout.n_areas)
        cell = layout.cell(s, layout.n_areas + 1)
        icc1[cell], icc2[cell] = res_icc.icc1, res_icc.icc2

    # Change since the previous wave, every cell and score at once (BH within the wave).
    change = _change(wave, previous, changed)

    keep_cells = np.repeat(_present_levels(wave)[None, :], 3, axis=0).ravel()
    keep = np.repeat(keep_cells, n_scores)
    sides, areas, names = _cell_labels(wave)

    flat, per_cell, per_score = _Grid(keep, n_cells, n_scores).columns()

    bands = scoring.band(
        np.round(agg.mean, TIE_DECIMALS), strength=design.strength, concern=design.concern
    )
    points_scale = 100.0 / (design.points - 1)
    prev_label = previous.label if previous is not None else None
    table: Columns = {
        "wave": [wave.label] * int(keep.sum()),
        "side": per_cell(sides),
        "area": per_cell(areas),
        "area_name": per_cell(names),
        "dimension": per_score(design.score_keys),
        "dimension_title": per_score(design.score_titles),
        "n": flat(agg.n),
        "mean": flat(agg.mean),
        "sd": flat(agg.sd),
        "ci_low": flat(agg.ci_low),
        "ci_high": flat(agg.ci_high),
        "score100": flat(agg.score100),
        "band": flat(np.where(bands == "", None, bands)),
        "n_answers": flat(n_answers),
        "favourable_pct": flat(fav),
        "neutral_pct": flat(neutral),
        "unfavourable_pct": flat(unfav),
        "rwg": flat(rwg),
        "rwg_truncated": flat(np.where(has_agreement, truncated, None)),
        "ad": flat(ad),
        "no_shared_view": flat(np.where(has_agreement, no_shared, None)),
        "icc1": flat(icc1),
        "icc2": flat(icc2),
        "previous_wave": [prev_label] * int(keep.sum()),
        "change": flat(change.difference),
        "change_points": flat(change.difference * points_scale),
        "change_g": flat(change.g),
        "change_p": flat(change.welch_p),
        "change_p_adjusted": flat(change.p_adjusted),
        "status": [None] * int(keep.sum()),
        "status_summary": [None] * int(keep.sum()),
        "status_evidence": [None] * int(keep.sum()),
        "comparability_note": [None] * int(keep.sum()),
        "reason": flat(np.where(agg.reason == "", None, agg.reason)),
    }
    return table


@dataclass(frozen=True, slots=True)
class _Change:
    difference: np.ndarray
    g: np.ndarray
    welch_p: np.ndarray
    p_adjusted: np.ndarray


def _change(wave: ScoredWave, previous: ScoredWave | None, changed: dict[str, str]) -> _Change:
    layout, n_scores = wave.layout, len(wave.design.score_keys)
    shape = (layout.n_cells, n_scores)
    if previous is None:
        nan = np.full(shape, np.nan)
        return _Change(nan, nan, nan, nan)
    prev_scores = _aligned(previous, wave, set(changed))
    prev_cells = _cells_in(previous, layout)
    columns = np.arange(n_scores)
    res = gaps.change_between_waves(
        prev_scores[previous.cube.rows].ravel(),
        (prev_cells[:, None] * n_scores + columns).ravel(),
        wave.scores[wave.cube.rows].ravel(),
        (wave.cube.cells[:, None] * n_scores + columns).ravel(),
        layout.n_cells * n_scores,
    )
    return _Change(
        res.difference.reshape(shape),
        res.g.reshape(shape),
        res.welch_p.reshape(shape),
        res.p_adjusted.reshape(shape),
    )


def _cells_in(previous: ScoredWave, layout: Layout) -> np.ndarray:
    """The previous wave's stacked cells, renumbered into ``layout`` (areas matched by key)."""
    if previous.layout == layout:
        return previous.cube.cells
    mapping = np.array(
        [
            layout.cell(s, layout.level_keys.index(key)) if key in layout.level_keys else -1
            for s in range(3)
            for key in previous.layout.level_keys
        ],
        dtype=np.int64,
    )
    return mapping[previous.cube.cells]


def _items_table(wave: ScoredWave, item_level: _ItemLevel) -> Columns:
    layout = wave.layout
    n_cells = layout.n_cells
    items = wave.design.instrument.items
    n_items = len(items)
    agg, shares, n_dk = item_level.aggregates, item_level.shares, item_level.dont_know

    keep_cells = np.repeat(_present_levels(wave)[None, :], 3, axis=0).ravel()
    keep = np.repeat(keep_cells, n_items)
    sides, areas, names = _cell_labels(wave)
    count = int(keep.sum())

    flat, per_cell, per_item = _Grid(keep, n_cells, n_items).columns()

    return {
        "wave": [wave.label] * count,
        "side": per_cell(sides),
        "area": per_cell(areas),
        "area_name": per_cell(names),
        "item": per_item([i.key for i in items]),
        "item_no": per_item(list(range(n_items))),
        "dimension": per_item([i.dimension for i in items]),
        "reverse_keyed": per_item([i.reverse for i in items]),
        "n": flat(agg.n),
        "mean": flat(agg.mean),
        "sd": flat(agg.sd),
        "ci_low": flat(agg.ci_low),
        "ci_high": flat(agg.ci_high),
        "score100": flat(agg.score100),
        "favourable_pct": flat(shares.favourable_pct),
        "neutral_pct": flat(shares.neutral_pct),
        "unfavourable_pct": flat(shares.unfavourable_pct),
        "n_dont_know": flat(n_dk),
        "reason": flat(np.where(agg.reason == "", None, agg.reason)),
    }


def _reliability_table(wave: ScoredWave) -> Columns:
    design = wave.design
    items = design.instrument.items
    columns = (
        "wave", "side", "dimension", "dimension_title", "item", "level", "n_items",
        "n_complete", "alpha", "ci_low", "ci_high", "flag_low", "item_rest_r",
        "alpha_if_deleted", "reason",
    )  # fmt: skip
    table: Columns = {c: [] for c in columns}

    def add(**values: Any) -> None:
        for c in columns:
            table[c].append(_scalar(values.get(c)))

    for s, side in enumerate(SIDE_KEYS):
        answers = wave.scored if s == 2 else wave.scored[wave.answers.side == s]
        for d in range(design.n_dimensions):
            cols = design.items_of(d)
            res = reliability.cronbach_alpha(answers[:, cols])
            common = {
                "wave": wave.label,
                "side": side,
                "dimension": design.dimension_keys[d],
                "dimension_title": design.dimension_titles[d],
                "n_items": int(res.k),
                "n_complete": int(res.n),
            }
            add(
                **common,
                level="dimension",
                alpha=_nan_none(res.alpha),
                ci_low=_nan_none(res.ci_low),
                ci_high=_nan_none(res.ci_high),
                flag_low=bool(res.flag_low),
                reason=res.reason or None,
            )
            for j, c in enumerate(cols):
                add(
                    **common,
                    item=items[int(c)].key,
                    level="item",
                    item_rest_r=_nan_none(res.item_rest_r[j]),
                    alpha_if_deleted=_nan_none(res.alpha_if_deleted[j]),
                )
    return table


def _nan_none(v: Any) -> float | None:
    f = float(v)
    return f if math.isfinite(f) else None


def _gaps_table(
    wave: ScoredWave,
    previous: ScoredWave | None,
    previous_gaps: Columns | None,
    changed: dict[str, str],
) -> Columns:
    design, layout, cube = wave.design, wave.layout, wave.cube
    n_scores, n_levels = design.n_dimensions + 1, layout.n_area_levels
    side_rows = cube.side_level < 2
    rows = cube.rows[side_rows]
    columns = np.arange(n_scores)
    res = gaps.perception_gaps(
        wave.scores[rows].ravel(),
        np.repeat(cube.side_level[side_rows], n_scores),
        (cube.area_level[side_rows][:, None] * n_scores + columns).ravel(),
        n_levels * n_scores,
    )
    material = gaps.material_gap(res.difference, res.g, res.p_adjusted)
    change = _gap_change(res, wave, previous, previous_gaps, changed)

    keep = np.repeat(_present_levels(wave), n_scores)
    count = int(keep.sum())

    flat, per_level, per_score = _Grid(keep, n_levels, n_scores).columns()

    return {
        "wave": [wave.label] * count,
        "area": per_level(layout.level_keys),
        "area_name": per_level(layout.level_names),
        "dimension": per_score(design.score_keys),
        "dimension_title": per_score(design.score_titles),
        "n_client": flat(res.n_client),
        "n_supplier": flat(res.n_supplier),
        "mean_client": flat(res.mean_client),
        "mean_supplier": flat(res.mean_supplier),
        "sd_client": flat(res.sd_client),
        "sd_supplier": flat(res.sd_supplier),
        "difference": flat(res.difference),
        "difference_points": flat(res.difference * 100.0 / (design.points - 1)),
        "g": flat(res.g),
        "g_ci_low": flat(res.g_ci_low),
        "g_ci_high": flat(res.g_ci_high),
        "cliffs_delta": flat(res.cliffs_delta),
        "welch_t": flat(res.welch_t),
        "welch_df": flat(res.welch_df),
        "welch_p": flat(res.welch_p),
        "mw_u": flat(res.mw_u),
        "mw_p": flat(res.mw_p),
        "p_adjusted": flat(res.p_adjusted),
        "material": flat(material),
        "previous_wave": [previous.label if previous is not None else None] * count,
        "gap_change": flat(change.change),
        "gap_widening": flat(change.widening),
        "gap_change_p": flat(change.p),
        "gap_change_p_adjusted": flat(change.p_adjusted),
        "widened": flat(change.widened),
        "gap_alert": [None] * count,
        "gap_alert_summary": [None] * count,
        "gap_alert_evidence": [None] * count,
        "comparability_note": [None] * count,
        "reason": flat(np.where(res.reason == "", None, res.reason)),
    }


def _gap_change(
    current: gaps.GapResult,
    wave: ScoredWave,
    previous: ScoredWave | None,
    previous_gaps: Columns | None,
    changed: dict[str, str],
) -> gaps.GapChangeResult:
    """Change of every gap since the previous wave, from the previous wave's stored gaps."""
    size = current.difference.size
    prev = {f.name: np.full(size, np.nan) for f in fields(gaps.GapResult)}
    if previous is not None and previous_gaps is not None:
        n_scores = len(wave.design.score_keys)
        where = {
            (a, d): i
            for i, (a, d) in enumerate(
                zip(previous_gaps["area"], previous_gaps["dimension"], strict=True)
            )
        }
        for level, area_key in enumerate(wave.layout.level_keys):
            for j, key in enumerate(wave.design.score_keys):
                i = where.get((area_key, key))
                if i is None or key in changed:
                    continue
                for name in ("n_client", "n_supplier", "sd_client", "sd_supplier", "difference"):
                    value = previous_gaps[name][i]
                    prev[name][level * n_scores + j] = np.nan if value is None else value
    prev["reason"] = np.full(size, "", dtype=object)
    return gaps.gap_change_between_waves(gaps.GapResult(**prev), current)


def _drivers_table(wave: ScoredWave) -> Columns:
    design, layout, cube = wave.design, wave.layout, wave.cube
    n_dim = design.n_dimensions
    outcome_cols = np.flatnonzero(design.outcome)
    predictors = wave.scores[:, :n_dim]
    index_without = (
        scoring.health_index(predictors[:, ~design.outcome], design.weights[~design.outcome])
        if (~design.outcome).any()
        else np.full(wave.answers.n, np.nan)
    )
    outcomes: list[tuple[str, np.ndarray]] = [(INDEX, index_without)]
    outcomes += [(design.dimension_keys[c], predictors[:, c]) for c in outcome_cols]

    keep_level = _present_levels(wave)
    sides, areas, names = _cell_labels(wave)
    columns = (
        "wave", "side", "area", "area_name", "outcome", "dimension", "dimension_title",
        "n", "r", "ci_low", "ci_high", "p", "reason",
    )  # fmt: skip
    table: Columns = {c: [] for c in columns}
    order = np.argsort(cube.cells, kind="stable")
    bounds = np.searchsorted(cube.cells[order], np.arange(layout.n_cells + 1))
    for cell in range(layout.n_cells):  # one vectorised call per cell and outcome
        if not keep_level[cell % layout.n_area_levels]:
            continue
        members = cube.rows[order[bounds[cell] : bounds[cell + 1]]]
        cell_predictors = predictors[members]
        for outcome_key, outcome in outcomes:
            dims = [d for d in range(n_dim) if design.dimension_keys[d] != outcome_key]
            res = drivers.driver_correlations(cell_predictors[:, dims], outcome[members])
            k = len(dims)
            table["wave"] += [wave.label] * k
            table["side"] += [sides[cell]] * k
            table["area"] += [areas[cell]] * k
            table["area_name"] += [names[cell]] * k
            table["outcome"] += [outcome_key] * k
            table["dimension"] += [design.dimension_keys[d] for d in dims]
            table["dimension_title"] += [design.dimension_titles[d] for d in dims]
            table["n"] += _plain(res.n)
            table["r"] += _plain(res.r)
            table["ci_low"] += _plain(res.ci_low)
            table["ci_high"] += _plain(res.ci_high)
            table["p"] += _plain(res.p)
            table["reason"] += [r or None for r in res.reason.tolist()]
    return table


# =============================================================================== status


@dataclass(slots=True)
class _WaveSummary:
    """What the status of later waves needs from one wave, read from its tables."""

    label: str
    design: Design
    scores: Columns
    gaps: Columns


def version_changes(previous: Instrument, current: Instrument) -> dict[str, str]:
    """Score keys (dimensions and ``index``) not comparable between two waves' versions.

    Uses :func:`instruments.changed_dimensions` for consecutive versions of one instrument;
    any other pair (another instrument, or versions that are not consecutive) makes every
    dimension incomparable. The index changes whenever a dimension does.
    """
    if previous.content_hash == current.content_hash:
        return {}
    keys = [d.key for d in current.dimensions]
    if previous.key != current.key:
        reason = f"a different instrument ({previous.key} → {current.key})"
        out = dict.fromkeys(keys, reason)
    elif current.version == previous.version + 1:
        out = {k: v for k, v in changed_dimensions(previous, current).items() if k in keys}
    elif current.version == previous.version:
        out = {}
    else:
        reason = f"versions {previous.version} and {current.version} are not consecutive"
        out = dict.fromkeys(keys, reason)
    if out:
        out[INDEX] = "dimensions changed: " + ", ".join(sorted(k for k in out if k != INDEX))
    return out


@dataclass(slots=True)
class History:
    """The closed waves of a relationship in time order, as summaries for status over time.

    ``breaks[key]`` lists the wave positions where a score key's series restarts because the
    instrument changed it, with the reason; ``notes`` are the comparability notes.
    """

    layout: Layout
    min_cell_size: int
    waves: list[_WaveSummary] = field(default_factory=list)
    breaks: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    _chart_cache: dict[tuple[str, int, str], Any] = field(default_factory=dict)
    _matrices: dict[str, Any] = field(default_factory=dict)

    def append(self, summary: _WaveSummary) -> None:
        t = len(self.waves)
        if t:
            prev = self.waves[-1].design.instrument
            curr = summary.design.instrument
            for key, reason in version_changes(prev, curr).items():
                self.breaks.setdefault(key, []).append((t, reason))
        self.waves.append(summary)
        self._chart_cache.clear()
        self._matrices.clear()

    def segment_start(self, key: str, t: int) -> int:
        """First wave of the comparable series of ``key`` that ends at wave ``t``."""
        starts = [b for b, _ in self.breaks.get(key, []) if b <= t]
        return max(starts) if starts else 0

    def note(self, key: str, t: int) -> str | None:
        """Plain words on comparability across instrument versions up to wave ``t``."""
        start = self.segment_start(key, t)
        versions = {self.waves[i].design.instrument.version for i in range(start, t + 1)}
        if start > 0:
            reason = next(r for b, r in self.breaks[key] if b == start)
            design = self.waves[start].design.instrument
            return (
                f"Compared from {self.waves[start].label} only: version {design.version} of the "
                f"instrument changed this ({reason})"
            )
        if len(versions) > 1:
            return (
                f"Compared across instrument versions {min(versions)}–{max(versions)}: "
                "unchanged in them"
            )
        return None


def hidden_score_cells(scores: Columns, k: int) -> set[tuple[str, str, str]]:
    """``(side, area, dimension)`` of one wave's scores cells that publication hides under k.

    Primary and secondary suppression alike (:func:`results.suppress_rows`): every number
    derived from an earlier wave — the change since it, the trend series, the EWMA and CUSUM
    charts and the evidence quoting them — must come from published cells only, or a hidden
    cell could be worked out as a shown mean minus its shown change (and a primary cell then
    recovered from its margin).
    """
    from survey_app.services.results import SUPPRESSED, suppress_rows

    rows = [
        {"wave": "", "dimension": d, "side": s, "area": a, "n": n}
        for s, a, d, n in zip(
            scores["side"], scores["area"], scores["dimension"], scores["n"], strict=True
        )
    ]
    return {
        (r["side"], r["area"], r["dimension"])
        for r in suppress_rows("scores", rows, k)
        if r[SUPPRESSED] is not None
    }


SCORE_CHANGE_COLUMNS = ("change", "change_points", "change_g", "change_p", "change_p_adjusted")
GAP_CHANGE_COLUMNS = (
    "gap_change",
    "gap_widening",
    "gap_change_p",
    "gap_change_p_adjusted",
    "widened",
)


def hide_changes_from_hidden_cells(tables: Columns, previous_scores: Columns, k: int) -> None:
    """Blank each change since the previous wave whose previous cell is not published.

    ``tables`` maps table names to columns (``scores`` and ``gaps`` are changed in place).
    A gap is hidden wherever either side's scores cell is, so its change goes with them.
    """
    hidden = hidden_score_cells(previous_scores, k)
    if not hidden:
        return
    sc = tables["scores"]
    for i, key in enumerate(zip(sc["side"], sc["area"], sc["dimension"], strict=True)):
        if key in hidden:
            for column in SCORE_CHANGE_COLUMNS:
                sc[column][i] = None
    gp = tables.get("gaps")
    if gp is None:
        return
    for i, (area, dim) in enumerate(zip(gp["area"], gp["dimension"], strict=True)):
        if (SIDE_KEYS[0], area, dim) in hidden or (SIDE_KEYS[1], area, dim) in hidden:
            for column in GAP_CHANGE_COLUMNS:
                gp[column][i] = None


def _matrix(history: History, kind: str) -> tuple[dict[Any, int], np.ndarray, np.ndarray]:
    """Every cell's wave means (or gaps) over the whole history, built once per history.

    Returns the row of each key, the values (NaN where the cell is absent or hidden when
    published: below k, or suppressed to protect such a cell) and the counts, each of shape
    (n_keys, n_waves).
    """
    cached = history._matrices.get(kind)
    if cached is not None:
        return cached
    k = history.min_cell_size
    where: dict[Any, int] = {}
    entries: list[tuple[int, int, float, float]] = []
    for w, summary in enumerate(history.waves):
        hidden = hidden_score_cells(summary.scores, k)
        if kind == "scores":
            sc = summary.scores
            keys = zip(sc["side"], sc["area"], sc["dimension"], strict=True)
            for key, n, mean in zip(keys, sc["n"], sc["mean"], strict=True):
                u = where.setdefault(key, len(where))
                n = n or 0
                shown = mean is not None and n >= k and key not in hidden
                value = round(mean, TIE_DECIMALS) if shown else math.nan
                entries.append((u, w, value, n))
        else:
            gp = summary.gaps
            keys = zip(gp["area"], gp["dimension"], strict=True)
            for key, diff, nc, ns in zip(
                keys, gp["difference"], gp["n_client"], gp["n_supplier"], strict=True
            ):
                u = where.setdefault(key, len(where))
                shown = (
                    diff is not None
                    and (nc or 0) >= k
                    and (ns or 0) >= k
                    and (SIDE_KEYS[0], *key) not in hidden
                    and (SIDE_KEYS[1], *key) not in hidden
                )
                entries.append((u, w, round(abs(diff), TIE_DECIMALS) if shown else math.nan, 0))
    values = np.full((len(where), len(history.waves)), np.nan)
    counts = np.zeros(values.shape)
    if entries:
        u, w, v, n = (np.array(col) for col in zip(*entries, strict=True))
        values[u.astype(np.int64), w.astype(np.int64)] = v
        counts[u.astype(np.int64), w.astype(np.int64)] = n
    history._matrices[kind] = (where, values, counts)
    return where, values, counts


def _series(history: History, keys: Sequence[tuple[str, str, str]]):
    """Means (NaN below k) and n of cells ``(side, area, key)`` over every wave of the history."""
    where, values, counts = _matrix(history, "scores")
    rows = np.array([where[key] for key in keys], dtype=np.int64)
    return values[rows], counts[rows]


def _gap_series(history: History, keys: Sequence[tuple[str, str]]) -> np.ndarray:
    """|client − supplier| of gaps ``(area, key)`` over the history (NaN where a side < k)."""
    where, values, _ = _matrix(history, "gaps")
    return values[np.array([where[key] for key in keys], dtype=np.int64)]


def _charts(
    history: History, y_full: np.ndarray, cache_key: tuple[str, int, str], t: int, start: int
):
    """EWMA and CUSUMs of the comparable series ``y_full[start:t+1]``.

    The charts of a longer series, cut at wave ``t``, equal those of the series up to ``t``
    once the baseline (the first observed waves) is complete, so a full recompute computes
    them once per cell over all waves and slices; shorter prefixes are computed directly.
    """
    prefix = y_full[start : t + 1]
    if np.count_nonzero(~np.isnan(prefix)) < CHART_BASELINE_WAVES:
        return _chart_set(prefix)
    full = history._chart_cache.get(cache_key)
    if full is None:
        full = _chart_set(y_full[start:])
        history._chart_cache[cache_key] = full
    m = t + 1 - start
    ewma, low, high = full
    return (
        trends.EWMAResult(
            ewma.z[:m],
            ewma.center,
            ewma.sigma,
            ewma.lower[:m],
            ewma.upper[:m],
            ewma.signal_low[:m],
            ewma.signal_high[:m],
            ewma.lam,
            ewma.L,
            ewma.reason,
        ),  # fmt: skip
        trends.CUSUMResult(
            low.c[:m],
            low.h,
            low.k,
            low.center,
            low.sigma,
            low.signal[:m],
            low.direction,
            low.reason,
        ),  # fmt: skip
        trends.CUSUMResult(
            high.c[:m],
            high.h,
            high.k,
            high.center,
            high.sigma,
            high.signal[:m],
            high.direction,
            high.reason,
        ),  # fmt: skip
    )


def _chart_set(y: np.ndarray):
    return (
        trends.ewma(y, lam=0.3, n_baseline=CHART_BASELINE_WAVES),
        trends.cusum_lower(y, n_baseline=CHART_BASELINE_WAVES),
        trends.cusum_upper(y, n_baseline=CHART_BASELINE_WAVES),
    )


def _pick(result: Any, u: int, cls: type) -> Any:
    return cls(*(getattr(result, f.name)[u] for f in fields(cls)))


def _subject(title: str, side: str, area_name: str, area: str) -> str:
    where = "all service areas" if area == AREA_ALL else area_name
    if area == AREA_NONE:
        where = "service area not stated"
    return f"{title}, {SIDE_WORDS[side]}, {where}"


def _latest_observed(a: np.ndarray, y: np.ndarray) -> Any:
    obs = np.flatnonzero(~np.isnan(y))
    return a[obs[-1]] if obs.size else None


@dataclass(slots=True)
class StatusSnapshot:
    """Status of every score row of wave ``t`` (aligned with its ``scores`` rows), trend
    details for the ``trends`` table, and the gap alert of every ``gaps`` row."""

    status: list[str | None]
    summary: list[str | None]
    evidence: list[str | None]
    notes: list[str | None]
    details: list[dict[str, Any]]
    gap_alert: list[bool | None]
    gap_summary: list[str | None]
    gap_evidence: list[str | None]
    gap_notes: list[str | None]


def status_snapshot(history: History, t: int, *, detailed: bool = False) -> StatusSnapshot:
    """Status of every cell and dimension of wave ``t``, from the closed waves 0..t.

    Notes
    -----
    Per cell and score key, the series is the cell's wave means over the comparable waves
    (a wave whose cell has fewer than ``min_cell_size`` responses is a gap in the series);
    :func:`analysis.trends.mann_kendall_many` and :func:`~analysis.trends.theil_sen_many`
    run over every series at once, the EWMA and CUSUM charts per series, and
    :func:`analysis.status.classify` turns them, the latest change (Welch, BH-adjusted within
    the wave) and the band into a status with its evidence. Each client–supplier gap gets
    :func:`analysis.status.gap_widening` on its absolute size over the waves.
    """
    wave = history.waves[t]
    sc = wave.scores
    labels = [w.label for w in history.waves[: t + 1]]
    keys = list(zip(sc["side"], sc["area"], sc["dimension"], strict=True))
    means, _ = _series(history, keys)
    starts = np.array([history.segment_start(d, t) for _, _, d in keys], dtype=np.int64)
    y = means[:, : t + 1].copy()
    for u, s in enumerate(starts):
        y[u, :s] = np.nan
    mk = trends.mann_kendall_many(y)
    ts = trends.theil_sen_many(y)
    points = wave.design.points
    out = StatusSnapshot([], [], [], [], [], [], [], [], [])
    for u, (side, area, key) in enumerate(keys):
        start = int(starts[u])
        series = y[u, start:]
        subject = _subject(sc["dimension_title"][u], side, sc["area_name"][u], area)
        change = sc["change"][u]
        latest_change = (
            {
                "difference": round(change, TIE_DECIMALS),
                "p_adjusted": _none_nan(sc["change_p_adjusted"][u]),
            }
            if change is not None
            else None
        )
        ewma, low, high = _charts(history, means[u], (side + "|" + area, start, key), t, start)
        result = status.classify(
            series,
            labels[start:],
            points=points,
            latest_change=latest_change,
            mk=_pick(mk, u, trends.MannKendallResult),
            ts=_pick(ts, u, trends.TheilSenResult),
            ewma=ewma,
            cusum=low,
            cusum_high=high,
            band=sc["band"][u],
            subject=subject,
        )
        note = history.note(key, t)
        out.status.append(result.status)
        out.summary.append(result.summary)
        out.evidence.append("\n".join(e.text for e in result.evidence))
        out.notes.append(note)
        if detailed:
            out.details.append(
                _trend_details(u, series, labels[start:], mk, ts, ewma, low, high, points)
            )

    gp = wave.gaps
    gap_keys = list(zip(gp["area"], gp["dimension"], strict=True))
    g_series = _gap_series(history, gap_keys)[:, : t + 1]
    g_starts = [history.segment_start(d, t) for _, d in gap_keys]
    for u, s in enumerate(g_starts):
        g_series[u, :s] = np.nan
    g_mk = trends.mann_kendall_many(g_series)
    for u, (area, key) in enumerate(gap_keys):
        start = g_starts[u]
        subject = f"{gp['dimension_title'][u]}, " + (
            "all service areas"
            if area == AREA_ALL
            else "service area not stated"
            if area == AREA_NONE
            else gp["area_name"][u]
        )
        p = gp["gap_change_p_adjusted"][u]
        alert = status.gap_widening(
            g_series[u, start:],
            labels[start:],
            p,
            subject=subject,
            mk=_pick(g_mk, u, trends.MannKendallResult),
        )
        out.gap_alert.append(alert.alert)
        out.gap_summary.append(alert.summary)
        out.gap_evidence.append("\n".join(e.text for e in alert.evidence))
        out.gap_notes.append(history.note(key, t))
    return out


def _none_nan(v: Any) -> float:
    return math.nan if v is None else float(v)


def _trend_details(
    u: int,
    series: np.ndarray,
    labels: Sequence[str],
    mk: trends.MannKendallResult,
    ts: trends.TheilSenResult,
    ewma: trends.EWMAResult,
    low: trends.CUSUMResult,
    high: trends.CUSUMResult,
    points: int,
) -> dict[str, Any]:
    """The trend columns of one cell for the ``trends`` table (latest wave's view)."""
    scale = 100.0 / (points - 1)
    obs = np.flatnonzero(~np.isnan(series))
    reasons = [r for r in (str(mk.reason[u]), str(ts.reason[u]), ewma.reason, low.reason) if r]
    signal_low = bool(_latest_observed(ewma.signal_low, series) or False)
    signal_high = bool(_latest_observed(ewma.signal_high, series) or False)
    c_low = bool(_latest_observed(low.signal, series) or False)
    c_high = bool(_latest_observed(high.signal, series) or False)
    slope = float(ts.slope[u])
    return {
        "first_wave": labels[obs[0]] if obs.size else None,
        "series_start": labels[0] if labels else None,
        "n_waves": int(obs.size),
        "slope": slope,
        "slope_ci_low": float(ts.ci_low[u]),
        "slope_ci_high": float(ts.ci_high[u]),
        "slope_points": slope * scale,
        "mk_s": float(mk.s[u]),
        "mk_var_s": float(mk.var_s[u]),
        "mk_z": float(mk.z[u]),
        "mk_p": float(mk.p[u]),
        "mk_tau": float(mk.tau[u]),
        "mk_trend": str(mk.trend[u]),
        "ewma": _latest_observed(ewma.z, series) if not ewma.reason else None,
        "ewma_lower": _latest_observed(ewma.lower, series) if not ewma.reason else None,
        "ewma_upper": _latest_observed(ewma.upper, series) if not ewma.reason else None,
        "ewma_signal": "low" if signal_low else "high" if signal_high else None,
        "cusum_low": _latest_observed(low.c, series) if not low.reason else None,
        "cusum_high": _latest_observed(high.c, series) if not high.reason else None,
        "cusum_h": float(low.h),
        "cusum_signal": "both"
        if c_low and c_high
        else "low"
        if c_low
        else "high"
        if c_high
        else None,
        "reason": "; ".join(dict.fromkeys(reasons)) or None,
    }


def fill_status(tables: WaveTables, snapshot: StatusSnapshot) -> None:
    """Write a status snapshot into the wave's ``scores`` and ``gaps`` columns."""
    sc, gp = tables.tables["scores"], tables.tables["gaps"]
    sc["status"] = list(snapshot.status)
    sc["status_summary"] = list(snapshot.summary)
    sc["status_evidence"] = list(snapshot.evidence)
    sc["comparability_note"] = list(snapshot.notes)
    gp["gap_alert"] = list(snapshot.gap_alert)
    gp["gap_alert_summary"] = list(snapshot.gap_summary)
    gp["gap_alert_evidence"] = list(snapshot.gap_evidence)
    gp["comparability_note"] = list(snapshot.gap_notes)


def trends_table(relationship_name: str, history: History, snapshot: StatusSnapshot) -> Columns:
    """The ``trends`` table: every cell and dimension of the latest wave, across closed waves."""
    t = len(history.waves) - 1
    sc = history.waves[t].scores
    gp = history.waves[t].gaps
    gap_at = {(a, d): i for i, (a, d) in enumerate(zip(gp["area"], gp["dimension"], strict=True))}
    points = history.waves[t].design.points
    columns = TRENDS_COLUMNS
    table: Columns = {c: [] for c in columns}
    for u in range(len(sc["side"])):
        details = snapshot.details[u]
        side, area, key = sc["side"][u], sc["area"][u], sc["dimension"][u]
        g = gap_at.get((area, key)) if side == "all" else None
        mean = sc["mean"][u]
        row = {
            "relationship": relationship_name,
            "side": side,
            "area": area,
            "area_name": sc["area_name"][u],
            "dimension": key,
            "dimension_title": sc["dimension_title"][u],
            "latest_wave": sc["wave"][u],
            "latest_mean": mean,
            "latest_score100": None if mean is None else (mean - 1.0) * 100.0 / (points - 1),
            "n_latest": sc["n"][u],
            "band": sc["band"][u],
            "previous_wave": sc["previous_wave"][u],
            "latest_change": sc["change"][u],
            "latest_change_points": sc["change_points"][u],
            "latest_change_p": sc["change_p"][u],
            "latest_change_p_adjusted": sc["change_p_adjusted"][u],
            "status": snapshot.status[u],
            "status_summary": snapshot.summary[u],
            "status_evidence": snapshot.evidence[u],
            "gap_alert": snapshot.gap_alert[g] if g is not None else None,
            "gap_alert_summary": snapshot.gap_summary[g] if g is not None else None,
            "gap_alert_evidence": snapshot.gap_evidence[g] if g is not None else None,
            "comparability_note": snapshot.notes[u],
            **details,
        }
        for c in columns:
            table[c].append(_scalar(row.get(c)))
    return table


TRENDS_COLUMNS = (
    "relationship", "side", "area", "area_name", "dimension", "dimension_title",
    "series_start", "first_wave", "latest_wave", "n_waves", "latest_mean", "latest_score100",
    "n_latest", "band", "slope", "slope_ci_low", "slope_ci_high", "slope_points", "mk_s",
    "mk_var_s", "mk_z", "mk_p", "mk_tau", "mk_trend", "ewma", "ewma_lower", "ewma_upper",
    "ewma_signal", "cusum_low", "cusum_high", "cusum_h", "cusum_signal", "previous_wave",
    "latest_change", "latest_change_points", "latest_change_p", "latest_change_p_adjusted",
    "status", "status_summary", "status_evidence", "gap_alert", "gap_alert_summary",
    "gap_alert_evidence", "comparability_note", "reason",
)  # fmt: skip


# =============================================================================== orchestration


def ordered_closed_waves(relationship: Relationship) -> list[Wave]:
    """The relationship's closed waves in time order.

    Time is the wave's opening time, falling back to its closing and then creation time;
    ties (and waves without times) go by id.
    """
    waves = db.session.scalars(
        select(Wave).where(Wave.relationship_id == relationship.id, Wave.state == "closed")
    ).all()
    return sorted(waves, key=lambda w: (w.opened_at or w.closed_at or w.created_at, w.id))


@dataclass(slots=True)
class RelationshipResults:
    """Computed tables of some closed waves of one relationship, and its trends."""

    relationship: Relationship
    waves: list[Wave]
    tables: list[WaveTables]
    trends: Columns | None
    min_cell_size: int


def compute_relationship(
    relationship: Relationship,
    waves: Sequence[Wave],
    *,
    min_cell_size: int,
    earlier: Sequence[tuple[Wave, dict[str, Columns]]] = (),
    answers_of: Callable[[Wave], WaveAnswers] | None = None,
) -> RelationshipResults:
    """Compute the tables of ``waves`` (consecutive closed waves, in time order) and trends.

    Parameters
    ----------
    relationship : Relationship
    waves : sequence of Wave
        The waves to compute, oldest first; they follow the ``earlier`` waves directly.
    min_cell_size : int
        k: cells below it are left out of trend series (DESIGN §4.14).
    earlier : sequence of (Wave, tables)
        The closed waves before ``waves``, in order, with their stored ``scores`` and
        ``gaps`` (only these two tables are read).
    answers_of : callable, optional
        ``answers_of(wave)`` gives a wave's :class:`WaveAnswers`; by default the answers of
        ``waves`` (and of the last ``earlier`` wave, for the change to the first of
        ``waves``) are read in one bulk load (:func:`load_answer_grid`, about 40 bytes per
        response) and each wave's float arrays are made when it is reached.

    Returns
    -------
    RelationshipResults
        Tables of each of ``waves`` with status as of that wave, and ``trends`` as of the last.
    """
    if answers_of is None:
        needed = [earlier[-1][0]] if earlier else []
        answers_of = load_answer_grid([*needed, *waves]).wave
    load = answers_of
    layout = Layout.of(relationship)
    history = History(layout, min_cell_size)
    for wave, tables in earlier:
        history.append(
            _WaveSummary(
                wave.label,
                Design.of(frozen_instrument(wave.instrument_version)),
                tables["scores"],
                tables["gaps"],
            )
        )
    previous: ScoredWave | None = None
    previous_gaps: Columns | None = None
    if earlier:
        last_wave, last_tables = earlier[-1]
        previous = score_wave(load(last_wave), layout, last_wave.label)
        previous_gaps = last_tables["gaps"]

    computed: list[WaveTables] = []
    for wave in waves:
        current = score_wave(load(wave), layout, wave.label)
        changed = (
            version_changes(previous.design.instrument, current.design.instrument)
            if previous is not None
            else {}
        )
        tables = compute_wave_tables(
            current, previous=previous, previous_gaps=previous_gaps, changed=changed
        )
        if history.waves:
            hide_changes_from_hidden_cells(tables.tables, history.waves[-1].scores, min_cell_size)
        history.append(
            _WaveSummary(wave.label, current.design, tables.tables["scores"], tables.tables["gaps"])
        )
        computed.append(tables)
        previous, previous_gaps = current, tables.tables["gaps"]

    first = len(history.waves) - len(computed)
    trends_columns = None
    for i, tables in enumerate(computed):
        t = first + i
        last = t == len(history.waves) - 1
        snapshot = status_snapshot(history, t, detailed=last)
        fill_status(tables, snapshot)
        if last:
            trends_columns = trends_table(relationship.name, history, snapshot)
    return RelationshipResults(relationship, list(waves), computed, trends_columns, min_cell_size)


__all__ = [
    "ANALYSIS_VERSION",
    "AnswerGrid",
    "AREA_ALL",
    "AREA_NONE",
    "INDEX",
    "SIDE_KEYS",
    "TABLES",
    "Cube",
    "Design",
    "History",
    "Layout",
    "RelationshipResults",
    "ScoredWave",
    "StatusSnapshot",
    "WaveAnswers",
    "WaveTables",
    "compute_relationship",
    "compute_wave_tables",
    "fill_status",
    "answer_statements",
    "load_answer_grid",
    "load_answers",
    "ordered_closed_waves",
    "score_wave",
    "status_snapshot",
    "trends_table",
    "version_changes",
]
