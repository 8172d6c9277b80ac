"""Calibrated deterioration detector: one p-value per series and wave (DESIGN §4.11–4.12).

Four rules look at a series of wave means through the noise model of
:mod:`analysis.noise` (:math:`\\sigma_t^2 = se_t^2 + \\tau^2`):

* **EWMA** (λ = 0.3) against the baseline level, standardised by its exact variance;
* **CUSUM**, lower and upper, on the standardised wave means (k in units of σ);
* **Mann–Kendall** on the wave means (:func:`analysis.trends.mann_kendall_many`);
* **latest change**, the last two wave means over :math:`\\sqrt{\\sigma_t^2 + \\sigma_{t-1}^2}`.

Each rule gives a one-sided p-value for a fall and for a rise; the smallest of them is
turned into one p-value by its distribution on series with no change, tabulated once by
simulation (:mod:`analysis.calibration`), with :math:`\\tau^2` estimated there as it is in
use. The direction (a fall is *deteriorating*) is that of the smallest one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from analysis import trends
from analysis._common import as_float_array, quiet
from analysis.noise import between_wave_variance

__all__ = [
    "RULES",
    "MIN_WAVES_CHART",
    "MIN_WAVES_CHANGE",
    "DEFAULT_CONFIG",
    "DetectorConfig",
    "RuleStatistics",
    "rule_statistics",
    "series_noise",
]

#: The rules, in the order of the columns of :attr:`RuleStatistics.p_fall`.
RULES = ("ewma", "cusum", "mann_kendall", "latest_change")
MIN_WAVES_CHART = 3
MIN_WAVES_CHANGE = 2


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Settings of the rules and of their calibration.

    Attributes
    ----------
    lam : float
        EWMA smoothing constant λ (0.3).
    cusum_k : float
        CUSUM reference value in units of σ (0.5: tuned to a one-σ shift).
    cusum_h : float
        CUSUM decision interval in units of σ, for charts (4).
    limit_width : float
        Width of the EWMA chart limits in standard deviations, for charts (3).
    n_baseline : int
        The first observed waves (of the window) that fix the baseline level and estimate
        τ² (4).
    window : int or None
        Only the last ``window`` waves of a series are judged (20: five years of quarterly
        waves), so its baseline moves on with time and a status says whether the series is
        getting worse now, not whether it is worse than a decade ago. None: every wave.
    estimator : str
        ``"pm"`` (Paule–Mandel) or ``"dl"`` for τ².
    tau2_level : float or None
        None (the default): the rules use the pooled estimate of τ². A level such as 0.9:
        they use its Q-profile upper confidence limit at that one-sided level instead — a
        more cautious choice, at a cost in power that the calibration only partly repays.
    sim_series : int
        Simulated series per series length and pool size in the calibration (200,000).
    sim_n : tuple of int
        Range of responses behind a simulated mean (25, 60).
    sim_tau_ratio : float
        Simulated τ² as a share of the mean sampling variance (0.3: shocks of SD 0.05
        beside a response SD of 0.6 and about 40 responses).
    seed : int
        Seed of the calibration.
    """

    lam: float = 0.3
    cusum_k: float = 0.5
    cusum_h: float = 4.0
    limit_width: float = 3.0
    n_baseline: int = 4
    window: int | None = 20
    estimator: str = "pm"
    tau2_level: float | None = None
    sim_series: int = 200_000
    sim_n: tuple[int, int] = (25, 60)
    sim_tau_ratio: float = 0.3
    seed: int = 20261201


DEFAULT_CONFIG = DetectorConfig()


@dataclass(frozen=True, slots=True)
class RuleStatistics:
    """What each rule saw at the last observed wave of each series (arrays, one per series).

    Attributes
    ----------
    n_waves : ndarray of int
        Observed waves.
    center : ndarray
        Baseline level :math:`\\hat\\mu`, the precision-weighted mean of the baseline waves.
    ewma, ewma_sd : ndarray
        EWMA at the last wave and the standard deviation of ``ewma - center``.
    ewma_z : ndarray
        ``(ewma - center) / ewma_sd``.
    cusum_fall, cusum_rise : ndarray
        Lower and upper CUSUM at the last wave, in units of σ.
    mk_s, mk_z : ndarray
        Kendall's S and its continuity-corrected z (NaN below 5 waves).
    change, change_z : ndarray
        Last minus previous observed wave mean, and over its σ.
    sigma_last : ndarray
        :math:`\\sigma` of the last wave.
    p_fall, p_rise : ndarray, shape (n_series, 4)
        One-sided nominal p-values of each rule (columns in :data:`RULES` order; the CUSUM
        column is NaN here and filled by the calibration from its simulated distribution);
        NaN where the rule needs more waves.
    """

    n_waves: np.ndarray
    center: np.ndarray
    ewma: np.ndarray
    ewma_sd: np.ndarray
    ewma_z: np.ndarray
    cusum_fall: np.ndarray
    cusum_rise: np.ndarray
    mk_s: np.ndarray
    mk_z: np.ndarray
    change: np.ndarray
    change_z: np.ndarray
    sigma_last: np.ndarray
    p_fall: np.ndarray
    p_rise: np.ndarray


