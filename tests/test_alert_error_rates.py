"""The service's statuses judged by their error rates on a small simulated set (issue 12): the
histories of ``benchmarks/alerts.py`` (truth known) stored, closed and scored through the
service. The benchmark measures the rates on many histories; here one flat and one planted
history check they are within bounds."""

from __future__ import annotations

import numpy as np

from benchmarks.alerts import SCENARIOS, Tally, build_history
from survey_app.extensions import db


def test_flat_history_raises_no_false_alarms_and_a_planted_decline_is_caught(app):
    rng = np.random.default_rng(20261203)
    scenarios = {s.name: s for s in SCENARIOS}
    flat, decline = Tally(), Tally()
    rel, truth = build_history("flat", scenarios["shocks"], rng)
    flat.add(rel, truth, old=True)
    db.session.expunge_all()
    rel, truth = build_history("decline", scenarios["decline"], rng)
    decline.add(rel, truth, old=False)
    f, d = flat.figures(1), decline.figures(0)
    # ~180 series × 12 waves: at most 5% flagged by the calibrated rules; the old rules, on the
    # same stored series, flag several times as many (they are what issue 12 replaced).
    assert flat.null_waves > 1500
    assert f["false_alarm_series_waves"] <= 0.05
    assert f["old_false_alarm_series_waves"] > 0.03 + 3 * f["false_alarm_series_waves"]
    assert d["false_alarm_series_waves"] <= 0.05
    assert d["caught"]["side totals"] == {
        "planted": 1,
        "within_2": d["caught"]["side totals"]["within_2"],
        "within_4": 1.0,
    }
    assert d["latest_false_alerts"] <= 1 < d["latest_alerts"]
