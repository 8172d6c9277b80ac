"""A score over the closed waves: one cell's published means, the EWMA drawn through them,
and the actions agreed on its dimension — the dashboard's trend charts.

The EWMA of a chart is drawn through the *published* wave means (suppressed waves are gaps)
with :func:`analysis.trends.ewma` and the scoring service's parameters
(:data:`~survey_app.services.results.EWMA_LAMBDA`,
:data:`~survey_app.services.results.CHART_BASELINE_WAVES`), so that a suppressed mean cannot
be recovered from the smoothed line. Where nothing is suppressed its last value is the stored
``trends`` EWMA (tested).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from analysis import trends
from survey_app.models import Relationship, Wave
from survey_app.services import actions
from survey_app.services.dashboard.charts import (
    ActionMarker,
    Chart,
    SeriesPoint,
    TargetLine,
    from_row,
    index_chart,
)
from survey_app.services.dashboard.filters import area_name, area_slug
from survey_app.services.dashboard.rows import Reading, dimension_order
from survey_app.services.results import (
    CHART_BASELINE_WAVES,
    EWMA_LAMBDA,
    SIDE_WORDS,
    min_cell_size,
    stored_rows,
    suppress_rows,
)


def score_series(
    relationship: Relationship,
    waves: Sequence[Wave],
    side: str,
    area: str,
    dimension: str,
    *,
    series_start: str | None = None,
) -> list[SeriesPoint]:
    """One cell's published means over the closed waves, with the EWMA through them.

    The EWMA (λ = :data:`EWMA_LAMBDA`, baseline the first :data:`CHART_BASELINE_WAVES`
    observed waves, as the scoring service) runs from ``series_start`` (the first comparable
    wave) over the means as published: a suppressed wave is a gap in it, so the line cannot
    give it away.
    """
    _, rows = stored_rows("scores", relationship, waves)
    block = [r for r in rows if r["dimension"] == dimension]
    shown = {
        r["wave"]: r
        for r in suppress_rows("scores", block, min_cell_size())
        if r["side"] == side and r["area"] == area
    }
    labels = [w.label for w in waves]
    start = labels.index(series_start) if series_start in labels else 0
    means = [shown.get(label, {}).get("mean") for label in labels[start:]]
    y = np.array([np.nan if m is None else m for m in means], dtype=float)
    chart = trends.ewma(y, lam=EWMA_LAMBDA, n_baseline=CHART_BASELINE_WAVES) if y.size else None
    points = []
    for i, label in enumerate(labels):
        j = i - start
        has = chart is not None and not chart.reason and j >= 0 and not np.isnan(chart.z[j])
        points.append(
            from_row(
                SeriesPoint,
                shown.get(label, {}),
                wave=label,
                ewma=float(chart.z[j]) if has else None,
                ewma_lower=float(chart.lower[j]) if has else None,
                ewma_upper=float(chart.upper[j]) if has else None,
            )
        )
    return points


def action_markers(relationship: Relationship, dimension: str) -> tuple[ActionMarker, ...]:
    """Agreed actions on a dimension (or ``index``), to mark on its trend chart.

    From :func:`survey_app.services.actions.actions_for` (issue 6): each action is drawn at
    the wave after which it was agreed (its baseline), labelled with what was agreed, and
    listed under the chart with its owner, due date and status. The markers are part of the
    chart's cache key, so a new or changed action redraws the chart.
    """
    markers = []
    for action in actions.actions_for(relationship, dimension):
        wave = action.marker_wave_label
        if wave is None:
            continue
        status = action.status.replace("_", " ")
        markers.append(
            ActionMarker(
                wave,
                f"{action.what} (owner {action.owner}, due "
                f"{action.due_on.strftime('%-d %B %Y')}, {status})",
            )
        )
    return tuple(markers)


def trend_charts(
    reading: Reading,
    dimension: str,
    markers: Sequence[ActionMarker],
    target: TargetLine | None = None,
) -> list[Chart]:
    """The trend chart of ``dimension`` for each side the filters draw, in their service
    area, with the agreed actions marked and the agreed target drawn (cached per results
    version)."""
    return [
        trend_chart(reading, side, dimension, markers, target) for side in reading.filters.sides
    ]


def trend_chart(
    reading: Reading,
    side: str,
    dimension: str,
    markers: Sequence[ActionMarker],
    target: TargetLine | None = None,
) -> Chart:
    """One side's trend chart of ``dimension`` in the filters' service area."""
    relationship, area = reading.relationship, reading.filters.area_key
    what = dict(dimension_order(reading.instrument)).get(dimension, dimension)
    group = f"{SIDE_WORDS[side]}, {area_name(relationship, area)}"
    key = f"trend-{side}-{area_slug(area)}-{dimension}"
    title, subject = f"{what} over time: {group}", f"{what}, {group}"
    params = {
        "side": side,
        "area": area,
        "dimension": dimension,
        "markers": [dataclasses.astuple(m) for m in markers],
        "target": dataclasses.astuple(target) if target else None,
    }

    def render() -> Chart:
        start = _series_start(relationship, side, area, dimension)
        points = score_series(
            relationship, reading.waves, side, area, dimension, series_start=start
        )
        return index_chart(
            key,
            title=title,
            subject=subject,
            points=points,
            side=side,
            scale=reading.scale,
            markers=markers,
            target=target,
            k=reading.k,
        )

    return reading.cache.chart(reading.wave.id, "trend", params, render)


def _series_start(relationship: Relationship, side: str, area: str, dimension: str) -> str | None:
    """The first comparable wave of the cell's series, as the stored trends give it."""
    _, rows = stored_rows("trends", relationship)
    for r in rows:
        if r["side"] == side and r["area"] == area and r["dimension"] == dimension:
            return r.get("series_start")
    return None
