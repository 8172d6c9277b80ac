"""Finite-population margins and response rates (issue 16 part 3): the formula on Lohr's worked
example, and the interval's coverage when sampling without replacement from those invited."""

import numpy as np
import pytest
from scipy import stats

from analysis.margins import finite_population_margins


def test_lohrs_census_of_agriculture_example():
    # Lohr, Sampling: Design and Analysis, Example 2.5 (1st ed. 1999; 2nd ed. 2019): an SRS of
    # n = 300 of the N = 3078 US counties, mean acreage 297,897, s = 344,551.9 acres;
    # SE = sqrt(1 - 300/3078) * 344,551.9 / sqrt(300) = 18,898.434, and with the normal
    # quantile 1.96 the 95% interval [260,856, 334,938] (1st ed.).
    res = finite_population_margins(300, 297_897.0, 344_551.9, 3078)
    assert float(res.se) == pytest.approx(18_898.434, abs=0.001)
    assert float(res.fpc) == pytest.approx(np.sqrt(1 - 300 / 3078), abs=1e-15)
    assert round(297_897 - 1.96 * float(res.se)) == 260_856
    assert round(297_897 + 1.96 * float(res.se)) == 334_938
    half = stats.t.ppf(0.975, 299) * 18_898.434
    assert (float(res.ci_low), float(res.ci_high)) == pytest.approx(
        (297_897 - half, 297_897 + half), abs=0.01
    )
    assert float(res.response_rate) == pytest.approx(300 / 3078)
    assert bool(res.low_response) and bool(res.corrected)


def test_many_groups_at_once_follow_the_formula_and_say_why_when_not_corrected():
    n = np.array([12, 20, 40, 7, 1, 25, 30])
    invited = np.array([20, 20, np.nan, 5, 10, 100, 80])
    sd = np.array([0.8, 0.7, 0.9, 0.6, np.nan, 0.0, 1.0])
    res = finite_population_margins(n, 3.5, sd, invited, confidence=0.9)
    t = stats.t.ppf(0.95, n - 1)
    assert res.ci_high[0] - 3.5 == pytest.approx(t[0] * 0.8 / np.sqrt(12) * np.sqrt(1 - 12 / 20))
    assert res.ci_low[1] == res.ci_high[1] == 3.5  # everyone invited answered: the mean is known
    assert res.ci_high[2] - 3.5 == pytest.approx(t[2] * 0.9 / np.sqrt(40))  # ordinary interval
    assert res.ci_high[3] - 3.5 == pytest.approx(t[3] * 0.6 / np.sqrt(7))
    assert res.reason.tolist() == [
        "",
        "",
        "invited number unknown",
        "more responses than invitations (respondents chose this group)",
        "n < 2",
        "zero variance",
        "",
    ]
    assert res.corrected.tolist() == [True, True, False, False, False, False, True]
    np.testing.assert_allclose(res.response_rate, [0.6, 1.0, np.nan, np.nan, 0.1, 0.25, 0.375])
    assert res.low_response.tolist() == [False, False, False, False, True, True, False]


def test_the_low_response_note_starts_under_thirty_percent():
    res = finite_population_margins([29, 30, 31], 3.0, 0.8, 100)
    assert res.low_response.tolist() == [True, False, False]
    assert res.note[0].startswith("29% of those invited answered (29 of 100). That is under 30%")
    assert res.note[1] == "30% of those invited answered (30 of 100)."
    assert finite_population_margins(10, 3.0, 0.8, np.nan).note[()] == ""


def test_the_corrected_interval_covers_the_mean_of_those_invited_as_often_as_it_says():
    # A staff group of 60 with fixed Likert-like scores; 4,000 random sets of 36 respondents
    # (a 60% response, non-response ignorable). The corrected 95% interval should cover the
    # group's true mean about 95% of the time; the ordinary t interval covers it nearly always.
    rng = np.random.default_rng(8)
    population = np.clip(np.round(rng.normal(3.4, 1.0, 60)), 1, 5)
    picks = np.argsort(rng.random((4000, 60)), axis=1)[:, :36]
    samples = population[picks]
    mean, sd = samples.mean(axis=1), samples.std(axis=1, ddof=1)
    res = finite_population_margins(36, mean, sd, 60)
    truth = population.mean()
    covered = (res.ci_low <= truth) & (truth <= res.ci_high)
    assert covered.mean() == pytest.approx(0.95, abs=0.015)
    plain_half = stats.t.ppf(0.975, 35) * sd / 6
    assert (np.abs(mean - truth) <= plain_half).mean() > 0.99


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((2.5, 3.0, 0.5, 10), "`n`"),
        ((5, 3.0, 0.5, -1), "invited"),
        ((5, 3.0, -0.5, 10), "sd"),
    ],
)
def test_bad_inputs_are_value_errors(args, match):
    with pytest.raises(ValueError, match=match):
        finite_population_margins(*args)
    with pytest.raises(ValueError, match="min_rate"):
        finite_population_margins(5, 3.0, 0.5, 10, min_rate=30)
