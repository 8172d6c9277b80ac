"""Disclosure control before and after issue 11 part A: what is hidden, what leaks, how long.

```sh
.venv/bin/python benchmarks/suppression.py              # 40 seeded waves + a full-scale wave
.venv/bin/python benchmarks/suppression.py --waves 10   # a quick run
.venv/bin/python benchmarks/suppression.py --waves 12 --rules after  # one rule only
```

Each seeded wave is a relationship's side × area cube (4–8 areas, groups of 20–200 with small
ones mixed in: 1–4 person areas, a 1–4 person no-area group on one side only — the case the
issue describes) with the default instrument's shape (9 dimensions of 3–5 items and the
index), item counts thinned by "don't know" and skipped answers. Both rules run on the same
counts in the same run:

* before: each scores and items block suppressed on its own by the partition rule the service
  used until now (``publication.partition_reasons``, kept for three-way cubes);
* counts: the wave's one pattern over counts alone (``results.disclosure.hidden_cells``
  without the scale: linked tables, exact ranges by maximum flow, smallest partners), as
  published until the sums were audited;
* after: what ``publish_wave`` stores now: the same, with every hidden group's sums (mean × n)
  also left a range at least k scale points wide, and its count audited over the counts' and
  the sums' equations together (``analysis.linear_audit.LinearAudit``; the favourable and
  unfavourable counts are attacked, not protected).

Each seeded cell carries sums too (answer sums of 1–5 answers, dimension score sums,
favourable and unfavourable counts around a mean drawn per group), added up over the margins.

Printed per rule: the share of wave × score blocks whose side totals (client or supplier, all
areas) are hidden, the share of scores cells hidden, the groups under k the intruder of
``tests/disclosure/wave_intruder.py`` narrows below k (integer programs over scores, items,
the n_answers links and, with the scale, the sums; ``counts_narrowed``: those whose count is
narrowed, the rest being sums; ``mean_sums_narrowed``: sums of scores or answers (mean × n),
the rest of the sums being the favourable and unfavourable counts), and seconds per wave
(median, max) and for one full-scale wave (20,000 responses over 12 areas), wall clock and
this process's CPU (``time.process_time``; the figure to compare on a shared machine). Each wave's figures go to
stderr as they come (wave, rule, side totals, cells hidden, CPU seconds, groups, counts, mean
sums).
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
SHARES = ("favourable_pct", "unfavourable_pct")
POINTS = 5


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
            item_n = rng.binomial(n, 0.9, size=len(items))
            dim_n = rng.binomial(n, 0.97, size=len(DIMENSIONS) + 1)
            lean = rng.uniform(0.35, 0.8)  # the group's mean sits at 1 + 4·lean
            fav = rng.binomial(item_n, lean)
            base[(side, area)] = (
                item_n,
                dim_n,
                item_n + rng.binomial(4 * item_n, lean),  # item answer sums, 1..5 each
                dim_n * (1 + 4 * np.clip(lean + rng.normal(0, 0.05, dim_n.size), 0, 1)),
                fav,
                rng.binomial(item_n - fav, 0.5),  # unfavourable among the rest
            )

    def total(cells_):
        return tuple(sum(base[c][i] for c in cells_) for i in range(6))

    for area in areas:
        base[("all", area)] = total([("client", area), ("supplier", area)])
    for side in ("client", "supplier", "all"):
        base[(side, "_all")] = total([(side, a) for a in areas])
    score_cols = ("side", "area", "dimension", "n", "n_answers", "mean") + SHARES
    scores = {c: [] for c in score_cols}
    item_cols = {c: [] for c in ("side", "area", "item", "dimension", "n", "mean") + SHARES}
    for side in ("client", "supplier", "all"):
        for area in [*areas, "_all"]:
            item_n, dim_n, item_sum, dim_sum, fav, unfav = base[(side, area)]
            for d, key in enumerate([*DIMENSIONS, "index"]):
                members = [i for i, (_, dd) in enumerate(items) if dd == key or key == "index"]
                answers = int(item_n[members].sum())
                row = (
                    side, area, key, int(dim_n[d]), answers, _mean(dim_sum[d], dim_n[d]),
                    _pct(fav[members].sum(), answers), _pct(unfav[members].sum(), answers),
                )  # fmt: skip
                for col, v in zip(scores, row, strict=True):
                    scores[col].append(v)
            for i, (item, d) in enumerate(items):
                row = (
                    side, area, item, d, int(item_n[i]), _mean(item_sum[i], item_n[i]),
                    _pct(fav[i], item_n[i]), _pct(unfav[i], item_n[i]),
                )  # fmt: skip
                for col, v in zip(item_cols, row, strict=True):
                    item_cols[col].append(v)
    return scores, item_cols


def _mean(total, n):
    return float(total) / float(n) if n else None


def _pct(count, n):
    return 100.0 * float(count) / float(n) if n else None


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
            {**r, **dict.fromkeys(("n", "n_answers", "mean", *SHARES))}
            if (r["side"], r["area"], r["dimension"]) in hidden_scores
            else r
            for r in true["scores"]
        ],
        "items": [
            {**r, **dict.fromkeys(("n", "mean", *SHARES))}
            if (r["side"], r["area"], r["item"]) in hidden_items
            else r
            for r in true["items"]
        ],
    }
    found = attack_wave(published, true, K, POINTS)
    means = sum(f.key[0] == "sum" and f.key[-1] == "mean" for f in found)
    return len(found), sum(f.key[0] != "sum" for f in found), means


def _items_of(hidden, items):
    keys = zip(*(items[c] for c in ("side", "area", "item", "dimension")), strict=True)
    return {(s, a, i) for s, a, i, d in keys if (s, a, d) in hidden}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=40)
    parser.add_argument(
        "--rules",
        nargs="+",
        choices=("before", "counts", "after"),
        default=["before", "counts", "after"],
        help="the rules to run (the waves are the same whichever are chosen)",
    )
    parser.add_argument(
        "--no-intruder",
        action="store_true",
        help="hidden shares and seconds only (the intruder takes minutes of CPU a wave)",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    rules = {
        "before": lambda s, i: old_hidden(s, i),
        "counts": lambda s, i: hidden_cells(s, i, K),
        "after": lambda s, i: hidden_cells(s, i, K, points=POINTS),
    }
    rules = {rule: rules[rule] for rule in args.rules}
    figures = ({r: [] for r in rules} for _ in range(8))
    totals, shares, cells, seconds, cpu, found, counts, means = figures
    for wave in range(args.waves):
        scores, items = seeded_wave(rng, int(rng.integers(4, 9)))
        for rule, hide in rules.items():
            began, began_cpu = time.perf_counter(), time.process_time()
            hidden = hide(scores, items)
            seconds[rule].append(time.perf_counter() - began)
            cpu[rule].append(time.process_time() - began_cpu)
            totals[rule].append(side_totals_hidden(hidden, scores))
            keys = set(zip(scores["side"], scores["area"], scores["dimension"], strict=True))
            cells[rule].append(len(hidden & keys))
            shares[rule].append(cells[rule][-1] / len(keys))
            hidden_items = hidden if rule == "before" else _items_of(hidden, items)
            if not args.no_intruder:
                for into, n in zip(
                    (found, counts, means), leaks(scores, items, hidden, hidden_items), strict=True
                ):
                    into[rule].append(n)
            progress = (totals, cells, cpu, found, counts, means)
            figures = (round(f[rule][-1], 4) if f[rule] else None for f in progress)
            print(wave + 1, rule, *figures, file=sys.stderr)
    scores, items = seeded_wave(rng, 12, scale=8.0)
    full, full_cpu = {}, {}
    for rule, hide in rules.items():
        began, began_cpu = time.perf_counter(), time.process_time()
        hide(scores, items)
        full[rule] = time.perf_counter() - began
        full_cpu[rule] = time.process_time() - began_cpu
    result = {"waves": args.waves, "k": K}
    for rule in rules:
        result |= {
            f"side_totals_hidden_{rule}": round(statistics.mean(totals[rule]), 3),
            f"score_cells_hidden_{rule}": round(statistics.mean(shares[rule]), 3),
            f"score_cells_hidden_{rule}_total": sum(cells[rule]),
            f"groups_recovered_{rule}": sum(found[rule]) if found[rule] else None,
            f"counts_narrowed_{rule}": sum(counts[rule]) if found[rule] else None,
            f"mean_sums_narrowed_{rule}": sum(means[rule]) if found[rule] else None,
            f"seconds_per_wave_{rule}_median": round(statistics.median(seconds[rule]), 4),
            f"seconds_per_wave_{rule}_max": round(max(seconds[rule]), 4),
            f"seconds_full_scale_wave_{rule}": round(full[rule], 4),
            f"cpu_seconds_per_wave_{rule}_median": round(statistics.median(cpu[rule]), 4),
            f"cpu_seconds_per_wave_{rule}_max": round(max(cpu[rule]), 4),
            f"cpu_seconds_full_scale_wave_{rule}": round(full_cpu[rule], 4),
        }
    if {"before", "after"} <= set(rules):
        result["ratio_after_to_before_median"] = round(
            statistics.median(seconds["after"]) / statistics.median(seconds["before"]), 2
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
