"""Correlation matrices of resamples, drawn from a group's rows or from their moments' law.

The intervals of :func:`analysis.drivers.relative_weights` need the correlation matrix of
each of many resamples of a group; these functions make them without a loop over resamples:

* :func:`bootstrap_correlations` — resamples as draw counts, their moments one product
  (:func:`resample_correlations`);
* :func:`normal_moment_correlations` — draws from the large-sample normal law of the
  resample moments, whose mean and covariance (:func:`centred_feature_law`) are summed from
  the cells of the groups' partitions (:func:`refinement`, :func:`pivot_moments`), so a
  response's moment features (:func:`moment_features`) are formed once however many groups
  it is in;
* :func:`correlations_from_moments` — a correlation matrix from first and second moments.

Arrays in, arrays out; no state.
"""

from __future__ import annotations

import numpy as np

from analysis._common import quiet

__all__ = [
    "MAX_RESAMPLE_CELLS",
    "bootstrap_correlations",
    "centred_feature_law",
    "correlations_from_moments",
    "moment_features",
    "normal_moment_correlations",
    "pivot_moments",
    "refinement",
    "resample_correlations",
]

MAX_RESAMPLE_CELLS = 1 << 22  # resamples x rows drawn at once: bounds the memory to ~32 MB


def correlations_from_moments(m1, m2, p):
    """Correlation matrices from first moments ``(B, p)`` and upper-triangle second moments."""
    upper = np.triu_indices(p)
    cov = np.empty((m1.shape[0], p, p))
    cov_upper = m2 - m1[:, upper[0]] * m1[:, upper[1]]
    cov[:, upper[0], upper[1]] = cov_upper
    cov[:, upper[1], upper[0]] = cov_upper
    with quiet():
        sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        return cov / (sd[:, :, None] * sd[:, None, :])


def resample_correlations(centered, counts):
    r"""Correlation matrices of bootstrap resamples of one group, all resamples at once.

    Parameters
    ----------
    centered : ndarray, shape (n, p)
        The group's complete cases, centred on the group mean.
    counts : ndarray, shape (B, n)
        How many times each row is drawn into each resample (rows add up to ``n``).

    Returns
    -------
    ndarray, shape (B, p, p)

    Notes
    -----
    With :math:`w_b = c_b / n` the resample weights, the resample moments are the matrix
    products :math:`m_b = w_b^\top X` and :math:`M_b = w_b^\top (x_{ia} x_{ib})_{a \le b}`,
    so the covariance is :math:`M_b - m_b m_b^\top` (the common factor :math:`n/(n-1)`
    cancels in a correlation). One BLAS product per group replaces a loop over resamples.
    """
    n, p = centered.shape
    moments = (counts / float(n)) @ moment_features(centered).T
    return correlations_from_moments(moments[:, :p], moments[:, p:], p)


def moment_features(centered):
    r"""The rows' moment features :math:`(x_i, (x_{ia} x_{ib})_{a \le b})`, shape ``(q, n)``
    with ``q = p + p(p+1)/2`` — transposed, so that each product is one contiguous row
    (10× faster than fancy-indexing the columns), in :func:`numpy.triu_indices` order."""
    n, p = centered.shape
    columns = np.ascontiguousarray(centered.T)
    features = np.empty((p + p * (p + 1) // 2, n))
    features[:p] = columns
    row = p
    for a in range(p):
        np.multiply(columns[a], columns[a:], out=features[row : row + p - a])
        row += p - a
    return features


def bootstrap_correlations(centered, n_resamples, rng):
    """``n_resamples`` resampled correlation matrices of one group, in memory-bounded chunks."""
    n = centered.shape[0]
    chunk = max(1, MAX_RESAMPLE_CELLS // n)
    parts = []
    for start in range(0, n_resamples, chunk):  # chunks of resamples, not single resamples
        b = min(chunk, n_resamples - start)
        draws = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        counts = np.bincount(draws.ravel(), minlength=b * n).reshape(b, n)
        parts.append(resample_correlations(centered, counts))
    return np.concatenate(parts)


def pivot_moments(values, cell, n_cells):
    r"""Each cell's sums of :math:`g g^\top` over its rows, shape ``(n_cells, q + 1, q + 1)``,
    with :math:`g = (1, u, (u_a u_b)_{a \le b})` and :math:`u` a row less the mean of all rows
    (the pivot). Sums add up over cells, so the moments of any union of cells — every group
    of every partition — are a sum of these, and each row's features are made and multiplied
    once, not once per group it belongs to (:func:`centred_feature_law`)."""
    p = values.shape[1]
    q = p + p * (p + 1) // 2
    u = values - values.mean(axis=0)
    order = np.argsort(cell, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=n_cells))])
    sums = np.zeros((n_cells, q + 1, q + 1))
    for c in range(n_cells):
        features = moment_features(u[order[starts[c] : starts[c + 1]]])
        sums[c, 0, 0] = features.shape[1]
        sums[c, 0, 1:] = sums[c, 1:, 0] = features.sum(axis=1)
        sums[c, 1:, 1:] = features @ features.T  # NumPy's symmetric rank-k product
    return sums


