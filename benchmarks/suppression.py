"""Disclosure control before and after issue 11: what is hidden, what leaks, how long it takes.

```sh
.venv/bin/python benchmarks/suppression.py              # 40 seeded waves + a full-scale wave
.venv/bin/python benchmarks/suppression.py --waves 10   # a quick run
```

Each seeded wave is a relationship's side × area cube (4–8 areas, groups of 20–200 with small
ones mixed in: 1–4 person areas, a 1–4 person no-area group on one side only) with the
default instrument's shape (9 dimensions of 3–5 items and the index), item counts thinned by
"don't know" and skipped answers. Both rules run on the same counts in the same run:

* before: each scores and items block suppressed on its own by the rule of commit 2e9bbe2
  (``benchmarks/old_suppression.py``);
* after: the wave's one pattern (``survey_app.services.results.hidden_cells``, what
  ``publish_wave`` stores).

Printed: the share of wave × score blocks whose side totals (client or supplier, all areas)
are hidden, the share whose all-area gap is hidden (either side's total hidden), the groups
under k the intruder of ``tests/disclosure/intruder.py`` recovers from the new pattern (0
expected), and seconds per wave (typical, and one full-scale wave: 20,000 responses over 12
areas). One JSON line at the end.
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

from benchmarks.old_suppression import old_suppression_reasons  # noqa: E402
from survey_app.services.results.disclosure import hidden_cells  # noqa: E402
from survey_app.services.results.publication import cube_partitions  # noqa: E402
from tests.disclosure.intruder import attack_wave  # noqa: E402

K = 5
DIMENSIONS = [f"d{i}" for i in range(9)]
ITEMS_PER = [4, 4, 5, 4, 4, 3, 4, 4, 5]


def seeded_wave(rng, n_areas, scale=1.0):
    """Scores and items columns (true counts and means) of one seeded wave."""
    sizes = rng.integers(20, 200, size=(2, n_areas + 1)) * scale
    sizes = sizes.astype(int)
    small = rng.random((2, n_areas)) < 0.15
    sizes[:, :n_areas][small] = rng.integers(1, 5, size=int(small.sum()))
    sizes[:, n_areas] = 0
    sizes[int(rng.integers(2)), n_areas] = int(rng.integers(1, 5))  # a no-area group, one side
    areas = [f"a{i}" for i in range(n_areas)] + ["_none"]
    cells = [(s, a) for s in ("client", "supplier", "all") for a in [*areas, "_all"]]
    items = [(f"{d}i{j}", d) for d, m in zip(DIMENSIONS, ITEMS_PER, strict=True) for j in range(m)]
    base = {}
    for si, side in enumerate(("client", "supplier")):
        for ai, area in enumerate(areas):
            n = int(sizes[si, ai])
            item_n = rng.binomial(n, 0.9, size=len(items))
            dim_n = rng.binomial(n, 0.97, size=len(DIMENSIONS) + 1)
            base[(side, area)] = (item_n, dim_n)

    def total(cells_):
        return tuple(sum(base[c][i] for c in cells_) for i in range(2))

    for area in areas:
        base[("all", area)] = total([("client", area), ("supplier", area)])
    for side in ("client", "supplier", "all"):
        base[(side, "_all")] = total([(side, a) for a in areas])
    cells = [c for c in cells if c[1] != "_none" or base[("all", "_none")][1].sum() > 0]
    scores = {c: [] for c in ("side", "area", "dimension", "n", "mean", "n_answers")}
    item_cols = {c: [] for c in ("side", "area", "item", "dimension", "n", "mean")}
    for side, area in cells:
        item_n, dim_n = base[(side, area)]
        for d, key in enumerate([*DIMENSIONS, "index"]):
            members = [i for i, (_, dd) in enumerate(items) if dd == key or key == "index"]
            for col, v in zip(
                scores,
                (side, area, key, int(dim_n[d]), 3.0, int(item_n[members].sum())),
                strict=True,
            ):
                scores[col].append(v)
        for i, (item, d) in enumerate(items):
            for col, v in zip(item_cols, (side, area, item, d, int(item_n[i]), 3.0), strict=True):
                item_cols[col].append(v)
    return scores, item_cols


def old_hidden(scores, items):
    out = set()
    for table, key in ((scores, "dimension"), (items, "item")):
        blocks = {}
        for u, name in enumerate(table[key]):
            blocks.setdefault(name, []).append(u)
        for name, rows in blocks.items():
            cells = [(table["side"][u], table["area"][u]) for u in rows]
            partitions, totals = cube_partitions(cells, ("side", "area"))
            mask = old_suppression_reasons([table["n"][u] for u in rows], partitions, totals, K)
            if table is scores:
                out |= {(*cells[j], name) for j in np.flatnonzero(mask)}
    return out


def shares(hidden, scores):
    keys = set(zip(scores["side"], scores["area"], scores["dimension"], strict=True))
    blocks = {d for _, _, d in keys}
    totals = sum(any((s, "_all", d) in hidden for s in ("client", "supplier")) for d in blocks)
    return totals / len(blocks)


def rows(columns):
    names = list(columns)
    return [dict(zip(names, r, strict=True)) for r in zip(*columns.values(), strict=True)]


def leaks(scores, items, hidden):
    true = {"scores": rows(scores), "items": rows(items)}
    hidden_items = {(s, a, d) for s, a, d in hidden}
    published = {
        "scores": [
            {**r, "n": None if (r["side"], r["area"], r["dimension"]) in hidden else r["n"],
             "n_answers": None if (r["side"], r["area"], r["dimension"]) in hidden else r["n_answers"]}
            for r in true["scores"]
        ],
        "items": [
            {**r, "n": None if (r["side"], r["area"], r["dimension"]) in hidden_items else r["n"]}
            for r in true["items"]
        ],
    }  # fmt: skip
    return len(attack_wave(published, true, K))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    before, after, seconds, found = [], [], [], 0
    for _ in range(args.waves):
        scores, items = seeded_wave(rng, int(rng.integers(4, 9)))
        before.append(shares(old_hidden(scores, items), scores))
        began = time.perf_counter()
        hidden = hidden_cells(scores, items, K)
        seconds.append(time.perf_counter() - began)
        after.append(shares(hidden, scores))
        found += leaks(scores, items, hidden)
    scores, items = seeded_wave(rng, 12, scale=8.0)
    began = time.perf_counter()
    hidden_cells(scores, items, K)
    full = time.perf_counter() - began
    result = {
        "waves": args.waves,
        "k": K,
        "side_totals_hidden_before": round(statistics.mean(before), 3),
        "side_totals_hidden_after": round(statistics.mean(after), 3),
        "leaks_found_after": found,
        "seconds_per_wave_median": round(statistics.median(seconds), 3),
        "seconds_per_wave_max": round(max(seconds), 3),
        "seconds_full_scale_wave": round(full, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
