"""Drivers: which dimensions move an outcome (DESIGN §4.13, issue 16 part 1).

Two views of the same question:

* :func:`driver_correlations` — each dimension's score correlated with the outcome on its own,
  with a Fisher-z confidence interval, for groups of at least ``MIN_N`` (25) respondents. Kept
  for the download: overlapping dimensions each get the credit they share.
* :func:`relative_weights` — Johnson's (2000) relative weights of all the dimensions at once on
  the commitment outcome: how the model's R² divides among dimensions that move together, with
  seeded bootstrap intervals and a test of each weight against a random variable (Tonidandel,
  LeBreton & Johnson 2009), for groups of at least ``RELATIVE_WEIGHTS_MIN_N`` (100) complete
  responses, many groups in one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special
from threadpoolctl import ThreadpoolController

from analysis import resampled_moments as moments
from analysis._common import N_, as_codes, as_float_array, check_confidence, quiet, reason_array

__all__ = [
    "DriverResult",
    "driver_correlations",
    "RelativeWeightsResult",
    "relative_weights",
    "MIN_N",
    "RELATIVE_WEIGHTS_MIN_N",
    "FEWER_RESPONSES",
    "FEWER_COMPLETE",
]

MIN_N = 25
RELATIVE_WEIGHTS_MIN_N = 100

#: Why a correlation or a weight is missing (marked `N_`: the service words a stored reason in
#: the reader's language, reading the number back with the templates).
FEWER_RESPONSES = N_("fewer than %(n)s responses")
FEWER_COMPLETE = N_("fewer than %(n)s complete responses")
_FLAT_OUTCOME = N_("no variation in the outcome")


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
        sxy = (xm * ym).sum(axis=0)
    return correlation_from_sums(n, mx, my, sxx, syy, sxy, min_n=min_n, confidence=confidence)


def correlation_from_sums(n, mx, my, sxx, syy, sxy, *, min_n, confidence) -> DriverResult:
    r"""The correlation, exact p and Fisher interval of :func:`driver_correlations` from the
    pairs' count ``n``, means and centred sums of squares and products (arrays alike).

    A sum of squares within rounding noise of zero (:math:`\le n(4 n \epsilon |\bar x|)^2`)
    counts as a constant input. Shared with
    :func:`analysis.frequencies.driver_correlations_from_moments`.
    """
    with quiet():
        eps4 = 4.0 * np.finfo(np.float64).eps * n
        sxx = np.where(sxx <= n * (eps4 * np.abs(mx)) ** 2, 0.0, sxx)  # rounding noise only
        syy = np.where(syy <= n * (eps4 * np.abs(my)) ** 2, 0.0, syy)
        r = np.clip(sxy / np.sqrt(sxx * syy), -1.0, 1.0)
    reason = reason_array(np.shape(n))
    reason[syy == 0] = _FLAT_OUTCOME
    reason[sxx == 0] = N_("no variation in the dimension score")
    reason[n < min_n] = FEWER_RESPONSES % {"n": int(min_n)}
    ok = reason == ""
    r = np.where(ok, r, np.nan)
    ab = n / 2.0 - 1.0
    p = np.full(r.shape, np.nan)
    p[ok] = np.clip(2.0 * special.betainc(ab[ok], ab[ok], (1.0 - np.abs(r[ok])) / 2.0), 0, 1)
    crit = special.ndtri(1.0 - (1.0 - confidence) / 2.0)
    with quiet():
        zr = np.arctanh(r)
        se = 1.0 / np.sqrt(n - 3.0)
        low = np.where(ok, np.tanh(zr - crit * se), np.nan)
        high = np.where(ok, np.tanh(zr + crit * se), np.nan)
    return DriverResult(r, n.astype(np.int64), low, high, p, reason)


# ------------------------------------------------------------------------ relative weights


@dataclass(frozen=True, slots=True)
class RelativeWeightsResult:
    """Johnson's relative weights of the dimensions on an outcome, per group.

    ``G`` is the number of groups and ``k`` the number of predictors (dimension scores).
    Every field of a group that is not computed (see ``reason``) is NaN (``significant``:
    False).

    Attributes
    ----------
    n : ndarray of int, shape (G,)
        Complete responses of the group (every predictor and the outcome present).
    r_squared, r_squared_ci_low, r_squared_ci_high : ndarray, shape (G,)
        R² of the least-squares regression of the outcome on all the predictors, and its
        bootstrap interval (percentile under 300 complete responses, standard-error from
        300 on; see *Intervals* in :func:`relative_weights`).
    raw, raw_ci_low, raw_ci_high : ndarray, shape (G, k)
        Raw relative weights :math:`\\varepsilon_j` (they add up to R²) and their bootstrap
        intervals. Descriptive: a raw weight is never negative, so its interval excludes (or,
        clipped at 0, touches) 0 even for a predictor that does nothing; use ``significant``.
    rescaled, rescaled_ci_low, rescaled_ci_high : ndarray, shape (G, k)
        Raw weights as a percentage of R² (they add up to 100), and their intervals.
    random_difference_ci_low, random_difference_ci_high : ndarray, shape (G, k)
        Bootstrap interval of :math:`\\varepsilon_j - \\varepsilon_\\text{random}`
        in the model with an added random variable (Tonidandel, LeBreton & Johnson 2009).
    significant : ndarray of bool, shape (G, k)
        ``random_difference_ci_low > 0``: the dimension explains more than a variable of pure
        noise would. Report the others as "not shown to matter" (Qualtrics sets them to zero).
    reason : ndarray of str, shape (G,)
        ``""`` where computed; otherwise ``"fewer than 100 complete responses"``, ``"no
        variation in the outcome"``, ``"no variation in a dimension score"`` or ``"dimension
        scores perfectly collinear"``.
    confidence : float
        Confidence level of the intervals.
    n_resamples : int
        Bootstrap resamples per group under 300 complete responses (larger groups use
        ``min(n_resamples, 200)`` normal-law draws).
    seed : int
        Seed of the random generator (resamples and the random variable).
    """

    n: np.ndarray
    r_squared: np.ndarray
    r_squared_ci_low: np.ndarray
    r_squared_ci_high: np.ndarray
    raw: np.ndarray
    raw_ci_low: np.ndarray
    raw_ci_high: np.ndarray
    rescaled: np.ndarray
    rescaled_ci_low: np.ndarray
    rescaled_ci_high: np.ndarray
    random_difference_ci_low: np.ndarray
    random_difference_ci_high: np.ndarray
    significant: np.ndarray
    reason: np.ndarray
    confidence: float
    n_resamples: int
    seed: int


_FLAT_DIMENSION = N_("no variation in a dimension score")
_COLLINEAR = N_("dimension scores perfectly collinear")
#: Groups of at least this many complete responses draw their resample moments from the
#: moments' normal law (:func:`analysis.resampled_moments.normal_moment_correlations`) and
#: get standard-error intervals; smaller ones are resampled and get percentile intervals. At
#: 300 the standard intervals covered known weights of overlapping dimensions at the nominal
#: 95%, as the percentile intervals did (tests/analysis/test_relative_weights.py;
#: benchmarks/README.md).
_NORMAL_MOMENTS_MIN_N = 300
#: Normal-law draws per large group: enough for a standard error (Efron & Tibshirani 1993,
#: §6.4: seldom are more than 200 replications needed), whose interval replaces percentiles.
_NORMAL_MOMENTS_DRAWS = 200


@lru_cache(maxsize=1)
def _thread_pools() -> ThreadpoolController:
    """The process's thread pools (BLAS, OpenMP), found once: ``threadpool_limits`` looks
    for them again on each call, 4.6 ms of CPU, 0.7 s of a recompute's 160 calls."""
    return ThreadpoolController()


