"""One disclosure pattern for everything a closed wave publishes (DESIGN §4.14, issue 11).

:func:`publish_wave` runs once, when a wave's tables are computed, with the wave's k, and
writes a ``suppressed`` column into each of its tables; every page, download and API answer
then reads that column (:func:`~survey_app.services.results.published_rows`), so what was
published stays the same whatever the configuration says later.

* **Linked tables share one pattern.** The score row of a dimension and the rows of its items
  describe the same groups (a dimension's ``n_answers`` is the sum of its items' ``n``), so
  they hide the same side × area cells: :func:`analysis.suppression.protect` is given all their
  counts at once. The index row pools every item, so it hides every group any dimension hides,
  and a partner it needs on its own is hidden in every dimension too. Gaps show both sides'
  scores cells and follow them; drivers and reliability are protected in their own blocks with
  the scores pattern forced on them.
* **Pooled figures come from published cells only.** ICC(1) and ICC(2) on an all-areas row are
  not published when one of the areas under it is hidden (they would give its size and mean
  away); Benjamini–Hochberg adjusted p-values of gaps and of changes are computed within the
  family of the *shown* rows, so an adjusted p over a raw p ranks a row among shown rows only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from analysis import gaps, suppression
from survey_app.services.results.publication import PRIMARY, SECONDARY, cube_partitions
from survey_app.services.results.vocabulary import (
    AREA_ALL,
    AREA_NONE,
    INDEX,
    SIDES,
    SUPPRESSED,
    Columns,
)

_AXES = ("side", "area")


def _number(v: Any) -> float:
    return 0.0 if v is None else float(v)


class _Cube:
    """The side × area cells of a wave's scores table, with their published equations."""

    def __init__(self, scores: Columns):
        self.cells: list[tuple[str, str]] = []
        where: dict[tuple[str, str], int] = {}
        for cell in zip(scores["side"], scores["area"], strict=True):
            if cell not in where:
                where[cell] = len(self.cells)
                self.cells.append(cell)
        self.where = where
        partitions, totals = cube_partitions(self.cells, _AXES)
        self.equations = list(zip(partitions, totals, strict=True))

    def vectors(self, table: Columns, key: str, value: str = "n") -> dict[Any, np.ndarray]:
        """One vector over the cells per ``key`` value (dimension, item ...) of ``value``."""
        out: dict[Any, np.ndarray] = {}
        for side, area, k, v in zip(
            table["side"], table["area"], table[key], table[value], strict=True
        ):
            vec = out.setdefault(k, np.zeros(len(self.cells)))
            vec[self.where[(side, area)]] = _number(v)
        return out


def publish_wave(tables: dict[str, Columns], k: int, *, points: int | None = None) -> None:
    """Write the ``suppressed`` column of every table of one wave, and publish pooled figures
    from shown cells only (in place).

    Parameters
    ----------
    tables : dict of str to Columns
        The wave's ``scores`` and ``items``, and any of ``gaps``, ``drivers`` and
        ``reliability``.
    k : int
        The wave's minimum cell size.
    points : int, optional
        Scale points: sums of scores are audited on the range 1..``points`` too.
    """
    scores, items = tables["scores"], tables["items"]
    cube = _Cube(scores)
    hidden = _score_pattern(cube, scores, items, k, points)
    _write(scores, [hidden[d][cube.where[(s, a)]] for s, a, d in _keys(scores, "dimension")])
    _write(items, [_item_reason(hidden, cube, s, a, d) for s, a, d in _keys(items, "dimension")])
    _blank_icc(scores, cube, hidden)
    _adjust_within_shown(scores, "change_p", "change_p_adjusted")
    if "gaps" in tables:
        _publish_gaps(tables["gaps"], scores)
    if "drivers" in tables:
        _publish_blocks(tables["drivers"], ("outcome", "dimension"), "n", k, scores, cube)
    if "reliability" in tables:
        _publish_reliability(tables["reliability"], k)


