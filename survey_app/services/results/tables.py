"""Every per-wave table of DESIGN §5 for one scored wave: scores, items, reliability, gaps
and drivers (columns described in :mod:`survey_app.services.codebook`).

Each table is computed by one call of an analysis function over all cells at once (the
answers stacked per cell by :class:`~survey_app.services.results.layout.Cube`); drivers and
reliability, whose analysis functions take one group at a time, loop over cells (21) or
dimensions (≈10) — never over respondents. Status columns are left empty here and filled
by :mod:`survey_app.services.results.statuses`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from analysis import agreement, drivers, gaps, reliability, scoring
from survey_app.services.results.layout import Design, Layout, ScoredWave
from survey_app.services.results.vocabulary import INDEX, SIDE_KEYS, TIE_DECIMALS, Columns


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
        return [scalar(v) for v in arr.tolist()]
    return arr.tolist()


def scalar(v: Any) -> Any:
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
            table[c].append(scalar(values.get(c)))

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