def _johnson_weights(corr):
    r"""Raw relative weights from correlation matrices whose last variable is the outcome.

    ``corr`` has shape ``(..., k + 1, k + 1)``. Returns ``raw`` of shape ``(..., k)`` (NaN
    where a matrix is not finite or its predictor block is singular) and that mask.
    All matrices are decomposed at once by :func:`numpy.linalg.eigh`.
    """
    k = corr.shape[-1] - 1
    finite = np.isfinite(corr).all(axis=(-2, -1))
    safe = np.where(finite[..., None, None], corr, np.eye(k + 1))
    rxx, rxy = safe[..., :k, :k], safe[..., :k, k]
    eigenvalues, vectors = np.linalg.eigh(rxx)
    ok = finite & (eigenvalues[..., 0] > 1e-10 * max(k, 1))
    root = np.sqrt(np.where(ok[..., None], np.maximum(eigenvalues, 0.0), 1.0))
    vectors_t = np.swapaxes(vectors, -1, -2)
    lam = (vectors * root[..., None, :]) @ vectors_t  # Λ = R_xx^{1/2}, symmetric
    beta = vectors @ ((vectors_t @ rxy[..., None])[..., 0] / root)[..., None]  # Λ^{-1} r_xy
    raw = ((lam * lam) @ (beta * beta))[..., 0]
    return np.where(ok[..., None], raw, np.nan), ok