def _rule_statistics_iv(means, var, tau2):
    y = as_float_array(means, name="means")
    v = as_float_array(var, name="var")
    if y.ndim != 2 or v.shape != y.shape:
        raise ValueError("`means` and `var` must be 2-D (n_series, n_waves) of one shape")
    t2 = np.broadcast_to(as_float_array(tau2, name="tau2"), (y.shape[0],)).astype(np.float64)
    with quiet():
        if np.any(v < 0) or np.any(t2 < 0):
            raise ValueError("variances must be non-negative")
    return y, v, t2


def rule_statistics(means, var, tau2, *, config: DetectorConfig = DEFAULT_CONFIG):
    r"""Every rule's statistic at the last observed wave of each series.

    Parameters
    ----------
    means : array_like, shape (n_series, n_waves)
        Wave means in time order; NaN = no (or a suppressed) value, skipped.
    var : array_like, shape (n_series, n_waves)
        Sampling variances :math:`se_t^2` of the means (NaN where the mean is NaN).
    tau2 : array_like, shape (n_series,) or scalar
        Between-wave variance of each series (:func:`analysis.noise.between_wave_variance`
        of its group).
    config : DetectorConfig, optional

    Returns
    -------
    RuleStatistics

    Notes
    -----
    Over the :math:`T` observed waves, :math:`\sigma_i^2 = se_i^2 + \tau^2`, and the
    baseline is the first :math:`B = \min(T, \text{n\_baseline})` of them, with level

    .. math:: \hat\mu = \sum_{i \le B} c_i m_i,\qquad
              c_i = \frac{\sigma_i^{-2}}{\sum_{j \le B}\sigma_j^{-2}} .

    **EWMA** (Roberts 1959). From :math:`z_0 = \hat\mu`,
    :math:`z_t = \lambda m_t + (1-\lambda) z_{t-1}`, so with
    :math:`e_i = \lambda(1-\lambda)^{T-i}` and :math:`E = \sum_i e_i = 1-(1-\lambda)^T`,

    .. math:: z_T - \hat\mu = \sum_{i=1}^{T} a_i m_i,\qquad a_i = e_i - E\,c_i,\qquad
              \operatorname{Var}(z_T - \hat\mu) = \sum_i a_i^2 \sigma_i^2 ,

    exact for independent wave means of unequal variances, and counting the baseline
    estimate (:math:`\sum_i a_i = 0`, so the level cancels). With every
    :math:`\sigma_i = \sigma` and :math:`\hat\mu` replaced by a known target it is the
    Lucas–Saccucci variance :math:`\sigma^2\frac{\lambda}{2-\lambda}[1-(1-\lambda)^{2T}]`.

    **CUSUM** (Page 1954) on :math:`x_i = (m_i - \hat\mu)/\sqrt{\operatorname{Var}(m_i -
    \hat\mu)}`, where :math:`\operatorname{Var}(m_i - \hat\mu) = \sigma_i^2 - V_\mu` for a
    baseline wave and :math:`\sigma_i^2 + V_\mu` after it, :math:`V_\mu = 1/\sum_{j\le B}
    \sigma_j^{-2}`:

    .. math:: C^-_i = \max(0,\ C^-_{i-1} - x_i - k),\qquad
              C^+_i = \max(0,\ C^+_{i-1} + x_i - k),\qquad C_0 = 0 .

    **Mann–Kendall** z of the observed wave means (from 5 waves), and the **latest change**
    :math:`z = (m_T - m_{T-1})/\sqrt{\sigma_T^2 + \sigma_{T-1}^2}` (from 2 waves).

    One-sided p-values: :math:`\Phi(z)` for a fall, :math:`\Phi(-z)` for a rise, for the
    EWMA, Mann–Kendall and latest change; the CUSUM's come from its simulated distribution
    (:mod:`analysis.calibration`). EWMA and CUSUM need 3 waves.

    References
    ----------
    .. [1] Roberts, S. W. (1959). Control chart tests based on geometric moving averages.
           *Technometrics*, 1(3), 239–250.
    .. [2] Lucas, J. M., & Saccucci, M. S. (1990). Exponentially weighted moving average
           control schemes. *Technometrics*, 32(1), 1–12.
    .. [3] Page, E. S. (1954). Continuous inspection schemes. *Biometrika*, 41, 100–115.
    .. [4] Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica*, 13,
           245–259.
    """
    y, v, t2 = _rule_statistics_iv(means, var, tau2)
    s = y.shape[0]
    obs = ~np.isnan(y) & ~np.isnan(v)
    order = np.argsort(~obs, axis=1, kind="stable")  # observed waves first, in time order
    yc = np.take_along_axis(np.where(obs, y, np.nan), order, axis=1)
    sig2 = np.take_along_axis(np.where(obs, v, np.nan), order, axis=1) + t2[:, None]
    n = obs.sum(axis=1)
    out = {name: np.full(s, np.nan) for name in _FIELDS}
    p_fall = np.full((s, len(RULES)), np.nan)
    p_rise = np.full((s, len(RULES)), np.nan)
    for t in np.unique(n):
        if t < MIN_WAVES_CHANGE:
            continue
        rows = np.flatnonzero(n == t)
        part = _fixed_length(yc[rows, :t], sig2[rows, :t], config)
        for name in _FIELDS:
            out[name][rows] = part[name]
        p_fall[rows] = part["p_fall"]
        p_rise[rows] = part["p_rise"]
    return RuleStatistics(n_waves=n.astype(np.int64), p_fall=p_fall, p_rise=p_rise, **out)


