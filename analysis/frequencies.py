"""Statistics of answers and scores from their frequency tables (DESIGN §4.5–4.10).

Survey answers are small integers (1..K), and a dimension score is the mean of a few of them,
so a wave's tens of millions of answers take only a few distinct values per group: every
item-level statistic (n, mean, sd, t interval, shares, r_wg(j), AD) is a function of the
counts per group × item × scale point, and every score statistic (aggregates, ICC, Welch,
Hedges' g, Mann–Whitney U with its ties) of the counts per group × distinct score value.
Counting is one :func:`numpy.bincount` over the responses; margins (all sides, all areas)
are sums of the counts of the cells they cover; the statistics then cost nothing per
response.

Builders
    :func:`answer_counts` (answers → counts per group, item and scale point, and "don't
    know"), :func:`score_counts` (scores → distinct values and counts per group).
Statistics from counts
    :func:`group_aggregates_from_counts`, :func:`item_shares_from_counts`,
    :func:`rwg_j_from_counts`, :func:`icc_oneway_from_counts`,
    :func:`perception_gaps_from_counts`, :func:`change_between_waves_from_counts`.
Drivers from co-moments
    :func:`co_moments` (per group, pairwise complete), :meth:`CoMoments.combine` (margins),
    :func:`driver_correlations_from_moments`.

Each returns the result object of its per-response counterpart in :mod:`analysis.scoring`,
:mod:`analysis.agreement` or :mod:`analysis.gaps`, computed by the same core from the same
moments, so the two agree to rounding (the tests hold them to 1e-9, and both to SciPy and
pingouin).

Conventions: ``values`` is a 1-D array of distinct values in increasing order and
``counts`` an array whose **last** axis runs over them (any leading shape: groups,
items, dimensions); counts are whole numbers, integer or float.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis._common import (
    as_codes,
    as_float_array,
    check_confidence,
    check_points,
    group_order,
    quiet,
    segment_sums,
)
from analysis._two_sample import _mann_whitney_p
from analysis.agreement import (
    AgreementResult,
    ICCResult,
    agreement_from_item_moments,
    icc_from_moments,
)
from analysis.drivers import MIN_N, DriverResult, correlation_from_sums
from analysis.gaps import ChangeResult, GapResult, change_from_moments, gaps_from_moments
from analysis.scoring import (
    GroupAggregates,
    ItemShares,
    aggregates_from_moments,
    shares_from_tallies,
)

__all__ = [
    "AnswerCounts",
    "CoMoments",
    "ScoreCounts",
    "answer_counts",
    "change_between_waves_from_counts",
    "co_moments",
    "driver_correlations_from_moments",
    "group_aggregates_from_counts",
    "icc_oneway_from_counts",
    "item_shares_from_counts",
    "perception_gaps_from_counts",
    "rwg_j_from_counts",
    "score_counts",
]


# ------------------------------------------------------------------------------- builders


@dataclass(frozen=True, slots=True, eq=False)
class AnswerCounts:
    """Answers counted per group, item and scale point.

    Attributes
    ----------
    counts : ndarray of int64, shape (n_groups, n_items, points)
        ``counts[g, i, v - 1]``: answers ``v`` (``1..points``) to item ``i`` in group ``g``.
    dont_know : ndarray of int64, shape (n_groups, n_items)
        "Don't know" answers (code 0). Skipped items are in neither.
    """

    counts: np.ndarray
    dont_know: np.ndarray

    @property
    def values(self) -> np.ndarray:
        """The scale points ``1..K`` the last axis of ``counts`` runs over."""
        return np.arange(1.0, self.counts.shape[-1] + 1.0)


def _answer_counts_iv(answers, codes, n_groups, points):
    a = np.asarray(answers)
    if a.ndim != 2:
        raise ValueError(f"`answers` must be 2-D (n_responses, n_items), got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError("`answers` must be integer codes (1..K, 0 don't know, < 0 skipped)")
    points = check_points(points)
    if a.size and a.max() > points:
        raise ValueError(f"answers in `answers` must be at most {points}")
    if not a.size:
        a = a.astype(np.int64)
    return a, as_codes(codes, n_groups, n=a.shape[0]), int(n_groups), points


def answer_counts(answers, codes, n_groups: int, *, points: int = 5) -> AnswerCounts:
    r"""Count the answers of every group to every item, by scale point.

    Parameters
    ----------
    answers : array_like of int, shape (n_responses, n_items)
        ``1..points`` an answer (already reverse-keyed where needed), ``0`` "don't know",
        negative skipped.
    codes : array_like of int, shape (n_responses,)
        Group of each response, ``0..n_groups-1``; negative codes are ignored.
    n_groups : int
    points : int, optional
        Scale points :math:`K` (default 5).

    Returns
    -------
    AnswerCounts

    Notes
    -----
    One :func:`numpy.bincount` over the combined code
    :math:`(g \cdot m + i)(K + 2) + \max(a, -1) + 1` of every answer (skipped answers and
    ignored responses land in bins that are dropped); no Python loop over responses,
    groups or items.
    """
    a, codes, n_groups, points = _answer_counts_iv(answers, codes, n_groups, points)
    n, m = a.shape
    width = points + 2  # skipped, don't know, 1..K
    group = np.where(codes >= 0, codes, n_groups)  # the extra group collects ignored rows
    offset = (group * (m * width))[:, None] + (np.arange(m) * width + 1)[None, :]
    flat = offset + np.maximum(a, -1)
    tally = np.bincount(flat.ravel(), minlength=(n_groups + 1) * m * width)
    tally = tally.reshape(n_groups + 1, m, width)[:n_groups]
    return AnswerCounts(counts=tally[:, :, 2:], dont_know=tally[:, :, 1])


@dataclass(frozen=True, slots=True, eq=False)
class ScoreCounts:
    """Scores counted per group (and column) and distinct value.

    Attributes
    ----------
    values : ndarray, shape (V,)
        The distinct values, increasing (with ``resolution``, every multiple of
        ``1/resolution`` between the smallest and the largest score).
    counts : ndarray of int64, shape (n_groups, V) or (n_groups, n_columns, V)
        How many scores of each group (and column) equal each value; missing scores are
        not counted.
    """

    values: np.ndarray
    counts: np.ndarray


def _score_counts_iv(scores, codes, n_groups, resolution):
    s = as_float_array(scores, name="scores")
    if s.ndim not in (1, 2):
        raise ValueError(f"`scores` must be 1-D or 2-D, got shape {s.shape}")
    if np.any(np.isinf(s)):
        raise ValueError("`scores` must be finite or NaN")
    codes = as_codes(codes, n_groups, n=s.shape[0])
    if resolution is not None and (
        isinstance(resolution, bool) or int(resolution) != resolution or resolution < 1
    ):
        raise ValueError("`resolution` must be a positive integer")
    return s, codes, int(n_groups), resolution


def _value_index(s: np.ndarray, resolution: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``s`` and each entry's position among them (0 where NaN)."""
    finite = ~np.isnan(s)
    if not finite.any():
        return np.zeros(0), np.zeros(s.shape, dtype=np.intp)
    if resolution is not None:
        steps = np.rint(s * resolution)
        lo, hi = np.nanmin(steps), np.nanmax(steps)
        if hi - lo < 1e6:
            values = np.arange(lo, hi + 1.0) / resolution
            index = np.where(finite, steps - lo, 0.0).astype(np.intp)
            # Exact: a mean S/C of integers is the same double as (S * resolution/C) / resolution.
            if np.all((values[index] == s) | ~finite):
                return values, index
    values, inverse = np.unique(s[finite], return_inverse=True)
    index = np.zeros(s.shape, dtype=np.intp)
    index[finite] = inverse
    return values, index