def _group_correlations(data, group, n_groups):
    """Count, variances and correlation matrix of every group, one small product per group.

    ``data`` holds the complete cases (predictors, then the outcome) and ``group`` their
    group codes ``0..n_groups-1``, sorted (each group's rows together). Returns ``n`` (G,),
    ``mean`` and ``var`` (G, p; divisor n; NaN for an empty group), ``corr`` (G, p, p) and
    ``data`` centred on its group's mean.
    """
    p = data.shape[1]
    n = np.bincount(group, minlength=n_groups).astype(np.float64)
    starts = np.concatenate([[0], np.cumsum(n.astype(np.int64))])
    upper = np.triu_indices(p)
    mean = np.full((n_groups, p), np.nan)
    m2 = np.full((n_groups, upper[0].size), np.nan)
    centered = np.empty_like(data)
    for g in np.flatnonzero(n):
        rows = slice(starts[g], starts[g + 1])
        mean[g] = data[rows].mean(axis=0)
        block = centered[rows] = data[rows] - mean[g]
        m2[g] = (block.T @ block)[upper] / n[g]
    var = m2[:, upper[0] == upper[1]]
    corr = moments.correlations_from_moments(np.zeros((n_groups, p)), m2, p)
    return n, mean, var, corr, centered


def _interval_quantities(corr, k):
    """R², raw and rescaled weights and ε_j − ε_random of correlation matrices ``(B, k+2,
    k+2)`` (predictors, the random variable, the outcome), and which matrices gave them
    (not singular with or without the random variable)."""
    without_random = np.r_[0:k, k + 1]
    raw, solvable = _johnson_weights(corr[:, without_random][:, :, without_random])
    with_random, solvable_random = _johnson_weights(corr)
    r2 = raw.sum(axis=1)
    with quiet():
        rescaled = 100.0 * raw / r2[:, None]
    quantities = {
        "r_squared": r2,
        "raw": raw,
        "rescaled": rescaled,
        "random_difference": with_random[:, :k] - with_random[:, k : k + 1],
    }
    return quantities, solvable & solvable_random


def _interval_draws(boot, k):
    """:func:`_interval_quantities` of resampled correlation matrices, singular ones dropped."""
    quantities, keep = _interval_quantities(boot, k)
    return {name: values[keep] for name, values in quantities.items()}


def _draw_spreads(corr, k):
    """Standard deviation of each quantity (:func:`_interval_quantities`) over each group's
    draws: ``corr`` (G, B, k+2, k+2) holds B correlation matrices per group, all decomposed
    in one batch; singular draws are dropped, and a group left with fewer than two draws
    has none (NaN)."""
    n_groups, b = corr.shape[:2]
    quantities, keep = _interval_quantities(corr.reshape(n_groups * b, *corr.shape[2:]), k)
    keep = keep.reshape(n_groups, b)
    spreads = {}
    for name, values in quantities.items():
        values = values.reshape(n_groups, b, *values.shape[1:])
        spreads[name] = np.array([
            v[kept].std(axis=0, ddof=1) if kept.sum() >= 2 else np.full(v.shape[1:], np.nan)
            for v, kept in zip(values, keep, strict=True)
        ])  # fmt: skip
    return spreads


#: Where each quantity's interval is clipped in a standard-error interval (its range).
_BOUNDS = {"r_squared": (0.0, 1.0), "raw": (0.0, 1.0), "rescaled": (0.0, 100.0)}
_BOUNDS["random_difference"] = (-1.0, 1.0)


