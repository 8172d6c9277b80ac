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
    blank,
    compute_wave_tables,
    cube_partitions,
    load_answers,
    min_cell_size,
    score_wave,
    stored_rows,
    suppress_rows,
    suppression_reasons,
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

    ``scores`` always whole; ``items`` one dimension at a time when ``dimension`` is given
    (a drill-down needs only its own, and suppression blocks are single items, so the result
    is the same); ``gaps`` hidden wherever either side's scores of the cut are.
    """
    k = min_cell_size()

    def cuts() -> dict[str, dict[str, Rows]]:
        return cache.payload(wave.id, "role-cuts", {}, lambda: _role_cuts(wave))

    if table == "gaps":
        scores = role_rows("scores", wave, cache, None)
        return cache.payload(
            wave.id,
            "role-gaps",
            {},
            lambda: {
                role: _suppress_role_gaps(tables["gaps"], scores[role])
                for role, tables in cuts().items()
            },
        )
    narrow = dimension if table == "items" else None
    return cache.payload(
        wave.id,
        f"role-{table}",
        {"dimension": narrow},
        lambda: _suppressed_role_cube(table, wave, cuts(), k, narrow),
    )


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
    dimension: str | None = None,
) -> dict[str, Rows]:
    """Every role cut of ``table`` suppressed together with the all-roles margins.

    The all-roles cells are shown as the stored results publish them; if the cube's rule
    would hide one of them that is published, every role cell of that block is hidden.
    """
    block_columns, count, labels = _CUBE[table]
    _, stored = stored_rows(table, wave.relationship, [wave])
    if dimension is not None:
        stored = [r for r in stored if r["dimension"] == dimension]
        cuts = {
            role: {table: [r for r in tables[table] if r["dimension"] == dimension]}
            for role, tables in cuts.items()
        }
    published = {
        (r["side"], r["area"], *(r[c] for c in block_columns)): r[SUPPRESSED]
        for r in suppress_rows(table, stored, k)
    }
    entries: list[tuple[str, dict[str, Any]]] = [(ROLE_ALL, r) for r in stored]
    for role, tables in cuts.items():
        entries.extend((role, r) for r in tables[table])
    blocks: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, (_, row) in enumerate(entries):
        blocks[tuple(row[c] for c in block_columns)].append(i)
    reasons: list[str | None] = [None] * len(entries)
    for block, members in blocks.items():
        cells = [(entries[i][1]["side"], entries[i][1]["area"], entries[i][0]) for i in members]
        partitions, totals = cube_partitions(cells, ("all", AREA_ALL, ROLE_ALL))
        counts = [entries[i][1][count] or 0 for i in members]
        found = suppression_reasons(counts, partitions, totals, k)
        conflict = any(
            role == ROLE_ALL and reason is not None and published.get((side, area, *block)) is None
            for (side, area, role), reason in zip(cells, found, strict=True)
        )
        for i, reason in zip(members, found, strict=True):
            if entries[i][0] != ROLE_ALL:
                reasons[i] = reason or (SECONDARY if conflict else None)
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
