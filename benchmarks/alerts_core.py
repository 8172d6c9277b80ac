"""Error rates of the calibrated deterioration detector, at the analysis level (issue 12).

Usage::

    .venv/bin/python benchmarks/alerts_core.py [--histories N] [--seed S] [--quick]

Simulates survey histories the way issue 12 part 2 describes them — 12 waves, 2 sides × 5
service areas, 25–60 responses a cell, a response-level SD of about 0.6, at least 4 clean
baseline waves — as item answers of individual respondents, scores them with
:mod:`analysis.scoring` (dimension scores under the half rule, the health index, group
aggregates), and feeds :func:`analysis.alerts.assess_family` exactly as the service would:
one family per relationship × wave (3 sides × 6 area levels × 10 scores = 180 series), τ²
pooled per dimension over the side × area cells, series up to that wave.

Scenarios: ``flat`` (sampling noise only), ``shocks`` (plus a random shock of SD 0.05 to
every cell, dimension and wave), ``side shocks`` (a shock of SD 0.05 shared by every area
of a side, per dimension and wave: the hard case for the side totals), ``decline`` (one
side's dimension falls 0.12 scale points a wave in every area from a stated onset) and
``area decline`` (one area's dimension falls, both sides). The onset is wave 5–9 (4–8
clean waves before it).

Printed: false alarms (deteriorating or improving on a series whose true mean never
moves) as a share of series-waves and of series, the share of families (relationship ×
wave) with any false alarm, the false discovery proportion where there are flags, the
*watch* share, and the share of planted series caught within 2 and 4 waves of onset for
side totals, cells of at least 60 and smaller cells. The old rules
(:func:`benchmarks.old_rules.classify`) run on the same flat histories as the baseline. The
last line is one JSON object.

The simulation (:func:`simulate_history`, :func:`cell_scores`, :func:`family_inputs`) is
meant to be reused by a benchmark that runs the same histories through the service.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: its folder would shadow the `analysis` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from analysis import scoring  # noqa: E402
from analysis.alerts import (  # noqa: E402
    assess_family,
    assess_gap_family,
    family_structure,
    gap_structure,
)
from analysis.gaps import benjamini_hochberg  # noqa: E402
from analysis.noise import sampling_variance  # noqa: E402
from benchmarks.old_rules import classify  # noqa: E402

SIDES = ("client", "supplier")
ALL = "all"
AREA_ALL = "_all"
INDEX = "index"
N_DIMENSIONS = 9
ITEMS_PER_DIMENSION = 4
DECLINE = 0.12
SHOCK_SD = 0.05
ONSETS = (4, 5, 6, 7, 8)  # 0-based wave of the first fall: 4–8 clean waves before it
SIZE_WOBBLE = 0.15  # a cell's responses vary by up to ±15% around its own size, wave to wave


@dataclass(frozen=True)
class Scenario:
    name: str
    shocks: str = "none"  # "none", "cell" or "side"
    planted: str = "none"  # "none", "side" (one side, every area) or "area" (one area)


SCENARIOS = (
    Scenario("flat"),
    Scenario("shocks", shocks="cell"),
    Scenario("side shocks", shocks="side"),
    Scenario("decline", planted="side"),
    Scenario("decline, shocks", shocks="cell", planted="side"),
    Scenario("area decline", planted="area"),
    Scenario("area decline, shocks", shocks="cell", planted="area"),
)


@dataclass
class Wave:
    """One wave's responses: side and area codes and item answers (1..5, reverse-keying
    already undone: every item is scored as it stands)."""

    side: np.ndarray
    area: np.ndarray
    answers: np.ndarray


@dataclass
class History:
    """A simulated relationship: its waves and what was planted."""

    waves: list[Wave]
    n_areas: int
    n_dimensions: int = N_DIMENSIONS
    onset: int | None = None
    planted_side: int | None = None  # 0/1; None = both sides
    planted_area: int | None = None  # None = every area
    planted_dimension: int | None = None
    latent: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (side, area, dim, wave)


def simulate_history(
    rng: np.random.Generator,
    scenario: Scenario,
    *,
    n_waves: int = 12,
    n_areas: int = 5,
    n_dimensions: int = N_DIMENSIONS,
    cell_n: tuple[int, int] = (25, 60),
) -> History:
    """Item answers of every respondent of every wave of one relationship.

    A respondent's answer to an item of dimension d is ``rint(mu + a + b_d + e)`` clipped
    to 1..5, with a general person effect ``a ~ N(0, 0.35²)``, a person × dimension effect
    ``b_d ~ N(0, 0.3²)`` and an item error ``e ~ N(0, 0.7²)``: a dimension score (the mean
    of 4 items) then has an SD of about 0.6 and dimensions correlate about 0.4. ``mu`` is
    the cell's level for the dimension (3.2–3.9), plus the wave's shock and any planted
    decline (0.12 a wave from the onset on). Each cell has its own size, drawn once from
    ``cell_n``, and gets within ±15% of it each wave (kept inside ``cell_n``).
    """
    d = n_dimensions
    level = rng.uniform(3.2, 3.9, size=(2, n_areas, d, 1))
    latent = np.repeat(level, n_waves, axis=3)
    if scenario.shocks == "cell":
        latent = latent + rng.normal(0.0, SHOCK_SD, size=latent.shape)
    elif scenario.shocks == "side":
        latent = latent + rng.normal(0.0, SHOCK_SD, size=(2, 1, d, n_waves))
    history = History([], n_areas, n_dimensions=d)
    if scenario.planted != "none":
        onset = int(rng.choice(ONSETS))
        dim = int(rng.integers(d))
        fall = DECLINE * np.maximum(np.arange(n_waves) - onset + 1, 0)
        if scenario.planted == "side":
            side = int(rng.integers(2))
            latent[side, :, dim, :] -= fall
            history.planted_side = side
        else:
            area = int(rng.integers(n_areas))
            latent[:, area, dim, :] -= fall
            history.planted_area = area
        history.onset, history.planted_dimension = onset, dim
    history.latent = latent
    base = rng.integers(cell_n[0], cell_n[1] + 1, size=(2, n_areas))
    for t in range(n_waves):
        wobble = rng.uniform(1.0 - SIZE_WOBBLE, 1.0 + SIZE_WOBBLE, size=base.shape)
        n = np.clip(np.rint(base * wobble), cell_n[0], cell_n[1]).astype(np.int64)
        side = np.repeat(np.repeat([0, 1], n_areas), n.ravel())
        area = np.repeat(np.tile(np.arange(n_areas), 2), n.ravel())
        r = side.size
        mu = latent[side, area, :, t]  # (r, d)
        person = rng.normal(0.0, 0.35, size=(r, 1)) + rng.normal(0.0, 0.3, size=(r, d))
        item_mu = np.repeat(mu + person, ITEMS_PER_DIMENSION, axis=1)
        answers = np.clip(np.rint(item_mu + rng.normal(0.0, 0.7, size=item_mu.shape)), 1, 5)
        history.waves.append(Wave(side, area, answers))
    return history


@dataclass
class Scores:
    """Per-cell n, mean and SD of every score over the waves, shape (n_cells, n_waves).

    Rows are cells ``(side, area, key)`` with side in client / supplier / all, area an
    area index or ``-1`` for all areas, and key a dimension index or ``n_dimensions`` for
    the health index.
    """

    keys: list[tuple[str, int, int]]
    n_dimensions: int
    n: np.ndarray
    mean: np.ndarray
    sd: np.ndarray


def cell_scores(history: History) -> Scores:
    """Score every wave as the service does: half-rule dimension scores, the health index,
    and group aggregates of every side × area level (all sides and all areas included)."""
    d, a = history.n_dimensions, history.n_areas
    item_dimension = np.repeat(np.arange(d), ITEMS_PER_DIMENSION)
    sides = (*SIDES, ALL)
    levels = (*range(a), -1)
    keys = [(s, lv, k) for s in sides for lv in levels for k in range(d + 1)]
    t_n = len(history.waves)
    n = np.zeros((len(keys), t_n))
    mean = np.full((len(keys), t_n), np.nan)
    sd = np.full((len(keys), t_n), np.nan)
    for t, wave in enumerate(history.waves):
        dims = scoring.dimension_scores(wave.answers, item_dimension, d)
        values = np.column_stack([dims, scoring.health_index(dims)])
        blocks = []
        for s_i in range(3):
            side_ok = np.ones(wave.side.size, bool) if s_i == 2 else wave.side == s_i
            codes = np.where(side_ok, wave.area, -1)
            per_area = scoring.group_aggregates(values, codes, a)
            total = scoring.group_aggregates(values, np.where(side_ok, 0, -1), 1)
            for agg in (per_area, total):
                blocks.append((agg.n, agg.mean, agg.sd))
        n[:, t] = np.concatenate([b[0].ravel() for b in blocks])
        mean[:, t] = np.concatenate([b[1].ravel() for b in blocks])
        sd[:, t] = np.concatenate([b[2].ravel() for b in blocks])
    return Scores(keys, d, n, mean, sd)


def _key(k: int, n_dimensions: int) -> str:
    return INDEX if k == n_dimensions else f"dimension-{k}"


def family_inputs(scores: Scores):
    """``means, var, structure`` for :func:`analysis.alerts.assess_family`, with the rows
    named as the service names them."""
    side = [s for s, _, _ in scores.keys]
    area = [AREA_ALL if lv == -1 else f"area-{lv}" for _, lv, _ in scores.keys]
    key = [_key(k, scores.n_dimensions) for _, _, k in scores.keys]
    structure = family_structure(side, area, key, all_sides=ALL, all_areas=AREA_ALL)
    return scores.mean, sampling_variance(scores.sd, scores.n), structure


def truth(history: History, scores: Scores):
    """Per series: ``null`` (true mean never moves), ``planted`` (falls 0.12 a wave)."""
    null = np.ones(len(scores.keys), dtype=bool)
    planted = np.zeros(len(scores.keys), dtype=bool)
    if history.onset is None:
        return null, planted
    dim = history.planted_dimension
    for i, (s, lv, k) in enumerate(scores.keys):
        if k not in (dim, scores.n_dimensions):
            continue
        side_hit = history.planted_side is None or s in (ALL, SIDES[history.planted_side])
        area_hit = history.planted_area is None or lv in (-1, history.planted_area)
        if not (side_hit and area_hit):
            continue
        null[i] = False
        full_side = s != ALL if history.planted_side is not None else True
        full_area = lv != -1 if history.planted_area is not None else True
        planted[i] = k == dim and full_side and full_area
    return null, planted


def gap_inputs(scores: Scores):
    """``gaps, var, structure, keys`` for :func:`analysis.alerts.assess_gap_family`: client −
    supplier per area level and key, as the service's gaps table has them."""
    where = {key: i for i, key in enumerate(scores.keys)}
    var = sampling_variance(scores.sd, scores.n)
    keys = [(lv, k) for s, lv, k in scores.keys if s == SIDES[0]]
    c = np.array([where[(SIDES[0], lv, k)] for lv, k in keys])
    s_ = np.array([where[(SIDES[1], lv, k)] for lv, k in keys])
    gaps = scores.mean[c] - scores.mean[s_]
    area = [AREA_ALL if lv == -1 else f"area-{lv}" for lv, _ in keys]
    structure = gap_structure(area, [_key(k, scores.n_dimensions) for _, k in keys])
    return gaps, var[c] + var[s_], structure, keys


