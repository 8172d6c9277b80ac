"""A score over the closed waves: one cell's published means, the EWMA drawn through them,
and the actions agreed on its dimension — the dashboard's trend charts.

The EWMA of a chart and its control limits are those the statuses judged by: at each wave,
the stored ``trends`` row as of that wave (the calibrated detector's EWMA and limits, DESIGN
§4.12), as published — a wave whose cell is hidden has no point, so the line cannot give a
suppressed mean away.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from flask_babel import gettext

from survey_app.dates import gov_uk_date
from survey_app.models import ACTION_STATUSES, Relationship, Wave
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
    SIDE_WORDS,
    SUPPRESSED,
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
    """One cell's published means over the closed waves, with the EWMA and its limits as the
    statuses saw them at each wave (from ``series_start``, the first comparable wave)."""
    labels = [w.label for w in waves]
    start = labels.index(series_start) if series_start in labels else 0
    block = [
        r for r in stored_rows("scores", relationship, waves)[1] if r["dimension"] == dimension
    ]
    shown = {
        r["wave"]: r
        for r in suppress_rows("scores", block, min_cell_size())
        if r["side"] == side and r["area"] == area
    }
    # The trends row of a wave is drawn only where that wave's mean is shown (it is worked out
    # from the shown means alone), so the scores' suppression decides for both.
    charted = {
        r["latest_wave"]: r
        for r in stored_rows("trends", relationship, waves)[1]
        if (r["side"], r["area"], r["dimension"]) == (side, area, dimension)
    }
    points = []
    for i, label in enumerate(labels):
        row = shown.get(label, {})
        chart = charted.get(label, {}) if i >= start and row.get(SUPPRESSED) is None else {}
        points.append(
            from_row(
                SeriesPoint,
                row,
                wave=label,
                ewma=chart.get("ewma"),
                ewma_lower=chart.get("ewma_lower"),
                ewma_upper=chart.get("ewma_upper"),
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
        status = gettext(ACTION_STATUSES.get(action.status, action.status)).lower()
        markers.append(
            ActionMarker(
                wave,
                gettext(
                    "%(what)s (owner %(owner)s, due %(day)s, %(status)s)",
                    what=action.what,
                    owner=action.owner,
                    day=gov_uk_date(action.due_on),
                    status=status,
                ),
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
    group = f"{gettext(SIDE_WORDS[side])}, {area_name(relationship, area)}"
    key = f"trend-{side}-{area_slug(area)}-{dimension}"
    title = gettext("%(what)s over time: %(group)s", what=what, group=group)
    subject = f"{what}, {group}"
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
