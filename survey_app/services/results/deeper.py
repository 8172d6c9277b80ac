"""The deeper per-wave tables (issue 16): relative-weight drivers, heat-map significance and
margins of error with response rates (columns described in ``codebook.yaml``).

* ``relative_weights`` — Johnson's relative weights of the dimensions on each outcome
  dimension (commitment), per cell of at least 100 complete responses, with seeded bootstrap
  intervals (:func:`analysis.drivers.relative_weights`). The single correlations stay in
  ``drivers``.
* ``heat_map`` — every area × score cell of each side against the rest of that side,
  Welch and Benjamini–Hochberg over the whole wave (:func:`analysis.heatmap.heat_map_differences`).
* ``margins`` — each cell's response rate and confidence interval with the finite-population
  correction where the number invited to it is known (:func:`analysis.margins.finite_population_margins`).

All three are computed from a :class:`ScoredWave` (and, for margins, the invitations
counted by :func:`~survey_app.services.results.loading.invited_per_cell`); suppression is applied when they are published
(:mod:`survey_app.services.results.publication`).
"""

from __future__ import annotations

import numpy as np

from analysis import drivers, heatmap, margins, scoring
from survey_app.services.results.layout import ScoredWave
from survey_app.services.results.tables import plain, score_aggregates
from survey_app.services.results.vocabulary import SIDE_KEYS, Columns

#: Bootstrap resamples and seed of the relative weights' intervals (results are reproducible).
DRIVER_RESAMPLES = 1000
DRIVER_SEED = 16
#: What each heat-map cell is compared with, in analysis' own explanations (not stored: the
#: service words them from the numbers, naming the rest per side).
REST_LABEL = "the rest of the same side"


def _numbers(values: np.ndarray) -> list:
    """A column of numbers, flattened, blank (None) where not finite."""
    return plain(np.ravel(values))


def _text(values: np.ndarray) -> list[str | None]:
    """A column of words, blank (None) where empty."""
    return [v or None for v in np.asarray(values).ravel().tolist()]


