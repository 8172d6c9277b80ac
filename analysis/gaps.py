"""Perception gaps between client and supplier, and change between waves (DESIGN §4.9–4.10).

Every function works on many cells at once: respondent-level answers come in as one float
array with a parallel array of integer cell codes, and the per-cell statistics are computed
with :func:`numpy.bincount` and one :func:`numpy.lexsort`, never a Python loop over
respondents or cells.

Conventions
-----------
values
    Float array, ``np.nan`` for a missing answer (or missing dimension score).
codes
    Integer array of cell membership, ``0..n_groups-1``; a negative code means "ignore".
side
    Integer array, ``0`` = client, ``1`` = supplier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis._common import (
    N_,
    Reason,
    as_codes,
    as_float_array,
    check_confidence,
    grouped_moments,
    quiet,
    reason_array,
)
from analysis._two_sample import _hedges_core, _mann_whitney_core, _moments_compared

__all__ = [
    "CLIENT",
    "SUPPLIER",
    "EffectSize",
    "GapResult",
    "ChangeResult",
    "hedges_g",
    "perception_gaps",
    "benjamini_hochberg",
    "material_gap",
    "change_between_waves",
    "change_from_moments",
    "gaps_from_moments",
    "GapChangeResult",
    "gap_change_between_waves",
]

CLIENT = 0
SUPPLIER = 1

# Reasons (Reason.OK, the empty string, means "computed").
_FEW = N_("fewer than 2 responses in a group")
_NO_VARIATION = N_("no variation within either group")


# ---------------------------------------------------------------------------------------------
# Result objects
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EffectSize:
    """Hedges' g with its confidence interval.

    Attributes
    ----------
    g : float or ndarray
        Bias-corrected standardised mean difference, group 1 minus group 2.
    ci_low, ci_high : float or ndarray
        Confidence limits of ``g``.
    reason : str or ndarray of str
        Why ``g`` is NaN; ``""`` where it was computed.
    """

    g: np.ndarray | float
    ci_low: np.ndarray | float
    ci_high: np.ndarray | float
    reason: np.ndarray | str


@dataclass(frozen=True, slots=True)
class GapResult:
    """Per-cell client–supplier perception gap (DESIGN §4.9).

    All fields are arrays of length ``n_groups``. Signs: ``difference``, ``g``,
    ``cliffs_delta`` and ``welch_t`` are positive when the **client** side scores higher
    than the supplier side (client − supplier).

    Attributes
    ----------
    n_client, n_supplier : ndarray of int
        Non-missing answers on each side.
    mean_client, mean_supplier : ndarray
        Side means on the 1–K scale.
    sd_client, sd_supplier : ndarray
        Side standard deviations (``ddof=1``; NaN below 2 answers).
    difference : ndarray
        ``mean_client - mean_supplier``.
    g, g_ci_low, g_ci_high : ndarray
        Hedges' g (client − supplier) and its confidence interval.
    cliffs_delta : ndarray
        Cliff's δ = P(client > supplier) − P(client < supplier).
    welch_t, welch_df, welch_p : ndarray
        Welch's unequal-variance t-test, two-sided.
    mw_u, mw_p : ndarray
        Mann–Whitney U of the client side and its two-sided asymptotic p-value.
    p_adjusted : ndarray
        Benjamini–Hochberg adjusted ``welch_p`` across the cells of this call (NaN cells do
        not count in the family).
    reason : ndarray of str
        Why some statistic of the cell is NaN; ``""`` where everything was computed.
    """

    n_client: np.ndarray
    n_supplier: np.ndarray
    mean_client: np.ndarray
    mean_supplier: np.ndarray
    sd_client: np.ndarray
    sd_supplier: np.ndarray
    difference: np.ndarray
    g: np.ndarray
    g_ci_low: np.ndarray
    g_ci_high: np.ndarray
    cliffs_delta: np.ndarray
    welch_t: np.ndarray
    welch_df: np.ndarray
    welch_p: np.ndarray
    mw_u: np.ndarray
    mw_p: np.ndarray
    p_adjusted: np.ndarray
    reason: np.ndarray


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """Per-cell change between two waves (DESIGN §4.10).

    All fields are arrays of length ``n_groups``. Signs: ``difference`` and ``g`` are
    positive when the current wave scores higher (current − previous).

    Attributes
    ----------
    n_prev, n_curr : ndarray of int
    mean_prev, mean_curr : ndarray
    difference : ndarray
        ``mean_curr - mean_prev`` on the 1–K scale.
    g, g_ci_low, g_ci_high : ndarray
        Hedges' g (current − previous) and its confidence interval.
    welch_t, welch_df, welch_p : ndarray
        Welch's t-test of the two waves (independent samples of respondents).
    p_adjusted : ndarray
        Benjamini–Hochberg adjusted ``welch_p`` across the cells of this call.
    reason : ndarray of str
    """

    n_prev: np.ndarray
    n_curr: np.ndarray
    mean_prev: np.ndarray
    mean_curr: np.ndarray
    difference: np.ndarray
    g: np.ndarray
    g_ci_low: np.ndarray
    g_ci_high: np.ndarray
    welch_t: np.ndarray
    welch_df: np.ndarray
    welch_p: np.ndarray
    p_adjusted: np.ndarray
    reason: np.ndarray


# ---------------------------------------------------------------------------------------------
# Private vectorised cores
# ---------------------------------------------------------------------------------------------


def _as_out(a):
    """0-d arrays come back as Python scalars."""
    return a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def _hedges_g_iv(mean1, sd1, n1, mean2, sd2, n2, confidence):
    arrays = [
        as_float_array(a, name=name)
        for a, name in (
            (mean1, "mean1"),
            (sd1, "sd1"),
            (n1, "n1"),
            (mean2, "mean2"),
            (sd2, "sd2"),
            (n2, "n2"),
        )
    ]
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError as exc:
        raise ValueError("the six inputs must broadcast to one shape") from exc
    with quiet():
        if np.any(arrays[1] < 0) or np.any(arrays[4] < 0):
            raise ValueError("standard deviations must be non-negative")
        if np.any(arrays[2] < 0) or np.any(arrays[5] < 0):
            raise ValueError("sample sizes must be non-negative")
    return arrays, check_confidence(confidence)


def hedges_g(mean1, sd1, n1, mean2, sd2, n2, *, confidence=0.95):
    r"""Hedges' g, the small-sample corrected standardised mean difference, with a CI.

    Parameters
    ----------
    mean1, sd1, n1 : array_like
        Mean, standard deviation (``ddof=1``) and size of group 1.
    mean2, sd2, n2 : array_like
        The same for group 2. All six inputs broadcast together.
    confidence : float, optional
        Confidence level of the interval (default 0.95).

    Returns
    -------
    EffectSize
        ``g`` (group 1 − group 2), ``ci_low``, ``ci_high`` and ``reason``; scalars for
        scalar input, arrays of the broadcast shape otherwise. NaN with a reason when a
        group has fewer than 2 members, both groups have zero variance, or an input is NaN.

    Notes
    -----
    With the pooled standard deviation

    .. math:: s_p = \sqrt{\frac{(n_1-1)s_1^2 + (n_2-1)s_2^2}{n_1+n_2-2}},\quad
              d = \frac{\bar x_1 - \bar x_2}{s_p},

    Hedges' correction uses the usual approximation of the exact gamma-function factor
    (Hedges 1981, eq. 6e):

    .. math:: g = J d,\qquad J = 1 - \frac{3}{4(n_1+n_2) - 9}.

    The confidence interval is :math:`g \pm t_{1-\alpha/2,\,n_1+n_2-2}\,SE` with the
    large-sample standard error of Hedges & Olkin (1985, ch. 5, eq. 14)

    .. math:: SE = \sqrt{\frac{n_1+n_2}{n_1 n_2} + \frac{g^2}{2(n_1+n_2)}} .

    The t critical value (rather than z) follows R's ``effsize::cohen.d(noncentral=FALSE)``
    and ``pingouin.compute_esci``; the difference from z is negligible for survey-sized
    groups.

    References
    ----------
    .. [1] Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size
           and related estimators. *Journal of Educational Statistics*, 6(2), 107–128.
    .. [2] Hedges, L. V., & Olkin, I. (1985). *Statistical Methods for Meta-Analysis*.
           Academic Press.

    Examples
    --------
    >>> from analysis.gaps import hedges_g
    >>> res = hedges_g(3.8, 0.9, 40, 3.2, 0.8, 35)
    >>> round(float(res.g), 3)
    0.695
    """
    (m1, s1, a1, m2, s2, a2), confidence = _hedges_g_iv(mean1, sd1, n1, mean2, sd2, n2, confidence)
    g, low, high, ok = _hedges_core(m1, s1**2, a1, m2, s2**2, a2, confidence)
    reason = reason_array(g.shape)
    with quiet():
        few = (a1 < 2) | (a2 < 2)
        missing = ~np.isfinite(m1 - m2) | ~np.isfinite(s1) | ~np.isfinite(s2)
    reason[~ok] = _NO_VARIATION
    reason[~ok & missing] = Reason.MISSING_INPUT
    reason[~ok & few] = _FEW
    return EffectSize(_as_out(g), _as_out(low), _as_out(high), _as_out(reason))


def _perception_gaps_iv(values, side, codes, n_groups, confidence):
    values = as_float_array(values, name="values", ndim=1)
    n = values.shape[0]
    codes = as_codes(codes, n_groups, n=n)
    side_arr = np.asarray(side)
    if side_arr.shape != (n,):
        raise ValueError(f"`side` must be 1-D of length {n}, got shape {side_arr.shape}")
    used = codes >= 0
    if not np.all(np.isin(side_arr[used], (CLIENT, SUPPLIER))):
        raise ValueError("`side` must be 0 (client) or 1 (supplier)")
    side_arr = np.where(used, side_arr, 0).astype(np.int64)
    return values, side_arr, codes, int(n_groups), check_confidence(confidence)


def perception_gaps(values, side, codes, n_groups, *, confidence=0.95):
    r"""Client–supplier perception gap in every cell at once (DESIGN §4.9).

    Parameters
    ----------
    values : array_like of float, shape (n,)
        One score per respondent (e.g. a dimension score on the 1–K scale); NaN = missing.
    side : array_like of int, shape (n,)
        ``0`` = client, ``1`` = supplier.
    codes : array_like of int, shape (n,)
        Cell of each respondent, ``0..n_groups-1``; negative = ignore.
    n_groups : int
        Number of cells.
    confidence : float, optional
        Confidence level of the Hedges' g interval.

    Returns
    -------
    GapResult
        Arrays of length ``n_groups``; the sign convention is client − supplier.

    Notes
    -----
    *Difference and Hedges' g* — see :func:`hedges_g`; computed for all cells from per-cell
    counts, means and two-pass sums of squares (:func:`numpy.bincount`).

    *Welch's t-test* (Welch 1947):

    .. math:: t = \frac{\bar x_c - \bar x_s}{\sqrt{s_c^2/n_c + s_s^2/n_s}},\quad
              \nu = \frac{(s_c^2/n_c + s_s^2/n_s)^2}
                         {\frac{(s_c^2/n_c)^2}{n_c-1} + \frac{(s_s^2/n_s)^2}{n_s-1}},

    two-sided :math:`p = 2\,P(T_\nu > |t|)`; identical to
    ``scipy.stats.ttest_ind(equal_var=False)``.

    *Mann–Whitney U* of the client side: :math:`U_c = R_c - n_c(n_c+1)/2` with mid-ranks
    of the pooled cell. Ranks within every cell come from one ``lexsort`` by (cell, value).
    The p-value always uses the **normal approximation with tie correction and continuity
    correction**, as ``scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=True)``:

    .. math:: z = \frac{\max(U_c, U_s) - n_c n_s/2 - 1/2}
                       {\sqrt{\frac{n_c n_s}{12}\left((n+1) - \frac{\sum_j (t_j^3 - t_j)}
                       {n(n-1)}\right)}},\qquad p = 2\,\Phi(-z),

    where :math:`t_j` are the sizes of the groups of tied values. Survey answers are heavily
    tied, so the exact (no-ties) distribution does not apply; the asymptotic form is used
    even for small cells, and those cells are in any case suppressed (DESIGN §4.14).

    *Cliff's δ* from the same U (Cliff 1993): :math:`\delta = 2U_c/(n_c n_s) - 1`.

    *Adjustment*: ``p_adjusted`` is :func:`benjamini_hochberg` applied to ``welch_p``
    across the cells of this call, so pass one wave's cells per call (DESIGN §4.9 adjusts
    "within a wave"). For another family, apply :func:`benjamini_hochberg` yourself.

    Cells with fewer than 2 answers on a side are NaN with a reason; a cell with no
    variation on either side has NaN g, t and p (δ and U remain defined).

    References
    ----------
    .. [1] Welch, B. L. (1947). The generalization of "Student's" problem when several
           different population variances are involved. *Biometrika*, 34, 28–35.
    .. [2] Mann, H. B., & Whitney, D. R. (1947). On a test of whether one of two random
           variables is stochastically larger than the other. *Ann. Math. Statist.*, 18,
           50–60.
    .. [3] Cliff, N. (1993). Dominance statistics: Ordinal analyses to answer ordinal
           questions. *Psychological Bulletin*, 114(3), 494–509.
    .. [4] Hedges, L. V., & Olkin, I. (1985). *Statistical Methods for Meta-Analysis*.
    """
    values, side, codes, n_groups, confidence = _perception_gaps_iv(
        values, side, codes, n_groups, confidence
    )
    keep = np.isfinite(values) & (codes >= 0)
    v, c, s = values[keep], codes[keep], side[keep]

    count, mean, ss = grouped_moments(v[:, None], c * 2 + s, 2 * n_groups)
    count, mean, ss = count.reshape(n_groups, 2), mean.reshape(n_groups, 2), ss.reshape(n_groups, 2)
    u1, mw_p, _, _ = _mann_whitney_core(v, c, s, n_groups)
    return gaps_from_moments(
        (count[:, 0], mean[:, 0], ss[:, 0]),
        (count[:, 1], mean[:, 1], ss[:, 1]),
        u1,
        mw_p,
        confidence=confidence,
    )


def gaps_from_moments(client, supplier, mw_u, mw_p, *, confidence=0.95) -> GapResult:
    """:class:`GapResult` from each side's moments and the Mann–Whitney U and p of each cell.

    The core of :func:`perception_gaps` (and of
    :func:`analysis.frequencies.perception_gaps_from_counts`). ``client`` and ``supplier``
    are ``(count, mean, ss)`` triples (``ss`` the sum of squared deviations from the mean);
    every array has the cells' shape and is already checked. Formulas and reasons are those
    of :func:`perception_gaps`; ``p_adjusted`` adjusts across every cell given.
    """
    nc, mc, _ = client
    ns, ms, _ = supplier
    vc, vs, difference, g, low, high, t, df, p = _moments_compared(client, supplier, confidence)
    u1, mw_p = np.array(mw_u, dtype=np.float64), np.array(mw_p, dtype=np.float64)
    with quiet():
        delta = np.where((nc > 0) & (ns > 0), 2.0 * u1 / (nc * ns) - 1.0, np.nan)

    reason = reason_array(np.shape(nc))
    reason[np.isnan(g) | np.isnan(p) | np.isnan(mw_p)] = _NO_VARIATION
    reason[(nc < 2) | (ns < 2)] = _FEW
    few = (nc < 2) | (ns < 2)
    for arr in (g, low, high, t, df, p, u1, mw_p, delta):
        arr[few] = np.nan
    return GapResult(
        n_client=nc.astype(np.int64),
        n_supplier=ns.astype(np.int64),
        mean_client=mc,
        mean_supplier=ms,
        sd_client=np.sqrt(vc),
        sd_supplier=np.sqrt(vs),
        difference=difference,
        g=g,
        g_ci_low=low,
        g_ci_high=high,
        cliffs_delta=delta,
        welch_t=t,
        welch_df=df,
        welch_p=p,
        mw_u=u1,
        mw_p=mw_p,
        p_adjusted=benjamini_hochberg(p),
        reason=reason,
    )


def _benjamini_hochberg_iv(p):
    p = as_float_array(p, name="p")
    with quiet():
        if np.any((p < 0) | (p > 1)):
            raise ValueError("p-values must lie in [0, 1]")
    return p


def benjamini_hochberg(p):
    r"""Benjamini–Hochberg adjusted p-values, ignoring NaN.

    Parameters
    ----------
    p : array_like of float
        Raw p-values, any shape; NaN entries (untested cells) stay NaN and do not count in
        the number of tests ``m``.

    Returns
    -------
    ndarray
        Adjusted p-values of the same shape.

    Notes
    -----
    With the non-missing p-values sorted, :math:`p_{(1)} \le \dots \le p_{(m)}`,

    .. math:: \tilde p_{(i)} = \min\Bigl(1,\ \min_{j \ge i} \frac{m}{j}\,p_{(j)}\Bigr),

    the step-up adjustment of Benjamini & Hochberg (1995); equal to
    ``scipy.stats.false_discovery_control(p, method="bh")`` on the non-NaN entries.

    References
    ----------
    .. [1] Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: a
           practical and powerful approach to multiple testing. *JRSS B*, 57(1), 289–300.
    """
    p = _benjamini_hochberg_iv(p)
    out = np.full(p.shape, np.nan)
    flat = p.ravel()
    idx = np.flatnonzero(~np.isnan(flat))
    m = idx.size
    if m == 0:
        return out
    order = np.argsort(flat[idx], kind="stable")
    ranked = flat[idx][order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(ranked, 1.0)
    out.ravel()[idx] = adjusted
    return out


def material_gap(difference, g, p_adjusted, *, alpha=0.05, min_difference=0.5, min_g=0.5):
    r"""Whether each perception gap is *material* (DESIGN §4.9).

    Parameters
    ----------
    difference : array_like
        Client − supplier difference of means, 1–K scale points.
    g : array_like
        Hedges' g.
    p_adjusted : array_like
        Benjamini–Hochberg adjusted p-value.
    alpha : float, optional
        Significance level after adjustment (default 0.05).
    min_difference, min_g : float, optional
        Size thresholds (default 0.5 scale points and 0.5 for |g|).

    Returns
    -------
    ndarray of bool
        ``p_adjusted < alpha`` and (``|difference| >= min_difference`` or
        ``|g| >= min_g``). NaN in any deciding input counts as not material.

    Notes
    -----
    .. math:: \text{material} = (\tilde p < \alpha) \wedge
              \bigl(|\Delta| \ge 0.5 \ \vee\ |g| \ge 0.5\bigr)

    The size threshold for g follows Cohen's (1988) conventional "medium" effect.

    References
    ----------
    .. [1] Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences*
           (2nd ed.). Erlbaum.
    """
    d, gg, pa = np.broadcast_arrays(
        as_float_array(difference, name="difference"),
        as_float_array(g, name="g"),
        as_float_array(p_adjusted, name="p_adjusted"),
    )
    if not 0.0 < alpha < 1.0:
        raise ValueError("`alpha` must be between 0 and 1")
    with quiet():
        big = (np.abs(d) >= min_difference) | (np.abs(gg) >= min_g)
        return (pa < alpha) & big


def _change_between_waves_iv(prev_values, prev_codes, curr_values, curr_codes, n_groups, conf):
    prev_values = as_float_array(prev_values, name="prev_values", ndim=1)
    curr_values = as_float_array(curr_values, name="curr_values", ndim=1)
    prev_codes = as_codes(prev_codes, n_groups, n=prev_values.shape[0], name="prev_codes")
    curr_codes = as_codes(curr_codes, n_groups, n=curr_values.shape[0], name="curr_codes")
    return prev_values, prev_codes, curr_values, curr_codes, int(n_groups), check_confidence(conf)


def change_between_waves(
    prev_values, prev_codes, curr_values, curr_codes, n_groups, *, confidence=0.95
):
    r"""Change of every cell's mean between two waves (DESIGN §4.10).

    Parameters
    ----------
    prev_values, curr_values : array_like of float
        Respondent-level scores of the previous and the current wave; NaN = missing.
    prev_codes, curr_codes : array_like of int
        Cell of each respondent in that wave, ``0..n_groups-1``; negative = ignore.
    n_groups : int
        Number of cells (the same cell code means the same group and dimension in both
        waves).
    confidence : float, optional
        Confidence level of the Hedges' g interval.

    Returns
    -------
    ChangeResult
        Arrays of length ``n_groups``. ``difference`` and ``g`` are current − previous, so
        a fall is negative.

    Notes
    -----
    The two waves are treated as independent samples (respondents are anonymous and not
    linked across waves). ``g`` is :func:`hedges_g` of current vs previous and ``welch_p``
    the two-sided Welch test (see :func:`perception_gaps`).

    ``p_adjusted`` is provided here: :func:`benjamini_hochberg` over ``welch_p`` of all
    cells in this call, so pass one family (e.g. every group × dimension of a wave) per
    call. Call :func:`benjamini_hochberg` yourself for a different family.

    References
    ----------
    .. [1] Welch, B. L. (1947). *Biometrika*, 34, 28–35.
    .. [2] Benjamini, Y., & Hochberg, Y. (1995). *JRSS B*, 57(1), 289–300.
    """
    pv, pc, cv, cc, n_groups, confidence = _change_between_waves_iv(
        prev_values, prev_codes, curr_values, curr_codes, n_groups, confidence
    )
    current = tuple(a[:, 0] for a in grouped_moments(cv[:, None], cc, n_groups))
    previous = tuple(a[:, 0] for a in grouped_moments(pv[:, None], pc, n_groups))
    return change_from_moments(previous, current, confidence=confidence)


def change_from_moments(previous, current, *, confidence=0.95) -> ChangeResult:
    """:class:`ChangeResult` from each wave's ``(count, mean, ss)`` per cell.

    The core of :func:`change_between_waves` (and of
    :func:`analysis.frequencies.change_between_waves_from_counts`); arrays of the cells'
    shape, already checked. ``p_adjusted`` adjusts across every cell given.
    """
    n0, m0, _ = previous
    n1, m1, _ = current
    _, _, difference, g, low, high, t, df, p = _moments_compared(current, previous, confidence)
    reason = reason_array(np.shape(n1))
    reason[np.isnan(g) | np.isnan(p)] = _NO_VARIATION
    reason[(n0 < 2) | (n1 < 2)] = _FEW
    return ChangeResult(
        n_prev=n0.astype(np.int64),
        n_curr=n1.astype(np.int64),
        mean_prev=m0,
        mean_curr=m1,
        difference=difference,
        g=g,
        g_ci_low=low,
        g_ci_high=high,
        welch_t=t,
        welch_df=df,
        welch_p=p,
        p_adjusted=benjamini_hochberg(p),
        reason=reason,
    )


@dataclass(frozen=True, slots=True)
class GapChangeResult:
    """Per-cell change of the perception gap between two waves (DESIGN §4.12).

    Attributes
    ----------
    gap_prev, gap_curr : ndarray
        Client − supplier difference of means in each wave.
    change : ndarray
        ``gap_curr - gap_prev``.
    widening : ndarray
        ``|gap_curr| - |gap_prev|``: positive when the two sides drifted apart.
    t, df, p : ndarray
        Welch–Satterthwaite test of ``change = 0``, two-sided.
    p_adjusted : ndarray
        Benjamini–Hochberg adjusted ``p`` across the cells of this call.
    widened : ndarray of bool
        ``widening > 0`` and ``p_adjusted < alpha``.
    reason : ndarray of str
    """

    gap_prev: np.ndarray
    gap_curr: np.ndarray
    change: np.ndarray
    widening: np.ndarray
    t: np.ndarray
    df: np.ndarray
    p: np.ndarray
    p_adjusted: np.ndarray
    widened: np.ndarray
    reason: np.ndarray


def gap_change_between_waves(prev: GapResult, curr: GapResult, *, alpha=0.05):
    r"""Test whether each cell's perception gap changed between two waves.

    Parameters
    ----------
    prev, curr : GapResult
        :func:`perception_gaps` of the same cells in the previous and the current wave.
    alpha : float, optional
        Level for ``widened`` after adjustment (default 0.05).

    Returns
    -------
    GapChangeResult

    Notes
    -----
    The change of the gap is the contrast of four independent group means,
    :math:`\Delta = (\bar x_{c,2} - \bar x_{s,2}) - (\bar x_{c,1} - \bar x_{s,1})`, with
    :math:`SE^2 = \sum_k s_k^2/n_k` over the four groups and the Welch–Satterthwaite degrees
    of freedom :math:`\nu = (\sum_k s_k^2/n_k)^2 / \sum_k (s_k^2/n_k)^2/(n_k-1)`;
    :math:`t = \Delta/SE`, two-sided. With one wave's groups known exactly this reduces to
    Welch's test. The gap *widens* when :math:`|\text{gap}|` grows and the change is
    significant after Benjamini–Hochberg adjustment.

    References
    ----------
    .. [1] Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance
           components. *Biometrics Bulletin*, 2(6), 110–114.
    .. [2] Welch, B. L. (1947). *Biometrika*, 34, 28–35.
    """
    if np.shape(prev.difference) != np.shape(curr.difference):
        raise ValueError("`prev` and `curr` must describe the same cells")
    if not 0.0 < alpha < 1.0:
        raise ValueError("`alpha` must be between 0 and 1")
    groups = [
        (prev.sd_client, prev.n_client),
        (prev.sd_supplier, prev.n_supplier),
        (curr.sd_client, curr.n_client),
        (curr.sd_supplier, curr.n_supplier),
    ]
    shape = np.shape(curr.difference)
    t = np.full(shape, np.nan)
    df = np.full(shape, np.nan)
    p = np.full(shape, np.nan)
    with quiet():
        terms = [np.asarray(sd, dtype=np.float64) ** 2 / n for sd, n in groups]
        se2 = sum(terms)
        denom = sum(term**2 / (n - 1) for term, (_, n) in zip(terms, groups, strict=True))
        change = curr.difference - prev.difference
        widening = np.abs(curr.difference) - np.abs(prev.difference)
        ok = np.isfinite(se2) & (se2 > 0) & np.isfinite(change)
    if ok.any():
        t[ok] = change[ok] / np.sqrt(se2[ok])
        df[ok] = se2[ok] ** 2 / denom[ok]
        p[ok] = 2.0 * stats.t.sf(np.abs(t[ok]), df[ok])
    reason = reason_array(shape)
    reason[~ok] = _NO_VARIATION
    few = np.zeros(shape, dtype=bool)
    for _, n in groups:
        few |= np.asarray(n) < 2
    reason[few] = _FEW
    p_adj = benjamini_hochberg(p)
    with quiet():
        widened = (widening > 0) & (p_adj < alpha)
    return GapChangeResult(
        prev.difference, curr.difference, change, widening, t, df, p, p_adj, widened, reason
    )
