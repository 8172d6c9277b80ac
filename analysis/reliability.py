"""Internal consistency of a dimension's items (DESIGN §4.7)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis._common import Reason, as_float_2d, check_confidence, quiet

__all__ = ["AlphaResult", "cronbach_alpha"]


@dataclass(frozen=True, slots=True)
class AlphaResult:
    """Cronbach's alpha with its Feldt interval and item diagnostics.

    Attributes
    ----------
    alpha : float
        Cronbach's coefficient alpha (NaN with a ``reason`` when undefined).
    ci_low, ci_high : float
        Feldt confidence interval for alpha.
    n : int
        Complete cases used (rows with no missing item).
    k : int
        Number of items.
    item_rest_r : ndarray, shape (k,)
        Corrected item–total (item–rest) correlation of each item.
    alpha_if_deleted : ndarray, shape (k,)
        Alpha of the other ``k - 1`` items (NaN when ``k < 3``).
    flag_low : bool
        ``alpha < min_alpha`` (0.70 by default); False when alpha is NaN.
    reason : str
        ``""`` when alpha is computed; otherwise ``"n < 2"``, ``"fewer than 2 items"``,
        ``"no complete cases"`` or ``"zero variance"``.
    confidence : float
        Confidence level of the interval.
    """

    alpha: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    item_rest_r: np.ndarray
    alpha_if_deleted: np.ndarray
    flag_low: bool
    reason: str
    confidence: float


def _cronbach_alpha_iv(x, confidence, min_alpha):
    x = as_float_2d(x, name="x")
    if np.any(np.isinf(x)):
        raise ValueError("`x` must be finite or NaN")
    confidence = check_confidence(confidence)
    min_alpha = float(min_alpha)
    if not np.isfinite(min_alpha):
        raise ValueError("`min_alpha` must be finite")
    return x, confidence, min_alpha


def cronbach_alpha(x, *, confidence: float = 0.95, min_alpha: float = 0.70) -> AlphaResult:
    r"""Cronbach's alpha of a set of items, on complete cases, with a Feldt interval.

    Parameters
    ----------
    x : array_like, shape (n_responses, k)
        Reverse-keyed answers to the items of one dimension; NaN for missing. Rows with any
        NaN are dropped (listwise deletion).
    confidence : float, optional
        Confidence level of the Feldt interval (default 0.95).
    min_alpha : float, optional
        Threshold below which ``flag_low`` is set (default 0.70, Nunnally 1978).

    Returns
    -------
    AlphaResult

    Notes
    -----
    With :math:`C` the sample covariance matrix (``ddof=1``) of the :math:`k` items over the
    :math:`n` complete cases [1]_,

    .. math::

        \alpha = \frac{k}{k-1}\left(1 - \frac{\operatorname{tr} C}{\mathbf 1^\top C \mathbf 1}
        \right).

    The Feldt interval [2]_ uses :math:`(1-\hat\alpha)/(1-\alpha) \sim F(n-1, (n-1)(k-1))`:

    .. math::

        \alpha_L = 1 - (1-\hat\alpha)\, F_{1-\gamma/2}, \qquad
        \alpha_U = 1 - (1-\hat\alpha)\, F_{\gamma/2},

    with :math:`\gamma = 1 - \text{confidence}` and :math:`F_p` the :math:`p` quantile, as in
    pingouin's ``cronbach_alpha`` (which, unlike this function, keeps the row count *before*
    listwise deletion in the degrees of freedom and rounds the bounds to 3 decimals).

    Corrected item–rest correlation of item :math:`i` with the sum of the other items, and
    alpha if item :math:`i` is deleted, both from :math:`C` without refitting:

    .. math::

        r_{i,\text{rest}} = \frac{c_{i\cdot} - c_{ii}}
            {\sqrt{c_{ii}\,(S - 2c_{i\cdot} + c_{ii})}}, \qquad
        \alpha_{(-i)} = \frac{k-1}{k-2}\left(1 - \frac{\operatorname{tr} C - c_{ii}}
            {S - 2 c_{i\cdot} + c_{ii}}\right),

    where :math:`c_{i\cdot}` is row :math:`i`'s sum and :math:`S = \mathbf 1^\top C \mathbf 1`.

    References
    ----------
    .. [1] Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
           *Psychometrika*, 16(3), 297–334.
    .. [2] Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
           coefficient alpha. *Applied Psychological Measurement*, 11(1), 93–103.
    .. [3] Nunnally, J. C. (1978). *Psychometric Theory* (2nd ed.). New York: McGraw-Hill.
    """
    x, confidence, min_alpha = _cronbach_alpha_iv(x, confidence, min_alpha)
    complete = x[~np.isnan(x).any(axis=1)]
    n, k = complete.shape
    nan_k = np.full(k, np.nan)

    def undefined(reason: str) -> AlphaResult:
        return AlphaResult(
            np.nan, np.nan, np.nan, n, k, nan_k, nan_k.copy(), False, reason, confidence
        )

    if k < 2:
        return undefined(Reason.K_LT_2)
    if n == 0:
        return undefined(Reason.NO_COMPLETE_CASES if x.shape[0] else Reason.NO_ANSWERS)
    if n < 2:
        return undefined(Reason.N_LT_2)

    centred = complete - complete.mean(axis=0)
    cov = centred.T @ centred / (n - 1)
    item_var = np.diag(cov)
    total_var = cov.sum()
    row_sum = cov.sum(axis=1)
    rest_var = total_var - 2.0 * row_sum + item_var
    with quiet():
        item_rest_r = np.where(
            (item_var > 0) & (rest_var > 0),
            (row_sum - item_var) / np.sqrt(item_var * rest_var),
            np.nan,
        )
        if k >= 3:
            alpha_if_deleted = np.where(
                rest_var > 0,
                (k - 1) / (k - 2) * (1.0 - (item_var.sum() - item_var) / rest_var),
                np.nan,
            )
        else:
            alpha_if_deleted = nan_k.copy()

    # Zero (or rounding-level) variance of the total makes alpha 0/0.
    if not total_var > 1e-12 * max(item_var.sum(), 1.0):
        return AlphaResult(
            np.nan,
            np.nan,
            np.nan,
            n,
            k,
            item_rest_r,
            alpha_if_deleted,
            False,
            Reason.ZERO_VARIANCE,
            confidence,
        )

    alpha = k / (k - 1) * (1.0 - item_var.sum() / total_var)
    df1 = n - 1
    df2 = df1 * (k - 1)
    gamma = 1.0 - confidence
    ci_low = 1.0 - (1.0 - alpha) * stats.f.isf(gamma / 2, df1, df2)
    ci_high = 1.0 - (1.0 - alpha) * stats.f.isf(1.0 - gamma / 2, df1, df2)
    return AlphaResult(
        alpha=float(alpha),
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        n=n,
        k=k,
        item_rest_r=item_rest_r,
        alpha_if_deleted=alpha_if_deleted,
        flag_low=bool(alpha < min_alpha),
        reason=Reason.OK,
        confidence=confidence,
    )
