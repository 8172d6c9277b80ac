"""Norms across relationships: the quartiles of many relationships' scores, shown to each
without giving any other one's score away (issue 15; DESIGN §4.14's spirit across
relationships rather than across respondents).

Each figure is a Harrell–Davis quantile: a weighted mean of *every* contributing score, the
weights from a Beta distribution. A plain sample median of an odd number of scores *is* one
relationship's score, and an interpolated quartile mixes two, so a reader who knows their own
score could solve for the other; here no contributor carries more than a fraction
(:attr:`NormsResult.max_weight`) of any figure. Nothing is computed from fewer than
``min_contributors`` (10) scores. Rounding for display is the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis._common import as_float_array

__all__ = ["MIN_CONTRIBUTORS", "NormsResult", "norms"]

#: The fewest relationships whose scores make a norm.
MIN_CONTRIBUTORS = 10
#: The reason a norm is not computed.
TOO_FEW_CONTRIBUTORS = "too few relationships contribute"


@dataclass(frozen=True, slots=True)
class NormsResult:
    """The lower quartile, median and upper quartile of the contributing scores.

    Attributes
    ----------
    n : int
        Contributing scores (finite values).
    lower_quartile, median, upper_quartile : float
        Harrell–Davis estimates at 0.25, 0.5 and 0.75 (NaN with a ``reason`` when fewer
        than ``min_contributors`` scores contribute).
    max_weight : float
        The largest weight any one score has in any of the three figures (NaN when not
        computed).
    reason : str
        ``""`` when computed, else :data:`TOO_FEW_CONTRIBUTORS`.
    """

    n: int
    lower_quartile: float
    median: float
    upper_quartile: float
    max_weight: float
    reason: str


def _norms_iv(scores, min_contributors):
    x = as_float_array(scores, name="scores", ndim=1)
    if np.any(np.isinf(x)):
        raise ValueError("`scores` must be finite or NaN")
    if int(min_contributors) != min_contributors or min_contributors < 2:
        raise ValueError("`min_contributors` must be an integer of at least 2")
    return np.sort(x[~np.isnan(x)]), int(min_contributors)


def harrell_davis_weights(n: int, p: float) -> np.ndarray:
    r"""The weight of each order statistic in the Harrell–Davis estimate of quantile ``p``.

    .. math::

        w_i = I_{i/n}(a, b) - I_{(i-1)/n}(a, b), \quad a = p(n + 1),\ b = (1 - p)(n + 1)

    where :math:`I_x(a, b)` is the regularised incomplete beta function (the Beta CDF).
    """
    edges = stats.beta.cdf(np.arange(n + 1) / n, p * (n + 1), (1 - p) * (n + 1))
    return np.diff(edges)


def norms(scores, *, min_contributors: int = MIN_CONTRIBUTORS) -> NormsResult:
    """The quartiles of relationships' scores, each a weighted mean of all of them.

    Parameters
    ----------
    scores : array_like, 1-D
        One score per relationship (NaN: that relationship does not contribute).
    min_contributors : int, keyword-only
        The fewest finite scores to compute anything from (default 10).

    Returns
    -------
    NormsResult

    Notes
    -----
    The Harrell–Davis estimator of quantile :math:`p` is
    :math:`\\hat\\theta_p = \\sum_i w_i x_{(i)}` with the weights of
    :func:`harrell_davis_weights` over the sorted scores :math:`x_{(i)}`. Every weight is
    positive, so each figure depends on every contributor and equals none of them (unless
    all are equal); the largest weight falls as :math:`n` grows (about 0.25 for the median
    of 10 scores).

    References
    ----------
    Harrell, F. E. and Davis, C. E. (1982). A new distribution-free quantile estimator.
    *Biometrika* 69(3), 635–640.
    """
    x, min_contributors = _norms_iv(scores, min_contributors)
    n = int(x.size)
    if n < min_contributors:
        nan = float("nan")
        return NormsResult(n, nan, nan, nan, nan, TOO_FEW_CONTRIBUTORS)
    weights = [harrell_davis_weights(n, p) for p in (0.25, 0.5, 0.75)]
    low, mid, high = (float(w @ x) for w in weights)
    return NormsResult(n, low, mid, high, float(max(w.max() for w in weights)), "")
