"""Statistics from frequency tables (analysis.frequencies) and the grouping they rest on.

Every count-based entry point is checked two ways on the same data, to 1e-9: against its
per-response counterpart in analysis.scoring / agreement / gaps / drivers (which the
service used before), and against an independent computation — pandas crosstabs, SciPy
(t interval, Welch, Mann–Whitney, one-way ANOVA, Pearson), pingouin (Hedges' g) or a loop
written out in the test.
"""

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from analysis import agreement, drivers, frequencies, gaps, scoring
from analysis._common import group_order, grouped_moments, segment_sums

TOL = 1e-9
POINTS = 5


def _codes_answers(rng, n=1500, m=6, n_groups=5, points=POINTS):
    """Integer answer codes: 1..K answered, 0 don't know, -1 skipped; group -1 ignored."""
    group = rng.integers(-1, n_groups, n)
    shift = rng.normal(0, 0.8, n_groups + 1)[group + 1]
    latent = (points + 1) / 2 + shift[:, None] + rng.normal(0, 1.1, (n, m))
    codes = np.clip(np.rint(latent), 1, points).astype(np.int8)
    u = rng.random((n, m))
    codes[u < 0.05] = 0
    codes[u > 0.96] = -1
    return codes, group


def _as_float(codes):
    return np.where(codes > 0, codes, np.nan).astype(np.float64)


def _cells(scores, side, group, n_groups):
    """Each group's values of each side, dropping NaN (the test's own selection)."""
    out = []
    for g in range(n_groups):
        here = (group == g) & ~np.isnan(scores)
        out.append((scores[here & (side == 0)], scores[here & (side == 1)]))
    return out


# ------------------------------------------------------------------------------ grouping


def test_grouped_moments_by_sorting_equal_a_loop_over_groups(rng):
    x = rng.normal(3, 1, (500, 4))
    x[rng.random(x.shape) < 0.1] = np.nan
    codes = rng.integers(-1, 7, 500)  # group 6 may be empty: force it
    codes[codes == 6] = 5
    count, mean, ss = grouped_moments(x, codes, 7)
    for g in range(7):
        block = x[codes == g]
        for j in range(4):
            v = block[:, j][~np.isnan(block[:, j])]
            assert count[g, j] == v.size
            if v.size:
                assert mean[g, j] == pytest.approx(v.mean(), abs=TOL)
                assert ss[g, j] == pytest.approx(((v - v.mean()) ** 2).sum(), abs=TOL)
            else:
                assert np.isnan(mean[g, j]) and ss[g, j] == 0


def test_segment_sums_skip_empty_groups_at_the_start_the_middle_and_the_end():
    codes = np.array([1, 3, 1, -1, 3])
    order, sizes = group_order(codes, 5)
    assert sizes.tolist() == [0, 2, 0, 2, 0]
    assert order.tolist() == [0, 2, 1, 4]  # stable within a group, -1 left out
    sums = segment_sums(np.array([10.0, 20.0, 30.0, 40.0, 50.0])[order], sizes)
    assert sums.tolist() == [0.0, 40.0, 0.0, 70.0, 0.0]


# ------------------------------------------------------------------------------ builders


def test_answer_counts_equal_a_pandas_crosstab(rng):
    codes, group = _codes_answers(rng)
    res = frequencies.answer_counts(codes, group, 5)
    assert res.counts.shape == (5, 6, POINTS) and res.dont_know.shape == (5, 6)
    frame = pd.DataFrame(codes).assign(g=group)
    frame = frame[frame.g >= 0].melt(id_vars="g", var_name="item", value_name="a")
    table = pd.crosstab([frame.g, frame["item"]], frame.a)
    for (g, item), row in table.iterrows():
        assert res.dont_know[g, item] == row.get(0, 0)
        for v in range(1, POINTS + 1):
            assert res.counts[g, item, v - 1] == row.get(v, 0)
    assert res.counts.sum() + res.dont_know.sum() == ((codes >= 0) & (group >= 0)[:, None]).sum()
    np.testing.assert_array_equal(res.values, np.arange(1.0, POINTS + 1))


