"""The rules before issue 12 (benchmarks/old_rules.py), kept as the benchmarks' baseline: still what they were."""

import numpy as np
import pymannkendall
import pytest

from analysis.gaps import change_between_waves
from analysis.trends import mann_kendall
from benchmarks.old_rules import STATUSES, classify, gap_widening

LABELS = ["2011-Q4", "2012-Q1", "2012-Q2", "2012-Q3", "2012-Q4", "2013-Q1", "2013-Q2", "2013-Q3"]
SUBJECT = "Innovation, supplier staff, contact centre"


def _supporting(result):
    return [e for e in result.evidence if e.supports == result.status]


def test_a_steady_decline_is_deteriorating_with_the_trend_as_evidence():
    means = np.array([3.90, 3.86, 3.85, 3.79, 3.72, 3.70, 3.61, 3.54])
    res = classify(means, LABELS, points=5)
    assert res.status == "deteriorating"
    trend = res.evidence[0]
    assert trend.kind == "trend" and trend.supports == "deteriorating"
    assert trend.p == pytest.approx(pymannkendall.original_test(means).p, abs=1e-12)
    assert trend.n_waves == 8 and trend.from_label == "2011-Q4"
    assert trend.points_change == pytest.approx((3.54 - 3.90) * 25)
    assert trend.text.startswith(f"{SUBJECT}: down 9 points since 2011-Q4; Mann–Kendall p ")
    assert "over 8 waves" in trend.text
    assert res.summary.startswith(f"{SUBJECT}: deteriorating")


def test_a_flat_series_is_stable():
    res = classify([3.6] * 8, LABELS, points=5)
    assert res.status == "stable"
    assert all(e.supports == "" for e in res.evidence)
    assert "no clear trend" in res.evidence[0].text


def test_a_noisy_flat_series_is_stable():
    means = [3.60, 3.45, 3.72, 3.55, 3.66, 3.48, 3.70, 3.58]
    assert classify(means, LABELS, points=5).status == "stable"


def test_a_one_off_significant_ten_point_drop_is_deteriorating():
    means = [3.60, 3.45, 3.72, 3.55, 3.66, 3.48, 3.70, 3.30]
    res = classify(
        means, LABELS, points=5, latest_change={"difference": -0.40, "p_adjusted": 0.0004}
    )
    assert res.status == "deteriorating"
    drop = next(e for e in res.evidence if e.kind == "drop")
    assert drop.supports == "deteriorating"
    assert drop.points_change == pytest.approx(-10.0)
    assert (drop.from_label, drop.to_label) == ("2013-Q2", "2013-Q3")
    assert "down 10 points since 2013-Q2, significant after adjustment (p < 0.001)" in drop.text


def test_a_six_point_drop_that_is_not_significant_is_watch():
    means = [3.60, 3.45, 3.72, 3.55, 3.66, 3.48, 3.70, 3.46]
    res = classify(means, LABELS, points=5, latest_change={"difference": -0.24, "p_adjusted": 0.31})
    assert res.status == "watch"
    drop = _supporting(res)[0]
    assert drop.kind == "drop" and "not significant after adjustment (p = 0.31)" in drop.text


def test_a_significant_drop_smaller_than_five_points_is_not_a_warning():
    means = [3.60, 3.45, 3.72, 3.55, 3.66, 3.48, 3.70, 3.58]
    res = classify(means, LABELS, points=5, latest_change={"difference": -0.12, "p_adjusted": 0.01})
    assert res.status == "stable"


def test_a_mirror_rise_is_improving():
    means = 7.2 - np.array([3.90, 3.86, 3.85, 3.79, 3.72, 3.70, 3.61, 3.54])
    res = classify(means, LABELS, points=5)
    assert res.status == "improving"
    assert res.evidence[0].kind == "trend" and "up 9 points since 2011-Q4" in res.evidence[0].text


def test_a_significant_rise_of_five_points_is_improving():
    means = [3.60, 3.45, 3.72, 3.55, 3.66, 3.48, 3.70, 3.95]
    res = classify(means, LABELS, points=5, latest_change={"difference": 0.25, "p_adjusted": 0.02})
    assert res.status == "improving"
    assert _supporting(res)[0].kind == "rise"


def test_with_four_waves_mann_kendall_says_it_needs_five():
    res = classify([3.70, 3.50, 3.80, 3.56], LABELS[:4], points=5)
    trend = next(e for e in res.evidence if e.kind == "trend")
    assert trend.text == f"{SUBJECT}: Mann–Kendall trend test needs at least 5 waves (has 4)"
    assert np.isnan(trend.p) and trend.supports == ""


