"""What the results hide once their audit takes the response-rate monitor's figures (issue 11).

```sh
.venv/bin/python benchmarks/monitor_bounds.py              # 40 seeded waves
.venv/bin/python benchmarks/monitor_bounds.py --waves 10   # a quick run
```

The seeded waves of ``benchmarks/suppression.py`` (4–8 areas, small groups mixed in, a 1–4
person no-area group on one side). Each party invites each of its areas of at least k
people by name seven times in ten (their respondents are that area's: its submitted
invitations are the cell's count), the rest without an area. Both rules run on the same
counts in the same run, counts only (as ``publish_wave`` is called today):

* before: ``results.disclosure.hidden_cells`` without the monitor's figures;
* after: the same with ``submitted=`` (each named area's submitted invitations a lower
  bound on its cell, the side totals known: never partners).

Printed: the share of wave × score blocks whose side totals are hidden, the share of scores
cells hidden, seconds per wave (median), and the ratio. One JSON line at the end.
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

from benchmarks.suppression import K, seeded_wave, side_totals_hidden  # noqa: E402
from survey_app.services.results.disclosure import hidden_cells  # noqa: E402


def submitted_of(rng, scores) -> dict:
    """Submitted invitations per (side, area or None) of a seeded wave (index counts)."""
    out: dict = {}
    for side, area, d, n in zip(
        scores["side"], scores["area"], scores["dimension"], scores["n"], strict=True
    ):
        if d != "index" or side == "all" or area == "_all":
            continue
        named = area != "_none" and n >= K and rng.random() < 0.7
        key = (side, area if named else None)
        out[key] = out.get(key, 0) + n
    return out


def measure(waves: int) -> dict:
    """The figures of ``waves`` seeded waves, both rules on each."""
    rng = np.random.default_rng(2026)
    rules = {
        "before": lambda s, i, _: hidden_cells(s, i, K),
        "after": lambda s, i, sub: hidden_cells(s, i, K, submitted=sub),
    }
    totals, shares, seconds = ({r: [] for r in rules} for _ in range(3))
    for _ in range(waves):
        scores, items = seeded_wave(rng, int(rng.integers(4, 9)))
        submitted = submitted_of(rng, scores)
        keys = set(zip(scores["side"], scores["area"], scores["dimension"], strict=True))
        for rule, hide in rules.items():
            began = time.perf_counter()
            hidden = hide(scores, items, submitted)
            seconds[rule].append(time.perf_counter() - began)
            totals[rule].append(side_totals_hidden(hidden, scores))
            shares[rule].append(len(hidden & keys) / len(keys))
    result = {"waves": waves, "k": K}
    for rule in rules:
        result |= {
            f"side_totals_hidden_{rule}": round(statistics.mean(totals[rule]), 3),
            f"score_cells_hidden_{rule}": round(statistics.mean(shares[rule]), 3),
            f"seconds_per_wave_{rule}_median": round(statistics.median(seconds[rule]), 4),
        }
    result["cells_hidden_ratio_after_to_before"] = round(
        statistics.mean(shares["after"]) / statistics.mean(shares["before"]), 3
    )
    result["seconds_ratio_after_to_before"] = round(
        statistics.median(seconds["after"]) / statistics.median(seconds["before"]), 2
    )
    return result


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--waves", type=int, default=40)
    print(json.dumps(measure(cli.parse_args().waves)))
