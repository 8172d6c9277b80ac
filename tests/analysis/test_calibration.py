"""The calibration of the detector (DESIGN §4.12): its p-values are uniform on fresh series
with no change, simulated with another seed than the shipped tables."""

import dataclasses

import numpy as np
import pytest

from analysis import calibration
from analysis.detector import DEFAULT_CONFIG

FRESH = dataclasses.replace(DEFAULT_CONFIG, seed=7, sim_series=40_000)


def _fresh_p(n_waves, pool_size):
    st = calibration.simulate_null(n_waves, pool_size, FRESH)
    size = np.full(st.n_waves.size, pool_size)
    p, direction, p_fall, p_rise = calibration.combine(st, size, DEFAULT_CONFIG)
    return p, p_fall, p_rise


@pytest.mark.parametrize(("n_waves", "pool_size"), [(3, 10), (8, 6), (14, 20)])
def test_calibrated_p_is_uniform_on_fresh_series_with_no_change(n_waves, pool_size):
    p, _, _ = _fresh_p(n_waves, pool_size)
    n = p.size
    for alpha in (0.005, 0.05, 0.2):
        share = np.mean(p <= alpha)
        se = np.sqrt(alpha * (1 - alpha) / n)
        assert abs(share - alpha) < 4 * se + 0.1 * alpha, (alpha, share)


def test_without_the_calibration_the_smallest_rule_p_would_cry_wolf():
    _, p_fall, p_rise = _fresh_p(12, 10)
    smallest = np.fmin(np.nanmin(p_fall, axis=1), np.nanmin(p_rise, axis=1))
    assert np.mean(smallest <= 0.01) > 0.04  # four rules, two directions: several times 1%


def test_a_pool_size_between_rows_is_judged_between_them():
    st = calibration.simulate_null(9, 10, FRESH)
    rows = [calibration.combine(st, np.full(st.n_waves.size, j))[0] for j in (6, 8, 10)]
    ok = np.isfinite(rows[0]) & (rows[0] < 0.5)
    lo = np.minimum(rows[0], rows[2])[ok]
    hi = np.maximum(rows[0], rows[2])[ok]
    assert np.all((rows[1][ok] >= lo * (1 - 1e-12)) & (rows[1][ok] <= hi * (1 + 1e-12)))


def test_calibrated_p_rises_with_the_smallest_rule_p_and_extrapolates_below_the_table():
    m = np.geomspace(1e-12, 1.0, 200)
    p = calibration.calibrated_p(m, np.full(m.size, 10), np.full(m.size, 2))
    assert np.all(np.diff(p) >= 0) and p[-1] <= 1.0
    assert p[0] > 0 and p[0] < 1e-9  # far below the simulated range, still small


def test_cusum_survival_falls_with_the_cusum_past_the_simulated_range():
    values = np.array([0.0, 1.0, 5.0, 12.0, 30.0])
    sf = calibration.cusum_sf(values, np.full(5, 12), np.full(5, 2))
    assert sf[0] == 1.0 and np.all(np.diff(sf) < 0) and sf[-1] > 0


def test_the_shipped_tables_are_those_of_the_default_configuration():
    assert calibration.TABLE_FILE.exists()
    shipped = calibration._shipped()
    assert sorted(shipped) == list(range(2, (DEFAULT_CONFIG.window or 20) + 1))
    table = calibration.null_table(12)
    assert table is shipped[12] and table.n_sim >= 100_000
    other = calibration.null_table(5, dataclasses.replace(DEFAULT_CONFIG, sim_series=5_000))
    assert other.n_sim < 10_000  # another configuration is simulated, not read
    with pytest.raises(ValueError):
        calibration.null_table(1)
