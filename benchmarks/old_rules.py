"""The statuses before issue 12: the benchmarks' baseline (``benchmarks/alerts.py``,
``benchmarks/alerts_core.py``), no longer used by the service.

:func:`classify` turned a series of wave means into one of ``"deteriorating"``, ``"watch"``,
``"improving"`` or ``"stable"``: EWMA and CUSUM limits from the spread of the first four
wave means, every rule at 5%, the latest change Benjamini–Hochberg adjusted within the wave.
On histories where nothing changes it flagged about a quarter of the series (issue 12);
:mod:`analysis.alerts` replaced it. :func:`gap_widening` was its perception-gap alert.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from analysis import trends
from analysis._common import (
    as_float_array,
    check_points,
    format_p,
    format_points,
    format_slope,
)
from analysis.status import Evidence, GapAlert, StatusResult

__all__ = ["STATUSES", "classify", "gap_widening"]

STATUSES = ("deteriorating", "watch", "improving", "stable")
DEFAULT_SUBJECT = "Innovation, supplier staff, contact centre"


# ---------------------------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------------------------


def _scalar(value, name: str) -> float:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size != 1:
        raise ValueError(f"`latest_change` {name} must be a single value (one cell)")
    return float(arr[0])


def _field(obj, name: str):
    if isinstance(obj, Mapping):
        if name not in obj:
            raise ValueError(f"`latest_change` needs {name!r}")
        return obj[name]
    if not hasattr(obj, name):
        raise ValueError(f"`latest_change` needs {name!r}")
    return getattr(obj, name)


def _classify_iv(series_means, series_labels, points, latest_change):
    y = as_float_array(series_means, name="series_means", ndim=1)
    labels = [str(s) for s in series_labels]
    if len(labels) != y.shape[0]:
        raise ValueError("`series_labels` must have one label per wave")
    points = check_points(points)
    change = None
    if latest_change is not None:
        change = (
            _scalar(_field(latest_change, "difference"), "difference"),
            _scalar(_field(latest_change, "p_adjusted"), "p_adjusted"),
        )
    return y, labels, points, change


def _latest(a: np.ndarray, obs_idx: np.ndarray):
    return a[obs_idx[-1]] if obs_idx.size else np.nan


# ---------------------------------------------------------------------------------------------
# classify
# ---------------------------------------------------------------------------------------------


def classify(
    series_means,
    series_labels: Sequence[str],
    *,
    points: int,
    latest_change=None,
    mk=None,
    ts=None,
    ewma=None,
    cusum=None,
    band=None,
    subject: str = DEFAULT_SUBJECT,
    cusum_high=None,
    alpha: float = 0.05,
    watch_alpha: float = 0.20,
    min_points: float = 5.0,
) -> StatusResult:
    r"""Status of one group and dimension from its series of wave means (DESIGN §4.12).

    Parameters
    ----------
    series_means : array_like, shape (n_waves,)
        Mean on the 1–K scale at each closed wave, in time order; NaN = no (or suppressed)
        value that wave.
    series_labels : sequence of str
        Wave labels, e.g. ``"2011-Q4"``.
    points : int
        Scale points K, to express changes on the 0–100 scale,
        :math:`100\,\Delta/(K-1)`.
    latest_change : ChangeResult-like, optional
        The test of the latest change for this cell: a mapping or object with scalar (or
        one-element) ``difference`` (current − previous, 1–K scale) and ``p_adjusted``
        (Benjamini–Hochberg adjusted within the wave), e.g. one cell of
        :func:`analysis.gaps.change_between_waves`. Without it the latest change is the
        difference of the last two observed wave means and counts as not tested.
    mk, ts, ewma, cusum, cusum_high : result objects, optional
        Precomputed :func:`analysis.trends.mann_kendall`, :func:`~analysis.trends.theil_sen`,
        :func:`~analysis.trends.ewma`, :func:`~analysis.trends.cusum_lower` and
        :func:`~analysis.trends.cusum_upper` of ``series_means``; each is computed with
        its defaults when not given.
    band : str, optional
        Band of the latest wave (``"strength"``, ``"borderline"`` or ``"concern"``).
    subject : str, optional
        How the evidence names the cell.
    alpha, watch_alpha : float, optional
        Levels for *deteriorating*/*improving* (0.05) and *watch* (0.20).
    min_points : float, optional
        Smallest change on the 0–100 scale that counts (5).

    Returns
    -------
    StatusResult

    Notes
    -----
    The rules, checked in this order (the first that holds wins):

    * **deteriorating** — Mann–Kendall :math:`p < 0.05` with a negative slope; or the latest
      change is a drop that is significant after adjustment and at least 5 points on the
      0–100 scale; or the EWMA is below its lower limit, or the lower CUSUM above its
      decision interval, *at the latest wave*.
    * **watch** — Mann–Kendall :math:`p < 0.20` with a negative slope; or a drop of 5+
      points that is not significant (or not tested); or the latest band is *concern*.
    * **improving** — the mirror image of deteriorating (a rising trend, a significant
      rise of 5+ points, EWMA above its upper limit or the upper CUSUM signalling).
    * **stable** — none of these.

    "Slope" is the sign of Kendall's S (the direction the Mann–Kendall test measures);
    the Theil–Sen slope is reported beside it. The Mann–Kendall test needs 5 waves and the
    charts 3 baseline waves: with fewer, the evidence says so instead of giving a number.
    Deteriorating is checked before improving, so a significant latest drop in a rising
    series is reported as deteriorating — the service errs towards an early warning.

    References
    ----------
    .. [1] DESIGN.md §4.11–4.12.
    """
    y, labels, points, change = _classify_iv(series_means, series_labels, points, latest_change)
    scale = 100.0 / (points - 1)
    obs_idx = np.flatnonzero(~np.isnan(y))
    n_obs = obs_idx.size
    first_label = labels[obs_idx[0]] if n_obs else ""
    last_label = labels[obs_idx[-1]] if n_obs else ""

    mk = trends.mann_kendall(y) if mk is None else mk
    ts = trends.theil_sen(y) if ts is None else ts
    ewma = trends.ewma(y) if ewma is None else ewma
    cusum = trends.cusum_lower(y) if cusum is None else cusum
    cusum_high = trends.cusum_upper(y) if cusum_high is None else cusum_high

    evidence: list[Evidence] = []

    def add(kind, body, supports="", **numbers):
        evidence.append(Evidence(kind, f"{subject}: {body}", supports, **numbers))

    # -- trend ----------------------------------------------------------------------------
    span_points = (y[obs_idx[-1]] - y[obs_idx[0]]) * scale if n_obs else math.nan
    if mk.reason:
        add(
            "trend",
            f"Mann\N{EN DASH}Kendall trend test {mk.reason} (has {n_obs})",
            n_waves=n_obs,
            from_label=first_label,
            to_label=last_label,
        )
    else:
        s, p = float(mk.s), float(mk.p)
        supports = ""
        if p < alpha and s < 0:
            supports = "deteriorating"
        elif p < alpha and s > 0:
            supports = "improving"
        elif p < watch_alpha and s < 0:
            supports = "watch"
        body = (
            f"{format_points(span_points)} since {first_label}; "
            f"Mann\N{EN DASH}Kendall {format_p(p)} over {int(mk.n)} waves"
        )
        if not ts.reason and np.isfinite(ts.slope):
            body += (
                f"; Theil\N{EN DASH}Sen slope {format_slope(float(ts.slope) * scale)} points a wave"
            )
        if not supports:
            body += " (no clear trend)"
        add(
            "trend",
            body,
            supports,
            statistic=s,
            p=p,
            n_waves=int(mk.n),
            from_label=first_label,
            to_label=last_label,
            points_change=float(span_points),
        )

    # -- latest change --------------------------------------------------------------------
    if n_obs < 2 and change is None:
        add("change", "no earlier wave to compare with", n_waves=n_obs, to_label=last_label)
    else:
        prev_label = labels[obs_idx[-2]] if n_obs >= 2 else "the previous wave"
        if change is None:
            diff, p_adj = float(y[obs_idx[-1]] - y[obs_idx[-2]]), math.nan
        else:
            diff, p_adj = change
        pts = diff * scale
        significant = bool(p_adj < alpha)
        tested = not math.isnan(p_adj)
        if tested:
            sig_text = (
                f"significant after adjustment ({format_p(p_adj)})"
                if significant
                else f"not significant after adjustment ({format_p(p_adj)})"
            )
        else:
            sig_text = "not tested"
        supports, kind = "", "change"
        if pts <= -min_points:
            kind = "drop"
            supports = "deteriorating" if significant else "watch"
        elif pts >= min_points:
            kind = "rise"
            supports = "improving" if significant else ""
        add(
            kind,
            f"{format_points(pts)} since {prev_label}, {sig_text}",
            supports,
            statistic=diff,
            p=p_adj,
            n_waves=2,
            from_label=prev_label,
            to_label=last_label,
            points_change=pts,
        )

    # -- EWMA -----------------------------------------------------------------------------
    if ewma.reason:
        add("ewma", f"EWMA early-warning chart {ewma.reason} (has {n_obs})", n_waves=n_obs)
    else:
        z = float(_latest(ewma.z, obs_idx))
        low, high = float(_latest(ewma.lower, obs_idx)), float(_latest(ewma.upper, obs_idx))
        if bool(_latest(ewma.signal_low, obs_idx)):
            said, supports = f"fell below its lower control limit {low:.2f}", "deteriorating"
        elif bool(_latest(ewma.signal_high, obs_idx)):
            said, supports = f"rose above its upper control limit {high:.2f}", "improving"
        else:
            said, supports = f"within its control limits ({low:.2f} to {high:.2f})", ""
        add(
            "ewma",
            f"EWMA {z:.2f} {said} in {last_label}",
            supports,
            statistic=z,
            n_waves=n_obs,
            to_label=last_label,
        )

    # -- CUSUM ----------------------------------------------------------------------------
    for res, word, supports in (
        (cusum, "shortfall", "deteriorating"),
        (cusum_high, "gain", "improving"),
    ):
        if res.reason:
            if supports == "deteriorating":  # say it once
                add("cusum", f"CUSUM chart {res.reason} (has {n_obs})", n_waves=n_obs)
            continue
        c = float(_latest(res.c, obs_idx))
        if bool(_latest(res.signal, obs_idx)):
            add(
                "cusum",
                f"cumulative {word} {c:.2f} exceeds the CUSUM decision interval "
                f"{float(res.h):.2f} in {last_label}",
                supports,
                statistic=c,
                n_waves=n_obs,
                to_label=last_label,
            )

    # -- band -----------------------------------------------------------------------------
    if band is not None and str(band).lower() == "concern":
        add("band", f"in the concern band in {last_label}", "watch", to_label=last_label)

    # -- decision -------------------------------------------------------------------------
    status = next((s for s in STATUSES[:3] if any(e.supports == s for e in evidence)), "stable")
    order = {s: i for i, s in enumerate(STATUSES[:3])}
    evidence.sort(key=lambda e: (e.supports != status, order.get(e.supports, 9)))
    return StatusResult(status, tuple(evidence), _summary(subject, status, evidence))


def _summary(subject: str, status: str, evidence: list[Evidence]) -> str:
    prefix = f"{subject}: "
    lead = [e.text.removeprefix(prefix) for e in evidence if e.supports == status]
    if not lead:
        lead = [e.text.removeprefix(prefix) for e in evidence if e.kind == "trend"][:1]
    return f"{subject}: {status}" + (f" \N{EM DASH} {'; '.join(lead)}" if lead else "")


# ---------------------------------------------------------------------------------------------
# gap widening
# ---------------------------------------------------------------------------------------------


def gap_widening(
    gap_series_abs_diff,
    labels: Sequence[str],
    latest_change_p=None,
    *,
    subject: str = DEFAULT_SUBJECT,
    alpha: float = 0.05,
    mk=None,
) -> GapAlert:
    r"""Alert when the client–supplier perception gap widens (DESIGN §4.12, last sentence).

    Parameters
    ----------
    gap_series_abs_diff : array_like, shape (n_waves,)
        :math:`|\bar x_{client} - \bar x_{supplier}|` at each wave (1–K scale points), in
        time order; NaN = not available.
    labels : sequence of str
        Wave labels.
    latest_change_p : float, optional
        Adjusted p-value of the change in the gap between the last two observed waves,
        e.g. ``p_adjusted`` of :func:`analysis.gaps.gap_change_between_waves`.
    subject : str, optional
        How the evidence names the cell.
    alpha : float, optional
        Significance level (0.05).
    mk : MannKendallResult, optional
        Precomputed Mann–Kendall test of ``gap_series_abs_diff``.

    Returns
    -------
    GapAlert
        ``alert`` is true when (a) the gap grew since the previous observed wave and
        ``latest_change_p < alpha``, or (b) the Mann–Kendall test of the absolute gap is
        significant at ``alpha`` with S > 0 (the gap trends wider; 5+ waves needed).

    Notes
    -----
    The two sides drifting apart is the earliest sign that a partnership has turned into a
    contract, so this alert stands beside the status of the dimension itself.
    """
    g = as_float_array(gap_series_abs_diff, name="gap_series_abs_diff", ndim=1)
    labels = [str(s) for s in labels]
    if len(labels) != g.shape[0]:
        raise ValueError("`labels` must have one label per wave")
    if np.any(g[~np.isnan(g)] < 0):
        raise ValueError("`gap_series_abs_diff` must hold absolute differences (>= 0)")
    obs_idx = np.flatnonzero(~np.isnan(g))
    n_obs = obs_idx.size
    evidence: list[Evidence] = []

    def add(kind, body, supports="", **numbers):
        evidence.append(Evidence(kind, f"{subject}: {body}", supports, **numbers))

    if n_obs >= 2:
        prev, curr = g[obs_idx[-2]], g[obs_idx[-1]]
        prev_label, curr_label = labels[obs_idx[-2]], labels[obs_idx[-1]]
        verb = "widened" if curr > prev else "narrowed" if curr < prev else "held"
        p = math.nan if latest_change_p is None else _scalar(latest_change_p, "p")
        alert = bool(curr > prev and p < alpha)
        if math.isnan(p):
            sig = "not tested"
        else:
            word = "significant" if p < alpha else "not significant"
            sig = f"{word} after adjustment ({format_p(p)})"
        add(
            "gap_widening",
            f"gap between client and supplier {verb} from {prev:.2f} to {curr:.2f} scale "
            f"points since {prev_label}, {sig}",
            "alert" if alert else "",
            statistic=float(curr - prev),
            p=p,
            n_waves=2,
            from_label=prev_label,
            to_label=curr_label,
        )
    else:
        add("gap_widening", "no earlier wave to compare the gap with", n_waves=n_obs)

    mk = trends.mann_kendall(g, alpha=alpha) if mk is None else mk
    if mk.reason:
        add(
            "gap_trend",
            f"Mann\N{EN DASH}Kendall trend test of the gap {mk.reason} (has {n_obs})",
            n_waves=n_obs,
        )
    else:
        wider = bool(mk.p < alpha and mk.s > 0)
        first, last = labels[obs_idx[0]], labels[obs_idx[-1]]
        trend_word = "trending wider" if mk.s > 0 else "trending narrower" if mk.s < 0 else "flat"
        add(
            "gap_trend",
            f"gap between client and supplier {trend_word} since {first}; "
            f"Mann\N{EN DASH}Kendall {format_p(float(mk.p))} over {int(mk.n)} waves",
            "alert" if wider else "",
            statistic=float(mk.s),
            p=float(mk.p),
            n_waves=int(mk.n),
            from_label=first,
            to_label=last,
        )
    alert = any(e.supports == "alert" for e in evidence)
    evidence.sort(key=lambda e: e.supports != "alert")
    prefix = f"{subject}: "
    if alert:
        bodies = "; ".join(e.text.removeprefix(prefix) for e in evidence if e.supports == "alert")
        summary = f"{subject}: perception gap widening \N{EM DASH} {bodies}"
    else:
        summary = f"{subject}: no sign that the perception gap is widening"
    return GapAlert(alert, tuple(evidence), summary)