def _cell_labels(wave: ScoredWave, cells: list[int]) -> Columns:
    layout = wave.layout
    return {
        "wave": [wave.label] * len(cells),
        "side": [SIDE_KEYS[c // layout.n_area_levels] for c in cells],
        "area": [layout.level_keys[c % layout.n_area_levels] for c in cells],
        "area_name": [layout.level_names[c % layout.n_area_levels] for c in cells],
    }


def _cell_score_rows(wave: ScoredWave, cells: list[int]) -> Columns:
    """The leading columns of a table with a row per cell × score, cell by cell: the cell's
    labels (:func:`_cell_labels`), then the score's key and title."""
    design = wave.design
    n_scores = len(design.score_keys)
    table: Columns = {
        name: [v for v in values for _ in range(n_scores)]
        for name, values in _cell_labels(wave, cells).items()
    }
    table["dimension"] = list(design.score_keys) * len(cells)
    table["dimension_title"] = list(design.score_titles) * len(cells)
    return table


def _published_cells(wave: ScoredWave) -> list[int]:
    """Cells with a table row: every area and margin, and _none if anyone lacks an area."""
    layout = wave.layout
    has_none = bool(np.any(wave.answers.area < 0))
    return [
        c for c in range(layout.n_cells) if has_none or c % layout.n_area_levels != layout.n_areas
    ]


def deeper_tables(wave: ScoredWave, invited: np.ndarray) -> dict[str, Columns]:
    """The ``relative_weights``, ``heat_map`` and ``margins`` tables of one scored wave.

    ``invited`` is one N per cell of the layout, NaN where unknown
    (:func:`~survey_app.services.results.loading.invited_per_cell`).
    """
    agg = score_aggregates(wave)
    return {
        "relative_weights": relative_weights_table(wave),
        "heat_map": heat_map_table(wave, agg),
        "margins": margins_table(wave, agg, invited),
    }


# ------------------------------------------------------------------------ relative weights


def _partitions(wave: ScoredWave) -> np.ndarray:
    """The four partitions of a wave's responses into cells — (side, area), (side, all
    areas), (both sides, area), (both sides, all areas) — one row of cell codes each, shape
    ``(4, n_responses)``; every cell of the layout is in exactly one of them."""
    layout = wave.layout
    side = wave.answers.side.astype(np.int64)
    level = np.where(wave.answers.area < 0, layout.n_areas, wave.answers.area).astype(np.int64)
    every = layout.n_areas + 1
    return np.stack(
        [
            side * layout.n_area_levels + level,
            side * layout.n_area_levels + every,
            2 * layout.n_area_levels + level,
            np.full(side.size, 2 * layout.n_area_levels + every),
        ]
    )


def relative_weights_table(wave: ScoredWave) -> Columns:
    """Relative weights of the non-outcome dimensions on each outcome dimension, per cell.

    Each cell is a group of the one partition of the responses it belongs to, and the four
    partitions are computed in one :func:`analysis.drivers.relative_weights` call per
    outcome (each response's moments formed once, whatever its number of cells); cells
    under :data:`analysis.drivers.RELATIVE_WEIGHTS_MIN_N` complete responses get a reason
    and no numbers.
    """
    design, layout = wave.design, wave.layout
    predictors = np.flatnonzero(~design.outcome)
    cells = _published_cells(wave)
    columns = (
        "wave", "side", "area", "area_name", "outcome", "dimension", "dimension_title",
        "n", "r_squared", "r_squared_ci_low", "r_squared_ci_high", "raw_weight",
        "raw_ci_low", "raw_ci_high", "rescaled_weight", "rescaled_ci_low", "rescaled_ci_high",
        "significant", "reason",
    )  # fmt: skip
    table: Columns = {c: [] for c in columns}
    if predictors.size == 0:
        return table
    partitions = _partitions(wave)
    k = predictors.size
    labels = _cell_labels(wave, cells)
    for o in np.flatnonzero(design.outcome):
        res = drivers.relative_weights(
            wave.scores[:, predictors],
            wave.scores[:, o],
            partitions,
            layout.n_cells,
            n_resamples=DRIVER_RESAMPLES,
            seed=DRIVER_SEED,
        )
        for i, cell in enumerate(cells):
            for name in ("wave", "side", "area", "area_name"):
                table[name] += [labels[name][i]] * k
            table["outcome"] += [design.dimension_keys[o]] * k
            table["dimension"] += [design.dimension_keys[d] for d in predictors]
            table["dimension_title"] += [design.dimension_titles[d] for d in predictors]
            table["n"] += [int(res.n[cell])] * k
            for name in ("r_squared", "r_squared_ci_low", "r_squared_ci_high"):
                table[name] += _numbers(np.repeat(getattr(res, name)[cell], k))
            for column, name in (
                ("raw_weight", "raw"), ("raw_ci_low", "raw_ci_low"),
                ("raw_ci_high", "raw_ci_high"), ("rescaled_weight", "rescaled"),
                ("rescaled_ci_low", "rescaled_ci_low"), ("rescaled_ci_high", "rescaled_ci_high"),
            ):  # fmt: skip
                table[column] += _numbers(getattr(res, name)[cell])
            ok = res.reason[cell] == ""
            table["significant"] += [bool(s) if ok else None for s in res.significant[cell]]
            table["reason"] += [res.reason[cell] or None] * k
    return table


# ------------------------------------------------------------------------ heat map


def heat_map_table(wave: ScoredWave, agg: scoring.GroupAggregates) -> Columns:
    """Each service area × score of each side against the rest of that side.

    ``agg`` are the score aggregates of every cell (the ``scores`` table's). The rest is
    the side's all-areas cell less the area (so it includes answers with no area); one
    Benjamini–Hochberg family over every tested cell of the wave.
    """
    design, layout = wave.design, wave.layout
    areas = [[layout.cell(s, a) for a in range(layout.n_areas)] for s in range(3)]
    totals = [layout.cell(s, layout.n_areas + 1) for s in range(3)]
    columns = (
        "wave", "side", "area", "area_name", "dimension", "dimension_title", "n", "mean",
        "score100", "rest_n", "rest_mean", "difference", "difference_points", "welch_t",
        "welch_df", "welch_p", "p_adjusted", "marking", "explanation", "reason",
    )  # fmt: skip
    if layout.n_areas == 0:
        return {c: [] for c in columns}
    idx = np.asarray(areas)
    res = heatmap.heat_map_differences(
        agg.n[idx], agg.mean[idx], agg.sd[idx], agg.n[totals], agg.mean[totals], agg.sd[totals],
        points=design.points, area_names=layout.area_names,
        dimension_names=design.score_titles, rest_label=REST_LABEL,
    )  # fmt: skip
    cells = idx.ravel().tolist()
    table = _cell_score_rows(wave, cells)
    table["n"] = _numbers(agg.n[idx])
    table["mean"] = _numbers(agg.mean[idx])
    table["score100"] = _numbers(agg.score100[idx])
    for column, name in (
        ("rest_n", "rest_n"), ("rest_mean", "rest_mean"), ("difference", "difference"),
        ("difference_points", "difference100"), ("welch_t", "t"), ("welch_df", "df"),
        ("welch_p", "p"), ("p_adjusted", "p_adjusted"),
    ):  # fmt: skip
        table[column] = _numbers(getattr(res, name))
    for column in ("marking", "reason"):
        table[column] = _text(getattr(res, column))
    # the sentence is worded from these numbers when it is read, in the reader's language
    # (services/results/wording.py): nothing in a language is stored
    table["explanation"] = [None] * len(table["marking"])
    return {c: table[c] for c in columns}


# ------------------------------------------------------------------------ margins


def margins_table(wave: ScoredWave, agg: scoring.GroupAggregates, invited: np.ndarray) -> Columns:
    """Response rate and finite-population interval of every cell's scores.

    ``invited`` is one N per cell of the layout (NaN where unknown), as
    :func:`~survey_app.services.results.loading.invited_per_cell` counts it.
    """
    design = wave.design
    cells = _published_cells(wave)
    res = margins.finite_population_margins(
        agg.n[cells], agg.mean[cells], agg.sd[cells], invited[cells][:, None]
    )
    table = _cell_score_rows(wave, cells)
    table["n"] = _numbers(res.n)
    table["mean"] = _numbers(agg.mean[cells])
    table["invited"] = [None if v is None else int(v) for v in _numbers(res.invited)]
    table["response_rate"] = _numbers(res.response_rate)
    table["low_response"] = [bool(v) for v in res.low_response.ravel()]
    table["fpc"] = _numbers(res.fpc)
    table["corrected"] = [bool(v) for v in res.corrected.ravel()]
    table["se"] = _numbers(res.se)
    table["ci_low"] = _numbers(res.ci_low)
    table["ci_high"] = _numbers(res.ci_high)
    table["margin_points"] = _numbers(
        (res.ci_high - res.ci_low) / 2.0 * 100.0 / (design.points - 1)
    )
    table["note"] = [None] * len(table["n"])  # worded when read (services/results/wording.py)
    table["reason"] = _text(res.reason)
    return table
