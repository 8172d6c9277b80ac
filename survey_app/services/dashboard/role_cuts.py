"""Role-level cuts of a closed wave: its tables for each role level, shown where the raw
download already shows them.

The stored tables cut a wave by side and service area only. For a role level the wave's
answers are split by role (every level, and "not stated"), each part is scored with
:func:`~survey_app.services.results.score_wave` and
:func:`~survey_app.services.results.compute_wave_tables`, and published:

* **A cell is shown where the download gives its figures, audited with it.** The raw
  ``responses`` download is audited together with the side × area results and the
  response-rate monitor, once, when the wave's results are stored
  (:mod:`~survey_app.services.results.release`). A role-cut cell (side or all sides, area or
  all areas, a role level or "not stated") is shown when every response in it is released
  with the side, area and role level the cell names
  (:func:`~survey_app.services.results.release.cells_given_whole`): every figure of the
  cell can then be worked out from the download, and showing it adds only that no row
  released as "Other" is in it. Where no such row could be, the cell is shown; where one
  could, the cells' counts are audited with the release
  (:func:`~survey_app.services.results.store.role_cells`): shown without that audit, they
  placed small groups (``tests/disclosure/test_one_audit.py``). Any other cell is hidden:
  "fewer than k" when it holds 1 to k − 1 responses, else as a partner. The role-level
  filter never shows what the download hides. The all-roles cells are the stored results,
  as published.
* **Pooled figures follow the shown cells.** ICC(1)/ICC(2) of an all-areas row use which
  area each response is in: shown only when every area cell under the row is shown
  (:func:`~survey_app.services.results.blank_icc_under_hidden_areas`, the stored results'
  rule; then the download keeps each response's area). A gap shows both sides' cells:
  hidden wherever either is, and its Benjamini–Hochberg adjusted p (and so its "material")
  is computed within the role cut's shown gaps
  (:func:`~survey_app.services.results.publish_gaps`, as for the stored results).

Only published rows are cached, per closed wave and release
(:class:`~survey_app.services.dashboard.charts.ChartCache`, keyed by
:func:`~survey_app.services.results.store.release_version`: a rebuilt release is a new
key). Role cuts carry no status, trend or change: those need every wave and stay with the
all-roles results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from survey_app.models import Wave
from survey_app.services.dashboard.charts import ChartCache
from survey_app.services.results import (
    PRIMARY,
    ROLE_KEYS,
    ROLE_NONE,
    SECONDARY,
    SUPPRESSED,
    Layout,
    blank,
    blank_icc_under_hidden_areas,
    compute_wave_tables,
    load_answers,
    min_cell_size,
    publish_gaps,
    release_version,
    role_cells,
    rows_of,
    score_wave,
)

Rows = list[dict[str, Any]]
#: A role cut's cached tables.
TABLES = ("scores", "items", "gaps")

#: What a hidden row of each table keeps.
_LABELS = {
    "scores": ("wave", "side", "area", "area_name", "dimension", "dimension_title"),
    "items": (
        "wave",
        "side",
        "area",
        "area_name",
        "item",
        "item_no",
        "dimension",
        "reverse_keyed",
    ),
    "gaps": ("wave", "area", "area_name", "dimension", "dimension_title"),
}


def role_rows(
    table: str, wave: Wave, cache: ChartCache, dimension: str | None = None
) -> dict[str, Rows]:
    """Every role level's published rows of ``table`` (``scores``, ``items`` or ``gaps``),
    cached per wave and release; ``dimension`` narrows them to one dimension's rows."""
    key = {"release": release_version(wave)}
    built: dict[str, dict[str, Rows]] = {}

    def build(name: str) -> dict[str, Rows]:
        if not built:
            built.update(_published_role_cuts(wave))
        return built[name]

    rows = cache.payload(wave.id, f"role-{table}", key, lambda: build(table))
    for other in built:  # computed together: keep the others too
        if other != table:
            cache.payload(wave.id, f"role-{other}", key, lambda o=other: built[o])
    if dimension is None:
        return rows
    return {role: [r for r in cut if r["dimension"] == dimension] for role, cut in rows.items()}


def _published_role_cuts(wave: Wave) -> dict[str, dict[str, Rows]]:
    """Scores, items and gaps of the wave for each role level (and "not stated"), published:
    ``{table: {role: rows}}``."""
    k = min_cell_size(wave.min_cell_size)
    cells = role_cells(wave)
    answers = load_answers([wave])[0]
    layout = Layout.of(wave.relationship)
    out: dict[str, dict[str, Rows]] = {name: {} for name in TABLES}
    for code, role in [*enumerate(ROLE_KEYS), (-1, ROLE_NONE)]:
        mask = answers.role == code
        if not mask.any():
            for name in TABLES:
                out[name][role] = []
            continue
        tables = compute_wave_tables(score_wave(answers.subset(mask), layout, wave.label)).tables

        def reason(row: Mapping[str, Any], role: str = role) -> str | None:
            n, whole = cells.get((row["side"], row["area"], role), (0, False))
            if whole and (n == 0 or n >= k):
                return None
            return PRIMARY if 0 < n < k else SECONDARY

        scores = tables["scores"]
        scores[SUPPRESSED] = [reason(r) for r in rows_of(scores)]
        blank_icc_under_hidden_areas(scores)
        publish_gaps(tables["gaps"], scores)
        items = tables["items"]
        items[SUPPRESSED] = [reason(r) for r in rows_of(items)]
        for name in TABLES:
            out[name][role] = [
                blank(r, r[SUPPRESSED], _LABELS[name]) for r in rows_of(tables[name])
            ]
    return out
