"""Response scores and group aggregates (DESIGN §4.1–4.6).

Answers are a float array ``x`` of shape ``(n_responses, n_items)`` with values ``1..K``
(``K = points``) and ``np.nan`` for missing or "don't know". Group membership is an int array
``codes`` of shape ``(n_responses,)`` in ``0..n_groups-1``; negative codes are ignored.

Every function is vectorised over responses, items and groups: groups are reduced with
:func:`numpy.bincount` on integer cell codes, dimensions with matrix products.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis._common import (
    Reason,
    as_codes,
    as_float_2d,
    as_float_array,
    check_confidence,
    check_points,
    grouped_moments,
    quiet,
    reason_array,
)

__all__ = [
    "GroupAggregates",
    "ItemShares",
    "aggregates_from_moments",
    "band",
    "dimension_scores",
    "group_aggregates",
    "health_index",
    "item_aggregates",
    "item_shares",
    "item_shares_by_item",
    "rescale_100",
    "reverse_key",
    "shares_from_tallies",
]


# --------------------------------------------------------------------------- input checks


def _answers_iv(x, points) -> tuple[np.ndarray, int]:
    x = as_float_2d(x, name="x")
    points = check_points(points)
    finite = x[~np.isnan(x)]
    if finite.size and (np.any(~np.isfinite(finite)) or finite.min() < 1 or finite.max() > points):
        raise ValueError(f"answers in `x` must lie in 1..{points} (or be NaN for missing)")
    return x, points


def _item_dimension_iv(item_dimension, n_dimensions, n_items) -> tuple[np.ndarray, int]:
    item_dimension = np.asarray(item_dimension)
    if item_dimension.shape != (n_items,):
        raise ValueError(
            f"`item_dimension` must have one entry per item ({n_items}), "
            f"got shape {item_dimension.shape}"
        )
    if item_dimension.size and not np.issubdtype(item_dimension.dtype, np.integer):
        raise ValueError("`item_dimension` must be integers")
    if isinstance(n_dimensions, bool) or int(n_dimensions) != n_dimensions or n_dimensions < 1:
        raise ValueError("`n_dimensions` must be a positive integer")
    n_dimensions = int(n_dimensions)
    if item_dimension.size and item_dimension.max() >= n_dimensions:
        raise ValueError(f"`item_dimension` values must be < n_dimensions ({n_dimensions})")
    return item_dimension.astype(np.int64, copy=False), n_dimensions


# --------------------------------------------------------------------------- response scores


def reverse_key(x, reverse, *, points: int = 5) -> np.ndarray:
    r"""Reverse-key the answers of negatively worded items.

    Parameters
    ----------
    x : array_like, shape (n_responses, n_items)
        Answers in ``1..points``; NaN for missing. Integer answer codes are also taken
        (``1..points`` answered, ``0`` or negative for "don't know" or skipped, as
        :func:`analysis.frequencies.answer_counts` reads them): their missing codes are
        kept as they are.
    reverse : array_like of bool, shape (n_items,)
        True for the items to reverse.
    points : int, optional
        Number of scale points :math:`K` (default 5).

    Returns
    -------
    ndarray, shape (n_responses, n_items)
        A new array of the input's kind (float, or integer codes of the same dtype);
        missing answers stay missing.

    Notes
    -----
    DESIGN §4.1: :math:`x' = K + 1 - x`. The map is an involution, so reverse-keying twice
    returns the original answers.
    """
    codes = np.asarray(x)
    if codes.ndim == 2 and np.issubdtype(codes.dtype, np.integer):
        points = check_points(points)
        if codes.size and codes.max() > points:
            raise ValueError(f"answer codes in `x` must be at most {points}")
        flip = _reverse_iv(reverse, codes.shape[1])[None, :] & (codes > 0)
        return np.where(flip, (points + 1) - codes, codes).astype(codes.dtype)
    x, points = _answers_iv(x, points)
    reverse = _reverse_iv(reverse, x.shape[1])
    return np.where(reverse[None, :], (points + 1) - x, x)


def _reverse_iv(reverse, n_items: int) -> np.ndarray:
    reverse = np.asarray(reverse)
    if reverse.shape != (n_items,) or reverse.dtype != np.bool_:
        raise ValueError(f"`reverse` must be a boolean array of length n_items ({n_items})")
    return reverse


def dimension_scores(
    x, item_dimension, n_dimensions: int, *, min_fraction: float = 0.5, return_answered=False
):
    r"""Dimension score of each response under the half rule.

    Parameters
    ----------
    x : array_like, shape (n_responses, n_items)
        Answers (already reverse-keyed); NaN for missing.
    item_dimension : array_like of int, shape (n_items,)
        Dimension of each item, ``0..n_dimensions-1``; a negative value leaves the item out of
        every dimension (e.g. an outcome item).
    n_dimensions : int
        Number of dimensions :math:`D`.
    min_fraction : float, optional
        Fraction of a dimension's items that must be answered, rounded up (default 0.5).
    return_answered : bool, optional
        Also return :math:`a_{rd}`, the answered items of each dimension (default False).

    Returns
    -------
    scores : ndarray, shape (n_responses, n_dimensions)
        NaN where too few items were answered or the dimension has no items.
    answered : ndarray, shape (n_responses, n_dimensions)
        Only with ``return_answered``: answered items per dimension (float, whole numbers).

    Notes
    -----
    DESIGN §4.2. With :math:`m_d` items in dimension :math:`d`, :math:`a_{rd}` of them answered
    by response :math:`r`,

    .. math::

        s_{rd} = \frac{1}{a_{rd}} \sum_{i \in d,\ x_{ri} \neq \mathrm{NaN}} x_{ri}
        \quad \text{if } a_{rd} \ge \lceil 0.5\, m_d \rceil, \text{ else missing.}

    The sums :math:`\sum_{i \in d} x_{ri}` (NaN as 0) and counts :math:`a_{rd}` are those of
    the item × dimension indicator :math:`M` (:math:`X_0 M` and :math:`A M`), summed over
    blocks of columns in dimension order. This "half rule" is the usual prorating rule for
    multi-item scales (e.g. the SF-36 scoring manual: a scale score is computed if at least
    half of its items are answered).

    References
    ----------
    .. [1] Ware, J. E., Snow, K. K., Kosinski, M., & Gandek, B. (1993). *SF-36 Health Survey:
           Manual and Interpretation Guide*. Boston: The Health Institute.
    """
    x = as_float_2d(x, name="x")
    item_dimension, n_dimensions = _item_dimension_iv(item_dimension, n_dimensions, x.shape[1])
    if not 0.0 < float(min_fraction) <= 1.0:
        raise ValueError("`min_fraction` must be in (0, 1]")
    sums, counts, n_items = _dimension_tallies(x, item_dimension, n_dimensions)
    needed = np.maximum(np.ceil(min_fraction * n_items - 1e-12), 1.0)
    ok = (counts >= needed[None, :]) & (n_items[None, :] > 0)
    with quiet():
        scores = np.where(ok, sums / counts, np.nan)
    return (scores, counts) if return_answered else scores


def _dimension_tallies(x: np.ndarray, item_dimension: np.ndarray, n_dimensions: int):
    """Sum and count of the answered items of each dimension, per response.

    Dimensions with the same number of items are taken together: their columns, gathered in
    dimension order, are a (responses, dimensions, items) block summed over its last axis.
    The same sums as the product with the item × dimension indicator, without a matrix
    product (whose multithreaded BLAS competes for the cores of a busy server).
    """
    order = np.argsort(item_dimension, kind="stable")
    order = order[item_dimension[order] >= 0]
    n_items = np.bincount(item_dimension[order], minlength=n_dimensions)
    sums = np.zeros((x.shape[0], n_dimensions))
    counts = np.zeros((x.shape[0], n_dimensions))
    for size in np.unique(n_items[n_items > 0]):  # item counts, usually one
        dims = np.flatnonzero(n_items == size)
        columns = order[np.isin(item_dimension[order], dims)]
        block = x[:, columns].reshape(x.shape[0], dims.size, size)
        answered = ~np.isnan(block)
        sums[:, dims] = np.einsum("rdi->rd", np.where(answered, block, 0.0))
        counts[:, dims] = np.einsum("rdi->rd", answered, dtype=np.float64)
    return sums, counts, n_items.astype(np.float64)


def health_index(dim_scores, weights=None, *, min_fraction: float = 0.5) -> np.ndarray:
    r"""Relationship health index (RHI) of each response.

    Parameters
    ----------
    dim_scores : array_like, shape (n_responses, n_dimensions)
        Dimension scores; NaN where missing.
    weights : array_like, shape (n_dimensions,), optional
        Non-negative dimension weights from the instrument; equal weights by default.
    min_fraction : float, optional
        Fraction of dimensions that must be present, rounded up (default 0.5).

    Returns
    -------
    ndarray, shape (n_responses,)
        NaN where fewer than :math:`\lceil D/2 \rceil` dimensions are present, or the present
        dimensions all have weight 0.

    Notes
    -----
    DESIGN §4.3. With :math:`P_r` the present dimensions of response :math:`r`,

    .. math::

        \mathrm{RHI}_r = \frac{\sum_{d \in P_r} w_d s_{rd}}{\sum_{d \in P_r} w_d}
        \quad \text{if } |P_r| \ge \lceil D/2 \rceil.

    The result is clipped to the range of the response's present scores, which only removes
    floating-point rounding (a weighted mean lies between its smallest and largest term).
    """
    s = as_float_2d(dim_scores, name="dim_scores")
    n_dim = s.shape[1]
    if weights is None:
        w = np.ones(n_dim)
    else:
        w = as_float_array(weights, name="weights", ndim=1)
        if w.shape != (n_dim,):
            raise ValueError(f"`weights` must have length n_dimensions ({n_dim})")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
            raise ValueError("`weights` must be finite, non-negative and not all zero")
    if not 0.0 < float(min_fraction) <= 1.0:
        raise ValueError("`min_fraction` must be in (0, 1]")
    present = ~np.isnan(s)
    s0 = np.where(present, s, 0.0)
    wsum = (present * w).sum(axis=1)
    num = (s0 * w).sum(axis=1)
    needed = max(np.ceil(min_fraction * n_dim - 1e-12), 1.0)
    ok = (present.sum(axis=1) >= needed) & (wsum > 0)
    lo = np.where(present, s, np.inf).min(axis=1, initial=np.inf)
    hi = np.where(present, s, -np.inf).max(axis=1, initial=-np.inf)
    with quiet():
        rhi = np.clip(num / wsum, lo, hi)
    return np.where(ok, rhi, np.nan)


def rescale_100(mean, *, points: int = 5):
    r"""Express a 1–K mean on a 0–100 scale.

    Notes
    -----
    DESIGN §4.4: :math:`\mathrm{score}_{100} = (\bar x - 1)/(K - 1) \times 100`, a linear
    map taking 1 to 0 and K to 100. NaN stays NaN. Shown beside the 1–K mean, never instead.
    """
    points = check_points(points)
    m = as_float_array(mean, name="mean")
    out = (m - 1.0) / (points - 1) * 100.0
    return out[()] if out.ndim == 0 else out


def band(mean, *, strength: float = 4.0, concern: float = 3.0):
    """Band a mean as ``"strength"``, ``"borderline"`` or ``"concern"`` (``""`` for NaN).

    Notes
    -----
    DESIGN §4.6, the thresholds commonly applied to the Wilder Collaboration Factors
    Inventory [1]_: mean ≥ 4.0 is a strength, 3.0 ≤ mean < 4.0 borderline, below 3.0 a
    concern. Both thresholds are configurable per instrument.

    References
    ----------
    .. [1] Mattessich, P. W., & Johnson, K. M. (2018). *Collaboration: What Makes It Work*
           (3rd ed.). Saint Paul, MN: Fieldstone Alliance / Amherst H. Wilder Foundation.
    """
    if not float(concern) < float(strength):
        raise ValueError("`concern` must be below `strength`")
    m = as_float_array(mean, name="mean")
    out = np.select(
        [np.isnan(m), m >= strength, m >= concern],
        ["", "strength", "borderline"],
        default="concern",
    )
    return out[()] if out.ndim == 0 else out


# --------------------------------------------------------------------------- group aggregates


@dataclass(frozen=True, slots=True)
class GroupAggregates:
    """Per-group summary of a score (shape ``(n_groups,)``, or ``(n_groups, n_columns)``).

    Attributes
    ----------
    n : ndarray of int
        Non-missing values in the group.
    mean, sd : ndarray
        Mean and sample standard deviation (``ddof=1``).
    ci_low, ci_high : ndarray
        Student-t confidence interval for the mean.
    score100 : ndarray
        The mean on the 0–100 scale.
    reason : ndarray of str
        ``""`` when everything is computed; otherwise why some fields are NaN.
    confidence : float
        Confidence level of the interval.
    """

    n: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    score100: np.ndarray
    reason: np.ndarray
    confidence: float


def group_aggregates(
    values, codes, n_groups: int, *, points: int = 5, confidence: float = 0.95
) -> GroupAggregates:
    r"""Count, mean, SD, t confidence interval and 0–100 score of a score in each group.

    Parameters
    ----------
    values : array_like, shape (n_responses,) or (n_responses, n_columns)
        Scores (a dimension score, the health index, or item answers); NaN are excluded
        group by group and column by column.
    codes : array_like of int, shape (n_responses,)
        Group of each response; negative codes are ignored.
    n_groups : int
    points : int, optional
        Scale points :math:`K`, for ``score100`` (default 5).
    confidence : float, optional
        Confidence level of the interval (default 0.95).

    Returns
    -------
    GroupAggregates
        Arrays of shape ``(n_groups,)`` for 1-D ``values``, ``(n_groups, n_columns)`` for 2-D.
        Reasons: ``"no answers"`` (n = 0, all NaN), ``"n < 2"`` (mean only),
        ``"zero variance"`` (sd = 0; the interval is NaN rather than a zero-width interval
        that would overstate certainty).

    Notes
    -----
    DESIGN §4.5. For a group with values :math:`x_1..x_n`,

    .. math::

        \bar x \pm t_{(1+c)/2,\ n-1}\, \frac{s}{\sqrt n}, \qquad
        s^2 = \frac{1}{n-1}\sum_i (x_i - \bar x)^2 .

    Sums are accumulated per group with :func:`numpy.bincount` (two passes for :math:`s`).

    References
    ----------
    .. [1] Student (1908). The probable error of a mean. *Biometrika*, 6(1), 1–25.
    """
    v = as_float_array(values, name="values")
    if v.ndim not in (1, 2):
        raise ValueError(f"`values` must be 1-D or 2-D, got shape {v.shape}")
    one_d = v.ndim == 1
    v2 = v[:, None] if one_d else v
    codes = as_codes(codes, n_groups, n=v2.shape[0])
    points = check_points(points)
    confidence = check_confidence(confidence)
    if np.any(np.isinf(v2)):
        raise ValueError("`values` must be finite or NaN")

    count, mean, ss = grouped_moments(v2, codes, int(n_groups))
    res = aggregates_from_moments(count, mean, ss, points=points, confidence=confidence)
    if not one_d:
        return res
    return GroupAggregates(
        *(getattr(res, f)[:, 0] for f in GroupAggregates.__slots__[:-1]), confidence
    )


def aggregates_from_moments(
    count, mean, ss, *, points: int = 5, confidence: float = 0.95
) -> GroupAggregates:
    """The :class:`GroupAggregates` of groups given their count, mean and sum of squares.

    The core of :func:`group_aggregates` (and of
    :func:`analysis.frequencies.group_aggregates_from_counts`): ``count``, ``mean`` and
    ``ss`` (the sum of squared deviations from the mean) are arrays of one shape, already
    checked; ``mean`` may be NaN where ``count`` is 0. Formulas and reasons are those of
    :func:`group_aggregates`.
    """
    enough = count >= 2
    with quiet():
        sd = np.where(enough, np.sqrt(ss / (count - 1)), np.nan)
    # A constant group can leave an sd of rounding size (its mean is not always exact).
    varies = enough & (sd > 1e-10 * np.maximum(1.0, np.abs(mean)))
    df = np.where(varies, count - 1, 1.0)
    tcrit = stats.t.ppf(0.5 + confidence / 2, df)
    with quiet():
        half = np.where(varies, tcrit * sd / np.sqrt(count), np.nan)
    reason = reason_array(np.shape(count))
    reason[count == 1] = Reason.N_LT_2
    reason[count == 0] = Reason.NO_ANSWERS
    reason[enough & ~varies] = Reason.ZERO_VARIANCE
    return GroupAggregates(
        n=np.asarray(count).astype(np.int64),
        mean=mean,
        sd=sd,
        ci_low=mean - half,
        ci_high=mean + half,
        score100=(mean - 1.0) / (points - 1) * 100.0,
        reason=reason,
        confidence=confidence,
    )


def item_aggregates(
    x, codes, n_groups: int, *, points: int = 5, confidence: float = 0.95
) -> GroupAggregates:
    """Per-item n, mean, SD and t interval in each group: arrays of shape (n_groups, n_items).

    The same computation as :func:`group_aggregates` applied to every item column; see there
    for formulas and reasons.
    """
    x, points = _answers_iv(x, points)
    return group_aggregates(x, codes, n_groups, points=points, confidence=confidence)


@dataclass(frozen=True, slots=True)
class ItemShares:
    """Favourable / neutral / unfavourable shares of item answers per group.

    Arrays are ``(n_groups,)`` from :func:`item_shares` and ``(n_groups, n_items)`` from
    :func:`item_shares_by_item`. Percentages are of answered items (missing and "don't know"
    excluded) and sum to 100 where ``n_answers > 0``; otherwise NaN with reason
    ``"no answers"``.
    """

    n_answers: np.ndarray
    favourable_pct: np.ndarray
    neutral_pct: np.ndarray
    unfavourable_pct: np.ndarray
    reason: np.ndarray


def _shares_iv(x, codes, n_groups, favourable, unfavourable):
    x = as_float_2d(x, name="x")
    codes = as_codes(codes, n_groups, n=x.shape[0])
    fav = as_float_array(favourable, name="favourable", ndim=1)
    unfav = as_float_array(unfavourable, name="unfavourable", ndim=1)
    if np.intersect1d(fav, unfav).size:
        raise ValueError("`favourable` and `unfavourable` must not share a scale value")
    return x, codes, int(n_groups), fav, unfav


def _shares(x, cell, size, fav, unfav) -> ItemShares:
    keep = ~np.isnan(x) & (cell >= 0)
    c = cell[keep]
    vals = x[keep]
    n = np.bincount(c, minlength=size)
    n_fav = np.bincount(c, weights=np.isin(vals, fav), minlength=size)
    n_unfav = np.bincount(c, weights=np.isin(vals, unfav), minlength=size)
    return shares_from_tallies(n, n_fav, n_unfav)


def shares_from_tallies(n, n_favourable, n_unfavourable) -> ItemShares:
    """:class:`ItemShares` from the number of answers and of favourable / unfavourable ones.

    The core of :func:`item_shares` and :func:`item_shares_by_item` (and of
    :func:`analysis.frequencies.item_shares_from_counts`); arrays of one shape, already
    checked.
    """
    n = np.asarray(n)
    with quiet():
        fav_pct = np.where(n > 0, 100.0 * n_favourable / n, np.nan)
        unfav_pct = np.where(n > 0, 100.0 * n_unfavourable / n, np.nan)
        neutral_pct = np.where(n > 0, 100.0 * (n - n_favourable - n_unfavourable) / n, np.nan)
    reason = reason_array(n.shape)
    reason[n == 0] = Reason.NO_ANSWERS
    return ItemShares(n.astype(np.int64), fav_pct, neutral_pct, unfav_pct, reason)


def item_shares(
    x, codes, n_groups: int, *, favourable: Sequence[float], unfavourable: Sequence[float]
) -> ItemShares:
    r"""Shares of favourable, neutral and unfavourable answers over all item answers in a group.

    Parameters
    ----------
    x : array_like, shape (n_responses, n_items)
        Answers (reverse-keyed, so that high is favourable); NaN for missing.
    codes : array_like of int, shape (n_responses,)
    n_groups : int
    favourable, unfavourable : sequence of float
        Scale values counted as favourable / unfavourable, e.g. ``(4, 5)`` and ``(1, 2)`` on a
        5-point scale. Every other answered value is neutral.

    Returns
    -------
    ItemShares
        Arrays of shape ``(n_groups,)``.

    Notes
    -----
    DESIGN §4.5: with :math:`N_g` the answered items of all responses in group :math:`g`,
    :math:`\%_{\text{fav}} = 100\, |\{x \in F\}| / N_g` and likewise for the other two; the
    three add up to 100. Counting is one :func:`numpy.bincount` over every answer.
    """
    x, codes, n_groups, fav, unfav = _shares_iv(x, codes, n_groups, favourable, unfavourable)
    cell = np.broadcast_to(codes[:, None], x.shape)
    return _shares(x, cell, n_groups, fav, unfav)


def item_shares_by_item(
    x, codes, n_groups: int, *, favourable: Sequence[float], unfavourable: Sequence[float]
) -> ItemShares:
    """Favourable / neutral / unfavourable shares per (group, item): arrays (n_groups, n_items).

    As :func:`item_shares`, but each item is counted separately.
    """
    x, codes, n_groups, fav, unfav = _shares_iv(x, codes, n_groups, favourable, unfavourable)
    n_items = x.shape[1]
    cell = np.where(codes[:, None] >= 0, codes[:, None] * n_items + np.arange(n_items)[None, :], -1)
    res = _shares(x, cell, n_groups * n_items, fav, unfav)
    shape = (n_groups, n_items)
    return ItemShares(*(np.reshape(getattr(res, f), shape) for f in ItemShares.__slots__))
