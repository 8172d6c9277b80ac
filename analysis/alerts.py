"""Statuses of one relationship and wave, held to a false discovery rate (DESIGN §4.12).

The series of one relationship and wave — every side × service area × dimension — are one
*family*. :func:`assess_family` gives each series one calibrated p-value
(:mod:`analysis.detector`, :mod:`analysis.calibration`) on the noise model of
:mod:`analysis.noise`, then decides top-down (:func:`family_structure` says who is whose):

1. the **totals** — each side's and both sides' over all service areas, and each service
   area's over both sides — are tested together, Benjamini–Hochberg at ``q_totals``;
2. a side's cell in one area (say supplier staff in the contact centre) is tested when
   its side's total or its area's total is flagged, with the other cells under that total,
   Benjamini–Hochberg at ``q``;
3. a cell whose totals were not flagged is flagged only on a **strong signal**:
   Benjamini–Hochberg at ``q_strong`` over every cell of the family.

With no change anywhere, a false alarm needs step 1 or step 3 to err, so at most
``q_totals + q_strong`` (0.03 + 0.005) of families carry any; the benchmark measures it.
*Watch* marks weaker evidence and is never an alert. :func:`assess_gap_family` treats the
client–supplier gaps the same way; a gap alert is a flagged change that takes the gap
further from zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis import calibration, trends
from analysis._common import as_float_array, check_points, quiet
from analysis.detector import (
    DEFAULT_CONFIG,
    DetectorConfig,
    RuleStatistics,
    rule_statistics,
    series_noise,
)
from analysis.gaps import benjamini_hochberg
from analysis.noise import BetweenWaveVariance

__all__ = [
    "ROUTES",
    "LEVELS",
    "FamilyStructure",
    "FamilyStatuses",
    "family_structure",
    "gap_structure",
    "assess_family",
    "assess_gap_family",
]

#: How a series came to be flagged (``""``: it was not).
ROUTES = ("total", "under a flagged total", "strong signal", "")
#: What a series of a family is, in :func:`family_structure`'s words.
LEVELS = ("side total", "both sides total", "area, both sides", "area, one side")


@dataclass(frozen=True, slots=True)
class FamilyStructure:
    """Who is whose in a family, and which series share a noise estimate.

    Attributes
    ----------
    dimension : ndarray of int, shape (n_series,)
        Dimension (or index) code of each series.
    total : ndarray of bool, shape (n_series,)
        Whether the series is a total (tested first, with the other totals).
    parents : ndarray of int, shape (n_series, 2)
        Rows of the totals a cell is tested under (-1 where none; a cell whose totals are
        not in the family can only be flagged on a strong signal); -1 for a total.
    noise_group : ndarray of int, shape (n_series,)
        The pool whose baseline waves estimate each series' τ².
    level : ndarray of str, shape (n_series,)
        One of :data:`LEVELS` (gaps: ``"all areas"`` or ``"area"``).
    """

    dimension: np.ndarray
    total: np.ndarray
    parents: np.ndarray
    noise_group: np.ndarray
    level: np.ndarray


def _codes(values) -> np.ndarray:
    """Integer codes of the distinct values, in order of first appearance."""
    seen: dict = {}
    return np.array([seen.setdefault(v, len(seen)) for v in values], dtype=np.int64)


def family_structure(
    side: Sequence[str],
    area: Sequence[str],
    key: Sequence[str],
    *,
    all_sides: str = "all",
    all_areas: str = "_all",
) -> FamilyStructure:
    """The structure of one family from its rows' side, service area and score key.

    Parameters
    ----------
    side, area, key : sequence of str
        Per series: ``"client"``, ``"supplier"`` or ``all_sides``; an area key or
        ``all_areas``; the dimension key (or ``"index"``).
    all_sides, all_areas : str, optional
        The words for both sides and all service areas.

    Returns
    -------
    FamilyStructure
        Totals (no parents): a side over all areas, both sides over all areas, and an area
        over both sides. A side's cell in one area has two parents: its side's total and
        its area's total (same key). τ² pools: a side's cells of one key together (one τ²
        per dimension from every cell of the relationship); the areas' both-sides totals of
        every key; the side totals of every key; the both-sides totals of every key.

    Notes
    -----
    A total's between-wave variance is not its cells': a shock confined to one area is
    diluted in it and one felt by the whole side is not, and the mix of areas (or sides)
    behind it changes a little every wave. So totals get pools of their own. A relationship
    has only two side totals, one both-sides total and a handful of areas' both-sides totals
    per key: pooled per key, their τ² would rest on 3 to 15 degrees of freedom, too rough
    to judge them by (the calibrated p-values pay for a rough τ² with a heavy tail), so
    those pools span the keys.
    """
    side, area, key = list(side), list(area), list(key)
    if not len(side) == len(area) == len(key):
        raise ValueError("`side`, `area` and `key` must have one entry per series")
    row = {(s, a, k): i for i, (s, a, k) in enumerate(zip(side, area, key, strict=True))}
    if len(row) != len(side):
        raise ValueError("each (side, area, key) may appear once")
    dimension = _codes(key)
    n_keys = int(dimension.max()) + 1 if dimension.size else 0
    parents = np.full((len(side), 2), -1, dtype=np.int64)
    noise_group = np.zeros(len(side), dtype=np.int64)
    level = np.empty(len(side), dtype=object)
    for i, (s, a, k) in enumerate(zip(side, area, key, strict=True)):
        d = dimension[i]
        if a == all_areas:
            level[i] = LEVELS[1] if s == all_sides else LEVELS[0]
            noise_group[i] = n_keys + (2 if s == all_sides else 1)
        elif s == all_sides:
            level[i] = LEVELS[2]
            noise_group[i] = n_keys
        else:
            level[i] = LEVELS[3]
            noise_group[i] = d
            parents[i] = row.get((s, all_areas, k), -1), row.get((all_sides, a, k), -1)
    total = np.array([a == all_areas or s == all_sides for s, a in zip(side, area, strict=True)])
    return FamilyStructure(dimension, total, parents, noise_group, level)


def gap_structure(
    area: Sequence[str], key: Sequence[str], *, all_areas: str = "_all"
) -> FamilyStructure:
    """The structure of a family of client–supplier gaps (area × key).

    The all-areas gap of each key is a total; an area's gap is tested under its key's.
    τ² pools: the all-areas gaps of every key, and the areas' gaps of every key (a key has
    only a handful of areas).
    """
    area, key = list(area), list(key)
    if len(area) != len(key):
        raise ValueError("`area` and `key` must have one entry per series")
    row = {(a, k): i for i, (a, k) in enumerate(zip(area, key, strict=True))}
    if len(row) != len(area):
        raise ValueError("each (area, key) may appear once")
    dimension = _codes(key)
    parents = np.full((len(area), 2), -1, dtype=np.int64)
    total = np.array([a == all_areas for a in area], dtype=bool)
    for i, (a, k) in enumerate(zip(area, key, strict=True)):
        if a != all_areas:
            parents[i, 0] = row.get((all_areas, k), -1)
    noise_group = total.astype(np.int64)
    level = np.where(total, "all areas", "area").astype(object)
    return FamilyStructure(dimension, total, parents, noise_group, level)


@dataclass(frozen=True, slots=True)
class FamilyStatuses:
    """Statuses of every series of one family, with what decided them (arrays per series).

    Attributes
    ----------
    status : ndarray of str
        ``"deteriorating"``, ``"improving"``, ``"watch"`` or ``"stable"``; for gaps
        ``"widening"``, ``"narrowing"`` or ``"stable"``.
    p : ndarray
        Calibrated p-value of the series (NaN: fewer than 2 waves).
    direction : ndarray of int
        -1 a fall, +1 a rise, 0 untested.
    p_adjusted : ndarray
        Benjamini–Hochberg adjusted p-value in the route that decided (see ``route``); for
        a series not flagged, the smallest over the routes it was tested in, relative to
        their levels.
    level : ndarray
        The false discovery rate ``p_adjusted`` was held to.
    route : ndarray of str
        One of :data:`ROUTES`.
    flagged : ndarray of bool
        A change significant at the family level.
    watch : ndarray of bool
        Weaker evidence of a fall (see :func:`assess_family`).
    reasons : ndarray of str
        Why a series is on watch: ``"p"``, ``"drop"``, ``"concern"`` joined by ``","``.
    stats : RuleStatistics
        What each rule saw.
    p_fall, p_rise : ndarray, shape (n_series, 4)
        One-sided p-value of each rule (the CUSUM's from its simulated distribution).
    strongest : ndarray of int
        Column of the rule with the smallest p-value in ``direction`` (-1 untested).
    tau2 : ndarray
        τ² the rules used for each series.
    pool_size : ndarray of int
        Series its τ² was pooled from.
    variance : BetweenWaveVariance
        The pools' estimates (indexed by ``structure.noise_group``).
    slope : ndarray
        Theil–Sen slope per wave, scale points (NaN below 3 waves).
    structure : FamilyStructure
    means, var : ndarray, shape (n_series, n_judged_waves)
        The waves judged (the last ``config.window`` of those given).
    config : DetectorConfig
    q, q_totals, q_strong : float
    """

    status: np.ndarray
    p: np.ndarray
    direction: np.ndarray
    p_adjusted: np.ndarray
    level: np.ndarray
    route: np.ndarray
    flagged: np.ndarray
    watch: np.ndarray
    reasons: np.ndarray
    stats: RuleStatistics
    p_fall: np.ndarray
    p_rise: np.ndarray
    strongest: np.ndarray
    tau2: np.ndarray
    pool_size: np.ndarray
    variance: BetweenWaveVariance
    slope: np.ndarray
    structure: FamilyStructure
    means: np.ndarray
    var: np.ndarray
    config: DetectorConfig
    q: float
    q_totals: float
    q_strong: float


def _family_iv(means, var, structure, band, levels):
    y = as_float_array(means, name="means")
    v = as_float_array(var, name="var")
    if y.ndim != 2 or v.shape != y.shape:
        raise ValueError("`means` and `var` must be 2-D (n_series, n_waves) of one shape")
    s = y.shape[0]
    if not isinstance(structure, FamilyStructure):
        raise ValueError("`structure` must be a FamilyStructure (see family_structure)")
    parents = np.asarray(structure.parents)
    if structure.dimension.shape != (s,) or parents.shape[0] != s or parents.ndim != 2:
        raise ValueError("`structure` must describe every series of `means`")
    if s and (parents.min() < -1 or parents.max() >= s):
        raise ValueError("parents must be rows of the family, or -1")
    total = np.asarray(structure.total, dtype=bool)
    if total.shape != (s,) or np.any(total & (parents >= 0).any(axis=1)):
        raise ValueError("`structure.total` must flag each series, and a total has no parents")
    for col in parents.T:
        has = col >= 0
        if np.any(~total[np.where(has, col, 0)] & has):
            raise ValueError("a series' parents must be totals (series without parents)")
        if np.any(has & (structure.dimension[np.where(has, col, 0)] != structure.dimension)):
            raise ValueError("a series and its totals must be of the same dimension")
    if band is not None:
        band = np.asarray(band, dtype=object)
        if band.shape != (s,):
            raise ValueError("`band` must be one value per series")
    for name, level in levels.items():
        if not 0.0 <= level < 1.0:
            raise ValueError(f"`{name}` must be in [0, 1)")
    return y, v, band


def _decide(p, total, parents, q, q_totals, q_strong):
    """The three routes of the module docstring; returns flagged, p_adjusted, level, route."""
    s = p.size
    flagged = np.zeros(s, dtype=bool)
    p_adj = np.full(s, np.nan)
    level = np.full(s, np.nan)
    route = np.full(s, "", dtype=object)
    if not s:
        return flagged, p_adj, level, route
    p_adj[total] = benjamini_hochberg(np.where(total, p, np.nan))[total]
    level[total] = q_totals
    flagged[total] = p_adj[total] <= q_totals
    route[flagged] = ROUTES[0]
    cells = ~total
    p_adj[cells] = benjamini_hochberg(np.where(cells, p, np.nan))[cells]
    level[cells] = q_strong
    for top in np.flatnonzero(flagged):
        under = cells & (parents == top).any(axis=1)
        if not under.any():
            continue
        adj = benjamini_hochberg(np.where(under, p, np.nan))
        better = under & ~flagged & (adj / q < p_adj / level)
        p_adj[better] = adj[better]
        level[better] = q
        hit = under & ~flagged & (adj <= q)
        flagged |= hit
        route[hit] = ROUTES[1]
    hit = cells & ~flagged & (p_adj <= level)
    flagged |= hit
    route[hit] = ROUTES[2]
    return flagged, p_adj, level, route


def _strongest(p_fall, p_rise, direction):
    rules = np.where((direction < 0)[:, None], p_fall, p_rise)
    filled = np.where(np.isnan(rules), np.inf, rules)
    return np.where(direction == 0, -1, np.argmin(filled, axis=1))


def _assess(y, v, structure, config, q, q_totals, q_strong):
    """Rules, calibrated p-values and the family's decision, as a dict of fields."""
    if config.window is not None:
        y, v = y[:, -config.window :], v[:, -config.window :]
    tau2, pool_size, est = series_noise(y, v, structure.noise_group, config=config)
    stats = rule_statistics(y, v, tau2, config=config)
    p, direction, p_fall, p_rise = calibration.combine(stats, pool_size, config)
    flagged, p_adj, level, route = _decide(
        p, structure.total, structure.parents, q, q_totals, q_strong
    )
    return {
        "p": p,
        "direction": direction,
        "p_adjusted": p_adj,
        "level": level,
        "route": route,
        "flagged": flagged,
        "stats": stats,
        "p_fall": p_fall,
        "p_rise": p_rise,
        "strongest": _strongest(p_fall, p_rise, direction),
        "tau2": tau2,
        "pool_size": pool_size,
        "variance": est,
        "slope": trends.theil_sen_many(y).slope,
        "structure": structure,
        "means": y,
        "var": v,
        "config": config,
        "q": q,
        "q_totals": q_totals,
        "q_strong": q_strong,
    }


def assess_family(
    means,
    var,
    structure: FamilyStructure,
    *,
    band=None,
    points: int = 5,
    config: DetectorConfig = DEFAULT_CONFIG,
    q: float = 0.05,
    q_totals: float = 0.03,
    q_strong: float = 0.005,
    watch_alpha: float = 0.05,
    watch_points: float = 5.0,
) -> FamilyStatuses:
    r"""Status of every series of one relationship and wave (DESIGN §4.12).

    Parameters
    ----------
    means : array_like, shape (n_series, n_waves)
        Wave means of each series (group × dimension) over the comparable closed waves up to
        this one, in time order; NaN = no, or a suppressed, value. Only the last
        ``config.window`` waves are judged (20 by default).
    var : array_like, shape (n_series, n_waves)
        Their sampling variances :math:`sd^2/n` (:func:`analysis.noise.sampling_variance`).
    structure : FamilyStructure
        Totals, parents and τ² pools (:func:`family_structure`).
    band : array_like of str, shape (n_series,), optional
        Band of the latest wave; *concern* is a reason to watch.
    points : int, optional
        Scale points K (for the 0–100 scale of ``watch_points``).
    config : DetectorConfig, optional
    q, q_totals, q_strong : float, optional
        False discovery rates of the three routes (0.05, 0.03, 0.005).
    watch_alpha, watch_points : float, optional
        *Watch* thresholds: a calibrated p below 0.05 for a fall, or a latest drop of 5
        points or more on the 0–100 scale.

    Returns
    -------
    FamilyStatuses

    Notes
    -----
    *deteriorating* / *improving*: flagged by a route of the module docstring, in the
    direction of the series' calibrated p-value. *watch*: not flagged, and a fall with
    calibrated :math:`p <` ``watch_alpha``, or a latest change of ``-watch_points`` or
    less, or band *concern*. Else *stable*.

    With no change anywhere the family-wise error is at most ``q_totals + q_strong``: a
    cell is tested under a total only once that total is flagged. Within a route the false
    discovery rate is that of Benjamini & Hochberg (1995) for independent or positively
    dependent p-values; across the routes it is that of the hierarchical procedure of
    Yekutieli (2008). ``benchmarks/alerts_core.py`` measures both on simulated
    relationships.

    References
    ----------
    .. [1] Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate.
           *JRSS B*, 57(1), 289–300.
    .. [2] Yekutieli, D. (2008). Hierarchical false discovery rate–controlling methodology.
           *JASA*, 103(481), 309–316.
    """
    levels = {"q": q, "q_totals": q_totals, "q_strong": q_strong, "watch_alpha": watch_alpha}
    y, v, band = _family_iv(means, var, structure, band, levels)
    points = check_points(points)
    out = _assess(y, v, structure, config, q, q_totals, q_strong)
    p, direction, flagged = out["p"], out["direction"], out["flagged"]
    with quiet():
        drop = out["stats"].change * (100.0 / (points - 1)) <= -watch_points
        weak = (direction < 0) & (p < watch_alpha)
    concern = np.zeros(y.shape[0], dtype=bool)
    if band is not None:
        concern = np.array([str(b).lower() == "concern" for b in band], dtype=bool)
    watch = ~flagged & (weak | drop | concern)
    reasons = np.array(
        [
            ",".join(w for w, on in (("p", a), ("drop", b), ("concern", c)) if on)
            for a, b, c in zip(weak & watch, drop & watch, concern & watch, strict=True)
        ],
        dtype=object,
    )
    status = np.full(y.shape[0], "stable", dtype=object)
    status[watch] = "watch"
    status[flagged & (direction < 0)] = "deteriorating"
    status[flagged & (direction > 0)] = "improving"
    return FamilyStatuses(status=status, watch=watch, reasons=reasons, **out)


def assess_gap_family(
    gaps,
    var,
    structure: FamilyStructure,
    *,
    config: DetectorConfig = DEFAULT_CONFIG,
    q: float = 0.05,
    q_totals: float = 0.03,
    q_strong: float = 0.005,
) -> FamilyStatuses:
    r"""Whether each client–supplier perception gap of one relationship and wave is widening.

    Parameters
    ----------
    gaps : array_like, shape (n_gaps, n_waves)
        Client − supplier difference of means, per service area (and all areas) ×
        dimension, over the comparable waves; NaN where either side is missing or hidden.
    var : array_like, shape (n_gaps, n_waves)
        Sampling variance of each gap, :math:`sd_c^2/n_c + sd_s^2/n_s`.
    structure : FamilyStructure
        :func:`gap_structure`.
    config, q, q_totals, q_strong
        As :func:`assess_family`.

    Returns
    -------
    FamilyStatuses
        ``status`` is ``"widening"`` for a flagged change that takes the gap further from
        zero — its EWMA (or, under 3 waves, its latest value) is further from zero than the
        baseline gap, on the same side — ``"narrowing"`` for any other flagged change, else
        ``"stable"``.

    Notes
    -----
    The signed gap is a series like any other: its noise is the two sides' sampling error
    plus a between-wave variance, and the same rules, calibration and routes apply. The
    signed gap, not its absolute value (whose sampling distribution is folded at 0), keeps
    the rules' null distributions those of the calibration.
    """
    levels = {"q": q, "q_totals": q_totals, "q_strong": q_strong}
    y, v, _ = _family_iv(gaps, var, structure, None, levels)
    out = _assess(y, v, structure, config, q, q_totals, q_strong)
    stats, direction, flagged = out["stats"], out["direction"], out["flagged"]
    last = _last_observed(y)
    now = np.where(np.isnan(stats.ewma), last, stats.ewma)
    with quiet():
        away = (np.sign(now) == direction) & (np.abs(now) > np.abs(stats.center))
        away |= np.isnan(stats.center) & (np.sign(last) == direction)
    status = np.full(y.shape[0], "stable", dtype=object)
    status[flagged] = "narrowing"
    status[flagged & away] = "widening"
    none = np.full(y.shape[0], "", dtype=object)
    return FamilyStatuses(
        status=status, watch=np.zeros(y.shape[0], dtype=bool), reasons=none, **out
    )


def _last_observed(y):
    ok = ~np.isnan(y)
    idx = y.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1)
    return np.where(ok.any(axis=1), y[np.arange(y.shape[0]), idx], np.nan)