def gap_null(history: History, keys) -> np.ndarray:
    """Gaps whose true size never moves (every gap unless something was planted in it)."""
    if history.onset is None:
        return np.ones(len(keys), dtype=bool)
    hit = {history.planted_dimension, history.n_dimensions}
    area = history.planted_area
    return np.array([not (k in hit and (area is None or lv in (-1, area))) for lv, k in keys])


def old_statuses(scores: Scores) -> np.ndarray:
    """The rules this replaces (:func:`benchmarks.old_rules.classify`: charts from the first four
    wave means), every series and wave, the latest change tested as the service did
    (normal approximation of Welch, Benjamini–Hochberg over the wave's cells)."""
    means = np.round(scores.mean, 12)
    var = sampling_variance(scores.sd, scores.n)
    labels = [f"w{t}" for t in range(means.shape[1])]
    out = np.full(means.shape, "stable", dtype=object)
    for t in range(1, means.shape[1]):
        diff = means[:, t] - means[:, t - 1]
        p = benjamini_hochberg(
            2.0 * stats.norm.sf(np.abs(diff) / np.sqrt(var[:, t] + var[:, t - 1]))
        )
        for i in range(means.shape[0]):
            change = {"difference": diff[i], "p_adjusted": p[i]}
            out[i, t] = classify(
                means[i, : t + 1], labels[: t + 1], points=5, latest_change=change
            ).status
    return out


