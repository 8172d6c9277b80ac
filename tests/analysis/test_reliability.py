"""Cronbach's alpha, Feldt interval and item diagnostics (DESIGN §4.7).

Independent references: pingouin 0.7.0 ``cronbach_alpha`` (validated by its authors against
R ``psych::alpha``) and the values printed in its docstring. pingouin rounds the interval to
3 decimals, so interval checks against it use ``abs=5e-4``.
"""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest

from analysis.reliability import alpha_from_covariance, complete_case_covariance, cronbach_alpha


def _correlated_items(rng, n=80, k=6):
    latent = rng.normal(size=(n, 1))
    return np.clip(np.rint(3 + latent + rng.normal(0, 0.8, size=(n, k))), 1, 5)


def test_alpha_and_feldt_interval_match_pingouin(rng):
    x = _correlated_items(rng)
    res = cronbach_alpha(x, confidence=0.95)
    alpha, (low, high) = pg.cronbach_alpha(pd.DataFrame(x), ci=0.95)
    assert res.alpha == pytest.approx(alpha, abs=1e-9)
    assert res.ci_low == pytest.approx(low, abs=5e-4)
    assert res.ci_high == pytest.approx(high, abs=5e-4)
    assert (res.n, res.k, res.reason) == (80, 6, "")


def test_alpha_matches_pingouins_documented_likert_example():
    # pingouin.cronbach_alpha docstring, "Likert-type long-format dataframe":
    # (0.5917188485995826, array([0.195, 0.84 ])), on its bundled "cronbach_alpha" data.
    data = pg.read_dataset("cronbach_alpha")
    wide = data.pivot(index="Subj", columns="Items", values="Scores").to_numpy(float)
    res = cronbach_alpha(wide)
    assert res.alpha == pytest.approx(0.5917188485995826, abs=1e-9)
    assert res.ci_low == pytest.approx(0.195, abs=5e-4)
    assert res.ci_high == pytest.approx(0.84, abs=5e-4)


def test_alpha_uses_complete_cases_like_pingouins_listwise_example():
    # pingouin.cronbach_alpha docstring, "After listwise deletion": alpha 0.8016949152542373.
    # Its interval (0.581, 0.933) keeps n = 12 rows *before* deletion in the F degrees of
    # freedom; ours uses the complete cases, so only alpha and n are compared here.
    data = pg.read_dataset("cronbach_wide_missing").to_numpy(float)
    res = cronbach_alpha(data)
    assert res.alpha == pytest.approx(0.8016949152542373, abs=1e-9)
    assert res.n == int((~np.isnan(data).any(axis=1)).sum()) < data.shape[0]
    assert res.ci_low < res.alpha < res.ci_high


def test_alpha_interval_widens_with_confidence(rng):
    x = _correlated_items(rng)
    r90, r99 = cronbach_alpha(x, confidence=0.90), cronbach_alpha(x, confidence=0.99)
    assert r99.ci_low < r90.ci_low < r90.alpha < r90.ci_high < r99.ci_high


def test_item_rest_correlation_is_the_correlation_with_the_sum_of_the_other_items(rng):
    x = _correlated_items(rng, n=60, k=5)
    res = cronbach_alpha(x)
    for i in range(5):
        rest = np.delete(x, i, axis=1).sum(axis=1)
        assert res.item_rest_r[i] == pytest.approx(np.corrcoef(x[:, i], rest)[0, 1], abs=1e-9)


def test_alpha_if_item_deleted_matches_pingouin_on_the_remaining_items(rng):
    x = _correlated_items(rng, n=60, k=5)
    x[:, 2] = 6 - x[:, 2]  # a wrongly keyed item should raise alpha when deleted
    res = cronbach_alpha(x)
    for i in range(5):
        expected, _ = pg.cronbach_alpha(pd.DataFrame(np.delete(x, i, axis=1)))
        assert res.alpha_if_deleted[i] == pytest.approx(expected, abs=1e-9)
    assert np.argmax(res.alpha_if_deleted) == 2
    assert res.item_rest_r[2] < 0


def test_low_alpha_is_flagged_below_0_70(rng):
    noise = rng.integers(1, 6, size=(50, 4)).astype(float)
    assert cronbach_alpha(noise).flag_low
    assert not cronbach_alpha(_correlated_items(rng, n=200, k=8)).flag_low
    assert cronbach_alpha(_correlated_items(rng), min_alpha=0.99).flag_low


def test_alpha_if_deleted_is_undefined_with_two_items(rng):
    res = cronbach_alpha(_correlated_items(rng, k=2))
    assert np.isfinite(res.alpha)
    assert np.all(np.isnan(res.alpha_if_deleted))


