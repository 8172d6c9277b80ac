"""Role-level cuts of a closed wave: its tables for each role level, suppressed as a cube.

The stored tables cut a wave by side and service area only. For a role level the wave's
answers are split by role (every level, and "not stated"), each part is scored with
:func:`~survey_app.services.results.score_wave` and
:func:`~survey_app.services.results.compute_wave_tables`, and the result is cached per closed
wave (:class:`~survey_app.services.dashboard.charts.ChartCache`). A role cut is then
suppressed as a three-way cube — side × service area × role level, with the stored all-roles
cells as the role margins — so that no cell below k is shown and none can be worked out by
subtracting shown cells (another role, another side, another area) from a margin the
dashboard shows. Role cuts carry no status, trend or change: those need every wave and stay
with the all-roles results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from analysis import suppression
from survey_app.models import Wave
from survey_app.services.dashboard.charts import ChartCache
from survey_app.services.results import (
    AREA_ALL,
    PRIMARY,
    ROLE_ALL,
    ROLE_KEYS,
    ROLE_NONE,
    SECONDARY,
    SIDES,
    SUPPRESSED,
    Layout,
    adjust_within_shown,
    blank,
    compute_wave_tables,
    cube_partitions,
    load_answers,
    min_cell_size,
    score_wave,
    stored_pattern_rows,
    stored_rows,
    suppress_rows,
)

Rows = list[dict[str, Any]]

_SCORE_LABELS = ("wave", "side", "area", "area_name", "dimension", "dimension_title")
_ITEM_LABELS = (
    "wave",
    "side",
    "area",
    "area_name",
    "item",
    "item_no",
    "dimension",
    "reverse_keyed",
)
_GAP_LABELS = ("wave", "area", "area_name", "dimension", "dimension_title")
#: How a role cut of each table is cut into blocks, counted, and what a hidden row keeps.
_CUBE: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "scores": (("dimension",), "n", _SCORE_LABELS),
    "items": (("item",), "n", _ITEM_LABELS),
}


def role_rows(table: str, wave: Wave, cache: ChartCache, dimension: str | None) -> dict[str, Rows]:
    """Every role level's suppressed rows of ``table`` (cached per wave and k).

    The cache holds only what is published: the role cuts are computed in memory and
    suppressed before anything is written (issue 11: a cache file must not hold the n = 1
    cells the pages hide). ``items`` narrowed to one dimension when ``dimension`` is given.
    """
    k = wave.min_cell_size or min_cell_size()
    published = cache.payload(
        wave.id, "role-published", {"k": k}, lambda: _published_role_cuts(wave, k)
    )
    rows = published[table]
    if table == "items" and dimension is not None:
        return {role: [r for r in got if r["dimension"] == dimension] for role, got in rows.items()}
    return rows


def _published_role_cuts(wave: Wave, k: int) -> dict[str, dict[str, Rows]]:
    """Scores, items and gaps of every role cut as published: suppressed as a cube with the
    stored all-roles cells, pooled figures (ICC, adjusted p) only from shown cells."""
    cuts = _role_cuts(wave)
    scores = _suppressed_role_cube("scores", wave, cuts, k)
    items = _suppressed_role_cube("items", wave, cuts, k)
    gaps = {
        role: _suppress_role_gaps(tables["gaps"], scores[role]) for role, tables in cuts.items()
    }
    for rows in scores.values():
        for row in rows:  # an ICC pools areas, some of which a role cut may hide
            row["icc1"] = row["icc2"] = None
    for rows in gaps.values():
        adjust_within_shown(rows, "welch_p", "p_adjusted")
    return {"scores": scores, "items": items, "gaps": gaps}


def _role_cuts(wave: Wave) -> dict[str, dict[str, Rows]]:
    """Scores, items and gaps of the wave for each role level (and "not stated"), unsuppressed."""
    answers = load_answers([wave])[0]
    layout = Layout.of(wave.relationship)
    out: dict[str, dict[str, Rows]] = {}
    codes = [(i, key) for i, key in enumerate(ROLE_KEYS)] + [(-1, ROLE_NONE)]
    for code, key in codes:
        mask = answers.role == code
        if not mask.any():
            out[key] = {"scores": [], "items": [], "gaps": []}
            continue
        tables = compute_wave_tables(score_wave(answers.subset(mask), layout, wave.label)).tables
        out[key] = {name: _records(tables[name]) for name in ("scores", "items", "gaps")}
    return out


def _records(columns: Mapping[str, Sequence[Any]]) -> Rows:
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _suppressed_role_cube(
    table: str,
    wave: Wave,
    cuts: Mapping[str, Mapping[str, Rows]],
    k: int,
) -> dict[str, Rows]:
    """Every role cut of ``table`` suppressed together with the all-roles margins.

    The all-roles cells are as the stored results publish them (fixed: hidden ones are
    unknowns, shown ones constants). Role cuts are computed on request, so the pattern is
    the fast conservative rule :func:`analysis.suppression.protect_by_margins` (partners
    chosen from the margins, the result audited by linear programs), not the slower
    smallest-partner search the stored results use; if the audit finds a small cell still
    narrowed below k, every role cell of that block is hidden. Blocks with equal counts
    (items of a dimension everyone answered) share one pattern.
    """
    block_columns, count, labels = _CUBE[table]
    _, stored = stored_rows(table, wave.relationship, [wave])
    if SUPPRESSED not in (stored[0] if stored else {SUPPRESSED: None}):
        stored = [
            {**r, SUPPRESSED: x[SUPPRESSED]}
            for r, x in zip(stored, suppress_rows(table, stored, k), strict=True)
        ]
    published = {
        (r["side"], r["area"], *(r[c] for c in block_columns)): r[SUPPRESSED]
        for r in stored_pattern_rows(table, stored)
    }
    entries: list[tuple[str, dict[str, Any]]] = [(ROLE_ALL, r) for r in stored]
    for role, tables in cuts.items():
        entries.extend((role, r) for r in tables[table])
    blocks: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, (_, row) in enumerate(entries):
        blocks[tuple(row[c] for c in block_columns)].append(i)
    reasons: list[str | None] = [None] * len(entries)
    patterns: dict[tuple[Any, ...], Any] = {}  # blocks with equal counts share one pattern
    for block, members in blocks.items():
        cells = [(entries[i][1]["side"], entries[i][1]["area"], entries[i][0]) for i in members]
        partitions, totals = cube_partitions(cells, ("all", AREA_ALL, ROLE_ALL))
        counts = [entries[i][1][count] or 0 for i in members]
        margin = [role == ROLE_ALL for _, _, role in cells]  # published already: fixed
        hidden = [
            role == ROLE_ALL and published.get((side, area, *block)) is not None
            for side, area, role in cells
        ]
        key = (tuple(cells), tuple(counts), tuple(hidden))
        if key not in patterns:
            patterns[key] = suppression.protect_by_margins(
                counts, list(zip(partitions, totals, strict=True)), k=k, hidden=hidden, fixed=margin
            )
        res = patterns[key]
        stuck = res.unprotected.size > 0  # no role cell may then be shown
        for j, i in enumerate(members):
            if entries[i][0] != ROLE_ALL:
                reasons[i] = res.reason[j] or (SECONDARY if stuck else None)
    out: dict[str, Rows] = {role: [] for role in cuts}
    for (role, row), reason in zip(entries, reasons, strict=True):
        if role != ROLE_ALL:
            out[role].append(blank(row, reason, labels))
    return out


def _suppress_role_gaps(
    gaps: Iterable[Mapping[str, Any]], scores: Iterable[Mapping[str, Any]]
) -> Rows:
    """A role cut's gaps, hidden wherever either side's scores of the cut are."""
    reason_of = {(r["side"], r["area"], r["dimension"]): r[SUPPRESSED] for r in scores}
    out = []
    for row in gaps:
        sides = [reason_of.get((s, row["area"], row["dimension"]), PRIMARY) for s in SIDES]
        reason = PRIMARY if PRIMARY in sides else SECONDARY if any(sides) else None
        out.append(blank(row, reason, _GAP_LABELS))
    return out