# ------------------------------------------------------------------------------ measuring


@dataclass
class Tally:
    """Counts over the histories of one scenario."""

    series_waves: int = 0
    false_alarms: int = 0
    series: int = 0
    series_ever: int = 0
    families: int = 0
    families_any: int = 0
    fdp: float = 0.0
    watch: int = 0
    caught: dict = field(default_factory=dict)  # group -> [n, within 2, within 4]
    gap_waves: int = 0
    gap_false: int = 0
    gap_families_any: int = 0
    old_series: int = 0
    old_series_waves: int = 0
    old_false_alarms: int = 0
    old_series_ever: int = 0

    def add_statuses(self, status: np.ndarray, null: np.ndarray) -> None:
        flag = np.isin(status, ("deteriorating", "improving"))[:, 1:]
        self.series_waves += int(null.sum()) * flag.shape[1]
        self.false_alarms += int(flag[null].sum())
        self.series += int(null.sum())
        self.series_ever += int(flag[null].any(axis=1).sum())
        self.families += flag.shape[1]
        self.families_any += int(flag[null].any(axis=0).sum())
        r = flag.sum(axis=0)
        v = flag[null].sum(axis=0)
        self.fdp += float(np.sum(np.where(r > 0, v / np.maximum(r, 1), 0.0)))
        self.watch += int((status[:, 1:] == "watch")[null].sum())

    def add_caught(self, history, scores, status, planted) -> None:
        o = history.onset
        fell = status == "deteriorating"
        for i in np.flatnonzero(planted):
            _, lv, _ = scores.keys[i]
            group = (
                "side totals"
                if lv == -1
                else ("cells >= 60" if scores.n[i, o] >= 60 else "cells < 60")
            )
            row = self.caught.setdefault(group, [0, 0, 0])
            row[0] += 1
            row[1] += bool(fell[i, o : o + 2].any())
            row[2] += bool(fell[i, o : o + 4].any())

    def add_gaps(self, status: np.ndarray, null: np.ndarray) -> None:
        flag = np.isin(status, ("widening", "narrowing"))[:, 1:]
        self.gap_waves += int(null.sum()) * flag.shape[1]
        self.gap_false += int(flag[null].sum())
        self.gap_families_any += int(flag[null].any(axis=0).sum())

    def add_old(self, status: np.ndarray, null: np.ndarray) -> None:
        flag = np.isin(status, ("deteriorating", "improving"))[:, 1:]
        self.old_series += int(null.sum())
        self.old_series_waves += int(null.sum()) * flag.shape[1]
        self.old_false_alarms += int(flag[null].sum())
        self.old_series_ever += int(flag[null].any(axis=1).sum())

    def figures(self) -> dict:
        def share(a, b):
            return round(a / b, 5) if b else None

        out = {
            "false_alarm_series_waves": share(self.false_alarms, self.series_waves),
            "false_alarm_series_ever": share(self.series_ever, self.series),
            "families_with_false_alarm": share(self.families_any, self.families),
            "fdr": share(self.fdp, self.families),
            "watch_share": share(self.watch, self.series_waves),
            "gap_false_alarm_waves": share(self.gap_false, self.gap_waves),
            "gap_families_with_false_alarm": share(self.gap_families_any, self.families),
        }
        for group, (n, two, four) in sorted(self.caught.items()):
            out[f"caught_2_{group}"] = share(two, n)
            out[f"caught_4_{group}"] = share(four, n)
            out[f"planted_{group}"] = n
        if self.old_series_waves:
            out["old_false_alarm_series_waves"] = share(
                self.old_false_alarms, self.old_series_waves
            )
            out["old_false_alarm_series_ever"] = share(self.old_series_ever, self.old_series)
        return out


