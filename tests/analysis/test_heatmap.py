"""Heat-map significance (issue 16 part 2): Welch's test of each cell against the rest of the
relationship, checked against SciPy on the raw scores, and the marking rule's error rates."""

import numpy as np
import pytest
from scipy import stats

from analysis.heatmap import heat_map_differences

TOL = 1e-9


def moments(values, codes, n_areas):
    """Per-area and total count, mean and sd (ddof=1) of a (n, D) array, with plain NumPy."""
    count = np.stack([(codes == a).sum() * np.ones(values.shape[1]) for a in range(n_areas)])
    mean = np.stack([values[codes == a].mean(axis=0) for a in range(n_areas)])
    sd = np.stack([values[codes == a].std(axis=0, ddof=1) for a in range(n_areas)])
    total = (np.full(values.shape[1], len(values)), values.mean(0), values.std(0, ddof=1))
    return (count, mean, sd), total


@pytest.fixture
def wave():
    """Dimension scores (1–5, in thirds) of 5 areas plus respondents of no area (-1)."""
    rng = np.random.default_rng(3)
    sizes = [40, 12, 90, 25, 60, 15]
    codes = np.repeat([0, 1, 2, 3, 4, -1], sizes)
    shift = np.array([0.0, 0.5, -0.1, -0.45, 0.05, 0.0])[codes]
    values = 3.3 + shift[:, None] + rng.normal(0, 0.8, (codes.size, 4))
    return np.clip(np.round(values * 3) / 3, 1, 5), codes


def test_welch_t_df_and_p_match_scipy_on_the_cell_against_everyone_else(wave):
    values, codes = wave
    (count, mean, sd), total = moments(values, codes, 5)
    res = heat_map_differences(count, mean, sd, *total)
    for a in range(5):
        for d in range(4):
            ref = stats.ttest_ind(values[codes == a, d], values[codes != a, d], equal_var=False)
            rest = values[codes != a, d]
            assert res.t[a, d] == pytest.approx(ref.statistic, abs=TOL)
            assert res.p[a, d] == pytest.approx(ref.pvalue, abs=TOL)
            assert res.df[a, d] == pytest.approx(ref.df, abs=1e-7)
            assert res.rest_n[a, d] == rest.size
            assert res.rest_mean[a, d] == pytest.approx(rest.mean(), abs=TOL)
            assert res.rest_sd[a, d] == pytest.approx(rest.std(ddof=1), abs=TOL)
    flat = res.p.ravel()
    np.testing.assert_allclose(
        res.p_adjusted.ravel(), stats.false_discovery_control(flat, method="bh"), atol=TOL
    )


def test_marking_needs_adjusted_significance_and_five_points(wave):
    values, codes = wave
    (count, mean, sd), total = moments(values, codes, 5)
    res = heat_map_differences(count, mean, sd, *total)
    big = np.abs(res.difference100) >= 5
    significant = res.p_adjusted < 0.05
    assert set(res.marking[big & significant]) <= {"higher", "lower"}
    assert set(res.marking[~(big & significant)]) == {""}
    assert (res.marking == "higher").any() and (res.marking == "lower").any()
    assert np.all(np.sign(res.difference[res.marking == "higher"]) == 1)
    np.testing.assert_allclose(res.difference100, res.difference / 4 * 100, atol=TOL)


def test_sides_are_stacked_into_one_family_with_their_own_totals(wave):
    values, codes = wave
    (c1, m1, s1), t1 = moments(values, codes, 5)
    (c2, m2, s2), t2 = moments(values[:, ::-1] + 0.2, codes, 5)
    res = heat_map_differences(
        np.stack([c1, c2]), np.stack([m1, m2]), np.stack([s1, s2]),
        np.stack([t1[0], t2[0]]), np.stack([t1[1], t2[1]]), np.stack([t1[2], t2[2]]),
    )  # fmt: skip
    alone = heat_map_differences(c1, m1, s1, *t1)
    np.testing.assert_allclose(res.p[0], alone.p, atol=TOL)
    both = np.concatenate([res.p[0].ravel(), res.p[1].ravel()])
    np.testing.assert_allclose(
        res.p_adjusted.ravel(), stats.false_discovery_control(both, method="bh"), atol=TOL
    )


def test_untested_cells_say_why_and_are_never_marked():
    count = np.array([[0, 1, 30], [50, 50, 30]], dtype=float)
    mean = np.array([[np.nan, 4.0, 3.0], [3.2, 3.1, 3.0]])
    sd = np.array([[np.nan, np.nan, 0.0], [0.7, 0.8, 0.0]])
    total = (np.array([50, 51, 60.0]), np.array([3.2, 3.11, 3.0]), np.array([0.7, 0.8, 0.0]))
    res = heat_map_differences(count, mean, sd, *total)
    assert res.reason[0, 0] == "no responses in this cell"
    assert res.reason[0, 1] == "fewer than 2 responses in this cell"
    assert res.reason[1, 0] == "fewer than 2 responses in the rest"
    assert res.reason[0, 2] == res.reason[1, 2] == "no variation in the cell or the rest"
    assert set(res.marking.ravel()) == {""}
    assert res.explanation[0, 1].startswith("Not compared with the rest of the relationship")


