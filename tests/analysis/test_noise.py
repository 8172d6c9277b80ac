"""Between-wave variance (DESIGN §4.12), checked against statsmodels and a matrix
implementation of the random-effects meta-regression it generalises."""

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from analysis.noise import between_wave_variance, sampling_variance


def _series(rng, k, tau2, n_lo=25, n_hi=60, sd=0.6):
    n = rng.integers(n_lo, n_hi + 1, size=k)
    v = sd**2 * rng.chisquare(n - 1) / (n - 1) / n
    y = 3.5 + rng.normal(0.0, np.sqrt(sd**2 / n + tau2))
    return y, v


def _matrix_q(tau2, ys, vs):
    """Generalised Q of a meta-regression with one intercept per series, by weighted least
    squares on the stacked design matrix (a different route from the module's sums)."""
    y = np.concatenate(ys)
    w = 1.0 / (np.concatenate(vs) + tau2)
    x = np.zeros((y.size, len(ys)))
    start = 0
    for j, part in enumerate(ys):
        x[start : start + part.size, j] = 1.0
        start += part.size
    xtw = x.T * w
    beta = np.linalg.solve(xtw @ x, xtw @ y)
    r = y - x @ beta
    return float(np.sum(w * r * r)), x, w


def _matrix_dl(ys, vs):
    q, x, w = _matrix_q(0.0, ys, vs)
    df = sum(p.size for p in ys) - len(ys)
    xtw = x.T * w
    trace = w.sum() - np.trace(np.linalg.solve(xtw @ x, (x.T * w * w) @ x))
    return max(0.0, (q - df) / trace)


@pytest.mark.parametrize("seed", range(8))
def test_one_series_matches_statsmodels_pm_and_dl(seed):
    rng = np.random.default_rng(seed)
    y, v = _series(rng, int(rng.integers(3, 12)), tau2=float(rng.choice([0.0, 0.004, 0.02])))
    pm = between_wave_variance(y[None], v[None], method="pm")
    dl = between_wave_variance(y[None], v[None], method="dl")
    ref_pm = combine_effects(y, v, method_re="pm").tau2
    ref_dl = max(0.0, combine_effects(y, v, method_re="dl").tau2)  # statsmodels does not truncate
    # statsmodels stops its Paule–Mandel iteration at |Q - df| < 1e-5
    assert pm.tau2[0] == pytest.approx(ref_pm, abs=1e-7)
    assert dl.tau2[0] == pytest.approx(ref_dl, abs=1e-12)
    assert pm.df[0] == y.size - 1 and pm.converged[0]


def test_pooled_dl_is_the_dl_of_a_meta_regression_with_one_intercept_per_series():
    rng = np.random.default_rng(11)
    for _ in range(20):
        ys, vs = zip(*(_series(rng, int(rng.integers(2, 7)), 0.003) for _ in range(6)), strict=True)
        width = max(p.size for p in ys)
        y = np.full((6, width), np.nan)
        v = np.full((6, width), np.nan)
        for j, (a, b) in enumerate(zip(ys, vs, strict=True)):
            y[j, : a.size], v[j, : b.size] = a, b
        res = between_wave_variance(y, v, method="dl")
        assert res.tau2[0] == pytest.approx(_matrix_dl(ys, vs), rel=1e-10, abs=1e-14)


def test_pooled_pm_solves_the_pooled_generalised_q_equation():
    rng = np.random.default_rng(12)
    checked = 0
    for _ in range(20):
        ys, vs = zip(*(_series(rng, 4, 0.006) for _ in range(10)), strict=True)
        y, v = np.array(ys), np.array(vs)
        res = between_wave_variance(y, v)
        df = 10 * 3
        if _matrix_q(0.0, ys, vs)[0] <= df:
            assert res.tau2[0] == 0.0
            continue
        root = optimize.brentq(lambda t: _matrix_q(t, ys, vs)[0] - df, 0.0, 1.0, xtol=1e-14)
        assert res.tau2[0] == pytest.approx(root, rel=1e-8)
        checked += 1
    assert checked > 5


def test_upper_limit_is_the_q_profile_limit():
    rng = np.random.default_rng(13)
    ys, vs = zip(*(_series(rng, 4, 0.004) for _ in range(10)), strict=True)
    res = between_wave_variance(np.array(ys), np.array(vs), upper=0.975)
    target = stats.chi2.ppf(0.025, 30)
    root = optimize.brentq(lambda t: _matrix_q(t, ys, vs)[0] - target, 0.0, 1.0, xtol=1e-14)
    assert res.tau2_upper[0] == pytest.approx(root, rel=1e-8)
    assert res.tau2_upper[0] > res.tau2[0] and res.upper_level == 0.975


def test_groups_are_estimated_apart_and_baseline_waves_only_are_used():
    rng = np.random.default_rng(14)
    y = rng.normal(3.5, 0.1, size=(12, 9))
    v = rng.uniform(0.004, 0.01, size=(12, 9))
    y[3, 1] = np.nan  # a missing wave: the baseline is the first 4 *observed* waves
    groups = np.repeat([0, 1, 2], 4)
    res = between_wave_variance(y, v, groups, n_baseline=4)
    for g in range(3):
        rows = groups == g
        yy, vv = y[rows], v[rows]
        keep = np.cumsum(~np.isnan(yy), axis=1) <= 4
        parts_y = [row[k & ~np.isnan(row)] for row, k in zip(yy, keep, strict=True)]
        parts_v = [
            row[k & ~np.isnan(yy[j])] for j, (row, k) in enumerate(zip(vv, keep, strict=True))
        ]
        alone = between_wave_variance(
            np.array([np.pad(p, (0, 4 - p.size), constant_values=np.nan) for p in parts_y]),
            np.array([np.pad(p, (0, 4 - p.size), constant_values=np.nan) for p in parts_v]),
        )
        assert res.tau2[g] == pytest.approx(alone.tau2[0], rel=1e-10, abs=1e-15)
        assert res.df[g] == 4 * 3 and res.n_series[g] == 4


def test_pooling_gives_tau_zero_far_less_often_than_one_series():
    rng = np.random.default_rng(15)
    tau2 = 0.3 * 0.36 / 42
    one, pooled = [], []
    for _ in range(300):
        ys, vs = zip(*(_series(rng, 4, tau2) for _ in range(10)), strict=True)
        y, v = np.array(ys), np.array(vs)
        one.append(between_wave_variance(y[:1], v[:1]).tau2[0] == 0.0)
        pooled.append(between_wave_variance(y, v).tau2[0] == 0.0)
    assert np.mean(one) > 0.35  # four waves of one series: τ² = 0 about half the time
    assert np.mean(pooled) < 0.25


def test_sampling_variance_and_bad_input():
    assert sampling_variance([0.6, 0.5], [36, 1])[0] == pytest.approx(0.01)
    assert np.isnan(sampling_variance([0.6, 0.5], [36, 1])[1])
    with pytest.raises(ValueError):
        sampling_variance([-0.1], [10])
    with pytest.raises(ValueError):
        between_wave_variance([[1.0, 2.0]], [[0.1]])
    with pytest.raises(ValueError):
        between_wave_variance([[1.0, 2.0]], [[0.1, -0.1]])
    with pytest.raises(ValueError):
        between_wave_variance([[1.0, 2.0]], [[0.1, 0.1]], method="reml")
    with pytest.raises(ValueError):
        between_wave_variance([[1.0, 2.0]], [[0.1, 0.1]], upper=0.2)
    none = between_wave_variance([[1.0, np.nan]], [[0.1, np.nan]])
    assert np.isnan(none.tau2[0]) and none.df[0] == 0
