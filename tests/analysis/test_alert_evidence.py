"""The words behind a status: what moved, by how many points, over which waves, and how
we know — checked against the numbers they describe."""

import numpy as np
import pytest

from analysis.alert_evidence import explain_gap, explain_status
from analysis.alerts import assess_family, assess_gap_family, family_structure, gap_structure
from tests.analysis.conftest import KEYS, family_rows, make_family_history

LABELS = [f"{2011 + t // 4}-Q{t % 4 + 1}" for t in range(10)]
SUBJECT = "Innovation, supplier staff, all service areas"


@pytest.fixture(scope="module")
def declined():
    rng = np.random.default_rng(11)
    rows, means, var = make_family_history(
        rng, n_waves=10, decline=("supplier", "innovation"), onset=5
    )
    structure = family_structure(*zip(*rows, strict=True))
    return rows, means, var, assess_family(means, var, structure)


def test_a_deteriorating_total_says_how_far_it_fell_since_its_baseline(declined):
    rows, means, var, res = declined
    i = rows.index(("supplier", "_all", "innovation"))
    assert res.status[i] == "deteriorating"
    out = explain_status(res, i, subject=SUBJECT, labels=LABELS)
    points = (means[i, -1] - res.stats.center[i]) * 25
    now = (means[i, -1] - 1) * 25
    assert out.summary == (
        f"{SUBJECT}: getting worse \N{EM DASH} down {round(-points)} points on its "
        f"2011-Q1\N{EN DASH}2011-Q4 level, now {now:.0f} out of 100 in 2013-Q2"
    )
    assert out.evidence[0].supports == "deteriorating"
    level = next(e for e in out.evidence if e.kind == "ewma")
    assert level.points_change == pytest.approx((res.stats.ewma[i] - res.stats.center[i]) * 25)
    assert level.text.startswith("The recent level")
    assert "EWMA" not in level.text and "EWMA" in level.detail  # words first, the test behind
    assert "Benjamini\N{EN DASH}Hochberg" in out.how_we_know
    assert "pooled over the baseline waves" in out.how_we_know


def test_a_flat_series_is_no_clear_change_and_says_why(declined):
    rows, _, _, res = declined
    i = int(np.flatnonzero(res.status == "stable")[0])
    out = explain_status(res, i, subject="Trust, client staff, north", labels=LABELS)
    assert out.summary.startswith("Trust, client staff, north: no clear change \N{EM DASH} ")
    assert all(e.supports == "" for e in out.evidence)
    decision = next(e for e in out.evidence if e.kind == "decision")
    assert "not strong enough" in decision.text


def test_one_wave_says_there_is_nothing_to_compare_with():
    rng = np.random.default_rng(2)
    rows, means, var = make_family_history(rng, n_waves=1)
    res = assess_family(means, var, family_structure(*zip(*rows, strict=True)))
    out = explain_status(res, 0, subject="Trust, client staff, north", labels=LABELS[:1])
    assert out.status == "stable"
    assert out.summary.endswith("only one survey so far (2011-Q1)")
    assert out.evidence[0].text == "Only one survey so far: nothing to compare it with."


def test_a_widening_gap_is_an_alert_with_both_sizes():
    rows = [(a, k) for a in ("north", "south", "_all") for k in KEYS]
    rng = np.random.default_rng(4)
    var = np.full((len(rows), 9), 0.004)
    gaps = 0.3 + rng.normal(0.0, np.sqrt(var))
    i = rows.index(("_all", "innovation"))
    gaps[i, 5:] += 0.15 * np.arange(1, 5)
    res = assess_gap_family(gaps, var, gap_structure(*zip(*rows, strict=True)))
    out = explain_gap(res, i, subject="Innovation, all service areas", labels=LABELS[:9])
    assert out.alert
    assert out.summary.startswith("Innovation, all service areas: perception gap widening")
    assert f"{abs(gaps[i, -1]):.2f} scale points apart in 2013-Q1" in out.summary
    assert "(the client side higher)" in out.summary


def test_labels_must_name_the_waves(declined):
    rows, _, _, res = declined
    with pytest.raises(ValueError):
        explain_status(res, 0, subject="x", labels=LABELS[:3])


def test_every_status_of_a_family_can_be_explained(declined):
    rows, _, _, res = declined
    for i in range(len(rows)):
        out = explain_status(res, i, subject=str(rows[i]), labels=LABELS)
        assert out.status == res.status[i]
        assert out.summary.startswith(str(rows[i]))
        assert all(e.text for e in out.evidence)
    assert len(family_rows()) == len(rows)
