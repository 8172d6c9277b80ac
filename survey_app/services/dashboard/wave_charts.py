"""The charts of one wave: the latest closed wave's perception gaps and heat map (cached per
results version), its material gaps in words, and an open wave's response rate (never cached:
its counts change with every response)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from survey_app.models import Relationship, Wave
from survey_app.services.dashboard.charts import (
    Chart,
    GapPoint,
    HeatCell,
    from_row,
    gap_chart,
    heat_map,
    response_rate_chart,
)
from survey_app.services.dashboard.filters import area_name, area_slug
from survey_app.services.dashboard.rows import Reading, dimension_order
from survey_app.services.monitoring import RateRow
from survey_app.services.results import (
    AREA_ALL,
    AREA_NONE,
    PRIMARY,
    SIDE_WORDS,
    SUPPRESSED,
    Layout,
)


@dataclass(frozen=True)
class MaterialGap:
    """A material perception gap of the latest closed wave, in a service area (or all)."""

    dimension: str
    title: str
    area: str
    area_name: str
    mean_client: float
    mean_supplier: float
    difference: float
    p_adjusted: float | None
    g: float | None


def perception_gaps(reading: Reading, gaps: Sequence[Mapping[str, Any]]) -> Chart:
    """Client and supplier means of every dimension in the filters' area (cached)."""
    filters = reading.filters
    params = {"area": filters.area_key, "role": filters.role}
    return reading.cache.chart(reading.wave.id, "gaps", params, lambda: _gap_chart(reading, gaps))


def hot_spots(reading: Reading, scores: Sequence[Mapping[str, Any]]) -> Chart:
    """Dimension × service area of the filters' side (cached)."""
    filters = reading.filters
    params = {"side": filters.heat_side, "role": filters.role}
    return reading.cache.chart(reading.wave.id, "heat", params, lambda: _heat_map(reading, scores))


def material_gaps(gaps: Iterable[Mapping[str, Any]], reading: Reading) -> list[MaterialGap]:
    """The shown material gaps, in service areas first, widest first."""
    shown = dimension_order(reading.instrument)
    order = {key: i for i, (key, _) in enumerate(shown)}
    titles = dict(shown)
    found = [
        from_row(
            MaterialGap,
            r,
            title=titles.get(r["dimension"], r["dimension_title"]),
            area_name=area_name(reading.relationship, r["area"]),
        )
        for r in gaps
        if r.get("material") and r[SUPPRESSED] is None
    ]
    return sorted(
        found, key=lambda m: (m.area == AREA_ALL, -abs(m.difference), order.get(m.dimension, 99))
    )


def rate_chart(relationship: Relationship, wave: Wave, rows: Sequence[RateRow]) -> Chart:
    """An open wave's response rate per party and service area (not cached)."""
    return response_rate_chart(
        f"rates-{wave.id}",
        title=gettext("Response rate so far, wave %(wave)s", wave=wave.label),
        subject=gettext(
            "Wave %(wave)s of %(relationship)s, still open",
            wave=wave.label,
            relationship=relationship.name,
        ),
        rows=rows,
    )


def _gap_chart(reading: Reading, gaps: Sequence[Mapping[str, Any]]) -> Chart:
    filters, wave = reading.filters, reading.wave
    at = {r["dimension"]: r for r in gaps if r["area"] == filters.area_key}
    points = [
        _gap_point(key, title, at.get(key, {}))
        for key, title in dimension_order(reading.instrument)
    ]
    where = area_name(reading.relationship, filters.area_key) + filters.role_words
    return gap_chart(
        f"gaps-{area_slug(filters.area_key)}",
        title=gettext(
            "How each side sees the partnership, %(wave)s: %(where)s", wave=wave.label, where=where
        ),
        subject=f"{wave.label}, {where}",
        gaps=points,
        client_name=reading.names.get("client", gettext("client")),
        supplier_name=reading.names.get("supplier", gettext("supplier")),
        scale=reading.scale,
        k=reading.k,
    )


def _gap_point(key: str, title: str, row: Mapping[str, Any]) -> GapPoint:
    """A dimension of the gap chart from its published row (none: hidden as too small)."""
    return from_row(
        GapPoint, row, dimension=key, title=title, suppressed=row[SUPPRESSED] if row else PRIMARY
    )


def _heat_map(reading: Reading, scores: Sequence[Mapping[str, Any]]) -> Chart:
    side, wave = reading.filters.heat_side, reading.wave
    present = {r["area"] for r in scores if r["side"] == side} | {AREA_ALL}
    layout = Layout.of(reading.relationship)  # the areas in order, "not stated", all areas
    levels = zip(layout.level_keys, layout.level_names, strict=True)
    areas = [
        (key, gettext(name) if key in (AREA_ALL, AREA_NONE) else name)  # N_-marked names
        for key, name in levels
        if key in present
    ]
    cells = {
        (r["dimension"], r["area"]): from_row(HeatCell, r) for r in scores if r["side"] == side
    }
    dims = dimension_order(reading.instrument)[1:] + dimension_order(reading.instrument)[:1]
    whose = gettext(SIDE_WORDS[side]) + reading.filters.role_words
    return heat_map(
        f"heat-{side}",
        title=gettext(
            "Hot spots by service area, %(wave)s: %(whose)s", wave=wave.label, whose=whose
        ),
        subject=f"{wave.label}, {whose}",
        dimensions=dims,
        areas=areas,
        cells=cells,
        scale=reading.scale,
        k=reading.k,
    )
