"""Within-group agreement r_wg(j), AD_M(j) and one-way ICCs (DESIGN §4.8)."""

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from analysis.agreement import icc_oneway, rwg_j

# --------------------------------------------------------------------------- r_wg(j) and AD


def test_rwg_j_and_ad_of_a_small_group_worked_by_hand():
    # K = 5: sigma2_EU = (25 - 1) / 12 = 2.
    # item 1 answers 3, 4, 5: variance 1, mean 4, |deviations| 1, 0, 1 -> AD 2/3
    # item 2 answers 4, 4, 4: variance 0, AD 0
    # mean variance 0.5, ratio 0.25, J = 2:
    #   r_wg(j) = 2 * 0.75 / (2 * 0.75 + 0.25) = 1.5 / 1.75 = 6/7;  AD_M(j) = (2/3 + 0) / 2 = 1/3
    x = np.array([[3.0, 4.0], [4.0, 4.0], [5.0, 4.0]])
    res = rwg_j(x, [0, 0, 0], 1, points=5)
    assert res.sigma2_eu == 2.0
    assert res.ad_cut == pytest.approx(5 / 6)
    assert res.mean_item_variance[0] == pytest.approx(0.5)
    assert res.rwg[0] == pytest.approx(6 / 7)
    assert res.ad[0] == pytest.approx(1 / 3)
    assert res.n_items[0] == 2 and res.n[0] == 3
    assert not res.no_shared_view[0]


def test_perfect_agreement_gives_rwg_one_and_ad_zero():
    res = rwg_j(np.full((4, 3), 2.0), [0, 0, 0, 0], 1, points=7)
    assert res.rwg[0] == 1.0 and res.ad[0] == 0.0


def test_rwg_above_the_uniform_null_variance_is_set_to_zero_and_marked():
    # Half the group answers 1, half 5: variance 16/3 > sigma2_EU = 2 (LeBreton & Senter 2008
    # recommend truncating such values to 0).
    x = np.array([[1.0], [5.0], [1.0], [5.0]])
    res = rwg_j(x, [0, 0, 0, 0], 1, points=5)
    assert res.rwg[0] == 0.0 and res.rwg_truncated[0]
    # AD = 2 > 5/6 and r_wg < 0.70: no shared view
    assert res.ad[0] == pytest.approx(2.0)
    assert res.no_shared_view[0]


def _rwg_by_pandas(x, codes, n_groups, points):
    """Independent statement of r_wg(j) and AD_M(j) via pandas groupby."""
    frame = pd.DataFrame(x).assign(g=codes)
    frame = frame[frame.g >= 0]
    grouped = frame.groupby("g")
    count = grouped.count()
    var = grouped.var(ddof=1).where(count >= 2)
    ad = (frame.drop(columns="g") - grouped.transform("mean")).abs().assign(g=frame.g)
    ad = ad.groupby("g").mean().where(count >= 2)
    sigma2 = (points**2 - 1) / 12
    s2 = var.mean(axis=1)
    j = var.notna().sum(axis=1)
    ratio = s2 / sigma2
    rwg = (j * (1 - ratio) / (j * (1 - ratio) + ratio)).where(ratio <= 1, 0.0).where(j > 0)
    return rwg.reindex(range(n_groups)), ad.mean(axis=1).reindex(range(n_groups))


@pytest.mark.parametrize("points", [5, 7])
def test_rwg_j_and_ad_match_a_pandas_groupby_implementation(rng, answers, points):
    x, codes = answers(rng, 400, 6, points=points, missing=0.2, n_groups=8, spread=0.6)
    res = rwg_j(x, codes, 9, points=points)  # group 8 is empty
    rwg, ad = _rwg_by_pandas(x, codes, 9, points)
    np.testing.assert_allclose(res.rwg, rwg.to_numpy(), atol=1e-9, rtol=0)
    np.testing.assert_allclose(res.ad, ad.to_numpy(), atol=1e-9, rtol=0)
    assert res.reason[8] == "no answers"
    cut = (res.rwg < 0.70) & (res.ad > points / 6)
    np.testing.assert_array_equal(res.no_shared_view, cut)


def test_rwg_j_of_groups_too_small_to_have_a_variance_is_missing_with_a_reason():
    nan = np.nan
    x = np.array([[3.0, 4.0], [nan, 2.0], [nan, nan], [4.0, 4.0]])
    res = rwg_j(x, [0, 1, 2, -1], 4)
    assert list(res.reason) == ["n < 2", "n < 2", "no answers", "no answers"]
    assert np.all(np.isnan(res.rwg)) and np.all(np.isnan(res.ad))
    assert not res.no_shared_view.any()


def test_rwg_j_refuses_answers_outside_the_scale():
    with pytest.raises(ValueError, match="1..5"):
        rwg_j(np.array([[6.0]]), [0], 1, points=5)


# --------------------------------------------------------------------------- ICC(1), ICC(2)


