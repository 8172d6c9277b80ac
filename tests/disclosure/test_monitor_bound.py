"""The monitor's submitted counts under k bound nothing in the results' audit; those of k or
more bound their cell (issue 11, :func:`survey_app.services.results.monitor_bound`)."""

from __future__ import annotations

import numpy as np

from benchmarks.monitor_bounds import submitted_of
from benchmarks.suppression import K, seeded_wave
from survey_app.services.results.disclosure import hidden_cells


def unnamed_under_k(submitted: dict) -> dict:
    """The same counts with every named area under k moved to no area (party totals kept)."""
    out: dict = {}
    for (side, area), n in submitted.items():
        key = (side, area if n >= K else None)
        out[key] = out.get(key, 0) + n
    return out


def test_a_count_under_k_changes_no_pattern_and_one_of_k_or_more_does():
    rng = np.random.default_rng(0)
    differs = small = 0
    for _ in range(8):
        scores, items = seeded_wave(rng, int(rng.integers(4, 7)))
        submitted = submitted_of(rng, scores, small=True)
        small += any(area and n < K for (_, area), n in submitted.items())
        named = hidden_cells(scores, items, K, submitted=submitted)
        assert named == hidden_cells(scores, items, K, submitted=unnamed_under_k(submitted))
        differs += named != hidden_cells(scores, items, K, submitted=_no_area(submitted))
    assert small, "no area under k named: the test tests nothing"
    assert differs, "counts of k or more must bound: the test could not fail"


def _no_area(submitted: dict) -> dict:
    """The same counts with no area named at all."""
    out: dict = {}
    for (side, _), n in submitted.items():
        out[(side, None)] = out.get((side, None), 0) + n
    return out
