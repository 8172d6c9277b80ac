"""One disclosure pattern for everything a closed wave publishes (DESIGN §4.14, issue 11).

:func:`publish_wave` runs once, when a wave's tables are computed, with the wave's k, and
writes a ``suppressed`` column into each of its tables; pages, downloads and the API then read
that column (:func:`~survey_app.services.results.publication.suppress_rows` keeps a stored
pattern), so what was published stays the same whatever the configuration says later.

* **Linked tables share one pattern.** The score row of a dimension and the rows of its items
  describe the same groups (a dimension's ``n_answers`` is the sum of its items' ``n``), so
  they hide the same side × area cells: :func:`analysis.suppression.protect` is given all their
  counts at once and audits each small cell in each of them (hidden margins are unknowns). The
  index pools every item, so it hides every group any dimension hides, and a partner it needs
  on its own is hidden in every dimension too. Gaps, the heat map, the margins and the trends
  show scores cells and follow them; drivers, relative weights and reliability are protected
  in their own blocks with the scores pattern forced on them.
* **Pooled figures come from published cells only.** ICC(1) and ICC(2) on an all-areas row are
  not published when an area under it is hidden (with N and the shown areas they give the
  hidden areas' sizes and means away); Benjamini–Hochberg adjusted p-values of gaps and of
  changes are computed within the family of the *shown* rows, so an adjusted p over a raw p
  ranks a row among shown rows only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from analysis import gaps, suppression
from survey_app.services.results.publication import (
    PRIMARY,
    SECONDARY,
    cube_partitions,
    follow_scores_reasons,
)
from survey_app.services.results.vocabulary import (
    AREA_ALL,
    INDEX,
    SUPPRESSED,
    Columns,
    rows_of,
)

_AXES = ("side", "area")


def _number(v: Any) -> float:
    return 0.0 if v is None else float(v)


class _Cube:
    """The side × area cells of a wave's scores table, with their published equations."""

    def __init__(self, scores: Columns):
        self.cells: list[tuple[str, str]] = []
        self.where: dict[tuple[str, str], int] = {}
        for cell in zip(scores["side"], scores["area"], strict=True):
            if cell not in self.where:
                self.where[cell] = len(self.cells)
                self.cells.append(cell)
        partitions, totals = cube_partitions(self.cells, _AXES)
        self.equations = list(zip(partitions, totals, strict=True))
        self._vectors: dict[tuple[int, str, str], dict[Any, np.ndarray]] = {}

    def vectors(self, table: Columns, key: str, value: str = "n") -> dict[Any, np.ndarray]:
        """One vector over the cells per ``key`` value (dimension, item ...) of ``value``
        (missing and NaN as 0)."""
        memo = (id(table), key, value)
        if memo in self._vectors:
            return self._vectors[memo]
        out: dict[Any, np.ndarray] = {}
        for side, area, name, v in zip(
            table["side"], table["area"], table[key], table[value], strict=True
        ):
            vec = out.setdefault(name, np.zeros(len(self.cells)))
            vec[self.where[(side, area)]] = _number(v)
        out = {name: np.nan_to_num(vec) for name, vec in out.items()}
        self._vectors[memo] = out
        return out


