"""Perception gaps, effect sizes, BH adjustment and change between waves (DESIGN §4.9–4.10).

Every statistic is checked cell by cell against SciPy or pingouin on the same data.
"""

import warnings

import numpy as np
import pingouin as pg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from analysis.gaps import (
    benjamini_hochberg,
    change_between_waves,
    gap_change_between_waves,
    hedges_g,
    material_gap,
    perception_gaps,
)

TOL = 1e-9


def _pg_hedges(a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pg.compute_effsize(a, b, eftype="hedges")


def _pg_ci(g, na, nb, confidence=0.95):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pg.compute_esci(g, nx=na, ny=nb, eftype="cohen", confidence=confidence, decimals=15)


@pytest.fixture
def survey():
    """Likert answers (heavily tied) for 12 cells, with missing answers and ignored rows.

    Cell 9 has one supplier answer, cell 10 every answer equal, cell 11 each side constant
    but different.
    """
    rng = np.random.default_rng(20240611)
    n = 900
    codes = rng.integers(-1, 9, n)
    side = rng.integers(0, 2, n)
    shift = np.where(side == 0, 0.4, 0.0) * (codes % 3 == 0)
    values = np.clip(np.round(rng.normal(3.2 + shift, 1.0)), 1, 5)
    values[rng.random(n) < 0.08] = np.nan
    extra_v = [4.0, 3.0, 2.0, 5.0] + [3.0] * 6 + [4.0, 4.0, 4.0, 2.0, 2.0]
    extra_s = [0, 0, 0, 1] + [0, 0, 0, 1, 1, 1] + [0, 0, 0, 1, 1]
    extra_c = [9] * 4 + [10] * 6 + [11] * 5
    return (
        np.r_[values, extra_v],
        np.r_[side, extra_s],
        np.r_[codes, extra_c],
        12,
    )


def _cell(values, side, codes, k):
    ok = (codes == k) & ~np.isnan(values)
    return values[ok & (side == 0)], values[ok & (side == 1)]


def _normal_cells(values, side, codes, n_groups):
    for k in range(n_groups):
        a, b = _cell(values, side, codes, k)
        if len(a) >= 2 and len(b) >= 2 and (np.var(a) > 0 or np.var(b) > 0):
            yield k, a, b


def test_welch_test_per_cell_matches_scipy_ttest_ind(survey):
    res = perception_gaps(*survey)
    checked = 0
    for k, a, b in _normal_cells(*survey):
        ref = stats.ttest_ind(a, b, equal_var=False)
        assert res.welch_t[k] == pytest.approx(ref.statistic, abs=TOL)
        assert res.welch_df[k] == pytest.approx(ref.df, abs=TOL)
        assert res.welch_p[k] == pytest.approx(ref.pvalue, abs=TOL)
        checked += 1
    assert checked >= 9


def test_mann_whitney_per_cell_matches_scipy_asymptotic_with_ties(survey):
    res = perception_gaps(*survey)
    values, side, codes, n_groups = survey
    for k in range(n_groups):
        a, b = _cell(values, side, codes, k)
        if len(a) < 2 or len(b) < 2 or np.ptp(np.r_[a, b]) == 0:
            continue
        ref = stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=True)
        assert res.mw_u[k] == pytest.approx(ref.statistic, abs=TOL)
        assert res.mw_p[k] == pytest.approx(ref.pvalue, abs=TOL)


def test_cliffs_delta_equals_the_pairwise_dominance_definition(survey):
    res = perception_gaps(*survey)
    for k, a, b in _normal_cells(*survey):
        dominance = np.sign(a[:, None] - b[None, :]).mean()
        assert res.cliffs_delta[k] == pytest.approx(dominance, abs=TOL)


def test_hedges_g_per_cell_matches_pingouin_with_its_ci(survey):
    res = perception_gaps(*survey)
    for k, a, b in _normal_cells(*survey):
        g = _pg_hedges(a, b)
        assert res.g[k] == pytest.approx(g, abs=TOL)
        low, high = _pg_ci(g, len(a), len(b))
        assert res.g_ci_low[k] == pytest.approx(low, abs=TOL)
        assert res.g_ci_high[k] == pytest.approx(high, abs=TOL)


