"""What lies behind a status: what moved, by how much, over which waves — and how we know.

:func:`explain_status` turns one series of :func:`analysis.alerts.assess_family` into a
:class:`~analysis.status.StatusResult`: a headline a manager can repeat, each piece of
evidence (:attr:`~analysis.status.Evidence.text`), and behind each the test and its limits
(:attr:`~analysis.status.Evidence.detail`, gathered in
:attr:`~analysis.status.StatusResult.how_we_know`). :func:`explain_gap` does the same for a
client–supplier gap as a :class:`~analysis.status.GapAlert`.

Nothing here is prose in any language: every sentence is a :class:`~analysis.status.Phrase`
(the name of a wording and the numbers it states, unrounded), and the service words it in
the reader's language when it is shown (``survey_app/services/results/wording.py``, which
lists every key and its English).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from analysis._common import check_points
from analysis.alerts import FamilyStatuses
from analysis.detector import RULES
from analysis.status import Evidence, GapAlert, Phrase, StatusResult

__all__ = ["explain_status", "explain_statuses", "explain_gap", "explain_gaps", "gap_movement"]


class _Family:
    """Every series of a result as Python values, read once (the per-series functions below
    look values up here rather than indexing NumPy arrays one scalar at a time)."""

    def __init__(self, res: FamilyStatuses, labels: Sequence[str], points: int):
        width = res.means.shape[1]
        labels = [str(s) for s in labels][-width:]
        if len(labels) != width:
            raise ValueError("`labels` must name every wave given to the assessment")
        self.res, self.labels = res, labels
        self.scale = 100.0 / (points - 1)
        self.means = res.means.tolist()
        self.var = res.var.tolist()
        observed = ~np.isnan(res.means) & ~np.isnan(res.var)
        self.obs = [np.flatnonzero(row).tolist() for row in observed]
        self.status = [str(x) for x in res.status.tolist()]
        self.reasons = [str(x) for x in res.reasons.tolist()]
        self.p_fall, self.p_rise = res.p_fall.tolist(), res.p_rise.tolist()
        self.n_baseline = res.config.n_baseline
        #: Fields of the result (:class:`~analysis.alerts.FamilyStatuses`) and its rule
        #: statistics (:class:`~analysis.detector.RuleStatistics`) as lists, read when first
        #: asked for.
        self.fields, self.stats = _Lists(res), _Lists(res.stats)


class _Lists(dict):
    """``name`` → ``getattr(source, name).tolist()``, made when first looked up."""

    def __init__(self, source: object):
        super().__init__()
        self.source = source

    def __missing__(self, name: str) -> list:
        values = self[name] = getattr(self.source, name).tolist()
        return values


class _Series:
    """One series of a result, with its labels."""

    __slots__ = ("fam", "res", "i", "scale", "obs", "y", "labels", "t", "base", "last", "prev")

    def __init__(self, fam: _Family, i: int):
        self.fam, self.res, self.i = fam, fam.res, i
        self.scale, self.labels = fam.scale, fam.labels
        self.obs = obs = fam.obs[i]
        self.y = fam.means[i]
        self.t = t = len(obs)
        labels = fam.labels
        b = min(t, fam.n_baseline)
        self.base = (labels[obs[0]], labels[obs[b - 1]]) if t else ("", "")
        self.last = labels[obs[-1]] if t else ""
        self.prev = labels[obs[-2]] if t >= 2 else ""

    def base_facts(self) -> dict[str, str]:
        """The baseline's first and last wave (the same wave for a one-wave baseline)."""
        return {"base_from": self.base[0], "base_to": self.base[1]}

    def value(self, name: str) -> float:
        """Rule statistic ``name`` of this series (:class:`~analysis.detector.RuleStatistics`)."""
        return float(self.fam.stats[name][self.i])

    def p_rule(self, col: int, direction: int) -> float:
        table = self.fam.p_fall if direction < 0 else self.fam.p_rise
        return float(table[self.i][col])


