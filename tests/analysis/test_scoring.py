"""Response scores, group aggregates, shares and bands (DESIGN §4.1–4.6)."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from analysis.scoring import (
    band,
    dimension_scores,
    group_aggregates,
    health_index,
    item_aggregates,
    item_shares,
    item_shares_by_item,
    rescale_100,
    reverse_key,
)

POINTS = 5


def likert(points=POINTS, max_rows=30, max_items=8):
    """Answer matrices in 1..points with NaN holes."""
    value = st.one_of(st.integers(1, points).map(float), st.just(math.nan))
    shape = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=max(max_rows, max_items))
    return hnp.arrays(np.float64, shape, elements=value)


# --------------------------------------------------------------------------- reverse keying


def test_reverse_key_maps_k_plus_one_minus_x_and_keeps_missing():
    x = np.array([[1.0, 1.0], [5.0, np.nan], [3.0, 2.0]])
    out = reverse_key(x, np.array([True, False]), points=5)
    np.testing.assert_array_equal(out, [[5.0, 1.0], [1.0, np.nan], [3.0, 2.0]])
    assert out is not x and x[0, 0] == 1.0  # input untouched


@given(likert(points=7), st.data())
def test_reverse_keying_twice_is_identity(x, data):
    reverse = data.draw(hnp.arrays(np.bool_, x.shape[1]))
    twice = reverse_key(reverse_key(x, reverse, points=7), reverse, points=7)
    np.testing.assert_array_equal(twice, x)


def test_reverse_key_refuses_answers_outside_the_scale_and_a_wrong_mask():
    with pytest.raises(ValueError, match="1..5"):
        reverse_key([[0.0, 3.0]], np.array([True, False]))
    with pytest.raises(ValueError, match="reverse"):
        reverse_key([[1.0, 3.0]], np.array([True]))
    with pytest.raises(ValueError, match="reverse"):
        reverse_key([[1.0, 3.0]], np.array([1, 0]))


# --------------------------------------------------------------------------- dimension scores


def _half_rule_loop(x, item_dimension, n_dimensions):
    """Independent, row-by-row statement of DESIGN §4.2."""
    out = np.full((x.shape[0], n_dimensions), np.nan)
    for r in range(x.shape[0]):
        for d in range(n_dimensions):
            items = x[r, item_dimension == d]
            answered = items[~np.isnan(items)]
            if items.size and answered.size >= math.ceil(items.size / 2):
                out[r, d] = answered.mean()
    return out


def test_dimension_scores_follow_the_half_rule_rounding_up():
    # dimension 0 has 3 items (needs 2), dimension 1 has 4 items (needs 2)
    item_dimension = np.array([0, 0, 0, 1, 1, 1, 1])
    nan = np.nan
    x = np.array(
        [
            [1, nan, nan, 2, 4, nan, nan],  # 1 of 3 -> missing; 2 of 4 -> 3.0
            [1, 2, nan, 5, nan, nan, nan],  # 2 of 3 -> 1.5; 1 of 4 -> missing
            [nan, nan, nan, nan, nan, nan, nan],
        ]
    )
    out = dimension_scores(x, item_dimension, 2)
    np.testing.assert_array_equal(out, [[nan, 3.0], [1.5, nan], [nan, nan]])


def test_dimension_scores_match_a_row_by_row_loop(rng, answers):
    x, _ = answers(rng, 200, 11, missing=0.35)
    item_dimension = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, -1, 3])
    np.testing.assert_allclose(
        dimension_scores(x, item_dimension, 5),  # dimension 4 has no items -> all NaN
        np.column_stack([_half_rule_loop(x, item_dimension, 4), np.full(200, np.nan)]),
        rtol=0,
        atol=1e-12,
    )


@given(likert(), st.data())
def test_dimension_and_index_scores_stay_within_the_scale(x, data):
    n_items = x.shape[1]
    n_dim = data.draw(st.integers(1, n_items))
    item_dimension = np.array(
        data.draw(st.lists(st.integers(0, n_dim - 1), min_size=n_items, max_size=n_items))
    )
    weights = np.array(data.draw(st.lists(st.floats(0.01, 10), min_size=n_dim, max_size=n_dim)))
    dims = dimension_scores(x, item_dimension, n_dim)
    rhi = health_index(dims, weights)
    for s in (dims, rhi):
        ok = s[~np.isnan(s)]
        assert np.all((ok >= 1) & (ok <= POINTS))


def test_dimension_scores_refuse_item_maps_that_do_not_fit():
    with pytest.raises(ValueError, match="one entry per item"):
        dimension_scores(np.ones((2, 3)), [0, 1], 2)
    with pytest.raises(ValueError, match="< n_dimensions"):
        dimension_scores(np.ones((2, 2)), [0, 2], 2)


# --------------------------------------------------------------------------- health index


def test_health_index_is_the_weighted_mean_of_present_dimensions_if_half_are_present():
    nan = np.nan
    s = np.array(
        [
            [4.0, 2.0, nan, nan],  # 2 of 4 present: (1*4 + 3*2) / 4 = 2.5
            [4.0, nan, nan, nan],  # 1 of 4: missing
            [1.0, 2.0, 3.0, 4.0],  # all present
        ]
    )
    w = np.array([1.0, 3.0, 2.0, 2.0])
    out = health_index(s, w)
    assert out[0] == pytest.approx((1 * 4 + 3 * 2) / 4)
    assert np.isnan(out[1])
    assert out[2] == pytest.approx(np.average([1.0, 2.0, 3.0, 4.0], weights=w))
    # equal weights by default
    assert health_index(s)[0] == pytest.approx(3.0)


def test_health_index_matches_numpy_average_row_by_row(rng):
    s = rng.uniform(1, 5, size=(100, 5))
    s[rng.random(s.shape) < 0.4] = np.nan
    w = rng.uniform(0.5, 2, size=5)
    expected = []
    for row in s:
        present = ~np.isnan(row)
        ok = present.sum() >= 3
        expected.append(np.average(row[present], weights=w[present]) if ok else np.nan)
    np.testing.assert_allclose(health_index(s, w), expected, rtol=1e-12)


def test_health_index_refuses_negative_or_all_zero_weights():
    with pytest.raises(ValueError, match="weights"):
        health_index(np.ones((2, 2)), [1.0, -1.0])
    with pytest.raises(ValueError, match="weights"):
        health_index(np.ones((2, 2)), [0.0, 0.0])


# --------------------------------------------------------------------------- 0-100 and bands


def test_rescale_100_maps_one_to_zero_and_k_to_a_hundred():
    np.testing.assert_allclose(rescale_100([1.0, 3.0, 5.0]), [0.0, 50.0, 100.0])
    assert rescale_100(7.0, points=7) == 100.0
    assert rescale_100(4.0, points=7) == 50.0
    assert np.isnan(rescale_100(np.nan))


def test_band_uses_strength_at_4_borderline_from_3_and_concern_below():
    out = band([5.0, 4.0, 3.99, 3.0, 2.99, 1.0, np.nan])
    assert list(out) == [
        "strength",
        "strength",
        "borderline",
        "borderline",
        "concern",
        "concern",
        "",
    ]
    assert band(3.5, strength=3.5, concern=2.0) == "strength"
    with pytest.raises(ValueError):
        band(3.0, strength=3.0, concern=3.0)


# --------------------------------------------------------------------------- group aggregates


def test_group_aggregates_match_pandas_groupby_and_scipy_t_interval(rng):
    values = rng.normal(3, 0.8, size=300)
    values[rng.random(300) < 0.1] = np.nan
    codes = rng.integers(-1, 6, size=300)
    res = group_aggregates(values, codes, 7, points=5, confidence=0.9)

    frame = pd.DataFrame({"g": codes, "v": values})
    grouped = frame[frame.g >= 0].groupby("g")["v"]
    count = grouped.count().reindex(range(7), fill_value=0)
    mean = grouped.mean().reindex(range(7))
    sd = grouped.std(ddof=1).reindex(range(7))
    np.testing.assert_array_equal(res.n, count.to_numpy())
    np.testing.assert_allclose(res.mean, mean.to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.sd, sd.to_numpy(), rtol=0, atol=1e-9)
    assert res.n[6] == 0 and res.reason[6] == "no answers"  # code 6 never drawn

    for g in range(6):
        sample = values[(codes == g) & ~np.isnan(values)]
        low, high = stats.t.interval(
            0.9, sample.size - 1, loc=sample.mean(), scale=stats.sem(sample)
        )
        assert res.ci_low[g] == pytest.approx(low, abs=1e-9)
        assert res.ci_high[g] == pytest.approx(high, abs=1e-9)
        assert res.score100[g] == pytest.approx((sample.mean() - 1) / 4 * 100, abs=1e-9)
        assert res.reason[g] == ""


def test_group_aggregates_on_columns_equal_one_call_per_column(rng, answers):
    x, codes = answers(rng, 150, 4)
    both = group_aggregates(x, codes, 4)
    for j in range(4):
        one = group_aggregates(x[:, j], codes, 4)
        for field in ("n", "mean", "sd", "ci_low", "ci_high", "score100"):
            np.testing.assert_array_equal(getattr(both, field)[:, j], getattr(one, field))


def test_group_aggregates_label_degenerate_groups_without_warnings():
    nan = np.nan
    values = np.array([4.0, 3.3, 3.3, 3.3, nan, nan, 2.0, 5.0])
    codes = np.array([0, 1, 1, 1, 2, 2, -1, 3])
    res = group_aggregates(values, codes, 5)
    # group 0: one value; 1: constant; 2: all missing; 3: one value; 4: empty
    assert list(res.reason) == ["n < 2", "zero variance", "no answers", "n < 2", "no answers"]
    assert res.mean[0] == 4.0 and np.isnan(res.sd[0]) and np.isnan(res.ci_low[0])
    assert res.mean[1] == pytest.approx(3.3) and res.sd[1] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(res.ci_low[1]) and np.isnan(res.ci_high[1])
    assert np.isnan(res.mean[2]) and res.n[2] == 0


def test_group_aggregates_refuse_codes_outside_the_groups():
    with pytest.raises(ValueError, match="n_groups"):
        group_aggregates([1.0, 2.0], [0, 2], 2)
    with pytest.raises(ValueError, match="length"):
        group_aggregates([1.0, 2.0], [0], 2)
    with pytest.raises(ValueError, match="confidence"):
        group_aggregates([1.0, 2.0], [0, 0], 1, confidence=95)


def test_item_aggregates_match_pandas_per_group_and_item(rng, answers):
    x, codes = answers(rng, 120, 3, missing=0.2)
    res = item_aggregates(x, codes, 4)
    frame = pd.DataFrame(x, columns=["a", "b", "c"]).assign(g=codes)
    grouped = frame[frame.g >= 0].groupby("g")
    np.testing.assert_array_equal(res.n, grouped.count().to_numpy())
    np.testing.assert_allclose(res.mean, grouped.mean().to_numpy(), atol=1e-9, rtol=0)
    np.testing.assert_allclose(res.sd, grouped.std(ddof=1).to_numpy(), atol=1e-9, rtol=0)


# --------------------------------------------------------------------------- shares


def _shares_by_pandas(x, codes, by_item):
    frame = pd.DataFrame(x).assign(g=codes)
    long = frame[frame.g >= 0].melt(id_vars="g", var_name="item", value_name="v").dropna()
    long["kind"] = np.select([long.v >= 4, long.v <= 2], ["fav", "unfav"], "neutral")
    keys = ["g", "item"] if by_item else ["g"]
    table = pd.crosstab([long[k] for k in keys], long.kind)
    return table, table.div(table.sum(axis=1), axis=0) * 100


def test_item_shares_match_pandas_crosstab_over_all_item_answers(rng, answers):
    x, codes = answers(rng, 160, 5, missing=0.25)
    res = item_shares(x, codes, 4, favourable=(4, 5), unfavourable=(1, 2))
    counts, pct = _shares_by_pandas(x, codes, by_item=False)
    np.testing.assert_array_equal(res.n_answers, counts.sum(axis=1).to_numpy())
    np.testing.assert_allclose(res.favourable_pct, pct["fav"].to_numpy(), atol=1e-9, rtol=0)
    np.testing.assert_allclose(res.neutral_pct, pct["neutral"].to_numpy(), atol=1e-9, rtol=0)
    np.testing.assert_allclose(res.unfavourable_pct, pct["unfav"].to_numpy(), atol=1e-9, rtol=0)


def test_item_shares_by_item_match_pandas_crosstab_per_item(rng, answers):
    x, codes = answers(rng, 160, 5, missing=0.25)
    res = item_shares_by_item(x, codes, 4, favourable=(4, 5), unfavourable=(1, 2))
    counts, pct = _shares_by_pandas(x, codes, by_item=True)
    g = pct.index.get_level_values("g").to_numpy()
    i = pct.index.get_level_values("item").to_numpy().astype(int)
    np.testing.assert_array_equal(res.n_answers[g, i], counts.sum(axis=1).to_numpy())
    np.testing.assert_allclose(res.favourable_pct[g, i], pct["fav"].to_numpy(), atol=1e-9)
    np.testing.assert_allclose(res.unfavourable_pct[g, i], pct["unfav"].to_numpy(), atol=1e-9)
    total = res.favourable_pct + res.neutral_pct + res.unfavourable_pct
    np.testing.assert_allclose(total, 100.0)


def test_item_shares_of_a_group_without_answers_are_missing_with_a_reason():
    x = np.array([[5.0, np.nan], [np.nan, np.nan]])
    res = item_shares(x, [0, 1], 3, favourable=(4, 5), unfavourable=(1, 2))
    assert res.favourable_pct[0] == 100.0
    assert np.isnan(res.favourable_pct[1]) and res.reason[1] == "no answers"
    assert res.n_answers[2] == 0 and res.reason[2] == "no answers"
    with pytest.raises(ValueError, match="share"):
        item_shares(x, [0, 1], 2, favourable=(3, 4), unfavourable=(1, 3))


@settings(max_examples=50)
@given(likert(), st.data())
def test_shares_add_up_to_a_hundred_where_there_are_answers(x, data):
    codes = np.array(
        data.draw(st.lists(st.integers(-1, 2), min_size=x.shape[0], max_size=x.shape[0]))
    )
    res = item_shares(x, codes, 3, favourable=(4, 5), unfavourable=(1, 2))
    has = res.n_answers > 0
    total = res.favourable_pct + res.neutral_pct + res.unfavourable_pct
    np.testing.assert_allclose(total[has], 100.0)
    assert np.all(np.isnan(total[~has]))


def test_all_missing_or_empty_answers_give_missing_scores_without_warnings():
    nan_x = np.full((3, 4), np.nan)
    dims = dimension_scores(nan_x, [0, 0, 1, 1], 2)
    assert np.all(np.isnan(dims)) and np.all(np.isnan(health_index(dims)))
    empty = np.zeros((0, 4))
    assert dimension_scores(empty, [0, 0, 1, 1], 2).shape == (0, 2)
    assert health_index(np.zeros((0, 2))).shape == (0,)
    res = group_aggregates(np.zeros(0), np.zeros(0, dtype=int), 2)
    assert list(res.reason) == ["no answers", "no answers"] and np.all(np.isnan(res.mean))
    shares = item_shares_by_item(empty, np.zeros(0, int), 2, favourable=(4, 5), unfavourable=(1,))
    assert shares.n_answers.shape == (2, 4) and np.all(shares.reason == "no answers")


def test_reverse_key_of_integer_codes_equals_the_float_answers_and_keeps_missing_codes(rng):
    codes = rng.integers(-1, 6, (50, 4)).astype(np.int8)  # 0 don't know, -1 skipped
    reverse = np.array([True, False, True, False])
    keyed = reverse_key(codes, reverse, points=5)
    assert keyed.dtype == np.int8
    np.testing.assert_array_equal(keyed[codes <= 0], codes[codes <= 0])
    floats = reverse_key(np.where(codes > 0, codes, np.nan).astype(float), reverse, points=5)
    np.testing.assert_array_equal(np.where(keyed > 0, keyed, np.nan), floats)
    with pytest.raises(ValueError, match="at most 5"):
        reverse_key(np.array([[6]]), np.array([False]))


def test_dimension_scores_can_return_the_answered_items_per_dimension(rng, answers):
    x, _ = answers(rng, 40, 5, missing=0.3)
    item_dim = np.array([0, 0, 1, 1, 1])
    scores, answered = dimension_scores(x, item_dim, 2, return_answered=True)
    np.testing.assert_array_equal(scores, dimension_scores(x, item_dim, 2))
    np.testing.assert_array_equal(answered[:, 0], (~np.isnan(x[:, :2])).sum(axis=1))
    np.testing.assert_array_equal(answered[:, 1], (~np.isnan(x[:, 2:])).sum(axis=1))