def test_answer_counts_refuse_floats_and_values_above_the_scale():
    with pytest.raises(ValueError, match="integer"):
        frequencies.answer_counts(np.array([[1.0]]), [0], 1)
    with pytest.raises(ValueError, match="at most 5"):
        frequencies.answer_counts(np.array([[6]]), [0], 1)


def test_score_counts_with_a_resolution_equal_those_found_by_sorting(rng):
    codes, group = _codes_answers(rng)
    dims = scoring.dimension_scores(_as_float(codes), np.array([0, 0, 0, 0, 1, 1]), 2)
    fast = frequencies.score_counts(dims, group, 5, resolution=12)
    slow = frequencies.score_counts(dims, group, 5)
    # The resolution table holds every multiple of 1/12 in range; the sorted one only those
    # taken. The same counts sit under the same values.
    taken = fast.counts.sum(axis=(0, 1)) > 0
    np.testing.assert_array_equal(fast.values[taken], slow.values)
    np.testing.assert_array_equal(fast.counts[..., taken], slow.counts)
    for g in range(5):
        for d in range(2):
            v = dims[group == g, d]
            values, counts = np.unique(v[~np.isnan(v)], return_counts=True)
            np.testing.assert_array_equal(slow.values[slow.counts[g, d] > 0], values)
            np.testing.assert_array_equal(slow.counts[g, d][slow.counts[g, d] > 0], counts)


def test_score_counts_fall_back_to_sorting_when_scores_are_not_multiples():
    scores = np.array([1.0, 1.25, 1.3, np.nan, 1.25])
    res = frequencies.score_counts(scores, [0, 0, 1, 1, 1], 2, resolution=4)
    np.testing.assert_array_equal(res.values, [1.0, 1.25, 1.3])
    np.testing.assert_array_equal(res.counts, [[1, 1, 0], [0, 1, 1]])


def test_score_counts_of_nothing_answered_are_empty():
    res = frequencies.score_counts(np.full((3, 2), np.nan), [0, 1, 1], 2, resolution=12)
    assert res.values.size == 0 and res.counts.shape == (2, 2, 0)
    agg = frequencies.group_aggregates_from_counts(res.values, res.counts)
    assert (agg.n == 0).all() and (agg.reason == "no answers").all()


# --------------------------------------------------------------------- aggregates, shares


def test_item_aggregates_from_counts_equal_the_stacked_function_and_scipy(rng):
    codes, group = _codes_answers(rng)
    counts = frequencies.answer_counts(codes, group, 6)  # group 5 is empty
    res = frequencies.group_aggregates_from_counts(counts.values, counts.counts)
    x = _as_float(codes)
    ref = scoring.item_aggregates(x, group, 6)
    for name in ("n", "mean", "sd", "ci_low", "ci_high", "score100"):
        np.testing.assert_allclose(getattr(res, name), getattr(ref, name), atol=TOL, rtol=0)
    np.testing.assert_array_equal(res.reason, ref.reason)
    for g in range(5):
        for i in range(6):
            v = x[group == g, i]
            v = v[~np.isnan(v)]
            low, high = stats.t.interval(0.95, v.size - 1, loc=v.mean(), scale=stats.sem(v))
            assert res.ci_low[g, i] == pytest.approx(low, abs=TOL)
            assert res.ci_high[g, i] == pytest.approx(high, abs=TOL)
            assert res.sd[g, i] == pytest.approx(v.std(ddof=1), abs=TOL)
    assert (res.reason[5] == "no answers").all()


def test_aggregates_from_counts_label_constant_and_single_answer_groups():
    values = np.array([1.0, 4.0 / 3.0, 2.0])
    counts = np.array([[0, 3, 0], [0, 0, 1], [0, 0, 0], [2, 0, 1]])
    res = frequencies.group_aggregates_from_counts(values, counts)
    assert res.reason.tolist() == ["zero variance", "n < 2", "no answers", ""]
    assert np.isnan(res.ci_low[:3]).all() and res.mean[0] == pytest.approx(4.0 / 3.0)


