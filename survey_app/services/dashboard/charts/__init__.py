"""Server-rendered SVG charts of the dashboard, each with its table alternative, and their cache.

The package's rooms:

``model``        what a chart is (:class:`Chart`, :class:`DataTable`) and what each is drawn from
``format``       how numbers are written, and what a hidden cell says instead
``style``        the GOV.UK palette, how each side is drawn, shared axes pieces
``svg``          matplotlib → an inline SVG under the Content Security Policy; a chart as a
                 file of its own (SVG, or drawn again as PNG)
``index_chart``  a score over the closed waves, with the EWMA and agreed actions
``gap_chart``    client and supplier means per dimension, material gaps marked
``heat_map``     dimension × service area
``rates_chart``  an open wave's response rate
``cache``        rendered charts kept per results version

Every chart comes with a :class:`DataTable` of the numbers it draws, rendered beside it as a
GOV.UK table for screen readers and anyone who prefers numbers. Other packages import from
this face, not from the rooms.
"""

from survey_app.services.dashboard.charts.cache import (
    CHARTS_VERSION,
    ChartCache,
    invalidate,
    results_version,
)
from survey_app.services.dashboard.charts.format import band_words, suppressed_text
from survey_app.services.dashboard.charts.gap_chart import gap_chart
from survey_app.services.dashboard.charts.heat_map import heat_colour, heat_map
from survey_app.services.dashboard.charts.index_chart import index_chart
from survey_app.services.dashboard.charts.model import (
    ActionMarker,
    Chart,
    DataTable,
    GapPoint,
    HeatCell,
    Scale,
    SeriesPoint,
    TargetLine,
    from_row,
)
from survey_app.services.dashboard.charts.rates_chart import response_rate_chart
from survey_app.services.dashboard.charts.svg import (
    PngDrawing,
    drawn_as_png,
    figure_png,
    figure_svg,
    inline_svg,
    standalone_svg,
)

__all__ = [
    "CHARTS_VERSION",
    "ActionMarker",
    "Chart",
    "ChartCache",
    "DataTable",
    "GapPoint",
    "HeatCell",
    "PngDrawing",
    "Scale",
    "SeriesPoint",
    "TargetLine",
    "band_words",
    "drawn_as_png",
    "figure_png",
    "figure_svg",
    "from_row",
    "gap_chart",
    "heat_colour",
    "heat_map",
    "index_chart",
    "inline_svg",
    "invalidate",
    "response_rate_chart",
    "results_version",
    "standalone_svg",
    "suppressed_text",
]
