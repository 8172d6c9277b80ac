"""The red / amber / green rating of a mean against its agreed target: the rule on exact
cases, and its error rates on simulated waves (true mean at, above and below the target)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.scoring import group_aggregates
from analysis.targets import target_rating


def test_the_rule_on_exact_cases():
    mean = [3.8, 3.6, 3.6, 3.6, np.nan, 3.0]
    ci_high = [4.0, 3.75, 3.7, 3.69, np.nan, np.nan]
    target = [3.8, 3.7, 3.7, 3.7, 3.7, 3.5]
    assert list(target_rating(mean, ci_high, target)) == [
        "green",  # reached exactly
        "amber",  # the target inside the interval
        "amber",  # the interval's end on the target: not clearly short
        "red",
        "",
        "amber",  # no interval: never red
    ]


def simulated(true_mean: float, *, waves: int = 4000, n: int = 25, seed: int = 1):
    """``waves`` groups of ``n`` people scoring around ``true_mean`` (SD 0.8), each with its
    mean and t interval as the scoring service computes them."""
    rng = np.random.default_rng(seed)
    values = rng.normal(true_mean, 0.8, waves * n)
    codes = np.repeat(np.arange(waves), n)
    agg = group_aggregates(values, codes, waves)
    return agg.mean, agg.ci_high


@pytest.mark.parametrize("n", [10, 25, 80])
def test_a_group_at_its_target_is_called_red_in_at_most_one_wave_in_forty(n):
    mean, ci_high = simulated(3.5, n=n, seed=n)
    red = np.mean(target_rating(mean, ci_high, 3.5) == "red")
    assert red <= 0.025 + 3 * np.sqrt(0.025 * 0.975 / mean.size)  # 2.5% and its noise
    assert red >= 0.015  # and the rule is not needlessly timid


def test_a_group_clearly_short_is_red_and_one_above_is_green():
    mean, ci_high = simulated(3.0, n=40, seed=2)
    # half a point short, SE 0.8/sqrt(40): red when the mean is below 3.5 - t*SE, about
    # 3.245, i.e. P(z < 1.94) = 0.974 of waves
    assert np.mean(target_rating(mean, ci_high, 3.5) == "red") == pytest.approx(0.974, abs=0.01)
    mean, ci_high = simulated(3.8, n=40, seed=3)
    # 0.3 above: green whenever the mean is at least 3.5, P(z > -2.37) = 0.991
    assert np.mean(target_rating(mean, ci_high, 3.5) == "green") == pytest.approx(0.991, abs=0.01)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="numeric"):
        target_rating(["x"], [1.0], [1.0])