def _standard_error_intervals(own, p, sd, confidence):
    """Estimate ± z·(sd of the draws) for each quantity of each group, clipped to its range.

    The estimate is the quantity on the group's own data: ``own`` (G, p(p+1)/2) holds each
    group's second moments (upper triangle, divisor n) of its p centred columns —
    predictors, the random variable, the outcome — so the interval is centred where the
    point estimate is (the standard interval, Efron & Tibshirani 1993, ch. 12); ``sd`` maps
    each quantity to its draws' standard deviations (G, ...). All groups' estimates come
    from one batch of decompositions. NaN where a group's own matrix is singular.
    """
    estimate, solvable = _interval_quantities(
        moments.correlations_from_moments(np.zeros((own.shape[0], p)), own, p), p - 2
    )
    crit = special.ndtri((1.0 + confidence) / 2.0)
    low, high = {}, {}
    for name, spread in sd.items():
        value = np.where(solvable.reshape(-1, *[1] * (spread.ndim - 1)), estimate[name], np.nan)
        least, most = _BOUNDS[name]
        low[name] = np.clip(value - crit * spread, least, most)
        high[name] = np.clip(value + crit * spread, least, most)
    return low, high


def _partition_groups(data, part, n_groups):
    """:func:`_group_correlations` of every group of every partition, and each group's rows.

    ``data`` holds the complete cases (predictors, then the outcome) and ``part`` (m, rows)
    their group in each of m partitions (negative: in none); a group belongs to one
    partition. Returns ``n``, ``mean``, ``var`` and ``corr`` as :func:`_group_correlations`
    does, over every group, and ``members``: for each group, its rows' positions in ``data``
    and those rows centred on the group's mean.
    """
    p = data.shape[1]
    n = np.zeros(n_groups)
    mean, var = np.full((n_groups, p), np.nan), np.full((n_groups, p), np.nan)
    corr = np.full((n_groups, p, p), np.nan)
    members: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for codes in part:
        inside = np.flatnonzero(codes >= 0)
        rows = inside[np.argsort(codes[inside], kind="stable")]
        n_j, mean_j, var_j, corr_j, centered = _group_correlations(
            data[rows], codes[rows], n_groups
        )
        here = n_j > 0
        for whole, one in ((n, n_j), (mean, mean_j), (var, var_j), (corr, corr_j)):
            whole[here] = one[here]
        starts = np.concatenate([[0], np.cumsum(n_j.astype(np.int64))])
        for g in np.flatnonzero(here):
            members[int(g)] = (rows[starts[g] : starts[g + 1]], centered[starts[g] : starts[g + 1]])
    return n, mean, var, corr, members


