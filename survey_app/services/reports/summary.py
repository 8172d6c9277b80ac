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

from flask_babel import gettext, ngettext

from survey_app.services.alerts import Alert, needs_attention
from survey_app.services.dashboard.charts import band_words
from survey_app.services.dashboard.wave_charts import MaterialGap
from survey_app.services.monitoring import RateRow
from survey_app.services.reports.model import IndexFigure, Summary
from survey_app.texts import N_

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
        return [
            gettext(
                "Nothing is getting worse with enough evidence to say so, as of %(wave)s.",
                wave=wave,
            )
        ]
    counts = []
    if worse:
        counts.append(
            ngettext(
                "%(num)d group is getting worse", "%(num)d groups are getting worse", len(worse)
            )
        )
    if apart:
        counts.append(
            ngettext(
                "%(num)d perception gap is widening",
                "%(num)d perception gaps are widening",
                len(apart),
            )
        )
    sentences = [
        gettext("As of %(wave)s, %(counts)s.", wave=wave, counts=gettext(" and ").join(counts))
    ]
    named = needs_attention(alerts) or apart
    sentences += [alert_headline(a) for a in named[:NAMED]]
    return sentences


def index_sentences(index: Sequence[IndexFigure]) -> list[str]:
    """The health index of each side and both, with the change since the wave before."""
    return [_index_sentence(figure) for figure in index]


def gap_sentences(wave: str, gaps: Sequence[MaterialGap]) -> list[str]:
    """The widest material perception gaps of the wave, widest first."""
    if not gaps:
        return [gettext("No material perception gap can be shown in %(wave)s.", wave=wave)]
    widest = sorted(gaps, key=lambda g: -abs(g.difference))[:NAMED]
    return [_gap_sentence(g) for g in widest]


def _gap_sentence(g: MaterialGap) -> str:
    words = {
        "client": N_(
            "%(what)s, %(area)s: client staff %(client)s, supplier staff %(supplier)s — the "
            "client side scores it %(points)s lower."
        ),
        "supplier": N_(
            "%(what)s, %(area)s: client staff %(client)s, supplier staff %(supplier)s — the "
            "supplier side scores it %(points)s lower."
        ),
    }
    return gettext(
        words["client" if g.difference < 0 else "supplier"],
        what=g.title,
        area=g.area_name,
        client=f"{g.mean_client:.2f}",
        supplier=f"{g.mean_supplier:.2f}",
        points=f"{abs(g.difference):.2f}",
    )


def response_sentences(index: Sequence[IndexFigure], total: RateRow | None, k: int) -> list[str]:
    """Who answered (the published responses of each side) and the share of invitations."""
    by_side = {f.side: f for f in index}
    both = by_side.get("all")
    if both is None or both.n is None:
        return [
            gettext(
                "Fewer than %(k)s people answered, or their number is hidden to protect a group.",
                k=k,
            )
        ]
    staff = {"client": N_("%(n)s client staff"), "supplier": N_("%(n)s supplier staff")}
    parts = [
        gettext(staff[side], n=f"{by_side[side].n:,}")
        for side in ("client", "supplier")
        if side in by_side and by_side[side].n is not None
    ]
    n = f"{both.n:,}"
    if parts:
        sentence = gettext(
            "%(n)s people’s answers are scored (%(parts)s).", n=n, parts=", ".join(parts)
        )
    else:
        sentence = gettext("%(n)s people’s answers are scored.", n=n)
    out = [sentence]
    if total is not None and total.rate is not None and total.submitted is not None:
        out.append(
            gettext(
                "%(submitted)s of the %(invited)s invitations were used: a response rate of %(rate)s.",
                submitted=f"{total.submitted:,}",
                invited=f"{total.invited:,}",
                rate=f"{total.rate:.1f}%",
            )
        )
    return out


def _index_sentence(f: IndexFigure) -> str:
    who = f.label
    if f.mean is None:
        return gettext("%(who)s: not shown (%(why)s).", who=who, why=f.hidden.lower())
    score = {"mean": f"{f.mean:.2f}", "score": f"{f.score100:.0f}"}
    if f.band:
        text = gettext(
            "%(who)s: %(mean)s out of 5 (%(score)s out of 100, %(band)s)",
            who=who,
            band=band_words(f.band),
            **score,
        )
    else:
        text = gettext("%(who)s: %(mean)s out of 5 (%(score)s out of 100)", who=who, **score)
    if f.change_points is None or f.previous_wave is None:
        return text + "."
    points = round(abs(f.change_points))
    if points == 0:
        change = gettext("about the same as in %(wave)s", wave=f.previous_wave)
    elif f.change_points > 0:
        change = ngettext(
            "up %(num)d point since %(wave)s",
            "up %(num)d points since %(wave)s",
            points,
            wave=f.previous_wave,
        )
    else:
        change = ngettext(
            "down %(num)d point since %(wave)s",
            "down %(num)d points since %(wave)s",
            points,
            wave=f.previous_wave,
        )
    if f.change_p_adjusted is not None:
        p = _p(f.change_p_adjusted)
        change += (
            gettext(" — a real change (adjusted p %(p)s)", p=p)
            if f.change_p_adjusted < ALPHA
            else gettext(" — within what chance alone would give (adjusted p %(p)s)", p=p)
        )
    if f.status:
        return gettext(
            "%(text)s, %(change)s; status %(status)s.",
            text=text,
            change=change,
            status=gettext(_STATUS_WORDS.get(f.status, f.status)),
        )
    return gettext("%(text)s, %(change)s.", text=text, change=change)


#: A status as the summary names it (marked: translated where shown).
_STATUS_WORDS = {
    "deteriorating": N_("deteriorating"),
    "watch": N_("watch"),
    "improving": N_("improving"),
    "stable": N_("stable"),
}


def alert_headline(alert: Alert) -> str:
    """An alert's summary up to its first piece of evidence: what, whose, and how much
    (e.g. "Trust, client staff, Contact centre: deteriorating — down 6 points since
    2009-Q2")."""
    head = alert.summary.split(";")[0].strip() if alert.summary else alert.group
    return head[0].upper() + head[1:] + "." if head else alert.group


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