def test_gap_sign_is_client_minus_supplier(survey):
    res = perception_gaps(*survey)
    for k, a, b in _normal_cells(*survey):
        assert res.n_client[k] == len(a) and res.n_supplier[k] == len(b)
        assert res.difference[k] == pytest.approx(a.mean() - b.mean(), abs=TOL)
        assert res.sd_client[k] == pytest.approx(a.std(ddof=1), abs=TOL)
        assert np.sign(res.g[k]) == np.sign(res.difference[k])
        assert np.sign(res.welch_t[k]) == np.sign(res.difference[k])


def test_p_adjusted_is_bh_of_welch_p_within_the_call(survey):
    res = perception_gaps(*survey)
    ok = ~np.isnan(res.welch_p)
    expected = stats.false_discovery_control(res.welch_p[ok], method="bh")
    np.testing.assert_allclose(res.p_adjusted[ok], expected, atol=TOL)
    assert np.isnan(res.p_adjusted[~ok]).all()


def test_a_side_with_one_answer_gives_nan_and_says_why(survey):
    res = perception_gaps(*survey)
    assert res.n_supplier[9] == 1
    assert np.isnan([res.g[9], res.welch_p[9], res.mw_p[9], res.cliffs_delta[9]]).all()
    assert res.reason[9] == "fewer than 2 responses in a group"
    assert res.reason[0] == ""


def test_a_cell_with_identical_answers_has_no_test_but_a_zero_delta(survey):
    res = perception_gaps(*survey)
    assert np.isnan([res.g[10], res.welch_p[10], res.mw_p[10]]).all()
    assert res.cliffs_delta[10] == 0.0
    assert res.reason[10] == "no variation within either group"


def test_constant_but_different_sides_keep_mann_whitney(survey):
    values, side, codes, _ = survey
    res = perception_gaps(*survey)
    a, b = _cell(values, side, codes, 11)
    assert np.isnan(res.g[11]) and np.isnan(res.welch_p[11])
    assert res.cliffs_delta[11] == 1.0
    ref = stats.mannwhitneyu(a, b, method="asymptotic")
    assert res.mw_p[11] == pytest.approx(ref.pvalue, abs=TOL)


def test_all_missing_and_empty_inputs_give_nan_without_warnings():
    res = perception_gaps([np.nan, np.nan], [0, 1], [0, 0], 2)
    assert np.isnan(res.g).all() and (res.n_client == 0).all()
    assert set(res.reason) == {"fewer than 2 responses in a group"}
    empty = perception_gaps([], [], np.array([], dtype=int), 3)
    assert empty.g.shape == (3,) and np.isnan(empty.mw_p).all()


def test_constant_dimension_scores_that_are_not_exact_in_binary_count_as_no_variation():
    third = 10 / 3
    res = perception_gaps([third] * 7 + [third] * 5, [0] * 7 + [1] * 5, [0] * 12, 1)
    assert np.isnan(res.g[0]) and res.reason[0] == "no variation within either group"


def test_invalid_side_or_code_is_a_value_error():
    with pytest.raises(ValueError, match="side"):
        perception_gaps([1.0, 2.0], [0, 2], [0, 0], 1)
    with pytest.raises(ValueError, match="n_groups"):
        perception_gaps([1.0, 2.0], [0, 1], [0, 1], 1)
    with pytest.raises(ValueError, match="confidence"):
        perception_gaps([1.0, 2.0], [0, 1], [0, 0], 1, confidence=95)


def test_hedges_g_from_summaries_matches_pingouin_and_broadcasts():
    rng = np.random.default_rng(7)
    a = rng.normal(3.6, 0.9, 31)
    b = rng.normal(3.2, 1.1, 24)
    res = hedges_g(a.mean(), a.std(ddof=1), len(a), b.mean(), b.std(ddof=1), len(b))
    g = _pg_hedges(a, b)
    assert res.g == pytest.approx(g, abs=TOL)
    low, high = _pg_ci(g, len(a), len(b), confidence=0.9)
    res90 = hedges_g(
        a.mean(), a.std(ddof=1), len(a), b.mean(), b.std(ddof=1), len(b), confidence=0.9
    )
    assert (res90.ci_low, res90.ci_high) == pytest.approx((low, high), abs=TOL)
    assert res.reason == ""
    many = hedges_g([3.6, 3.0, 3.0], [0.9, 0.0, 1.0], [31, 10, 1], 3.2, [1.1, 0.0, 1.0], 24)
    assert many.g.shape == (3,)
    assert list(many.reason) == [
        "",
        "no variation within either group",
        "fewer than 2 responses in a group",
    ]


