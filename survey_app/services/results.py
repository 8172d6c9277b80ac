"""Persisting the results of closed waves, rebuilding them, and publishing them suppressed.

* :func:`score_closed_wave` — called when a wave closes: computes and stores its tables (and
  those of any later closed wave, whose status depends on it) and the relationship's trends.
* :func:`recompute` — ``relhealth recompute``: rebuilds stored results, replacing them.
* :func:`output_table` / :func:`published_rows` — what dashboards, downloads and the API
  show: stored rows with confidentiality suppression (DESIGN §4.14) applied now, with the
  threshold ``MIN_CELL_SIZE`` then in force.
* :func:`suppress_rows` — the suppression itself, for rows of any results table.

Services flush; the caller (a request or a CLI command) commits once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import delete, insert, select

from analysis import suppression
from survey_app.extensions import db
from survey_app.models import Relationship, ResultTable, Wave
from survey_app.services import ServiceError
from survey_app.services.scoring import (
    ANALYSIS_VERSION,
    AREA_ALL,
    RELATIONSHIP_TABLES,
    TABLES,
    WAVE_TABLES,
    Columns,
    RelationshipResults,
    compute_relationship,
    ordered_closed_waves,
)

SUPPRESSED = "suppressed"
PRIMARY = suppression.PRIMARY
SECONDARY = suppression.SECONDARY


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def min_cell_size(k: int | None = None) -> int:
    """The confidentiality threshold: ``k`` if given, else the app's ``MIN_CELL_SIZE``.

    Raises ServiceError below 3 (DESIGN §4.14: configurable, never below 3).
    """
    value = current_app.config.get("MIN_CELL_SIZE", 5) if k is None else k
    if isinstance(value, bool) or not isinstance(value, int) or value < suppression.MIN_K:
        raise ServiceError(
            f"MIN_CELL_SIZE must be a whole number of at least {suppression.MIN_K}, not {value!r}"
        )
    return value


# ================================================================================ storing


def stored_tables(wave: Wave) -> dict[str, ResultTable]:
    """The stored tables of one wave, by name (``trends`` only on the latest wave)."""
    rows = db.session.scalars(select(ResultTable).where(ResultTable.wave_id == wave.id))
    return {r.name: r for r in rows}


def _columns(table: ResultTable) -> Columns:
    names = list(table.columns)
    data: Columns = {c: [] for c in names}
    for row in table.rows:
        for c, v in zip(names, row, strict=True):
            data[c].append(v)
    return data


def save_results(results: RelationshipResults, *, k: int) -> None:
    """Store computed tables, replacing any stored for the same waves (and the trends)."""
    rel = results.relationship
    wave_ids = [w.id for w in results.waves]
    if wave_ids:
        db.session.execute(
            delete(ResultTable).where(
                ResultTable.wave_id.in_(wave_ids), ResultTable.name.in_(WAVE_TABLES)
            )
        )
    computed_at = _now()
    records = []
    for wave, tables in zip(results.waves, results.tables, strict=True):
        for name in WAVE_TABLES:
            records.append(
                _record(rel.id, wave.id, name, "wave", tables.tables[name], k, computed_at)
            )
    if results.trends is not None:
        db.session.execute(
            delete(ResultTable).where(
                ResultTable.relationship_id == rel.id, ResultTable.name.in_(RELATIONSHIP_TABLES)
            )
        )
        records.append(
            _record(
                rel.id,
                results.waves[-1].id,
                "trends",
                "relationship",
                results.trends,
                k,
                computed_at,
            )
        )
    if records:
        db.session.execute(insert(ResultTable), records)
    db.session.flush()


def _record(
    relationship_id: int,
    wave_id: int,
    name: str,
    scope: str,
    columns: Columns,
    k: int,
    computed_at: datetime,
) -> dict[str, Any]:
    names = list(columns)
    rows = [list(r) for r in zip(*(columns[c] for c in names), strict=True)]
    return {
        "relationship_id": relationship_id,
        "wave_id": wave_id,
        "name": name,
        "scope": scope,
        "analysis_version": ANALYSIS_VERSION,
        "computed_at": computed_at,
        "min_cell_size": k,
        "n_rows": len(rows),
        "columns": names,
        "rows": rows,
    }


@dataclass(frozen=True, slots=True)
class RecomputeSummary:
    """What a rebuild did: the waves whose tables were rebuilt, and how long it took."""

    relationship: str
    waves: tuple[str, ...]
    seconds: float

    def line(self) -> str:
        if not self.waves:
            return f"{self.relationship}: no closed waves, nothing to compute"
        span = self.waves[0] if len(self.waves) == 1 else f"{self.waves[0]} to {self.waves[-1]}"
        plural = "wave" if len(self.waves) == 1 else "waves"
        return (
            f"{self.relationship}: rebuilt results of {len(self.waves)} closed {plural} "
            f"({span}) and trends in {self.seconds:.1f} s"
        )


def _rebuild(
    relationship: Relationship, waves: list[Wave], start: int, *, k: int, **kwargs: Any
) -> RecomputeSummary:
    """Compute and store ``waves[start:]`` (and trends), reading earlier waves' stored tables.

    Earlier waves whose stored results are missing or from another analysis version are
    rebuilt too, so the result never mixes versions.
    """
    began = time.perf_counter()
    ids = [w.id for w in waves[:start]]
    versions: dict[int, dict[str, str]] = {}
    for wave_id, name, version in db.session.execute(  # no JSON read to check currency
        select(ResultTable.wave_id, ResultTable.name, ResultTable.analysis_version).where(
            ResultTable.wave_id.in_(ids)
        )
    ):
        versions.setdefault(wave_id, {})[name] = version
    for i, wave_id in enumerate(ids):
        if any(versions.get(wave_id, {}).get(n) != ANALYSIS_VERSION for n in WAVE_TABLES):
            start = i
            break
    stored = {
        (t.wave_id, t.name): t
        for t in db.session.scalars(
            select(ResultTable).where(
                ResultTable.wave_id.in_(ids[:start]), ResultTable.name.in_(("scores", "gaps"))
            )
        )
    }
    earlier = [
        (w, {n: _columns(stored[(w.id, n)]) for n in ("scores", "gaps")}) for w in waves[:start]
    ]
    todo = waves[start:]
    if todo:
        results = compute_relationship(
            relationship, todo, min_cell_size=k, earlier=earlier, **kwargs
        )
        save_results(results, k=k)
    return RecomputeSummary(
        relationship.name, tuple(w.label for w in todo), time.perf_counter() - began
    )


def score_closed_wave(wave: Wave) -> RecomputeSummary:
    """Compute and store the results of a wave that has just closed, and the trends.

    Later closed waves (if the wave closed out of time order) are rebuilt too: their status
    depends on every earlier wave.
    """
    if wave.state != "closed":
        raise ServiceError(f"wave {wave.label!r} is {wave.state}; only closed waves have results")
    relationship = wave.relationship
    waves = ordered_closed_waves(relationship)
    return _rebuild(relationship, waves, waves.index(wave), k=min_cell_size())


def recompute(
    relationship: Relationship, wave: Wave | None = None, **kwargs: Any
) -> RecomputeSummary:
    """Rebuild the stored results of a relationship's closed waves, replacing what is stored.

    Parameters
    ----------
    relationship : Relationship
    wave : Wave, optional
        Rebuild this closed wave (and any later closed wave, whose status depends on it);
        every closed wave when omitted.
    **kwargs
        Passed to :func:`~survey_app.services.scoring.compute_relationship` (e.g.
        ``answers_of`` to supply answers already in memory).

    Returns
    -------
    RecomputeSummary
    """
    waves = ordered_closed_waves(relationship)
    k = min_cell_size()
    if wave is None:
        db.session.execute(
            delete(ResultTable).where(ResultTable.relationship_id == relationship.id)
        )
        return _rebuild(relationship, waves, 0, k=k, **kwargs)
    if wave.relationship_id != relationship.id:
        raise ServiceError(f"wave {wave.label!r} is not a wave of {relationship.name!r}")
    if wave.state != "closed":
        raise ServiceError(f"wave {wave.label!r} is {wave.state}; only closed waves have results")
    return _rebuild(relationship, waves, waves.index(wave), k=k, **kwargs)


# ================================================================================ reading


def stored_rows(name: str, relationship: Relationship, waves: Sequence[Wave] | None = None):
    """Stored rows of a results table (unsuppressed: never show these directly).

    Returns
    -------
    columns : list of str
    rows : list of dict
        For a wave table, the rows of every wave in ``waves`` (all closed waves in time
        order by default); for ``trends``, the relationship's latest trends.
    """
    if name not in TABLES:
        raise ServiceError(f"there is no results table {name!r} (known: {', '.join(TABLES)})")
    if name in RELATIONSHIP_TABLES:
        table = db.session.scalar(
            select(ResultTable).where(
                ResultTable.relationship_id == relationship.id, ResultTable.name == name
            )
        )
        if table is None:
            if not ordered_closed_waves(relationship):
                return _codebook_columns(name), []
            raise ServiceError(
                f"{relationship.name!r} has no stored {name}: run relhealth recompute"
            )
        return list(table.columns), table.records()
    waves = ordered_closed_waves(relationship) if waves is None else list(waves)
    if not waves:
        return _codebook_columns(name), []
    columns: list[str] = []
    rows: list[dict[str, Any]] = []
    by_wave = {
        t.wave_id: t
        for t in db.session.scalars(
            select(ResultTable).where(
                ResultTable.wave_id.in_([w.id for w in waves]), ResultTable.name == name
            )
        )
    }
    for wave in waves:
        table = by_wave.get(wave.id)
        if table is None:
            raise ServiceError(
                f"wave {wave.label!r} has no stored {name}"
                + (": only closed waves have results" if wave.state != "closed" else "")
                + ("" if wave.state != "closed" else ": run relhealth recompute")
            )
        for c in table.columns:
            if c not in columns:
                columns.append(c)
        rows.extend(table.records())
    return columns, rows


def _codebook_columns(name: str) -> list[str]:
    """A table's stored columns as the codebook lists them (for a table with no rows yet)."""
    from survey_app.services import codebook

    return [c.name for c in codebook.columns(name) if c.name != SUPPRESSED]


