"""Publishing results: confidentiality suppression (DESIGN §4.14) of stored rows.

* :func:`suppress_rows` — primary and secondary suppression of rows of any results table,
  applied when results are shown, downloaded or served, from the stored cell counts.
* :func:`hidden_score_cells` and :func:`hide_changes_from_hidden_cells` — the one rule for
  numbers derived from an earlier wave: they come from published cells only, and a gap is
  hidden wherever either side's scores cell is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask import current_app

from analysis import suppression
from survey_app.services import ServiceError
from survey_app.services.results.vocabulary import AREA_ALL, SIDES, SUPPRESSED, Columns

PRIMARY = suppression.PRIMARY
SECONDARY = suppression.SECONDARY


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


@dataclass(frozen=True, slots=True)
class _Spec:
    """How a table is cut into independent blocks of cells, and what a suppressed row keeps."""

    block: tuple[str, ...]
    count: str
    axes: tuple[str, ...]
    keep: tuple[str, ...]


#: The labels a suppressed row keeps, by what they name: its cell, its dimension, and the
#: earlier wave it is compared with (and whether the two compare).
_CELL = ("side", "area", "area_name")
_DIMENSION = ("dimension", "dimension_title")
_COMPARED = ("previous_wave", "comparability_note")

_SPECS: dict[str, _Spec] = {
    "scores": _Spec(
        ("wave", "dimension"), "n", ("side", "area"), ("wave", *_CELL, *_DIMENSION, *_COMPARED)
    ),
    "items": _Spec(
        ("wave", "item"),
        "n",
        ("side", "area"),
        ("wave", *_CELL, "item", "item_no", "dimension", "reverse_keyed"),
    ),
    "reliability": _Spec(
        ("wave", "dimension", "item"),
        "n_complete",
        ("side",),
        ("wave", "side", *_DIMENSION, "item", "level", "n_items"),
    ),
    "drivers": _Spec(
        ("wave", "outcome", "dimension"),
        "n",
        ("side", "area"),
        ("wave", *_CELL, "outcome", *_DIMENSION),
    ),
    "relative_weights": _Spec(
        ("wave", "outcome", "dimension"),
        "n",
        ("side", "area"),
        ("wave", *_CELL, "outcome", *_DIMENSION),
    ),
    "heat_map": _Spec(("wave", "dimension"), "", ("side", "area"), ("wave", *_CELL, *_DIMENSION)),
    "margins": _Spec(("wave", "dimension"), "", ("side", "area"), ("wave", *_CELL, *_DIMENSION)),
    "trends": _Spec(
        ("relationship", "dimension"),
        "n_latest",
        ("side", "area"),
        ("relationship", *_CELL, *_DIMENSION, "series_start", "latest_wave", *_COMPARED),
    ),
    "gaps": _Spec(
        ("wave", "dimension"), "", ("area",), ("wave", "area", "area_name", *_DIMENSION, *_COMPARED)
    ),
}


#: Tables whose rows are cells of ``scores`` (or built from them): each row is hidden where
#: the scores it shows are (a gap wherever either side's scores are).
FOLLOW_SCORES = ("gaps", "heat_map", "margins")

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
        margin value of each axis (any number of axes, e.g. the response-rate monitor's invited ×
        side × area cube).

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

    A two-way block (side × area with its margins, or one axis) is protected by
    :func:`analysis.suppression.protect`: every cell with ``0 < n < k`` hidden, and the
    smallest partners that leave each of them a feasible range at least ``k`` wide, hidden
    margins being unknowns. A cube of three or more axes (the response-rate monitor) keeps
    the partition rule below.
    """
    counts_arr = np.asarray([int(c or 0) for c in counts], dtype=np.int64)
    if counts_arr.size == 0:
        return []
    equations = list(zip(partitions, totals, strict=True))
    try:
        res = suppression.protect(counts_arr, equations, k=k)
    except ValueError:  # not a two-way table
        return partition_reasons(counts_arr, partitions, totals, k)
    return [r or None for r in res.reason.tolist()]


