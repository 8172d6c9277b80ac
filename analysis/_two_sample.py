"""Vectorised two-sample cores shared by the gap, change and heat-map statistics.

Private: arrays of per-cell moments in, arrays out, no input checks (the public functions of
:mod:`analysis.gaps`, :mod:`analysis.frequencies` and others check their inputs and call
these). Hedges' g with its interval, Welch's t-test, and the Mann–Whitney U with its
tie-corrected normal approximation; formulas in :func:`analysis.gaps.hedges_g` and
:func:`analysis.gaps.perception_gaps`.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from analysis._common import quiet


def _hedges_core(m1, v1, n1, m2, v2, n2, confidence):
    """Hedges' g and CI from means, variances (ddof=1) and counts; arrays broadcast.

    Returns g, low, high and a boolean mask of cells where g is defined.
    """
    m1, v1, n1, m2, v2, n2 = np.broadcast_arrays(m1, v1, n1, m2, v2, n2)
    shape = m1.shape
    g = np.full(shape, np.nan)
    low = np.full(shape, np.nan)
    high = np.full(shape, np.nan)
    with quiet():
        df = n1 + n2 - 2
        sp2 = ((n1 - 1) * v1 + (n2 - 1) * v2) / df
        ok = (n1 >= 2) & (n2 >= 2) & np.isfinite(sp2) & (sp2 > 0) & np.isfinite(m1 - m2)
    if not ok.any():
        return g, low, high, ok
    a1, a2, b1, b2 = n1[ok], n2[ok], df[ok], sp2[ok]
    d = (m1[ok] - m2[ok]) / np.sqrt(b2)
    j = 1.0 - 3.0 / (4.0 * (a1 + a2) - 9.0)
    gg = d * j
    se = np.sqrt((a1 + a2) / (a1 * a2) + gg**2 / (2.0 * (a1 + a2)))
    crit = np.abs(stats.t.ppf((1.0 - confidence) / 2.0, b1))
    g[ok] = gg
    low[ok] = gg - crit * se
    high[ok] = gg + crit * se
    return g, low, high, ok


def _welch_core(m1, v1, n1, m2, v2, n2):
    """Welch t, df and two-sided p; NaN where n < 2 in a group or both variances are 0."""
    shape = np.shape(m1)
    t = np.full(shape, np.nan)
    df = np.full(shape, np.nan)
    p = np.full(shape, np.nan)
    with quiet():
        a = v1 / n1
        b = v2 / n2
        se2 = a + b
        ok = (n1 >= 2) & (n2 >= 2) & np.isfinite(se2) & (se2 > 0)
    if ok.any():
        a, b, se2 = a[ok], b[ok], se2[ok]
        t[ok] = (m1[ok] - m2[ok]) / np.sqrt(se2)
        df[ok] = se2**2 / (a**2 / (n1[ok] - 1) + b**2 / (n2[ok] - 1))
        p[ok] = 2.0 * stats.t.sf(np.abs(t[ok]), df[ok])
    return t, df, p


def _mann_whitney_core(values, cell, side, n_groups):
    """Mann–Whitney U (of side 0) and asymptotic two-sided p per cell, all cells at once.

    ``values``, ``cell`` and ``side`` are already filtered (finite values, cell >= 0).
    Ranks within each cell come from one lexsort by (cell, value); tied values share their
    average rank. Returns U1, p, n1, n2.
    """
    n1 = np.bincount(cell[side == 0], minlength=n_groups).astype(np.float64)
    n2 = np.bincount(cell[side == 1], minlength=n_groups).astype(np.float64)
    u1 = np.full(n_groups, np.nan)
    p = np.full(n_groups, np.nan)
    if values.size == 0:
        return u1, p, n1, n2
    order = np.lexsort((values, cell))
    c, v, s = cell[order], values[order], side[order]
    size = c.size
    pos = np.arange(size)
    new_cell = np.r_[True, c[1:] != c[:-1]]
    run_start = np.r_[True, (c[1:] != c[:-1]) | (v[1:] != v[:-1])]
    cell_first = np.maximum.accumulate(np.where(new_cell, pos, 0))
    starts = np.flatnonzero(run_start)
    ties = np.diff(np.r_[starts, size]).astype(np.float64)
    run_id = np.cumsum(run_start) - 1
    # average rank of a run = rank of its first member + (t - 1) / 2, ranks 1-based in the cell
    run_rank = (starts - cell_first[starts] + 1) + (ties - 1.0) / 2.0
    rank = run_rank[run_id]
    r1 = np.bincount(c, weights=np.where(s == 0, rank, 0.0), minlength=n_groups)
    tie_term = np.bincount(c[starts], weights=ties**3 - ties, minlength=n_groups)
    u1, p = _mann_whitney_p(r1, tie_term, n1, n2)
    return u1, p, n1, n2


def _mann_whitney_p(r1, tie_term, n1, n2):
    """U of side 0 and its asymptotic two-sided p from the rank sum of side 0 and the tie
    term :math:`\\sum_j (t_j^3 - t_j)` of the pooled cell (arrays of one shape)."""
    shape = np.shape(r1)
    u1 = np.full(shape, np.nan)
    p = np.full(shape, np.nan)
    ok = (n1 > 0) & (n2 > 0)
    u1[ok] = r1[ok] - n1[ok] * (n1[ok] + 1) / 2
    n = n1 + n2
    with quiet():
        s2 = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    ok_p = ok & (s2 > 0)
    if ok_p.any():
        a, b = n1[ok_p], n2[ok_p]
        u = np.maximum(u1[ok_p], a * b - u1[ok_p])
        z = (u - a * b / 2 - 0.5) / np.sqrt(s2[ok_p])
        p[ok_p] = np.clip(2.0 * special.ndtr(-z), 0.0, 1.0)
    return u1, p


def _sample_variance(ss, count, mean):
    """``ss / (count - 1)`` (NaN below 2); rounding noise around a constant cell becomes 0.

    A cell whose answers are all equal (e.g. every dimension score 3.333...) can get a mean
    that is off by a few ulps and so a tiny positive ``ss``; anything below the summation
    error bound ``(4 n eps |mean|)^2`` per answer is treated as exactly no variation.
    """
    with quiet():
        var = np.where(count >= 2, ss / (count - 1), np.nan)
        noise = (4.0 * count * np.finfo(np.float64).eps * np.abs(mean)) ** 2
    return np.where(var <= noise, 0.0, var)


def _moments_compared(first, second, confidence):
    """Compare two ``(count, mean, ss)`` triples cell by cell: the core of a gap and of a change.

    Returns ``(v1, v2, difference, g, g_low, g_high, t, df, p)``: each side's sample variance
    (:func:`_sample_variance`), ``mean1 - mean2``, Hedges' g with its interval
    (:func:`_hedges_core`) and Welch's t-test (:func:`_welch_core`), first against second.
    """
    n1, m1, ss1 = first
    n2, m2, ss2 = second
    v1 = _sample_variance(ss1, n1, m1)
    v2 = _sample_variance(ss2, n2, m2)
    with quiet():
        difference = m1 - m2
    g, low, high, _ = _hedges_core(m1, v1, n1, m2, v2, n2, confidence)
    t, df, p = _welch_core(m1, v1, n1, m2, v2, n2)
    return v1, v2, difference, g, low, high, t, df, p
