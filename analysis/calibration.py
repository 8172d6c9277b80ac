"""Null distributions of the detector's rules, tabulated once by simulation (DESIGN §4.12).

:func:`null_table` simulates series where nothing changes — means of 25–60 responses,
between-wave shocks, τ² estimated from the pooled series' baseline waves exactly as in use
— and keeps, for one series length, the distribution of the CUSUM and of the smallest
one-sided p-value of the four rules (:mod:`analysis.detector`). How much the noise
estimate itself is off depends on how many series it pools, so a table holds one row per
pool size in :data:`POOL_SIZES`; a series is judged by the rows either side of its pool's
size. The tables of the default configuration, lengths 2–20, are shipped in
:data:`TABLE_FILE` (``python -m analysis.calibration`` rewrites them); any other length or
configuration is simulated once (seeded, so always the same) and kept for the life of the
process. :func:`calibrated_p` then costs an interpolation.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from dataclasses import astuple, dataclass
from pathlib import Path

import numpy as np

from analysis import detector

__all__ = [
    "POOL_SIZES",
    "NullTable",
    "null_table",
    "simulate_table",
    "simulate_null",
    "fingerprint",
    "write_tables",
    "cusum_sf",
    "calibrated_p",
    "combine",
]

#: Numbers of series pooled to estimate τ² that a table keeps a row for. Fewer series give a
#: rougher τ² and so a heavier tail; a pool below 3 is judged as one of 3.
POOL_SIZES = (3, 6, 10, 20, 50)
_N_PROBS = 240
_TAIL_POINTS = 12
#: Tables for the default configuration, written by ``python -m analysis.calibration``.
TABLE_FILE = Path(__file__).with_name("detector_null.npz")
#: Bump when a rule or the simulation changes, so that stale tables are not used.
TABLE_VERSION = 1


@dataclass(frozen=True, slots=True)
class NullTable:
    """Null distributions for series of one length.

    Attributes
    ----------
    n_waves : int
    pool_sizes : ndarray, shape (n_pools,)
        :data:`POOL_SIZES`.
    probs : ndarray, shape (n_probs,)
        Probability grid, increasing from about ``10 / n_sim`` to 1.
    min_p : ndarray, shape (n_pools, n_probs)
        ``min_p[r, i]``: the ``probs[i]`` quantile of the smallest one-sided p-value of the
        rules over both directions.
    cusum : ndarray, shape (n_pools, n_probs)
        ``cusum[r, i]``: the CUSUM value exceeded with probability ``probs[i]``.
    n_sim : int
        Simulated series per pool size.
    """

    n_waves: int
    pool_sizes: np.ndarray
    probs: np.ndarray
    min_p: np.ndarray
    cusum: np.ndarray
    n_sim: int


def simulate_null(n_waves: int, pool_size: int, config: detector.DetectorConfig):
    """Rule statistics of ``config.sim_series_per_pool`` simulated series with no change,
    in pools of ``pool_size`` (see :func:`null_table`)."""
    rng = np.random.default_rng([config.seed, n_waves, pool_size])
    f = max(config.sim_series // pool_size, 1)
    j = pool_size
    lo, hi = config.sim_n
    n = rng.integers(lo, hi + 1, size=(f, j, n_waves))
    inv_n = 1.0 / n
    tau2 = config.sim_tau_ratio * inv_n.mean()
    shock = rng.normal(0.0, np.sqrt(tau2), size=(f, j, n_waves))
    sd2 = rng.chisquare(n - 1) / (n - 1)
    means = (rng.standard_normal((f, j, n_waves)) * np.sqrt(inv_n) + shock).reshape(f * j, -1)
    var = (sd2 * inv_n).reshape(f * j, -1)
    tau2, _, _ = detector.series_noise(means, var, np.repeat(np.arange(f), j), config=config)
    return detector.rule_statistics(means, var, tau2, config=config)


def _grid(n_sim: int) -> np.ndarray:
    low = min(10.0 / n_sim, 1e-2)
    return np.unique(
        np.concatenate([np.geomspace(low, 0.2, _N_PROBS - 40), np.linspace(0.2, 1, 40)])
    )


def fingerprint(config: detector.DetectorConfig) -> str:
    """What a table depends on: the configuration, the grids and :data:`TABLE_VERSION`."""
    text = repr((TABLE_VERSION, astuple(config), POOL_SIZES, _N_PROBS))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def _shipped() -> dict[int, NullTable]:
    """The tables in :data:`TABLE_FILE` (for the default configuration), by length."""
    if not TABLE_FILE.exists():
        return {}
    with np.load(TABLE_FILE) as f:
        if str(f["fingerprint"]) != fingerprint(detector.DEFAULT_CONFIG):
            return {}
        pools, probs, n_sim = f["pool_sizes"], f["probs"], int(f["n_sim"])
        return {
            int(t): NullTable(int(t), pools, probs, f["min_p"][i], f["cusum"][i], n_sim)
            for i, t in enumerate(f["n_waves"])
        }


def write_tables(path, lengths, config: detector.DetectorConfig = detector.DEFAULT_CONFIG):
    """Simulate the tables of ``lengths`` and save them where :func:`null_table` looks."""
    tables = [simulate_table(int(t), config) for t in lengths]
    np.savez_compressed(
        path,
        fingerprint=np.array(fingerprint(config)),
        n_waves=np.array([t.n_waves for t in tables]),
        pool_sizes=tables[0].pool_sizes,
        probs=tables[0].probs,
        n_sim=np.array(tables[0].n_sim),
        min_p=np.stack([t.min_p for t in tables]),
        cusum=np.stack([t.cusum for t in tables]),
    )


@functools.lru_cache(maxsize=256)
def null_table(n_waves: int, config: detector.DetectorConfig = detector.DEFAULT_CONFIG):
    """The null distributions of series of ``n_waves`` observed waves.

    Read from :data:`TABLE_FILE` for the default configuration, else simulated once by
    :func:`simulate_table` and kept for the life of the process.
    """
    if int(n_waves) != n_waves or n_waves < detector.MIN_WAVES_CHANGE:
        raise ValueError("`n_waves` must be an integer >= 2")
    if config == detector.DEFAULT_CONFIG and int(n_waves) in _shipped():
        return _shipped()[int(n_waves)]
    return simulate_table(int(n_waves), config)


def simulate_table(n_waves: int, config: detector.DetectorConfig = detector.DEFAULT_CONFIG):
    r"""Simulate the null distributions of series of ``n_waves`` observed waves.

    Parameters
    ----------
    n_waves : int
        Observed waves of the series (2 or more).
    config : DetectorConfig, optional

    Returns
    -------
    NullTable

    Notes
    -----
    For each pool size :math:`J` in :data:`POOL_SIZES`, about ``config.sim_series``
    series are simulated in pools of :math:`J`. Per series and wave, :math:`n \sim
    U\{25..60\}` responses with SD 1 (the scale cancels), a sample variance
    :math:`s^2 \sim \chi^2_{n-1}/(n-1)`, and a wave mean :math:`N(0, 1/n)` plus a shock
    :math:`N(0, \tau^2)` with :math:`\tau^2 = 0.3\,\overline{1/n}` — a shock of SD 0.05
    beside a response SD of 0.6 and about 40 responses. Each pool's :math:`\tau^2` is
    estimated from its baseline waves (:func:`analysis.noise.between_wave_variance`, with
    the upper limit the rules use), as in use; then every series' rule statistics.

    The table keeps the upper quantiles of the CUSUM (both directions pooled, as they are
    mirror images) and then the quantiles of the smallest one-sided p-value over rules and
    directions, with the CUSUM's p-value read from its own quantiles — the combination of
    :func:`combine`. Probabilities are kept on a log grid from ``10 / n_sim``; beyond it
    :func:`cusum_sf` and :func:`calibrated_p` extrapolate the tail.
    """
    sims = [simulate_null(int(n_waves), j, config) for j in POOL_SIZES]
    n_sim = min(st.n_waves.size for st in sims)
    probs = _grid(n_sim)
    cusum = np.zeros((len(POOL_SIZES), probs.size))
    min_p = np.zeros((len(POOL_SIZES), probs.size))
    for r, st in enumerate(sims):
        if n_waves >= detector.MIN_WAVES_CHART:
            both = np.concatenate([st.cusum_fall, st.cusum_rise])
            cusum[r] = np.quantile(both, 1.0 - probs, method="inverted_cdf")
        p_fall, p_rise = _with_cusum(st, cusum[r], probs)
        m = np.fmin(_smallest(p_fall), _smallest(p_rise))
        min_p[r] = np.quantile(m, probs, method="inverted_cdf")
    return NullTable(int(n_waves), np.array(POOL_SIZES), probs, min_p, cusum, n_sim)


def _smallest(p: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(p), np.inf, p).min(axis=1)


def _with_cusum(stats, cusum_row, probs):
    """The rules' one-sided p-values with the CUSUM column read from ``cusum_row``."""
    p_fall, p_rise = stats.p_fall.copy(), stats.p_rise.copy()
    charted = ~np.isnan(stats.cusum_fall)
    p_fall[charted, 1] = _interp_sf(stats.cusum_fall[charted], cusum_row, probs)
    p_rise[charted, 1] = _interp_sf(stats.cusum_rise[charted], cusum_row, probs)
    return p_fall, p_rise


