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
    plain,
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
    baseline level); ``how`` the tests and limits behind the status ("How we know");
    ``details`` the trend columns of the ``trends`` table (:func:`trend_details`), None
    unless asked for.
    """

    status: list[str | None]
    summary: list[Stored | None]
    evidence: list[list[Stored] | None]
    how: list[list[Stored] | None]
    p: list[float | None]
    points: list[float | None]
    notes: list[dict[str, Any] | None]
    details: Columns | None
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
    explained = alert_evidence.explain_statuses(res, labels=labels, points=points, family=FAMILY)
    notes = {key: history.note(key, t) for key in dict.fromkeys(sc["dimension"])}
    out = StatusSnapshot(
        status=[r.status for r in explained],
        summary=[r.summary.as_dict() for r in explained],
        evidence=[_stored([e.text for e in r.evidence]) for r in explained],
        how=[_stored(r.how_we_know) or None for r in explained],
        p=[_finite(p) for p in res.p.tolist()],
        points=[_headline_points(res, u, points) for u in range(len(keys))],
        notes=[_copy(notes[key]) for key in sc["dimension"]],
        details=trend_details(labels, y, res, points) if detailed else None,
        gap_alert=[],
        gap_summary=[],
        gap_evidence=[],
        gap_how=[],
        gap_notes=[],
    )

    gp = wave.gaps
    g_values, g_var = gap_series(history, list(zip(gp["area"], gp["dimension"], strict=True)))
    g_res = alerts.assess_gap_family(
        _comparable(history, g_values, gp["dimension"], t),
        _comparable(history, g_var, gp["dimension"], t),
        alerts.gap_structure(gp["area"], gp["dimension"], all_areas=AREA_ALL),
    )
    gap_notes = {key: history.note(key, t) for key in dict.fromkeys(gp["dimension"])}
    for gap, key in zip(
        alert_evidence.explain_gaps(g_res, labels=labels, points=points),
        gp["dimension"],
        strict=True,
    ):
        out.gap_alert.append(gap.alert)
        out.gap_summary.append(gap.summary.as_dict())
        out.gap_evidence.append(_stored([e.text for e in gap.evidence]))
        out.gap_how.append(_stored(gap.how_we_know) or None)
        out.gap_notes.append(_copy(gap_notes[key]))
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


def _copy(note: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if note is None else dict(note)


def trend_details(
    labels: Sequence[str], y: np.ndarray, res: alerts.FamilyStatuses, points: int
) -> Columns:
    """The trend columns of every cell for the ``trends`` table (the wave's view), one value
    per series of ``y`` (the comparable waves, NaN outside them): the Mann–Kendall test and
    Theil–Sen slope over the comparable waves, and the detector's EWMA (limits
    ``limit_width`` standard deviations of the noise model) and CUSUMs. Numbers that are
    not finite are None."""
    mk, ts = trends.mann_kendall_many(y), trends.theil_sen_many(y)
    scale = 100.0 / (points - 1)
    st, cfg = res.stats, res.config
    observed = ~np.isnan(y)
    counts = observed.sum(axis=1).tolist()
    starts = np.argmax(observed, axis=1).tolist()  # 0 where none is observed
    ewma, sd, center = (np.asarray(a, dtype=float) for a in (st.ewma, st.ewma_sd, st.center))
    charts = np.isfinite(ewma) & np.isfinite(sd) & np.isfinite(center)
    lower = np.where(charts, center - cfg.limit_width * sd, np.nan)
    upper = np.where(charts, center + cfg.limit_width * sd, np.nan)
    c_low, c_high = (np.where(charts, a, np.nan) for a in (st.cusum_fall, st.cusum_rise))
    slope = np.asarray(ts.slope, dtype=float)
    low_signal = charts & (ewma < lower)
    high_signal = charts & ~low_signal & (ewma > upper)
    no_charts = N_("EWMA and CUSUM need 3 waves")
    reasons = [
        "; ".join(dict.fromkeys(r for r in (str(a), str(b), "" if c else no_charts) if r)) or None
        for a, b, c in zip(mk.reason.tolist(), ts.reason.tolist(), charts.tolist(), strict=True)
    ]
    cusum_h = float(cfg.cusum_h)
    numbers = {
        "slope": slope,
        "slope_ci_low": ts.ci_low,
        "slope_ci_high": ts.ci_high,
        "slope_points": slope * scale,
        "mk_s": mk.s,
        "mk_var_s": mk.var_s,
        "mk_z": mk.z,
        "mk_p": mk.p,
        "mk_tau": mk.tau,
        "ewma": ewma,
        "ewma_lower": lower,
        "ewma_upper": upper,
        "cusum_low": c_low,
        "cusum_high": c_high,
    }
    columns: Columns = {
        "first_wave": [labels[f] if n else None for f, n in zip(starts, counts, strict=True)],
        "series_start": [labels[f] if labels else None for f in starts],
        "n_waves": counts,
        **{name: plain(np.asarray(v, dtype=float)) for name, v in numbers.items()},
        "mk_trend": [str(x) for x in mk.trend.tolist()],
        "ewma_signal": np.where(low_signal, "low", np.where(high_signal, "high", None)).tolist(),
        "cusum_h": [cusum_h] * len(reasons),
        "reason": reasons,
    }
    columns["cusum_signal"] = [
        _cusum_signal(lo, hi, cusum_h)
        for lo, hi in zip(columns["cusum_low"], columns["cusum_high"], strict=True)
    ]
    return columns


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
    if snapshot.details is None:
        raise ValueError("the trends table needs a detailed status snapshot")
    t = len(history.waves) - 1 if t is None else t
    sc = history.waves[t].scores
    gp = history.waves[t].gaps
    gap_at = {(a, d): i for i, (a, d) in enumerate(zip(gp["area"], gp["dimension"], strict=True))}
    rows = [
        gap_at.get((area, key)) if side == "all" else None
        for side, area, key in zip(sc["side"], sc["area"], sc["dimension"], strict=True)
    ]
    steps = history.waves[t].design.points - 1

    def of_gap(values: list[Any]) -> list[Any]:
        return [None if g is None else values[g] for g in rows]

    table: Columns = {
        "relationship": [relationship_name] * len(rows),
        **{c: list(sc[c]) for c in ("side", "area", "area_name", "dimension", "dimension_title")},
        "latest_wave": list(sc["wave"]),
        "latest_mean": list(sc["mean"]),
        "latest_score100": [None if m is None else (m - 1.0) * 100.0 / steps for m in sc["mean"]],
        "n_latest": list(sc["n"]),
        "band": list(sc["band"]),
        "previous_wave": list(sc["previous_wave"]),
        "latest_change": list(sc["change"]),
        "latest_change_points": list(sc["change_points"]),
        "latest_change_p": list(sc["change_p"]),
        "latest_change_p_adjusted": list(sc["change_p_adjusted"]),
        "status": list(snapshot.status),
        "status_summary": list(snapshot.summary),
        "status_evidence": list(snapshot.evidence),
        "gap_alert": of_gap(snapshot.gap_alert),
        "gap_alert_summary": of_gap(snapshot.gap_summary),
        "gap_alert_evidence": of_gap(snapshot.gap_evidence),
        "comparability_note": list(snapshot.notes),
        **snapshot.details,
    }
    return {c: table[c] for c in TRENDS_COLUMNS}


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