def centred_feature_law(sums, p):
    r"""Mean and covariance (divisor n) of a group's moment features :math:`f_i = (x_i,
    (x_{ia} x_{ib})_{a \le b})`, :math:`x` centred on the group's mean, from its pivot sums.

    With :math:`d` the group's mean of :math:`u` (``sums[0, 1:p+1] / n``), :math:`x = u - d`,
    so :math:`x_a = u_a - d_a` and :math:`x_a x_b = u_a u_b - d_b u_a - d_a u_b + d_a d_b`:
    :math:`f = A g` for the matrix :math:`A` of these coefficients, whence
    :math:`\bar f = A \bar g` and :math:`S_f = A\, \overline{g g^\top} A^\top -
    \bar f \bar f^\top`. The pivot is the mean of all rows, so a group's mean lies near it on
    the scale of the rows' spread and no more digits cancel than in a covariance of centred
    rows (tests/analysis/test_resampled_moments.py checks the two agree to 1e-10, with groups
    several standard deviations from the pivot).
    """
    n = sums[0, 0]
    d = sums[0, 1 : p + 1] / n
    a, b = np.triu_indices(p)
    q = p + a.size
    rows = np.arange(p, q)
    coefficients = np.zeros((q, q + 1))
    coefficients[np.arange(p), 0] = -d
    coefficients[np.arange(p), 1 + np.arange(p)] = 1.0
    coefficients[rows, 0] = d[a] * d[b]
    coefficients[rows, 1 + a] -= d[b]
    coefficients[rows, 1 + b] -= d[a]  # a separate statement: where a == b both count
    coefficients[rows, 1 + rows] = 1.0
    mean = coefficients @ sums[:, 0] / n
    second = coefficients @ (sums / n) @ coefficients.T
    return n, mean, second - np.outer(mean, mean)


def normal_moment_correlations(n, mean, covariance, p, n_resamples, rng):
    r"""``n_resamples`` correlation matrices drawn from the large-sample law of the resample moments.

    ``mean`` and ``covariance`` are those of one group's row features
    :math:`f_i = (x_i, (x_{ia} x_{ib})_{a \le b})` (q = p + p(p+1)/2 values, :math:`x` centred
    on the group's mean; :func:`centred_feature_law`), ``n`` its rows. A bootstrap
    resample's moment vector :math:`\bar f^* = w^\top F` has mean :math:`\bar f`
    and covariance exactly :math:`S_f / n` (:math:`S_f` the features' covariance, divisor n),
    and is asymptotically normal. Drawing :math:`\bar f^* \sim N(\bar f, S_f/n)` and mapping
    each draw to a correlation matrix (Krinsky & Robb 1986) therefore matches the resamples'
    first two moments exactly and differs from them only in the :math:`O(n^{-1/2})` skewness
    term of their Edgeworth expansion, the order to which bootstrap intervals are accurate
    anyway (Hall 1992, ch. 3): the same first-order coverage at the cost of one q-variate
    normal draw per resample instead of ``n_resamples`` × n draws and one :math:`B \times n`
    product. The draws use the Cholesky factor of :math:`S_f/n` (any square root gives the
    same law), or its eigendecomposition when it is only semi-definite. Draws whose
    covariance is not positive definite give NaN (dropped later).
    """
    cov = covariance / n
    try:
        root = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:  # semi-definite (e.g. a score with two values): eigh
        eigenvalues, vectors = np.linalg.eigh(cov)
        root = vectors * np.sqrt(np.maximum(eigenvalues, 0.0))
    draws = mean + rng.standard_normal((n_resamples, mean.size)) @ root.T
    return correlations_from_moments(draws[:, :p], draws[:, p:], p)


def refinement(part):
    """The partitions' common refinement: each row's cell ``0..c-1`` (rows with the same group
    in every partition share one) and each cell's group in each partition, shape ``(m, c)``.
    Refined one partition at a time, renumbering after each, so the keys stay small
    (``np.unique(part, axis=1)`` did the same in 16 ms a wave against 0.2)."""
    cell = np.zeros(part.shape[1], dtype=np.int64)
    for codes in part:
        _, cell = np.unique(cell * (int(codes.max(initial=0)) + 2) + codes + 1, return_inverse=True)
    kinds = np.empty((part.shape[0], int(cell.max(initial=-1)) + 1), dtype=np.int64)
    kinds[:, cell] = part
    return kinds, cell.reshape(-1)
