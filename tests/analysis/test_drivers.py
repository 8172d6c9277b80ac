"""Driver correlations with Fisher-z intervals (DESIGN §4.13), checked against SciPy."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.drivers import driver_correlations

TOL = 1e-9


@pytest.fixture
def responses():
    """Dimension scores on a 1–5 scale (tied) driving an outcome, with missing values."""
    rng = np.random.default_rng(42)
    n = 120
    dims = np.clip(np.round(rng.normal(3.4, 0.9, (n, 4)) * 3) / 3, 1, 5)
    outcome = 0.6 * dims[:, 0] + 0.2 * dims[:, 2] + rng.normal(0, 0.6, n)
    dims[rng.random(dims.shape) < 0.15] = np.nan
    outcome[rng.random(n) < 0.05] = np.nan
    return dims, outcome


def test_r_p_and_fisher_ci_match_scipy_pearsonr_on_pairwise_complete_cases(responses):
    dims, outcome = responses
    res = driver_correlations(dims, outcome)
    for j in range(dims.shape[1]):
        ok = ~np.isnan(dims[:, j]) & ~np.isnan(outcome)
        ref = stats.pearsonr(dims[ok, j], outcome[ok])
        ci = ref.confidence_interval(confidence_level=0.95)
        assert res.n[j] == ok.sum()
        assert res.r[j] == pytest.approx(ref.statistic, abs=TOL)
        assert res.p[j] == pytest.approx(ref.pvalue, abs=TOL)
        assert (res.ci_low[j], res.ci_high[j]) == pytest.approx((ci.low, ci.high), abs=TOL)
        assert res.reason[j] == ""


def test_confidence_level_is_respected(responses):
    dims, outcome = responses
    res = driver_correlations(dims, outcome, confidence=0.8)
    ok = ~np.isnan(dims[:, 0]) & ~np.isnan(outcome)
    ci = stats.pearsonr(dims[ok, 0], outcome[ok]).confidence_interval(confidence_level=0.8)
    assert (res.ci_low[0], res.ci_high[0]) == pytest.approx((ci.low, ci.high), abs=TOL)


def test_groups_below_25_responses_are_not_shown(responses):
    dims, outcome = responses
    res = driver_correlations(dims[:24], outcome[:24])
    assert np.isnan(res.r).all() and np.isnan(res.ci_low).all() and np.isnan(res.p).all()
    assert set(res.reason) == {"fewer than 25 responses"}


def test_min_n_is_configurable_but_not_below_four(responses):
    dims, outcome = responses
    assert np.isfinite(driver_correlations(dims[:20], outcome[:20], min_n=10).r).all()
    with pytest.raises(ValueError, match="min_n"):
        driver_correlations(dims, outcome, min_n=3)


def test_a_constant_dimension_or_outcome_is_nan_with_a_reason_and_no_warning(responses):
    dims, outcome = responses
    dims = dims.copy()
    dims[:, 1] = 10 / 3
    res = driver_correlations(dims, outcome)
    assert np.isnan(res.r[1]) and res.reason[1] == "no variation in the dimension score"
    flat = driver_correlations(dims, np.full(outcome.shape, 4.0))
    assert set(flat.reason) == {
        "no variation in the outcome",
        "no variation in the dimension score",
    }


def test_a_perfect_correlation_has_a_degenerate_interval_like_scipy():
    x = np.arange(30, dtype=float)
    res = driver_correlations(x, 2 * x + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = stats.pearsonr(x, 2 * x + 1)
        ci = ref.confidence_interval()
    assert res.r[0] == pytest.approx(1.0)
    assert res.p[0] == pytest.approx(ref.pvalue, abs=TOL)
    assert (res.ci_low[0], res.ci_high[0]) == pytest.approx((ci.low, ci.high), abs=TOL)


def test_mismatched_lengths_are_a_value_error(responses):
    dims, outcome = responses
    with pytest.raises(ValueError):
        driver_correlations(dims, outcome[:-1])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 5), min_size=30, max_size=60),
    st.floats(0.1, 10),
    st.floats(-5, 5),
)
def test_r_does_not_change_when_the_outcome_is_rescaled(answers, scale, shift):
    rng = np.random.default_rng(len(answers))
    x = np.array(answers, dtype=float)
    y = x + rng.normal(0, 1, x.size)
    a = driver_correlations(x, y)
    b = driver_correlations(x, scale * y + shift)
    np.testing.assert_allclose(a.r, b.r, atol=1e-9, equal_nan=True)