def hidden_cells(
    scores: Columns,
    items: Columns,
    k: int,
    *,
    points: int | None = None,
    dimension_of: dict[str, str] | None = None,
) -> set[tuple[str, str, str]]:
    """``(side, area, dimension)`` of the scores cells :func:`publish_wave` hides, from the
    counts (and means) of a wave's scores and items, without changing them.

    ``dimension_of`` maps item keys to dimension keys where ``items`` has no ``dimension``.
    """
    cube = _Cube(scores)
    if dimension_of is not None:
        items = {**items, "dimension": [dimension_of[i] for i in items["item"]]}
    hidden = _score_pattern(cube, scores, items, k, points)
    return {(s, a, d) for s, a, d in _keys(scores, "dimension") if hidden[d][cube.where[(s, a)]]}


def _keys(table: Columns, key: str):
    return zip(table["side"], table["area"], table[key], strict=True)


def _item_reason(hidden, cube: _Cube, side: str, area: str, dimension: str) -> str | None:
    return hidden[dimension][cube.where[(side, area)]]


def _score_pattern(cube: _Cube, scores: Columns, items: Columns, k: int, points):
    """The reason of every cell, per dimension key (index included): None when shown."""
    n_score = cube.vectors(scores, "dimension")
    n_item = cube.vectors(items, "item")
    dim_of = dict(zip(items["item"], items["dimension"], strict=True))
    sums = None
    scale = None if points is None else (1.0, float(points))
    if points is not None:
        means = cube.vectors(scores, "dimension", "mean")
        item_means = cube.vectors(items, "item", "mean")
        sums = {d: n_score[d] * means[d] for d in n_score}
        item_sums = {i: n_item[i] * item_means[i] for i in n_item}
    patterns: dict[str, suppression.Protection] = {}
    for d in n_score:
        if d == INDEX:
            continue
        members = [i for i in n_item if dim_of[i] == d]
        counts = np.array([n_score[d], *(n_item[i] for i in members)])
        family_sums = (
            None if sums is None else np.array([sums[d], *(item_sums[i] for i in members)])
        )
        patterns[d] = suppression.protect(
            counts, cube.equations, k=k, sums=family_sums, scale=scale
        )
    union = np.zeros(len(cube.cells), dtype=bool)
    for p in patterns.values():
        union |= p.hidden
    hidden_of = {d: p.hidden for d, p in patterns.items()}
    primary_of = {d: p.primary for d, p in patterns.items()}
    if INDEX in n_score:
        index = suppression.protect(
            n_score[INDEX],
            cube.equations,
            k=k,
            sums=None if sums is None else sums[INDEX],
            scale=scale,
            hidden=union,
        )
        extra = index.hidden & ~union  # partners the index needs: hidden in every dimension
        hidden_of = {d: h | extra for d, h in hidden_of.items()}
        hidden_of[INDEX], primary_of[INDEX] = index.hidden, index.primary
    return {
        d: [
            (PRIMARY if primary_of[d][c] else SECONDARY) if h else None
            for c, h in enumerate(hidden.tolist())
        ]
        for d, hidden in hidden_of.items()
    }


def _write(table: Columns, reasons: Sequence[str | None]) -> None:
    table[SUPPRESSED] = list(reasons)


def _blank_icc(scores: Columns, cube: _Cube, hidden: dict[str, list[str | None]]) -> None:
    """ICC(1)/ICC(2) of an all-areas row only when no real area under it is hidden."""
    for u, (side, area, d) in enumerate(_keys(scores, "dimension")):
        if area != AREA_ALL or scores["icc1"][u] is None and scores["icc2"][u] is None:
            continue
        under = [
            c for c, (s, a) in enumerate(cube.cells) if s == side and a not in (AREA_ALL, AREA_NONE)
        ]
        if any(hidden[d][c] is not None for c in under):
            scores["icc1"][u] = scores["icc2"][u] = None


def _adjust_within_shown(table: Columns, raw: str, adjusted: str) -> np.ndarray:
    """Benjamini–Hochberg over the shown rows of ``table`` only (hidden rows: None)."""
    p = np.array([np.nan if v is None else float(v) for v in table[raw]])
    shown = np.array([r is None for r in table[SUPPRESSED]])
    p[~shown] = np.nan
    adj = gaps.benjamini_hochberg(p)
    table[adjusted] = [None if not np.isfinite(v) else float(v) for v in adj]
    return adj


