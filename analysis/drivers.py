"""Drivers: which dimensions move an outcome (DESIGN §4.13).

The outcome is the health index or a "commitment to continue" item; each dimension's score is
correlated with it across respondents, with a Fisher-z confidence interval, and only for groups
of at least ``min_n`` (25) respondents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from analysis._common import as_float_array, check_confidence, quiet

__all__ = ["DriverResult", "driver_correlations"]

MIN_N = 25


@dataclass(frozen=True, slots=True)
class DriverResult:
    """Pearson correlation of every dimension with the outcome.

    All fields are arrays of length ``n_dimensions``.

    Attributes
    ----------
    r : ndarray
        Pearson correlation over the pairwise complete respondents.
    n : ndarray of int
        Respondents with both the dimension score and the outcome.
    ci_low, ci_high : ndarray
        Fisher-z confidence interval of ``r``.
    p : ndarray
        Two-sided p-value of ``r = 0``.
    reason : ndarray of str
        Why ``r`` is NaN (``"fewer than 25 responses"``, no variation); ``""`` otherwise.
    """

    r: np.ndarray
    n: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p: np.ndarray
    reason: np.ndarray


def _driver_correlations_iv(dim_scores, outcome, min_n, confidence):
    x = as_float_array(dim_scores, name="dim_scores")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"`dim_scores` must be 2-D (n_responses, n_dimensions), got {x.shape}")
    y = as_float_array(outcome, name="outcome", ndim=1)
    if y.shape[0] != x.shape[0]:
        raise ValueError("`outcome` must have one value per row of `dim_scores`")
    if isinstance(min_n, bool) or int(min_n) != min_n or min_n < 4:
        raise ValueError("`min_n` must be an integer >= 4 (the Fisher-z interval needs n > 3)")
    return x, y, int(min_n), check_confidence(confidence)


def driver_correlations(dim_scores, outcome, *, min_n=MIN_N, confidence=0.95):
    r"""Correlation of each dimension score with an outcome, with a Fisher-z CI.

    Parameters
    ----------
    dim_scores : array_like, shape (n_responses, n_dimensions)
        Dimension scores of each respondent; NaN = missing.
    outcome : array_like, shape (n_responses,)
        The outcome (health index or a commitment item); NaN = missing.
    min_n : int, optional
        Smallest number of pairwise complete respondents for which a correlation is shown
        (default 25, DESIGN §4.13).
    confidence : float, optional
        Confidence level of the interval (default 0.95).

    Returns
    -------
    DriverResult

    Notes
    -----
    For each dimension, over the :math:`n` respondents with both values,

    .. math:: r = \frac{\sum (x_i-\bar x)(y_i-\bar y)}
                       {\sqrt{\sum (x_i-\bar x)^2 \sum (y_i-\bar y)^2}},

    all dimensions at once with masked array sums. The two-sided p-value uses the exact
    null distribution of :math:`r` for bivariate normal data, a beta distribution on
    :math:`(-1, 1)` with :math:`a = b = n/2 - 1`, i.e.
    :math:`p = 2\,I_{(1-|r|)/2}(n/2-1,\ n/2-1)` — the same as the t-test with
    :math:`n-2` df and as ``scipy.stats.pearsonr``. The interval is Fisher's (1921)

    .. math:: \tanh\Bigl(\operatorname{artanh} r \pm \frac{z_{1-\alpha/2}}{\sqrt{n-3}}\Bigr),

    as ``scipy.stats.pearsonr(...).confidence_interval()``. Groups below ``min_n`` and
    constant inputs give NaN with a reason.

    References
    ----------
    .. [1] Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation
           deduced from a small sample. *Metron*, 1, 3–32.
    .. [2] Kendall, M. G., & Stuart, A. (1973). *The Advanced Theory of Statistics*, vol. 2,
           §26.24. Griffin.
    """
    x, y, min_n, confidence = _driver_correlations_iv(dim_scores, outcome, min_n, confidence)
    both = ~np.isnan(x) & ~np.isnan(y)[:, None]
    n = both.sum(axis=0)
    yb = np.broadcast_to(y[:, None], x.shape)
    with quiet():
        mx = np.where(both, x, 0.0).sum(axis=0) / n
        my = np.where(both, yb, 0.0).sum(axis=0) / n
        xm = np.where(both, x - mx, 0.0)
        ym = np.where(both, yb - my, 0.0)
        sxx = (xm * xm).sum(axis=0)
        syy = (ym * ym).sum(axis=0)
        eps4 = 4.0 * np.finfo(np.float64).eps * n
        sxx = np.where(sxx <= n * (eps4 * np.abs(mx)) ** 2, 0.0, sxx)  # rounding noise only
        syy = np.where(syy <= n * (eps4 * np.abs(my)) ** 2, 0.0, syy)
        r = np.clip((xm * ym).sum(axis=0) / np.sqrt(sxx * syy), -1.0, 1.0)

    reason = np.empty(x.shape[1], dtype=object)
    reason[...] = ""
    reason[syy == 0] = "no variation in the outcome"
    reason[sxx == 0] = "no variation in the dimension score"
    reason[n < min_n] = f"fewer than {min_n} responses"
    ok = reason == ""

    r = np.where(ok, r, np.nan)
    ab = n / 2.0 - 1.0
    p = np.full(r.shape, np.nan)
    p[ok] = np.clip(2.0 * special.betainc(ab[ok], ab[ok], (1.0 - np.abs(r[ok])) / 2.0), 0, 1)
    crit = special.ndtri(1.0 - (1.0 - confidence) / 2.0)
    with quiet():
        zr = np.arctanh(r)
        se = 1.0 / np.sqrt(n - 3.0)
        low = np.tanh(zr - crit * se)
        high = np.tanh(zr + crit * se)
    low[~ok] = np.nan
    high[~ok] = np.nan
    return DriverResult(r, n.astype(np.int64), low, high, p, reason)
