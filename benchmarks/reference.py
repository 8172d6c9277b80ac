"""The straightforward computation of every results table and status: the analysis
benchmark's baseline, and the independent check of the scoring service's tables.

pandas ``groupby`` and one SciPy / pingouin / pymannkendall call per group and per series,
as an analyst would write it: ``reference_wave`` (a wave's tables), ``reference_family``
(the calibrated statuses of one relationship and wave, DESIGN §4.12, written out apart from
``analysis.alerts``), ``reference_tables_history`` and ``reference_statuses`` (every wave of
a history, the two steps apart so each is timed on its own), ``compare_history`` (the
largest difference from the service's results). Used by ``benchmarks/analysis.py`` and
``tests/test_scoring_service.py``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis import trends as trend_results
from benchmarks.reference_family import reference_family, reference_gap_family

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


def reference_trend(means: np.ndarray):
    """Mann–Kendall (pymannkendall) and Theil–Sen (scipy) of one series of wave means."""
    means = np.round(np.asarray(means, dtype=float), TIE_DECIMALS)
    return _reference_mk(means), _reference_ts(means)


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


def published_hidden(
    tables, k: int, spec, areas: Sequence[str] | None = None
) -> set[tuple[str, str, str]]:
    """Cells of a scores table that publication hides: the service's own disclosure pattern
    (scores and items linked, their sums audited; checked on its own in tests/disclosure),
    applied to the reference's counts, means and shares.

    Where two partners protect a cell equally well the pattern takes the first cell in the
    table's order, so the reference's cells are put in the service's order: sides client,
    supplier, all; ``areas`` (the relationship's area keys, in its order), then no area, then
    all areas. Without ``areas``, the order the rows come in (which a database does not fix)."""
    from survey_app.services.results.disclosure import hidden_cells

    scores = tables["scores"]
    if areas is not None:
        side_rank = {side: r for r, side in enumerate(("client", "supplier", "all"))}
        area_rank = {area: r for r, area in enumerate((*areas, "_none", "_all"))}
        order = sorted(
            range(len(scores)),
            key=lambda i: (side_rank[scores.side.iat[i]], area_rank[scores.area.iat[i]]),
        )
        scores = scores.iloc[order]

    def columns(frame):
        return {c: frame[c].tolist() for c in frame.columns}

    return hidden_cells(
        columns(scores),
        columns(tables["items"]),
        k,
        dimension_of=dict(zip(spec.items, spec.item_dimension, strict=True)),
        points=spec.points,
    )


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


def reference_tables_history(
    frames: Sequence[pd.DataFrame],
    spec: Spec,
    k: int,
    *,
    names: Sequence[str] = ("scores", "items", "reliability", "gaps", "drivers"),
    areas: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Every wave's tables the straightforward way (``names``: which; ``scores`` and ``gaps``
    and ``items`` always), and the cells publication hides.

    Changes since a hidden cell are blanked, as the service does (only published cells
    feed later waves). Returns ``{"tables": [...], "hidden": [...]}`` for
    :func:`reference_statuses`. ``areas``: the relationship's area keys in its order
    (:func:`published_hidden`).
    """
    names = tuple(dict.fromkeys(("scores", "gaps", "items", *names)))
    tables = []
    for t, frame in enumerate(frames):
        tables.append(
            reference_wave(
                frame,
                spec,
                previous=frames[t - 1] if t else None,
                previous_gaps=tables[-1]["gaps"] if t else None,
                tables=names,
            )
        )
    # Only published cells feed later waves: no change is shown since a cell that publication
    # hid (fewer than k, or hidden to protect one), and such a cell is a gap in its series.
    hidden = [published_hidden(table, k, spec, areas) for table in tables]
    for t in range(1, len(tables)):
        blank_changes_since(tables[t], hidden[t - 1])
    return {"tables": tables, "hidden": hidden}


def reference_statuses(
    history: dict[str, Any], spec: Spec, labels: Sequence[str], k: int
) -> list[dict[tuple[str, str, str], str]]:
    """Status of every cell as of every wave, one family (relationship × wave) at a time
    (:func:`reference_family`): the published wave means, with their sampling variances
    sd²/n, over the waves up to it."""
    del labels
    tables, hidden = history["tables"], history["hidden"]
    statuses = []
    for t in range(len(tables)):
        scores = tables[t]["scores"]
        keys = list(zip(scores.side, scores.area, scores.dimension, strict=True))
        means = np.full((len(keys), t + 1), np.nan)
        var = np.full(means.shape, np.nan)
        for w in range(t + 1):
            past = {
                (r.side, r.area, r.dimension): r
                for r in tables[w]["scores"].itertuples(index=False)
            }
            for u, key in enumerate(keys):
                r = past.get(key)
                if r is not None and r.n >= k and key not in hidden[w] and r.n >= 2:
                    means[u, w] = round(r.mean, TIE_DECIMALS)
                    var[u, w] = r.sd**2 / r.n
        band = [
            None if math.isnan(m)
            else "strength" if m >= spec.strength
            else "borderline" if m >= spec.concern
            else "concern"
            for m in np.round(scores["mean"].to_numpy(dtype=float), TIE_DECIMALS)
        ]  # fmt: skip
        found, _ = reference_family(means, var, keys, band, points=spec.points)
        statuses.append(dict(zip(keys, found, strict=True)))
    return statuses


def reference_gap_alerts(history: dict[str, Any], k: int) -> list[dict[tuple[str, str], bool]]:
    """Whether each perception gap (area × dimension) is widening as of every wave, one
    family at a time (:func:`reference_gap_family`): the published gaps — both sides' cells
    at least ``k`` and neither hidden — with their sampling variances sd_c²/n_c + sd_s²/n_s."""
    tables, hidden = history["tables"], history["hidden"]
    found = []
    for t in range(len(tables)):
        keys = list(zip(tables[t]["gaps"].area, tables[t]["gaps"].dimension, strict=True))
        gaps = np.full((len(keys), t + 1), np.nan)
        var = np.full(gaps.shape, np.nan)
        for w in range(t + 1):
            past = {(r.area, r.dimension): r for r in tables[w]["gaps"].itertuples(index=False)}
            for u, (area, dim) in enumerate(keys):
                r = past.get((area, dim))
                if r is None or math.isnan(r.difference) or min(r.n_client, r.n_supplier) < k:
                    continue
                if any((side, area, dim) in hidden[w] for side in ("client", "supplier")):
                    continue
                gaps[u, w] = round(r.difference, TIE_DECIMALS)
                var[u, w] = r.sd_client**2 / r.n_client + r.sd_supplier**2 / r.n_supplier
        alerts, _ = reference_gap_family(gaps, var, keys)
        found.append(dict(zip(keys, alerts, strict=True)))
    return found


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


def compare_history(
    ours: Any, tables: Sequence[dict[str, pd.DataFrame]], statuses: Sequence[dict[Any, str]]
) -> dict[str, Any]:
    """Largest difference between the service's results (``ours``, a RelationshipResults)
    and the reference's, over every column both produce, and the statuses that differ."""
    worst, mismatches, compared, status_differs = 0.0, 0, 0, 0
    for t, wave_tables in enumerate(ours.tables):
        for name, (keys, columns) in _COMPARED.items():
            ref = tables[t][name]
            cols = [c for c in columns if c in ref.columns]
            w, m = compare(pd.DataFrame(wave_tables.tables[name]), ref, keys, cols)
            worst, mismatches = max(worst, w), mismatches + m
            compared += len(ref) * len(cols)
        sc = wave_tables.tables["scores"]
        for side, area, dim, st in zip(
            sc["side"], sc["area"], sc["dimension"], sc["status"], strict=True
        ):
            if statuses[t].get((side, area, dim)) != st:
                status_differs += 1
    return {
        "max_abs_diff": worst,
        "blank_mismatches": mismatches,
        "values_compared": compared,
        "status_differs": status_differs,
    }
