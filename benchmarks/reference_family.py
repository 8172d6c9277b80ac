"""The calibrated statuses of DESIGN §4.12 written out the plain way, apart from
``analysis.alerts``: the independent check of the service's statuses
(``tests/test_scoring_service.py``) and the status half of ``benchmarks/analysis.py``'s
baseline (through :func:`benchmarks.reference.reference_statuses`).

One series at a time: the noise model (Paule–Mandel τ² pooled by root-finding on the summed Q),
the four rules by loops (the EWMA's weights by carrying its coefficient vector through the
recursion; Mann–Kendall by pymannkendall), the family's Benjamini–Hochberg routes by
``scipy.stats.false_discovery_control``, the tiers. Only the null distributions — the simulated
tables of ``analysis.calibration``, like a table of critical values — are read through that
module's look-up (``calibration.combine``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import optimize, stats

__all__ = ["reference_family"]

AREA_ALL = "_all"
ALL = "all"

N_BASELINE, LAMBDA, CUSUM_K, WINDOW = 4, 0.3, 0.5, 20
Q_TOTALS, Q_UNDER, Q_STRONG, WATCH_P, WATCH_POINTS = 0.03, 0.05, 0.005, 0.05, 5.0


def _pm_tau2(pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[float, int]:
    """Paule–Mandel τ² of series that each keep their own level: the root of
    Σ_j Σ_i w_ji (m_ji − m̄_j)² = Σ_j (k_j − 1), w = 1/(v + τ²); 0 if Q(0) is below."""
    pairs = [(y, v) for y, v in pairs if y.size >= 2]
    df = sum(y.size - 1 for y, _ in pairs)
    if not df:
        return 0.0, 0

    def q(tau2: float) -> float:
        total = 0.0
        for y, v in pairs:
            w = 1.0 / (v + tau2)
            total += float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))
        return total - df

    if q(0.0) <= 0:
        return 0.0, len(pairs)
    hi = 1e-6
    while q(hi) > 0:
        hi *= 4
    return float(optimize.brentq(q, 0.0, hi, xtol=1e-14, rtol=1e-12)), len(pairs)


def _rules_one(y: np.ndarray, sig2: np.ndarray) -> dict[str, float]:
    """The rules at the last of T observed waves (DESIGN §4.11–4.12), by loops."""
    t = y.size
    out = dict.fromkeys(
        ("center", "ewma", "ewma_sd", "ewma_z", "cusum_fall", "cusum_rise", "mk_s", "mk_z"),
        math.nan,
    )
    out["change"] = y[-1] - y[-2]
    out["change_z"] = out["change"] / math.sqrt(sig2[-1] + sig2[-2])
    out["sigma_last"] = math.sqrt(sig2[-1])
    if t >= 3:
        b = min(t, N_BASELINE)
        c = np.zeros(t)
        c[:b] = (1 / sig2[:b]) / np.sum(1 / sig2[:b])  # baseline level = c · y
        center = float(c @ y)
        coef = c.copy()  # the EWMA as a linear combination of the wave means
        for i in range(t):
            coef = (1 - LAMBDA) * coef
            coef[i] += LAMBDA
        dev = coef - c
        sd = math.sqrt(float(np.sum(dev * dev * sig2)))
        v_mu = 1 / np.sum(1 / sig2[:b])
        low = high = 0.0
        for i in range(t):
            var = sig2[i] - v_mu if i < b else sig2[i] + v_mu
            x = (y[i] - center) / math.sqrt(max(var, 0.0))
            low, high = max(0.0, low - x - CUSUM_K), max(0.0, high + x - CUSUM_K)
        out.update(center=center, ewma=float(coef @ y), ewma_sd=sd)
        out.update(ewma_z=float(dev @ y) / sd, cusum_fall=low, cusum_rise=high)
    if t >= 5:
        import pymannkendall

        mk = pymannkendall.original_test(y)
        out.update(mk_s=float(mk.s), mk_z=float(mk.z))
    return out


def _reference_rules(means: np.ndarray, var: np.ndarray, tau2: np.ndarray):
    """Every series' rule statistics as :class:`analysis.detector.RuleStatistics` (the form
    the calibration tables are read with)."""
    from analysis.detector import RuleStatistics

    rows, n_waves = [], []
    for y, v, t2 in zip(means, var, tau2, strict=True):
        ok = ~np.isnan(y) & ~np.isnan(v)
        n_waves.append(int(ok.sum()))
        rows.append(_rules_one(y[ok], v[ok] + t2) if ok.sum() >= 2 else {})
    names = ("center", "ewma", "ewma_sd", "ewma_z", "cusum_fall", "cusum_rise", "mk_s", "mk_z",
             "change", "change_z", "sigma_last")  # fmt: skip
    cols = {n: np.array([r.get(n, math.nan) for r in rows], dtype=float) for n in names}
    z = np.column_stack(
        [cols["ewma_z"], np.full(len(rows), np.nan), cols["mk_z"], cols["change_z"]]
    )
    return RuleStatistics(
        n_waves=np.array(n_waves, dtype=np.int64), p_fall=stats.norm.cdf(z),
        p_rise=stats.norm.sf(z), **cols,
    )  # fmt: skip


def _bh(p: np.ndarray) -> np.ndarray:
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = stats.false_discovery_control(p[ok], method="bh")
    return out


def reference_family(
    means: np.ndarray,
    var: np.ndarray,
    keys: Sequence[tuple[str, str, str]],
    band: Sequence[str | None],
    *,
    points: int,
) -> tuple[list[str], np.ndarray]:
    """Statuses of one relationship and wave (DESIGN §4.12): ``keys`` are (side, area,
    dimension) of each series, ``means`` / ``var`` their wave means and sampling variances up
    to this wave (NaN = not shown). Returns the statuses and the calibrated p-values."""
    from analysis import calibration

    means, var = means[:, -WINDOW:], var[:, -WINDOW:]
    keys = list(keys)
    dims = list(dict.fromkeys(k for _, _, k in keys))

    def pool(side: str, area: str, key: str):
        if area == AREA_ALL:
            return ("all sides total" if side == ALL else "side total",)
        return ("area total",) if side == ALL else ("cell", key)

    pools: dict[Any, list[int]] = {}
    for u, key in enumerate(keys):
        pools.setdefault(pool(*key), []).append(u)
    tau2, size = np.zeros(len(keys)), np.zeros(len(keys))
    for members in pools.values():
        baseline = []
        for u in members:
            ok = np.flatnonzero(~np.isnan(means[u]) & ~np.isnan(var[u]))[:N_BASELINE]
            baseline.append((means[u, ok], var[u, ok]))
        t2, n = _pm_tau2(baseline)
        tau2[members], size[members] = t2, n
    rules = _reference_rules(means, var, tau2)
    p, direction, _, _ = calibration.combine(rules, size)

    row = {key: u for u, key in enumerate(keys)}
    total = np.array([a == AREA_ALL or s == ALL for s, a, _ in keys])
    flagged = np.zeros(len(keys), dtype=bool)
    flagged[total] = _bh(np.where(total, p, np.nan))[total] <= Q_TOTALS
    for top in np.flatnonzero(flagged):
        s_top, a_top, k_top = keys[top]
        under = np.array([
            not total[u] and k == k_top and (s == s_top if a_top == AREA_ALL else a == a_top)
            for u, (s, a, k) in enumerate(keys)
        ])  # fmt: skip
        flagged |= under & (_bh(np.where(under, p, np.nan)) <= Q_UNDER)
    cells = ~total
    flagged |= cells & (_bh(np.where(cells, p, np.nan)) <= Q_STRONG)
    del row, dims

    out = []
    for u in range(len(keys)):
        if flagged[u]:
            out.append("deteriorating" if direction[u] < 0 else "improving")
            continue
        change = rules.change[u] * 100 / (points - 1)
        weak = direction[u] < 0 and p[u] < WATCH_P
        watch = weak or change <= -WATCH_POINTS or str(band[u]).lower() == "concern"
        out.append("watch" if watch else "stable")
    return out, p


# ============================================================================ comparison
