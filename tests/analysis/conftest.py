"""Shared data factories for the analysis tests."""

import numpy as np
import pytest


def make_answers(rng, n, n_items, *, points=5, missing=0.1, n_groups=4, spread=1.0):
    """Likert answers with a per-group and per-person shift (so items correlate) and holes.

    Returns ``(x, codes)``: float answers in 1..points with NaN, and int codes in 0..n_groups-1
    with a few ``-1`` (not in any group).
    """
    codes = rng.integers(0, n_groups, size=n)
    codes[rng.random(n) < 0.05] = -1
    group_shift = rng.normal(0, 0.7, size=n_groups)[np.maximum(codes, 0)]
    person = rng.normal(0, spread, size=n)
    latent = (points + 1) / 2 + group_shift[:, None] + person[:, None]
    x = np.clip(np.rint(latent + rng.normal(0, 0.9, size=(n, n_items))), 1, points)
    x[rng.random((n, n_items)) < missing] = np.nan
    return x, codes


@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


@pytest.fixture
def answers():
    """The :func:`make_answers` factory, for tests that need several data sets."""
    return make_answers
