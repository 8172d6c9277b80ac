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
* w11c: the same with ``submitted=``, every named area's submitted invitations a lower
  bound on its cell (under k too), the side totals known: never partners;
* after: the same with ``submitted=`` as it is now: only counts of k or more bound
  (``disclosure.monitor_bound``).

``--small`` names areas under k on invitations too (seven in ten, as the others): without
it only areas of k or more are named, and w11c and after coincide by construction.

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
from unittest.mock import patch

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.suppression import K, seeded_wave, side_totals_hidden  # noqa: E402
from survey_app.services.results import disclosure  # noqa: E402
from survey_app.services.results.disclosure import hidden_cells  # noqa: E402


def submitted_of(rng, scores, small: bool = False) -> dict:
    """Submitted invitations per (side, area or None) of a seeded wave (index counts);
    ``small``: areas under k are named too."""
    out: dict = {}
    for side, area, d, n in zip(
        scores["side"], scores["area"], scores["dimension"], scores["n"], strict=True
    ):
        if d != "index" or side == "all" or area == "_all":
            continue
        named = area != "_none" and (small or n >= K) and rng.random() < 0.7
        key = (side, area if named else None)
        out[key] = out.get(key, 0) + n
    return out


def every_count(s, i, sub):
    """The w11c rule: every submitted count a bound, those under k too."""
    with patch.object(disclosure, "monitor_bound", lambda n, k: n):
        return hidden_cells(s, i, K, submitted=sub)


def measure(waves: int, small: bool = False) -> dict:
    """The figures of ``waves`` seeded waves, every rule on each."""
    rng = np.random.default_rng(2026)
    rules = {
        "before": lambda s, i, _: hidden_cells(s, i, K),
        "w11c": every_count,
        "after": lambda s, i, sub: hidden_cells(s, i, K, submitted=sub),
    }
    totals, shares, seconds = ({r: [] for r in rules} for _ in range(3))
    for _ in range(waves):
        scores, items = seeded_wave(rng, int(rng.integers(4, 9)))
        submitted = submitted_of(rng, scores, small)
        keys = set(zip(scores["side"], scores["area"], scores["dimension"], strict=True))
        for rule, hide in rules.items():
            began = time.perf_counter()
            hidden = hide(scores, items, submitted)
            seconds[rule].append(time.perf_counter() - began)
            totals[rule].append(side_totals_hidden(hidden, scores))
            shares[rule].append(len(hidden & keys) / len(keys))
    result = {"waves": waves, "k": K, "small_areas_named": small}
    for rule in rules:
        result |= {
            f"side_totals_hidden_{rule}": round(statistics.mean(totals[rule]), 3),
            f"score_cells_hidden_{rule}": round(statistics.mean(shares[rule]), 3),
            f"seconds_per_wave_{rule}_median": round(statistics.median(seconds[rule]), 4),
        }
    result["cells_hidden_ratio_after_to_before"] = round(
        statistics.mean(shares["after"]) / statistics.mean(shares["before"]), 3
    )
    result["cells_hidden_ratio_after_to_w11c"] = round(
        statistics.mean(shares["after"]) / statistics.mean(shares["w11c"]), 3
    )
    result["seconds_ratio_after_to_before"] = round(
        statistics.median(seconds["after"]) / statistics.median(seconds["before"]), 2
    )
    return result


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--waves", type=int, default=40)
    cli.add_argument("--small", action="store_true", help="name areas under k on invitations")
    args = cli.parse_args()
    print(json.dumps(measure(args.waves, args.small)))