def adjust_within_shown(rows: list[dict[str, Any]], raw: str, adjusted: str) -> None:
    """:func:`_adjust_within_shown` for rows (dicts with a ``suppressed`` entry), in place."""
    if not rows:
        return
    columns: Columns = {c: [r.get(c) for r in rows] for c in (raw, SUPPRESSED)}
    _adjust_within_shown(columns, raw, adjusted)
    for row, value in zip(rows, columns[adjusted], strict=True):
        row[adjusted] = value


def _publish_gaps(table: Columns, scores: Columns) -> None:
    """A gap shows both sides' scores cells: hidden wherever either is; BH over shown gaps."""
    reason_of = {
        (s, a, d): r
        for s, a, d, r in zip(
            scores["side"], scores["area"], scores["dimension"], scores[SUPPRESSED], strict=True
        )
    }
    reasons = []
    for area, d in zip(table["area"], table["dimension"], strict=True):
        sides = [reason_of.get((s, area, d)) for s in SIDES]
        reasons.append(PRIMARY if PRIMARY in sides else SECONDARY if any(sides) else None)
    _write(table, reasons)
    adj = _adjust_within_shown(table, "welch_p", "p_adjusted")
    diff = np.array([np.nan if v is None else float(v) for v in table["difference"]])
    g = np.array([np.nan if v is None else float(v) for v in table["g"]])
    material = gaps.material_gap(diff, g, adj)
    table["material"] = [
        None if r is not None or not np.isfinite(a) else bool(m)
        for r, a, m in zip(reasons, adj, material, strict=True)
    ]


def _publish_blocks(table: Columns, block: tuple[str, ...], count: str, k: int, scores, cube):
    """Protect each block of a side × area table, with the scores pattern forced on it."""
    hidden_score = {
        (s, a, d)
        for s, a, d, r in zip(
            scores["side"], scores["area"], scores["dimension"], scores[SUPPRESSED], strict=True
        )
        if r is not None
    }
    groups: dict[tuple[Any, ...], list[int]] = {}
    for u in range(len(table["side"])):
        groups.setdefault(tuple(table[c][u] for c in block), []).append(u)
    reasons: list[str | None] = [None] * len(table["side"])
    for key, rows in groups.items():
        counts = np.zeros(len(cube.cells))
        forced = np.zeros(len(cube.cells), dtype=bool)
        for u in rows:
            c = cube.where[(table["side"][u], table["area"][u])]
            counts[c] = _number(table[count][u])
            forced[c] = any((table["side"][u], table["area"][u], d) in hidden_score for d in key)
        res = suppression.protect(counts, cube.equations, k=k, hidden=forced)
        for u in rows:
            reason = res.reason[cube.where[(table["side"][u], table["area"][u])]]
            reasons[u] = reason or None
    _write(table, reasons)


def _publish_reliability(table: Columns, k: int) -> None:
    """Reliability per side (client, supplier, both): each dimension and item its own block."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for u in range(len(table["side"])):
        groups.setdefault((table["dimension"][u], table["item"][u]), []).append(u)
    reasons: list[str | None] = [None] * len(table["side"])
    for rows in groups.values():
        cells = [(table["side"][u],) for u in rows]
        partitions, totals = cube_partitions(cells, ("side",))
        counts = [_number(table["n_complete"][u]) for u in rows]
        res = suppression.protect(counts, list(zip(partitions, totals, strict=True)), k=k)
        for u, reason in zip(rows, res.reason.tolist(), strict=True):
            reasons[u] = reason or None
    _write(table, reasons)


def publish_trends(trends: Columns, scores: Columns) -> None:
    """The trends as of a wave show its scores cells' latest n: they hide what its scores hide."""
    reason_of = {
        (s, a, d): r
        for s, a, d, r in zip(
            scores["side"], scores["area"], scores["dimension"], scores[SUPPRESSED], strict=True
        )
    }
    _write(trends, [reason_of.get(key, PRIMARY) for key in _keys(trends, "dimension")])
