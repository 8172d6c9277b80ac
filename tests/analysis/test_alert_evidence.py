"""What lies behind a status: what moved, by how many points, over which waves, and how
we know — checked against the numbers they describe, as facts and as the English the service
words them in (survey_app/services/results/wording.py; no request: English)."""

import numpy as np
import pytest

from analysis.alert_evidence import explain_gap, explain_status, gap_movement
from analysis.alerts import assess_family, assess_gap_family, family_structure, gap_structure
from survey_app.services.results import wording
from tests.analysis.conftest import KEYS, family_rows, make_family_history


def _summary(out, subject):
    return wording.status_summary(out.summary.as_dict(), subject)


def _text(evidence):
    return wording.phrase(evidence.text.as_dict())


def _how(out):
    return "\n".join(wording.phrase(p.as_dict()) for p in out.how_we_know)


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
    out = explain_status(res, i, labels=LABELS)
    points = (means[i, -1] - res.stats.center[i]) * 25
    now = (means[i, -1] - 1) * 25
    assert out.summary.facts["change"] == pytest.approx(points)
    assert _summary(out, SUBJECT) == (
        f"{SUBJECT}: getting worse \N{EM DASH} down {round(-points)} points on its "
        f"2011-Q1\N{EN DASH}2011-Q4 level, now {now:.0f} out of 100 in 2013-Q2"
    )
    assert out.evidence[0].supports == "deteriorating"
    level = next(e for e in out.evidence if e.kind == "ewma")
    assert level.points_change == pytest.approx((res.stats.ewma[i] - res.stats.center[i]) * 25)
    assert _text(level).startswith("The recent level")
    # words first, the test behind
    assert "EWMA" not in _text(level) and "EWMA" in wording.phrase(level.detail.as_dict())
    assert "Benjamini\N{EN DASH}Hochberg" in _how(out)
    assert "pooled over the baseline waves" in _how(out)


def test_a_flat_series_is_no_clear_change_and_says_why(declined):
    rows, _, _, res = declined
    i = int(np.flatnonzero(res.status == "stable")[0])
    out = explain_status(res, i, labels=LABELS)
    summary = _summary(out, "Trust, client staff, north")
    assert summary.startswith("Trust, client staff, north: no clear change \N{EM DASH} ")
    assert all(e.supports == "" for e in out.evidence)
    decision = next(e for e in out.evidence if e.kind == "decision")
    assert "not strong enough" in _text(decision)


def test_one_wave_says_there_is_nothing_to_compare_with():
    rng = np.random.default_rng(2)
    rows, means, var = make_family_history(rng, n_waves=1)
    res = assess_family(means, var, family_structure(*zip(*rows, strict=True)))
    out = explain_status(res, 0, labels=LABELS[:1])
    assert out.status == "stable"
    assert _summary(out, "Trust").endswith("only one survey so far (2011-Q1)")
    assert _text(out.evidence[0]) == "Only one survey so far: nothing to compare it with."


def test_a_widening_gap_is_an_alert_with_both_sizes():
    rows = [(a, k) for a in ("north", "south", "_all") for k in KEYS]
    rng = np.random.default_rng(4)
    var = np.full((len(rows), 9), 0.004)
    gaps = 0.3 + rng.normal(0.0, np.sqrt(var))
    i = rows.index(("_all", "innovation"))
    gaps[i, 5:] += 0.15 * np.arange(1, 5)
    res = assess_gap_family(gaps, var, gap_structure(*zip(*rows, strict=True)))
    out = explain_gap(res, i, labels=LABELS[:9])
    assert out.alert
    summary = wording.gap_summary(out.summary.as_dict(), "Innovation, all service areas")
    assert summary.startswith("Innovation, all service areas: perception gap widening")
    assert f"{abs(gaps[i, -1]):.2f} scale points apart in 2013-Q1" in summary
    assert "(the client side higher)" in summary
    assert out.summary.facts["movement"] == "widened"
    was = f"{res.stats.center[i]:.2f}"
    assert f", up from {was} at its 2011-Q1\N{EN DASH}2011-Q4 level" in summary


@pytest.mark.parametrize(
    ("latest", "baseline", "movement", "words"),
    [
        (0.45, 0.30, "widened", "(the client side higher), up from 0.30 at its"),
        (-0.45, -0.30, "widened", "(the supplier side higher), up from 0.30 at its"),
        (0.12, 0.30, "narrowed", "(the client side higher), down from 0.30 at its"),
        (0.40, -0.30, "reversed", "(the client side higher), reversed from the supplier side"),
        (-0.20, 0.30, "reversed", "(the supplier side higher), reversed from the client side"),
        (0.30, 0.301, "same", "(the client side higher), as at its"),
    ],
)
def test_a_gap_says_whether_it_widened_narrowed_or_reversed(latest, baseline, movement, words):
    """A gap that crosses zero is named as reversed: never 'widening' from one side's lead to
    the other's as if the same side had pulled further ahead."""
    assert gap_movement(latest, baseline) == movement
    facts = {
        "key": "gap", "status": "widening", "apart": abs(latest), "wave": "2013-Q1",
        "higher": "client" if latest > 0 else "supplier", "was": baseline,
        "movement": movement, "base_from": "2011-Q1", "base_to": "2011-Q1",
    }  # fmt: skip
    summary = wording.gap_summary(facts, "Trust, all service areas")
    assert words in summary
    assert summary.startswith("Trust, all service areas: perception gap widening \N{EM DASH} ")
    if movement == "reversed":  # the lead changed sides: both sides named, each with its size
        assert f"side {abs(baseline):.2f} higher at its 2011-Q1 level" in summary
        assert f"{abs(latest):.2f} scale points apart" in summary


def test_labels_must_name_the_waves(declined):
    rows, _, _, res = declined
    with pytest.raises(ValueError):
        explain_status(res, 0, labels=LABELS[:3])


def test_every_status_of_a_family_can_be_explained(declined):
    rows, _, _, res = declined
    for i in range(len(rows)):
        out = explain_status(res, i, labels=LABELS)
        assert out.status == res.status[i]
        assert _summary(out, str(rows[i])).startswith(str(rows[i]))
        assert all(_text(e) for e in out.evidence)
        assert all(wording.phrase(p.as_dict()) for p in out.how_we_know)
    assert len(family_rows()) == len(rows)