def test_item_shares_from_counts_equal_the_stacked_function_and_a_crosstab(rng):
    codes, group = _codes_answers(rng)
    counts = frequencies.answer_counts(codes, group, 5)
    res = frequencies.item_shares_from_counts(
        counts.values, counts.counts, favourable=(4, 5), unfavourable=(1, 2)
    )
    x = _as_float(codes)
    ref = scoring.item_shares_by_item(x, group, 5, favourable=(4, 5), unfavourable=(1, 2))
    for name in ("n_answers", "favourable_pct", "neutral_pct", "unfavourable_pct"):
        np.testing.assert_allclose(getattr(res, name), getattr(ref, name), atol=TOL, rtol=0)
    v = x[group == 2, 3]
    v = v[~np.isnan(v)]
    assert res.favourable_pct[2, 3] == pytest.approx(100 * np.isin(v, (4, 5)).mean(), abs=TOL)
    # Pooling items is summing their counts: the shares of all answers of a group.
    pooled = frequencies.item_shares_from_counts(
        counts.values, counts.counts.sum(axis=1), favourable=(4, 5), unfavourable=(1, 2)
    )
    all_items = scoring.item_shares(x, group, 5, favourable=(4, 5), unfavourable=(1, 2))
    np.testing.assert_allclose(pooled.favourable_pct, all_items.favourable_pct, atol=TOL)


def test_counts_must_be_whole_non_negative_and_match_the_values():
    with pytest.raises(ValueError, match="whole"):
        frequencies.group_aggregates_from_counts([1.0, 2.0], [[1.5, 0.0]])
    with pytest.raises(ValueError, match="whole"):
        frequencies.group_aggregates_from_counts([1.0, 2.0], [[-1, 0]])
    with pytest.raises(ValueError, match="last axis"):
        frequencies.group_aggregates_from_counts([1.0, 2.0, 3.0], [[1, 0]])
    with pytest.raises(ValueError, match="increasing"):
        frequencies.group_aggregates_from_counts([2.0, 1.0], [[1, 0]])


# -------------------------------------------------------------------------------- agreement


def _rwg_loop(x, points):
    """r_wg(j) and AD_M(j) of one group's answers (rows people, columns items), by hand."""
    variances, deviations = [], []
    for j in range(x.shape[1]):
        v = x[:, j][~np.isnan(x[:, j])]
        if v.size >= 2:
            variances.append(v.var(ddof=1))
            deviations.append(np.abs(v - v.mean()).mean())
    if not variances:
        return np.nan, np.nan
    ratio = np.mean(variances) / ((points**2 - 1) / 12)
    j = len(variances)
    rwg = 0.0 if ratio > 1 else j * (1 - ratio) / (j * (1 - ratio) + ratio)
    return rwg, np.mean(deviations)


@pytest.mark.parametrize("points", [5, 7])
def test_rwg_j_from_counts_equals_rwg_j_and_a_loop_by_hand(rng, points):
    codes, group = _codes_answers(rng, n=600, m=4, n_groups=6, points=points)
    group[group == 5] = 4  # group 5 empty
    x = _as_float(codes)
    counts = frequencies.answer_counts(codes, group, 6, points=points)
    ref = agreement.rwg_j(x, group, 6, points=points)
    res = frequencies.rwg_j_from_counts(counts.counts, ref.n, points=points)
    for name in ("rwg", "ad", "mean_item_variance"):
        np.testing.assert_allclose(getattr(res, name), getattr(ref, name), atol=TOL, rtol=0)
    for name in ("n", "n_items", "rwg_truncated", "no_shared_view", "reason"):
        np.testing.assert_array_equal(getattr(res, name), getattr(ref, name))
    for g in range(5):
        rwg, ad = _rwg_loop(x[group == g], points)
        assert res.rwg[g] == pytest.approx(rwg, abs=TOL)
        assert res.ad[g] == pytest.approx(ad, abs=TOL)


