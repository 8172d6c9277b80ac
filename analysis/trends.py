"""Trends across closed waves and early-warning charts (DESIGN §4.11).

* :func:`theil_sen` / :func:`theil_sen_many` — Theil–Sen slope per wave with Sen's CI (3+ waves).
* :func:`mann_kendall` / :func:`mann_kendall_many` — Mann–Kendall trend test (5+ waves).
* :func:`ewma` — EWMA chart with Lucas & Saccucci time-varying limits.
* :func:`cusum_lower` / :func:`cusum_upper` — one-sided tabular CUSUM (k = σ/2, h = 4σ).

A series is a 1-D float array of wave means in time order; ``np.nan`` marks a wave with no
(or a suppressed) value. Missing waves are dropped and keep their place in time: the default
``x`` of Theil–Sen is the wave index ``0, 1, 2, ...`` of the full series. Too few waves give
NaN and a ``reason`` such as ``"needs at least 5 waves"`` — never an exception or a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy import signal, special

from analysis._common import N_, as_float_array, check_confidence, quiet, reason_array

__all__ = [
    "MIN_WAVES_THEIL_SEN",
    "MIN_WAVES_MANN_KENDALL",
    "MIN_WAVES_BASELINE",
    "NEEDS_WAVES",
    "NEEDS_BASELINE",
    "TheilSenResult",
    "MannKendallResult",
    "EWMAResult",
    "CUSUMResult",
    "theil_sen",
    "theil_sen_many",
    "mann_kendall",
    "mann_kendall_many",
    "ewma",
    "cusum_lower",
    "cusum_upper",
]

MIN_WAVES_THEIL_SEN = 3
MIN_WAVES_MANN_KENDALL = 5
MIN_WAVES_BASELINE = 3
DEFAULT_BASELINE = 4


#: Reasons with a number (marked `N_`: the service words a stored reason in the reader's
#: language, reading the number back with these templates).
NEEDS_WAVES = N_("needs at least %(n)s waves")
NEEDS_BASELINE = N_("needs at least %(n)s baseline waves")


def _needs(k: int) -> str:
    return NEEDS_WAVES % {"n": k}


# ---------------------------------------------------------------------------------------------
# Result objects
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TheilSenResult:
    """Theil–Sen line. Scalars from :func:`theil_sen`, arrays (one per series) from
    :func:`theil_sen_many`.

    Attributes
    ----------
    slope : float
        Median of the pairwise slopes, in scale units per wave (per unit of ``x``).
    intercept : float
        ``median(y) - slope * median(x)``.
    ci_low, ci_high : float
        Sen's (1968) distribution-free confidence interval of the slope.
    n : int
        Number of non-missing waves used.
    reason : str
        Why the result is NaN; ``""`` where it was computed.
    """

    slope: np.ndarray | float
    intercept: np.ndarray | float
    ci_low: np.ndarray | float
    ci_high: np.ndarray | float
    n: np.ndarray | int
    reason: np.ndarray | str


@dataclass(frozen=True, slots=True)
class MannKendallResult:
    """Mann–Kendall trend test. Scalars from :func:`mann_kendall`, arrays from
    :func:`mann_kendall_many`.

    Attributes
    ----------
    s : float
        Kendall's S, the number of rising minus falling pairs of waves.
    var_s : float
        Tie-corrected variance of S under no trend.
    z : float
        Standardised S with continuity correction.
    p : float
        Two-sided normal p-value.
    tau : float
        Kendall's tau, ``S / (n (n - 1) / 2)``.
    trend : str
        ``"increasing"``, ``"decreasing"`` or ``"no trend"`` at level ``alpha``.
    n : int
        Number of non-missing waves.
    reason : str
        Why the result is NaN; ``""`` where it was computed.
    """

    s: np.ndarray | float
    var_s: np.ndarray | float
    z: np.ndarray | float
    p: np.ndarray | float
    tau: np.ndarray | float
    trend: np.ndarray | str
    n: np.ndarray | int
    reason: np.ndarray | str


@dataclass(frozen=True, slots=True)
class EWMAResult:
    """EWMA chart of a series (arrays aligned with the input waves).

    Attributes
    ----------
    z : ndarray
        EWMA statistic at each wave (NaN at a missing wave).
    center : float
        Target (centre line), the baseline mean unless given.
    sigma : float
        Standard deviation of a wave value, the baseline SD unless given.
    lower, upper : ndarray
        Time-varying control limits at each wave.
    signal_low, signal_high : ndarray of bool
        ``z < lower`` and ``z > upper``.
    lam, L : float
        Smoothing constant and limit width used.
    reason : str
        Why the chart could not be drawn (then all numbers are NaN and no signals);
        ``""`` otherwise.
    """

    z: np.ndarray
    center: float
    sigma: float
    lower: np.ndarray
    upper: np.ndarray
    signal_low: np.ndarray
    signal_high: np.ndarray
    lam: float
    L: float
    reason: str


@dataclass(frozen=True, slots=True)
class CUSUMResult:
    """One-sided tabular CUSUM (arrays aligned with the input waves).

    Attributes
    ----------
    c : ndarray
        Cumulative sum at each wave (NaN at a missing wave).
    h : float
        Decision interval, ``4 sigma``.
    k : float
        Reference value (allowance), ``sigma / 2``.
    center : float
        Target mean.
    sigma : float
        Standard deviation of a wave value.
    signal : ndarray of bool
        ``c > h``.
    direction : str
        ``"lower"`` (detects a fall) or ``"upper"`` (detects a rise).
    reason : str
        Why the chart could not be drawn; ``""`` otherwise.
    """

    c: np.ndarray
    h: float
    k: float
    center: float
    sigma: float
    signal: np.ndarray
    direction: str
    reason: str


# ---------------------------------------------------------------------------------------------
# Theil–Sen
# ---------------------------------------------------------------------------------------------


def _pick_sorted(sorted_rows, idx):
    """``sorted_rows[r, idx[r]]`` with idx clipped into range (callers mask invalid rows)."""
    width = sorted_rows.shape[1]
    if width == 0:
        return np.full(sorted_rows.shape[0], np.nan)
    i = np.clip(idx, 0, width - 1)
    return np.take_along_axis(sorted_rows, i[:, None], axis=1)[:, 0]


def _row_median(a, count):
    """Median of the first ``count[r]`` entries of each sorted row ``a[r]``."""
    lo = _pick_sorted(a, (count - 1) // 2)
    hi = _pick_sorted(a, count // 2)
    with quiet():
        return np.where(count > 0, (lo + hi) / 2.0, np.nan)


def _tie_sum(values, valid):
    r"""Per row, :math:`\sum_g t_g(t_g-1)(2t_g+5)` over groups of equal valid values.

    Each member of a tie group of size t counts ``(t-1)(2t+5)``, so the group adds
    ``t(t-1)(2t+5)``.
    """
    out = np.zeros(values.shape[0])
    ordered = np.sort(np.where(valid, values, np.inf), axis=1)
    tied = np.flatnonzero(
        ((ordered[:, 1:] == ordered[:, :-1]) & np.isfinite(ordered[:, 1:])).any(axis=1)
    )
    if not tied.size:  # rows without ties add nothing
        return out
    values, valid = values[tied], valid[tied]
    t = valid.astype(np.float64)  # each valid value equals itself
    for lag in range(1, values.shape[1]):  # pairs (i, i + lag): 2-D work, no (n, w, w) array
        eq = (values[:, lag:] == values[:, :-lag]) & valid[:, lag:] & valid[:, :-lag]
        t[:, lag:] += eq
        t[:, :-lag] += eq
    out[tied] = np.where(valid, (t - 1.0) * (2.0 * t + 5.0), 0.0).sum(axis=1)
    return out


def _theil_sen_iv(Y, x, confidence):
    Y = as_float_array(Y, name="Y")
    if Y.ndim == 1:
        Y = Y[None, :]
    if Y.ndim != 2:
        raise ValueError(f"`Y` must be 2-D (n_series, n_waves), got shape {Y.shape}")
    if x is None:
        x = np.arange(Y.shape[1], dtype=np.float64)
    else:
        x = as_float_array(x, name="x", ndim=1)
        if x.shape[0] != Y.shape[1]:
            raise ValueError("`x` must have one value per wave")
    return Y, x, check_confidence(confidence)


def theil_sen_many(Y, x=None, *, confidence=0.95):
    r"""Theil–Sen slope and Sen's confidence interval for many series at once.

    Parameters
    ----------
    Y : array_like, shape (n_series, n_waves)
        One series per row; NaN = missing wave (dropped, other waves keep their ``x``).
    x : array_like, shape (n_waves,), optional
        Time of each wave; default ``0, 1, ..., n_waves - 1`` (slope per wave).
    confidence : float, optional
        Confidence level of the slope interval (default 0.95).

    Returns
    -------
    TheilSenResult
        Arrays of length ``n_series``. Rows with fewer than 3 waves are NaN with reason
        ``"needs at least 3 waves"``.

    Notes
    -----
    All pairwise differences over the wave axis are formed at once as an
    ``(n_series, n_waves, n_waves)`` array. The slope is the median of
    :math:`(y_j - y_i)/(x_j - x_i)` over pairs with :math:`x_j > x_i` (Theil 1950; Sen
    1968); the intercept is :math:`\operatorname{med}(y) - b\,\operatorname{med}(x)`
    (SciPy's ``method="separate"``). With :math:`N` slopes sorted and

    .. math:: \sigma^2 = \tfrac{1}{18}\Bigl[n(n-1)(2n+5) - \sum_x t(t-1)(2t+5)
              - \sum_y t(t-1)(2t+5)\Bigr]

    (Sen 1968, eq. 2.6; sums over tie groups in x and in y), the interval is the pair of
    order statistics :math:`b_{(R_l)}, b_{(R_u)}` with
    :math:`R_u = \operatorname{round}((N - z_{\alpha/2}\sigma)/2)` and
    :math:`R_l = \operatorname{round}((N + z_{\alpha/2}\sigma)/2) - 1` (0-based), exactly as
    ``scipy.stats.theilslopes``.

    References
    ----------
    .. [1] Theil, H. (1950). A rank-invariant method of linear and polynomial regression
           analysis. *Proc. Kon. Ned. Akad. v. Wetensch. A*, 53, 386–392.
    .. [2] Sen, P. K. (1968). Estimates of the regression coefficient based on Kendall's
           tau. *JASA*, 63, 1379–1389.
    """
    Y, x, confidence = _theil_sen_iv(Y, x, confidence)
    n_series, n_waves = Y.shape
    valid = ~np.isnan(Y) & ~np.isnan(x)[None, :]
    n = valid.sum(axis=1)

    dx = x[None, :] - x[:, None]  # dx[i, j] = x_j - x_i
    pair = valid[:, :, None] & valid[:, None, :] & (dx > 0)[None, :, :]
    with quiet():
        slopes = (Y[:, None, :] - Y[:, :, None]) / dx[None, :, :]
    slopes = np.where(pair, slopes, np.inf).reshape(n_series, -1)
    slopes.sort(axis=1)
    nt = pair.reshape(n_series, -1).sum(axis=1)
    slope = _row_median(slopes, nt)

    y_sorted = np.sort(np.where(valid, Y, np.inf), axis=1)
    x_sorted = np.sort(np.where(valid, x[None, :], np.inf), axis=1)
    with quiet():
        intercept = _row_median(y_sorted, n) - slope * _row_median(x_sorted, n)

    z = special.ndtri((1.0 - confidence) / 2.0)
    xb = np.broadcast_to(x, Y.shape)
    sigsq = (n * (n - 1.0) * (2.0 * n + 5.0) - _tie_sum(xb, valid) - _tie_sum(Y, valid)) / 18.0
    ci_ok = (nt > 0) & (sigsq >= 0)
    sigma = np.sqrt(np.where(ci_ok, sigsq, 0.0))
    ru = np.minimum(np.round((nt - z * sigma) / 2.0).astype(np.int64), nt - 1)
    rl = np.maximum(np.round((nt + z * sigma) / 2.0).astype(np.int64) - 1, 0)
    ci_low = np.where(ci_ok, _pick_sorted(slopes, rl), np.nan)
    ci_high = np.where(ci_ok, _pick_sorted(slopes, ru), np.nan)

    reason = reason_array(n_series)
    reason[nt == 0] = N_("no two waves at different times")
    few = n < MIN_WAVES_THEIL_SEN
    reason[few] = _needs(MIN_WAVES_THEIL_SEN)
    bad = few | (nt == 0)
    for arr in (slope, intercept, ci_low, ci_high):
        arr[bad] = np.nan
    return TheilSenResult(slope, intercept, ci_low, ci_high, n.astype(np.int64), reason)


def theil_sen(y, x=None, *, confidence=0.95):
    """Theil–Sen slope of one series with Sen's CI; see :func:`theil_sen_many`.

    Parameters
    ----------
    y : array_like, shape (n_waves,)
        Wave means in time order; NaN waves are dropped.
    x : array_like, optional
        Time of each wave (default the wave index).
    confidence : float, optional
        Confidence level (default 0.95).

    Returns
    -------
    TheilSenResult
        Scalars; NaN with reason ``"needs at least 3 waves"`` below 3 waves. Equal to
        ``scipy.stats.theilslopes(y[ok], x[ok])``.

    Examples
    --------
    >>> from analysis.trends import theil_sen
    >>> round(float(theil_sen([3.9, 3.8, 3.8, 3.6, 3.5]).slope), 3)
    -0.1
    """
    y = as_float_array(y, name="y", ndim=1)
    res = theil_sen_many(y[None, :], x, confidence=confidence)
    return TheilSenResult(*(getattr(res, f.name)[0] for f in fields(TheilSenResult)))


# ---------------------------------------------------------------------------------------------
# Mann–Kendall
# ---------------------------------------------------------------------------------------------


def _mann_kendall_iv(Y, alpha):
    Y = as_float_array(Y, name="Y")
    if Y.ndim == 1:
        Y = Y[None, :]
    if Y.ndim != 2:
        raise ValueError(f"`Y` must be 2-D (n_series, n_waves), got shape {Y.shape}")
    if not 0.0 < alpha < 1.0:
        raise ValueError("`alpha` must be between 0 and 1")
    return Y, float(alpha)


def mann_kendall_many(Y, *, alpha=0.05):
    r"""Mann–Kendall trend test of many series at once.

    Parameters
    ----------
    Y : array_like, shape (n_series, n_waves)
        One series of wave means per row, in time order; NaN waves are dropped.
    alpha : float, optional
        Level for the ``trend`` label (default 0.05).

    Returns
    -------
    MannKendallResult
        Arrays of length ``n_series``; rows with fewer than 5 waves are NaN with reason
        ``"needs at least 5 waves"`` and trend ``"not tested"``.

    Notes
    -----
    The variant of ``pymannkendall.original_test`` (Mann 1945; Kendall 1975; Gilbert 1987):

    .. math:: S = \sum_{i<j} \operatorname{sgn}(y_j - y_i),\qquad
              \operatorname{Var}(S) = \tfrac{1}{18}\Bigl[n(n-1)(2n+5)
              - \sum_g t_g(t_g-1)(2t_g+5)\Bigr],

    .. math:: z = \frac{S - \operatorname{sgn}(S)}{\sqrt{\operatorname{Var}(S)}}
              \ (z = 0 \text{ if } S = 0),\qquad p = 2\,\Phi(-|z|),\qquad
              \tau = \frac{S}{n(n-1)/2}.

    The trend is ``"increasing"``/``"decreasing"`` when :math:`|z| > z_{1-\alpha/2}`.
    A series whose waves are all equal has ``Var(S) = 0``; like pymannkendall it gets
    ``z = 0`` and ``p = 1`` (S is then 0 under every ordering, so that p is exact).

    Five waves are required: with 4 the smallest attainable two-sided p is 0.083, so the
    test could never reach 0.05 (DESIGN §4.11). Pairs are compared one lag at a time over
    every series at once (2-D arrays: a calibration runs it on a million series).

    References
    ----------
    .. [1] Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica*, 13,
           245–259.
    .. [2] Kendall, M. G. (1975). *Rank Correlation Methods* (4th ed.). Griffin.
    .. [3] Gilbert, R. O. (1987). *Statistical Methods for Environmental Pollution
           Monitoring*. Van Nostrand Reinhold.
    .. [4] Hussain, M., & Mahmud, I. (2019). pyMannKendall: a python package for non
           parametric Mann Kendall family of trend tests. *JOSS*, 4(39), 1556.
    """
    Y, alpha = _mann_kendall_iv(Y, alpha)
    n_series, n_waves = Y.shape
    valid = ~np.isnan(Y)
    n = valid.sum(axis=1).astype(np.float64)
    s = np.zeros(n_series)
    for lag in range(1, n_waves):  # sgn(y_j - y_i) over the pairs j = i + lag
        pair = valid[:, lag:] & valid[:, :-lag]
        s += np.where(pair, np.sign(Y[:, lag:] - Y[:, :-lag]), 0.0).sum(axis=1)
    var_s = (n * (n - 1.0) * (2.0 * n + 5.0) - _tie_sum(Y, valid)) / 18.0
    with quiet():
        root = np.sqrt(np.where(var_s > 0, var_s, np.nan))
        z = np.where(s == 0, 0.0, (s - np.sign(s)) / root)
        tau = s / (0.5 * n * (n - 1.0))
    z = np.where((s != 0) & ~(var_s > 0), np.nan, z)
    p = 2.0 * special.ndtr(-np.abs(z))
    crit = special.ndtri(1.0 - alpha / 2.0)
    trend = np.empty(n_series, dtype=object)
    trend[...] = "no trend"
    trend[(z > 0) & (np.abs(z) > crit)] = "increasing"
    trend[(z < 0) & (np.abs(z) > crit)] = "decreasing"
    reason = reason_array(n_series)
    few = n < MIN_WAVES_MANN_KENDALL
    reason[few] = _needs(MIN_WAVES_MANN_KENDALL)
    trend[few] = "not tested"
    s, var_s, tau = s.astype(np.float64), var_s.astype(np.float64), tau.astype(np.float64)
    for arr in (s, var_s, z, p, tau):
        arr[few] = np.nan
    return MannKendallResult(s, var_s, z, p, tau, trend, n.astype(np.int64), reason)


def mann_kendall(y, *, alpha=0.05):
    """Mann–Kendall trend test of one series; see :func:`mann_kendall_many`.

    Parameters
    ----------
    y : array_like, shape (n_waves,)
        Wave means in time order; NaN waves are dropped.
    alpha : float, optional
        Level for the ``trend`` label.

    Returns
    -------
    MannKendallResult
        Scalars; equal to ``pymannkendall.original_test(y)`` for 5 or more waves, NaN with
        reason ``"needs at least 5 waves"`` otherwise.

    Examples
    --------
    >>> from analysis.trends import mann_kendall
    >>> res = mann_kendall([3.9, 3.8, 3.8, 3.6, 3.5, 3.4])
    >>> res.trend, float(res.s)
    ('decreasing', -14.0)
    """
    y = as_float_array(y, name="y", ndim=1)
    res = mann_kendall_many(y[None, :], alpha=alpha)
    return MannKendallResult(*(getattr(res, f.name)[0] for f in fields(MannKendallResult)))


# ---------------------------------------------------------------------------------------------
# EWMA and CUSUM
# ---------------------------------------------------------------------------------------------


def _baseline(y_obs, n_baseline, center, sigma):
    """Centre and sigma from the first ``n_baseline`` observed waves (or as given).

    Returns (center, sigma, reason).
    """
    take = y_obs[:n_baseline]
    if (center is None or sigma is None) and take.size < MIN_WAVES_BASELINE:
        return np.nan, np.nan, NEEDS_BASELINE % {"n": MIN_WAVES_BASELINE}
    mu = float(np.mean(take)) if center is None else float(center)
    sd = float(np.std(take, ddof=1)) if sigma is None else float(sigma)
    if not sd > 0:
        return mu, np.nan, N_("the baseline waves do not vary")
    return mu, sd, ""


def _chart_iv(y, n_baseline, center, sigma):
    y = as_float_array(y, name="y", ndim=1)
    if n_baseline is None:
        n_baseline = DEFAULT_BASELINE
    if int(n_baseline) != n_baseline or n_baseline < MIN_WAVES_BASELINE:
        raise ValueError(f"`n_baseline` must be an integer >= {MIN_WAVES_BASELINE}")
    if sigma is not None and not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError("`sigma` must be a finite non-negative number")
    if center is not None and not np.isfinite(center):
        raise ValueError("`center` must be finite")
    return y, int(n_baseline)


def ewma(y, *, lam=0.3, n_baseline=None, L=3.0, center=None, sigma=None):
    r"""EWMA control chart of a series of wave values (DESIGN §4.11).

    Parameters
    ----------
    y : array_like, shape (n_waves,)
        Wave values (e.g. the health index mean) in time order; NaN = missing wave, which
        is skipped (no EWMA step, no signal).
    lam : float, optional
        Smoothing constant λ in (0, 1] (default 0.3).
    n_baseline : int, optional
        Number of first observed waves that set the centre and sigma. Default: the first
        4 observed waves (or all observed waves if fewer); at least 3 are required,
        otherwise the result is NaN with reason ``"needs at least 3 baseline waves"``.
    L : float, optional
        Width of the limits in sigmas (default 3).
    center, sigma : float, optional
        Known target and standard deviation of a wave value (e.g. from the design); each
        overrides its baseline estimate.

    Returns
    -------
    EWMAResult

    Notes
    -----
    With :math:`z_0 = \mu_0`, :math:`z_t = \lambda y_t + (1-\lambda) z_{t-1}` over the
    observed waves :math:`t = 1, 2, \dots`, and the exact (time-varying) limits of Lucas &
    Saccucci (1990)

    .. math:: \mu_0 \pm L\sigma\sqrt{\frac{\lambda}{2-\lambda}
              \bigl[1 - (1-\lambda)^{2t}\bigr]}.

    :math:`\mu_0` and :math:`\sigma` are the mean and SD (``ddof=1``) of the baseline
    waves — the wave-to-wave variability of the series itself. The baseline waves are
    charted too (they are in control by construction). ``signal_low`` is
    :math:`z_t` below the lower limit, ``signal_high`` above the upper limit. The
    recursion is a linear filter (:func:`scipy.signal.lfilter`).

    References
    ----------
    .. [1] Roberts, S. W. (1959). Control chart tests based on geometric moving averages.
           *Technometrics*, 1(3), 239–250.
    .. [2] Lucas, J. M., & Saccucci, M. S. (1990). Exponentially weighted moving average
           control schemes: properties and enhancements. *Technometrics*, 32(1), 1–12.
    .. [3] Montgomery, D. C. (2019). *Introduction to Statistical Quality Control* (8th ed.),
           §9.2. Wiley.
    """
    y, n_baseline = _chart_iv(y, n_baseline, center, sigma)
    if not 0.0 < lam <= 1.0:
        raise ValueError("`lam` must be in (0, 1]")
    if not L > 0:
        raise ValueError("`L` must be positive")
    obs = ~np.isnan(y)
    y_obs = y[obs]
    mu, sd, reason = _baseline(y_obs, n_baseline, center, sigma)
    nanarr = np.full(y.shape, np.nan)
    no = np.zeros(y.shape, dtype=bool)
    if reason:
        return EWMAResult(nanarr, mu, sd, nanarr, nanarr.copy(), no, no.copy(), lam, L, reason)
    z_obs = signal.lfilter([lam], [1.0, -(1.0 - lam)], y_obs, zi=[(1.0 - lam) * mu])[0]
    t = np.arange(1, y_obs.size + 1)
    half = L * sd * np.sqrt(lam / (2.0 - lam) * (1.0 - (1.0 - lam) ** (2 * t)))
    z = nanarr.copy()
    lower = nanarr.copy()
    upper = nanarr.copy()
    z[obs] = z_obs
    lower[obs] = mu - half
    upper[obs] = mu + half
    sig_low = no.copy()
    sig_high = no.copy()
    sig_low[obs] = z_obs < mu - half
    sig_high[obs] = z_obs > mu + half
    return EWMAResult(z, mu, sd, lower, upper, sig_low, sig_high, lam, L, "")


def _cusum(y, n_baseline, center, sigma, direction):
    y, n_baseline = _chart_iv(y, n_baseline, center, sigma)
    obs = ~np.isnan(y)
    y_obs = y[obs]
    mu, sd, reason = _baseline(y_obs, n_baseline, center, sigma)
    c = np.full(y.shape, np.nan)
    sig = np.zeros(y.shape, dtype=bool)
    if reason:
        return CUSUMResult(c, np.nan, np.nan, mu, sd, sig, direction, reason)
    k = sd / 2.0
    h = 4.0 * sd
    step = (mu - k) - y_obs if direction == "lower" else y_obs - (mu + k)
    c_obs = np.empty(y_obs.size)
    acc = 0.0
    for i, d in enumerate(step):  # a sequential recursion over a few dozen waves at most
        acc = max(0.0, acc + d)
        c_obs[i] = acc
    c[obs] = c_obs
    sig[obs] = c_obs > h
    return CUSUMResult(c, h, k, mu, sd, sig, direction, "")


def cusum_lower(y, *, n_baseline=None, center=None, sigma=None):
    r"""Lower one-sided tabular CUSUM: detects a sustained fall (DESIGN §4.11).

    Parameters
    ----------
    y : array_like, shape (n_waves,)
        Wave values in time order; NaN waves are skipped.
    n_baseline : int, optional
        Baseline waves for the target and sigma, as in :func:`ewma` (default the first 4
        observed waves; at least 3 required).
    center, sigma : float, optional
        Known target and standard deviation, overriding the baseline estimates.

    Returns
    -------
    CUSUMResult
        ``direction="lower"``.

    Notes
    -----
    .. math:: C_0 = 0,\qquad C_t = \max\bigl(0,\ C_{t-1} + (\mu_0 - k) - y_t\bigr),

    with reference value :math:`k = \sigma/2` (tuned to a one-sigma shift) and decision
    interval :math:`h = 4\sigma`; a signal is :math:`C_t > h` (Page 1954; Montgomery 2019,
    §9.1, who recommends k = σ/2 with h = 4σ or 5σ).

    References
    ----------
    .. [1] Page, E. S. (1954). Continuous inspection schemes. *Biometrika*, 41, 100–115.
    .. [2] Montgomery, D. C. (2019). *Introduction to Statistical Quality Control* (8th ed.),
           §9.1. Wiley.
    """
    return _cusum(y, n_baseline, center, sigma, "lower")


def cusum_upper(y, *, n_baseline=None, center=None, sigma=None):
    r"""Upper one-sided tabular CUSUM, the mirror of :func:`cusum_lower` (detects a rise).

    Notes
    -----
    .. math:: C_t = \max\bigl(0,\ C_{t-1} + y_t - (\mu_0 + k)\bigr),\quad k = \sigma/2,
              \quad h = 4\sigma.

    References
    ----------
    .. [1] Page, E. S. (1954). Continuous inspection schemes. *Biometrika*, 41, 100–115.
    """
    return _cusum(y, n_baseline, center, sigma, "upper")
