"""Loading the answers of closed waves into NumPy arrays, in bulk.

Two Core selects for any number of waves (:func:`answer_statements`), streamed from the
driver's cursor without an ORM object per answer, into one small-integer grid
(:class:`AnswerGrid`) from which each wave's arrays are taken when it is scored.
"""

from __future__ import annotations

import ctypes
import functools
import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy import Select, case, func, literal, select
from sqlalchemy.engine import Connection

from instruments import Instrument
from survey_app.extensions import db
from survey_app.models import SIDES, Answer, Invitation, Party, Response, ServiceArea, Wave
from survey_app.services import ServiceError
from survey_app.services.instruments import frozen_instrument
from survey_app.services.results.vocabulary import ROLE_KEYS

# Answers come back from the database packed into one integer each (see answer_statements).
_ROW_SHIFT = 20
_ITEM_SHIFT = 4
_VALUE_MASK = (1 << _ITEM_SHIFT) - 1
_ITEM_MASK = (1 << (_ROW_SHIFT - _ITEM_SHIFT)) - 1


@dataclass(frozen=True, slots=True, eq=False)
class WaveAnswers:
    """The answers of one wave as arrays, one row per response (in response-key order).

    Attributes
    ----------
    wave_id : int
    instrument : Instrument
        The frozen instrument version the wave used; column ``j`` of ``codes`` is its item ``j``.
    codes : ndarray of int8, shape (n_responses, n_items)
        The answers as integer codes, as scoring counts them: ``1..K`` as given (not
        reverse-keyed), 0 for "don't know" (a stored NULL), -1 skipped.
    side : ndarray of int8, shape (n_responses,)
        0 = client, 1 = supplier.
    area : ndarray of int16, shape (n_responses,)
        Index into ``area_ids``; -1 when the response has no service area.
    role : ndarray of int8, shape (n_responses,)
        Index into :data:`ROLE_KEYS`; -1 when not given.
    area_ids : tuple of int
        Service area ids of the relationship, in the relationship's order.

    ``x`` (float64, NaN for "don't know" or skipped) and ``dont_know`` (bool) are the same
    answers as the analysis functions that take floats want them, made from ``codes`` when
    first asked for: scoring counts the codes, so a recompute never makes them (25,000 × 40
    floats a wave at full scale).
    """

    wave_id: int
    instrument: Instrument
    codes: np.ndarray
    side: np.ndarray
    area: np.ndarray
    role: np.ndarray
    area_ids: tuple[int, ...]
    _x: np.ndarray | None = field(default=None, init=False, repr=False)

    @property
    def x(self) -> np.ndarray:
        """The answers as given, ``1..K``; NaN for "don't know" or skipped."""
        if self._x is None:
            object.__setattr__(self, "_x", np.where(self.codes > 0, self.codes, np.nan))
        assert self._x is not None
        return self._x

    @property
    def dont_know(self) -> np.ndarray:
        """True where the answer was "don't know"; a skipped item is False."""
        return self.codes == 0

    @property
    def n(self) -> int:
        return int(self.codes.shape[0])

    def subset(self, mask: np.ndarray) -> WaveAnswers:
        """The responses where ``mask`` (a boolean array over the responses) is true."""
        return replace(
            self,
            codes=self.codes[mask],
            side=self.side[mask],
            area=self.area[mask],
            role=self.role[mask],
        )


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
    and -1 for skipped (int8: a million 40-item responses take 40 MB). :meth:`wave` takes a
    wave's rows (:class:`WaveAnswers`).
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
            codes=grid,
            side=meta[:, 1].astype(np.int8),
            area=area,
            role=meta[:, 3].astype(np.int8),
            area_ids=areas,
        )


def load_answer_grid(waves: Sequence[Wave], *, batch_size: int | None = None) -> AnswerGrid:
    """Load the answers of one or many waves in bulk: two Core selects, streamed.

    Parameters
    ----------
    waves : sequence of Wave
    batch_size : int, optional
        Rows fetched from the driver at a time; by default :func:`fetch_batch_rows`.

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
    batch_size = batch_size or fetch_batch_rows(connection.dialect.name)
    responses_sql, answers_sql = answer_statements(wave_ids)
    with collector_paused():  # a row tuple per answer, 39 million at full scale
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


def fetch_batch_rows(dialect: str) -> int:
    """Rows to fetch from the driver at a time in a bulk read on ``dialect``.

    SQLite: 4,096, a batch of row tuples that stays in the processor's cache while it is
    turned into an array — reading 39 million answers took 0.8 s less CPU (13.96 s against
    14.78 s, three reads each, benchmarks/README.md) than in batches of 100,000. PostgreSQL:
    100,000, as each batch from its server-side cursor is a round trip to the server.
    """
    return 4096 if dialect == "sqlite" else 100_000


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector for a bulk step that makes many objects and
    no reference cycles, and resume it (if it was running) when the step ends.

    A collection starts after every 700 new container objects: reading the answers made one
    per 700 driver row tuples (56,000 collections, 0.7 s of a full-scale recompute's CPU),
    and storing the result rows (~100,000 row tuples) started full collections that walked
    every object the recompute holds (0.46 s; benchmarks/README.md, *The recompute beyond
    its read*). Reference counting frees these objects as usual whether or not the collector
    runs; only the search for cycles waits. The setting is the process's: another thread's
    cycles wait too, for as long as the step lasts.
    """
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


