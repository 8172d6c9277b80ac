"""The detector's rules (DESIGN §4.11–4.12), each checked against a computation written
another way: the EWMA by its recursion and a covariance matrix, the CUSUM by
``analysis.trends`` and a plain loop, Mann–Kendall by pymannkendall."""

import numpy as np
import pymannkendall
import pytest
from scipy import signal, stats

from analysis import trends
from analysis.detector import rule_statistics, series_noise


def _heteroscedastic(rng, n_series, t, tau2=0.002):
    n = rng.integers(25, 300, size=(n_series, t))
    v = 0.36 / n
    y = 3.5 + rng.normal(0.0, np.sqrt(v + tau2))
    return y, v


def _weights(t, b, sig2, lam):
    """z_T - centre as a linear map of the means: run the EWMA recursion on unit vectors."""
    prec = 1.0 / sig2[:b]
    c = np.zeros(t)
    c[:b] = prec / prec.sum()
    a = np.zeros(t)
    for i in range(t):
        unit = np.zeros(t)
        unit[i] = 1.0
        centre = c @ unit
        z = signal.lfilter([lam], [1.0, lam - 1.0], unit, zi=[(1.0 - lam) * centre])[0]
        a[i] = z[-1] - centre
    return a, c


def test_ewma_value_equals_the_recursion_from_the_baseline_level():
    y, v = _heteroscedastic(np.random.default_rng(1), 30, 9)
    tau2 = 0.002
    res = rule_statistics(y, v, tau2)
    for j, sig2 in enumerate(v + tau2):
        w = 1.0 / sig2[:4]
        centre = float(np.sum(w * y[j, :4]) / w.sum())
        ref = trends.ewma(y[j], lam=0.3, center=centre, sigma=1.0)
        assert res.center[j] == pytest.approx(centre, abs=1e-12)
        assert res.ewma[j] == pytest.approx(ref.z[-1], abs=1e-12)


def test_ewma_variance_is_exact_for_unequal_variances_and_an_estimated_centre():
    y, v = _heteroscedastic(np.random.default_rng(2), 20, 7)
    tau2 = 0.001
    res = rule_statistics(y, v, tau2)
    for j, sig2 in enumerate(v + tau2):
        a, _ = _weights(7, 4, sig2, 0.3)
        assert abs(a.sum()) < 1e-12  # the level cancels
        assert res.ewma_sd[j] == pytest.approx(np.sqrt(a @ np.diag(sig2) @ a), rel=1e-10)


def test_ewma_z_is_standard_normal_on_series_with_no_change():
    rng = np.random.default_rng(3)
    t = 8
    sig2 = rng.uniform(0.002, 0.02, size=t)  # unequal, and known
    y = rng.normal(3.5, np.sqrt(sig2), size=(40_000, t))
    res = rule_statistics(y, np.broadcast_to(sig2, y.shape), 0.0)
    assert np.std(res.ewma_z) == pytest.approx(1.0, abs=0.015)
    assert np.mean(np.abs(res.ewma_z) > 1.96) == pytest.approx(0.05, abs=0.004)
    # the textbook (asymptotic, equal-variance) limits would be wrong here
    asymptotic = np.sqrt(np.mean(sig2) * 0.3 / 1.7)
    assert abs(np.mean(res.ewma_sd) / asymptotic - 1.0) > 0.05


def test_ewma_variance_reduces_to_lucas_saccucci_with_equal_variances_and_a_precise_centre():
    t, lam, s2 = 10, 0.3, 0.01
    sig2 = np.full(t, s2)
    sig2[:4] = 1e-12  # a baseline known almost exactly: the centre acts as a known target
    y = np.zeros((1, t))
    res = rule_statistics(y, sig2[None], 0.0)
    steps = t - 4  # waves after the (exact) baseline
    ls = s2 * lam / (2 - lam) * (1 - (1 - lam) ** (2 * steps))
    assert res.ewma_sd[0] ** 2 == pytest.approx(ls, rel=1e-6)


def _cusum_loop(x, k):
    low = high = 0.0
    for xi in x:
        low = max(0.0, low - xi - k)
        high = max(0.0, high + xi - k)
    return low, high