def score_counts(scores, codes, n_groups: int, *, resolution: int | None = None) -> ScoreCounts:
    r"""Count every group's scores by distinct value: a frequency table per group and column.

    Parameters
    ----------
    scores : array_like, shape (n_responses,) or (n_responses, n_columns)
        Scores (dimension scores, the index); NaN = missing. All columns share one table of
        values.
    codes : array_like of int, shape (n_responses,)
        Group of each response, ``0..n_groups-1``; negative codes are ignored.
    n_groups : int
    resolution : int, optional
        When every score is a multiple of ``1/resolution`` — a mean of up to :math:`m`
        integer answers is a multiple of :math:`1/\operatorname{lcm}(1..m)` (12 for 4
        items) — the values are found by rounding ``score × resolution`` instead of
        sorting. Checked exactly: if any score is not such a multiple, the values are
        found by sorting after all.

    Returns
    -------
    ScoreCounts

    Notes
    -----
    Values are compared exactly, so scores equal in floating point share a value (and tie
    in rank statistics). With ``resolution`` the table is every multiple between the
    smallest and largest score, some with no count, which changes no statistic. Counting is
    one :func:`numpy.bincount`.
    """
    s, codes, n_groups, resolution = _score_counts_iv(scores, codes, n_groups, resolution)
    one_d = s.ndim == 1
    s2 = s[:, None] if one_d else s
    k = s2.shape[1]
    values, index = _value_index(s2, resolution)
    width = values.size
    keep = ~np.isnan(s2) & (codes >= 0)[:, None]
    dump = n_groups * k * width
    flat = np.where(keep, (codes[:, None] * k + np.arange(k)[None, :]) * width + index, dump)
    counts = np.bincount(flat.ravel(), minlength=dump + 1)[:dump].reshape(n_groups, k, width)
    return ScoreCounts(values=values, counts=counts[:, 0] if one_d else counts)