#: glibc's ``mallopt`` parameters (``malloc.h``) and the values :func:`steady_heap` gives
#: them: the ceilings glibc's own adjustment reaches on 64-bit systems, from the start.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_BYTES, _TRIM_THRESHOLD_BYTES = 32 << 20, 64 << 20


@functools.cache
def steady_heap() -> bool:
    """Keep the memory a rebuild frees in the process's heap for its next wave (glibc only).

    A rebuild allocates and frees arrays of a few megabytes for every wave. glibc serves
    blocks above its threshold (128 KB at first, raised to the largest block freed so far)
    by ``mmap`` and gives the heap's free top back to the system above twice that; the
    next wave's arrays then fault their pages in again. At full scale that was 0.3–0.8 s of
    system CPU in a recompute, depending only on the order in which arrays came and went
    (benchmarks/README.md, *JSON by orjson, a wave's partitions in one call, the heap
    kept*). This fixes the two thresholds at the ceilings glibc's adjustment reaches anyway
    — blocks under 32 MB from the heap, up to 64 MB of free heap kept — so a process keeps
    at most 64 MB it does not use. The setting is the process's and lasts; returns whether
    it was made (False where the C library has no ``mallopt``, e.g. macOS or Windows, or
    ignores these parameters, e.g. musl).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # TypeError: no default library (Windows)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    kept = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
    return bool(kept and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES))


def load_answers(waves: Sequence[Wave], *, batch_size: int | None = None) -> list[WaveAnswers]:
    """Load the answers of one or many waves into NumPy arrays, in bulk.

    Parameters
    ----------
    waves : sequence of Wave
        The waves to load (any instrument versions).
    batch_size : int, optional
        Rows fetched from the driver at a time; by default :func:`fetch_batch_rows`.

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


def invited_per_cell(wave: Wave, n_areas: int, area_ids: Sequence[int]) -> np.ndarray:
    """How many were invited to each cell of a wave, NaN where that is not known.

    Cells are side × area level as :class:`~survey_app.services.results.layout.Layout`
    orders them (``n_areas`` areas with ids ``area_ids``, then "not stated", then all).

    A party's area is known only where the invitations fixed it: if any of the party's
    invitations names no area, its respondents chose their own, so none of its areas (nor
    "not stated") has a known N. A side's all-areas cell is every invitation of the party;
    both sides' cells are the sum of the two sides'. A wave without invitations (responses
    from open links) knows no N at all.
    """
    counts = db.session.execute(
        select(Party.side, Invitation.service_area_id, func.count(Invitation.id))
        .join(Party, Party.id == Invitation.party_id)
        .where(Invitation.wave_id == wave.id)
        .group_by(Party.side, Invitation.service_area_id)
    ).all()
    position = {area_id: i for i, area_id in enumerate(area_ids)}
    invited = np.zeros((2, n_areas + 1))
    for side, area_id, count in counts:
        level = position.get(area_id, n_areas) if area_id is not None else n_areas
        invited[SIDES.index(side), level] += count
    out = np.full((3, n_areas + 2), np.nan)
    for s in range(2):
        total = invited[s].sum()
        if total > 0:
            out[s, -1] = total
            if invited[s, n_areas] == 0:
                out[s, :n_areas] = invited[s, :n_areas]
    out[2] = out[0] + out[1]
    return out.ravel()


def submitted_per_invitation_area(wave: Wave) -> dict[tuple[str, str | None], int]:
    """``(side, area key or None) -> submitted``: the used invitations of a wave per party and
    the area they name (None: none), as the response-rate monitor counts them.

    What the monitor can publish about the results' cells: an invitation naming an area
    fixes its respondent's area, so a party's submitted invitations naming an area are at
    least its responses there, and its submitted invitations all together are its responses
    (:func:`~survey_app.services.results.disclosure.publish_wave` audits with both)."""
    rows = db.session.execute(
        select(Party.side, ServiceArea.key, func.count(Invitation.id))
        .join(Party, Party.id == Invitation.party_id)
        .outerjoin(ServiceArea, ServiceArea.id == Invitation.service_area_id)
        .where(Invitation.wave_id == wave.id, Invitation.used_on.is_not(None))
        .group_by(Party.side, ServiceArea.key)
    )
    return {(side, key): int(n) for side, key, n in rows}
