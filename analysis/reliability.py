"""Internal consistency of a dimension's items (DESIGN §4.7)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis._common import (
    Reason,
    as_codes,
    as_float_2d,
    as_float_array,
    check_confidence,
    group_order,
    quiet,
    reason_array,
    segment_sums,
)

__all__ = [
    "AlphaResult",
    "alpha_from_covariance",
    "complete_case_covariance",
    "cronbach_alpha",
]


@dataclass(frozen=True, slots=True)
class AlphaResult:
    """Cronbach's alpha with its Feldt interval and item diagnostics.

    Scalars from :func:`cronbach_alpha`; arrays over the stack of item sets from
    :func:`alpha_from_covariance`.

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
    if n == 0 and k >= 2 and x.shape[0] == 0:
        nan_k = np.full(k, np.nan)
        return AlphaResult(
            np.nan, np.nan, np.nan, 0, k, nan_k, nan_k.copy(), False, Reason.NO_ANSWERS, confidence
        )
    if n >= 2:
        centred = complete - complete.mean(axis=0)
        cov = centred.T @ centred / (n - 1)
    else:
        cov = np.full((k, k), np.nan)
    res = alpha_from_covariance(cov[None], [n], confidence=confidence, min_alpha=min_alpha)
    return AlphaResult(
        alpha=float(res.alpha[0]),
        ci_low=float(res.ci_low[0]),
        ci_high=float(res.ci_high[0]),
        n=n,
        k=k,
        item_rest_r=res.item_rest_r[0],
        alpha_if_deleted=res.alpha_if_deleted[0],
        flag_low=bool(res.flag_low[0]),
        reason=str(res.reason[0]),
        confidence=confidence,
    )


def _alpha_from_covariance_iv(cov, n, confidence, min_alpha):
    cov = as_float_array(cov, name="cov")
    if cov.ndim < 2 or cov.shape[-1] != cov.shape[-2]:
        raise ValueError(f"`cov` must be (..., k, k) covariance matrices, got shape {cov.shape}")
    n = np.asarray(n)
    if n.shape != cov.shape[:-2]:
        raise ValueError(f"`n` must have shape {cov.shape[:-2]}, got {n.shape}")
    if n.size and (not np.issubdtype(n.dtype, np.integer) or n.min() < 0):
        raise ValueError("`n` must be non-negative integers")
    _, confidence, min_alpha = _cronbach_alpha_iv(np.zeros((0, 1)), confidence, min_alpha)
    return cov, n.astype(np.int64), confidence, min_alpha


