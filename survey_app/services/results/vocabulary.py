"""The words every part of the service uses for results: sides, areas, tables, versions.

Small on purpose: pages, downloads, the API and the scoring all name cells and tables with
these, so that nothing has to import the scoring machinery for a constant.
"""

from __future__ import annotations

from typing import Any

from analysis.detector import DEFAULT_CONFIG
from survey_app.models import ROLE_LEVELS, SIDES
from survey_app.texts import N_

#: Bump when a formula or a table layout changes: persisted results of another version are
#: stale and ``relhealth recompute`` rebuilds them.
ANALYSIS_VERSION = "9"  # 8: counts with sums (issue 11); 9: relative weights draw per response

#: The sides of a results cube: the two parties' (:data:`SIDES`), then the margin over both.
SIDE_KEYS = (*SIDES, "all")
#: How a side is named in a sentence (marked ``N_``: a page shows ``gettext(SIDE_WORDS[side])``).
SIDE_WORDS = {
    "client": N_("client staff"),
    "supplier": N_("supplier staff"),
    "all": N_("both sides"),
}
AREA_ALL = "_all"
AREA_NONE = "_none"
AREA_ALL_NAME = N_("All service areas")
AREA_NONE_NAME = N_("Not stated")
INDEX = "index"
INDEX_TITLE = N_("Relationship health index")
ROLE_KEYS = tuple(ROLE_LEVELS)
#: The margin over role levels, and "role level not given", in role-level cuts.
ROLE_ALL = "_all"
ROLE_NONE = "_none"

#: The deeper per-wave tables (issue 16): computed for all role levels together.
DEEPER_TABLES = ("relative_weights", "heat_map", "margins")
WAVE_TABLES = ("scores", "items", "reliability", "gaps", "drivers", *DEEPER_TABLES)
RELATIONSHIP_TABLES = ("trends",)
TABLES = (*WAVE_TABLES, *RELATIONSHIP_TABLES)

#: A results table, column-major: ``{column: [values]}``.
Columns = dict[str, list[Any]]


def rows_of(table: Columns) -> list[dict[str, Any]]:
    """A column-major table as its rows (one dict per row)."""
    names = list(table)
    return [dict(zip(names, values, strict=True)) for values in zip(*table.values(), strict=True)]


#: Decimals that a response's health index, and the wave means and changes that the status
#: rules compare, are rounded to. Far below any reported precision, it makes values that are
#: equal in exact arithmetic equal in floating point (an index of 3.5 reached by different
#: sums; a change of exactly 5 points), so ties in rank tests and rule thresholds do not
#: depend on summation order.
TIE_DECIMALS = 12

#: The early-warning charts (DESIGN §4.11): EWMA smoothing, and the waves of a chart's
#: baseline (the first observed waves set centre and sigma) — the calibrated detector's own
#: (analysis.detector), so that the charts draw what the statuses judged by.
EWMA_LAMBDA = DEFAULT_CONFIG.lam
CHART_BASELINE_WAVES = DEFAULT_CONFIG.n_baseline

#: The entry a published row carries with its suppression reason (None when shown).
SUPPRESSED = "suppressed"