def test_icc_matches_pingouin_one_way_types_on_a_balanced_design(rng):
    # With every area the same size, Bliese's ICC(1) is Shrout & Fleiss's ICC(1,1) and
    # ICC(2) is ICC(1,k): pingouin 0.7.0 rows "ICC(1,1)" and "ICC(1,k)" (one-way random
    # effects: each area is a "target", the people within it are interchangeable "raters").
    n_groups, size = 12, 6
    codes = np.repeat(np.arange(n_groups), size)
    values = rng.normal(0, 0.6, n_groups)[codes] + rng.normal(3, 1, codes.size)
    res = icc_oneway(values, codes, n_groups)

    long = pd.DataFrame(
        {"area": codes, "person": np.tile(np.arange(size), n_groups), "score": values}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = pg.intraclass_corr(
            long, targets="area", raters="person", ratings="score"
        ).set_index("Type")
    assert res.icc1 == pytest.approx(table.at["ICC(1,1)", "ICC"], abs=1e-9)
    assert res.icc2 == pytest.approx(table.at["ICC(1,k)", "ICC"], abs=1e-9)
    assert res.f == pytest.approx(table.at["ICC(1,1)", "F"], abs=1e-9)
    assert (res.df_between, res.df_within) == (
        table.at["ICC(1,1)", "df1"],
        table.at["ICC(1,1)", "df2"],
    )
    assert res.p == pytest.approx(table.at["ICC(1,1)", "pval"], abs=1e-12)
    assert res.k0 == pytest.approx(size)


def test_icc_uses_the_anova_of_scipy_f_oneway_with_unequal_groups(rng):
    sizes = np.array([3, 8, 5, 12, 2, 7])
    codes = np.repeat(np.arange(6), sizes)
    values = rng.normal(0, 0.5, 6)[codes] + rng.normal(3, 1, codes.size)
    values[[0, 10]] = np.nan
    res = icc_oneway(values, codes, 6)

    groups = [values[(codes == g) & ~np.isnan(values)] for g in range(6)]
    anova = stats.f_oneway(*groups)
    assert res.f == pytest.approx(anova.statistic, abs=1e-9)
    assert res.p == pytest.approx(anova.pvalue, abs=1e-12)
    n_j = np.array([g.size for g in groups])
    big_n = n_j.sum()
    k0 = (big_n - (n_j**2).sum() / big_n) / (len(groups) - 1)
    assert res.k0 == pytest.approx(k0)
    # ICC(1) = (F - 1) / (F + k0 - 1) and ICC(2) = 1 - 1/F, rearranged from the mean squares
    f = anova.statistic
    assert res.icc1 == pytest.approx((f - 1) / (f + k0 - 1), abs=1e-9)
    assert res.icc2 == pytest.approx(1 - 1 / f, abs=1e-9)


def test_icc_on_columns_equals_one_call_per_column(rng, answers):
    x, codes = answers(rng, 200, 3, n_groups=6)
    both = icc_oneway(x, codes, 6)
    for j in range(3):
        one = icc_oneway(x[:, j], codes, 6)
        for field in ("icc1", "icc2", "f", "p", "df_between", "df_within", "k0"):
            assert getattr(both, field)[j] == pytest.approx(getattr(one, field), nan_ok=True)


def test_icc_is_one_when_people_within_each_area_agree_exactly():
    res = icc_oneway(np.array([1.0, 1.0, 2.0, 2.0, 4.0]), [0, 0, 1, 1, 2], 3)
    assert res.icc1 == 1.0 and res.icc2 == 1.0 and res.p == 0.0 and res.reason == ""


@pytest.mark.parametrize(
    ("values", "codes", "reason"),
    [
        ([3.0, 4.0, 5.0], [0, 0, 0], "fewer than 2 groups"),
        ([3.0, 4.0, 5.0], [0, 1, 2], "n < 2"),
        ([np.nan, np.nan], [0, 1], "no answers"),
        ([3.3, 3.3, 3.3, 3.3], [0, 0, 1, 1], "zero variance"),
        ([], [], "no answers"),
    ],
    ids=["one group", "singletons", "all missing", "constant", "empty"],
)
def test_icc_degenerate_input_gives_nan_with_a_reason(values, codes, reason):
    res = icc_oneway(np.array(values, dtype=float), np.array(codes, dtype=int), 3)
    assert res.reason == reason
    assert np.isnan(res.icc1) and np.isnan(res.icc2) and np.isnan(res.p)


def test_agreement_on_no_responses_is_missing_without_warnings():
    res = rwg_j(np.zeros((0, 3)), np.zeros(0, dtype=int), 2)
    assert list(res.reason) == ["no answers", "no answers"] and np.all(np.isnan(res.rwg))
    icc = icc_oneway(np.full((4, 2), np.nan), [0, 0, 1, 1], 2)
    assert list(icc.reason) == ["no answers", "no answers"] and np.all(np.isnan(icc.icc1))


def test_icc2_is_nan_not_minus_infinity_when_every_group_mean_is_equal():
    # Two areas with identical means but spread within: MSB = 0, so F = 0 and
    # ICC(2) = 1 - 1/F would be -inf (which JSON and PostgreSQL cannot store).
    values = np.array([1.0, 3.0, 2.0, 1.0, 3.0, 2.0])
    codes = np.array([0, 0, 0, 1, 1, 1])
    result = icc_oneway(values, codes, 2)
    assert np.isnan(result.icc2)
    assert result.f == 0.0
    assert np.isfinite(result.icc1) and result.icc1 < 0