def assess_history(scores: Scores, **options):
    """Status of every series and gap at every wave (wave t sees waves 0..t)."""
    means, var, structure = family_inputs(scores)
    gaps, gap_var, gap_struct, gap_keys = gap_inputs(scores)
    status = np.full(means.shape, "stable", dtype=object)
    gap_status = np.full(gaps.shape, "stable", dtype=object)
    for t in range(1, means.shape[1]):
        status[:, t] = assess_family(
            means[:, : t + 1], var[:, : t + 1], structure, **options
        ).status
        gap_status[:, t] = assess_gap_family(
            gaps[:, : t + 1], gap_var[:, : t + 1], gap_struct
        ).status
    return status, gap_status, gap_keys


def run_scenario(scenario: Scenario, n_histories: int, seed: int, n_old: int) -> Tally:
    rng = np.random.default_rng([seed, SCENARIOS.index(scenario)])
    tally = Tally()
    for h in range(n_histories):
        history = simulate_history(rng, scenario)
        scores = cell_scores(history)
        status, gap_status, gap_keys = assess_history(scores)
        null, planted = truth(history, scores)
        tally.add_statuses(status, null)
        tally.add_gaps(gap_status, gap_null(history, gap_keys))
        if history.onset is not None:
            tally.add_caught(history, scores, status, planted)
        if h < n_old:
            tally.add_old(old_statuses(scores), null)
    return tally