def test_icc_from_counts_equals_icc_oneway_and_scipy_f_oneway(rng):
    codes, group = _codes_answers(rng, n=800, m=4, n_groups=6)
    dims = scoring.dimension_scores(_as_float(codes), np.array([0, 0, 1, 1]), 2)
    counts = frequencies.score_counts(dims, group, 6, resolution=2)
    res = frequencies.icc_oneway_from_counts(counts.values, counts.counts)
    ref = agreement.icc_oneway(dims, group, 6)
    for name in ("icc1", "icc2", "f", "p", "k0"):
        np.testing.assert_allclose(getattr(res, name), getattr(ref, name), atol=TOL, rtol=0)
    for d in range(2):
        groups = [dims[(group == g) & ~np.isnan(dims[:, d]), d] for g in range(6)]
        anova = stats.f_oneway(*groups)
        assert res.f[d] == pytest.approx(anova.statistic, abs=TOL)
        assert res.p[d] == pytest.approx(anova.pvalue, abs=1e-12)
    one = frequencies.icc_oneway_from_counts(counts.values, counts.counts[:, 0])
    assert one.icc1 == pytest.approx(res.icc1[0], abs=TOL) and np.ndim(one.icc1) == 0


# ----------------------------------------------------------------------- gaps and change


@pytest.fixture
def scored(rng):
    """Dimension scores (heavily tied), sides and 8 cells; cell 6 one supplier answer,
    cell 7 every answer equal."""
    codes, group = _codes_answers(rng, n=1400, m=4, n_groups=8)
    side = (rng.random(codes.shape[0]) < 0.45).astype(np.int64)
    codes[(group == 0) & (side == 0)] = np.minimum(codes[(group == 0) & (side == 0)] + 1, 5)
    sup6 = np.flatnonzero((group == 6) & (side == 1))
    group[sup6[1:]] = -1
    codes[group == 7] = 3
    dims = scoring.dimension_scores(_as_float(codes), np.array([0, 0, 0, 0]), 1)[:, 0]
    return dims, side, group


def _side_counts(dims, side, group, n_groups):
    both = frequencies.score_counts(dims, group * 2 + side, 2 * n_groups, resolution=12)
    return both.values, both.counts[0::2], both.counts[1::2]


def test_perception_gaps_from_counts_equal_the_per_response_function(scored):
    dims, side, group = scored
    values, client, supplier = _side_counts(dims, side, group, 8)
    res = frequencies.perception_gaps_from_counts(values, client, supplier)
    ref = gaps.perception_gaps(dims, side, group, 8)
    for name in gaps.GapResult.__slots__:
        a, b = getattr(res, name), getattr(ref, name)
        if name == "reason":
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, atol=TOL, rtol=0, err_msg=name)


def test_perception_gaps_from_counts_match_scipy_and_pingouin_cell_by_cell(scored):
    dims, side, group = scored
    values, client, supplier = _side_counts(dims, side, group, 8)
    res = frequencies.perception_gaps_from_counts(values, client, supplier)
    checked = 0
    for k, (a, b) in enumerate(_cells(dims, side, group, 8)):
        if a.size < 2 or b.size < 2 or not (a.var() > 0 or b.var() > 0):
            assert res.reason[k] != ""
            continue
        welch = stats.ttest_ind(a, b, equal_var=False)
        mw = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = pg.compute_effsize(a, b, eftype="hedges")
        assert res.welch_p[k] == pytest.approx(welch.pvalue, abs=TOL)
        assert res.mw_u[k] == pytest.approx(mw.statistic, abs=TOL)
        assert res.mw_p[k] == pytest.approx(mw.pvalue, abs=TOL)
        assert res.cliffs_delta[k] == pytest.approx(
            2 * mw.statistic / (a.size * b.size) - 1, abs=TOL
        )
        assert res.g[k] == pytest.approx(g, abs=1e-6)  # pingouin's exact-gamma correction
        checked += 1
    assert checked >= 5
    ok = ~np.isnan(res.welch_p)
    np.testing.assert_allclose(
        res.p_adjusted[ok], stats.false_discovery_control(res.welch_p[ok]), atol=TOL
    )