def alpha_from_covariance(
    cov, n, *, confidence: float = 0.95, min_alpha: float = 0.70
) -> AlphaResult:
    r"""Cronbach's alpha, Feldt interval and item diagnostics of many item sets at once.

    Parameters
    ----------
    cov : array_like, shape (..., k, k)
        Sample covariance matrices (``ddof=1``) of the :math:`k` items, each over the complete
        cases of its item set (as :func:`complete_case_covariance` gives them); entries where
        ``n < 2`` are ignored.
    n : array_like of int, shape (...)
        Complete cases behind each matrix.
    confidence, min_alpha : float, optional
        As in :func:`cronbach_alpha`.

    Returns
    -------
    AlphaResult
        ``alpha``, ``ci_low``, ``ci_high``, ``n``, ``flag_low`` and ``reason`` of shape
        ``(...)``; ``item_rest_r`` and ``alpha_if_deleted`` of shape ``(..., k)``; ``k`` the
        item count.

    Notes
    -----
    The formulas of :func:`cronbach_alpha` (which calls this function with its one
    matrix), applied to every matrix of the stack; the two F quantiles of the Feldt interval
    are one vectorised call each. Reasons: ``"fewer than 2 items"``, ``"no complete
    cases"`` (``n = 0``), ``"n < 2"``, ``"zero variance"`` (item diagnostics still given).
    """
    cov, n, confidence, min_alpha = _alpha_from_covariance_iv(cov, n, confidence, min_alpha)
    k = cov.shape[-1]
    defined = (n >= 2) & (k >= 2)
    cov = np.where(defined[..., None, None], cov, np.nan)
    item_var = np.diagonal(cov, axis1=-2, axis2=-1)
    total_var = cov.sum(axis=(-2, -1))
    row_sum = cov.sum(axis=-1)
    rest_var = total_var[..., None] - 2.0 * row_sum + item_var
    sum_var = item_var.sum(axis=-1)
    with quiet():
        item_rest_r = np.where(
            (item_var > 0) & (rest_var > 0),
            (row_sum - item_var) / np.sqrt(item_var * rest_var),
            np.nan,
        )
        alpha_if_deleted = np.where(
            (rest_var > 0) & (k >= 3),
            (k - 1) / max(k - 2, 1) * (1.0 - (sum_var[..., None] - item_var) / rest_var),
            np.nan,
        )
        # Zero (or rounding-level) variance of the total makes alpha 0/0.
        zero = defined & ~(total_var > 1e-12 * np.maximum(sum_var, 1.0))
        computed = defined & ~zero
        alpha = np.where(computed, k / max(k - 1, 1) * (1.0 - sum_var / total_var), np.nan)
    df1 = np.where(computed, n - 1, 1)
    df2 = df1 * max(k - 1, 1)
    gamma = 1.0 - confidence
    ci_low = 1.0 - (1.0 - alpha) * stats.f.isf(gamma / 2, df1, df2)
    ci_high = 1.0 - (1.0 - alpha) * stats.f.isf(1.0 - gamma / 2, df1, df2)

    reason = reason_array(n.shape)
    reason[zero] = Reason.ZERO_VARIANCE
    reason[n < 2] = Reason.N_LT_2
    reason[n == 0] = Reason.NO_COMPLETE_CASES
    if k < 2:
        reason[...] = Reason.K_LT_2
    return AlphaResult(
        alpha=alpha,
        ci_low=ci_low,
        ci_high=ci_high,
        n=n,
        k=k,
        item_rest_r=item_rest_r,
        alpha_if_deleted=alpha_if_deleted,
        flag_low=computed & (alpha < min_alpha),
        reason=reason,
        confidence=confidence,
    )


