"""Status over time (DESIGN §4.11–4.12): every cell and dimension of a wave as it stood when
the wave closed, from the closed waves up to and including it, so a wave's results never
change when later waves close.

Trends run across instrument versions on the dimensions that did not change; where one
changed, its series restarts at the new version and ``comparability_note`` says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from analysis import status, trends
from survey_app.services.results.history import History, gap_series, score_series
from survey_app.services.results.tables import WaveTables, scalar
from survey_app.services.results.vocabulary import (
    AREA_ALL,
    AREA_NONE,
    CHART_BASELINE_WAVES,
    EWMA_LAMBDA,
    SIDE_WORDS,
    TIE_DECIMALS,
    Columns,
)


def _charts(
    history: History, y_full: np.ndarray, cache_key: tuple[str, int, str], t: int, start: int
):
    """EWMA and CUSUMs of the comparable series ``y_full[start:t+1]``.

    The charts of a longer series, cut at wave ``t``, equal those of the series up to ``t``
    once the baseline (the first observed waves) is complete, so a full recompute computes
    them once per cell over all waves and slices; shorter prefixes are computed directly.
    """
    prefix = y_full[start : t + 1]
    if np.count_nonzero(~np.isnan(prefix)) < CHART_BASELINE_WAVES:
        return _chart_set(prefix)
    full = history._chart_cache.get(cache_key)
    if full is None:
        full = _chart_set(y_full[start:])
        history._chart_cache[cache_key] = full
    return tuple(_first_waves(chart, t + 1 - start) for chart in full)


def _first_waves(chart: Any, m: int) -> Any:
    """``chart`` (an EWMA or CUSUM result) with each per-wave array cut to the first ``m``."""
    arrays = {f.name: getattr(chart, f.name) for f in fields(chart)}
    return replace(chart, **{k: v[:m] for k, v in arrays.items() if isinstance(v, np.ndarray)})


def _chart_set(y: np.ndarray):
    return (
        trends.ewma(y, lam=EWMA_LAMBDA, n_baseline=CHART_BASELINE_WAVES),
        trends.cusum_lower(y, n_baseline=CHART_BASELINE_WAVES),
        trends.cusum_upper(y, n_baseline=CHART_BASELINE_WAVES),
    )


def _pick(result: Any, u: int, cls: type) -> Any:
    return cls(*(getattr(result, f.name)[u] for f in fields(cls)))


def _subject(title: str, side: str, area_name: str, area: str) -> str:
    where = "all service areas" if area == AREA_ALL else area_name
    if area == AREA_NONE:
        where = "service area not stated"
    return f"{title}, {SIDE_WORDS[side]}, {where}"


def _latest_observed(a: np.ndarray, y: np.ndarray) -> Any:
    obs = np.flatnonzero(~np.isnan(y))
    return a[obs[-1]] if obs.size else None


@dataclass(slots=True)
class StatusSnapshot:
    """Status of every score row of wave ``t`` (aligned with its ``scores`` rows), trend
    details for the ``trends`` table, and the gap alert of every ``gaps`` row."""

    status: list[str | None]
    summary: list[str | None]
    evidence: list[str | None]
    notes: list[str | None]
    details: list[dict[str, Any]]
    gap_alert: list[bool | None]
    gap_summary: list[str | None]
    gap_evidence: list[str | None]
    gap_notes: list[str | None]


def status_snapshot(history: History, t: int, *, detailed: bool = False) -> StatusSnapshot:
    """Status of every cell and dimension of wave ``t``, from the closed waves 0..t.

    Notes
    -----
    Per cell and score key, the series is the cell's wave means over the comparable waves
    (a wave whose cell has fewer than ``min_cell_size`` responses is a gap in the series);
    :func:`analysis.trends.mann_kendall_many` and :func:`~analysis.trends.theil_sen_many`
    run over every series at once, the EWMA and CUSUM charts per series, and
    :func:`analysis.status.classify` turns them, the latest change (Welch, BH-adjusted within
    the wave) and the band into a status with its evidence. Each client–supplier gap gets
    :func:`analysis.status.gap_widening` on its absolute size over the waves.
    """
    wave = history.waves[t]
    sc = wave.scores
    labels = [w.label for w in history.waves[: t + 1]]
    keys = list(zip(sc["side"], sc["area"], sc["dimension"], strict=True))
    means, _ = score_series(history, keys)
    starts = np.array([history.segment_start(d, t) for _, _, d in keys], dtype=np.int64)
    y = means[:, : t + 1].copy()
    for u, s in enumerate(starts):
        y[u, :s] = np.nan
    mk = trends.mann_kendall_many(y)
    ts = trends.theil_sen_many(y)
    points = wave.design.points
    out = StatusSnapshot([], [], [], [], [], [], [], [], [])
    for u, (side, area, key) in enumerate(keys):
        start = int(starts[u])
        series = y[u, start:]
        subject = _subject(sc["dimension_title"][u], side, sc["area_name"][u], area)
        change = sc["change"][u]
        latest_change = (
            {
                "difference": round(change, TIE_DECIMALS),
                "p_adjusted": _none_nan(sc["change_p_adjusted"][u]),
            }
            if change is not None
            else None
        )
        ewma, low, high = _charts(history, means[u], (side + "|" + area, start, key), t, start)
        result = status.classify(
            series,
            labels[start:],
            points=points,
            latest_change=latest_change,
            mk=_pick(mk, u, trends.MannKendallResult),
            ts=_pick(ts, u, trends.TheilSenResult),
            ewma=ewma,
            cusum=low,
            cusum_high=high,
            band=sc["band"][u],
            subject=subject,
        )
        note = history.note(key, t)
        out.status.append(result.status)
        out.summary.append(result.summary)
        out.evidence.append("\n".join(e.text for e in result.evidence))
        out.notes.append(note)
        if detailed:
            out.details.append(
                _trend_details(u, series, labels[start:], mk, ts, ewma, low, high, points)
            )

    gp = wave.gaps
    gap_keys = list(zip(gp["area"], gp["dimension"], strict=True))
    g_series = gap_series(history, gap_keys)[:, : t + 1]
    g_starts = [history.segment_start(d, t) for _, d in gap_keys]
    for u, s in enumerate(g_starts):
        g_series[u, :s] = np.nan
    g_mk = trends.mann_kendall_many(g_series)
    for u, (area, key) in enumerate(gap_keys):
        start = g_starts[u]
        subject = f"{gp['dimension_title'][u]}, " + (
            "all service areas"
            if area == AREA_ALL
            else "service area not stated"
            if area == AREA_NONE
            else gp["area_name"][u]
        )
        p = gp["gap_change_p_adjusted"][u]
        alert = status.gap_widening(
            g_series[u, start:],
            labels[start:],
            p,
            subject=subject,
            mk=_pick(g_mk, u, trends.MannKendallResult),
        )
        out.gap_alert.append(alert.alert)
        out.gap_summary.append(alert.summary)
        out.gap_evidence.append("\n".join(e.text for e in alert.evidence))
        out.gap_notes.append(history.note(key, t))
    return out


def _none_nan(v: Any) -> float:
    return math.nan if v is None else float(v)


def _trend_details(
    u: int,
    series: np.ndarray,
    labels: Sequence[str],
    mk: trends.MannKendallResult,
    ts: trends.TheilSenResult,
    ewma: trends.EWMAResult,
    low: trends.CUSUMResult,
    high: trends.CUSUMResult,
    points: int,
) -> dict[str, Any]:
    """The trend columns of one cell for the ``trends`` table (latest wave's view)."""
    scale = 100.0 / (points - 1)
    obs = np.flatnonzero(~np.isnan(series))
    reasons = [r for r in (str(mk.reason[u]), str(ts.reason[u]), ewma.reason, low.reason) if r]
    signal_low = bool(_latest_observed(ewma.signal_low, series) or False)
    signal_high = bool(_latest_observed(ewma.signal_high, series) or False)
    c_low = bool(_latest_observed(low.signal, series) or False)
    c_high = bool(_latest_observed(high.signal, series) or False)
    slope = float(ts.slope[u])
    return {
        "first_wave": labels[obs[0]] if obs.size else None,
        "series_start": labels[0] if labels else None,
        "n_waves": int(obs.size),
        "slope": slope,
        "slope_ci_low": float(ts.ci_low[u]),
        "slope_ci_high": float(ts.ci_high[u]),
        "slope_points": slope * scale,
        "mk_s": float(mk.s[u]),
        "mk_var_s": float(mk.var_s[u]),
        "mk_z": float(mk.z[u]),
        "mk_p": float(mk.p[u]),
        "mk_tau": float(mk.tau[u]),
        "mk_trend": str(mk.trend[u]),
        "ewma": _latest_observed(ewma.z, series) if not ewma.reason else None,
        "ewma_lower": _latest_observed(ewma.lower, series) if not ewma.reason else None,
        "ewma_upper": _latest_observed(ewma.upper, series) if not ewma.reason else None,
        "ewma_signal": "low" if signal_low else "high" if signal_high else None,
        "cusum_low": _latest_observed(low.c, series) if not low.reason else None,
        "cusum_high": _latest_observed(high.c, series) if not high.reason else None,
        "cusum_h": float(low.h),
        "cusum_signal": "both"
        if c_low and c_high
        else "low"
        if c_low
        else "high"
        if c_high
        else None,
        "reason": "; ".join(dict.fromkeys(reasons)) or None,
    }


def fill_status(tables: WaveTables, snapshot: StatusSnapshot) -> None:
    """Write a status snapshot into the wave's ``scores`` and ``gaps`` columns."""
    sc, gp = tables.tables["scores"], tables.tables["gaps"]
    sc["status"] = list(snapshot.status)
    sc["status_summary"] = list(snapshot.summary)
    sc["status_evidence"] = list(snapshot.evidence)
    sc["comparability_note"] = list(snapshot.notes)
    gp["gap_alert"] = list(snapshot.gap_alert)
    gp["gap_alert_summary"] = list(snapshot.gap_summary)
    gp["gap_alert_evidence"] = list(snapshot.gap_evidence)
    gp["comparability_note"] = list(snapshot.gap_notes)


def trends_table(
    relationship_name: str, history: History, snapshot: StatusSnapshot, *, t: int | None = None
) -> Columns:
    """The ``trends`` table as of wave ``t`` (the latest by default): every cell and dimension
    of that wave, across the closed waves up to it; ``snapshot`` is its detailed status."""
    t = len(history.waves) - 1 if t is None else t
    sc = history.waves[t].scores
    gp = history.waves[t].gaps
    gap_at = {(a, d): i for i, (a, d) in enumerate(zip(gp["area"], gp["dimension"], strict=True))}
    points = history.waves[t].design.points
    columns = TRENDS_COLUMNS
    table: Columns = {c: [] for c in columns}
    for u in range(len(sc["side"])):
        details = snapshot.details[u]
        side, area, key = sc["side"][u], sc["area"][u], sc["dimension"][u]
        g = gap_at.get((area, key)) if side == "all" else None
        mean = sc["mean"][u]
        row = {
            "relationship": relationship_name,
            "side": side,
            "area": area,
            "area_name": sc["area_name"][u],
            "dimension": key,
            "dimension_title": sc["dimension_title"][u],
            "latest_wave": sc["wave"][u],
            "latest_mean": mean,
            "latest_score100": None if mean is None else (mean - 1.0) * 100.0 / (points - 1),
            "n_latest": sc["n"][u],
            "band": sc["band"][u],
            "previous_wave": sc["previous_wave"][u],
            "latest_change": sc["change"][u],
            "latest_change_points": sc["change_points"][u],
            "latest_change_p": sc["change_p"][u],
            "latest_change_p_adjusted": sc["change_p_adjusted"][u],
            "status": snapshot.status[u],
            "status_summary": snapshot.summary[u],
            "status_evidence": snapshot.evidence[u],
            "gap_alert": snapshot.gap_alert[g] if g is not None else None,
            "gap_alert_summary": snapshot.gap_summary[g] if g is not None else None,
            "gap_alert_evidence": snapshot.gap_evidence[g] if g is not None else None,
            "comparability_note": snapshot.notes[u],
            **details,
        }
        for c in columns:
            table[c].append(scalar(row.get(c)))
    return table


TRENDS_COLUMNS = (
    "relationship", "side", "area", "area_name", "dimension", "dimension_title",
    "series_start", "first_wave", "latest_wave", "n_waves", "latest_mean", "latest_score100",
    "n_latest", "band", "slope", "slope_ci_low", "slope_ci_high", "slope_points", "mk_s",
    "mk_var_s", "mk_z", "mk_p", "mk_tau", "mk_trend", "ewma", "ewma_lower", "ewma_upper",
    "ewma_signal", "cusum_low", "cusum_high", "cusum_h", "cusum_signal", "previous_wave",
    "latest_change", "latest_change_points", "latest_change_p", "latest_change_p_adjusted",
    "status", "status_summary", "status_evidence", "gap_alert", "gap_alert_summary",
    "gap_alert_evidence", "comparability_note", "reason",
)  # fmt: skip
