"""Status over time (DESIGN §4.11–4.12): every cell and dimension of a wave as it stood when
the wave closed, from the closed waves up to and including it, so a wave's results never
change when later waves close.

The status is the calibrated detector of :mod:`analysis.alerts`: one family per wave (every
side × service area × dimension), each series judged on its sampling error plus the
between-wave variance pooled over the relationship's cells, the family held to a false
discovery rate; :mod:`analysis.alert_evidence` states what lies behind each status as
phrases (facts, no prose). It is computed once here and stored in the wave's ``scores``
(``status`` …) and ``gaps`` (``gap_alert`` …) rows, which every page, download, API response
and report reads; :mod:`~survey_app.services.results.wording` words the phrases in the
reader's language as they are read.

Trends run across instrument versions on the dimensions that did not change; where one
changed, its series restarts at the new version and ``comparability_note`` says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis import alert_evidence, alerts, trends
from survey_app.services.results.history import History, gap_series, score_series
from survey_app.services.results.tables import (
    GAP_STATUS_COLUMNS,
    SCORE_STATUS_COLUMNS,
    WaveTables,
    scalar,
)
from survey_app.services.results.vocabulary import AREA_ALL, Columns
from survey_app.texts import N_

#: What the series of one wave are, when a status says how many were watched at once (a key
#: of :data:`survey_app.services.results.wording.FAMILY_WORDS`).
FAMILY = "groups"

#: A stored phrase (:meth:`analysis.status.Phrase.as_dict`), and a list of them.
Stored = dict[str, Any]


def _stored(phrases: Sequence[Any]) -> list[Stored]:
    return [p.as_dict() for p in phrases]


@dataclass(slots=True)
class StatusSnapshot:
    """Status of every score row of wave ``t`` (aligned with its ``scores`` rows), trend
    details for the ``trends`` table, and the gap alert of every ``gaps`` row.

    ``p`` is the series' calibrated p-value (:func:`analysis.alerts.assess_family`) and
    ``points`` the change its summary states, on the 0–100 scale (latest wave against the
    baseline level); ``how`` the tests and limits behind the status ("How we know").
    """

    status: list[str | None]
    summary: list[Stored | None]
    evidence: list[list[Stored] | None]
    how: list[list[Stored] | None]
    p: list[float | None]
    points: list[float | None]
    notes: list[dict[str, Any] | None]
    details: list[dict[str, Any]]
    gap_alert: list[bool | None]
    gap_summary: list[Stored | None]
    gap_evidence: list[list[Stored] | None]
    gap_how: list[list[Stored] | None]
    gap_notes: list[dict[str, Any] | None]


def _comparable(history: History, values: np.ndarray, keys: Sequence[str], t: int):
    """Waves 0..t of each series, NaN before its comparable segment starts."""
    y = values[:, : t + 1].copy()
    for u, key in enumerate(keys):
        y[u, : history.segment_start(key, t)] = np.nan
    return y


def status_snapshot(history: History, t: int, *, detailed: bool = False) -> StatusSnapshot:
    """Status of every cell and dimension of wave ``t``, from the closed waves 0..t.

    Notes
    -----
    Per cell and score key, the series is the cell's published wave means over the
    comparable waves (a wave whose cell is hidden is a gap in the series), with their
    sampling variances :math:`sd^2/n`. :func:`analysis.alerts.assess_family` judges the
    wave's family (τ² pooled per dimension over the cells, calibrated p-values, false
    discovery rate), and :func:`analysis.alert_evidence.explain_status` states what lies
    behind it (stored as phrases, :mod:`~survey_app.services.results.wording`).
    Each signed client–supplier gap gets :func:`analysis.alerts.assess_gap_family` and
    :func:`~analysis.alert_evidence.explain_gap`.
    """
    wave = history.waves[t]
    sc = wave.scores
    points = wave.design.points
    labels = [w.label for w in history.waves[: t + 1]]
    keys = list(zip(sc["side"], sc["area"], sc["dimension"], strict=True))
    means, var = score_series(history, keys)
    y = _comparable(history, means, sc["dimension"], t)
    v = _comparable(history, var, sc["dimension"], t)
    structure = alerts.family_structure(sc["side"], sc["area"], sc["dimension"], all_areas=AREA_ALL)
    res = alerts.assess_family(y, v, structure, band=list(sc["band"]), points=points)
    mk, ts = trends.mann_kendall_many(y), trends.theil_sen_many(y)
    out = StatusSnapshot([], [], [], [], [], [], [], [], [], [], [], [], [])
    for u, (_side, _area, key) in enumerate(keys):
        result = alert_evidence.explain_status(res, u, labels=labels, points=points, family=FAMILY)
        out.status.append(result.status)
        out.summary.append(result.summary.as_dict())
        out.evidence.append(_stored([e.text for e in result.evidence]))
        out.how.append(_stored(result.how_we_know) or None)
        out.p.append(_finite(res.p[u]))
        out.points.append(_headline_points(res, u, points))
        out.notes.append(history.note(key, t))
        if detailed:
            out.details.append(_trend_details(u, labels, y[u], mk, ts, res, points))

    gp = wave.gaps
    g_values, g_var = gap_series(history, list(zip(gp["area"], gp["dimension"], strict=True)))
    g_res = alerts.assess_gap_family(
        _comparable(history, g_values, gp["dimension"], t),
        _comparable(history, g_var, gp["dimension"], t),
        alerts.gap_structure(gp["area"], gp["dimension"], all_areas=AREA_ALL),
    )
    for u, key in enumerate(gp["dimension"]):
        gap = alert_evidence.explain_gap(g_res, u, labels=labels, points=points)
        out.gap_alert.append(gap.alert)
        out.gap_summary.append(gap.summary.as_dict())
        out.gap_evidence.append(_stored([e.text for e in gap.evidence]))
        out.gap_how.append(_stored(gap.how_we_know) or None)
        out.gap_notes.append(history.note(key, t))
    return out


def _finite(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _headline_points(res: alerts.FamilyStatuses, u: int, points: int) -> float | None:
    """The change a status summary states, 0–100 scale: the latest wave mean against the
    baseline level (or, before the charts have a baseline, against the previous wave)."""
    y = res.means[u][~np.isnan(res.means[u])]
    if y.size < 2:
        return None
    center = float(res.stats.center[u])
    base = float(y[-2]) if math.isnan(center) else center
    return (float(y[-1]) - base) * 100.0 / (points - 1)


def _trend_details(
    u: int,
    labels: Sequence[str],
    series: np.ndarray,
    mk: trends.MannKendallResult,
    ts: trends.TheilSenResult,
    res: alerts.FamilyStatuses,
    points: int,
) -> dict[str, Any]:
    """The trend columns of one cell for the ``trends`` table (latest wave's view): the
    Mann–Kendall test and Theil–Sen slope over the comparable waves, and the detector's
    EWMA (limits ``limit_width`` standard deviations of the noise model) and CUSUMs."""
    scale = 100.0 / (points - 1)
    obs = np.flatnonzero(~np.isnan(series))
    start = int(np.argmax(~np.isnan(series))) if obs.size else 0
    st, cfg = res.stats, res.config
    reasons = [r for r in (str(mk.reason[u]), str(ts.reason[u])) if r]
    ewma, sd, center = (_finite(a[u]) for a in (st.ewma, st.ewma_sd, st.center))
    charts = ewma is not None and sd is not None and center is not None
    if not charts:
        reasons.append(N_("EWMA and CUSUM need 3 waves"))
    lower = center - cfg.limit_width * sd if charts else None
    upper = center + cfg.limit_width * sd if charts else None
    c_low, c_high = (_finite(a[u]) if charts else None for a in (st.cusum_fall, st.cusum_rise))
    slope = float(ts.slope[u])
    return {
        "first_wave": labels[obs[0]] if obs.size else None,
        "series_start": labels[start] if labels else None,
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
        "ewma": ewma,
        "ewma_lower": lower,
        "ewma_upper": upper,
        "ewma_signal": None
        if not charts
        else "low"
        if ewma < lower
        else "high"
        if ewma > upper
        else None,
        "cusum_low": c_low,
        "cusum_high": c_high,
        "cusum_h": float(cfg.cusum_h),
        "cusum_signal": _cusum_signal(c_low, c_high, cfg.cusum_h),
        "reason": "; ".join(dict.fromkeys(reasons)) or None,
    }


def _cusum_signal(low: float | None, high: float | None, h: float) -> str | None:
    over_low, over_high = (c is not None and c > h for c in (low, high))
    return (
        "both" if over_low and over_high else "low" if over_low else "high" if over_high else None
    )


def fill_status(tables: WaveTables, snapshot: StatusSnapshot) -> None:
    """Write a status snapshot into the wave's ``scores`` and ``gaps`` columns."""
    for name, columns in (("scores", SCORE_STATUS_COLUMNS), ("gaps", GAP_STATUS_COLUMNS)):
        table = tables.tables[name]
        for column, field in columns.items():
            table[column] = list(getattr(snapshot, field))


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
