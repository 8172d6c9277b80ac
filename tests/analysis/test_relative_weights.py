"""Johnson's relative weights (issue 16 part 1), checked against published ``rwa`` values and a
direct Shapley (LMG) enumeration of R² over every subset of predictors, written here."""

import math
from itertools import combinations

import numpy as np
import pytest
from scipy import linalg

from analysis import drivers
from analysis.drivers import relative_weights

# mtcars (R `datasets`; Henderson & Velleman 1981): mpg, cyl, disp, hp, wt of the 32 cars.
MTCARS = np.array(
    [
        [21.0, 6, 160.0, 110, 2.620], [21.0, 6, 160.0, 110, 2.875], [22.8, 4, 108.0, 93, 2.320],
        [21.4, 6, 258.0, 110, 3.215], [18.7, 8, 360.0, 175, 3.440], [18.1, 6, 225.0, 105, 3.460],
        [14.3, 8, 360.0, 245, 3.570], [24.4, 4, 146.7, 62, 3.190], [22.8, 4, 140.8, 95, 3.150],
        [19.2, 6, 167.6, 123, 3.440], [17.8, 6, 167.6, 123, 3.440], [16.4, 8, 275.8, 180, 4.070],
        [17.3, 8, 275.8, 180, 3.730], [15.2, 8, 275.8, 180, 3.780], [10.4, 8, 472.0, 205, 5.250],
        [10.4, 8, 460.0, 215, 5.424], [14.7, 8, 440.0, 230, 5.345], [32.4, 4, 78.7, 66, 2.200],
        [30.4, 4, 75.7, 52, 1.615], [33.9, 4, 71.1, 65, 1.835], [21.5, 4, 120.1, 97, 2.465],
        [15.5, 8, 318.0, 150, 3.520], [15.2, 8, 304.0, 150, 3.435], [13.3, 8, 350.0, 245, 3.840],
        [19.2, 8, 400.0, 175, 3.845], [27.3, 4, 79.0, 66, 1.935], [26.0, 4, 120.3, 91, 2.140],
        [30.4, 4, 95.1, 113, 1.513], [15.8, 8, 351.0, 264, 3.170], [19.7, 6, 145.0, 175, 2.770],
        [15.0, 8, 301.0, 335, 3.570], [21.4, 4, 121.0, 109, 2.780],
    ]
)  # fmt: skip


def r_squared(x, y):
    """R² of the least-squares fit of y on x with an intercept."""
    design = np.column_stack([np.ones(len(y)), x])
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return 1.0 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum()


def lmg_shares(x, y):
    """Shapley (LMG) decomposition of R²: each predictor's marginal R² gain averaged over all
    orders of entry, by enumerating the 2^k subsets (Lindeman, Merenda & Gold 1980)."""
    k = x.shape[1]
    r2 = {(): 0.0}
    for size in range(1, k + 1):
        for subset in combinations(range(k), size):
            r2[subset] = r_squared(x[:, subset], y)
    shares = np.zeros(k)
    for j in range(k):
        others = [i for i in range(k) if i != j]
        for size in range(k):
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            for subset in combinations(others, size):
                shares[j] += weight * (r2[tuple(sorted(subset + (j,)))] - r2[subset])
    return shares


def survey_like(rng, n, k=6, *, noise=0):
    """Dimension scores that move together (a shared partnership factor) and an outcome driven
    by the first three; ``noise`` extra predictors unrelated to anything."""
    shared = rng.normal(size=(n, 1))
    dims = 3.4 + 0.7 * shared + rng.normal(scale=0.6, size=(n, k))
    outcome = 0.5 * dims[:, 0] + 0.3 * dims[:, 1] + 0.15 * dims[:, 2] + rng.normal(0, 0.6, n)
    if noise:
        dims = np.column_stack([dims, rng.normal(3, 0.8, size=(n, noise))])
    return dims, outcome


