"""Correlation matrices of resamples (analysis/resampled_moments.py), checked against
:func:`numpy.corrcoef` of the resampled rows and the moments of centred rows computed here."""

import numpy as np

from analysis import resampled_moments as moments


def test_resampled_correlations_equal_corrcoef_of_the_resampled_rows(rng):
    data = rng.normal(size=(60, 5)) @ rng.normal(size=(5, 5))
    counts = np.stack([np.bincount(rng.integers(0, 60, 60), minlength=60) for _ in range(7)])
    got = moments.resample_correlations(data - data.mean(axis=0), counts)
    for b in range(7):
        expected = np.corrcoef(np.repeat(data, counts[b], axis=0), rowvar=False)
        np.testing.assert_allclose(got[b], expected, atol=1e-12)


def test_the_refinement_puts_rows_together_exactly_when_every_partition_does(rng):
    part = np.stack([rng.integers(-1, 3, 500), rng.integers(3, 5, 500), np.full(500, 9)])
    kinds, cell = moments.refinement(part)
    np.testing.assert_array_equal(kinds[:, cell], part)
    same_cell = cell[:, None] == cell[None, :]
    same_codes = (part[:, :, None] == part[:, None, :]).all(axis=0)
    np.testing.assert_array_equal(same_cell, same_codes)
    assert kinds.shape == (3, len({tuple(c) for c in part.T}))


def test_a_groups_feature_law_summed_from_cells_equals_the_law_of_its_centred_rows(rng):
    # Groups far from the pivot (the mean of every row) and spread over several cells: the
    # law from pivot sums must equal the mean and covariance of features of centred rows.
    p = 5
    shift = np.array([0.0, 30.0, -25.0, 60.0])[:, None]
    values = rng.normal(50, 12, size=(4000, p)) @ rng.normal(size=(p, p)) * 0.4
    cell = rng.integers(0, 4, 4000)
    values += shift[cell]
    sums = moments.pivot_moments(values, cell, 4)
    for cells in ([1], [0, 3], [0, 1, 2, 3]):
        rows = values[np.isin(cell, cells)]
        x = rows - rows.mean(axis=0)
        a, b = np.triu_indices(p)
        features = np.column_stack([x, x[:, a] * x[:, b]]).T  # written here, not the module's
        n, mean, covariance = moments.centred_feature_law(sums[cells].sum(axis=0), p)
        assert n == rows.shape[0]
        expected_mean = features.mean(axis=1)
        centred = features - expected_mean[:, None]
        expected = centred @ centred.T / n
        scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
        np.testing.assert_allclose(mean[p:], expected_mean[p:], rtol=1e-10)
        np.testing.assert_allclose(mean[:p], 0.0, atol=1e-10 * rows.std())
        np.testing.assert_allclose(covariance / scale, expected / scale, atol=1e-10)