def _headline(s: _Series, status: str) -> Phrase:
    """What moved, in points on the 0–100 scale, and where the series stands now."""
    if s.t == 0:
        return Phrase("headline.none", {"status": status})
    if s.t == 1:
        return Phrase("headline.one", {"status": status, "wave": s.last})
    latest = float(s.y[s.obs[-1]])
    now = {"status": status, "now": (latest - 1.0) * s.scale, "wave": s.last}
    reasons = s.fam.reasons[s.i]
    since = {"change": s.value("change") * s.scale, "prev": s.prev, **now}
    if status == "watch" and "drop" in reasons and "p" not in reasons:
        return Phrase("headline.since", since)
    if status == "watch" and reasons == "concern":
        return Phrase("headline.band", now)
    center = s.value("center")
    if math.isnan(center):
        return Phrase("headline.since", since)
    return Phrase("headline.base", {"change": (latest - center) * s.scale, **s.base_facts(), **now})


def _level_evidence(s: _Series, supports: str) -> Evidence:
    z, sd, center, ewma = (s.value(n) for n in ("ewma_z", "ewma_sd", "center", "ewma"))
    width = s.res.config.limit_width
    direction = -1 if z < 0 else 1
    p = s.p_rule(0, direction)
    pts = (ewma - center) * s.scale
    text = Phrase("ewma", {"change": pts, "ewma": ewma, "center": center, **s.base_facts()})
    detail = Phrase(
        "ewma.how",
        {
            "lam": float(s.res.config.lam),
            "ewma": ewma,
            "center": center,
            "z": z,
            "sd": sd,
            "low": center - width * sd,
            "high": center + width * sd,
            "p": p,
        },
    )
    return Evidence("ewma", text, supports, ewma, p, s.t, s.base[0], s.last, pts, detail)


def _cusum_evidence(s: _Series, direction: int, supports: str) -> Evidence:
    name = "cusum_fall" if direction < 0 else "cusum_rise"
    c = s.value(name)
    p = s.p_rule(1, direction)
    cfg = s.res.config
    text = Phrase("cusum", {"direction": direction, "sum": c})
    detail = Phrase(
        "cusum.how",
        {
            "direction": direction,
            "sum": c,
            "k": float(cfg.cusum_k),
            "h": float(cfg.cusum_h),
            "p": p,
        },
    )
    return Evidence("cusum", text, supports, c, p, s.t, s.base[0], s.last, math.nan, detail)


def _trend_evidence(s: _Series, supports: str) -> Evidence:
    if s.t < 5:
        text = Phrase("trend.short", {"n": int(s.t), "needs": 5})
        detail = Phrase("trend.short.how", {"needs": 5})
        return Evidence("trend", text, "", n_waves=s.t, detail=detail)
    z = s.value("mk_z")
    direction = -1 if z < 0 else 1
    p = s.p_rule(2, direction)
    first = s.labels[s.obs[0]]
    span = (float(s.y[s.obs[-1]]) - float(s.y[s.obs[0]])) * s.scale
    slope = s.fam.fields["slope"][s.i] * s.scale
    text = Phrase("trend", {"n": int(s.t), "first": first, "change": span, "slope": slope})
    detail = Phrase(
        "trend.how", {"s": s.value("mk_s"), "n": int(s.t), "z": z, "p": p, "slope": slope}
    )
    return Evidence("trend", text, supports, s.value("mk_s"), p, s.t, first, s.last, span, detail)


def _change_evidence(s: _Series, supports: str) -> Evidence:
    d, z = s.value("change"), s.value("change_z")
    direction = -1 if d < 0 else 1
    p = s.p_rule(3, direction)
    pts = d * s.scale
    kind = "drop" if pts <= -5 else "rise" if pts >= 5 else "change"
    text = Phrase("change", {"change": pts, "prev": s.prev})
    noise = abs(d / z) if z else math.nan
    detail = Phrase("change.how", {"d": d, "z": z, "noise": noise, "p": p})
    return Evidence(kind, text, supports, d, p, 2, s.prev, s.last, pts, detail)


