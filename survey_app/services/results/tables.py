"""Every per-wave table of DESIGN §5 for one scored wave: scores, items, reliability, gaps
and drivers (columns described in :mod:`survey_app.services.codebook`).

Item-level and score statistics come from the wave's counts per cell
(:class:`~survey_app.services.results.layout.CellCounts`: every response counted once, in its
side and area, margins summed), through the count-based entry points of
:mod:`analysis.frequencies` — one call over all cells per statistic, nothing per response.
Reliability takes each dimension's complete-case covariance per side (one vectorised alpha
call for all of them); drivers pool pairwise co-moments of the base cells. Status columns are
left empty here and filled by
:mod:`survey_app.services.results.statuses`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from analysis import agreement, frequencies, gaps, reliability, scoring
from survey_app.services.results.layout import Design, Layout, ScoredWave
from survey_app.services.results.vocabulary import INDEX, SIDE_KEYS, TIE_DECIMALS, Columns

#: A cell's summary of its answers, in the scores and items tables alike (the fields of the
#: :class:`analysis.scoring.GroupAggregates`, in the tables' column order).
SUMMARY_COLUMNS = ("n", "mean", "sd", "ci_low", "ci_high", "score100")

#: The ``scores`` columns a wave's status fills in (statuses.fill_status), each with the
#: :class:`~survey_app.services.results.statuses.StatusSnapshot` field it is taken from; empty
#: (``None``) until then, in this column order.
SCORE_STATUS_COLUMNS = {
    "status": "status",
    "status_summary": "summary",
    "status_evidence": "evidence",
    "status_how": "how",
    "status_p": "p",
    "status_points": "points",
    "comparability_note": "notes",
}
#: The same for the ``gaps`` columns of the gap alert.
GAP_STATUS_COLUMNS = {
    "gap_alert": "gap_alert",
    "gap_alert_summary": "gap_summary",
    "gap_alert_evidence": "gap_evidence",
    "gap_alert_how": "gap_how",
    "comparability_note": "gap_notes",
}


def plain(values: Any) -> list[Any]:
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
        return self._kept(plain(np.asarray(a).ravel()))

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


def _joined(dims: Any, index: Any) -> dict[str, Any]:
    """Fields of a result over the dimensions (…, D) and over the index (…) side by side:
    arrays of shape (…, D + 1), the index last (as :attr:`Design.score_keys`)."""
    out = {}
    for f in fields(dims):
        a, b = getattr(dims, f.name), getattr(index, f.name)
        out[f.name] = np.concatenate([a, np.asarray(b)[..., None]], axis=-1) if np.ndim(a) else a
    return out


def _cell_map(previous: ScoredWave, layout: Layout) -> np.ndarray:
    """For each cell of ``layout``, the previous wave's cell of the same side and area key
    (-1 where the previous layout lacks the area)."""
    if previous.layout == layout:
        return np.arange(layout.n_cells)
    prev = previous.layout
    return np.array(
        [
            prev.cell(s, prev.level_keys.index(key)) if key in prev.level_keys else -1
            for s in range(3)
            for key in layout.level_keys
        ],
        dtype=np.int64,
    )


def _take(counts: np.ndarray, rows: np.ndarray, columns: np.ndarray | None = None) -> np.ndarray:
    """``counts[rows][:, columns]`` with zero counts where a row or column index is -1."""
    out = counts[np.maximum(rows, 0)]
    out[rows < 0] = 0.0
    if columns is not None:
        out = out[:, np.maximum(columns, 0)]
        out[:, columns < 0] = 0.0
    return out


def compute_wave_tables(
    wave: ScoredWave,
    *,
    previous: ScoredWave | None = None,
    previous_gaps: Columns | None = None,
    changed: dict[str, Any] | None = None,
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
    rwg_by_dimension: list[agreement.AgreementResult]


def _item_level(wave: ScoredWave) -> _ItemLevel:
    """Item aggregates, shares and per-dimension agreement of every cell, from the counts."""
    design, counts = wave.design, wave.counts
    values = np.arange(1.0, design.points + 1.0)
    aggregates = frequencies.group_aggregates_from_counts(
        values, counts.answers, points=design.points
    )
    shares = frequencies.item_shares_from_counts(
        values, counts.answers, favourable=design.favourable, unfavourable=design.unfavourable
    )
    by_dimension = [
        frequencies.rwg_j_from_counts(
            counts.answers[:, design.items_of(d)], counts.answered[:, d], points=design.points
        )
        for d in range(design.n_dimensions)
    ]
    return _ItemLevel(aggregates, shares, by_dimension)


def score_aggregates(wave: ScoredWave) -> scoring.GroupAggregates:
    """n, mean, sd, interval and 0–100 score of every cell × score (dimensions, then the
    index), from the counts."""
    design, counts = wave.design, wave.counts
    dims = frequencies.group_aggregates_from_counts(
        counts.dimension_values, counts.dimensions, points=design.points
    )
    index = frequencies.group_aggregates_from_counts(
        counts.index_values, counts.index, points=design.points
    )
    return scoring.GroupAggregates(**_joined(dims, index))


def _score_shares(wave: ScoredWave) -> scoring.ItemShares:
    """Shares of the item answers of each dimension (and of every item, for the index)."""
    design = wave.design
    member = np.column_stack([design.indicator, np.ones(design.item_dimension.size)])
    pooled = np.einsum("cik,id->cdk", wave.counts.answers, member)
    return frequencies.item_shares_from_counts(
        np.arange(1.0, design.points + 1.0),
        pooled,
        favourable=design.favourable,
        unfavourable=design.unfavourable,
    )


def _icc(wave: ScoredWave) -> tuple[np.ndarray, np.ndarray]:
    """ICC(1) and ICC(2) across the real areas, per side, on the all-areas rows."""
    layout, counts, n_scores = wave.layout, wave.counts, len(wave.design.score_keys)
    icc1 = np.full((layout.n_cells, n_scores), np.nan)
    icc2 = np.full((layout.n_cells, n_scores), np.nan)
    if layout.n_areas == 0:
        return icc1, icc2
    # (area, side) cells; the areas are the ANOVA's groups.
    area_cells = np.array([[layout.cell(s, a) for s in range(3)] for a in range(layout.n_areas)])
    dims = frequencies.icc_oneway_from_counts(
        counts.dimension_values, counts.dimensions[area_cells]
    )
    index = frequencies.icc_oneway_from_counts(counts.index_values, counts.index[area_cells])
    both = _joined(dims, index)
    rows = [layout.cell(s, layout.n_areas + 1) for s in range(3)]
    icc1[rows], icc2[rows] = both["icc1"], both["icc2"]
    return icc1, icc2


def _scores_table(
    wave: ScoredWave,
    items: _ItemLevel,
    previous: ScoredWave | None,
    changed: dict[str, Any],
) -> Columns:
    design, layout = wave.design, wave.layout
    n_cells, n_scores = layout.n_cells, design.n_dimensions + 1
    agg = score_aggregates(wave)
    shares = _score_shares(wave)

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
    icc1, icc2 = _icc(wave)

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
        **{column: flat(getattr(agg, column)) for column in SUMMARY_COLUMNS},
        "band": flat(np.where(bands == "", None, bands)),
        "n_answers": flat(shares.n_answers),
        "favourable_pct": flat(shares.favourable_pct),
        "neutral_pct": flat(shares.neutral_pct),
        "unfavourable_pct": flat(shares.unfavourable_pct),
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
        **{column: [None] * int(keep.sum()) for column in SCORE_STATUS_COLUMNS},
        "reason": flat(np.where(agg.reason == "", None, agg.reason)),
    }
    return table


def _change(
    wave: ScoredWave, previous: ScoredWave | None, changed: dict[str, Any]
) -> gaps.ChangeResult:
    """Change of every cell and score since the previous wave, BH-adjusted within the wave.

    The previous wave's counts are taken cell by cell (areas matched by key) and score by
    score (dimensions matched by key; none where the instrument changed it).
    """
    design, layout = wave.design, wave.layout
    shape = (layout.n_cells, design.n_dimensions + 1)
    if previous is None:
        nan = np.full(shape, np.nan)
        return gaps.ChangeResult(
            *([np.zeros(shape, np.int64)] * 2), *([nan] * 10), np.full(shape, "", object)
        )
    prev_keys = previous.design.dimension_keys
    columns = np.array(
        [
            prev_keys.index(k) if k in prev_keys and k not in changed else -1
            for k in design.dimension_keys
        ]
    )
    rows = _cell_map(previous, layout)
    prev, curr = previous.counts, wave.counts
    dims = frequencies.change_between_waves_from_counts(
        prev.dimension_values,
        _take(prev.dimensions, rows, columns),
        curr.dimension_values,
        curr.dimensions,
    )
    prev_index = (
        _take(prev.index, rows) if INDEX not in changed else np.zeros_like(prev.index[rows])
    )
    index = frequencies.change_between_waves_from_counts(
        prev.index_values, prev_index, curr.index_values, curr.index
    )
    both = _joined(dims, index)
    both["p_adjusted"] = gaps.benjamini_hochberg(both["welch_p"])
    return gaps.ChangeResult(**both)


def _items_table(wave: ScoredWave, item_level: _ItemLevel) -> Columns:
    layout = wave.layout
    n_cells = layout.n_cells
    items = wave.design.instrument.items
    n_items = len(items)
    agg, shares, n_dk = item_level.aggregates, item_level.shares, wave.counts.dont_know

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
        **{column: flat(getattr(agg, column)) for column in SUMMARY_COLUMNS},
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

    fits = _alpha_fits(wave)
    for s, side in enumerate(SIDE_KEYS):
        for d in range(design.n_dimensions):
            cols = design.items_of(d)
            res, i = fits[d]
            common = {
                "wave": wave.label,
                "side": side,
                "dimension": design.dimension_keys[d],
                "dimension_title": design.dimension_titles[d],
                "n_items": int(res.k),
                "n_complete": int(res.n[s, i]),
            }
            add(
                **common,
                level="dimension",
                alpha=_nan_none(res.alpha[s, i]),
                ci_low=_nan_none(res.ci_low[s, i]),
                ci_high=_nan_none(res.ci_high[s, i]),
                flag_low=bool(res.flag_low[s, i]),
                reason=res.reason[s, i] or None,
            )
            for j, c in enumerate(cols):
                add(
                    **common,
                    item=items[int(c)].key,
                    level="item",
                    item_rest_r=_nan_none(res.item_rest_r[s, i, j]),
                    alpha_if_deleted=_nan_none(res.alpha_if_deleted[s, i, j]),
                )
    return table


def _alpha_fits(wave: ScoredWave) -> list[tuple[reliability.AlphaResult, int]]:
    """Cronbach's alpha of each dimension for client, supplier and both sides (complete cases).

    Returns, per dimension, a result over (side, set) and the dimension's set there;
    dimensions with the same number of items share one vectorised call.
    """
    design = wave.design
    side = wave.answers.side.astype(np.int64)
    by_size: dict[int, list[int]] = {}
    for d in range(design.n_dimensions):
        by_size.setdefault(design.items_of(d).size, []).append(d)
    fits: list[tuple[reliability.AlphaResult, int]] = [None] * design.n_dimensions  # type: ignore[list-item]
    for size, dims in by_size.items():
        items = np.concatenate([design.items_of(d) for d in dims])
        answers = wave.keyed[:, items].reshape(-1, len(dims), size)
        n, cov = reliability.complete_case_covariance(answers, side, 2, margin=True)
        res = reliability.alpha_from_covariance(cov, n)  # arrays over (side, set)
        for i, d in enumerate(dims):
            fits[d] = (res, i)
    return fits


def _nan_none(v: Any) -> float | None:
    f = float(v)
    return f if math.isfinite(f) else None


def _gaps_table(
    wave: ScoredWave,
    previous: ScoredWave | None,
    previous_gaps: Columns | None,
    changed: dict[str, str],
) -> Columns:
    design, layout = wave.design, wave.layout
    n_scores, n_levels = design.n_dimensions + 1, layout.n_area_levels
    res = _perception_gaps(wave)
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
        **{column: [None] * count for column in GAP_STATUS_COLUMNS},
        "reason": flat(np.where(res.reason == "", None, res.reason)),
    }


def _perception_gaps(wave: ScoredWave) -> gaps.GapResult:
    """Client vs supplier in every area level and score, from the counts; arrays of length
    n_levels × (D + 1), level by level, BH-adjusted over all of them (within the wave)."""
    layout, counts = wave.layout, wave.counts
    client = [layout.cell(0, level) for level in range(layout.n_area_levels)]
    supplier = [layout.cell(1, level) for level in range(layout.n_area_levels)]
    dims = frequencies.perception_gaps_from_counts(
        counts.dimension_values, counts.dimensions[client], counts.dimensions[supplier]
    )
    index = frequencies.perception_gaps_from_counts(
        counts.index_values, counts.index[client], counts.index[supplier]
    )
    both = {name: np.ravel(a) for name, a in _joined(dims, index).items()}
    both["p_adjusted"] = gaps.benjamini_hochberg(both["welch_p"])
    return gaps.GapResult(**both)


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
    """Correlation of each dimension with each outcome in every cell (DESIGN §4.13).

    Pairwise co-moments are gathered once per base cell and pooled exactly into every cell
    and margin (:func:`analysis.frequencies.co_moments`), so each outcome costs one pass
    over the responses whatever the number of cells.
    """
    design, layout = wave.design, wave.layout
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
    fits = []
    for outcome_key, outcome in outcomes:
        dims = [d for d in range(n_dim) if design.dimension_keys[d] != outcome_key]
        moments = frequencies.co_moments(predictors[:, dims], outcome, wave.base, layout.n_base)
        res = frequencies.driver_correlations_from_moments(moments.combine(layout.margins))
        fits.append((outcome_key, dims, res))

    keep_level = _present_levels(wave)
    sides, areas, names = _cell_labels(wave)
    columns = (
        "wave", "side", "area", "area_name", "outcome", "dimension", "dimension_title",
        "n", "r", "ci_low", "ci_high", "p", "reason",
    )  # fmt: skip
    table: Columns = {c: [] for c in columns}
    for cell in range(layout.n_cells):
        if not keep_level[cell % layout.n_area_levels]:
            continue
        for outcome_key, dims, res in fits:
            k = len(dims)
            table["wave"] += [wave.label] * k
            table["side"] += [sides[cell]] * k
            table["area"] += [areas[cell]] * k
            table["area_name"] += [names[cell]] * k
            table["outcome"] += [outcome_key] * k
            table["dimension"] += [design.dimension_keys[d] for d in dims]
            table["dimension_title"] += [design.dimension_titles[d] for d in dims]
            table["n"] += plain(res.n[cell])
            table["r"] += plain(res.r[cell])
            table["ci_low"] += plain(res.ci_low[cell])
            table["ci_high"] += plain(res.ci_high[cell])
            table["p"] += plain(res.p[cell])
            table["reason"] += [r or None for r in res.reason[cell].tolist()]
    return table
