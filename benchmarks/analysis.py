"""Benchmark of the scoring service: a full recompute of a million-response history.

Usage::

    .venv/bin/python benchmarks/analysis.py [--scale F] [--path FILE] [--keep]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/analysis.py --scale 0.05

It writes a synthetic history — ``1,000,000 × F`` responses to a 40-item benchmark instrument
over 40 closed quarterly waves of one relationship (5 service areas), about 4% "don't know"
and 2% skipped answers — into a database (SQLite: a file in a temporary folder, or
``--path``; PostgreSQL with ``DATABASE_URL``: a scratch database created and dropped), then
measures, each in a fresh subprocess so that peak memory (``ru_maxrss``) is the
measurement's own:

``recompute``  :func:`survey_app.services.results.recompute` — read every wave in bulk,
               compute every table and the status over time, persist; timed end to end.
``floor``      the same answers read with the database driver alone into NumPy: the same
               SQL, fetched with ``cursor.fetchmany`` and turned into arrays, nothing else.
``compute``    the computation alone (answers already in memory), as the service does it.
``baseline``   the same statistics the straightforward way: pandas ``groupby`` and one
               SciPy / pingouin / pymannkendall call per group, on the same in-memory data.

and compares the two computations (``max_abs_diff`` over every statistic both produce).
The last line printed is one JSON object with the figures.

The straightforward implementation below (``reference_*``) doubles as the independent
check of the service's tables in ``tests/test_scoring_service.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: its folder would shadow the `analysis` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from analysis import status as status_rules  # noqa: E402
from analysis import trends as trend_results  # noqa: E402

SIDES = ("client", "supplier")
ALL = "all"
AREA_ALL = "_all"
AREA_NONE = "_none"
INDEX = "index"
#: As the service: indices, and the wave means and changes the status rules compare, are
#: rounded to 12 decimals so that values equal in exact arithmetic tie in floating point.
TIE_DECIMALS = 12

# ============================================================================ reference


@dataclass(frozen=True)
class Spec:
    """What the reference needs from an instrument, in plain Python."""

    items: list[str]
    item_dimension: list[str]
    reverse: list[bool]
    dimensions: list[str]
    titles: list[str]
    weights: list[float]
    outcome: list[bool]
    points: int
    favourable: tuple[int, ...]
    unfavourable: tuple[int, ...]
    strength: float
    concern: float

    @classmethod
    def of(cls, instrument: Any) -> Spec:
        return cls(
            items=[i.key for i in instrument.items],
            item_dimension=[i.dimension for i in instrument.items],
            reverse=[i.reverse for i in instrument.items],
            dimensions=[d.key for d in instrument.dimensions],
            titles=[d.title for d in instrument.dimensions],
            weights=[d.weight for d in instrument.dimensions],
            outcome=[d.outcome for d in instrument.dimensions],
            points=instrument.scale.points,
            favourable=tuple(instrument.scale.favourable),
            unfavourable=tuple(instrument.scale.unfavourable),
            strength=instrument.bands.strength,
            concern=instrument.bands.concern,
        )

    def items_of(self, dimension: str) -> list[str]:
        if dimension == INDEX:
            return list(self.items)
        return [i for i, d in zip(self.items, self.item_dimension, strict=True) if d == dimension]


def reference_frame(
    x: np.ndarray,
    dont_know: np.ndarray,
    side: Sequence[str],
    area: Sequence[str | None],
    spec: Spec,
) -> pd.DataFrame:
    """One row per response: side, area key (``_none`` when absent), raw answers, dk flags."""
    frame = pd.DataFrame(np.asarray(x, dtype=float), columns=spec.items)
    for j, item in enumerate(spec.items):
        frame["dk:" + item] = np.asarray(dont_know)[:, j]
    frame.insert(0, "area", [a if a is not None else AREA_NONE for a in area])
    frame.insert(0, "side", list(side))
    return frame


def reference_scores(frame: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """Reverse-keyed answers, dimension scores (half rule) and the index, the plain way."""
    out = frame[["side", "area"]].copy()
    scored = frame[spec.items].copy()
    for item, rev in zip(spec.items, spec.reverse, strict=True):
        if rev:
            scored[item] = spec.points + 1 - scored[item]
    for item in spec.items:
        out["x:" + item] = scored[item]
    for d in spec.dimensions:
        cols = spec.items_of(d)
        answered = scored[cols].notna().sum(axis=1)
        need = max(math.ceil(len(cols) / 2), 1)
        out[d] = scored[cols].mean(axis=1).where(answered >= need)
    dims = out[spec.dimensions]
    weights = pd.Series(spec.weights, index=spec.dimensions)
    present = dims.notna()
    num = (dims.fillna(0.0) * weights).sum(axis=1)
    den = (present * weights).sum(axis=1)
    ok = (present.sum(axis=1) >= max(math.ceil(len(spec.dimensions) / 2), 1)) & (den > 0)
    out[INDEX] = (num / den).where(ok).round(TIE_DECIMALS)
    return out


def _cube(frame: pd.DataFrame) -> pd.DataFrame:
    """Every response four times: its cell and the three margins."""
    return pd.concat(
        [
            frame,
            frame.assign(side=ALL),
            frame.assign(area=AREA_ALL),
            frame.assign(side=ALL, area=AREA_ALL),
        ],
        ignore_index=True,
    )


def _t_interval(v: np.ndarray) -> tuple[float, float]:
    n = v.size
    if n < 2:
        return math.nan, math.nan
    sd = v.std(ddof=1)
    if not sd > 1e-10 * max(1.0, abs(v.mean())):
        return math.nan, math.nan
    return stats.t.interval(0.95, n - 1, loc=v.mean(), scale=sd / math.sqrt(n))


def _shares(values: np.ndarray, spec: Spec) -> tuple[int, float, float, float]:
    n = values.size
    if n == 0:
        return 0, math.nan, math.nan, math.nan
    fav = np.isin(values, spec.favourable).sum()
    unfav = np.isin(values, spec.unfavourable).sum()
    return n, 100.0 * fav / n, 100.0 * (n - fav - unfav) / n, 100.0 * unfav / n


def _rwg(block: pd.DataFrame, points: int) -> tuple[float, float]:
    variances, deviations = [], []
    for item in block.columns:
        v = block[item].dropna().to_numpy()
        if v.size >= 2:
            variances.append(v.var(ddof=1))
            deviations.append(np.abs(v - v.mean()).mean())
    if not variances:
        return math.nan, math.nan
    j = len(variances)
    ratio = np.mean(variances) / ((points**2 - 1) / 12.0)
    rwg = 0.0 if ratio > 1 else j * (1 - ratio) / (j * (1 - ratio) + ratio)
    return rwg, float(np.mean(deviations))


def _icc(values: pd.Series, groups: pd.Series) -> tuple[float, float]:
    data = pd.DataFrame({"v": values, "g": groups}).dropna()
    stats_by_group = data.groupby("g")["v"].agg(["count", "mean", "var"])
    k, big_n = len(stats_by_group), len(data)
    if k < 2 or big_n - k < 1:
        return math.nan, math.nan
    grand = data["v"].mean()
    ssb = (stats_by_group["count"] * (stats_by_group["mean"] - grand) ** 2).sum()
    ssw = ((stats_by_group["count"] - 1) * stats_by_group["var"].fillna(0.0)).sum()
    msb, msw = ssb / (k - 1), ssw / (big_n - k)
    if math.sqrt((ssb + ssw) / big_n) <= 1e-10 * max(1.0, abs(grand)):
        return math.nan, math.nan
    k0 = (big_n - (stats_by_group["count"] ** 2).sum() / big_n) / (k - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        icc1 = (msb - msw) / (msb + (k0 - 1) * msw)
        icc2 = (msb - msw) / np.float64(msb)
    return (float(v) if np.isfinite(v) else math.nan for v in (icc1, icc2))


def _hedges(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    n1, n2 = a.size, b.size
    if n1 < 2 or n2 < 2:
        return math.nan, math.nan, math.nan
    sp2 = ((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2)
    if not sp2 > 0:
        return math.nan, math.nan, math.nan
    g = (a.mean() - b.mean()) / math.sqrt(sp2) * (1 - 3 / (4 * (n1 + n2) - 9))
    se = math.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2)))
    crit = stats.t.ppf(0.975, n1 + n2 - 2)
    return g, g - crit * se, g + crit * se


def _welch_p(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 2 or b.size < 2 or (a.var(ddof=1) == 0 and b.var(ddof=1) == 0):
        return math.nan
    with warnings.catch_warnings():  # SciPy warns when one group is constant; p is still right
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def _bh(p: pd.Series) -> pd.Series:
    out = pd.Series(np.nan, index=p.index)
    ok = p.notna()
    if ok.any():
        out[ok] = stats.false_discovery_control(p[ok].to_numpy(), method="bh")
    return out


def reference_wave(
    frame: pd.DataFrame,
    spec: Spec,
    *,
    previous: pd.DataFrame | None = None,
    previous_gaps: pd.DataFrame | None = None,
    tables: Sequence[str] = ("scores", "items", "reliability", "gaps", "drivers"),
) -> dict[str, pd.DataFrame]:
    """The per-wave tables, computed group by group (pandas groupby + SciPy / pingouin).

    ``frame`` is :func:`reference_frame`; ``previous`` the previous wave's frame (for the
    change between waves) and ``previous_gaps`` its ``gaps`` table (for the gap change).
    Returns ``scores``, ``items``, ``reliability``, ``gaps`` and ``drivers`` (or the
    ``tables`` asked for), keyed as the service's tables.
    """
    scored = reference_scores(frame, spec)
    prev_scored = reference_scores(previous, spec) if previous is not None else None
    makers = {
        "scores": lambda: _reference_scores_table(scored, spec, prev_scored),
        "items": lambda: _reference_items_table(frame, scored, spec),
        "reliability": lambda: _reference_reliability_table(scored, spec),
        "gaps": lambda: _reference_gaps_table(scored, spec, previous_gaps),
        "drivers": lambda: _reference_drivers_table(scored, spec),
    }
    with warnings.catch_warnings():  # SciPy warns on constant groups; results are still right
        warnings.simplefilter("ignore", RuntimeWarning)
        return {name: makers[name]() for name in tables}


def _reference_scores_table(
    scored: pd.DataFrame, spec: Spec, prev_scored: pd.DataFrame | None
) -> pd.DataFrame:
    score_keys = [*spec.dimensions, INDEX]
    cube = _cube(scored)
    prev_groups = (
        dict(iter(_cube(prev_scored).groupby(["side", "area"], sort=False)))
        if prev_scored is not None
        else None
    )
    rows = []
    for (side, area), group in cube.groupby(["side", "area"], sort=False):
        for d in score_keys:
            v = group[d].dropna().to_numpy()
            lo, hi = _t_interval(v)
            answers = group[["x:" + i for i in spec.items_of(d)]].to_numpy().ravel()
            n_ans, fav, neu, unf = _shares(answers[~np.isnan(answers)], spec)
            rwg = ad = math.nan
            if area != AREA_ALL and d != INDEX:
                rwg, ad = _rwg(group[["x:" + i for i in spec.items_of(d)]], spec.points)
            row = {
                "side": side, "area": area, "dimension": d, "n": v.size,
                "mean": v.mean() if v.size else math.nan,
                "sd": v.std(ddof=1) if v.size >= 2 else math.nan,
                "ci_low": lo, "ci_high": hi,
                "score100": (v.mean() - 1) / (spec.points - 1) * 100 if v.size else math.nan,
                "n_answers": n_ans, "favourable_pct": fav, "neutral_pct": neu,
                "unfavourable_pct": unf, "rwg": rwg, "ad": ad,
            }  # fmt: skip
            if prev_groups is not None:
                prev_group = prev_groups.get((side, area))
                p = prev_group[d].dropna().to_numpy() if prev_group is not None else np.zeros(0)
                row["change"] = v.mean() - p.mean() if v.size and p.size else math.nan
                row["change_g"] = _hedges(v, p)[0]
                row["change_p"] = _welch_p(v, p)
            rows.append(row)
    scores = pd.DataFrame(rows)
    if prev_groups is not None:
        scores["change_p_adjusted"] = _bh(scores["change_p"])
    icc_rows = []
    by_side_groups = dict(iter(scored.groupby("side", sort=False)))
    for side in (*SIDES, ALL):
        part = scored if side == ALL else by_side_groups.get(side, scored.iloc[:0])
        part = part[part.area != AREA_NONE]
        for d in score_keys:
            icc1, icc2 = _icc(part[d], part["area"])
            icc_rows.append(
                {"side": side, "area": AREA_ALL, "dimension": d, "icc1": icc1, "icc2": icc2}
            )
    scores = scores.merge(pd.DataFrame(icc_rows), on=["side", "area", "dimension"], how="left")

    return scores


def _reference_items_table(frame: pd.DataFrame, scored: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    cube = _cube(scored)
    dk_cube = _cube(frame[["side", "area"] + ["dk:" + i for i in spec.items]])
    rows = []
    dk_groups = dict(iter(dk_cube.groupby(["side", "area"], sort=False)))
    for (side, area), group in cube.groupby(["side", "area"], sort=False):
        dk = dk_groups[(side, area)]
        for item in spec.items:
            v = group["x:" + item].dropna().to_numpy()
            lo, hi = _t_interval(v)
            n_ans, fav, neu, unf = _shares(v, spec)
            rows.append(
                {
                    "side": side,
                    "area": area,
                    "item": item,
                    "n": v.size,
                    "mean": v.mean() if v.size else math.nan,
                    "sd": v.std(ddof=1) if v.size >= 2 else math.nan,
                    "ci_low": lo,
                    "ci_high": hi,
                    "favourable_pct": fav,
                    "neutral_pct": neu,
                    "unfavourable_pct": unf,
                    "n_dont_know": int(dk["dk:" + item].sum()),
                }  # fmt: skip
            )
    items = pd.DataFrame(rows)

    return items


def _reference_reliability_table(scored: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    import pingouin

    by_side_groups = dict(iter(scored.groupby("side", sort=False)))
    rows = []
    for side in (*SIDES, ALL):
        part = scored if side == ALL else by_side_groups.get(side, scored.iloc[:0])
        for d in spec.dimensions:
            cols = ["x:" + i for i in spec.items_of(d)]
            complete = part[cols].dropna()
            n, k = complete.shape
            if n < 2:
                continue
            alpha = pingouin.cronbach_alpha(complete)[0]
            df1, df2 = n - 1, (n - 1) * (k - 1)
            rows.append(
                {
                    "side": side,
                    "dimension": d,
                    "item": None,
                    "n_complete": n,
                    "alpha": alpha,
                    "ci_low": 1 - (1 - alpha) * stats.f.ppf(0.975, df1, df2),
                    "ci_high": 1 - (1 - alpha) * stats.f.ppf(0.025, df1, df2),
                }  # fmt: skip
            )
            for c in cols:
                rest = complete.drop(columns=c).sum(axis=1)
                deleted = (
                    pingouin.cronbach_alpha(complete.drop(columns=c))[0] if k >= 3 else math.nan
                )
                rows.append(
                    {
                        "side": side,
                        "dimension": d,
                        "item": c[2:],
                        "n_complete": n,
                        "item_rest_r": np.corrcoef(complete[c], rest)[0, 1],
                        "alpha_if_deleted": deleted,
                    }  # fmt: skip
                )
    reliability = pd.DataFrame(rows)

    return reliability


def _reference_gaps_table(
    scored: pd.DataFrame, spec: Spec, previous_gaps: pd.DataFrame | None
) -> pd.DataFrame:
    score_keys = [*spec.dimensions, INDEX]
    rows = []
    by_side = scored.assign(area=scored.area)
    by_side = pd.concat([by_side, by_side.assign(area=AREA_ALL)], ignore_index=True)
    empty = scored.iloc[:0]
    for area, group in by_side.groupby("area", sort=False):
        halves = dict(iter(group.groupby("side", sort=False)))
        client, supplier = halves.get("client", empty), halves.get("supplier", empty)
        for d in score_keys:
            c = client[d].dropna().to_numpy()
            s = supplier[d].dropna().to_numpy()
            row = {
                "area": area, "dimension": d, "n_client": c.size, "n_supplier": s.size,
                "mean_client": c.mean() if c.size else math.nan,
                "mean_supplier": s.mean() if s.size else math.nan,
                "sd_client": c.std(ddof=1) if c.size >= 2 else math.nan,
                "sd_supplier": s.std(ddof=1) if s.size >= 2 else math.nan,
            }  # fmt: skip
            row["difference"] = row["mean_client"] - row["mean_supplier"]
            g, glo, ghi = _hedges(c, s)
            row.update(g=g, g_ci_low=glo, g_ci_high=ghi, welch_p=_welch_p(c, s))
            if c.size >= 2 and s.size >= 2:
                mw = stats.mannwhitneyu(c, s, alternative="two-sided", method="asymptotic")
                row.update(
                    mw_u=float(mw.statistic),
                    mw_p=float(mw.pvalue),
                    cliffs_delta=2 * float(mw.statistic) / (c.size * s.size) - 1,
                )
            else:
                row.update(mw_u=math.nan, mw_p=math.nan, cliffs_delta=math.nan)
            rows.append(row)
    gaps = pd.DataFrame(rows)
    gaps["p_adjusted"] = _bh(gaps["welch_p"])
    big = (gaps["difference"].abs() >= 0.5) | (gaps["g"].abs() >= 0.5)
    gaps["material"] = (gaps["p_adjusted"] < 0.05) & big
    if previous_gaps is not None:
        prev = previous_gaps.set_index(["area", "dimension"])
        changes = []
        for _, row in gaps.iterrows():
            key = (row["area"], row["dimension"])
            if key not in prev.index:
                changes.append((math.nan, math.nan))
                continue
            p = prev.loc[key]
            terms = [
                (p["sd_client"] ** 2 / p["n_client"], p["n_client"]),
                (p["sd_supplier"] ** 2 / p["n_supplier"], p["n_supplier"]),
                (row["sd_client"] ** 2 / row["n_client"], row["n_client"]),
                (row["sd_supplier"] ** 2 / row["n_supplier"], row["n_supplier"]),
            ]
            se2 = sum(t for t, _ in terms)
            change = row["difference"] - p["difference"]
            if not (np.isfinite(se2) and se2 > 0 and np.isfinite(change)):
                changes.append((change, math.nan))
                continue
            df = se2**2 / sum(t**2 / (n - 1) for t, n in terms)
            changes.append((change, 2 * stats.t.sf(abs(change / math.sqrt(se2)), df)))
        gaps["gap_change"] = [c for c, _ in changes]
        gaps["gap_change_p"] = [p for _, p in changes]
        gaps["gap_change_p_adjusted"] = _bh(gaps["gap_change_p"])

    return gaps


def _reference_drivers_table(scored: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    non_outcome = [d for d, o in zip(spec.dimensions, spec.outcome, strict=True) if not o]
    w = pd.Series(spec.weights, index=spec.dimensions)[non_outcome]
    dims = scored[non_outcome]
    present = dims.notna()
    ok = (present.sum(axis=1) >= max(math.ceil(len(non_outcome) / 2), 1)) & (
        (present * w).sum(axis=1) > 0
    )
    scored_plus = scored.assign(
        _outcome_index=((dims.fillna(0) * w).sum(axis=1) / (present * w).sum(axis=1)).where(ok)
    )
    outcomes = [(INDEX, "_outcome_index")] + [
        (d, d) for d, o in zip(spec.dimensions, spec.outcome, strict=True) if o
    ]
    rows = []
    for (side, area), group in _cube(scored_plus).groupby(["side", "area"], sort=False):
        for outcome, column in outcomes:
            for d in spec.dimensions:
                if d == outcome:
                    continue
                pair = group[[d, column]].dropna()
                n = len(pair)
                r = lo = hi = p = math.nan
                if n >= 25 and pair[d].std() > 0 and pair[column].std() > 0:
                    res = stats.pearsonr(pair[d], pair[column])
                    ci = res.confidence_interval(0.95)
                    r, p, lo, hi = res.statistic, res.pvalue, ci.low, ci.high
                rows.append(
                    {"side": side, "area": area, "outcome": outcome, "dimension": d, "n": n,
                     "r": r, "ci_low": lo, "ci_high": hi, "p": p}
                )  # fmt: skip
    drivers = pd.DataFrame(rows)
    return drivers


def _reference_charts(y: np.ndarray, baseline: int = 4):
    """EWMA (λ = 0.3, L = 3) and lower / upper CUSUM (k = σ/2, h = 4σ) by plain loops."""
    obs = ~np.isnan(y)
    y_obs = y[obs]
    nan = np.full(y.shape, np.nan)
    no = np.zeros(y.shape, dtype=bool)
    take = y_obs[:baseline]
    if take.size < 3:
        reason = "needs at least 3 baseline waves"
        return (
            trend_results.EWMAResult(nan, math.nan, math.nan, nan, nan, no, no, 0.3, 3.0, reason),
            trend_results.CUSUMResult(nan, math.nan, math.nan, math.nan, math.nan, no, "lower", reason),
            trend_results.CUSUMResult(nan, math.nan, math.nan, math.nan, math.nan, no, "upper", reason),
        )  # fmt: skip
    mu, sd = float(pd.Series(take).mean()), float(pd.Series(take).std(ddof=1))
    if not sd > 0:
        reason = "the baseline waves do not vary"
        return (
            trend_results.EWMAResult(nan, mu, math.nan, nan, nan, no, no, 0.3, 3.0, reason),
            trend_results.CUSUMResult(nan, math.nan, math.nan, mu, math.nan, no, "lower", reason),
            trend_results.CUSUMResult(nan, math.nan, math.nan, mu, math.nan, no, "upper", reason),
        )  # fmt: skip
    z, lower, upper = nan.copy(), nan.copy(), nan.copy()
    c_low, c_high = nan.copy(), nan.copy()
    prev, lo_acc, hi_acc = mu, 0.0, 0.0
    for t, i in enumerate(np.flatnonzero(obs), start=1):
        prev = 0.3 * y[i] + 0.7 * prev
        half = 3.0 * sd * math.sqrt(0.3 / 1.7 * (1 - 0.7 ** (2 * t)))
        z[i], lower[i], upper[i] = prev, mu - half, mu + half
        lo_acc = max(0.0, lo_acc + (mu - sd / 2) - y[i])
        hi_acc = max(0.0, hi_acc + y[i] - (mu + sd / 2))
        c_low[i], c_high[i] = lo_acc, hi_acc
    return (
        trend_results.EWMAResult(z, mu, sd, lower, upper, obs & (z < lower), obs & (z > upper), 0.3, 3.0, ""),
        trend_results.CUSUMResult(c_low, 4 * sd, sd / 2, mu, sd, obs & (c_low > 4 * sd), "lower", ""),
        trend_results.CUSUMResult(c_high, 4 * sd, sd / 2, mu, sd, obs & (c_high > 4 * sd), "upper", ""),
    )  # fmt: skip


def _reference_mk(y: np.ndarray):
    import pymannkendall

    obs = y[~np.isnan(y)]
    if obs.size < 5:
        nan = math.nan
        return trend_results.MannKendallResult(
            nan, nan, nan, nan, nan, "not tested", obs.size, "needs at least 5 waves"
        )
    res = pymannkendall.original_test(obs)
    return trend_results.MannKendallResult(
        float(res.s), float(res.var_s), float(res.z), float(res.p), float(res.Tau),
        res.trend, obs.size, "",
    )  # fmt: skip


def _reference_ts(y: np.ndarray):
    x = np.arange(y.size, dtype=float)
    ok = ~np.isnan(y)
    if ok.sum() < 3:
        nan = math.nan
        return trend_results.TheilSenResult(
            nan, nan, nan, nan, int(ok.sum()), "needs at least 3 waves"
        )
    res = stats.theilslopes(y[ok], x[ok])
    return trend_results.TheilSenResult(
        float(res.slope), float(res.intercept), float(res.low_slope), float(res.high_slope),
        int(ok.sum()), "",
    )  # fmt: skip


def reference_status(
    means: np.ndarray,
    labels: Sequence[str],
    *,
    points: int,
    change: float | None,
    change_p_adjusted: float | None,
    band: str | None,
    subject: str,
):
    """Status of one series of wave means: every input computed the plain way (pymannkendall,
    scipy.stats.theilslopes, loops for EWMA and CUSUM) and the rule of DESIGN §4.12 applied
    by :func:`analysis.status.classify`. Returns the StatusResult and the trend inputs."""
    means = np.round(np.asarray(means, dtype=float), TIE_DECIMALS)
    mk = _reference_mk(means)
    ts = _reference_ts(means)
    ewma, low, high = _reference_charts(means)
    latest = None
    if change is not None and not math.isnan(change):
        p = math.nan if change_p_adjusted is None else change_p_adjusted
        latest = {"difference": round(change, TIE_DECIMALS), "p_adjusted": p}
    result = status_rules.classify(
        means, list(labels), points=points, latest_change=latest, mk=mk, ts=ts, ewma=ewma,
        cusum=low, cusum_high=high, band=band, subject=subject,
    )  # fmt: skip
    return result, mk, ts


def reference_gap_alert(series: np.ndarray, labels: Sequence[str], p: float | None, subject: str):
    """Gap-widening alert with the trend of the gap from pymannkendall."""
    series = np.round(np.asarray(series, dtype=float), TIE_DECIMALS)
    return status_rules.gap_widening(
        series, list(labels), p, subject=subject, mk=_reference_mk(series)
    )


# ============================================================================ comparison


def compare(
    ours: Sequence[dict[str, Any]] | pd.DataFrame,
    reference: pd.DataFrame,
    keys: Sequence[str],
    columns: Sequence[str],
) -> tuple[float, int]:
    """Largest absolute difference over ``columns`` of rows matched on ``keys``.

    Returns ``(max_abs_diff, mismatches)``: ``mismatches`` counts cells where one side is
    NaN / missing and the other a number, and reference rows with no match.
    """
    left = pd.DataFrame(list(ours)) if not isinstance(ours, pd.DataFrame) else ours
    merged = reference.merge(left, on=list(keys), how="left", suffixes=("_ref", ""), indicator=True)
    mismatches = int((merged["_merge"] != "both").sum())
    worst = 0.0
    for c in columns:
        a = pd.to_numeric(merged[c + "_ref"], errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(merged[c], errors="coerce").to_numpy(dtype=float)
        both = ~np.isnan(a) & ~np.isnan(b)
        mismatches += int((np.isnan(a) != np.isnan(b)).sum())
        if both.any():
            worst = max(worst, float(np.max(np.abs(a[both] - b[both]))))
    return worst, mismatches


# ============================================================================ the history

N_WAVES = 40
N_AREAS = 5
N_DIMENSIONS = 10
ITEMS_PER_DIMENSION = 4
RELATIONSHIP = "Benchmark Council — Benchmark Supplier"


def benchmark_instrument_yaml() -> str:
    """A 40-item instrument: 10 dimensions of 4 items (the 4th reverse-keyed), the last one
    the outcome; "don't know" allowed on every item."""
    lines = [
        "key: benchmark",
        "version: 1",
        "title: Benchmark survey",
        "minutes: 10",
        "placeholders: [partner]",
        "scale:",
        "  points: 5",
        "  labels: [Strongly disagree, Disagree, Neither, Agree, Strongly agree]",
        "  favourable: [4, 5]",
        "  unfavourable: [1, 2]",
        "dimensions:",
    ]
    for d in range(N_DIMENSIONS):
        lines += [f"  - key: d{d}", f"    title: Dimension {d}"]
        if d == N_DIMENSIONS - 1:
            lines.append("    outcome: true")
    lines.append("items:")
    for d in range(N_DIMENSIONS):
        for j in range(ITEMS_PER_DIMENSION):
            lines += [
                f"  - key: d{d}i{j}",
                f"    dimension: d{d}",
                f"    reverse: {'true' if j == ITEMS_PER_DIMENSION - 1 else 'false'}",
                "    dont_know: true",
                "    wording:",
                f"      client: 'Statement {d}.{j} about {{partner}}.'",
                f"      supplier: 'Statement {d}.{j} about {{partner}}.'",
            ]
    return "\n".join(lines) + "\n"


def _wave_answers(rng: np.random.Generator, n: int, t: int) -> dict[str, np.ndarray]:
    """Synthetic answers of one wave: sides, areas, and values with a story (some dimensions
    drift down over the waves, areas and sides differ), 4% don't know, 2% skipped."""
    n_items = N_DIMENSIONS * ITEMS_PER_DIMENSION
    side = (rng.random(n) < 0.45).astype(np.int64)  # 1 = supplier
    area = rng.integers(-1, N_AREAS, n)  # -1: no area
    dim_mean = 3.7 - 0.02 * t * (np.arange(N_DIMENSIONS) % 3 == 0)
    latent = (
        dim_mean[np.arange(n_items) // ITEMS_PER_DIMENSION][None, :]
        + 0.25 * side[:, None]
        - 0.15 * np.where(area >= 3, 1, 0)[:, None]
        + rng.normal(0, 0.5, (n, 1))
        + rng.normal(0, 0.8, (n, n_items))
    )
    value = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    reverse = (np.arange(n_items) % ITEMS_PER_DIMENSION) == ITEMS_PER_DIMENSION - 1
    value[:, reverse] = 6 - value[:, reverse]
    u = rng.random((n, n_items))
    return {"side": side, "area": area, "value": value, "dont_know": u < 0.04, "skipped": u > 0.98}


def _uuid_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw


def generate_history(app: Any, scale: float, seed: int = 2024) -> tuple[int, int]:
    """Write the synthetic history into the app's (migrated, empty) database.

    Returns (responses, answers). Waves are created through the service layer (so their
    instrument is frozen as usual) and marked closed without computing results; responses
    and answers go in with the driver's bulk paths (executemany on SQLite, COPY on
    PostgreSQL).
    """
    import datetime as dt

    from survey_app.extensions import db
    from survey_app.services.relationships import create_relationship
    from survey_app.services.waves import create_wave

    rng = np.random.default_rng(seed)
    per_wave = max(int(round(1_000_000 * scale / N_WAVES)), 10)
    with app.app_context():
        rel = create_relationship(
            RELATIONSHIP,
            client="Benchmark Council",
            supplier="Benchmark Supplier",
            service_areas=[f"Area {i + 1}" for i in range(N_AREAS)],
        )
        area_ids = [a.id for a in rel.service_areas]
        waves = []
        for t in range(N_WAVES):
            year, quarter = 2003 + t // 4, t % 4 + 1
            wave = create_wave(
                rel, f"{year}-Q{quarter}", instrument_key="benchmark", actor="benchmark"
            )
            wave.state = "closed"
            wave.opened_at = dt.datetime(year, 3 * quarter - 2, 2, 9)
            wave.closed_at = wave.opened_at + dt.timedelta(days=40)
            waves.append((wave.id, wave.instrument_version_id))
        db.session.commit()
        engine = db.engine
        dialect = engine.dialect.name
        raw = engine.raw_connection()
        total_answers = 0
        if dialect == "sqlite":
            raw.cursor().execute("PRAGMA cache_size=-1000000")  # 1 GB while loading
        try:
            for t, (wave_id, version_id) in enumerate(waves):
                data = _wave_answers(rng, per_wave, t)
                ids = _uuid_bytes(rng, per_wave)
                if dialect == "sqlite":
                    total_answers += _insert_sqlite(raw, wave_id, version_id, area_ids, ids, data)
                else:
                    total_answers += _copy_postgres(raw, wave_id, version_id, area_ids, ids, data)
            raw.commit()
            cursor = raw.cursor()
            cursor.execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()
        return per_wave * N_WAVES, total_answers


def _insert_sqlite(raw, wave_id, version_id, area_ids, ids, data) -> int:  # type: ignore[no-untyped-def]
    # Insert in key order: random keys into a B-tree otherwise cost a page split each.
    order = np.lexsort(ids.T[::-1])
    ids = ids[order]
    data = {k: v[order] for k, v in data.items()}
    hexes = [bytes(row).hex() for row in ids]
    sides = np.where(data["side"] == 1, "supplier", "client").tolist()
    areas = [area_ids[a] if a >= 0 else None for a in data["area"].tolist()]
    cursor = raw.cursor()
    # The app's connections leave transactions to SQLAlchemy (pysqlite autocommit): without
    # an explicit transaction every row would be committed on its own.
    cursor.execute("BEGIN")
    cursor.executemany(
        "INSERT INTO responses (id, wave_id, instrument_version_id, side, service_area_id,"
        " role_level) VALUES (?, ?, ?, ?, ?, ?)",
        zip(hexes, [wave_id] * len(hexes), [version_id] * len(hexes), sides, areas,
            ["staff"] * len(hexes), strict=True),
    )  # fmt: skip
    keep = ~data["skipped"]
    rows, items = np.nonzero(keep)
    values = np.where(data["dont_know"], -1, data["value"])[rows, items]
    value_list = [None if v < 0 else v for v in values.tolist()]
    cursor.executemany(
        "INSERT INTO answers (response_id, item_no, value) VALUES (?, ?, ?)",
        zip([hexes[r] for r in rows.tolist()], items.tolist(), value_list, strict=True),
    )
    cursor.execute("COMMIT")
    return int(rows.size)


def _copy_postgres(raw, wave_id, version_id, area_ids, ids, data) -> int:  # type: ignore[no-untyped-def]
    """Binary COPY built with NumPy: fixed-width records, so no Python loop per row."""
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    trailer = (-1).to_bytes(2, "big", signed=True)
    area = data["area"]
    with_area = area >= 0
    driver = raw.driver_connection
    with driver.cursor() as cursor:
        for side_code, side_name in ((0, b"client"), (1, b"supplier")):
            for has_area in (True, False):  # fixed-width records: one COPY per shape
                pick = np.flatnonzero((with_area == has_area) & (data["side"] == side_code))
                fields = [("nf", ">i2"), ("l_id", ">i4"), ("id", "V16"), ("l_w", ">i4"),
                          ("w", ">i4"), ("l_v", ">i4"), ("v", ">i4"), ("l_s", ">i4"),
                          ("s", f"S{len(side_name)}")]  # fmt: skip
                if has_area:
                    fields += [("l_a", ">i4"), ("a", ">i4")]
                rec = np.zeros(pick.size, dtype=fields)
                rec["nf"] = 4 + has_area
                rec["l_id"], rec["id"] = 16, ids[pick].view("V16")[:, 0]
                rec["l_w"], rec["w"] = 4, wave_id
                rec["l_v"], rec["v"] = 4, version_id
                rec["l_s"], rec["s"] = len(side_name), side_name
                if has_area:
                    rec["l_a"], rec["a"] = 4, np.asarray(area_ids)[area[pick]]
                columns = "id, wave_id, instrument_version_id, side" + (
                    ", service_area_id" if has_area else ""
                )
                with cursor.copy(
                    f"COPY responses ({columns}) FROM STDIN WITH (FORMAT binary)"
                ) as copy:
                    copy.write(header + rec.tobytes() + trailer)
        keep = ~data["skipped"]
        total = 0
        for dont_know in (False, True):
            rows, items = np.nonzero(keep & (data["dont_know"] == dont_know))
            fields = [("nf", ">i2"), ("l_id", ">i4"), ("id", "V16"), ("l_i", ">i4"), ("i", ">i2"),
                      ("l_v", ">i4")]  # fmt: skip
            if not dont_know:
                fields.append(("v", ">i2"))
            rec = np.zeros(rows.size, dtype=fields)
            rec["nf"] = 3
            rec["l_id"], rec["id"] = 16, ids[rows].view("V16")[:, 0]
            rec["l_i"], rec["i"] = 2, items
            if dont_know:
                rec["l_v"] = -1
            else:
                rec["l_v"], rec["v"] = 2, data["value"][rows, items]
            with cursor.copy(
                "COPY answers (response_id, item_no, value) FROM STDIN WITH (FORMAT binary)"
            ) as copy:
                copy.write(header + rec.tobytes() + trailer)
            total += rows.size
    return int(total)


# ============================================================================ measurements


def _peak_mb() -> float:
    """Peak resident memory of this process in MB.

    Linux's ``VmHWM`` is the high-water mark of this process's own address space, so it
    starts afresh in each measurement subprocess (``ru_maxrss`` would carry over the
    parent's size across ``exec``); elsewhere ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    scale = 1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def _make_app(url: str, instruments: str, instance: str) -> Any:
    os.environ["RELHEALTH_INSTANCE_PATH"] = instance
    from survey_app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "benchmark-only",
            "INSTRUMENTS_DIR": instruments,
            "SQLITE_BUSY_TIMEOUT_MS": 600_000,
        }
    )


def measure_recompute(app: Any) -> dict[str, Any]:
    """Full recompute (read, compute, persist), as ``relhealth recompute`` does it."""
    from survey_app.extensions import db
    from survey_app.services.relationships import get_relationship
    from survey_app.services.results import recompute

    with app.app_context():
        rel = get_relationship(RELATIONSHIP)
        began = time.perf_counter()
        summary = recompute(rel)
        db.session.commit()
        seconds = time.perf_counter() - began
    return {"recompute_s": seconds, "waves": len(summary.waves), "peak_mb": _peak_mb()}


def measure_floor(app: Any) -> dict[str, Any]:
    """The same answers, read with the bare driver into NumPy: the loader's two statements
    for every wave, executed on a DBAPI connection of its own and fetched in batches into
    integer arrays (no unpacking, no grid)."""
    from itertools import chain

    from survey_app.extensions import db
    from survey_app.services.relationships import get_relationship
    from survey_app.services.results import answer_statements, closed_waves

    with app.app_context():
        rel = get_relationship(RELATIONSHIP)
        wave_ids = [w.id for w in closed_waves(rel)]
        dialect = db.engine.dialect
        url = db.engine.url
        compiled = []
        for width, statement in zip((5, 1), answer_statements(wave_ids), strict=True):
            c = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            params = c.params
            if c.positional:
                params = tuple(params[name] for name in c.positiontup or ())
            compiled.append((str(c), params, width))
        db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        import sqlite3

        connection = sqlite3.connect(url.database)
    else:
        import psycopg

        connection = psycopg.connect(url.set(drivername="postgresql").render_as_string(False))
    began = time.perf_counter()
    n_answers = 0
    for i, (sql, params, width) in enumerate(compiled):
        cursor = (
            connection.cursor(name=f"floor{i}")
            if hasattr(connection, "pgconn")
            else connection.cursor()
        )
        cursor.execute(sql, params)
        parts = []
        while rows := cursor.fetchmany(100_000):
            parts.append(np.fromiter(chain.from_iterable(rows), np.int64, len(rows) * width))
        cursor.close()
        arr = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        if width == 1:
            n_answers += arr.size
    seconds = time.perf_counter() - began
    connection.close()
    return {"floor_s": seconds, "floor_answers": n_answers, "floor_peak_mb": _peak_mb()}


def _frames_and_answers(app: Any):
    """Every wave's answers in memory (the service's arrays and the reference's frames)."""
    from survey_app.services.relationships import get_relationship
    from survey_app.services.results import closed_waves, load_answer_grid

    rel = get_relationship(RELATIONSHIP)
    waves = closed_waves(rel)
    grid = load_answer_grid(waves)
    return rel, waves, {wave.id: grid.wave(wave) for wave in waves}


def measure_compute(app: Any, *, baseline: bool = True) -> dict[str, Any]:
    """The computation alone, the service's way and the straightforward way, and their
    largest difference."""
    from survey_app.services.results import AREA_NONE as NONE
    from survey_app.services.results import compute_relationship

    out: dict[str, Any] = {}
    with app.app_context():
        rel, waves, answers = _frames_and_answers(app)
        k = app.config["MIN_CELL_SIZE"]
        began = time.perf_counter()
        ours = compute_relationship(rel, waves, min_cell_size=k, answers_of=lambda w: answers[w.id])
        out["compute_s"] = time.perf_counter() - began
        out["compute_peak_mb"] = _peak_mb()
        if not baseline:
            return out
        spec = Spec.of(answers[waves[0].id].instrument)
        area_keys = [a.key for a in rel.service_areas]
        frames = []
        for wave in waves:
            a = answers[wave.id]
            side = np.where(a.side == 1, "supplier", "client")
            area = [area_keys[i] if i >= 0 else None for i in a.area.tolist()]
            frames.append(reference_frame(a.x, a.dont_know, side, area, spec))
        answers.clear()
        began = time.perf_counter()
        reference = reference_history(frames, spec, [w.label for w in waves], k, area_keys)
        out["baseline_compute_s"] = time.perf_counter() - began
        out.update(_compare_history(ours, reference, NONE))
    return out


def published_hidden(scores: pd.DataFrame, k: int) -> set[tuple[str, str, str]]:
    """Cells of a scores table that publication hides: the service's own suppression rule
    (checked on its own in the test suite), applied to the reference's counts."""
    from survey_app.services.results import suppress_rows

    rows = [
        {"wave": "", "side": r.side, "area": r.area, "dimension": r.dimension, "n": int(r.n)}
        for r in scores.itertuples(index=False)
    ]
    return {
        (r["side"], r["area"], r["dimension"])
        for r in suppress_rows("scores", rows, k)
        if r["suppressed"] is not None
    }


def blank_changes_since(tables: dict[str, pd.DataFrame], hidden: set[tuple[str, str, str]]) -> None:
    """NaN the changes of ``tables`` whose previous cell (or either side of a gap) was hidden."""
    if not hidden:
        return
    scores = tables["scores"]
    keys = list(zip(scores.side, scores.area, scores.dimension, strict=True))
    mask = np.array([key in hidden for key in keys], dtype=bool)
    for column in ("change", "change_points", "change_g", "change_p", "change_p_adjusted"):
        if column in scores:
            scores.loc[mask, column] = np.nan
    gaps_ = tables.get("gaps")
    if gaps_ is not None:
        mask = np.array(
            [
                ("client", a, d) in hidden or ("supplier", a, d) in hidden
                for a, d in zip(gaps_.area, gaps_.dimension, strict=True)
            ],
            dtype=bool,
        )
        for column in ("gap_change", "gap_change_p", "gap_change_p_adjusted"):
            if column in gaps_:
                gaps_.loc[mask, column] = np.nan


def reference_history(
    frames: Sequence[pd.DataFrame],
    spec: Spec,
    labels: Sequence[str],
    k: int,
    area_keys: Sequence[str],
) -> dict[str, Any]:
    """Every wave's tables and every wave's status, the straightforward way."""
    tables = []
    for t, frame in enumerate(frames):
        tables.append(
            reference_wave(
                frame,
                spec,
                previous=frames[t - 1] if t else None,
                previous_gaps=tables[-1]["gaps"] if t else None,
            )
        )
    # Only published cells feed later waves: no change is shown since a cell that publication
    # hid (fewer than k, or hidden to protect one), and such a cell is a gap in its series.
    hidden = [published_hidden(table["scores"], k) for table in tables]
    for t in range(1, len(tables)):
        blank_changes_since(tables[t], hidden[t - 1])
    statuses = []
    for t in range(len(frames)):
        scores = tables[t]["scores"]
        at = {(r.side, r.area, r.dimension): r for r in scores.itertuples(index=False)}
        history = [
            {
                (r.side, r.area, r.dimension): (r.mean, r.n)
                for r in tables[w]["scores"].itertuples(index=False)
            }
            for w in range(t + 1)
        ]
        wave_status = {}
        for key, row in at.items():
            series = np.array(
                [
                    h[key][0] if key in h and h[key][1] >= k and key not in hidden[w] else math.nan
                    for w, h in enumerate(history)
                ]
            )
            mean = round(row.mean, TIE_DECIMALS)
            band = (
                None if math.isnan(mean)
                else "strength" if mean >= spec.strength
                else "borderline" if mean >= spec.concern
                else "concern"
            )  # fmt: skip
            result, _, _ = reference_status(
                series, labels[: t + 1], points=spec.points,
                change=getattr(row, "change", None),
                change_p_adjusted=getattr(row, "change_p_adjusted", None),
                band=band, subject=str(key),
            )  # fmt: skip
            wave_status[key] = result.status
        statuses.append(wave_status)
    return {"tables": tables, "statuses": statuses}


_COMPARED = {
    "scores": (["side", "area", "dimension"],
               ["n", "mean", "sd", "ci_low", "ci_high", "score100", "n_answers",
                "favourable_pct", "neutral_pct", "unfavourable_pct", "rwg", "ad", "icc1",
                "icc2", "change", "change_g", "change_p", "change_p_adjusted"]),
    "items": (["side", "area", "item"],
              ["n", "mean", "sd", "ci_low", "ci_high", "favourable_pct", "neutral_pct",
               "unfavourable_pct", "n_dont_know"]),
    "reliability": (["side", "dimension", "item"],
                    ["n_complete", "alpha", "ci_low", "ci_high", "item_rest_r", "alpha_if_deleted"]),
    "gaps": (["area", "dimension"],
             ["n_client", "n_supplier", "mean_client", "mean_supplier", "sd_client",
              "sd_supplier", "difference", "g", "g_ci_low", "g_ci_high", "welch_p", "mw_u",
              "mw_p", "cliffs_delta", "p_adjusted", "gap_change", "gap_change_p",
              "gap_change_p_adjusted"]),
    "drivers": (["side", "area", "outcome", "dimension"], ["n", "r", "ci_low", "ci_high", "p"]),
}  # fmt: skip


def _compare_history(ours: Any, reference: dict[str, Any], none_key: str) -> dict[str, Any]:
    worst, mismatches, compared, status_differs = 0.0, 0, 0, 0
    for t, tables in enumerate(ours.tables):
        for name, (keys, columns) in _COMPARED.items():
            ref = reference["tables"][t][name]
            cols = [c for c in columns if c in ref.columns]
            w, m = compare(pd.DataFrame(tables.tables[name]), ref, keys, cols)
            worst, mismatches = max(worst, w), mismatches + m
            compared += len(ref) * len(cols)
        sc = tables.tables["scores"]
        for side, area, dim, st in zip(
            sc["side"], sc["area"], sc["dimension"], sc["status"], strict=True
        ):
            if reference["statuses"][t].get((side, area, dim)) != st:
                status_differs += 1
    del none_key
    return {
        "max_abs_diff": worst,
        "blank_mismatches": mismatches,
        "values_compared": compared,
        "status_differs": status_differs,
    }


def _subprocess(
    measure: str, url: str, instruments: str, instance: str, extra: Sequence[str] = ()
) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", measure, "--url", url,
           "--instruments", instruments, "--instance", instance, *extra]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"measurement {measure} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _machine() -> dict[str, Any]:
    import scipy

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "date": time.strftime("%Y-%m-%d"),
    }


