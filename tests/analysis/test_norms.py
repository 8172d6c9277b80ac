"""Norms across relationships: Harrell–Davis quartiles checked against scipy.stats.mstats'
independent implementation, and the promise that no contributor's score can be read off."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import mstats

from analysis.norms import MIN_CONTRIBUTORS, TOO_FEW_CONTRIBUTORS, norms


@pytest.mark.parametrize("n", [10, 11, 17, 40])
def test_the_quartiles_are_scipys_harrell_davis_quantiles(n):
    rng = np.random.default_rng(n)
    scores = rng.uniform(2.0, 4.5, n)
    result = norms(scores)
    expected = mstats.hdquantiles(scores, prob=[0.25, 0.5, 0.75])
    assert [result.lower_quartile, result.median, result.upper_quartile] == pytest.approx(
        list(expected), abs=1e-12
    )
    assert result.n == n and result.reason == ""


def test_fewer_than_ten_relationships_make_no_norm_and_missing_scores_do_not_count():
    scores = np.r_[np.linspace(2, 4, MIN_CONTRIBUTORS - 1), np.nan, np.nan]
    result = norms(scores)
    assert result.n == 9 and result.reason == TOO_FEW_CONTRIBUTORS
    assert np.isnan(result.median) and np.isnan(result.lower_quartile)
    assert norms(np.r_[scores, 3.0]).reason == ""


def test_an_odd_count_median_is_not_the_middle_relationships_score():
    scores = np.array([2.1, 2.4, 2.9, 3.0, 3.3, 3.35, 3.6, 3.8, 4.0, 4.2, 4.4])
    assert np.median(scores) == 3.35  # what a plain median would give away
    assert norms(scores).median != pytest.approx(3.35, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.floats(1.0, 5.0, allow_nan=False), min_size=MIN_CONTRIBUTORS, max_size=40, unique=True
    ),
    st.data(),
)
def test_moving_one_relationships_score_moves_no_figure_by_more_than_a_third_of_it(scores, data):
    """Each figure weighs every contributor at most 1/3, so a reader who knows their own
    score (or anyone's) is left with a mix of at least two others: none can be solved for."""
    result = norms(scores)
    assert result.max_weight <= 1 / 3
    i = data.draw(st.integers(0, len(scores) - 1))
    moved = list(scores)
    moved[i] = 5.0 if scores[i] < 3 else 1.0  # a jump of 2 points or more
    shift = abs(moved[i] - scores[i])
    after = norms(moved)
    for before_f, after_f in (
        (result.lower_quartile, after.lower_quartile),
        (result.median, after.median),
        (result.upper_quartile, after.upper_quartile),
    ):
        assert abs(after_f - before_f) <= shift / 3 + 1e-9


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="finite or NaN"):
        norms([1.0, np.inf] * 6)
    with pytest.raises(ValueError, match="1-D"):
        norms(np.ones((4, 4)))
    with pytest.raises(ValueError, match="min_contributors"):
        norms(np.ones(12), min_contributors=1)