def _pool_bracket(pool_size):
    """Tabulated pool sizes either side of ``pool_size`` and the weight of the smaller.

    Returns ``(rough, fine, w)``: indices into :data:`POOL_SIZES` of the nearest size at or
    below (the heavier tail) and at or above, and the weight ``w`` of the first for an
    interpolation linear in ``log(pool_size)``.
    """
    grid = np.log(np.array(POOL_SIZES, dtype=np.float64))
    size = np.nan_to_num(np.asarray(pool_size, dtype=np.float64), nan=POOL_SIZES[0])
    x = np.log(np.clip(size, POOL_SIZES[0], POOL_SIZES[-1]))
    rough = np.clip(np.searchsorted(grid, x, side="right") - 1, 0, grid.size - 1)
    fine = np.where(grid[rough] == x, rough, np.minimum(rough + 1, grid.size - 1))
    span = grid[fine] - grid[rough]
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(span > 0, (grid[fine] - x) / span, 1.0)
    return rough, fine, w


def _tail(x, log_p):
    """Least-squares slope of ``log_p`` on ``x`` over the last ``_TAIL_POINTS`` points."""
    x, y = x[-_TAIL_POINTS:], log_p[-_TAIL_POINTS:]
    dx = x - x.mean()
    denom = float(dx @ dx)
    return float(dx @ (y - y.mean())) / denom if denom > 0 else np.nan


