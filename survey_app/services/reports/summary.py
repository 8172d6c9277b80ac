"""The board pack's first page in plain words: what needs attention, the index and its change,
the widest perception gaps and who answered.

Every number is a published one, written as the dashboard writes it (means to two decimals,
0–100 points to whole numbers); a suppressed cell is named, never estimated. Counts of people
under k are "fewer than k" (DESIGN §4.14).

:func:`alert_sentences` counts the alerts and names what needs attention first — the alerts
service's ranking (:func:`~survey_app.services.alerts.needs_attention`: strength of evidence ×
size of the change × people covered, the heaviest of each dimension), as the dashboard does.
"""

from __future__ import annotations

from collections.abc import Sequence

from survey_app.services.alerts import Alert, needs_attention
from survey_app.services.dashboard.wave_charts import MaterialGap
from survey_app.services.monitoring import RateRow
from survey_app.services.reports.model import IndexFigure, Summary

#: How many alerts and gaps the first page names.
NAMED = 3
#: Below this adjusted p a change between waves is "a real change" (DESIGN §4.10).
ALPHA = 0.05


def summarise(
    *,
    wave: str,
    k: int,
    index: Sequence[IndexFigure],
    alerts: Sequence[Alert],
    material_gaps: Sequence[MaterialGap],
    total: RateRow | None,
) -> Summary:
    """The first page's sentences for the wave labelled ``wave``."""
    return Summary(
        alerts=tuple(alert_sentences(wave, alerts)),
        index=tuple(index_sentences(index)),
        gaps=tuple(gap_sentences(wave, material_gaps)),
        responses=tuple(response_sentences(index, total, k)),
    )


def alert_sentences(wave: str, alerts: Sequence[Alert]) -> list[str]:
    """How many groups are getting worse or drifting apart, and the first few named."""
    worse = [a for a in alerts if a.kind == "deteriorating"]
    apart = [a for a in alerts if a.kind == "gap_widening"]
    if not worse and not apart:
        return [f"Nothing is getting worse with enough evidence to say so, as of {wave}."]
    counts = []
    if worse:
        counts.append(f"{_count(len(worse), 'group is', 'groups are')} getting worse")
    if apart:
        counts.append(f"{_count(len(apart), 'perception gap is', 'perception gaps are')} widening")
    sentences = [f"As of {wave}, {' and '.join(counts)}."]
    named = needs_attention(alerts) or apart
    sentences += [alert_headline(a) for a in named[:NAMED]]
    return sentences


def index_sentences(index: Sequence[IndexFigure]) -> list[str]:
    """The health index of each side and both, with the change since the wave before."""
    return [_index_sentence(figure) for figure in index]


def gap_sentences(wave: str, gaps: Sequence[MaterialGap]) -> list[str]:
    """The widest material perception gaps of the wave, widest first."""
    if not gaps:
        return [f"No material perception gap can be shown in {wave}."]
    widest = sorted(gaps, key=lambda g: -abs(g.difference))[:NAMED]
    return [
        f"{g.title}, {_area(g.area_name)}: client staff {g.mean_client:.2f}, supplier staff "
        f"{g.mean_supplier:.2f} — the {'client' if g.difference < 0 else 'supplier'} side "
        f"scores it {abs(g.difference):.2f} lower."
        for g in widest
    ]


def response_sentences(index: Sequence[IndexFigure], total: RateRow | None, k: int) -> list[str]:
    """Who answered (the published responses of each side) and the share of invitations."""
    by_side = {f.side: f for f in index}
    both = by_side.get("all")
    if both is None or both.n is None:
        return [f"Fewer than {k} people answered, or their number is hidden to protect a group."]
    parts = [
        f"{by_side[side].n:,} {side} staff"
        for side in ("client", "supplier")
        if side in by_side and by_side[side].n is not None
    ]
    sentence = f"{both.n:,} people's answers are scored"
    sentence += f" ({', '.join(parts)})." if parts else "."
    out = [sentence]
    if total is not None and total.rate is not None and total.submitted is not None:
        out.append(
            f"{total.submitted:,} of the {total.invited:,} invitations were used: a response "
            f"rate of {total.rate:.1f}%."
        )
    return out


def _index_sentence(f: IndexFigure) -> str:
    who = f.label
    if f.mean is None:
        return f"{who}: not shown ({f.hidden.lower()})."
    band = f", {f.band}" if f.band else ""
    text = f"{who}: {f.mean:.2f} out of 5 ({f.score100:.0f} out of 100{band})"
    if f.change_points is None or f.previous_wave is None:
        return text + "."
    points = abs(f.change_points)
    direction = "up" if f.change_points > 0 else "down" if f.change_points < 0 else "no change"
    if round(points) == 0:
        change = f"about the same as in {f.previous_wave}"
    else:
        change = f"{direction} {points:.0f} {'point' if round(points) == 1 else 'points'} since {f.previous_wave}"
    if f.change_p_adjusted is not None:
        real = f.change_p_adjusted < ALPHA
        change += (
            " — a real change" if real else " — within what chance alone would give"
        ) + f" (adjusted p {_p(f.change_p_adjusted)})"
    status = f"; status {f.status}" if f.status else ""
    return f"{text}, {change}{status}."


def alert_headline(alert: Alert) -> str:
    """An alert's summary up to its first piece of evidence: what, whose, and how much
    (e.g. "Trust, client staff, Contact centre: deteriorating — down 6 points since
    2009-Q2")."""
    head = alert.summary.split(";")[0].strip() if alert.summary else alert.group
    return head[0].upper() + head[1:] + "." if head else alert.group


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _area(name: str) -> str:
    return "all service areas" if name.lower() == "all service areas" else name


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
