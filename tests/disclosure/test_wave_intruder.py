"""The intruder's own tolerance (:data:`tests.disclosure.wave_intruder.TOLERANCE`): figures
published as doubles never make its system infeasible; a real inconsistency always does."""

from __future__ import annotations

import numpy as np
import pytest

from tests.disclosure.wave_intruder import attack_wave

#: (side, area) -> (n, sum of the one item's answers): a 3-person client group in area "a"
#: whose answers are all 5 (its sum at the bound 5 · n), hidden with the client's area "b".
BASE = {("client", "a"): (3, 15.0), ("client", "b"): (40, 151.0),
        ("supplier", "a"): (25, 88.0), ("supplier", "b"): (31, 97.0)}  # fmt: skip
HIDDEN = {("client", "a"), ("client", "b")}


def _cells() -> dict:
    cells = dict(BASE)
    for side in ("client", "supplier"):
        cells[(side, "_all")] = tuple(np.add(cells[(side, "a")], cells[(side, "b")]))
    for area in ("a", "b", "_all"):
        cells[("all", area)] = tuple(np.add(cells[("client", area)], cells[("supplier", area)]))
    return cells


def _tables(nudge: float = 0.0, off_by: int = 0):
    """True and published rows; ``nudge``: shown means moved by that many units in their
    last place (rounding as a double); ``off_by``: the both-sides count of area "a"."""
    true, published = {"scores": [], "items": []}, {"scores": [], "items": []}
    for (side, area), (n, total) in _cells().items():
        n, mean = int(n), float(total) / float(n)
        rows = {
            "scores": {"dimension": "d", "side": side, "area": area, "n": n, "n_answers": n},
            "items": {"item": "d1", "dimension": "d", "side": side, "area": area, "n": n},
        }
        for table, row in rows.items():
            row["mean"] = mean
            true[table].append(row)
            shown = dict(row)
            if (side, area) in HIDDEN:
                shown.update(
                    n=None, mean=None, **({"n_answers": None} if table == "scores" else {})
                )
            else:
                shown["mean"] = mean + nudge * np.spacing(mean)
                if (side, area) == ("all", "a"):
                    shown["n"] += off_by
            published[table].append(shown)
    return published, true


@pytest.mark.parametrize("nudge", [0.0, 3.0, -3.0])
def test_figures_rounded_as_published_are_consistent(nudge):
    published, true = _tables(nudge)
    found = attack_wave(published, true, 5, 5, shares=False)
    # the 3 are recovered (the tables are built to leak): the system was solved
    assert ("scores", "d", "client", "a") in {f.key for f in found}


def test_a_count_off_by_one_is_inconsistent():
    published, true = _tables(off_by=1)
    with pytest.raises(AssertionError, match="inconsistent"):
        attack_wave(published, true, 5, 5, shares=False)