def _interp_sf(values, table_values, probs):
    """P(X >= value) from upper quantiles ``table_values`` (decreasing in ``probs``).

    Past the largest simulated value the log survival falls linearly (an exponential tail,
    as a CUSUM's is), with the slope fitted over the last simulated quantiles.
    """
    values = np.asarray(values, dtype=np.float64)
    x = table_values[::-1]  # increasing values
    lp = np.log(probs[::-1])  # their log survival, decreasing
    out = np.exp(np.interp(values, x, lp, left=0.0, right=np.nan))
    beyond = np.isnan(out)
    if beyond.any():
        slope = _tail(x, lp)
        if slope < 0:
            out[beyond] = np.exp(lp[-1] + slope * (values[beyond] - x[-1]))
        else:  # no usable tail: the smallest simulated probability
            out[beyond] = probs[0]
    return np.where(values <= 0.0, 1.0, out)


def _by_table(n_waves, index, config, fn):
    """Apply ``fn(table, rows, r)`` to the rows of each (length, pool row) combination."""
    for t in np.unique(n_waves):
        if t < detector.MIN_WAVES_CHANGE:
            continue
        table = null_table(int(t), config)
        at_t = n_waves == t
        for r in np.unique(index[at_t]):
            fn(table, at_t & (index == r), int(r))