def test_with_one_wave_every_method_says_what_it_needs():
    res = classify([3.7], LABELS[:1], points=5)
    assert res.status == "stable"
    texts = " | ".join(e.text for e in res.evidence)
    assert "needs at least 5 waves" in texts
    assert "no earlier wave to compare with" in texts
    assert "needs at least 3 baseline waves" in texts


def test_a_weak_downward_trend_is_watch():
    means = np.array([3.62, 3.58, 3.66, 3.52, 3.60, 3.50, 3.57, 3.49])
    p = pymannkendall.original_test(means).p
    assert 0.05 <= p < 0.20  # the construction really is a weak trend
    res = classify(means, LABELS, points=5)
    assert res.status == "watch" and _supporting(res)[0].kind == "trend"


def test_the_concern_band_is_watch():
    res = classify([2.8] * 8, LABELS, points=5, band="concern")
    assert res.status == "watch" and _supporting(res)[0].kind == "band"


def test_an_ewma_signal_below_the_lower_limit_is_deteriorating():
    means = [3.60, 3.62, 3.58, 3.61, 3.60, 3.40]
    res = classify(means, LABELS[:6], points=5)
    assert res.status == "deteriorating"
    kinds = {e.kind for e in _supporting(res)}
    assert "ewma" in kinds


def test_deteriorating_wins_over_improving():
    means = [3.0, 3.2, 3.4, 3.6, 3.8, 4.0, 4.2, 3.9]
    res = classify(means, LABELS, points=5, latest_change={"difference": -0.3, "p_adjusted": 0.01})
    assert res.status == "deteriorating"
    assert any(e.supports == "improving" for e in res.evidence)


def test_latest_change_can_be_a_one_cell_change_between_waves_result():
    rng = np.random.default_rng(3)
    prev = np.clip(np.round(rng.normal(3.9, 0.7, 300)), 1, 5)
    curr = np.clip(np.round(rng.normal(3.3, 0.7, 300)), 1, 5)
    change = change_between_waves(prev, np.zeros(300, int), curr, np.zeros(300, int), 1)
    means = [3.9, 3.85, 3.92, 3.88, 3.9, 3.87, prev.mean(), curr.mean()]
    res = classify(means, LABELS, points=5, latest_change=change)
    drop = next(e for e in res.evidence if e.kind == "drop")
    assert drop.p == change.p_adjusted[0]
    assert res.status == "deteriorating"


def test_precomputed_trend_results_are_used():
    means = [3.6] * 8
    fake = mann_kendall([5, 4, 3, 2, 1, 0, -1, -2])
    assert classify(means, LABELS, points=5, mk=fake).status == "deteriorating"


def test_statuses_are_always_one_of_the_four():
    rng = np.random.default_rng(9)
    for _ in range(50):
        means = np.round(rng.normal(3.5, 0.3, 8), 2)
        assert classify(means, LABELS, points=5).status in STATUSES


def test_bad_inputs_are_value_errors():
    with pytest.raises(ValueError):
        classify([3.0, 3.1], LABELS, points=5)
    with pytest.raises(ValueError):
        classify([3.0, 3.1], LABELS[:2], points=1)
    with pytest.raises(ValueError):
        classify([3.0, 3.1], LABELS[:2], points=5, latest_change={"difference": -0.3})


def test_a_gap_trending_wider_is_an_alert():
    gaps = np.array([0.10, 0.12, 0.20, 0.18, 0.35, 0.40, 0.52, 0.61])
    res = gap_widening(gaps, LABELS)
    assert res.alert
    trend = res.evidence[0]
    assert trend.kind == "gap_trend"
    assert trend.p == pytest.approx(pymannkendall.original_test(gaps).p, abs=1e-12)
    assert "trending wider since 2011-Q4" in trend.text
    assert res.summary.startswith(f"{SUBJECT}: perception gap widening")


def test_a_gap_that_widened_significantly_since_last_wave_is_an_alert():
    res = gap_widening([0.2, 0.6], LABELS[:2], latest_change_p=0.01)
    assert res.alert
    assert "widened from 0.20 to 0.60 scale points since 2011-Q4" in res.evidence[0].text
    assert not gap_widening([0.2, 0.6], LABELS[:2], latest_change_p=0.3).alert
    assert not gap_widening([0.6, 0.2], LABELS[:2], latest_change_p=0.01).alert


def test_a_narrowing_gap_is_no_alert():
    res = gap_widening([0.6, 0.5, 0.45, 0.4, 0.3, 0.2], LABELS[:6])
    assert not res.alert
    assert res.summary == f"{SUBJECT}: no sign that the perception gap is widening"