# ------------------------------------------------------------------------ shared checks


def _counts_iv(values, counts, *, name: str = "counts") -> tuple[np.ndarray, np.ndarray]:
    values = as_float_array(values, name="values", ndim=1)
    counts = as_float_array(counts, name=name)
    if counts.ndim < 1 or counts.shape[-1] != values.size:
        raise ValueError(
            f"the last axis of `{name}` must run over the {values.size} values, "
            f"got shape {counts.shape}"
        )
    if not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
        raise ValueError("`values` must be finite and strictly increasing")
    if counts.size and (
        not np.all(np.isfinite(counts)) or counts.min() < 0 or np.any(counts != np.rint(counts))
    ):
        raise ValueError(f"`{name}` must be non-negative whole numbers")
    return values, counts


def _moments(values: np.ndarray, counts: np.ndarray):
    """Count, mean and sum of squared deviations (two-pass) of the data a table describes."""
    n = counts.sum(axis=-1)
    with quiet():
        mean = np.where(n > 0, counts @ values / n, np.nan)
        dev = values - np.where(n > 0, mean, 0.0)[..., None]
    ss = (counts * dev * dev).sum(axis=-1)
    return n, mean, ss


# ------------------------------------------------------------------ aggregates and shares


def group_aggregates_from_counts(
    values, counts, *, points: int = 5, confidence: float = 0.95
) -> GroupAggregates:
    r"""Count, mean, SD, t interval and 0–100 score of every group, from its counts.

    Parameters
    ----------
    values : array_like, shape (V,)
        Distinct values, increasing (scale points ``1..K``, or a :class:`ScoreCounts`'s).
    counts : array_like, shape (..., V)
        Counts of each value (e.g. ``(n_groups, n_items, K)`` or ``(n_groups, V)``).
    points, confidence : optional
        Scale points (for ``score100``) and confidence level, as in
        :func:`analysis.scoring.group_aggregates` (defaults 5 and 0.95).

    Returns
    -------
    GroupAggregates
        Arrays of shape ``counts.shape[:-1]``; reasons as
        :func:`analysis.scoring.group_aggregates`.

    Notes
    -----
    With counts :math:`c_v` of values :math:`v`: :math:`n = \sum_v c_v`,
    :math:`\bar x = \sum_v c_v v / n`, :math:`SS = \sum_v c_v (v - \bar x)^2` (two passes,
    so a constant group has :math:`SS` of rounding size, caught as zero variance), then the
    formulas of :func:`analysis.scoring.group_aggregates`.
    """
    values, counts = _counts_iv(values, counts)
    points = check_points(points)
    confidence = check_confidence(confidence)
    n, mean, ss = _moments(values, counts)
    return aggregates_from_moments(n, mean, ss, points=points, confidence=confidence)


