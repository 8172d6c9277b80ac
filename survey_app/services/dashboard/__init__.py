"""The manager dashboard, and the API's reading of results: view models from stored results.

The package's rooms, from the bottom up:

``charts``       server-rendered SVG charts with their table alternatives, and their cache
``filters``      what a manager narrowed the view to: side, service area, role level
``role_cuts``    a closed wave's tables per role level, shown where the raw download shows them
``rows``         a relationship's waves and a closed wave's published rows; a page's reading
``series``       a score over the closed waves, its EWMA and agreed actions: the trend charts
``wave_charts``  a wave's perception-gap chart, heat map and material gaps; an open wave's rate
``pages``        a relationship's page and a dimension's drill-down
``portfolio``    every relationship a person may see side by side, and the norms across them
``chart_files``  a page's chart as a file to take away (SVG, or PNG drawn again)
``comments``     what people wrote, per question, from groups large enough to publish

Alerts are :mod:`survey_app.services.alerts`' and response rates
:mod:`survey_app.services.monitoring`'s (named here too, as the dashboard shows them). Other
packages import from this face, not from the rooms.
"""

from survey_app.services.alerts import ERROR_RATES, Alert, relationship_alerts
from survey_app.services.dashboard import charts
from survey_app.services.dashboard.chart_files import CHART_FORMATS, ChartFile, chart_file
from survey_app.services.dashboard.comments import CommentsPage, comments_page
from survey_app.services.dashboard.filters import Filters, area_choices, parse_filters
from survey_app.services.dashboard.pages import (
    AlertGroup,
    DimensionPage,
    Headline,
    RelationshipPage,
    dimension_page,
    relationship_page,
)
from survey_app.services.dashboard.portfolio import (
    MIN_CONTRIBUTORS,
    Norm,
    Portfolio,
    PortfolioRow,
    installation_norms,
    portfolio,
)
from survey_app.services.dashboard.rows import (
    dimension_order,
    filter_rows,
    instrument_of,
    latest_closed_wave,
    open_waves,
    trend_rows,
    wave_rows,
    waves_as_of,
)
from survey_app.services.dashboard.series import action_markers, score_series

__all__ = [
    "MIN_CONTRIBUTORS",
    "CHART_FORMATS",
    "Alert",
    "AlertGroup",
    "ChartFile",
    "CommentsPage",
    "DimensionPage",
    "Filters",
    "Headline",
    "Norm",
    "Portfolio",
    "PortfolioRow",
    "RelationshipPage",
    "action_markers",
    "area_choices",
    "chart_file",
    "charts",
    "comments_page",
    "dimension_order",
    "dimension_page",
    "filter_rows",
    "instrument_of",
    "latest_closed_wave",
    "open_waves",
    "installation_norms",
    "parse_filters",
    "portfolio",
    "relationship_alerts",
    "ERROR_RATES",
    "relationship_page",
    "score_series",
    "trend_rows",
    "wave_rows",
    "waves_as_of",
]