def _decision_evidence(s: _Series, status: str, family: str) -> Evidence:
    f, i = s.fam, s.i
    p, p_adj = float(f.fields["p"][i]), float(f.fields["p_adjusted"][i])
    level = float(f.fields["level"][i])
    col = int(f.fields["strongest"][i])
    flagged = bool(f.fields["flagged"][i])
    text = Phrase("decision", {"flagged": flagged, "p": p, "family": family})
    detail = Phrase(
        "decision.how",
        {
            "rule": RULES[col] if col >= 0 else "",
            "p": p,
            "pool": int(f.fields["pool_size"][i]),
            "p_adjusted": p_adj,
            "level": level,
            "route": str(f.fields["route"][i]),
        },
    )
    supports = status if flagged else ""
    return Evidence("decision", text, supports, p, p_adj, s.t, s.base[0], s.last, math.nan, detail)


def _noise_evidence(s: _Series) -> Evidence:
    res, f, i = s.res, s.fam, s.i
    se = math.sqrt(float(f.var[i][s.obs[-1]]))
    tau2 = float(f.fields["tau2"][i])
    group = int(res.structure.noise_group[i])
    text = Phrase(
        "noise", {"sampling": 1.96 * se, "wave": s.last, "between": 1.96 * math.sqrt(tau2)}
    )
    detail = Phrase(
        "noise.how",
        {
            "se": se,
            "tau2": tau2,
            "method": str(res.variance.method).upper(),
            "pool": int(f.fields["pool_size"][i]),
            "df": int(res.variance.df[group]),
        },
    )
    return Evidence("noise", text, "", tau2, math.nan, s.t, s.base[0], s.base[1], math.nan, detail)


def _evidence(s: _Series, status: str, family: str) -> list[Evidence]:
    if s.t < 2:
        text = Phrase("one_survey") if s.t else Phrase("no_results")
        return [Evidence("change", text, "", n_waves=s.t, to_label=s.last)]
    direction = int(s.fam.fields["direction"][s.i]) or -1
    flag_dir = status if status in ("deteriorating", "improving", "widening", "narrowing") else ""

    def backs(col: int, d: int) -> str:
        if flag_dir and d == direction and s.p_rule(col, d) < 0.05:
            return flag_dir
        if status == "watch" and d < 0 and s.p_rule(col, d) < 0.05:
            return "watch"
        return ""

    out = []
    if s.t >= 3:
        d_ewma = -1 if s.value("ewma_z") < 0 else 1
        out.append(_level_evidence(s, backs(0, d_ewma)))
        out.append(_cusum_evidence(s, direction, backs(1, direction)))
    d_mk = -1 if s.t >= 5 and s.value("mk_z") < 0 else 1
    out.append(_trend_evidence(s, backs(2, d_mk) if s.t >= 5 else ""))
    d_ch = -1 if s.value("change") < 0 else 1
    change = _change_evidence(s, backs(3, d_ch))
    if status == "watch" and "drop" in s.fam.reasons[s.i]:
        change = dataclasses.replace(change, supports="watch")
    out.append(change)
    out.append(_decision_evidence(s, flag_dir, family))
    out.append(_noise_evidence(s))
    return out


def explain_status(
    result: FamilyStatuses,
    i: int,
    *,
    labels: Sequence[str],
    points: int = 5,
    family: str = "series",
) -> StatusResult:
    """The status of series ``i`` with its evidence and how we know.

    Parameters
    ----------
    result : FamilyStatuses
        :func:`analysis.alerts.assess_family` of the family.
    i : int
        Row of the series.
    labels : sequence of str
        Labels of the waves given to the assessment (the last ``window`` are used).
    points : int, optional
        Scale points K, for the 0–100 scale.
    family : str, optional
        What the family's series are, for the decision's sentence (a key the wording
        knows: ``"series"``, ``"groups"``, ``"gaps"``).

    Returns
    -------
    StatusResult
        ``summary`` is the headline: e.g. ``Phrase("headline.base", {"change": -12.3,
        "base_from": "2011-Q4", "base_to": "2012-Q3", "now": 58.2, "wave": "2013-Q4", ...})``,
        worded "down 12 points on its 2011-Q4–2012-Q3 level, now 58 out of 100 in 2013-Q4".
        Evidence that backs the status comes first; ``how_we_know`` gathers every piece's
        ``detail``.
    """
    fam = _Family(result, labels, check_points(points))
    return _explain_status(_Series(fam, int(i)), family)