def publish_wave(
    tables: dict[str, Columns],
    k: int,
    points: int | None = None,
    submitted: Mapping[tuple[str, str | None], int] | None = None,
    *,
    shares: bool = False,
) -> None:
    """Write the ``suppressed`` column of every table of one wave, and publish pooled
    figures from shown cells only (in place).

    Parameters
    ----------
    tables : dict of str to Columns
        The wave's ``scores`` and ``items``, and any of ``gaps``, ``drivers``,
        ``relative_weights``, ``reliability``, ``heat_map`` and ``margins``.
    k : int
        The wave's minimum cell size.
    points : int, optional
        The scale's K: with it, the means of hidden cells under k are protected as sums too
        (a range of at least k scale points, :class:`analysis.suppression.LinearAudit`).
    shares : bool, optional
        Also hold the favourable and unfavourable shares × answers to a range of k answers.
        Off: a margin with fewer than k such answers bounds every hidden member's count
        below k wide, so the bar can be met only by hiding margins up to the relationship's
        total (``benchmarks/suppression.py``); the shares are protected through the counts.
    submitted : mapping, optional
        The wave's submitted invitations per ``(side, area key or None)``
        (:func:`~survey_app.services.results.loading.submitted_per_invitation_area`): what
        the response-rate monitor can publish about the same responses (:func:`_monitored`).
    """
    scores, items = tables["scores"], tables["items"]
    cube = _Cube(scores)
    monitored = _monitored(cube, submitted or {})
    hidden = _score_pattern(cube, scores, items, k, points, shares, monitored)
    scores[SUPPRESSED] = [hidden[d][cube.where[(s, a)]] for s, a, d in _keys(scores)]
    items[SUPPRESSED] = [hidden[d][cube.where[(s, a)]] for s, a, d in _keys(items)]
    blank_icc_under_hidden_areas(scores)
    adjust_within_shown(scores, "change_p", "change_p_adjusted")
    if "gaps" in tables:
        publish_gaps(tables["gaps"], scores)
    publish_beside_scores(tables, k, scores, cube)
    if "reliability" in tables:
        _publish_reliability(tables["reliability"], k)


def publish_beside_scores(
    tables: Mapping[str, Columns], k: int, scores: Columns, cube: _Cube | None = None
) -> None:
    """Write the ``suppressed`` column of the tables whose pattern follows the wave's
    published ``scores`` (with its ``suppressed`` column), in place: ``heat_map`` and
    ``margins`` take its reasons, ``drivers`` and ``relative_weights`` are protected block by
    block with it forced on them. Any of them may be absent from ``tables``; only they are
    written, so they may be published after the rest of the wave (:func:`publish_wave`)."""
    cube = cube or _Cube(scores)
    for name in ("heat_map", "margins"):
        if name in tables:
            table = tables[name]
            table[SUPPRESSED] = follow_scores_reasons(name, rows_of(table), rows_of(scores))
    for name in ("drivers", "relative_weights"):
        if name in tables:
            _publish_blocks(tables[name], k, scores, cube)


def _keys(table: Columns):
    return zip(table["side"], table["area"], table["dimension"], strict=True)