def test_raw_and_rescaled_weights_match_the_rwa_package_on_mtcars():
    # rwa::rwa_multiregress(mtcars, "mpg", c("cyl", "disp", "hp", "wt"))$result, as printed in
    # the rwa documentation ("regression methods" article): 0.2096904 0.1883043 0.1799590
    # 0.2706812, rescaled 24.70914 22.18908 21.20570 31.89607.
    res = relative_weights(MTCARS[:, 1:], MTCARS[:, 0], min_n=10, n_resamples=0)
    np.testing.assert_allclose(res.raw[0], [0.2096904, 0.1883043, 0.1799590, 0.2706812], atol=5e-8)
    np.testing.assert_allclose(res.rescaled[0], [24.70914, 22.18908, 21.20570, 31.89607], atol=5e-6)
    assert res.r_squared[0] == pytest.approx(r_squared(MTCARS[:, 1:], MTCARS[:, 0]), abs=1e-12)


def test_weights_equal_squared_correlations_and_lmg_shares_for_uncorrelated_predictors(rng):
    # Predictors made exactly uncorrelated in the sample (orthogonalised by QR after centring).
    raw = rng.normal(size=(150, 4))
    q, _ = np.linalg.qr(raw - raw.mean(axis=0))
    x = q * np.array([1.0, 2.0, 0.5, 3.0]) + 3.0
    y = x @ np.array([0.4, 0.1, -0.3, 0.05]) + rng.normal(0, 0.1, 150)
    res = relative_weights(x, y, n_resamples=0)
    squared_r = np.array([np.corrcoef(x[:, j], y)[0, 1] ** 2 for j in range(4)])
    np.testing.assert_allclose(res.raw[0], squared_r, atol=1e-12)
    np.testing.assert_allclose(res.raw[0], lmg_shares(x, y), atol=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_weights_approach_the_lmg_shares_when_dimensions_overlap(seed):
    dims, outcome = survey_like(np.random.default_rng(seed), 400)
    res = relative_weights(dims, outcome, n_resamples=0)
    lmg = lmg_shares(dims, outcome)
    assert res.r_squared[0] == pytest.approx(lmg.sum(), abs=1e-12)  # both add up to R²
    np.testing.assert_allclose(res.raw[0], lmg, atol=0.01)
    assert np.array_equal(np.argsort(res.raw[0])[-3:], np.argsort(lmg)[-3:])  # same top three


def test_many_groups_in_one_call_equal_one_call_per_group(rng):
    dims, outcome = survey_like(rng, 900)
    dims[rng.random(dims.shape) < 0.03] = np.nan
    codes = rng.integers(-1, 4, 900)  # -1: in no group
    grouped = relative_weights(dims, outcome, codes, 4, n_resamples=0)
    for g in range(4):
        alone = relative_weights(dims[codes == g], outcome[codes == g], n_resamples=0)
        assert grouped.n[g] == alone.n[0]
        np.testing.assert_allclose(grouped.raw[g], alone.raw[0], atol=1e-12)
        np.testing.assert_allclose(grouped.r_squared[g], alone.r_squared[0], atol=1e-12)


def test_partitions_in_one_call_give_each_group_what_its_partition_gives_alone(rng):
    # Sides, areas and both at once (a response in up to three groups), as the service asks.
    dims, outcome = survey_like(rng, 2400)
    dims[rng.random(dims.shape) < 0.02] = np.nan
    side, area = rng.integers(0, 2, 2400), rng.integers(-1, 3, 2400)  # -1: no area
    partitions = np.stack([side, np.where(area >= 0, 2 + area, -1), np.full(2400, 5)])
    both = relative_weights(dims, outcome, partitions, 6, n_resamples=200, seed=3)
    again = relative_weights(dims, outcome, partitions, 6, n_resamples=200, seed=3)
    assert both.raw_ci_low.tolist() == again.raw_ci_low.tolist()
    for codes in partitions:
        alone = relative_weights(dims, outcome, codes, 6, n_resamples=0)
        groups = np.unique(codes[codes >= 0])
        np.testing.assert_array_equal(both.n[groups], alone.n[groups])
        np.testing.assert_allclose(both.raw[groups], alone.raw[groups], atol=1e-12)
        np.testing.assert_allclose(both.r_squared[groups], alone.r_squared[groups], atol=1e-12)
    assert np.isfinite(both.raw_ci_low).all() and np.isfinite(both.r_squared_ci_high).all()
    assert np.all(both.raw_ci_low <= both.raw) and np.all(both.raw <= both.raw_ci_high)
    with pytest.raises(ValueError, match="one partition"):
        relative_weights(dims, outcome, np.stack([side, side]), 6)
    with pytest.raises(ValueError, match="partition"):
        relative_weights(dims, outcome, partitions[None], 6)


def test_intervals_hold_the_estimate_and_are_reproducible_from_the_seed(rng):
    dims, outcome = survey_like(rng, 300)
    a = relative_weights(dims, outcome, n_resamples=300, seed=7)
    b = relative_weights(dims, outcome, n_resamples=300, seed=7)
    c = relative_weights(dims, outcome, n_resamples=300, seed=8)
    assert a.raw_ci_low[0].tolist() == b.raw_ci_low[0].tolist()
    assert a.raw_ci_low[0].tolist() != c.raw_ci_low[0].tolist()
    assert np.all(a.raw_ci_low <= a.raw) and np.all(a.raw <= a.raw_ci_high)
    assert a.r_squared_ci_low[0] <= a.r_squared[0] <= a.r_squared_ci_high[0]
    assert np.all(a.rescaled_ci_low <= a.rescaled) and np.all(a.rescaled <= a.rescaled_ci_high)


@pytest.fixture(params=["resampled", "normal moments"])
def moments(request, monkeypatch):
    """Run a test through both ways of drawing the resample moments: every group resampled,
    and every group drawn from the moments' normal law (what groups of 300 and more use)."""
    least = 10**9 if request.param == "resampled" else 0
    monkeypatch.setattr(drivers, "_NORMAL_MOMENTS_MIN_N", least)
    return request.param


def plain_weights(x, y):
    """Johnson's raw weights by the textbook steps, with scipy's matrix square root."""
    corr = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    k = x.shape[1]
    lam = np.real(linalg.sqrtm(corr[:k, :k]))
    beta = np.linalg.solve(lam, corr[:k, k])
    return (lam**2) @ (beta**2)


def test_normal_moment_intervals_agree_with_a_plain_loop_bootstrap():
    # Large groups draw 200 resample moment vectors from the moments' normal law and report
    # standard intervals; they must agree with the percentile intervals of an ordinary
    # bootstrap (rows drawn, weights recomputed, one resample at a time, B = 1,000) within
    # Monte Carlo error: each endpoint's sd is ~3% of the width on either side.
    rng = np.random.default_rng(21)
    n, b = 2000, 1000
    dims, outcome = survey_like(rng, n, k=4)
    res = relative_weights(dims, outcome, n_resamples=b, seed=4)
    assert n >= drivers._NORMAL_MOMENTS_MIN_N
    boot = np.empty((b, 4))
    for i in range(b):
        rows = rng.integers(0, n, n)
        boot[i] = plain_weights(dims[rows], outcome[rows])
    r2 = boot.sum(axis=1)
    for got_low, got_high, draws in (
        (res.raw_ci_low[0], res.raw_ci_high[0], boot),
        (res.r_squared_ci_low, res.r_squared_ci_high, r2[:, None]),
        (res.rescaled_ci_low[0], res.rescaled_ci_high[0], 100 * boot / r2[:, None]),
    ):
        low, high = np.quantile(draws, [0.025, 0.975], axis=0)
        width = high - low
        np.testing.assert_array_less(np.abs(got_low - low), 0.15 * width)
        np.testing.assert_array_less(np.abs(got_high - high), 0.15 * width)


def test_normal_moment_intervals_cover_known_weights_at_the_nominal_rate():
    # Uncorrelated normal predictors: the true raw weights are the squared correlations
    # rho_j^2 = b_j^2 / (sum b^2 + 1) and R^2 their sum. 150 groups of 1,000 in one call.
    rng = np.random.default_rng(8)
    n, groups, slopes = 1000, 150, np.array([0.6, 0.4, 0.25])
    x = rng.normal(size=(n * groups, 3))
    y = x @ slopes + rng.normal(size=n * groups)
    codes = np.repeat(np.arange(groups), n)
    res = relative_weights(x, y, codes, groups, n_resamples=500, seed=2)
    truth = slopes**2 / (slopes @ slopes + 1)
    covered = (res.raw_ci_low <= truth) & (truth <= res.raw_ci_high)
    assert 0.9 <= covered.mean() <= 0.99  # nominal 0.95; 450 intervals
    r2 = truth.sum()
    r2_covered = (res.r_squared_ci_low <= r2) & (r2 <= res.r_squared_ci_high)
    assert 0.88 <= r2_covered.mean() <= 1.0


@pytest.mark.parametrize(("n", "groups"), [(300, 400), (1000, 120)])
def test_large_group_intervals_cover_the_population_weights_of_overlapping_dimensions(n, groups):
    # Groups of 300 and more get standard-error intervals from 200 normal-law draws. The
    # truth: Johnson's weights of the population correlation matrix of `survey_like` (a shared
    # factor: every pair of dimensions correlates 0.49 / 0.85 = 0.58), by scipy's sqrtm.
    k, slopes = 6, np.array([0.5, 0.3, 0.15, 0, 0, 0])
    cov = np.zeros((k + 1, k + 1))
    cov[:k, :k] = 0.49 + 0.36 * np.eye(k)
    cov[:k, k] = cov[k, :k] = cov[:k, :k] @ slopes
    cov[k, k] = slopes @ cov[:k, :k] @ slopes + 0.36
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    lam = np.real(linalg.sqrtm(corr[:k, :k]))
    truth = (lam**2) @ np.linalg.solve(lam, corr[:k, k]) ** 2
    rng = np.random.default_rng(30)
    parts = [survey_like(rng, n, k) for _ in range(groups)]
    dims = np.concatenate([p[0] for p in parts])
    outcome = np.concatenate([p[1] for p in parts])
    codes = np.repeat(np.arange(groups), n)
    res = relative_weights(dims, outcome, codes, groups, seed=5)
    assert n >= drivers._NORMAL_MOMENTS_MIN_N
    # Nominal 0.95. Sample R² is biased upwards (by about k(1 - R²)/n, a quarter of its
    # standard error at n = 300), which no bootstrap interval corrects: on these data the
    # percentile intervals of 1,000 resamples cover R² 91.7% of the time at n = 300, as the
    # standard intervals do.
    for low, high, true, least in (
        (res.raw_ci_low, res.raw_ci_high, truth, 0.92),
        (res.rescaled_ci_low, res.rescaled_ci_high, 100 * truth / truth.sum(), 0.92),
        (res.r_squared_ci_low, res.r_squared_ci_high, truth.sum(), 0.89),
    ):
        covered = (low <= true) & (true <= high)
        assert least <= covered.mean() <= 0.985


def test_bootstrap_standard_error_of_r_squared_matches_its_large_sample_formula(moments):
    # Independent check of the resampling: for multivariate normal data the asymptotic
    # variance of R² is 4 R² (1 - R²)² / n (Olkin & Finn 1995). Mean over 20 data sets.
    rng = np.random.default_rng(5)
    n, groups = 400, 20
    x = rng.normal(size=(n * groups, 3))
    y = x @ np.array([0.5, 0.3, 0.2]) + rng.normal(size=n * groups)
    codes = np.repeat(np.arange(groups), n)
    res = relative_weights(x, y, codes, groups, n_resamples=400, confidence=0.6827, seed=3)
    half_width = (res.r_squared_ci_high - res.r_squared_ci_low) / 2
    rho2 = 0.38 / 1.38
    assert half_width.mean() == pytest.approx(np.sqrt(4 * rho2 * (1 - rho2) ** 2 / n), rel=0.1)


def test_noise_dimensions_are_rarely_significant_and_real_drivers_always_are(moments):
    # The decision rule's error rates where the truth is known: 40 groups of 300, three real
    # drivers among six overlapping dimensions and three dimensions of pure noise.
    rng = np.random.default_rng(11)
    parts = [survey_like(rng, 300, noise=3) for _ in range(40)]
    dims = np.concatenate([p[0] for p in parts])
    outcome = np.concatenate([p[1] for p in parts])
    codes = np.repeat(np.arange(40), 300)
    res = relative_weights(dims, outcome, codes, 40, n_resamples=500, seed=1)
    assert res.significant[:, :2].mean() == 1.0
    assert res.significant[:, 6:].mean() <= 0.05  # nominal: about 2.5%, one-sided
    # A raw weight's own interval is not a test (rwa #26): a percentile interval never
    # includes 0, even for noise; a standard-error interval is clipped at 0, its range's edge.
    if moments == "resampled":
        assert np.all(res.raw_ci_low[:, 6:] > 0)
    else:
        assert np.all(res.raw_ci_low[:, 6:] >= 0)


def test_groups_below_min_n_constant_or_collinear_scores_get_reasons_and_no_warning(rng):
    dims, outcome = survey_like(rng, 500)
    codes = np.repeat(np.arange(5), 100)
    codes[:20] = -1  # group 0 keeps 80 responses
    dims[100:200, 2] = 10 / 3  # group 1: a dimension that does not vary
    outcome[200:300] = 4.0  # group 2: the outcome does not vary
    dims[300:400, 3] = 2 * dims[300:400, 0] - dims[300:400, 1]  # group 3: collinear
    res = relative_weights(dims, outcome, codes, 5, n_resamples=50)
    assert res.reason.tolist() == [
        "fewer than 100 complete responses",
        "no variation in a dimension score",
        "no variation in the outcome",
        "dimension scores perfectly collinear",
        "",
    ]
    assert np.isnan(res.raw[:4]).all() and np.isnan(res.raw_ci_low[:4]).all()
    assert not res.significant[:4].any() and np.isfinite(res.raw[4]).all()


def test_only_complete_responses_count(rng):
    dims, outcome = survey_like(rng, 200)
    dims[:30, 1] = np.nan
    outcome[30:40] = np.nan
    res = relative_weights(dims, outcome, n_resamples=0)
    expected = relative_weights(dims[40:], outcome[40:], n_resamples=0)
    assert res.n[0] == 160
    np.testing.assert_allclose(res.raw, expected.raw, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"min_n": 3}, "min_n"),
        ({"n_resamples": -1}, "n_resamples"),
        ({"seed": None}, "seed"),
        ({"confidence": 1.5}, "confidence"),
        ({"n_groups": 3}, "n_groups"),
    ],
)
def test_bad_arguments_are_value_errors(rng, kwargs, match):
    dims, outcome = survey_like(rng, 120)
    with pytest.raises(ValueError, match=match):
        relative_weights(dims, outcome, **kwargs)


def test_mismatched_or_infinite_inputs_are_value_errors(rng):
    dims, outcome = survey_like(rng, 120)
    with pytest.raises(ValueError, match="one value per row"):
        relative_weights(dims, outcome[:-1])
    dims[0, 0] = np.inf
    with pytest.raises(ValueError, match="finite"):
        relative_weights(dims, outcome)
