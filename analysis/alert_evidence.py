"""The words behind a status: what moved, by how much, over which waves — and how we know.

:func:`explain_status` turns one series of :func:`analysis.alerts.assess_family` into a
:class:`~analysis.status.StatusResult`: a summary a manager can repeat, each piece of
evidence in plain English (:attr:`~analysis.status.Evidence.text`), and behind each the
test and its limits (:attr:`~analysis.status.Evidence.detail`, joined in
:attr:`~analysis.status.StatusResult.how_we_know`). :func:`explain_gap` does the same for
a client–supplier gap as a :class:`~analysis.status.GapAlert`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from analysis._common import check_points, format_p, format_points
from analysis.alerts import FamilyStatuses
from analysis.detector import RULES
from analysis.status import Evidence, GapAlert, StatusResult

__all__ = ["STATUS_WORDS", "explain_status", "explain_gap"]

#: How a status reads in a sentence.
STATUS_WORDS = {
    "deteriorating": "getting worse",
    "improving": "getting better",
    "watch": "worth watching",
    "stable": "no clear change",
    "widening": "the gap is widening",
    "narrowing": "the gap is narrowing",
}
_RULE_NAMES = {
    "ewma": "the recent level (EWMA)",
    "cusum": "the build-up of small changes (CUSUM)",
    "mann_kendall": "the trend over all waves (Mann\N{EN DASH}Kendall)",
    "latest_change": "the latest change",
}
_MINUS = "\N{MINUS SIGN}"


def _num(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}".replace("-", _MINUS)


def _odds(p: float) -> str:
    """'1 in 40' for a probability, to two significant figures ('fewer than 1 in 10,000')."""
    if not p >= 1e-4:
        return "fewer than 1 in 10,000"
    n = 1.0 / p
    digits = max(0, int(math.floor(math.log10(n))) - 1)
    return f"1 in {int(round(n, -digits)):,}"


class _Series:
    """One series of a result, with its labels, read once."""

    def __init__(self, res: FamilyStatuses, i: int, labels: Sequence[str], points: int):
        y = res.means[i]
        width = y.size
        labels = [str(s) for s in labels][-width:]
        if len(labels) != width:
            raise ValueError("`labels` must name every wave given to the assessment")
        self.res, self.i, self.scale = res, i, 100.0 / (points - 1)
        self.points = points
        self.obs = np.flatnonzero(~np.isnan(y) & ~np.isnan(res.var[i]))
        self.y = y
        self.labels = labels
        self.st = res.stats
        self.t = self.obs.size
        b = min(self.t, res.config.n_baseline)
        self.base = (labels[self.obs[0]], labels[self.obs[b - 1]]) if self.t else ("", "")
        self.last = labels[self.obs[-1]] if self.t else ""
        self.prev = labels[self.obs[-2]] if self.t >= 2 else ""

    def base_words(self) -> str:
        b0, b1 = self.base
        return f"its {b0} level" if b0 == b1 else f"its {b0}\N{EN DASH}{b1} level"

    def value(self, name):
        return float(getattr(self.st, name)[self.i])

    def p_rule(self, col: int, direction: int) -> float:
        table = self.res.p_fall if direction < 0 else self.res.p_rise
        return float(table[self.i, col])


def _headline(s: _Series, status: str) -> str:
    if s.t == 0:
        return "no survey results yet"
    if s.t == 1:
        return f"only one survey so far ({s.last})"
    latest = float(s.y[s.obs[-1]])
    now = f"now {(latest - 1.0) * s.scale:.0f} out of 100 in {s.last}"
    reasons = str(s.res.reasons[s.i])
    if status == "watch" and "drop" in reasons and "p" not in reasons:
        return f"{format_points(s.value('change') * s.scale)} since {s.prev}, {now}"
    if status == "watch" and reasons == "concern":
        return f"in the concern band, {now}"
    center = s.value("center")
    if math.isnan(center):
        return f"{format_points(s.value('change') * s.scale)} since {s.prev}, {now}"
    return f"{format_points((latest - center) * s.scale)} on {s.base_words()}, {now}"


def _level_evidence(s: _Series, supports: str) -> Evidence:
    z, sd, center, ewma = (s.value(n) for n in ("ewma_z", "ewma_sd", "center", "ewma"))
    width = s.res.config.limit_width
    direction = -1 if z < 0 else 1
    p = s.p_rule(0, direction)
    pts = (ewma - center) * s.scale
    text = (
        f"The recent level, which counts the latest surveys most, is {format_points(pts)} on "
        f"{s.base_words()} ({_num(ewma)} against {_num(center)})."
    )
    if format_points(pts) == "no change":
        text = f"The recent level, which counts the latest surveys most, is at {s.base_words()}."
    detail = (
        f"EWMA (\N{GREEK SMALL LETTER LAMDA} = {s.res.config.lam:g}) {_num(ewma)} against the "
        f"baseline {_num(center)}: z = {_num(z)} (its standard error {_num(sd, 3)} from the "
        f"noise model); control limits {_num(center - width * sd)} to "
        f"{_num(center + width * sd)}; one-sided {format_p(p)}."
    )
    return Evidence("ewma", text, supports, ewma, p, s.t, s.base[0], s.last, pts, detail)


def _cusum_evidence(s: _Series, direction: int, supports: str) -> Evidence:
    name = "cusum_fall" if direction < 0 else "cusum_rise"
    c = s.value(name)
    p = s.p_rule(1, direction)
    word = "falls" if direction < 0 else "rises"
    text = (
        f"Small {word} have added up wave after wave to {_num(c, 1)} times the usual "
        f"wave-to-wave noise."
        if c > 0
        else f"No run of {word} has built up."
    )
    cfg = s.res.config
    detail = (
        f"{'Lower' if direction < 0 else 'Upper'} CUSUM {_num(c, 1)}\N{GREEK SMALL LETTER SIGMA}"
        f" (k = {cfg.cusum_k:g}\N{GREEK SMALL LETTER SIGMA}, decision interval "
        f"{cfg.cusum_h:g}\N{GREEK SMALL LETTER SIGMA}); {format_p(p)} on simulated series "
        "with no change."
    )
    return Evidence("cusum", text, supports, c, p, s.t, s.base[0], s.last, math.nan, detail)


def _trend_evidence(s: _Series, supports: str) -> Evidence:
    if s.t < 5:
        text = f"Too few surveys for a trend test (it needs 5; there are {s.t})."
        return Evidence(
            "trend", text, "", n_waves=s.t, detail="Mann\N{EN DASH}Kendall: needs 5 waves."
        )
    z = s.value("mk_z")
    direction = -1 if z < 0 else 1
    p = s.p_rule(2, direction)
    first = s.labels[s.obs[0]]
    span = (float(s.y[s.obs[-1]]) - float(s.y[s.obs[0]])) * s.scale
    slope = float(s.res.slope[s.i]) * s.scale
    text = f"Over {s.t} surveys since {first}: {format_points(span)}"
    if abs(slope) >= 0.5:
        text += f", about {abs(slope):.0f} point{'s' if round(abs(slope)) != 1 else ''} a wave"
    text += "."
    detail = (
        f"Mann\N{EN DASH}Kendall S = {_num(s.value('mk_s'), 0)} over {s.t} waves, z = {_num(z)}, "
        f"one-sided {format_p(p)}; Theil\N{EN DASH}Sen slope {_num(slope, 1)} points a wave."
    )
    return Evidence("trend", text, supports, s.value("mk_s"), p, s.t, first, s.last, span, detail)


def _change_evidence(s: _Series, supports: str) -> Evidence:
    d, z = s.value("change"), s.value("change_z")
    direction = -1 if d < 0 else 1
    p = s.p_rule(3, direction)
    pts = d * s.scale
    kind = "drop" if pts <= -5 else "rise" if pts >= 5 else "change"
    text = f"Since {s.prev}: {format_points(pts)}."
    detail = (
        f"Latest change {_num(d)} scale points, z = {_num(z)} against the noise of two waves "
        f"(\N{SQUARE ROOT}(\N{GREEK SMALL LETTER SIGMA}\N{LATIN SUBSCRIPT SMALL LETTER T}"
        f"\N{SUPERSCRIPT TWO} + \N{GREEK SMALL LETTER SIGMA}\N{LATIN SUBSCRIPT SMALL LETTER T}"
        f"\N{SUBSCRIPT MINUS}\N{SUBSCRIPT ONE}\N{SUPERSCRIPT TWO}) "
        f"= {_num(abs(d / z) if z else math.nan, 3)}); one-sided {format_p(p)}."
    )
    return Evidence(kind, text, supports, d, p, 2, s.prev, s.last, pts, detail)


def _decision_evidence(s: _Series, status: str, family_words: str) -> Evidence:
    res, i = s.res, s.i
    p, p_adj, level = float(res.p[i]), float(res.p_adjusted[i]), float(res.level[i])
    col = int(res.strongest[i])
    rule = _RULE_NAMES[RULES[col]] if col >= 0 else "no rule"
    flagged = bool(res.flagged[i])
    if flagged:
        text = (
            f"A series that is not changing would give a signal this strong in "
            f"{_odds(p)} surveys, and it stands out among the {family_words} of this "
            f"relationship even allowing for how many are watched."
        )
    else:
        text = (
            f"A signal this strong would come by chance in {_odds(p)} surveys: not strong "
            f"enough, with the {family_words} of this relationship watched at once."
        )
    route = str(res.route[i]) or "not flagged"
    detail = (
        f"Strongest rule: {rule}. The smallest of the four rules' one-sided p-values gives "
        f"{format_p(p)} on series with no change (simulated, \N{GREEK SMALL LETTER TAU}"
        f"\N{SUPERSCRIPT TWO} estimated as here, pool of {int(res.pool_size[i])} series); "
        f"Benjamini\N{EN DASH}Hochberg adjusted p = {p_adj:.3g} against {level:g} ({route})."
    )
    supports = status if flagged else ""
    return Evidence("decision", text, supports, p, p_adj, s.t, s.base[0], s.last, math.nan, detail)


def _noise_evidence(s: _Series) -> Evidence:
    res, i = s.res, s.i
    last = s.obs[-1]
    se = math.sqrt(float(res.var[i, last]))
    tau2 = float(res.tau2[i])
    group = int(res.structure.noise_group[i])
    df = int(res.variance.df[group])
    text = (
        f"Allowing for sampling error (\N{PLUS-MINUS SIGN}{_num(1.96 * se)} in {s.last}) and for "
        f"how much the waves move anyway (about \N{PLUS-MINUS SIGN}{_num(1.96 * math.sqrt(tau2))})."
    )
    detail = (
        f"\N{GREEK SMALL LETTER SIGMA}\N{LATIN SUBSCRIPT SMALL LETTER T} = \N{SQUARE ROOT}"
        f"(se\N{SUPERSCRIPT TWO} + \N{GREEK SMALL LETTER TAU}\N{SUPERSCRIPT TWO}) with se = "
        f"{_num(se, 3)}; \N{GREEK SMALL LETTER TAU}\N{SUPERSCRIPT TWO} = {tau2:.2g} "
        f"({res.variance.method.upper()}, pooled over the baseline waves of "
        f"{int(res.pool_size[i])} series, {df} degrees of freedom)."
    )
    return Evidence("noise", text, "", tau2, math.nan, s.t, s.base[0], s.base[1], math.nan, detail)


def _evidence(s: _Series, status: str, family_words: str) -> list[Evidence]:
    res, i = s.res, s.i
    if s.t < 2:
        text = "Only one survey so far: nothing to compare it with." if s.t else "No results yet."
        return [Evidence("change", text, "", n_waves=s.t, to_label=s.last)]
    direction = int(res.direction[i]) or -1
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
    if status == "watch" and "drop" in str(res.reasons[i]):
        change = dataclasses.replace(change, supports="watch")
    out.append(change)
    out.append(_decision_evidence(s, flag_dir, family_words))
    out.append(_noise_evidence(s))
    return out


def explain_status(
    result: FamilyStatuses,
    i: int,
    *,
    subject: str,
    labels: Sequence[str],
    points: int = 5,
    family_words: str = "series",
) -> StatusResult:
    """The status of series ``i`` in words, with its evidence and how we know.

    Parameters
    ----------
    result : FamilyStatuses
        :func:`analysis.alerts.assess_family` of the family.
    i : int
        Row of the series.
    subject : str
        How the evidence names the series, e.g. ``"Innovation, supplier staff, all
        service areas"``.
    labels : sequence of str
        Labels of the waves given to the assessment (the last ``window`` are used).
    points : int, optional
        Scale points K, for the 0–100 scale.
    family_words : str, optional
        What the family's series are called in a sentence ("series").

    Returns
    -------
    StatusResult
        ``summary`` is ``"{subject}: {status in words} — {what moved}"``, e.g.
        ``"Innovation, supplier staff, all service areas: getting worse — down 12 points on
        its 2011-Q4–2012-Q3 level, now 58 out of 100 in 2013-Q4"``. Evidence that backs the
        status comes first; ``how_we_know`` joins every piece's ``detail``.
    """
    points = check_points(points)
    s = _Series(result, int(i), labels, points)
    status = str(result.status[i])
    evidence = _evidence(s, status, family_words)
    if status == "watch" and "concern" in str(result.reasons[i]):
        evidence.append(
            Evidence("band", f"In the concern band in {s.last}.", "watch", to_label=s.last)
        )
    evidence.sort(key=lambda e: e.supports != status)
    summary = f"{subject}: {STATUS_WORDS[status]} \N{EM DASH} {_headline(s, status)}"
    how = "\n".join(e.detail for e in evidence if e.detail)
    return StatusResult(status, tuple(evidence), summary, how)


def explain_gap(
    result: FamilyStatuses,
    i: int,
    *,
    subject: str,
    labels: Sequence[str],
    points: int = 5,
) -> GapAlert:
    """The client–supplier gap of series ``i`` of :func:`analysis.alerts.assess_gap_family`.

    Returns
    -------
    GapAlert
        ``alert`` for a widening gap; the summary says how far apart the two sides are now
        and were at the baseline, in scale points.
    """
    points = check_points(points)
    s = _Series(result, int(i), labels, points)
    status = str(result.status[i])
    evidence = _evidence(s, status, "gaps")
    alert = status == "widening"
    if s.t:
        latest = float(s.y[s.obs[-1]])
        center = s.value("center")
        now = f"{_num(abs(latest))} scale points apart in {s.last}"
        was = "" if math.isnan(center) else f", {_num(abs(center))} at {s.base_words()}"
        side = "client" if latest > 0 else "supplier"
        headline = f"{now}{was} (the {side} side higher)"
    else:
        headline = "no survey results yet"
    words = (
        "perception gap widening"
        if alert
        else (
            "perception gap narrowing"
            if status == "narrowing"
            else "no sign that the perception gap is widening"
        )
    )
    summary = f"{subject}: {words} \N{EM DASH} {headline}"
    evidence.sort(key=lambda e: e.supports != status)
    how = "\n".join(e.detail for e in evidence if e.detail)
    return GapAlert(alert, tuple(evidence), summary, how)