def _complete_case_covariance_iv(x, codes, n_groups):
    arr = np.asarray(x)
    if arr.ndim not in (2, 3):
        raise ValueError(f"`x` must be (n_responses, k) or (n_responses, S, k), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        arr = as_float_array(arr, name="x")
        if np.any(np.isinf(arr)):
            raise ValueError("`x` must be finite or NaN")
    return arr, as_codes(codes, n_groups, n=arr.shape[0]), int(n_groups)


def _block_cross_products(rows: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """:math:`\\sum_r x_r x_r^\\top` of each block of consecutive rows: one small matrix
    product per (group, item set) block, never per response (a stacked outer product would be
    a k²-wide temporary that reductions read slowly once it outgrows the cache)."""
    k = rows.shape[1]
    blocks = np.split(rows, np.cumsum(sizes)[:-1])
    return np.stack([b.T @ b for b in blocks]) if blocks else np.zeros((0, k, k))


def complete_case_covariance(x, codes, n_groups: int, *, margin: bool = False):
    r"""Sample covariance matrix of the items over each group's complete cases.

    Parameters
    ----------
    x : array_like, shape (n_responses, k) or (n_responses, S, k)
        Answers to one item set of :math:`k` items, or to :math:`S` item sets of :math:`k`
        items each (e.g. the dimensions of an instrument): floats with NaN for missing, or
        integer answer codes (``1..K`` answered, ``0`` or negative missing). A response
        missing any answer of a set is left out of that set (listwise deletion).
    codes : array_like of int, shape (n_responses,)
        Group of each response, ``0..n_groups-1``; negative codes are ignored.
    n_groups : int
    margin : bool, optional
        Add one more group, every response of the groups together (default False).

    Returns
    -------
    n : ndarray of int, shape (G,) or (G, S)
        Complete cases per group (``G = n_groups``, plus one with ``margin``) and set.
    cov : ndarray, shape (G, k, k) or (G, S, k, k)
        Covariance matrices (``ddof=1``); NaN where ``n < 2``. Pass both to
        :func:`alpha_from_covariance`.

    Notes
    -----
    Every group and set at once: the complete (response, set) rows are sorted by group and
    set once; the sums are one :func:`numpy.add.reduceat` over the sorted rows and the
    cross-products one matrix product per (group, set) block. Float answers take two passes: the means, then
    :math:`C = \frac{1}{n-1}\sum (x_r-\bar x)(x_r-\bar x)^\top`; the margin combines the
    groups exactly (Chan, Golub & LeVeque 1983),
    :math:`(n-1)C = \sum_g [(n_g-1)C_g + n_g(\bar x_g-\bar x)(\bar x_g-\bar x)^\top]`.
    Integer answers take one: sums of whole numbers are exact in floating point (below
    :math:`2^{53}`), so :math:`(n-1)C = \sum x_r x_r^\top - (\sum x_r)(\sum x_r)^\top / n`
    loses nothing to cancellation, and the margin adds the groups' sums.

    References
    ----------
    .. [1] Chan, T. F., Golub, G. H., & LeVeque, R. J. (1983). Algorithms for computing the
           sample variance: analysis and recommendations. *The American Statistician*,
           37(3), 242–247.
    """
    x, codes, n_groups = _complete_case_covariance_iv(x, codes, n_groups)
    one_set = x.ndim == 2
    x3 = x[:, None, :] if one_set else x
    n_resp, n_sets, k = x3.shape
    integer = np.issubdtype(x3.dtype, np.integer)
    complete = (x3 > 0 if integer else ~np.isnan(x3)).all(axis=2) & (codes >= 0)[:, None]
    cell = np.where(complete, codes[:, None] * n_sets + np.arange(n_sets)[None, :], -1)
    order, sizes = group_order(cell.ravel(), n_groups * n_sets)
    rows = x3.reshape(n_resp * n_sets, k)[order].astype(np.float64)
    n = sizes.reshape(n_groups, n_sets).astype(np.float64)
    sums = segment_sums(rows, sizes).reshape(n_groups, n_sets, k)
    if integer:
        cross = _block_cross_products(rows, sizes).reshape(n_groups, n_sets, k, k)
        if margin:
            n, sums, cross = (np.concatenate([a, a.sum(axis=0)[None]]) for a in (n, sums, cross))
        with quiet():
            scatter = cross - sums[..., :, None] * sums[..., None, :] / n[..., None, None]
    else:
        with quiet():
            mean = sums / n[..., None]
        centred = rows - np.repeat(np.nan_to_num(mean).reshape(-1, k), sizes, axis=0)
        scatter = _block_cross_products(centred, sizes).reshape(n_groups, n_sets, k, k)
        if margin:
            total = n.sum(axis=0)
            with quiet():
                grand = (n[..., None] * np.nan_to_num(mean)).sum(axis=0) / total[:, None]
            shift = np.where(n[..., None] > 0, mean - grand, 0.0)
            between = (n[..., None, None] * shift[..., :, None] * shift[..., None, :]).sum(axis=0)
            scatter = np.concatenate([scatter, (scatter.sum(axis=0) + between)[None]])
            n = np.concatenate([n, total[None]])
    with quiet():
        cov = np.where((n >= 2)[..., None, None], scatter / (n - 1)[..., None, None], np.nan)
    n = n.astype(np.int64)
    return (n[:, 0], cov[:, 0]) if one_set else (n, cov)