def _score_pattern(
    cube: _Cube,
    scores: Columns,
    items: Columns,
    k: int,
    points: int | None,
    shares: bool,
    monitored: tuple[np.ndarray, np.ndarray] | None = None,
):
    """The reason of every cell, per dimension key (index included): None when shown.

    With ``points`` (the scale's K) the means (and with ``shares`` the shares) published
    beside the counts are audited too (:func:`_sums`); without, the counts alone.
    ``monitored``: the lower bounds and the known margins of :func:`_monitored`."""
    lower, known = monitored or (None, np.zeros(len(cube.cells), dtype=bool))
    n_score = cube.vectors(scores, "dimension")
    n_item = cube.vectors(items, "item")
    dim_of = dict(zip(items["item"], items["dimension"], strict=True))
    patterns: dict[str, suppression.Protection] = {}
    for d in n_score:
        if d == INDEX:
            continue
        members = [i for i in n_item if dim_of[i] == d]
        counts = np.array([n_score[d], *(n_item[i] for i in members)])
        sums = _sums(cube, scores, items, d, members, points, shares)
        patterns[d] = suppression.protect(
            counts, cube.equations, k=k, sums=sums, lower=lower, fixed=_known(known, counts, k)
        )
    union = np.zeros(len(cube.cells), dtype=bool)
    for p in patterns.values():
        union |= p.hidden
    hidden_of = {d: p.hidden for d, p in patterns.items()}
    primary_of = {d: p.primary for d, p in patterns.items()}
    if INDEX in n_score:
        sums = _sums(cube, scores, items, INDEX, [], points, shares)
        index = suppression.protect(
            n_score[INDEX],
            cube.equations,
            k=k,
            hidden=union,
            sums=sums,
            lower=lower,
            fixed=_known(known, n_score[INDEX], k),
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


def _monitored(
    cube: _Cube, submitted: Mapping[tuple[str, str | None], int]
) -> tuple[np.ndarray, np.ndarray]:
    """What the response-rate monitor publishes about the cells, as the audit's knowledge:
    each party's submitted invitations naming an area are at least its responses there (a
    lower bound on the cell), and its submitted invitations all together, and both
    parties', are its responses (a known margin: hiding it protects nothing). All of them
    are taken as known, whether the monitor shows them or hides them: its own pattern
    leaves a hidden count bounded by shown ones, so this is the safe side (README,
    Anonymity). Returns the lower bounds and the known cells."""
    lower = np.zeros(len(cube.cells), dtype=np.int64)
    known = np.zeros(len(cube.cells), dtype=bool)
    party = {side: 0 for side, _ in submitted}
    for (side, area), n in submitted.items():
        party[side] += n
        if area is not None and (side, area) in cube.where:
            lower[cube.where[(side, area)]] = n
    for side, n in [*party.items(), ("all", sum(party.values()))]:
        if n and (side, AREA_ALL) in cube.where:
            known[cube.where[(side, AREA_ALL)]] = True
    return lower, known


def _known(known: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    """Known margins that no table shows under k: never chosen as partners."""
    counts = np.atleast_2d(counts)
    return known & ~((counts > 0) & (counts < k)).any(axis=0)


def _sums(
    cube: _Cube,
    scores: Columns,
    items: Columns,
    d: str,
    members: list[str],
    points: int | None,
    shares: bool,
) -> list[suppression.Magnitude]:
    """The sums a dimension's rows publish beside their counts: each mean × n (a score or an
    answer between 1 and K) and, with ``shares``, the favourable and unfavourable shares ×
    answers (0 or 1 each), of the scores row (table 0) and of each item (table 1 + its
    position)."""
    if points is None:
        return []
    out = []
    tables = [(scores, "dimension", d, "n_answers")] + [(items, "item", i, "n") for i in members]
    for t, (table, key, name, answers) in enumerate(tables):
        n = cube.vectors(table, key)[name]
        mean = cube.vectors(table, key, "mean")[name]
        out.append(suppression.Magnitude(t, n, mean * n, 1.0, float(points)))
        n_answers = cube.vectors(table, key, answers)[name]
        for share in ("favourable_pct", "unfavourable_pct") if shares else ():
            pct = cube.vectors(table, key, share)[name]
            out.append(suppression.Magnitude(t, n_answers, pct / 100 * n_answers, 0.0, 1.0))
    return out


def blank_icc_under_hidden_areas(scores: Columns) -> None:
    """ICC(1)/ICC(2) of an all-areas row only when no area row under it (its side and
    dimension) is hidden (in place; read from the ``suppressed`` column). The areas are the
    ICC's groups: with N, ICC(1) and ICC(2) give Σn² over them, which with the shown areas
    pins the hidden areas' sizes (issue 11, item 1). Also the dashboard's role cuts'."""
    rows = rows_of(scores)
    hidden = {
        (r["side"], r["dimension"])
        for r in rows
        if r["area"] != AREA_ALL and r[SUPPRESSED] is not None
    }
    for u, r in enumerate(rows):
        if r["area"] == AREA_ALL and (r["side"], r["dimension"]) in hidden:
            scores["icc1"][u] = scores["icc2"][u] = None


def adjust_within_shown(table: Columns, raw: str, adjusted: str) -> np.ndarray:
    """Benjamini–Hochberg over the shown rows of ``table`` only (hidden rows: None)."""
    p = np.array([np.nan if v is None else float(v) for v in table[raw]])
    shown = np.array([r is None for r in table[SUPPRESSED]], dtype=bool)
    p[~shown] = np.nan
    adj = gaps.benjamini_hochberg(p) if p.size else p
    table[adjusted] = [None if not np.isfinite(v) else float(v) for v in adj]
    return adj


def publish_gaps(table: Columns, scores: Columns) -> None:
    """A gap shows both sides' scores cells: hidden wherever either is; BH over shown gaps
    (in place; ``scores`` with its ``suppressed`` column). Also the dashboard's role cuts'."""
    reasons = follow_scores_reasons("gaps", rows_of(table), rows_of(scores))
    table[SUPPRESSED] = reasons
    adj = adjust_within_shown(table, "welch_p", "p_adjusted")
    adjust_within_shown(table, "gap_change_p", "gap_change_p_adjusted")
    diff = np.array([np.nan if v is None else float(v) for v in table["difference"]])
    g = np.array([np.nan if v is None else float(v) for v in table["g"]])
    material = gaps.material_gap(diff, g, adj) if adj.size else adj
    table["material"] = [
        None if r is not None or not np.isfinite(a) else bool(m)
        for r, a, m in zip(reasons, adj, material, strict=True)
    ]


def _publish_blocks(table: Columns, k: int, scores: Columns, cube: _Cube) -> None:
    """Protect each (outcome, dimension) block of a side × area table, with the scores
    pattern of its dimensions forced on it."""
    hidden_score = {
        (s, a, d) for (s, a, d), r in zip(_keys(scores), scores[SUPPRESSED], strict=True) if r
    }
    groups: dict[tuple[Any, ...], list[int]] = {}
    for u in range(len(table["side"])):
        groups.setdefault((table["outcome"][u], table["dimension"][u]), []).append(u)
    reasons: list[str | None] = [None] * len(table["side"])
    for key, rows in groups.items():
        counts = np.zeros(len(cube.cells))
        forced = np.zeros(len(cube.cells), dtype=bool)
        for u in rows:
            cell = (table["side"][u], table["area"][u])
            c = cube.where[cell]
            counts[c] = _number(table["n"][u])
            forced[c] = any((*cell, d) in hidden_score for d in key)
        res = suppression.protect(counts, cube.equations, k=k, hidden=forced)
        for u in rows:
            reasons[u] = res.reason[cube.where[(table["side"][u], table["area"][u])]] or None
    table[SUPPRESSED] = reasons


def _publish_reliability(table: Columns, k: int) -> None:
    """Reliability per side (client, supplier, both): each dimension and item its own block."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for u in range(len(table["side"])):
        groups.setdefault((table["dimension"][u], table["item"][u]), []).append(u)
    reasons: list[str | None] = [None] * len(table["side"])
    for rows in groups.values():
        partitions, totals = cube_partitions([(table["side"][u],) for u in rows], ("side",))
        counts = [_number(table["n_complete"][u]) for u in rows]
        res = suppression.protect(counts, list(zip(partitions, totals, strict=True)), k=k)
        for u, reason in zip(rows, res.reason.tolist(), strict=True):
            reasons[u] = reason or None
    table[SUPPRESSED] = reasons


def publish_trends(trends: Columns, scores: Columns) -> None:
    """The trends as of a wave show its scores cells' latest n: they hide what its scores
    hide (a cell the wave has no row for shows no latest n, and its series holds published
    cells only)."""
    reason_of = {key: r for key, r in zip(_keys(scores), scores[SUPPRESSED], strict=True)}
    trends[SUPPRESSED] = [reason_of.get(key) for key in _keys(trends)]


def hidden_cells(
    scores: Columns,
    items: Columns,
    k: int,
    *,
    dimension_of: dict[str, str] | None = None,
    points: int | None = None,
    submitted: Mapping[tuple[str, str | None], int] | None = None,
    shares: bool = False,
) -> set[tuple[str, str, str]]:
    """``(side, area, dimension)`` of the scores cells :func:`publish_wave` hides, from the
    counts (and, with ``points``, the means; with ``shares`` too, the shares) of a wave's
    scores and items, without changing them (``dimension_of`` maps item keys to dimension
    keys where ``items`` has no ``dimension`` column; ``submitted`` as for
    :func:`publish_wave`)."""
    cube = _Cube(scores)
    if dimension_of is not None:
        items = {**items, "dimension": [dimension_of[i] for i in items["item"]]}
    monitored = _monitored(cube, submitted or {})
    hidden = _score_pattern(cube, scores, items, k, points, shares, monitored)
    return {(s, a, d) for s, a, d in _keys(scores) if hidden[d][cube.where[(s, a)]]}
