"""Trend tests and early-warning charts (DESIGN §4.11).

Mann–Kendall is checked against pymannkendall.original_test, Theil–Sen against
scipy.stats.theilslopes, and the charts against their textbook recursions.
"""

import numpy as np
import pymannkendall
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.trends import (
    cusum_lower,
    cusum_upper,
    ewma,
    mann_kendall,
    mann_kendall_many,
    theil_sen,
    theil_sen_many,
)

TOL = 1e-9


def _random_series(rng, n_series=200, max_waves=14):
    """Wave means rounded to one decimal (so many ties), with some missing waves."""
    out = []
    for _ in range(n_series):
        w = int(rng.integers(1, max_waves + 1))
        y = np.round(rng.normal(3.4, 0.2, w) + rng.normal(0, 0.05) * np.arange(w), 1)
        y[rng.random(w) < 0.15] = np.nan
        out.append(y)
    return out


# --- Mann–Kendall -------------------------------------------------------------------------


def test_mann_kendall_matches_pymannkendall_original_test_including_ties():
    rng = np.random.default_rng(1)
    checked = 0
    for y in _random_series(rng):
        y_obs = y[~np.isnan(y)]
        if y_obs.size < 5:
            continue
        ref = pymannkendall.original_test(y_obs)
        res = mann_kendall(y)
        assert res.s == pytest.approx(ref.s, abs=TOL)
        assert res.var_s == pytest.approx(ref.var_s, abs=TOL)
        assert res.z == pytest.approx(ref.z, abs=TOL)
        assert res.p == pytest.approx(ref.p, abs=TOL)
        assert res.tau == pytest.approx(ref.Tau, abs=TOL)
        assert res.trend == ref.trend
        assert res.n == y_obs.size and res.reason == ""
        checked += 1
    assert checked > 50


def test_mann_kendall_of_an_all_equal_series_is_no_trend_like_pymannkendall():
    ref = pymannkendall.original_test([3.2] * 6)
    res = mann_kendall([3.2] * 6)
    assert (res.s, res.var_s, res.z, res.p) == (ref.s, ref.var_s, ref.z, ref.p)
    assert res.trend == "no trend"


@pytest.mark.parametrize("n_waves", [0, 1, 4])
def test_mann_kendall_with_fewer_than_5_waves_says_it_needs_5(n_waves):
    res = mann_kendall(np.linspace(4, 3, n_waves))
    assert np.isnan(res.p) and np.isnan(res.s)
    assert res.reason == "needs at least 5 waves"
    assert res.trend == "not tested" and res.n == n_waves


def test_missing_waves_do_not_count_towards_the_five():
    res = mann_kendall([3.9, np.nan, 3.7, 3.6, np.nan, 3.4])
    assert res.reason == "needs at least 5 waves" and res.n == 4


@pytest.mark.parametrize(
    ("many_of", "one_of", "seed", "shape", "missing", "numbers", "labels"),
    [
        pytest.param(
            mann_kendall_many,
            mann_kendall,
            2,
            (60, 9),
            0.2,
            ("s", "var_s", "z", "p", "tau"),
            ("trend", "reason"),
            id="mann-kendall",
        ),
        pytest.param(
            theil_sen_many,
            theil_sen,
            4,
            (50, 8),
            0.25,
            ("slope", "intercept", "ci_low", "ci_high"),
            ("n", "reason"),
            id="theil-sen",
        ),
    ],
)
def test_the_many_series_version_equals_the_scalar_version_row_by_row(
    many_of, one_of, seed, shape, missing, numbers, labels
):
    rng = np.random.default_rng(seed)
    Y = np.round(rng.normal(3.5, 0.2, shape), 1)
    Y[rng.random(Y.shape) < missing] = np.nan
    many = many_of(Y)
    for i, row in enumerate(Y):
        one = one_of(row)
        for field in numbers:
            np.testing.assert_allclose(getattr(many, field)[i], getattr(one, field), atol=TOL)
        for field in labels:
            assert getattr(many, field)[i] == getattr(one, field), field


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5).map(float), min_size=5, max_size=15))
def test_reversing_a_series_flips_the_sign_of_s_and_keeps_p(values):
    forward = mann_kendall(values)
    backward = mann_kendall(values[::-1])
    assert backward.s == -forward.s
    assert backward.var_s == forward.var_s
    assert backward.p == pytest.approx(forward.p, abs=1e-12)


# --- Theil–Sen ----------------------------------------------------------------------------


def test_theil_sen_matches_scipy_theilslopes_with_ties_and_missing_waves():
    rng = np.random.default_rng(3)
    checked = 0
    for y in _random_series(rng):
        ok = ~np.isnan(y)
        if ok.sum() < 3:
            continue
        x = np.arange(y.size, dtype=float)
        ref = stats.theilslopes(y[ok], x[ok])
        res = theil_sen(y)
        assert res.slope == pytest.approx(ref.slope, abs=TOL)
        assert res.intercept == pytest.approx(ref.intercept, abs=TOL)
        assert res.ci_low == pytest.approx(ref.low_slope, abs=TOL)
        assert res.ci_high == pytest.approx(ref.high_slope, abs=TOL)
        checked += 1
    assert checked > 80