def time_full_history(seed: int) -> dict:
    """Statuses of 231 series (3 sides × 7 area levels × 11 scores) at each of 40 waves."""
    rng = np.random.default_rng([seed, 99])
    history = simulate_history(rng, SCENARIOS[0], n_waves=40, n_areas=6, n_dimensions=10)
    scores = cell_scores(history)
    means, var, structure = family_inputs(scores)
    assess_family(means[:, :20], var[:, :20], structure)  # tables loaded, caches warm
    start = time.perf_counter()
    for t in range(1, means.shape[1]):
        assess_family(means[:, : t + 1], var[:, : t + 1], structure)
    new = time.perf_counter() - start
    start = time.perf_counter()
    old_statuses(scores)
    old = time.perf_counter() - start
    return {
        "series": means.shape[0],
        "waves": means.shape[1],
        "full_history_s": round(new, 3),
        "old_rules_s": round(old, 3),
        "ratio_to_old": round(new / old, 3),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--histories", type=int, default=200, help="histories per scenario")
    parser.add_argument(
        "--old-histories", type=int, default=20, help="histories the old rules judge"
    )
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--quick", action="store_true", help="20 histories per scenario")
    args = parser.parse_args(argv)
    n = 20 if args.quick else args.histories
    started = time.perf_counter()
    results = {}
    for scenario in SCENARIOS:
        n_old = args.old_histories if scenario.planted == "none" else 0
        figures = run_scenario(scenario, n, args.seed, min(n_old, n)).figures()
        results[scenario.name] = figures
        print(_report(scenario.name, figures), flush=True)
    timing = time_full_history(args.seed)
    print("full history: " + ", ".join(f"{k} {v}" for k, v in timing.items()))
    targets = _targets(results)
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    summary = {
        "benchmark": "alerts_core",
        "histories_per_scenario": n,
        "seed": args.seed,
        "scenarios": results,
        "timing": timing,
        "targets_met": targets,
        "seconds": round(time.perf_counter() - started, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    print(json.dumps(summary))
    return 0


def _targets(results: dict) -> dict:
    flat = [results[k] for k in ("flat", "shocks")]
    caught = [
        v
        for r in results.values()
        for k, v in r.items()
        if k.startswith("caught_4_") and not k.endswith("< 60")
    ]
    return {
        "false_alarms_le_5pct_of_series_waves": all(
            r["false_alarm_series_waves"] <= 0.05 for r in flat
        ),
        "fdr_le_5pct_every_scenario": all(r["fdr"] <= 0.05 for r in results.values()),
        "caught_within_4_ge_95pct": all(v >= 0.95 for v in caught if v is not None),
    }


def _report(name: str, f: dict) -> str:
    def pct(x):
        return "-" if x is None else f"{100 * x:.2f}%"

    lines = [
        f"{name}: false alarms {pct(f['false_alarm_series_waves'])} of series-waves, "
        f"{pct(f['false_alarm_series_ever'])} of series ever; families with any "
        f"{pct(f['families_with_false_alarm'])}, FDR {pct(f['fdr'])}; watch "
        f"{pct(f['watch_share'])}; gaps {pct(f['gap_false_alarm_waves'])} of gap-waves, "
        f"families {pct(f['gap_families_with_false_alarm'])}"
    ]
    if "old_false_alarm_series_waves" in f:
        lines.append(
            f"    old rules: {pct(f['old_false_alarm_series_waves'])} of series-waves, "
            f"{pct(f['old_false_alarm_series_ever'])} of series ever"
        )
    for group in ("side totals", "cells >= 60", "cells < 60"):
        if f"planted_{group}" in f:
            lines.append(
                f"    caught, {group} ({f[f'planted_{group}']} planted): within 2 waves "
                f"{pct(f[f'caught_2_{group}'])}, within 4 {pct(f[f'caught_4_{group}'])}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
