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


AREAS = ("north", "south", "east", "west", "centre")
KEYS = ("trust", "innovation", "index")


def family_rows():
    """(side, area, key) of every series of a small relationship's family."""
    return [
        (s, a, k) for s in ("client", "supplier", "all") for a in (*AREAS, "_all") for k in KEYS
    ]


def make_family_history(rng, n_waves=8, decline=None, onset=4, tau=0.0):
    """Cell means of exactly-distributed samples (SD 0.6, 25–60 a cell) and their totals.

    ``decline``: ("supplier", "innovation") falls 0.12 a wave in every area from ``onset``.
    """
    rows = family_rows()
    base_n = rng.integers(25, 61, size=(2, len(AREAS)))
    level = rng.uniform(3.2, 3.9, size=(2, len(AREAS), len(KEYS)))
    means = np.zeros((len(rows), n_waves))
    var = np.zeros((len(rows), n_waves))
    for t in range(n_waves):
        n = np.clip(np.rint(base_n * rng.uniform(0.85, 1.15, size=base_n.shape)), 25, 60)
        mu = level + rng.normal(0.0, tau, size=level.shape)
        if decline and t >= onset:
            mu[1, :, KEYS.index(decline[1])] -= 0.12 * (t - onset + 1)
        m = rng.normal(mu, 0.6 / np.sqrt(n)[:, :, None])
        s2 = 0.36 * rng.chisquare(n - 1)[:, :, None] / (n - 1)[:, :, None] * np.ones_like(m)
        cells = {}
        for si, side in enumerate(("client", "supplier")):
            for ai, area in enumerate(AREAS):
                cells[(side, area)] = (n[si, ai], m[si, ai], s2[si, ai])
        for i, (side, area, key) in enumerate(rows):
            k = KEYS.index(key)
            members = [
                cells[(s, a)]
                for s in (("client", "supplier") if side == "all" else (side,))
                for a in (AREAS if area == "_all" else (area,))
            ]
            big_n = sum(c[0] for c in members)
            mean = sum(c[0] * c[1][k] for c in members) / big_n
            within = sum((c[0] - 1) * c[2][k] + c[0] * (c[1][k] - mean) ** 2 for c in members)
            means[i, t] = mean
            var[i, t] = within / (big_n - 1) / big_n
    return rows, means, var


@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


@pytest.fixture
def answers():
    """The :func:`make_answers` factory, for tests that need several data sets."""
    return make_answers
