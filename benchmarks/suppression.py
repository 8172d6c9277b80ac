"""Disclosure control before and after issue 11 part A: what is hidden, what leaks, how long.

```sh
.venv/bin/python benchmarks/suppression.py              # 40 seeded waves + a full-scale wave
.venv/bin/python benchmarks/suppression.py --waves 10   # a quick run
```

Each seeded wave is a relationship's side × area cube (4–8 areas, groups of 20–200 with small
ones mixed in: 1–4 person areas, a 1–4 person no-area group on one side only — the case the
issue describes) with the default instrument's shape (9 dimensions of 3–5 items and the
index), item counts thinned by "don't know" and skipped answers. Both rules run on the same
counts in the same run:

* before: each scores and items block suppressed on its own by the partition rule the service
  used until now (``publication.partition_reasons``, kept for three-way cubes);
* after: the wave's one pattern (``results.disclosure.hidden_cells``, what ``publish_wave``
  stores: linked tables, exact ranges by maximum flow, smallest partners).

Printed: the share of wave × score blocks whose side totals (client or supplier, all areas)
are hidden, the groups under k the intruder of ``tests/disclosure/wave_intruder.py`` narrows
below k (integer programs over scores, items and the n_answers links), and seconds per wave
for both rules (median, max) and for one full-scale wave (20,000 responses over 12 areas).
One JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey_app.services.results.disclosure import hidden_cells  # noqa: E402
from survey_app.services.results.publication import (  # noqa: E402
    cube_partitions,
    partition_reasons,
)
from tests.disclosure.wave_intruder import attack_wave  # noqa: E402

K = 5
DIMENSIONS = [f"d{i}" for i in range(9)]
ITEMS_PER = [4, 4, 5, 4, 4, 3, 4, 4, 5]


def seeded_wave(rng, n_areas, scale=1.0):
    """Scores and items columns (true counts) of one seeded wave."""
    sizes = (rng.integers(20, 200, size=(2, n_areas + 1)) * scale).astype(int)
    small = rng.random((2, n_areas)) < 0.15
    sizes[:, :n_areas][small] = rng.integers(1, 5, size=int(small.sum()))
    sizes[:, n_areas] = 0
    sizes[int(rng.integers(2)), n_areas] = int(rng.integers(1, 5))  # a no-area group, one side
    areas = [f"a{i}" for i in range(n_areas)] + ["_none"]
    items = [(f"{d}i{j}", d) for d, m in zip(DIMENSIONS, ITEMS_PER, strict=True) for j in range(m)]
    base = {}
    for si, side in enumerate(("client", "supplier")):
        for ai, area in enumerate(areas):
            n = int(sizes[si, ai])
            base[(side, area)] = (
                rng.binomial(n, 0.9, size=len(items)),
                rng.binomial(n, 0.97, size=len(DIMENSIONS) + 1),
            )

    def total(cells_):
        return tuple(sum(base[c][i] for c in cells_) for i in range(2))

    for area in areas:
        base[("all", area)] = total([("client", area), ("supplier", area)])
    for side in ("client", "supplier", "all"):
        base[(side, "_all")] = total([(side, a) for a in areas])
    scores = {c: [] for c in ("side", "area", "dimension", "n", "n_answers")}
    item_cols = {c: [] for c in ("side", "area", "item", "dimension", "n")}
    for side in ("client", "supplier", "all"):
        for area in [*areas, "_all"]:
            item_n, dim_n = base[(side, area)]
            for d, key in enumerate([*DIMENSIONS, "index"]):
                members = [i for i, (_, dd) in enumerate(items) if dd == key or key == "index"]
                for col, v in zip(
                    scores,
                    (side, area, key, int(dim_n[d]), int(item_n[members].sum())),
                    strict=True,
                ):
                    scores[col].append(v)
            for i, (item, d) in enumerate(items):
                for col, v in zip(item_cols, (side, area, item, d, int(item_n[i])), strict=True):
                    item_cols[col].append(v)
    return scores, item_cols


def old_hidden(scores, items):
    """Hidden (side, area, dimension-or-item) keys of both tables, block by block."""
    out = set()
    for table, key in ((scores, "dimension"), (items, "item")):
        blocks = {}
        for u, name in enumerate(table[key]):
            blocks.setdefault(name, []).append(u)
        for name, rows in blocks.items():
            cells = [(table["side"][u], table["area"][u]) for u in rows]
            partitions, totals = cube_partitions(cells, ("side", "area"))
            counts = np.array([table["n"][u] for u in rows], dtype=np.int64)
            reasons = partition_reasons(counts, partitions, totals, K)
            out |= {(*cells[j], name) for j, r in enumerate(reasons) if r}
    return out


def side_totals_hidden(hidden, scores):
    blocks = set(scores["dimension"])
    return sum(any((s, "_all", d) in hidden for s in ("client", "supplier")) for d in blocks) / len(
        blocks
    )


def rows(columns):
    names = list(columns)
    return [dict(zip(names, r, strict=True)) for r in zip(*columns.values(), strict=True)]


def leaks(scores, items, hidden_scores, hidden_items):
    true = {"scores": rows(scores), "items": rows(items)}
    published = {
        "scores": [
            {**r, "n": None, "n_answers": None}
            if (r["side"], r["area"], r["dimension"]) in hidden_scores
            else r
            for r in true["scores"]
        ],
        "items": [
            {**r, "n": None} if (r["side"], r["area"], r["item"]) in hidden_items else r
            for r in true["items"]
        ],
    }
    return len(attack_wave(published, true, K))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    before, after, t_before, t_after, found_before, found_after = [], [], [], [], 0, 0
    for _ in range(args.waves):
        scores, items = seeded_wave(rng, int(rng.integers(4, 9)))
        began = time.perf_counter()
        old = old_hidden(scores, items)
        t_before.append(time.perf_counter() - began)
        began = time.perf_counter()
        new = hidden_cells(scores, items, K)
        t_after.append(time.perf_counter() - began)
        before.append(side_totals_hidden(old, scores))
        after.append(side_totals_hidden(new, scores))
        found_before += leaks(scores, items, old, old)
        new_items = {(s, a, i) for s, a, i, d in zip(*(items[c] for c in ("side", "area", "item", "dimension")), strict=True) if (s, a, d) in new}  # fmt: skip
        found_after += leaks(scores, items, new, new_items)
    scores, items = seeded_wave(rng, 12, scale=8.0)
    began = time.perf_counter()
    old_hidden(scores, items)
    full_before = time.perf_counter() - began
    began = time.perf_counter()
    hidden_cells(scores, items, K)
    full_after = time.perf_counter() - began
    result = {
        "waves": args.waves,
        "k": K,
        "side_totals_hidden_before": round(statistics.mean(before), 3),
        "side_totals_hidden_after": round(statistics.mean(after), 3),
        "groups_recovered_before": found_before,
        "groups_recovered_after": found_after,
        "seconds_per_wave_before_median": round(statistics.median(t_before), 4),
        "seconds_per_wave_after_median": round(statistics.median(t_after), 4),
        "seconds_per_wave_after_max": round(max(t_after), 4),
        "ratio_after_to_before_median": round(
            statistics.median(t_after) / statistics.median(t_before), 2
        ),
        "seconds_full_scale_wave_before": round(full_before, 4),
        "seconds_full_scale_wave_after": round(full_after, 4),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