def cusum_sf(values, n_waves, pool_index, config=detector.DEFAULT_CONFIG):
    """Null probability that a CUSUM of series of ``n_waves`` waves reaches ``values``,
    from row ``pool_index`` of the tables."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)

    def fill(table, rows, r):
        out[rows] = _interp_sf(values[rows], table.cusum[r], table.probs)

    _by_table(np.asarray(n_waves), np.asarray(pool_index), config, fill)
    return out


def calibrated_p(min_p, n_waves, pool_index, config=detector.DEFAULT_CONFIG):
    """Null probability that the smallest rule p-value is as small as ``min_p``.

    Below the simulated range the ratio p / min_p is held at its mean (on the log scale)
    over the smallest simulated quantiles.
    """
    min_p = np.asarray(min_p, dtype=np.float64)
    out = np.full(min_p.shape, np.nan)

    def fill(table, rows, r):
        lq = np.log(np.maximum(table.min_p[r], 1e-300))
        lp = np.log(table.probs)
        x = np.log(np.maximum(min_p[rows], 1e-300))
        p = np.exp(np.interp(x, lq, lp))
        edge = x < lq[0]
        if edge.any():
            k = min(_TAIL_POINTS, lq.size)
            p[edge] = np.exp(x[edge] + float(np.mean(lp[:k] - lq[:k])))
        out[rows] = np.minimum(p, 1.0)

    _by_table(np.asarray(n_waves), np.asarray(pool_index), config, fill)
    return out


def _combine_at(stats, index, config):
    """Calibrated p, direction and rule p-values, every series judged by pool row ``index``."""
    n = stats.n_waves
    p_fall, p_rise = stats.p_fall.copy(), stats.p_rise.copy()
    charted = ~np.isnan(stats.cusum_fall)
    if charted.any():
        args = (n[charted], index[charted], config)
        p_fall[charted, 1] = cusum_sf(stats.cusum_fall[charted], *args)
        p_rise[charted, 1] = cusum_sf(stats.cusum_rise[charted], *args)
    tested = n >= detector.MIN_WAVES_CHANGE
    fall = np.where(tested, _smallest(p_fall), np.nan)
    rise = np.where(tested, _smallest(p_rise), np.nan)
    m = np.fmin(fall, rise)
    ok = tested & np.isfinite(m)
    p = np.full(n.shape, np.nan)
    p[ok] = calibrated_p(m[ok], n[ok], index[ok], config)
    direction = np.where(ok, np.where(fall <= rise, -1, 1), 0)
    return p, direction, p_fall, p_rise


def combine(stats, pool_size, config=detector.DEFAULT_CONFIG):
    r"""Calibrated p-value and direction of each series.

    Parameters
    ----------
    stats : RuleStatistics
    pool_size : array_like of int
        How many series the τ² of each series was pooled from.
    config : DetectorConfig, optional

    Returns
    -------
    p : ndarray
        Calibrated p-value (NaN below 2 waves): the null probability that the smallest
        one-sided rule p-value, over both directions, is as small as this series'.
    direction : ndarray of int
        -1 (a fall), +1 (a rise) or 0 (untested): the direction of that smallest p-value.
    p_fall, p_rise : ndarray, shape (n_series, 4)
        One-sided p-value of each rule (the CUSUM's from its null table).

    Notes
    -----
    A pool size between two tabulated ones is judged by both rows and its p-value
    interpolated geometrically, linearly in :math:`\log J`; sizes outside
    :data:`POOL_SIZES` use the nearest row.
    """
    rough, fine, w = _pool_bracket(pool_size)
    p_rough, direction, p_fall, p_rise = _combine_at(stats, rough, config)
    p_fine = _combine_at(stats, fine, config)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.exp(w * np.log(p_rough) + (1.0 - w) * np.log(p_fine))
    return np.where(np.isnan(p_rough), np.nan, np.minimum(p, 1.0)), direction, p_fall, p_rise


def main(argv=None) -> int:
    """``python -m analysis.calibration [LAST]``: write the default tables, lengths 2..LAST
    (default: the window)."""
    args = sys.argv[1:] if argv is None else argv
    last = int(args[0]) if args else (detector.DEFAULT_CONFIG.window or 20)
    write_tables(TABLE_FILE, range(detector.MIN_WAVES_CHANGE, last + 1))
    print(f"wrote {TABLE_FILE} (lengths 2..{last}, {fingerprint(detector.DEFAULT_CONFIG)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