def item_shares_from_counts(values, counts, *, favourable, unfavourable) -> ItemShares:
    r"""Favourable / neutral / unfavourable shares of the answers a table counts.

    Parameters
    ----------
    values : array_like, shape (V,)
        Scale values the last axis of ``counts`` runs over (e.g. ``1..K``).
    counts : array_like, shape (..., V)
        Answers of each value; to pool several items (a dimension), sum their counts first.
    favourable, unfavourable : sequence of float
        Scale values counted as favourable / unfavourable; every other value is neutral.

    Returns
    -------
    ItemShares
        Arrays of shape ``counts.shape[:-1]``.

    Notes
    -----
    :math:`\%_{\text{fav}} = 100 \sum_{v \in F} c_v / \sum_v c_v`, and likewise; as
    :func:`analysis.scoring.item_shares`.
    """
    values, counts = _counts_iv(values, counts)
    fav = as_float_array(favourable, name="favourable", ndim=1)
    unfav = as_float_array(unfavourable, name="unfavourable", ndim=1)
    if np.intersect1d(fav, unfav).size:
        raise ValueError("`favourable` and `unfavourable` must not share a scale value")
    n = counts.sum(axis=-1)
    n_fav = counts @ np.isin(values, fav).astype(np.float64)
    n_unfav = counts @ np.isin(values, unfav).astype(np.float64)
    return shares_from_tallies(n, n_fav, n_unfav)


# -------------------------------------------------------------------------------- agreement


def rwg_j_from_counts(
    counts, n_responses, *, points: int = 5, rwg_cut: float = 0.70
) -> AgreementResult:
    r"""r_wg(j) and AD_M(j) of every group, from its answers counted per item and scale point.

    Parameters
    ----------
    counts : array_like, shape (n_groups, n_items, points)
        Answers ``1..K`` to each item of one dimension (reverse-keyed), per group:
        ``AnswerCounts.counts[:, items]``.
    n_responses : array_like of int, shape (n_groups,)
        Responses of each group with at least one answered item (the ``n`` of the result).
    points, rwg_cut : optional
        Scale points and weak-agreement cut, as in :func:`analysis.agreement.rwg_j`
        (defaults 5 and 0.70).

    Returns
    -------
    AgreementResult

    Notes
    -----
    Per (group, item): :math:`n`, the variance :math:`SS/(n-1)` and the mean absolute
    deviation :math:`\sum_v c_v |v - \bar x| / n` from the counts, then the formulas of
    :func:`analysis.agreement.rwg_j` (James, Demaree & Wolf 1984; Burke, Finkelstein &
    Dusig 1999).
    """
    points = check_points(points)
    values, counts = _counts_iv(np.arange(1.0, points + 1.0), counts)
    if counts.ndim != 3:
        raise ValueError(f"`counts` must be (n_groups, n_items, {points}), got {counts.shape}")
    n_resp = np.asarray(n_responses)
    if n_resp.shape != counts.shape[:1]:
        raise ValueError(f"`n_responses` must have shape {counts.shape[:1]}, got {n_resp.shape}")
    rwg_cut = float(rwg_cut)
    if not 0.0 <= rwg_cut <= 1.0:
        raise ValueError("`rwg_cut` must be between 0 and 1")
    n, mean, ss = _moments(values, counts)
    sad = (counts * np.abs(values - np.where(n > 0, mean, 0.0)[..., None])).sum(axis=-1)
    return agreement_from_item_moments(n, ss, sad, n_resp, points=points, rwg_cut=rwg_cut)