def _json_number(value: Any) -> Any:
    """NaN (a measurement not made) as null: the last line must be valid JSON."""
    return None if isinstance(value, float) and math.isnan(value) else value


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="history size (1.0 = 1,000,000 responses)"
    )
    parser.add_argument("--path", help="SQLite file to write (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the straightforward baseline"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--instruments", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:  # a child process: one measurement, JSON on the last line
        import logging

        logging.disable(logging.WARNING)
        app = _make_app(args.url, args.instruments, args.instance)
        result = {
            "recompute": lambda: measure_recompute(app),
            "floor": lambda: measure_floor(app),
            "compute": lambda: measure_compute(app, baseline=not args.no_baseline),
        }[args.measure]()
        print(json.dumps(result))
        return

    if not 0 < args.scale <= 1.0:
        parser.error("--scale must be in (0, 1]")
    work = Path(tempfile.mkdtemp(prefix="relhealth-bench-"))
    instruments = work / "instruments"
    (instruments / "benchmark").mkdir(parents=True)
    (instruments / "benchmark" / "v1.yaml").write_text(benchmark_instrument_yaml())
    server = os.environ.get("DATABASE_URL", "").strip()
    scratch = None
    if server.startswith(("postgres://", "postgresql")):
        import psycopg
        from sqlalchemy.engine import make_url

        from survey_app.config import normalise_database_url

        admin = make_url(normalise_database_url(server))
        scratch = f"relhealth_bench_{os.urandom(4).hex()}"
        admin_dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
        url = admin.set(database=scratch).render_as_string(hide_password=False)
    else:
        db_path = Path(args.path) if args.path else work / "benchmark.sqlite3"
        if db_path.exists():
            parser.error(f"{db_path} exists; give a new --path")
        url = f"sqlite:///{db_path}"
    try:
        import logging

        logging.disable(logging.WARNING)
        app = _make_app(url, str(instruments), str(work / "instance"))
        with app.app_context():
            from flask_migrate import upgrade

            from survey_app.extensions import db

            upgrade()
            db.engine.dispose()
        began = time.perf_counter()
        responses, answers = generate_history(app, args.scale)
        generate_s = time.perf_counter() - began
        with app.app_context():
            from survey_app.extensions import db

            db.engine.dispose()
        print(
            f"history: {responses:,} responses, {answers:,} answers in {generate_s:.1f} s",
            flush=True,
        )
        ctx = (url, str(instruments), str(work / "instance"))
        floor = _subprocess("floor", *ctx)
        print(f"floor: {floor['floor_s']:.1f} s", flush=True)
        recompute = _subprocess("recompute", *ctx)
        print(
            f"recompute: {recompute['recompute_s']:.1f} s, peak {recompute['peak_mb']:.0f} MB",
            flush=True,
        )
        compute = _subprocess("compute", *ctx, ["--no-baseline"] if args.no_baseline else [])
        print(
            f"compute: {compute['compute_s']:.1f} s; baseline: {compute.get('baseline_compute_s', math.nan):.1f} s",
            flush=True,
        )
        figures = {
            "database": "postgresql" if scratch else "sqlite",
            "scale": args.scale,
            "responses": responses,
            "answers": answers,
            "waves": N_WAVES,
            "items": N_DIMENSIONS * ITEMS_PER_DIMENSION,
            "generate_s": round(generate_s, 2),
            "recompute_s": round(recompute["recompute_s"], 3),
            "floor_s": round(floor["floor_s"], 3),
            "floor_ratio": round(recompute["recompute_s"] / floor["floor_s"], 3),
            "compute_s": round(compute["compute_s"], 3),
            "baseline_compute_s": round(compute.get("baseline_compute_s", math.nan), 3),
            "speedup_vs_baseline": round(
                compute.get("baseline_compute_s", math.nan) / compute["compute_s"], 2
            ),
            "peak_mb": round(recompute["peak_mb"], 1),
            "floor_peak_mb": round(floor["floor_peak_mb"], 1),
            "compute_peak_mb": round(compute["compute_peak_mb"], 1),
            "max_abs_diff": compute.get("max_abs_diff"),
            "blank_mismatches": compute.get("blank_mismatches"),
            "values_compared": compute.get("values_compared"),
            "status_differs": compute.get("status_differs"),
            **_machine(),
        }
        print(json.dumps({k: _json_number(v) for k, v in figures.items()}, allow_nan=False))
    finally:
        if scratch is not None and not args.keep:
            import psycopg

            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
