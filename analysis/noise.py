"""The noise model of a series of wave means (DESIGN §4.12).

A wave mean :math:`m_t` of a cell moves from wave to wave for two reasons that are not a
trend: its sampling error, :math:`se_t = sd_t/\\sqrt{n_t}`, known each wave; and the
*between-wave variance* :math:`\\tau^2` — the wave as a whole landing a little higher or lower
than the cell's level (a reorganisation in the news, the season the survey ran). So

.. math:: m_t = \\mu + u_t + e_t,\\qquad u_t \\sim N(0, \\tau^2),\\quad
          e_t \\sim N(0, se_t^2),\\qquad \\sigma_t^2 = se_t^2 + \\tau^2 .

* :func:`sampling_variance` — :math:`se_t^2 = sd_t^2/n_t` with its checks.
* :func:`between_wave_variance` — :math:`\\tau^2` by Paule–Mandel or DerSimonian–Laird, pooled
  over many series at once (one estimate per group, e.g. per dimension of a relationship),
  each series keeping its own level.

A handful of waves of one series gives :math:`\\hat\\tau^2 = 0` about half the time; pooled
over a relationship's cells the estimate has tens of degrees of freedom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis._common import as_float_array, quiet

__all__ = [
    "METHODS",
    "BetweenWaveVariance",
    "sampling_variance",
    "baseline_mask",
    "between_wave_variance",
]

METHODS = ("pm", "dl")
_MAX_ITER = 200
_RTOL = 1e-12


@dataclass(frozen=True, slots=True)
class BetweenWaveVariance:
    """Pooled between-wave variance, one estimate per group of series.

    Attributes
    ----------
    tau2 : ndarray, shape (n_groups,)
        :math:`\\hat\\tau^2 \\ge 0` (NaN for a group with no degrees of freedom).
    df : ndarray of int, shape (n_groups,)
        :math:`\\sum_j (k_j - 1)` over the group's series with :math:`k_j \\ge 2` waves used.
    q : ndarray, shape (n_groups,)
        Cochran's heterogeneity statistic :math:`Q` at :math:`\\tau^2 = 0`, summed over the
        group's series (:math:`\\sim\\chi^2_{df}` when :math:`\\tau^2 = 0`).
    n_series : ndarray of int, shape (n_groups,)
        Series that contributed (two or more usable waves).
    method : str
        ``"pm"`` (Paule–Mandel) or ``"dl"`` (DerSimonian–Laird).
    converged : ndarray of bool, shape (n_groups,)
        Whether the Paule–Mandel root was found to full precision (always true for DL).
    tau2_upper : ndarray, shape (n_groups,)
        Q-profile upper confidence limit of :math:`\tau^2` at ``upper_level`` (one-sided);
        NaN when not asked for.
    upper_level : float
        Its one-sided confidence level (NaN when not asked for).
    """

    tau2: np.ndarray
    df: np.ndarray
    q: np.ndarray
    n_series: np.ndarray
    method: str
    converged: np.ndarray
    tau2_upper: np.ndarray
    upper_level: float


def sampling_variance(sd, n):
    r"""Sampling variance of each wave mean, :math:`se_t^2 = sd_t^2 / n_t`.

    Parameters
    ----------
    sd : array_like
        Response-level standard deviation of each cell and wave (``ddof=1``).
    n : array_like
        Responses behind each mean (same shape as ``sd``, or broadcastable).

    Returns
    -------
    ndarray
        :math:`sd^2/n`; NaN where ``n < 2`` or ``sd`` is NaN (the wave is then not used).

    Notes
    -----
    ``sd = 0`` (everybody gave the same answer) gives a sampling variance of 0, which is a
    legitimate value: the between-wave variance still keeps :math:`\sigma_t` above zero.
    """
    sd = as_float_array(sd, name="sd")
    n = as_float_array(n, name="n")
    with quiet():
        if np.any(sd < 0) or np.any(n < 0):
            raise ValueError("`sd` and `n` must be non-negative")
        return np.where(n >= 2, sd * sd / n, np.nan)


def baseline_mask(observed, n_baseline):
    """The first ``n_baseline`` observed waves of each series (all observed if None).

    Parameters
    ----------
    observed : ndarray of bool, shape (n_series, n_waves)
    n_baseline : int or None

    Returns
    -------
    ndarray of bool, same shape
    """
    if n_baseline is None:
        return observed.copy()
    return observed & (np.cumsum(observed, axis=1) <= n_baseline)


def _between_wave_variance_iv(means, var, groups, n_groups, method, n_baseline, pool, upper):
    y = as_float_array(means, name="means")
    v = as_float_array(var, name="var")
    if y.ndim == 1:
        y, v = y[None, :], v[None, :] if v.ndim == 1 else v
    if y.ndim != 2 or v.shape != y.shape:
        raise ValueError(
            f"`means` and `var` must be 2-D (n_series, n_waves) of one shape, got {y.shape} "
            f"and {v.shape}"
        )
    with quiet():
        if np.any(v < 0):
            raise ValueError("`var` must be non-negative")
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, got {method!r}")
    if upper is not None and not 0.5 <= upper < 1.0:
        raise ValueError("`upper` must be a one-sided confidence level in [0.5, 1)")
    if n_baseline is not None and (int(n_baseline) != n_baseline or n_baseline < 2):
        raise ValueError("`n_baseline` must be an integer >= 2 (or None for every wave)")
    if groups is None:
        groups = np.zeros(y.shape[0], dtype=np.int64)
    groups = np.asarray(groups)
    if groups.shape != (y.shape[0],) or not np.issubdtype(groups.dtype, np.integer):
        raise ValueError("`groups` must be one integer code per series")
    if groups.size and groups.min() < 0:
        raise ValueError("`groups` must be non-negative")
    if n_groups is None:
        n_groups = int(groups.max()) + 1 if groups.size else 0
    if groups.size and groups.max() >= n_groups:
        raise ValueError("`groups` must be < n_groups")
    if pool is None:
        pool = np.ones(y.shape[0], dtype=bool)
    pool = np.asarray(pool, dtype=bool)
    if pool.shape != (y.shape[0],):
        raise ValueError("`pool` must be one flag per series")
    return y, v, groups.astype(np.int64), int(n_groups), pool


def between_wave_variance(
    means,
    var,
    groups=None,
    *,
    n_groups=None,
    method="pm",
    n_baseline=None,
    pool=None,
    upper=None,
) -> BetweenWaveVariance:
    r"""Between-wave variance :math:`\tau^2`, pooled over many series, per group.

    Parameters
    ----------
    means : array_like, shape (n_series, n_waves)
        Wave means of each series in time order; NaN = no (or a suppressed) value.
    var : array_like, shape (n_series, n_waves)
        Their sampling variances :math:`se^2` (:func:`sampling_variance`); a wave whose
        variance is NaN is not used.
    groups : array_like of int, shape (n_series,), optional
        Group of each series (e.g. its dimension); one :math:`\tau^2` per group. Default: one
        group.
    n_groups : int, optional
        Number of groups (default ``max(groups) + 1``).
    method : {"pm", "dl"}, optional
        Paule–Mandel (default) or DerSimonian–Laird.
    n_baseline : int, optional
        Use only the first ``n_baseline`` usable waves of each series (the baseline); default
        every wave.
    pool : array_like of bool, shape (n_series,), optional
        Series that inform the estimate (default all), e.g. only the finest cells of a
        relationship, whose totals are averages of them.
    upper : float, optional
        Also give the Q-profile upper confidence limit of :math:`\tau^2` at this one-sided
        level (e.g. 0.9).

    Returns
    -------
    BetweenWaveVariance

    Notes
    -----
    Series :math:`j` of a group, with waves :math:`i = 1..k_j`, weights
    :math:`w_{ji}(\tau^2) = 1/(se_{ji}^2 + \tau^2)` and its own weighted mean
    :math:`\bar m_j(\tau^2) = \sum_i w_{ji} m_{ji} / \sum_i w_{ji}`, has the generalised
    heterogeneity statistic

    .. math:: Q_j(\tau^2) = \sum_i w_{ji}(\tau^2)\,\bigl(m_{ji} - \bar m_j(\tau^2)\bigr)^2,
              \qquad E\,Q_j(\tau^2_{true}) = k_j - 1 .

    Each series keeps its own level (a random-effects meta-regression on series indicators),
    and the group pools the moment equations:

    * **Paule–Mandel** (1982): :math:`\hat\tau^2` solves
      :math:`\sum_j Q_j(\tau^2) = \sum_j (k_j - 1)`, or is 0 when
      :math:`\sum_j Q_j(0) \le \sum_j (k_j - 1)`. :math:`Q` falls as :math:`\tau^2` grows, with
      :math:`dQ_j/d\tau^2 = -\sum_i w_{ji}^2 (m_{ji} - \bar m_j)^2`, so the root is found by
      Newton steps (DerSimonian & Kacker 2007, appendix) kept inside a bracket
      :math:`[0, \sum_{ji} (m_{ji} - \tilde m_j)^2 / df]` (:math:`\tilde m_j` the plain mean,
      where :math:`Q \le df` surely).
    * **DerSimonian–Laird** (1986), the one-step moment estimator:

      .. math:: \hat\tau^2 = \max\Bigl(0,\ \frac{\sum_j Q_j(0) - \sum_j (k_j - 1)}
                {\sum_j \bigl(S_{1j} - S_{2j}/S_{1j}\bigr)}\Bigr),\quad
                S_{rj} = \sum_i w_{ji}(0)^r ,

      which is the DL estimator of a meta-regression with one intercept per series
      (Raudenbush 2009): the denominator is :math:`\operatorname{tr}(W) -
      \operatorname{tr}\bigl((X^\top W X)^{-1} X^\top W^2 X\bigr)`.

    **Upper confidence limit** (Q-profile; Viechtbauer 2007): since
    :math:`\sum_j Q_j(\tau^2_{true}) \sim \chi^2_{df}`, the limit at one-sided level
    :math:`1-\beta` solves :math:`\sum_j Q_j(\tau^2) = \chi^2_{df;\,\beta}` (the lower
    :math:`\beta` quantile), or is 0 when :math:`\sum_j Q_j(0)` is already below it. It is the
    largest between-wave variance the data cannot rule out at that level (metafor's
    ``confint`` gives the two-sided interval, :math:`\beta = 0.025`).

    With one series both equal ``statsmodels.stats.meta_analysis.combine_effects`` with
    ``method_re="pm"`` / ``"dl"``. Paule–Mandel is the default: it is less biased than DL when
    the sampling variances differ (Veroniki et al. 2016), as they do between a cell of 25 and
    a side total of 300.

    References
    ----------
    .. [1] Paule, R. C., & Mandel, J. (1982). Consensus values and weighting factors.
           *J. Res. Natl. Bur. Stand.*, 87(5), 377–385.
    .. [2] DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials.
           *Controlled Clinical Trials*, 7(3), 177–188.
    .. [3] DerSimonian, R., & Kacker, R. (2007). Random-effects model for meta-analysis of
           clinical trials: an update. *Contemporary Clinical Trials*, 28(2), 105–114.
    .. [4] Raudenbush, S. W. (2009). Analyzing effect sizes: random-effects models. In
           Cooper, Hedges & Valentine (eds.), *The Handbook of Research Synthesis and
           Meta-Analysis* (2nd ed.), ch. 16. Russell Sage.
    .. [5] Veroniki, A. A., et al. (2016). Methods to estimate the between-study variance and
           its uncertainty in meta-analysis. *Research Synthesis Methods*, 7(1), 55–79.
    .. [6] Viechtbauer, W. (2007). Confidence intervals for the amount of heterogeneity in
           meta-analysis. *Statistics in Medicine*, 26(1), 37–52.
    """
    y, v, groups, n_groups, pool = _between_wave_variance_iv(
        means, var, groups, n_groups, method, n_baseline, pool, upper
    )
    usable = ~np.isnan(y) & ~np.isnan(v) & pool[:, None]
    usable = baseline_mask(usable, n_baseline)
    k = usable.sum(axis=1)
    usable &= (k >= 2)[:, None]
    k = usable.sum(axis=1)
    width = int(k.max()) if k.size else 0  # the used waves, moved left: iterate on less
    order = np.argsort(~usable, axis=1, kind="stable")[:, :width]
    y, v, usable = (np.take_along_axis(a, order, axis=1) for a in (y, v, usable))
    contributes = k >= 2
    df = np.bincount(groups, weights=np.maximum(k - 1, 0), minlength=n_groups).astype(np.int64)
    n_series = np.bincount(groups[contributes], minlength=n_groups).astype(np.int64)
    y0 = np.where(usable, y, 0.0)
    v0 = np.where(usable, v, 1.0)
    q0 = _q(y0, v0, usable, 0.0, groups, n_groups)[0]
    if method == "dl":
        with quiet():
            w = np.where(usable, 1.0 / v0, 0.0)
            s1 = w.sum(axis=1)
            s2 = (w * w).sum(axis=1)
            c = np.where(contributes, s1 - s2 / s1, 0.0)
            denom = np.bincount(groups, weights=c, minlength=n_groups)
            tau2 = np.maximum(0.0, (q0 - df) / denom)
        converged = np.ones(n_groups, dtype=bool)
    else:
        tau2, converged = _q_root(y0, v0, usable, groups, n_groups, q0, df.astype(np.float64))
    tau2 = np.where(df > 0, tau2, np.nan)
    tau2_upper = np.full(n_groups, np.nan)
    if upper is not None:
        target = stats.chi2.ppf(1.0 - upper, np.maximum(df, 1))
        tau2_upper, _ = _q_root(y0, v0, usable, groups, n_groups, q0, target)
        tau2_upper = np.where(df > 0, tau2_upper, np.nan)
    level = math.nan if upper is None else float(upper)
    return BetweenWaveVariance(tau2, df, q0, n_series, method, converged, tau2_upper, level)


def _q(y, v, usable, tau2_of_series, groups, n_groups):
    """Pooled Q and dQ/dτ² per group at each series' τ² (a scalar or per-series array)."""
    with quiet():
        w = np.where(usable, 1.0 / (v + np.asarray(tau2_of_series).reshape(-1, 1)), 0.0)
        sw = w.sum(axis=1, keepdims=True)
        centre = np.where(sw > 0, (w * y).sum(axis=1, keepdims=True) / sw, 0.0)
    r2 = np.where(usable, (y - centre) ** 2, 0.0)
    q = np.bincount(groups, weights=(w * r2).sum(axis=1), minlength=n_groups)
    dq = -np.bincount(groups, weights=(w * w * r2).sum(axis=1), minlength=n_groups)
    return q, dq