def partition_reasons(counts_arr, partitions, totals, k: int) -> list[str | None]:
    """:func:`analysis.suppression.suppression_mask` hides every cell with ``0 < n < k`` and,
    repeatedly, more cells until no hidden cell can be worked out from a margin. Margins are
    treated as published even when hidden, which can only hide more. Where the rule reports a
    partition it could not protect, or a hidden cell still recoverable, the margin itself is
    hidden too (as a cell of fewer than k) and the rule runs again.
    """
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
        ``scores``, ``items``, ``reliability``, ``gaps``, ``drivers``, ``relative_weights``,
        ``heat_map``, ``margins`` or ``trends``.
    rows : sequence of mapping
        Stored rows (e.g. from :func:`stored_rows`).
    k : int
        Minimum cell size (at least 3).
    scores : sequence of mapping, optional
        For the tables of :data:`FOLLOW_SCORES`: the ``scores`` rows of the same waves. A
        margins row is hidden wherever the scores of its cell are, a heat-map row also
        wherever its side's all-areas total is (the rest is the total less the cell); a gap shows
        both sides' means, so it is hidden wherever the scores of either side in that area
        are.

    Returns
    -------
    list of dict
        New rows with a ``suppressed`` entry (the stored one when every row carries it:
        the pattern :func:`~survey_app.services.results.disclosure.publish_wave` stored with
        the wave's own k, which ``k`` then does not change) (``None``, ``"fewer than k responses"`` or
        ``"secondary: would reveal a suppressed cell"``); a suppressed row keeps its labels
        and has every statistic (``n`` included) set to ``None``.

    Notes
    -----
    Rows are cut into blocks that are published as separate tables (one wave and one
    dimension of ``scores``, one item of ``items`` ...). Within a block every cell
    (side × service area) and its published margins — each side over all areas, both sides
    in each area — form the partitions passed to :func:`suppression_reasons`.
    """
    spec = _SPECS.get(table)
    if spec is None:
        raise ServiceError(f"there is no results table {table!r}")
    if rows and all(SUPPRESSED in row for row in rows):  # the pattern stored at close
        return [blank(row, row[SUPPRESSED], spec.keep) for row in rows]
    k = min_cell_size(k)
    if table in FOLLOW_SCORES:
        return _suppress_like_scores(table, rows, k, scores, spec)
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


def _suppress_like_scores(
    table: str,
    rows: Sequence[Mapping[str, Any]],
    k: int,
    scores: Sequence[Mapping[str, Any]] | None,
    spec: _Spec,
) -> list[dict[str, Any]]:
    if scores is None:
        raise ServiceError(f"suppressing {table} needs the scores rows of the same waves")
    reasons = follow_scores_reasons(table, rows, suppress_rows("scores", scores, k))
    return [blank(row, reason, spec.keep) for row, reason in zip(rows, reasons, strict=True)]


def follow_scores_reasons(
    table: str, rows: Sequence[Mapping[str, Any]], shown: Sequence[Mapping[str, Any]]
) -> list[str | None]:
    """The reason each row of a :data:`FOLLOW_SCORES` table is hidden, given the published
    ``scores`` rows (with their ``suppressed`` entries) of the same waves."""
    reason_of = {(r["wave"], r["side"], r["area"], r["dimension"]): r[SUPPRESSED] for r in shown}
    out: list[str | None] = []
    for row in rows:
        # A gap shows both sides' cells; a heat-map row its cell and, through the rest,
        # its side's total.
        cells = (
            [(side, row["area"]) for side in SIDES]
            if table == "gaps"
            else [(row["side"], row["area"])]
        )
        if table == "heat_map":
            cells.append((row["side"], AREA_ALL))
        sides = [reason_of.get((row["wave"], *cell, row["dimension"])) for cell in cells]
        out.append(PRIMARY if PRIMARY in sides else SECONDARY if any(sides) else None)
    return out


def hidden_score_cells(scores: Columns, k: int) -> set[tuple[str, str, str]]:
    """``(side, area, dimension)`` of one wave's scores cells that publication hides under k.

    Primary and secondary suppression alike (:func:`results.suppress_rows`): every number
    derived from an earlier wave — the change since it, the trend series, the EWMA and CUSUM
    charts and the evidence quoting them — must come from published cells only, or a hidden
    cell could be worked out as a shown mean minus its shown change (and a primary cell then
    recovered from its margin). A table carrying its stored pattern gives that pattern.
    """
    if SUPPRESSED in scores:
        return {
            (s, a, d)
            for s, a, d, r in zip(
                scores["side"], scores["area"], scores["dimension"], scores[SUPPRESSED], strict=True
            )
            if r is not None
        }
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


def gap_hidden(hidden: set[tuple[str, str, str]], area: str, dimension: str) -> bool:
    """Whether the perception gap of ``area`` and ``dimension`` is hidden, given the hidden
    scores cells of its wave: a gap shows both sides' means, so it is hidden wherever either
    side's scores cell is."""
    return any((side, area, dimension) in hidden for side in SIDES)


def hide_changes_from_hidden_cells(tables: Columns, hidden: set[tuple[str, str, str]]) -> None:
    """Blank each change since the previous wave whose previous cell is not published.

    ``tables`` maps table names to columns (``scores`` and ``gaps`` are changed in place);
    ``hidden`` is the previous wave's :func:`hidden_score_cells`. A gap's change goes with
    its gap (:func:`gap_hidden`).
    """
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
        if gap_hidden(hidden, area, dim):
            for column in GAP_CHANGE_COLUMNS:
                gp[column][i] = None