def test_theil_sen_with_uneven_times_and_90_percent_ci_matches_scipy():
    y = np.array([3.9, 3.8, 3.8, 3.5, 3.6, 3.2, 3.3])
    x = np.array([0.0, 1.0, 2.5, 3.0, 5.0, 6.0, 8.0])
    ref = stats.theilslopes(y, x, 0.90)
    res = theil_sen(y, x, confidence=0.90)
    assert (res.slope, res.intercept, res.ci_low, res.ci_high) == pytest.approx(
        (ref.slope, ref.intercept, ref.low_slope, ref.high_slope), abs=TOL
    )


@pytest.mark.parametrize("y", [[], [3.5], [3.5, 3.4], [3.5, np.nan, 3.4, np.nan]])
def test_theil_sen_with_fewer_than_3_waves_says_it_needs_3(y):
    res = theil_sen(y)
    assert np.isnan(res.slope) and np.isnan(res.ci_low)
    assert res.reason == "needs at least 3 waves"


# --- EWMA and CUSUM -----------------------------------------------------------------------

# Montgomery, Introduction to Statistical Quality Control (6th ed.), Table 9.1: 20 draws from
# N(10, 1) followed by 10 from N(11, 1).
MONTGOMERY_9_1 = [
    9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.20, 10.34,
    9.03, 11.47, 10.51, 9.40, 10.08, 9.37, 10.62, 10.31, 8.52, 10.84,
    10.90, 9.33, 12.29, 11.50, 10.60, 11.08, 10.38, 11.62, 11.31, 10.52,
]  # fmt: skip


def test_upper_cusum_reproduces_montgomery_example_9_1():
    # Montgomery Example 9.1 (mu0 = 10, sigma = 1, k = 0.5): C+ at period 29 is 5.28.
    res = cusum_upper(MONTGOMERY_9_1, center=10.0, sigma=1.0)
    assert res.k == 0.5 and res.h == 4.0
    assert round(res.c[28], 2) == 5.28


def _ewma_reference(y, lam, L, mu, sigma):
    z, prev, lower, upper = [], mu, [], []
    for t, value in enumerate(y, start=1):
        prev = lam * value + (1 - lam) * prev
        half = L * sigma * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)))
        z.append(prev)
        lower.append(mu - half)
        upper.append(mu + half)
    return np.array(z), np.array(lower), np.array(upper)


def test_ewma_follows_the_lucas_saccucci_recursion_and_limits():
    y = np.array(MONTGOMERY_9_1)
    res = ewma(y, lam=0.1, L=2.7, center=10.0, sigma=1.0)
    z, lower, upper = _ewma_reference(y, 0.1, 2.7, 10.0, 1.0)
    np.testing.assert_allclose(res.z, z, atol=TOL)
    np.testing.assert_allclose(res.lower, lower, atol=TOL)
    np.testing.assert_allclose(res.upper, upper, atol=TOL)
    assert (res.signal_high == (z > upper)).all() and not res.signal_low.any()


def test_ewma_baseline_is_the_first_four_waves_by_default():
    y = np.array([3.6, 3.5, 3.7, 3.62, 3.3, 3.1, 3.0])
    res = ewma(y)
    assert res.center == pytest.approx(np.mean(y[:4]), abs=TOL)
    assert res.sigma == pytest.approx(np.std(y[:4], ddof=1), abs=TOL)
    z, lower, _ = _ewma_reference(y, 0.3, 3.0, res.center, res.sigma)
    np.testing.assert_allclose(res.z, z, atol=TOL)
    assert res.signal_low[-1] and not res.signal_low[:4].any()


def test_missing_waves_are_skipped_by_the_charts():
    y = np.array([3.6, np.nan, 3.5, 3.7, 3.62, 3.1])
    res = ewma(y)
    assert np.isnan(res.z[1]) and not res.signal_low[1]
    z, _, _ = _ewma_reference(y[~np.isnan(y)], 0.3, 3.0, res.center, res.sigma)
    np.testing.assert_allclose(res.z[~np.isnan(y)], z, atol=TOL)


@pytest.mark.parametrize("chart", [ewma, cusum_lower])
def test_charts_need_three_baseline_waves_and_some_variation(chart):
    short = chart([3.6, 3.5])
    assert short.reason == "needs at least 3 baseline waves"
    flat = chart([3.6, 3.6, 3.6, 3.6, 3.2])
    assert flat.reason == "the baseline waves do not vary"
    signals = short.signal_low if chart is ewma else short.signal
    assert not signals.any()


def test_lower_cusum_follows_page_recursion_and_signals_a_sustained_fall():
    y = np.array([3.6, 3.5, 3.7, 3.62, 3.45, 3.4, 3.35, 3.3])
    res = cusum_lower(y)
    mu, sd = np.mean(y[:4]), np.std(y[:4], ddof=1)
    c, acc = [], 0.0
    for value in y:
        acc = max(0.0, acc + (mu - sd / 2) - value)
        c.append(acc)
    np.testing.assert_allclose(res.c, c, atol=TOL)
    assert res.h == pytest.approx(4 * sd) and res.k == pytest.approx(sd / 2)
    assert (res.signal == (np.array(c) > 4 * sd)).all() and res.signal[-1]


def test_chart_options_are_validated():
    with pytest.raises(ValueError):
        ewma([1.0, 2.0, 3.0], lam=0.0)
    with pytest.raises(ValueError):
        cusum_lower([1.0, 2.0, 3.0], n_baseline=2)