def explain_statuses(
    result: FamilyStatuses, *, labels: Sequence[str], points: int = 5, family: str = "series"
) -> list[StatusResult]:
    """:func:`explain_status` of every series of ``result``, in order (the family's arrays
    read once for all of them)."""
    fam = _Family(result, labels, check_points(points))
    return [_explain_status(_Series(fam, i), family) for i in range(len(fam.obs))]


def _explain_status(s: _Series, family: str) -> StatusResult:
    status = s.fam.status[s.i]
    evidence = _evidence(s, status, family)
    if status == "watch" and "concern" in s.fam.reasons[s.i]:
        evidence.append(
            Evidence("band", Phrase("band", {"wave": s.last}), "watch", to_label=s.last)
        )
    evidence.sort(key=lambda e: e.supports != status)
    how = tuple(e.detail for e in evidence if e.detail is not None)
    return StatusResult(status, tuple(evidence), _headline(s, status), how)


def gap_movement(latest: float, baseline: float, *, digits: int = 2) -> str:
    """How a signed gap moved from its baseline to its latest value, as shown to ``digits``
    decimals: ``"widened"`` (further from zero, the same side higher), ``"narrowed"``
    (closer to zero, the same side higher), ``"reversed"`` (the other side higher now),
    ``"same"`` (equal as shown), or ``""`` when either is unknown or a side is level."""
    if math.isnan(latest) or math.isnan(baseline):
        return ""
    now, was = round(latest, digits), round(baseline, digits)
    if now == 0 or was == 0:
        return ""
    if (now > 0) != (was > 0):
        return "reversed"
    if abs(now) == abs(was):
        return "same"
    return "widened" if abs(now) > abs(was) else "narrowed"


def explain_gap(
    result: FamilyStatuses,
    i: int,
    *,
    labels: Sequence[str],
    points: int = 5,
) -> GapAlert:
    """The client–supplier gap of series ``i`` of :func:`analysis.alerts.assess_gap_family`.

    Returns
    -------
    GapAlert
        ``alert`` for a widening gap. The summary, ``Phrase("gap", ...)``, states the gap
        now (``apart`` scale points, ``higher`` the side above), the baseline gap ``was``
        (signed like the gap: client − supplier; None before a baseline) and how it moved
        (:func:`gap_movement`: widened, narrowed or reversed — a gap that crossed zero is
        named as such, never as one that widened or narrowed on the same side).
    """
    fam = _Family(result, labels, check_points(points))
    return _explain_gap(_Series(fam, int(i)))


def explain_gaps(
    result: FamilyStatuses, *, labels: Sequence[str], points: int = 5
) -> list[GapAlert]:
    """:func:`explain_gap` of every series of ``result``, in order (its arrays read once)."""
    fam = _Family(result, labels, check_points(points))
    return [_explain_gap(_Series(fam, i)) for i in range(len(fam.obs))]


def _explain_gap(s: _Series) -> GapAlert:
    status = s.fam.status[s.i]
    evidence = _evidence(s, status, "gaps")
    alert = status == "widening"
    if s.t:
        latest = float(s.y[s.obs[-1]])
        center = s.value("center")
        facts = {
            "status": status,
            "apart": abs(latest),
            "higher": "client" if latest > 0 else "supplier" if latest < 0 else "",
            "wave": s.last,
            "was": center,
            "movement": gap_movement(latest, center),
            **s.base_facts(),
        }
        summary = Phrase("gap", facts)
    else:
        summary = Phrase("gap.none", {"status": status})
    evidence.sort(key=lambda e: e.supports != status)
    how = tuple(e.detail for e in evidence if e.detail is not None)
    return GapAlert(alert, tuple(evidence), summary, how)