def icc_oneway_from_counts(values, counts) -> ICCResult:
    r"""ICC(1) and ICC(2) across groups, from each group's counts of each value.

    Parameters
    ----------
    values : array_like, shape (V,)
        Distinct values, increasing.
    counts : array_like, shape (n_groups, ..., V)
        Counts per group (first axis) and column (any further axes); groups with no count
        are left out of the ANOVA.

    Returns
    -------
    ICCResult
        Arrays of shape ``counts.shape[1:-1]`` (scalars for 2-D ``counts``).

    Notes
    -----
    The one-way ANOVA of :func:`analysis.agreement.icc_oneway` (Shrout & Fleiss 1979;
    Bliese 2000) from each group's :math:`n_j`, :math:`\bar x_j` and within-group
    :math:`SS_j`, all read off the counts.
    """
    values, counts = _counts_iv(values, counts)
    if counts.ndim < 2:
        raise ValueError(f"`counts` must be (n_groups, ..., V), got shape {counts.shape}")
    n, mean, ss = _moments(values, counts)
    res = icc_from_moments(n, mean, ss)
    if counts.ndim > 2:
        return res
    return ICCResult(*(np.asarray(getattr(res, f))[()] for f in ICCResult.__slots__))


# ------------------------------------------------------------------- gaps and change


def _two_tables_iv(values, first, second, names, confidence):
    values, first = _counts_iv(values, first, name=names[0])
    _, second = _counts_iv(values, second, name=names[1])
    if first.shape != second.shape:
        raise ValueError(f"`{names[0]}` and `{names[1]}` must have one shape")
    return values, first, second, check_confidence(confidence)


def perception_gaps_from_counts(
    values, client_counts, supplier_counts, *, confidence: float = 0.95
) -> GapResult:
    r"""Client–supplier perception gap of every cell, from each side's counts of each value.

    Parameters
    ----------
    values : array_like, shape (V,)
        Distinct score values, increasing (one table for both sides).
    client_counts, supplier_counts : array_like, shape (..., V)
        Counts of each value on each side, per cell (any leading shape).
    confidence : float, optional
        Confidence level of the Hedges' g interval.

    Returns
    -------
    GapResult
        Arrays of shape ``client_counts.shape[:-1]``, client − supplier;
        ``p_adjusted`` is Benjamini–Hochberg over every cell of the call.

    Notes
    -----
    Difference, Hedges' g and Welch's test from each side's moments, as
    :func:`analysis.gaps.perception_gaps`. The Mann–Whitney rank sum comes from the tied
    counts: with :math:`t_v = c^{(c)}_v + c^{(s)}_v` answers of value :math:`v` in the cell
    and :math:`T_v = \sum_{u \le v} t_u`, the value's mid-rank is
    :math:`T_v - (t_v - 1)/2`, so

    .. math:: R_c = \sum_v c^{(c)}_v \left(T_v - \frac{t_v - 1}{2}\right),\qquad
              U_c = R_c - \frac{n_c(n_c+1)}{2},

    and the tie correction of the normal approximation is :math:`\sum_v (t_v^3 - t_v)`
    (Mann & Whitney 1947); Cliff's δ is :math:`2U_c/(n_c n_s) - 1` (Cliff 1993).

    References
    ----------
    .. [1] Mann, H. B., & Whitney, D. R. (1947). On a test of whether one of two random
           variables is stochastically larger than the other. *Ann. Math. Statist.*, 18,
           50–60.
    .. [2] Cliff, N. (1993). Dominance statistics: Ordinal analyses to answer ordinal
           questions. *Psychological Bulletin*, 114(3), 494–509.
    """
    values, c1, c2, confidence = _two_tables_iv(
        values, client_counts, supplier_counts, ("client_counts", "supplier_counts"), confidence
    )
    client, supplier = _moments(values, c1), _moments(values, c2)
    tied = c1 + c2
    mid_rank = np.cumsum(tied, axis=-1) - (tied - 1.0) / 2.0
    r1 = (c1 * mid_rank).sum(axis=-1)
    tie_term = (tied**3 - tied).sum(axis=-1)
    u1, mw_p = _mann_whitney_p(r1, tie_term, client[0], supplier[0])
    return gaps_from_moments(client, supplier, u1, mw_p, confidence=confidence)