def _bootstrap_intervals(data, part, members, n, ok, k, n_resamples, confidence, seed):
    """Intervals of R², raw and rescaled weights and ε_j − ε_random, per group.

    ``data``, ``part`` and ``members`` are those of :func:`_partition_groups`. Returns two
    dicts (low, high) keyed ``r_squared``, ``raw``, ``rescaled`` and ``random_difference``;
    NaN for groups not computed. Each response gets one value of the random variable, the
    same in every group it is in. Groups under :data:`_NORMAL_MOMENTS_MIN_N` complete
    responses get percentile intervals from ``n_resamples`` resamples of their rows; larger
    groups standard-error intervals from ``min(n_resamples, _NORMAL_MOMENTS_DRAWS)``
    normal-law draws, their moments summed from the cells of the partitions' common
    refinement (:func:`analysis.resampled_moments.pivot_moments`). Draws whose predictor
    matrix is singular (possible only in tiny groups) are dropped first.
    """
    n_groups = n.size
    shapes = {"r_squared": (n_groups,), "raw": (n_groups, k), "rescaled": (n_groups, k)}
    shapes["random_difference"] = (n_groups, k)
    low = {name: np.full(shape, np.nan) for name, shape in shapes.items()}
    high = {name: np.full(shape, np.nan) for name, shape in shapes.items()}
    if n_resamples == 0:
        return low, high
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(data.shape[0])
    large = ok & (n >= _NORMAL_MOMENTS_MIN_N)
    if large.any():
        values = np.column_stack([data[:, :k], noise, data[:, k]])
        kinds, cell = moments.refinement(part)
        sums = moments.pivot_moments(values, cell, kinds.shape[1])
    quantiles = [(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0]
    drawn, own, normal = [], [], []
    for g in np.flatnonzero(ok):  # in code order: the stream of draws runs through the groups
        if large[g]:
            n_g, mean, covariance = moments.centred_feature_law(
                sums[(kinds == g).any(axis=0)].sum(axis=0), k + 2
            )
            b = min(n_resamples, _NORMAL_MOMENTS_DRAWS)
            normal.append(moments.normal_moment_correlations(n_g, mean, covariance, k + 2, b, rng))
            drawn.append(g)
            own.append(mean[k + 2 :])
            continue
        rows, block = members[g]
        z = noise[rows]
        augmented = np.column_stack([block[:, :k], z - z.mean(), block[:, k]])
        draws = _interval_draws(moments.bootstrap_correlations(augmented, n_resamples, rng), k)
        if draws["r_squared"].shape[0] == 0:
            continue
        for name, values in draws.items():
            low[name][g], high[name][g] = np.quantile(values, quantiles, axis=0)
    if drawn:
        spreads = _draw_spreads(np.stack(normal), k)
        g_low, g_high = _standard_error_intervals(np.array(own), k + 2, spreads, confidence)
        for name in shapes:
            low[name][drawn], high[name][drawn] = g_low[name], g_high[name]
    return low, high


def _relative_weights_iv(predictors, outcome, codes, n_groups, min_n, n_resamples, seed):
    x = as_float_array(predictors, name="predictors")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"`predictors` must be 2-D (n_responses, k), got shape {x.shape}")
    y = as_float_array(outcome, name="outcome", ndim=1)
    if y.shape[0] != x.shape[0]:
        raise ValueError("`outcome` must have one value per row of `predictors`")
    if np.isinf(x).any() or np.isinf(y).any():
        raise ValueError("`predictors` and `outcome` must be finite or NaN")
    if codes is None:
        if n_groups not in (None, 1):
            raise ValueError("`n_groups` needs `codes`")
        codes, n_groups = np.zeros(x.shape[0], dtype=np.int64), 1
    elif n_groups is None:
        raise ValueError("`codes` needs `n_groups`")
    partitions = np.asarray(codes)
    if partitions.ndim == 1:
        partitions = partitions[None]
    if partitions.ndim != 2 or partitions.shape[0] < 1:
        raise ValueError("`codes` must be 1-D, or 2-D with one row per partition")
    partitions = np.stack([as_codes(c, n_groups, n=x.shape[0]) for c in partitions])
    used = [np.bincount(c[c >= 0], minlength=int(n_groups)) > 0 for c in partitions]
    if np.sum(used, axis=0).max(initial=0) > 1:
        raise ValueError("each group must be in one partition of `codes` only")
    k = x.shape[1]
    for name, value, least in (("min_n", min_n, k + 2), ("n_resamples", n_resamples, 0)):
        if isinstance(value, bool) or int(value) != value or value < least:
            raise ValueError(f"`{name}` must be an integer >= {least}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError("`seed` must be an integer (results must be reproducible)")
    return x, y, partitions, int(n_groups), int(min_n), int(n_resamples)


def relative_weights(
    predictors,
    outcome,
    codes=None,
    n_groups=None,
    *,
    min_n=RELATIVE_WEIGHTS_MIN_N,
    n_resamples=1000,
    confidence=0.95,
    seed=0,
):
    r"""Johnson's relative weights of dimension scores on an outcome, per group, with intervals.

    Parameters
    ----------
    predictors : array_like, shape (n_responses, k)
        Dimension scores of each response (NaN = missing); not the outcome's own dimension,
        and not an index built from these dimensions.
    outcome : array_like, shape (n_responses,)
        The outcome, e.g. the commitment dimension score (NaN = missing).
    codes : array_like of int, shape (n_responses,) or (m, n_responses), optional
        Group of each response, ``0..n_groups-1`` (negative = in no group); or one such row
        for each of m partitions of the responses (e.g. by side and area, by side, by
        area), a group in one partition only, so that a response is in up to m groups.
        Omitted: one group of every response.
    n_groups : int, optional
        Number of groups (with ``codes``).
    min_n : int, optional
        Smallest number of complete responses for which a group is computed (default 100).
    n_resamples : int, optional
        Bootstrap resamples per group (default 1,000; 0 skips the intervals and the test).
    confidence : float, optional
        Confidence level of the intervals (default 0.95).
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`; the same inputs and seed give the same result.

    Returns
    -------
    RelativeWeightsResult
        Arrays over groups (and predictors); see its attributes.

    Notes
    -----
    *Weights* [1]_. On a group's complete cases (listwise: pairwise deletion can give a
    predictor correlation matrix that is not positive definite), with :math:`R_{xx}` the
    predictors' correlation matrix, :math:`r_{xy}` their correlations with the outcome and
    :math:`R_{xx} = Q \operatorname{diag}(\lambda) Q^\top`,

    .. math::

        \Lambda = R_{xx}^{1/2} = Q \operatorname{diag}(\sqrt{\lambda}) Q^\top, \qquad
        \beta = \Lambda^{-1} r_{xy}, \qquad
        \varepsilon_j = \sum_l \Lambda_{jl}^2\, \beta_l^2, \qquad
        \sum_j \varepsilon_j = R^2 = r_{xy}^\top R_{xx}^{-1} r_{xy}.

    :math:`\Lambda` holds the loadings of the predictors on the orthogonal variables closest
    to them (least squares), and :math:`\beta` the outcome's regression on those. Rescaled
    weights are :math:`100\,\varepsilon_j / R^2`. For uncorrelated predictors
    :math:`\varepsilon_j = r_{jy}^2`, the Shapley (LMG) share of R²; otherwise relative weights
    approximate that share closely at a fraction of its :math:`2^k` cost [2]_.

    *Intervals.* Each group under 300 complete responses is resampled with replacement
    ``n_resamples`` times; a resample is a vector of draw counts, so its moments are one matrix
    product for all resamples; its intervals are percentile intervals at ``confidence``.
    Larger groups draw ``min(n_resamples, 200)`` moment vectors (means and cross-products)
    from their large-sample normal law, whose mean and covariance are exactly those of the
    resamples' (Krinsky & Robb 1986 [5]_; first-order equivalent to the bootstrap, the order
    to which bootstrap intervals are accurate anyway, Hall 1992 [6]_), so their cost does not
    grow with n, and their intervals are the standard intervals
    :math:`\hat\theta \pm z_{1-\alpha/2}\,\widehat{\mathrm{se}}` with the standard error the
    draws' standard deviation, clipped to the quantity's range (:math:`[0, 1]` for R² and raw
    weights, :math:`[0, 100]` for rescaled ones). 200 draws estimate a standard error to
    about 5% (Efron & Tibshirani 1993 [7]_, §6.4: seldom more are needed), which moves the
    interval's ends about as much as the Monte Carlo error of 1,000 draws' 2.5% and 97.5%
    percentiles does. From 300 complete responses on the weights are close enough to normal
    (delta method) for the standard interval: on simulated overlapping dimensions with known
    weights it covered them at 95–96% for n = 300–1,000, as the percentile intervals of 1,000
    resamples did (the tests check this at 300 and 1,000; under 300 the skewness of small
    weights' distributions is left to the percentiles). The cost is then ~400
    decompositions of :math:`(k+1) \times (k+1)` matrices per group, five times fewer. The weights of all draws
    come from one batched :func:`numpy.linalg.eigh` of the predictors' correlation matrices
    (:math:`k \times k`, and :math:`(k+1) \times (k+1)` with the random variable).

    *Which dimensions matter.* A raw weight cannot be negative, so its own interval excludes 0
    even for a dimension unrelated to the outcome (the defect the R package ``rwa`` fixed in
    its issue #26 / pull request #28). Following Tonidandel, LeBreton & Johnson (2009) [3]_, a
    variable of standard normal noise is added to each group's predictors, the weights are
    recomputed in every resample, and a dimension is ``significant`` when the lower end of the
    interval of :math:`\varepsilon_j - \varepsilon_\text{random}` is above 0. Each response
    has one value of that variable (drawn from ``seed``), in every group it is in.

    *Many partitions at once.* Every group's moments are sums over the cells of the
    partitions' common refinement (each response in one cell), so each response's moment
    features are formed once whatever the number of groups it is in
    (:func:`analysis.resampled_moments.pivot_moments`); a group's intervals then depend only
    on its own rows, their random variable and the seed's stream, which runs through the
    groups in code order.

    References
    ----------
    .. [1] Johnson, J. W. (2000). A heuristic method for estimating the relative weight of
           predictor variables in multiple regression. *Multivariate Behavioral Research*,
           35(1), 1–19.
    .. [2] LeBreton, J. M., Ployhart, R. E., & Ladd, R. T. (2004). A Monte Carlo comparison of
           relative importance methodologies. *Organizational Research Methods*, 7(3),
           258–282. Lindeman, R. H., Merenda, P. F., & Gold, R. Z. (1980). *Introduction to
           Bivariate and Multivariate Analysis*. Scott, Foresman.
    .. [3] Tonidandel, S., LeBreton, J. M., & Johnson, J. W. (2009). Determining the
           statistical significance of relative weights. *Psychological Methods*, 14(4),
           387–399.
    .. [4] Tonidandel, S., & LeBreton, J. M. (2015). RWA Web: a free, comprehensive,
           web-based, and user-friendly tool for relative weight analyses. *Journal of
           Business and Psychology*, 30(2), 207–216.
    .. [5] Krinsky, I., & Robb, A. L. (1986). On approximating the statistical properties of
           elasticities. *The Review of Economics and Statistics*, 68(4), 715–719.
    .. [6] Hall, P. (1992). *The Bootstrap and Edgeworth Expansion*. Springer (ch. 3: coverage
           error of percentile intervals).
    .. [7] Efron, B., & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman
           & Hall (§6.4: the number of replications for a standard error; ch. 12–13: the
           standard and percentile intervals).
    """
    x, y, partitions, n_groups, min_n, n_resamples = _relative_weights_iv(
        predictors, outcome, codes, n_groups, min_n, n_resamples, seed
    )
    confidence = check_confidence(confidence)
    k = x.shape[1]
    complete = ~np.isnan(x).any(axis=1) & ~np.isnan(y) & (partitions >= 0).any(axis=0)
    data = np.column_stack([x[complete], y[complete]])
    part = partitions[:, complete]
    n, mean, var, corr, members = _partition_groups(data, part, n_groups)
    raw, solvable = _johnson_weights(corr)

    with quiet():
        flat = ~(var > (1e-12 * np.maximum(1.0, np.abs(mean))) ** 2)
    reason = reason_array(n_groups)
    reason[~solvable] = _COLLINEAR
    reason[flat[:, :k].any(axis=1)] = _FLAT_DIMENSION
    reason[flat[:, k]] = _FLAT_OUTCOME
    reason[n < min_n] = FEWER_COMPLETE % {"n": min_n}
    ok = reason == ""
    raw = np.where(ok[:, None], raw, np.nan)
    r_squared = raw.sum(axis=1)
    with quiet():
        rescaled = 100.0 * raw / r_squared[:, None]
    # One BLAS thread: the products are small and several workers share the host's cores;
    # on a busy 2-core machine two OpenBLAS threads made the intervals 3x slower.
    with _thread_pools().limit(limits=1):
        low, high = _bootstrap_intervals(
            data, part, members, n, ok, k, n_resamples, confidence, int(seed)
        )
    with quiet():
        significant = low["random_difference"] > 0.0
    return RelativeWeightsResult(
        n=n.astype(np.int64),
        r_squared=r_squared,
        r_squared_ci_low=low["r_squared"],
        r_squared_ci_high=high["r_squared"],
        raw=raw,
        raw_ci_low=low["raw"],
        raw_ci_high=high["raw"],
        rescaled=rescaled,
        rescaled_ci_low=low["rescaled"],
        rescaled_ci_high=high["rescaled"],
        random_difference_ci_low=low["random_difference"],
        random_difference_ci_high=high["random_difference"],
        significant=significant,
        reason=reason,
        confidence=confidence,
        n_resamples=n_resamples,
        seed=int(seed),
    )
