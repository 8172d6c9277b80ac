"""A chart of a dashboard page as a file to take away: SVG, or PNG drawn again from the figure.

A chart is named as the page names it (its ``key``: ``trend-client-all-index``, ``gaps-all``,
``heat-all``, ``rates-<wave id>``, a dimension's ``trend-supplier-contact-centre-trust``) under
the same filters, so the file is exactly the chart beside its link: the same published rows,
the same suppression. The page is read as the dashboard reads it (its other charts come from
the cache); only the chart asked for is drawn again when a PNG is wanted.
"""

from __future__ import annotations

from dataclasses import dataclass

from survey_app.models import Relationship, Wave
from survey_app.services.dashboard.charts import Chart, drawn_as_png, standalone_svg
from survey_app.services.dashboard.filters import Filters
from survey_app.services.dashboard.pages import dimension_page, relationship_page
from survey_app.services.dashboard.rows import instrument_of

#: The formats a chart downloads as, with their media types.
CHART_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


@dataclass(frozen=True)
class ChartFile:
    """A chart as a file: its name, media type and bytes."""

    filename: str
    media_type: str
    data: bytes


def chart_file(
    relationship: Relationship,
    key: str,
    filters: Filters,
    fmt: str,
    *,
    as_of: Wave | None = None,
) -> ChartFile:
    """The chart ``key`` of the relationship's dashboard (under ``filters``, as of the wave
    ``as_of`` or the latest closed one) as ``fmt``.

    Raises LookupError when the page shows no chart of that key, or for another format.
    """
    if fmt not in CHART_FORMATS:
        raise LookupError(f"charts download as {' or '.join(CHART_FORMATS)}, not {fmt!r}")
    if fmt == "svg":
        chart = _find(relationship, key, filters, as_of)
        data = standalone_svg(chart).encode("utf-8")
    else:
        with drawn_as_png(key) as png:
            chart = _find(relationship, key, filters, as_of)
        if png.data is None:
            raise LookupError(f"the chart {key!r} was not drawn")  # pragma: no cover
        data = png.data
    return ChartFile(f"{_file_stem(relationship, chart)}.{fmt}", CHART_FORMATS[fmt], data)


def _find(relationship: Relationship, key: str, filters: Filters, as_of: Wave | None) -> Chart:
    """The chart ``key`` of the relationship's page, else of the dimension page it names."""
    page = relationship_page(relationship, filters, as_of=as_of)
    shown = [*page.index_charts, page.gap_chart, page.heat_map]
    shown += [rates.chart for rates in page.response_rates]
    found = next((c for c in shown if c is not None and c.key == key), None)
    if found is not None:
        return found
    wave = page.wave
    if wave is not None and key.startswith("trend-"):
        for dimension in instrument_of(wave).dimensions:
            if key.endswith(f"-{dimension.key}"):
                charts = dimension_page(relationship, dimension.key, filters, as_of=as_of).charts
                found = next((c for c in charts if c.key == key), None)
                if found is not None:
                    return found
    raise LookupError(f"the dashboard shows no chart {key!r}")


def _file_stem(relationship: Relationship, chart: Chart) -> str:
    """``relationship-<id>-<chart key>``: ASCII, whatever the names hold."""
    return f"relationship-{relationship.id}-{chart.key}"