def change_between_waves_from_counts(
    prev_values, prev_counts, curr_values, curr_counts, *, confidence: float = 0.95
) -> ChangeResult:
    r"""Change of every cell's mean between two waves, from each wave's counts of each value.

    Parameters
    ----------
    prev_values, curr_values : array_like, shape (V_prev,), (V_curr,)
        Each wave's distinct values, increasing (the two tables may differ).
    prev_counts, curr_counts : array_like, shape (..., V_prev), (..., V_curr)
        Counts per cell; the same leading shape, the same cell at the same position.
    confidence : float, optional
        Confidence level of the Hedges' g interval.

    Returns
    -------
    ChangeResult
        Arrays of the cells' shape, current − previous; ``p_adjusted`` is
        Benjamini–Hochberg over every cell of the call.

    Notes
    -----
    Each wave's :math:`n`, mean and :math:`SS` from its counts, then Hedges' g and Welch's
    test as :func:`analysis.gaps.change_between_waves`.
    """
    prev_values, prev_counts = _counts_iv(prev_values, prev_counts, name="prev_counts")
    curr_values, curr_counts = _counts_iv(curr_values, curr_counts, name="curr_counts")
    if prev_counts.shape[:-1] != curr_counts.shape[:-1]:
        raise ValueError("`prev_counts` and `curr_counts` must describe the same cells")
    confidence = check_confidence(confidence)
    return change_from_moments(
        _moments(prev_values, prev_counts),
        _moments(curr_values, curr_counts),
        confidence=confidence,
    )


# ------------------------------------------------------------------------------- drivers


@dataclass(frozen=True, slots=True, eq=False)
class CoMoments:
    """Pairwise-complete co-moments of each column of ``x`` with ``y``, per group.

    Every array has shape ``(n_groups, n_columns)``: ``n`` pairs with both values,
    the means of each over those pairs, and the sums of squared and crossed deviations
    from them (``sxx``, ``syy``, ``sxy``).
    """

    n: np.ndarray
    mean_x: np.ndarray
    mean_y: np.ndarray
    sxx: np.ndarray
    syy: np.ndarray
    sxy: np.ndarray

    def combine(self, membership) -> CoMoments:
        r"""The co-moments of unions of groups: ``membership[c, g]`` is 1 when group ``g``
        belongs to union ``c``.

        Exact pooling (Chan, Golub & LeVeque 1983): with :math:`n = \sum_g n_g` and the
        pooled means :math:`\bar x, \bar y`,
        :math:`S_{xy} = \sum_g [S_{xy,g} + n_g(\bar x_g - \bar x)(\bar y_g - \bar y)]`.
        """
        member = as_float_array(membership, name="membership", ndim=2)
        if member.shape[1] != self.n.shape[0]:
            raise ValueError(f"`membership` must have {self.n.shape[0]} columns")
        n = member @ self.n
        mx0, my0 = np.nan_to_num(self.mean_x), np.nan_to_num(self.mean_y)
        with quiet():
            mean_x = np.where(n > 0, member @ (self.n * mx0) / n, np.nan)
            mean_y = np.where(n > 0, member @ (self.n * my0) / n, np.nan)
        dx = np.where(self.n > 0, mx0, 0.0)[None] - np.nan_to_num(mean_x)[:, None]
        dy = np.where(self.n > 0, my0, 0.0)[None] - np.nan_to_num(mean_y)[:, None]
        weight = member[:, :, None] * self.n[None]  # (unions, groups, columns)
        return CoMoments(
            n=n,
            mean_x=mean_x,
            mean_y=mean_y,
            sxx=member @ self.sxx + (weight * dx * dx).sum(axis=1),
            syy=member @ self.syy + (weight * dy * dy).sum(axis=1),
            sxy=member @ self.sxy + (weight * dx * dy).sum(axis=1),
        )