def test_change_from_counts_equals_the_per_response_function_and_scipy(rng):
    prev_codes, prev_group = _codes_answers(rng, n=900, m=3, n_groups=4)
    curr_codes, curr_group = _codes_answers(rng, n=700, m=3, n_groups=4)
    item_dim = np.zeros(3, dtype=int)
    prev = scoring.dimension_scores(_as_float(prev_codes), item_dim, 1)[:, 0]
    curr = scoring.dimension_scores(_as_float(curr_codes), item_dim, 1)[:, 0] + 0.0
    p_counts = frequencies.score_counts(prev, prev_group, 4, resolution=6)
    c_counts = frequencies.score_counts(curr, curr_group, 4)  # another table: sorted
    res = frequencies.change_between_waves_from_counts(
        p_counts.values, p_counts.counts, c_counts.values, c_counts.counts
    )
    ref = gaps.change_between_waves(prev, prev_group, curr, curr_group, 4)
    for name in ("n_prev", "n_curr", "difference", "g", "welch_t", "welch_p", "p_adjusted"):
        np.testing.assert_allclose(getattr(res, name), getattr(ref, name), atol=TOL, rtol=0)
    for g in range(4):
        a = curr[(curr_group == g) & ~np.isnan(curr)]
        b = prev[(prev_group == g) & ~np.isnan(prev)]
        assert res.welch_p[g] == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)


def test_change_from_counts_refuses_cells_that_do_not_line_up():
    with pytest.raises(ValueError, match="same cells"):
        frequencies.change_between_waves_from_counts([1.0], [[1], [2]], [1.0], [[1]])


# ---------------------------------------------------------------------------------- drivers


def test_driver_correlations_from_pooled_moments_equal_driver_correlations_and_pearsonr(rng):
    n = 900
    base = rng.integers(-1, 6, n)
    x = rng.normal(3, 0.7, (n, 3)) + 0.3 * base[:, None]
    y = x @ np.array([0.5, -0.2, 0.0]) + rng.normal(0, 0.5, n)
    x[rng.random(x.shape) < 0.08] = np.nan
    y[rng.random(n) < 0.05] = np.nan
    x[base == 2, 1] = 4.0  # a constant column in one base group
    membership = np.array(
        [[1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]]
    )
    pooled = frequencies.co_moments(x, y, base, 6).combine(membership)
    res = frequencies.driver_correlations_from_moments(pooled)
    for c, member in enumerate(membership):
        rows = np.isin(base, np.flatnonzero(member))
        ref = drivers.driver_correlations(x[rows], y[rows])
        for name in ("n", "r", "ci_low", "ci_high", "p"):
            np.testing.assert_allclose(getattr(res, name)[c], getattr(ref, name), atol=TOL)
        np.testing.assert_array_equal(res.reason[c], ref.reason)
        for j in range(3):
            ok = rows & ~np.isnan(x[:, j]) & ~np.isnan(y)
            if res.reason[c, j] == "":
                pr = stats.pearsonr(x[ok, j], y[ok])
                assert res.r[c, j] == pytest.approx(pr.statistic, abs=TOL)
                assert res.p[c, j] == pytest.approx(pr.pvalue, abs=TOL)
    assert res.reason[1, 1] == "no variation in the dimension score"


def test_driver_correlations_from_moments_need_min_n_of_at_least_four():
    moments = frequencies.co_moments(np.ones((5, 1)), np.ones(5), np.zeros(5, int), 1)
    with pytest.raises(ValueError, match="min_n"):
        frequencies.driver_correlations_from_moments(moments, min_n=3)