def _q_root(y, v, usable, groups, n_groups, q0, target):
    """Root of ΣQ_j(τ²) = target per group (0 if Q(0) <= target): Newton inside a bracket."""
    tau2 = np.zeros(n_groups)
    active = q0 > target
    with quiet():
        k = usable.sum(axis=1)
        plain = np.where(k > 0, np.where(usable, y, 0.0).sum(axis=1) / np.maximum(k, 1), 0.0)
        ss = np.where(usable, (y - plain[:, None]) ** 2, 0.0).sum(axis=1)
        hi = np.bincount(groups, weights=ss, minlength=n_groups) / np.maximum(target, 1e-12)
    lo = np.zeros(n_groups)
    converged = ~active
    for _ in range(_MAX_ITER):
        if not active.any():
            break
        q, dq = _q(y, v, usable, tau2[groups], groups, n_groups)
        excess = q - target
        done = active & (np.abs(excess) <= _RTOL * np.maximum(target, 1))
        converged |= done
        active &= ~done
        lo = np.where(excess > 0, tau2, lo)
        hi = np.where(excess < 0, tau2, hi)
        with quiet():
            step = tau2 - excess / dq
        bad = ~np.isfinite(step) | (step <= lo) | (step >= hi)
        new = np.where(bad, 0.5 * (lo + hi), step)
        stalled = active & (hi - lo <= _RTOL * np.maximum(hi, 1e-300))
        converged |= stalled
        active &= ~stalled
        tau2 = np.where(active, new, tau2)
    return tau2, converged