def _co_moments_iv(x, y, codes, n_groups):
    x = as_float_array(x, name="x")
    if x.ndim != 2:
        raise ValueError(f"`x` must be 2-D (n_responses, n_columns), got shape {x.shape}")
    y = as_float_array(y, name="y", ndim=1)
    if y.shape[0] != x.shape[0]:
        raise ValueError("`y` must have one value per row of `x`")
    if np.any(np.isinf(x)) or np.any(np.isinf(y)):
        raise ValueError("`x` and `y` must be finite or NaN")
    return x, y, as_codes(codes, n_groups, n=x.shape[0]), int(n_groups)


def co_moments(x, y, codes, n_groups: int) -> CoMoments:
    r"""Co-moments of each column of ``x`` with ``y`` over the pairwise complete rows, per group.

    Parameters
    ----------
    x : array_like, shape (n_responses, n_columns)
        E.g. dimension scores; NaN = missing.
    y : array_like, shape (n_responses,)
        E.g. an outcome; NaN = missing.
    codes : array_like of int, shape (n_responses,)
        Group of each response, ``0..n_groups-1``; negative codes are ignored.
    n_groups : int

    Returns
    -------
    CoMoments
        Arrays of shape ``(n_groups, n_columns)``; :meth:`CoMoments.combine` pools groups
        into margins, :func:`driver_correlations_from_moments` turns them into correlations.

    Notes
    -----
    Two passes, every group and column at once (rows sorted by group once, sums by
    :func:`numpy.add.reduceat`): the means over the pairs where both values are present,
    then the sums
    :math:`S_{xx} = \sum (x-\bar x)^2`, :math:`S_{yy}`, :math:`S_{xy}` of the deviations
    from them.
    """
    x, y, codes, n_groups = _co_moments_iv(x, y, codes, n_groups)
    order, sizes = group_order(codes, n_groups)
    xs, ys = x[order], y[order][:, None]
    both = ~np.isnan(xs) & ~np.isnan(ys)
    x0 = np.where(both, xs, 0.0)
    y0 = np.where(both, ys, 0.0)
    n = segment_sums(both, sizes)
    with quiet():
        mean_x = np.where(n > 0, segment_sums(x0, sizes) / n, np.nan)
        mean_y = np.where(n > 0, segment_sums(y0, sizes) / n, np.nan)
    dx = np.where(both, x0 - np.repeat(np.nan_to_num(mean_x), sizes, axis=0), 0.0)
    dy = np.where(both, y0 - np.repeat(np.nan_to_num(mean_y), sizes, axis=0), 0.0)
    return CoMoments(
        n,
        mean_x,
        mean_y,
        segment_sums(dx * dx, sizes),
        segment_sums(dy * dy, sizes),
        segment_sums(dx * dy, sizes),
    )


def driver_correlations_from_moments(
    moments: CoMoments, *, min_n: int = MIN_N, confidence: float = 0.95
) -> DriverResult:
    r"""Correlation of each column with the outcome, with its Fisher-z interval and p, from
    co-moments (DESIGN §4.13).

    Parameters
    ----------
    moments : CoMoments
        From :func:`co_moments` (optionally pooled with :meth:`CoMoments.combine`).
    min_n : int, optional
        Smallest number of pairs for which a correlation is given (default 25).
    confidence : float, optional
        Confidence level of the interval (default 0.95).

    Returns
    -------
    DriverResult
        Arrays of the moments' shape.

    Notes
    -----
    :math:`r = S_{xy}/\sqrt{S_{xx} S_{yy}}`, then the exact two-sided p and the Fisher
    interval of :func:`analysis.drivers.driver_correlations` (whose formulas, reasons and
    rounding-noise rule for constant inputs this follows term for term), for a group's
    :math:`n` pairs.
    """
    if isinstance(min_n, bool) or int(min_n) != min_n or min_n < 4:
        raise ValueError("`min_n` must be an integer >= 4 (the Fisher-z interval needs n > 3)")
    confidence = check_confidence(confidence)
    m = moments
    return correlation_from_sums(
        m.n, m.mean_x, m.mean_y, m.sxx, m.syy, m.sxy, min_n=min_n, confidence=confidence
    )