@pytest.mark.parametrize(
    ("x", "reason"),
    [
        (np.array([[1.0, 2.0, 3.0]]), "n < 2"),
        (np.array([[1.0, 2.0, np.nan], [2.0, 3.0, 4.0], [np.nan, 1.0, 1.0]]), "n < 2"),
        (np.full((4, 3), np.nan), "no complete cases"),
        (np.zeros((0, 3)), "no answers"),
        (np.array([[3.0], [4.0], [5.0]]), "fewer than 2 items"),
        (np.full((5, 3), 4.0), "zero variance"),
    ],
    ids=["one row", "one complete row", "all missing", "empty", "one item", "constant"],
)
def test_degenerate_input_gives_nan_with_a_reason_and_no_warning(x, reason):
    res = cronbach_alpha(x)
    assert np.isnan(res.alpha) and np.isnan(res.ci_low) and np.isnan(res.ci_high)
    assert res.reason == reason
    assert res.flag_low is False


def test_invalid_confidence_is_refused():
    with pytest.raises(ValueError, match="confidence"):
        cronbach_alpha(np.ones((3, 3)), confidence=1.5)


# ------------------------------------------------------- many item sets, from covariances


def test_complete_case_covariance_equals_numpy_cov_per_group_and_for_all(rng):
    x = _correlated_items(rng, n=300, k=4)
    x[rng.random(x.shape) < 0.1] = np.nan
    codes = rng.integers(-1, 3, 300)
    codes_int = np.where(np.isnan(x), -1, x).astype(np.int8)  # the same answers as codes
    for data in (x, codes_int):
        n, cov = complete_case_covariance(data, codes, 3, margin=True)
        complete = ~np.isnan(x).any(axis=1)
        for g in range(4):
            rows = complete & ((codes == g) if g < 3 else (codes >= 0))
            assert n[g] == rows.sum()
            np.testing.assert_allclose(cov[g], np.cov(x[rows], rowvar=False), atol=1e-12)


def test_complete_case_covariance_of_a_tiny_group_is_missing():
    x = np.array([[1.0, 2.0], [2.0, 3.0], [4.0, np.nan]])
    n, cov = complete_case_covariance(x, [0, 1, 1], 2)
    assert n.tolist() == [1, 1] and np.isnan(cov).all()


def test_alpha_of_stacked_covariances_equals_cronbach_alpha_one_by_one(rng):
    sets = [_correlated_items(rng, n=n, k=5) for n in (60, 90, 1)]
    sets.append(np.full((20, 5), 3.0))  # zero variance
    covs, ns = [], []
    for x in sets:
        n, cov = complete_case_covariance(x, np.zeros(len(x), dtype=int), 1)
        covs.append(cov[0])
        ns.append(n[0])
    res = alpha_from_covariance(np.stack(covs), np.array(ns))
    for i, x in enumerate(sets):
        one = cronbach_alpha(x)
        for name in ("alpha", "ci_low", "ci_high"):
            assert getattr(res, name)[i] == pytest.approx(getattr(one, name), nan_ok=True)
        np.testing.assert_allclose(res.item_rest_r[i], one.item_rest_r, atol=1e-12)
        np.testing.assert_allclose(res.alpha_if_deleted[i], one.alpha_if_deleted, atol=1e-12)
        assert res.reason[i] == one.reason and res.flag_low[i] == one.flag_low
    assert res.reason.tolist() == ["", "", "n < 2", "zero variance"]
    pg_alpha, _ = pg.cronbach_alpha(pd.DataFrame(sets[1]))
    assert res.alpha[1] == pytest.approx(pg_alpha, abs=1e-9)


def test_alpha_from_covariance_checks_its_shapes():
    with pytest.raises(ValueError, match="k, k"):
        alpha_from_covariance(np.zeros((2, 3)), [5, 5])
    with pytest.raises(ValueError, match="shape"):
        alpha_from_covariance(np.zeros((2, 3, 3)), [5])


def test_complete_case_covariance_of_several_item_sets_equals_one_call_per_set(rng):
    x = np.concatenate([_correlated_items(rng, n=200, k=3) for _ in range(2)], axis=1)
    x[rng.random(x.shape) < 0.15] = np.nan
    codes = rng.integers(-1, 2, 200)
    sets = x.reshape(200, 2, 3)
    for data in (sets, np.where(np.isnan(sets), 0, sets).astype(np.int16)):
        n, cov = complete_case_covariance(data, codes, 2, margin=True)
        assert n.shape == (3, 2) and cov.shape == (3, 2, 3, 3)
        for s in range(2):
            n1, cov1 = complete_case_covariance(sets[:, s], codes, 2, margin=True)
            np.testing.assert_array_equal(n[:, s], n1)
            np.testing.assert_allclose(cov[:, s], cov1, atol=1e-12)