_FIELDS = (
    "center",
    "ewma",
    "ewma_sd",
    "ewma_z",
    "cusum_fall",
    "cusum_rise",
    "mk_s",
    "mk_z",
    "change",
    "change_z",
    "sigma_last",
)


def _fixed_length(y, sig2, config):
    """Rule statistics of series that all have ``T = y.shape[1]`` observed waves."""
    s, t = y.shape
    out = {name: np.full(s, np.nan) for name in _FIELDS}
    with quiet():
        change = y[:, -1] - y[:, -2]
        change_z = change / np.sqrt(sig2[:, -1] + sig2[:, -2])
    out["change"], out["change_z"] = change, change_z
    out["sigma_last"] = np.sqrt(sig2[:, -1])
    z = np.full((s, len(RULES)), np.nan)
    z[:, 3] = change_z
    if t >= MIN_WAVES_CHART:
        _charts(y, sig2, config, out)
        z[:, 0] = out["ewma_z"]
    if t >= trends.MIN_WAVES_MANN_KENDALL:
        mk = trends.mann_kendall_many(y)
        out["mk_s"], out["mk_z"] = mk.s, mk.z
        z[:, 2] = mk.z
    out["p_fall"] = special.ndtr(z)
    out["p_rise"] = special.ndtr(-z)
    return out


def _charts(y, sig2, config, out):
    """EWMA with its exact variance, and both CUSUMs, at the last of T waves (in place)."""
    s, t = y.shape
    b = min(t, config.n_baseline)
    lam = config.lam
    with quiet():
        prec = 1.0 / sig2[:, :b]
        v_mu = 1.0 / prec.sum(axis=1)
        c = prec * v_mu[:, None]
        center = (c * y[:, :b]).sum(axis=1)
        e = lam * (1.0 - lam) ** np.arange(t - 1, -1, -1)
        a = np.broadcast_to(e, (s, t)).copy()
        a[:, :b] -= e.sum() * c
        ewma_dev = (a * y).sum(axis=1)
        ewma_sd = np.sqrt((a * a * sig2).sum(axis=1))
        var_dev = sig2 + v_mu[:, None]
        var_dev[:, :b] = sig2[:, :b] - v_mu[:, None]
        x = (y - center[:, None]) / np.sqrt(np.maximum(var_dev, 0.0))
    low = np.zeros(s)
    high = np.zeros(s)
    for i in range(t):  # a recursion over a few dozen waves, vectorised over series
        low = np.maximum(0.0, low - x[:, i] - config.cusum_k)
        high = np.maximum(0.0, high + x[:, i] - config.cusum_k)
    out["center"] = center
    out["ewma"] = center + ewma_dev
    out["ewma_sd"] = ewma_sd
    with quiet():
        out["ewma_z"] = ewma_dev / ewma_sd
    out["cusum_fall"] = low
    out["cusum_rise"] = high


def series_noise(means, var, noise_group, *, config: DetectorConfig = DEFAULT_CONFIG):
    r"""The between-wave variance each series is judged with, and its pool's size.

    Parameters
    ----------
    means, var : array_like, shape (n_series, n_waves)
        Wave means and their sampling variances.
    noise_group : array_like of int, shape (n_series,)
        The pool of each series: τ² is estimated from the baseline waves of every series of
        the pool at once (:func:`analysis.noise.between_wave_variance`).
    config : DetectorConfig, optional

    Returns
    -------
    tau2 : ndarray, shape (n_series,)
        The pool's estimate (or its upper limit at ``config.tau2_level``).
    pool_size : ndarray of int, shape (n_series,)
        Series that informed the pool's estimate.
    variance : BetweenWaveVariance
        The pools' estimates.
    """
    noise_group = np.asarray(noise_group, dtype=np.int64)
    n_groups = int(noise_group.max()) + 1 if noise_group.size else 0
    kw = {"method": config.estimator, "n_baseline": config.n_baseline}
    est = between_wave_variance(
        means, var, noise_group, n_groups=n_groups, upper=config.tau2_level, **kw
    )
    used = est.tau2 if config.tau2_level is None else est.tau2_upper
    return np.nan_to_num(used)[noise_group], est.n_series[noise_group], est