def test_cusum_equals_page_cusum_of_the_standardised_means():
    y, v = _heteroscedastic(np.random.default_rng(4), 25, 10)
    y[:, 6:] -= 0.15
    tau2 = 0.001
    res = rule_statistics(y, v, tau2)
    for j, sig2 in enumerate(v + tau2):
        v_mu = 1.0 / np.sum(1.0 / sig2[:4])
        centre = res.center[j]
        var_dev = np.where(np.arange(10) < 4, sig2 - v_mu, sig2 + v_mu)
        x = (y[j] - centre) / np.sqrt(var_dev)
        low, high = _cusum_loop(x, 0.5)
        assert res.cusum_fall[j] == pytest.approx(low, abs=1e-10)
        assert res.cusum_rise[j] == pytest.approx(high, abs=1e-10)
        ref = trends.cusum_lower(x, center=0.0, sigma=1.0)  # k = σ/2 with σ = 1
        assert res.cusum_fall[j] == pytest.approx(ref.c[-1], abs=1e-10)


def test_the_cusum_standardisation_has_unit_variance_before_and_after_the_baseline():
    rng = np.random.default_rng(5)
    t = 7
    sig2 = rng.uniform(0.003, 0.02, size=t)
    y = rng.normal(0.0, np.sqrt(sig2), size=(60_000, t))
    res = rule_statistics(y, np.broadcast_to(sig2, y.shape), 0.0)
    v_mu = 1.0 / np.sum(1.0 / sig2[:4])
    x_last = (y[:, -1] - res.center) / np.sqrt(sig2[-1] + v_mu)
    assert np.std(x_last) == pytest.approx(1.0, abs=0.01)
    x_first = (y[:, 0] - res.center) / np.sqrt(sig2[0] - v_mu)
    assert np.std(x_first) == pytest.approx(1.0, abs=0.01)


def test_mann_kendall_and_latest_change_match_their_references():
    y, v = _heteroscedastic(np.random.default_rng(6), 40, 9)
    tau2 = 0.002
    res = rule_statistics(y, v, tau2)
    for j in range(len(y)):
        ref = pymannkendall.original_test(y[j])
        assert res.mk_z[j] == pytest.approx(ref.z, abs=1e-12)
        assert res.p_fall[j, 2] == pytest.approx(stats.norm.cdf(ref.z), abs=1e-12)
        z = (y[j, -1] - y[j, -2]) / np.sqrt(v[j, -1] + v[j, -2] + 2 * tau2)
        assert res.change_z[j] == pytest.approx(z, abs=1e-12)
        assert res.p_rise[j, 3] == pytest.approx(stats.norm.sf(z), abs=1e-12)
        assert res.p_fall[j, 0] == pytest.approx(stats.norm.cdf(res.ewma_z[j]), abs=1e-12)


def test_missing_waves_are_skipped_and_short_series_say_nothing():
    rng = np.random.default_rng(7)
    y, v = _heteroscedastic(rng, 1, 8)
    gappy_y = np.insert(y, [2, 5], np.nan, axis=1)
    gappy_v = np.insert(v, [2, 5], np.nan, axis=1)
    a = rule_statistics(y, v, 0.001)
    b = rule_statistics(gappy_y, gappy_v, 0.001)
    for name in ("ewma", "ewma_sd", "cusum_fall", "mk_z", "change_z"):
        assert getattr(b, name)[0] == pytest.approx(getattr(a, name)[0], abs=1e-12)
    short = rule_statistics([[3.5, np.nan], [3.5, 3.4]], [[0.01, np.nan], [0.01, 0.01]], 0.0)
    assert np.isnan(short.change_z[0]) and short.n_waves[0] == 1
    assert not np.isnan(short.change_z[1]) and np.isnan(short.ewma_z[1])  # charts need 3
    assert np.isnan(short.p_fall[1, [0, 1, 2]]).all()


def test_series_noise_pools_by_group():
    rng = np.random.default_rng(8)
    y, v = _heteroscedastic(rng, 6, 6, tau2=0.0)
    tau2, size, est = series_noise(y, v, np.array([0, 0, 0, 1, 1, 1]))
    assert list(size) == [3] * 6 and tau2[0] == tau2[2] and tau2[3] == tau2[5]
    assert est.df[0] == 9


def test_bad_inputs_are_value_errors():
    with pytest.raises(ValueError):
        rule_statistics([3.5, 3.4], [0.01, 0.01], 0.0)
    with pytest.raises(ValueError):
        rule_statistics([[3.5, 3.4]], [[0.01, -0.01]], 0.0)
    with pytest.raises(ValueError):
        rule_statistics([[3.5, 3.4]], [[0.01, 0.01]], -1.0)