def test_benjamini_hochberg_matches_scipy_and_ignores_nan():
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.5, np.nan, 0.002, 0.04])
    out = benjamini_hochberg(p)
    ok = ~np.isnan(p)
    np.testing.assert_allclose(out[ok], stats.false_discovery_control(p[ok]), atol=TOL)
    assert np.isnan(out[~ok]).all()
    assert np.isnan(benjamini_hochberg([np.nan])).all()
    assert benjamini_hochberg([]).shape == (0,)
    with pytest.raises(ValueError):
        benjamini_hochberg([0.2, 1.5])


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(1, 40), elements=st.floats(0, 1)))
def test_bh_adjusted_p_are_at_least_raw_and_keep_their_order(p):
    adj = benjamini_hochberg(p)
    assert (adj >= p - 1e-15).all() and (adj <= 1).all()
    order = np.argsort(p, kind="stable")
    assert (np.diff(adj[order]) >= -1e-15).all()
    np.testing.assert_allclose(adj, stats.false_discovery_control(p), atol=TOL)


def test_material_gap_needs_significance_and_size():
    difference = np.array([0.6, 0.2, 0.2, 0.8, np.nan, -0.7])
    g = np.array([0.3, 0.55, 0.2, 0.9, 0.9, -0.6])
    p_adj = np.array([0.01, 0.01, 0.01, 0.2, 0.01, np.nan])
    assert material_gap(difference, g, p_adj).tolist() == [True, True, False, False, True, False]


def test_change_between_waves_matches_scipy_and_pingouin():
    rng = np.random.default_rng(11)
    prev = np.clip(np.round(rng.normal(3.5, 1, 400)), 1, 5)
    curr = np.clip(np.round(rng.normal(3.3, 1, 350)), 1, 5)
    prev[::17] = np.nan
    pc = rng.integers(-1, 5, 400)
    cc = rng.integers(0, 5, 350)
    res = change_between_waves(prev, pc, curr, cc, 5)
    for k in range(5):
        a = curr[(cc == k) & ~np.isnan(curr)]
        b = prev[(pc == k) & ~np.isnan(prev)]
        ref = stats.ttest_ind(a, b, equal_var=False)
        assert res.welch_p[k] == pytest.approx(ref.pvalue, abs=TOL)
        assert res.difference[k] == pytest.approx(a.mean() - b.mean(), abs=TOL)
        assert res.g[k] == pytest.approx(_pg_hedges(a, b), abs=TOL)
    np.testing.assert_allclose(res.p_adjusted, stats.false_discovery_control(res.welch_p), atol=TOL)


def test_change_with_one_wave_missing_gives_nan_and_a_reason():
    res = change_between_waves([], np.array([], dtype=int), [3.0, 4.0, 5.0], [0, 0, 0], 1)
    assert np.isnan(res.welch_p[0]) and res.n_prev[0] == 0
    assert res.reason[0] == "fewer than 2 responses in a group"


def test_gap_change_reduces_to_welch_when_one_wave_is_known_exactly():
    rng = np.random.default_rng(5)
    prev = perception_gaps([4.0, 4.0, 4.0, 3.0, 3.0], [0, 0, 0, 1, 1], [0] * 5, 1)
    a = np.round(rng.normal(4.2, 0.8, 40))
    b = np.round(rng.normal(2.9, 0.9, 30))
    curr = perception_gaps(np.r_[a, b], np.r_[[0] * 40, [1] * 30], [0] * 70, 1)
    res = gap_change_between_waves(prev, curr)
    ref = stats.ttest_ind(a - prev.difference[0], b, equal_var=False)
    assert res.t[0] == pytest.approx(ref.statistic, abs=TOL)
    assert res.p[0] == pytest.approx(ref.pvalue, abs=TOL)
    assert res.widening[0] == pytest.approx(abs(a.mean() - b.mean()) - 1.0, abs=TOL)
    assert bool(res.widened[0]) == (res.widening[0] > 0 and res.p_adjusted[0] < 0.05)