def published_rows(
    name: str,
    relationship: Relationship,
    waves: Sequence[Wave] | None = None,
    *,
    k: int | None = None,
) -> list[dict[str, Any]]:
    """Rows of a results table as anyone may see them: suppressed with k = ``MIN_CELL_SIZE``.

    Every row carries a ``suppressed`` entry: ``None`` when shown, else the reason; a
    suppressed row keeps its labels (wave, side, area, dimension ...) and has every
    statistic blank.
    """
    k = min_cell_size(k)
    _, rows = stored_rows(name, relationship, waves)
    scores = None
    if name == "gaps":
        _, scores = stored_rows("scores", relationship, waves)
    return suppress_rows(name, rows, k, scores=scores)


def output_table(
    name: str,
    relationship: Relationship,
    waves: Sequence[Wave] | None = None,
    *,
    k: int | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """Column names and rows (lists in column order) of a suppressed results table.

    As :func:`published_rows`, shaped for writers: the last column is ``suppressed``.
    """
    k = min_cell_size(k)
    columns, rows = stored_rows(name, relationship, waves)
    scores = None
    if name == "gaps":
        _, scores = stored_rows("scores", relationship, waves)
    shown = suppress_rows(name, rows, k, scores=scores)
    names = [*columns, SUPPRESSED]
    return names, [[row.get(c) for c in names] for row in shown]


# ================================================================================ suppression


@dataclass(frozen=True, slots=True)
class _Spec:
    """How a table is cut into independent blocks of cells, and what a suppressed row keeps."""

    block: tuple[str, ...]
    count: str
    axes: tuple[str, ...]
    keep: tuple[str, ...]


_SPECS: dict[str, _Spec] = {
    "scores": _Spec(
        ("wave", "dimension"),
        "n",
        ("side", "area"),
        (
            "wave",
            "side",
            "area",
            "area_name",
            "dimension",
            "dimension_title",
            "previous_wave",
            "comparability_note",
        ),
    ),  # fmt: skip
    "items": _Spec(
        ("wave", "item"),
        "n",
        ("side", "area"),
        ("wave", "side", "area", "area_name", "item", "item_no", "dimension", "reverse_keyed"),
    ),
    "reliability": _Spec(
        ("wave", "dimension", "item"),
        "n_complete",
        ("side",),
        ("wave", "side", "dimension", "dimension_title", "item", "level", "n_items"),
    ),
    "drivers": _Spec(
        ("wave", "outcome", "dimension"),
        "n",
        ("side", "area"),
        ("wave", "side", "area", "area_name", "outcome", "dimension", "dimension_title"),
    ),
    "trends": _Spec(
        ("relationship", "dimension"),
        "n_latest",
        ("side", "area"),
        (
            "relationship",
            "side",
            "area",
            "area_name",
            "dimension",
            "dimension_title",
            "series_start",
            "latest_wave",
            "previous_wave",
            "comparability_note",
        ),
    ),  # fmt: skip
    "gaps": _Spec(
        ("wave", "dimension"),
        "",
        ("area",),
        (
            "wave",
            "area",
            "area_name",
            "dimension",
            "dimension_title",
            "previous_wave",
            "comparability_note",
        ),
    ),  # fmt: skip
}


#: The value that marks the margin (the total over the axis) on each axis of a results cube.
MARGINS = {"side": "all", "area": AREA_ALL}


def cube_partitions(
    cells: Sequence[tuple[str, ...]], axes: Sequence[str]
) -> tuple[list[list[int]], list[int | None]]:
    """The published margins of a block of cells: which cells add up to which total.

    Parameters
    ----------
    cells : sequence of tuples
        Each cell's position on ``axes`` (e.g. ``("client", "contact-centre")``); the
        axis's margin value (:data:`MARGINS`: ``all`` for side, ``_all`` for area) marks a
        margin.
    axes : sequence of str
        Names from :data:`MARGINS` (``("side", "area")`` or ``("side",)``), or directly the
        margin value of each axis (any number of axes, e.g. the dashboard's side × area ×
        role cube).

    Returns
    -------
    partitions : list of list of int
        For each axis and each position on the other axes (margins included), the cells
        along the axis that sum to the margin.
    totals : list of int or None
        The index of each partition's margin cell (None when that margin is not a cell).
    """
    margins = [MARGINS.get(axis, axis) for axis in axes]
    where = {cell: i for i, cell in enumerate(cells)}
    partitions: list[list[int]] = []
    totals: list[int | None] = []
    for a, margin in enumerate(margins):
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, cell in enumerate(cells):
            if cell[a] != margin:
                groups.setdefault((*cell[:a], margin, *cell[a + 1 :]), []).append(i)
        for total, members in groups.items():
            partitions.append(members)
            totals.append(where.get(total))
    return partitions, totals


def suppression_reasons(
    counts: Sequence[int], partitions: Sequence[Sequence[int]], totals: Sequence[int | None], k: int
) -> list[str | None]:
    """Primary and secondary suppression of one block of cells (DESIGN §4.14).

    :func:`analysis.suppression.suppression_mask` hides every cell with ``0 < n < k`` and,
    repeatedly, more cells until no hidden cell can be worked out from a margin. Margins are
    treated as published even when hidden, which can only hide more. Where the rule reports a
    partition it could not protect, or a hidden cell still recoverable, the margin itself is
    hidden too (as a cell of fewer than k) and the rule runs again.
    """
    counts_arr = np.asarray([int(c or 0) for c in counts], dtype=np.int64)
    if counts_arr.size == 0:
        return []
    forced: set[int] = set()
    while True:
        adjusted = counts_arr.copy()
        for i in forced:
            adjusted[i] = min(int(adjusted[i]), 1) or 0
        res = suppression.suppression_mask(adjusted, partitions, k=k)
        extra: set[int] = set()
        for p in res.unprotected_partitions:
            total = totals[int(p)]
            if total is not None and not res.mask[total] and counts_arr[total] > 0:
                extra.add(total)
        for c in np.flatnonzero(res.recoverable):
            for p, members in enumerate(partitions):
                total = totals[p]
                if (
                    c in members
                    and total is not None
                    and not res.mask[total]
                    and counts_arr[total] > 0
                ):
                    extra.add(total)
        if not extra - forced:
            break
        forced |= extra
    reasons: list[str | None] = []
    for i in range(counts_arr.size):
        if not res.mask[i]:
            reasons.append(None)
        elif res.primary[i] and i not in forced:
            reasons.append(PRIMARY)
        else:
            reasons.append(SECONDARY)
    return reasons


def suppress_rows(
    table: str,
    rows: Sequence[Mapping[str, Any]],
    k: int,
    *,
    scores: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Apply confidentiality suppression to rows of a results table.

    Parameters
    ----------
    table : str
        ``scores``, ``items``, ``reliability``, ``gaps``, ``drivers`` or ``trends``.
    rows : sequence of mapping
        Stored rows (e.g. from :func:`stored_rows`).
    k : int
        Minimum cell size (at least 3).
    scores : sequence of mapping, optional
        For ``gaps``: the ``scores`` rows of the same waves. A gap shows both sides' means,
        so it is hidden wherever the scores of either side in that area are.

    Returns
    -------
    list of dict
        New rows with a ``suppressed`` entry (``None``, ``"fewer than k responses"`` or
        ``"secondary: would reveal a suppressed cell"``); a suppressed row keeps its labels
        and has every statistic (``n`` included) set to ``None``.

    Notes
    -----
    Rows are cut into blocks that are published as separate tables (one wave and one
    dimension of ``scores``, one item of ``items`` ...). Within a block every cell
    (side × service area) and its published margins — each side over all areas, both sides
    in each area — form the partitions passed to :func:`suppression_reasons`.
    """
    k = min_cell_size(k)
    spec = _SPECS.get(table)
    if spec is None:
        raise ServiceError(f"there is no results table {table!r}")
    if table == "gaps":
        return _suppress_gaps(rows, k, scores, spec)
    reasons: list[str | None] = [None] * len(rows)
    blocks: dict[tuple[Any, ...], list[int]] = {}
    for i, row in enumerate(rows):
        blocks.setdefault(tuple(row.get(c) for c in spec.block), []).append(i)
    seen: dict[tuple[Any, ...], list[str | None]] = {}  # blocks alike in cells and counts
    for members in blocks.values():
        cells = tuple(tuple(rows[i].get(a) for a in spec.axes) for i in members)
        counts = tuple(rows[i].get(spec.count) or 0 for i in members)
        found = seen.get((cells, counts))
        if found is None:
            partitions, totals = cube_partitions(cells, spec.axes)
            found = suppression_reasons(counts, partitions, totals, k)
            seen[(cells, counts)] = found
        for i, reason in zip(members, found, strict=True):
            reasons[i] = reason
    return [blank(row, reason, spec.keep) for row, reason in zip(rows, reasons, strict=True)]


def blank(row: Mapping[str, Any], reason: str | None, keep: Sequence[str]) -> dict[str, Any]:
    """A copy of ``row`` with its ``suppressed`` reason; if hidden, only ``keep`` is left."""
    out = {c: (v if reason is None or c in keep else None) for c, v in row.items()}
    out[SUPPRESSED] = reason
    return out


def _suppress_gaps(
    rows: Sequence[Mapping[str, Any]],
    k: int,
    scores: Sequence[Mapping[str, Any]] | None,
    spec: _Spec,
) -> list[dict[str, Any]]:
    if scores is None:
        raise ServiceError("suppressing gaps needs the scores rows of the same waves")
    shown = suppress_rows("scores", scores, k)
    reason_of = {(r["wave"], r["side"], r["area"], r["dimension"]): r[SUPPRESSED] for r in shown}
    out = []
    for row in rows:
        sides = [
            reason_of.get((row["wave"], side, row["area"], row["dimension"]))
            for side in ("client", "supplier")
        ]
        reason = PRIMARY if PRIMARY in sides else SECONDARY if any(sides) else None
        out.append(blank(row, reason, spec.keep))
    return out


__all__ = [
    "SUPPRESSED",
    "RecomputeSummary",
    "blank",
    "cube_partitions",
    "min_cell_size",
    "output_table",
    "published_rows",
    "recompute",
    "save_results",
    "score_closed_wave",
    "stored_rows",
    "stored_tables",
    "suppress_rows",
    "suppression_reasons",
]
