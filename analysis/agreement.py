"""Within-group agreement and reliability of group means (DESIGN §4.8).

Used to decide whether the people of a service area share a view that can be reported as one
mean: r_wg(j) and AD_M(j) per area, ICC(1) and ICC(2) across areas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis._common import (
    Reason,
    as_codes,
    as_float_2d,
    as_float_array,
    check_points,
    grouped_moments,
    quiet,
    reason_array,
)

__all__ = [
    "AgreementResult",
    "ICCResult",
    "agreement_from_item_moments",
    "icc_from_moments",
    "icc_oneway",
    "rwg_j",
]

_TINY = 1e-10  # relative size below which a spread is rounding error, not variance


@dataclass(frozen=True, slots=True)
class AgreementResult:
    """Within-group agreement per group; every array has shape ``(n_groups,)``.

    Attributes
    ----------
    n : ndarray of int
        Responses in the group with at least one answered item.
    n_items : ndarray of int
        Items with a defined variance in the group (answered by at least 2 people): the
        :math:`J` of r_wg(j).
    mean_item_variance : ndarray
        :math:`\\bar s^2_x`, the mean over those items of the within-group variance (ddof=1).
    rwg : ndarray
        r_wg(j), truncated to 0 when :math:`\\bar s^2_x > \\sigma^2_{EU}`.
    rwg_truncated : ndarray of bool
        True where that truncation happened.
    ad : ndarray
        AD_M(j): mean absolute deviation from the item mean, averaged over items.
    no_shared_view : ndarray of bool
        ``(rwg < rwg_cut) & (ad > ad_cut)``; False where either is NaN.
    reason : ndarray of str
        ``""`` or why rwg / ad are NaN (``"no answers"``, ``"n < 2"``).
    sigma2_eu : float
        Expected variance under the uniform null, :math:`(K^2-1)/12`.
    ad_cut : float
        :math:`K/6`.
    """

    n: np.ndarray
    n_items: np.ndarray
    mean_item_variance: np.ndarray
    rwg: np.ndarray
    rwg_truncated: np.ndarray
    ad: np.ndarray
    no_shared_view: np.ndarray
    reason: np.ndarray
    sigma2_eu: float
    ad_cut: float


def _agreement_iv(x, codes, n_groups, points, rwg_cut):
    x = as_float_2d(x, name="x")
    points = check_points(points)
    finite = x[~np.isnan(x)]
    if finite.size and (np.any(~np.isfinite(finite)) or finite.min() < 1 or finite.max() > points):
        raise ValueError(f"answers in `x` must lie in 1..{points} (or be NaN for missing)")
    codes = as_codes(codes, n_groups, n=x.shape[0])
    rwg_cut = float(rwg_cut)
    if not 0.0 <= rwg_cut <= 1.0:
        raise ValueError("`rwg_cut` must be between 0 and 1")
    return x, codes, int(n_groups), points, rwg_cut


def rwg_j(x, codes, n_groups: int, *, points: int = 5, rwg_cut: float = 0.70) -> AgreementResult:
    r"""Multi-item within-group agreement r_wg(j) and average deviation AD_M(j) per group.

    Parameters
    ----------
    x : array_like, shape (n_responses, n_items)
        Answers to the items of one dimension (reverse-keyed), NaN for missing.
    codes : array_like of int, shape (n_responses,)
        Group (e.g. service area) of each response; negative codes are ignored.
    n_groups : int
    points : int, optional
        Scale points :math:`K` (default 5).
    rwg_cut : float, optional
        r_wg(j) below which agreement is weak (default 0.70).

    Returns
    -------
    AgreementResult

    Notes
    -----
    **r_wg(j)** (James, Demaree & Wolf 1984 [1]_). With :math:`\bar s^2_x` the mean of the
    :math:`J` item variances within the group (each with ``ddof=1`` over the people who
    answered that item; items answered by fewer than 2 people are left out of :math:`J`) and
    the uniform ("rectangular") null variance :math:`\sigma^2_{EU} = (K^2 - 1)/12`,

    .. math::

        r_{wg(j)} = \frac{J\,(1 - \bar s^2_x/\sigma^2_{EU})}
                         {J\,(1 - \bar s^2_x/\sigma^2_{EU}) + \bar s^2_x/\sigma^2_{EU}} .

    When :math:`\bar s^2_x > \sigma^2_{EU}` the formula leaves [0, 1] (it can even exceed 1);
    following LeBreton & Senter (2008) [2]_ such values are set to 0 and ``rwg_truncated``
    records it.

    **AD_M(j)** (Burke, Finkelstein & Dusig 1999 [3]_): for each item the mean absolute
    deviation of the answers from the group's item mean, averaged over the items answered by
    at least 2 people. Burke & Dunlap (2002) [4]_ give :math:`K/6` as the upper limit of
    practical agreement, so a group is marked "no shared view" (DESIGN §4.8) when
    :math:`r_{wg(j)} < 0.70` and :math:`AD_M(j) > K/6`.

    All groups are computed at once: (group, item) cells are reduced with
    :func:`numpy.bincount`.

    References
    ----------
    .. [1] James, L. R., Demaree, R. G., & Wolf, G. (1984). Estimating within-group interrater
           reliability with and without response bias. *Journal of Applied Psychology*, 69(1),
           85–98.
    .. [2] LeBreton, J. M., & Senter, J. L. (2008). Answers to 20 questions about interrater
           reliability and interrater agreement. *Organizational Research Methods*, 11(4),
           815–852.
    .. [3] Burke, M. J., Finkelstein, L. M., & Dusig, M. S. (1999). On average deviation
           indices for estimating interrater agreement. *Organizational Research Methods*,
           2(1), 49–68.
    .. [4] Burke, M. J., & Dunlap, W. P. (2002). Estimating interrater agreement with the
           average deviation index: a user's guide. *Organizational Research Methods*, 5(2),
           159–172.
    """
    x, codes, n_groups, points, rwg_cut = _agreement_iv(x, codes, n_groups, points, rwg_cut)
    n_resp, n_items = x.shape
    count, mean, ss = grouped_moments(x, codes, n_groups)

    # AD per (group, item): second pass over the answers with the cell mean.
    keep = ~np.isnan(x) & (codes >= 0)[:, None]
    cell = (codes[:, None] * n_items + np.arange(n_items)[None, :])[keep]
    abs_dev = np.abs(x[keep] - mean.ravel()[cell])
    sad = np.bincount(cell, weights=abs_dev, minlength=n_groups * n_items).reshape(count.shape)

    answered_any = np.bincount(codes[keep.any(axis=1)], minlength=n_groups).astype(np.int64)
    return agreement_from_item_moments(count, ss, sad, answered_any, points=points, rwg_cut=rwg_cut)


def agreement_from_item_moments(
    count, ss, sad, n_responses, *, points: int = 5, rwg_cut: float = 0.70
) -> AgreementResult:
    """:class:`AgreementResult` from per-(group, item) moments of the answers.

    The core of :func:`rwg_j` (and of :func:`analysis.frequencies.rwg_j_from_counts`).
    ``count``, ``ss`` and ``sad`` have shape ``(n_groups, n_items)``: answers, their sum of
    squared deviations and their sum of absolute deviations from the (group, item) mean;
    ``n_responses`` (``(n_groups,)``) counts the responses with at least one answered item.
    Inputs are already checked; formulas are those of :func:`rwg_j`.
    """
    usable = count >= 2
    j = usable.sum(axis=1)
    with quiet():
        item_var = np.where(usable, ss / (count - 1), 0.0)
        item_ad = np.where(usable, sad / count, 0.0)
        mean_var = np.where(j > 0, item_var.sum(axis=1) / j, np.nan)
        ad = np.where(j > 0, item_ad.sum(axis=1) / j, np.nan)
        sigma2_eu = (points**2 - 1) / 12.0
        ratio = mean_var / sigma2_eu
        raw = j * (1.0 - ratio) / (j * (1.0 - ratio) + ratio)
    truncated = (j > 0) & (ratio > 1.0)
    rwg = np.where(truncated, 0.0, raw)
    rwg = np.where(j > 0, rwg, np.nan)

    answered_any = np.asarray(n_responses).astype(np.int64)
    reason = reason_array(j.shape)
    reason[j == 0] = Reason.N_LT_2
    reason[answered_any == 0] = Reason.NO_ANSWERS

    ad_cut = points / 6.0
    no_shared_view = (j > 0) & (rwg < rwg_cut) & (ad > ad_cut)
    return AgreementResult(
        n=answered_any,
        n_items=j.astype(np.int64),
        mean_item_variance=mean_var,
        rwg=rwg,
        rwg_truncated=truncated,
        ad=ad,
        no_shared_view=no_shared_view,
        reason=reason,
        sigma2_eu=sigma2_eu,
        ad_cut=ad_cut,
    )


@dataclass(frozen=True, slots=True)
class ICCResult:
    """One-way ANOVA intraclass correlations across groups.

    Scalars for 1-D ``values``; arrays of shape ``(n_columns,)`` for 2-D.

    Attributes
    ----------
    icc1 : float or ndarray
        ICC(1): share of variance between groups (reliability of one person's answer).
    icc2 : float or ndarray
        ICC(2): reliability of the group means.
    f, p : float or ndarray
        ANOVA F statistic and its upper-tail p-value.
    df_between, df_within : int or ndarray
        :math:`J - 1` and :math:`N - J`.
    k0 : float or ndarray
        Effective group size used in ICC(1).
    n_groups_used : int or ndarray
        Groups with at least one value (:math:`J`).
    reason : str or ndarray of str
        ``""``, ``"no answers"``, ``"fewer than 2 groups"``, ``"n < 2"`` (no group has two
        values, so there is no within-group variance) or ``"zero variance"``.
    """

    icc1: np.ndarray | float
    icc2: np.ndarray | float
    f: np.ndarray | float
    df_between: np.ndarray | int
    df_within: np.ndarray | int
    p: np.ndarray | float
    k0: np.ndarray | float
    n_groups_used: np.ndarray | int
    reason: np.ndarray | str


def icc_oneway(values, codes, n_groups: int) -> ICCResult:
    r"""ICC(1) and ICC(2) from a one-way random-effects ANOVA across groups.

    Parameters
    ----------
    values : array_like, shape (n_responses,) or (n_responses, n_columns)
        Individual scores (e.g. a dimension score); NaN excluded column by column.
    codes : array_like of int, shape (n_responses,)
        Group of each response; negative codes are ignored.
    n_groups : int
        Number of group codes; groups with no values are left out of the ANOVA.

    Returns
    -------
    ICCResult

    Notes
    -----
    With :math:`J` non-empty groups of sizes :math:`n_j`, :math:`N = \sum n_j`,

    .. math::

        MSB = \frac{\sum_j n_j(\bar x_j - \bar x)^2}{J-1}, \quad
        MSW = \frac{\sum_j\sum_i (x_{ij} - \bar x_j)^2}{N-J}, \quad F = MSB/MSW,

    .. math::

        \mathrm{ICC}(1) = \frac{MSB - MSW}{MSB + (k_0 - 1)\,MSW}, \qquad
        \mathrm{ICC}(2) = \frac{MSB - MSW}{MSB} = 1 - \frac1F .

    ICC(1) is Shrout & Fleiss's (1979) [1]_ ICC(1,1) and ICC(2) their ICC(1,k), in Bliese's
    (2000) [2]_ naming for aggregating individuals to groups. Groups here are of unequal size,
    so the group size :math:`k` is the ANOVA's effective size

    .. math::

        k_0 = \frac{1}{J-1}\left(N - \frac{\sum_j n_j^2}{N}\right)

    (Snedecor & Cochran 1989 [3]_; equal to :math:`n_j` when groups are balanced) rather
    than the plain average group size. ``p`` is the upper tail of :math:`F(J-1, N-J)`.
    When :math:`MSW = 0 < MSB` the ICCs are 1 and :math:`F = \infty`. When every group
    mean is equal (:math:`MSB = 0 < MSW`), ICC(2) = 1 − 1/F is undefined (−∞) and is
    returned as NaN; ICC(1) is then −1/(k0 − 1), its lower bound.

    References
    ----------
    .. [1] Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing
           rater reliability. *Psychological Bulletin*, 86(2), 420–428.
    .. [2] Bliese, P. D. (2000). Within-group agreement, non-independence, and reliability:
           implications for data aggregation and analysis. In K. J. Klein & S. W. J. Kozlowski
           (Eds.), *Multilevel Theory, Research, and Methods in Organizations* (pp. 349–381).
           San Francisco: Jossey-Bass.
    .. [3] Snedecor, G. W., & Cochran, W. G. (1989). *Statistical Methods* (8th ed.), §13.7.
           Ames: Iowa State University Press.
    """
    v = as_float_array(values, name="values")
    if v.ndim not in (1, 2):
        raise ValueError(f"`values` must be 1-D or 2-D, got shape {v.shape}")
    if np.any(np.isinf(v)):
        raise ValueError("`values` must be finite or NaN")
    one_d = v.ndim == 1
    v2 = v[:, None] if one_d else v
    codes = as_codes(codes, n_groups, n=v2.shape[0])

    count, mean, ss = grouped_moments(v2, codes, int(n_groups))
    res = icc_from_moments(count, mean, ss)
    if not one_d:
        return res
    return ICCResult(*(getattr(res, f)[0] for f in ICCResult.__slots__))


def icc_from_moments(count, mean, ss) -> ICCResult:
    """:class:`ICCResult` from per-group count, mean and sum of squared deviations.

    The core of :func:`icc_oneway` (and of :func:`analysis.frequencies.icc_oneway_from_counts`):
    arrays of shape ``(n_groups, ...)`` with the groups on the first axis, already checked
    (``mean`` NaN where ``count`` is 0); the results have the remaining shape. Formulas and
    reasons are those of :func:`icc_oneway`.
    """
    big_n = count.sum(axis=0)
    n_used = (count > 0).sum(axis=0)
    with quiet():
        grand = np.where(big_n > 0, np.nansum(mean * count, axis=0) / big_n, np.nan)
        ssb = np.nansum(count * (np.where(count > 0, mean, 0.0) - grand) ** 2, axis=0)
        ssw = ss.sum(axis=0)
        df_b = n_used - 1
        df_w = big_n - n_used
        msb = ssb / df_b
        msw = ssw / df_w
        k0 = (big_n - (count**2).sum(axis=0) / big_n) / df_b
        icc1 = (msb - msw) / (msb + (k0 - 1.0) * msw)
        icc2 = (msb - msw) / msb
        f = msb / msw
        # All values equal (up to rounding in the means): both mean squares are 0/noise.
        zero_var = np.sqrt((ssb + ssw) / big_n) <= _TINY * np.maximum(1.0, np.abs(grand))
    p = stats.f.sf(np.where(np.isfinite(f), f, 0.0), np.maximum(df_b, 1), np.maximum(df_w, 1))
    p = np.where(np.isinf(f), 0.0, p)

    reason = reason_array(big_n.shape)
    reason[zero_var] = Reason.ZERO_VARIANCE
    reason[df_w < 1] = Reason.N_LT_2
    reason[n_used < 2] = Reason.TOO_FEW_GROUPS
    reason[big_n == 0] = Reason.NO_ANSWERS
    bad = reason != Reason.OK
    icc1, icc2, f, p = (np.where(bad, np.nan, a) for a in (icc1, icc2, f, p))
    # Equal group means (MSB = 0 < MSW): ICC(2) = 1 - 1/F is -inf, i.e. undefined.
    icc2 = np.where(np.isfinite(icc2), icc2, np.nan)
    k0 = np.where(n_used >= 2, k0, np.nan)
    return ICCResult(
        icc1=icc1,
        icc2=icc2,
        f=f,
        df_between=np.maximum(df_b, 0).astype(np.int64),
        df_within=np.maximum(df_w, 0).astype(np.int64),
        p=p,
        k0=k0,
        n_groups_used=n_used.astype(np.int64),
        reason=reason,
    )