def test_explanations_name_the_cell_and_say_why_in_plain_words():
    count = np.full((3, 1), 400.0)
    mean = np.array([[3.8], [3.35], [3.45]])
    sd = np.full((3, 1), 0.8)
    total_n = count.sum(0)
    total_mean = (count * mean).sum(0) / total_n
    ss = ((count - 1) * sd**2).sum(0) + (count * (mean - total_mean) ** 2).sum(0)
    res = heat_map_differences(
        count, mean, sd, total_n, total_mean, np.sqrt(ss / (total_n - 1)),
        area_names=["Contact centre", "Revenues", "ICT"], dimension_names=["Trust"],
    )  # fmt: skip
    assert res.marking[:, 0].tolist() == ["higher", "lower", ""]
    assert res.explanation[0, 0].startswith("Trust in Contact centre: 10.0 points higher than")
    assert "unlikely to be chance" in res.explanation[0, 0]
    assert "smaller than the 5 points we mark" in res.explanation[2, 0]


def test_a_large_difference_in_a_small_cell_is_explained_as_possibly_chance():
    res = heat_map_differences(
        np.array([[6.0], [300.0]]), np.array([[3.6], [3.2]]), np.array([[1.0], [0.8]]),
        np.array([306.0]), np.array([(6 * 3.6 + 300 * 3.2) / 306]), np.array([0.81]),
    )  # fmt: skip
    assert res.marking[0, 0] == ""
    assert "could be chance" in res.explanation[0, 0]


def simulate_wave(rng, sizes, n_dims, planted=None):
    """One side's dimension scores with no area differences, or one planted (area, dim, shift)."""
    codes = np.repeat(np.arange(len(sizes)), sizes)
    values = rng.normal(3.3, 0.8, (codes.size, n_dims))
    if planted is not None:
        area, dim, shift = planted
        values[codes == area, dim] += shift
    return moments(values, codes, len(sizes))


def run_waves(planted, reps, seed):
    rng = np.random.default_rng(seed)
    sizes = [15, 25, 40, 60, 100, 150]
    results = []
    for _ in range(reps):
        (c1, m1, s1), t1 = simulate_wave(rng, sizes, 9, planted)
        (c2, m2, s2), t2 = simulate_wave(rng, sizes, 9)
        res = heat_map_differences(
            np.stack([c1, c2]), np.stack([m1, m2]), np.stack([s1, s2]),
            *(np.stack([a, b]) for a, b in zip(t1, t2, strict=True)),
        )  # fmt: skip
        results.append(res.marking)
    return np.array(results)


def test_with_no_real_differences_at_most_five_percent_of_waves_mark_any_cell():
    # 1,000 waves x 2 sides x 6 areas x 9 dimensions. Under the complete null BH's false
    # discovery rate is the chance of any mark, nominally 5%; the bound adds two Monte Carlo
    # standard errors (0.7 points). Measured over 2,000 waves: 5.0%.
    marked = run_waves(None, reps=1000, seed=1) != ""
    assert marked.any(axis=(1, 2, 3)).mean() <= 0.064


def test_a_planted_fifteen_point_difference_in_an_area_of_sixty_is_found():
    # 0.6 scale points = 15 points of 0-100 in area 3 (60 responses), dimension 4, among 108
    # cells. (A 12-point difference there is found in about three waves of four: t is about
    # 4.2 against a first BH threshold of 0.05/108.)
    marking = run_waves((3, 4, 0.6), reps=200, seed=2)
    assert (marking[:, 0, 3, 4] == "higher").mean() >= 0.9
    # Every other area of that side and dimension truly is below its rest (the rest holds the
    # raised area), so a mark there can only be right if it says "lower".
    assert set(np.delete(marking[:, 0, :, 4], 3, axis=1).ravel()) <= {"", "lower"}
    true_null = np.ones(marking.shape[1:], dtype=bool)
    true_null[0, :, 4] = False
    false_marks = (marking[:, true_null] != "").sum(axis=1)
    marks = (marking != "").reshape(len(marking), -1).sum(axis=1)
    # The false discovery rate, E[V / max(R, 1)]: nominally at most 5%, plus Monte Carlo error.
    assert (false_marks / np.maximum(marks, 1)).mean() <= 0.06


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"count": np.array([[60.0]])}, "between 0"),
        ({"sd": np.array([[-1.0]])}, "non-negative"),
        ({"total_mean": np.array([3.0, 3.0])}, "shape"),
        ({"alpha": 0.0}, "alpha"),
        ({"count": np.array([3.0])}, "2-D"),
    ],
)
def test_bad_inputs_are_value_errors(change, match):
    args = {
        "count": np.array([[10.0]]),
        "mean": np.array([[3.0]]),
        "sd": np.array([[0.5]]),
        "total_count": np.array([50.0]),
        "total_mean": np.array([3.1]),
        "total_sd": np.array([0.6]),
    }
    alpha = change.pop("alpha", 0.05)
    args.update(change)
    with pytest.raises(ValueError, match=match):
        heat_map_differences(**args, alpha=alpha)
