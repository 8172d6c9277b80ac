"""The sentences stored with the results, worded in the reader's language when they are read.

When a wave closes, :mod:`analysis.alert_evidence` says what lies behind each status and
each perception gap as :class:`~analysis.status.Phrase` facts — the name of a wording and
the numbers and wave labels it states — and they are stored like that in the ``scores``,
``gaps`` and ``trends`` rows (``status_summary``, ``status_evidence``, ``status_how``,
``gap_alert_summary``, ``gap_alert_evidence``, ``gap_alert_how``); so is each row's
``comparability_note`` (:meth:`~survey_app.services.results.history.History.note`, with the
changes :func:`instruments.changed_dimensions` finds as phrases too), and every table's
``reason`` (and, in a download, ``suppressed``) is the English :mod:`analysis` marks ``N_``. This module is the one
place they become sentences: :func:`worded_rows` words them as rows are read
(:func:`~survey_app.services.results.store.published_rows`, so the dashboard, the alerts,
the API, the downloads and the board pack all show the same sentences), in the language of
the request, the signed-in user or the board pack (``force_locale``), from the marked
templates below. A stored sentence that is already text (results stored before
``ANALYSIS_VERSION`` 6, until ``relhealth recompute`` rebuilds them) is shown as it is.

Numbers are written as the sentences always wrote them: points on the 0–100 scale rounded
to whole points ("down 9 points"), scale means and gaps to two decimals, with a true minus
sign; p-values as :func:`analysis._common.format_p`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

import flask_babel

from analysis import drivers, trends
from analysis._common import format_p
from analysis.heatmap import MIN_POINTS
from analysis.margins import MIN_RESPONSE_RATE
from survey_app.services.results.vocabulary import AREA_ALL, AREA_NONE, SIDE_WORDS, SUPPRESSED
from survey_app.texts import N_

#: How a status reads in a summary.
STATUS_WORDS = {
    "deteriorating": N_("getting worse"),
    "improving": N_("getting better"),
    "watch": N_("worth watching"),
    "stable": N_("no clear change"),
}
#: What the series judged together are, in the decision's sentence.
FAMILY_WORDS = {
    "series": N_("series"),
    "groups": N_("groups and dimensions"),
    "gaps": N_("gaps"),
}
#: The detector's rules (analysis.detector.RULES), as the "How we know" lines name them.
RULE_WORDS = {
    "ewma": N_("the recent level (EWMA)"),
    "cusum": N_("the build-up of small changes (CUSUM)"),
    "mann_kendall": N_("the trend over all waves (Mann–Kendall)"),
    "latest_change": N_("the latest change"),
    "": N_("no rule"),
}
#: The routes of the false discovery rate (analysis.alerts.ROUTES).
ROUTE_WORDS = {
    "total": N_("total"),
    "under a flagged total": N_("under a flagged total"),
    "strong signal": N_("strong signal"),
    "": N_("not flagged"),
}
#: The stored columns holding phrases, by table: (summary, evidence, how) of each kind.
STATUS_COLUMNS = ("status_summary", "status_evidence", "status_how")
GAP_COLUMNS = ("gap_alert_summary", "gap_alert_evidence", "gap_alert_how")
WORDED_TABLES = {
    "scores": (STATUS_COLUMNS,),
    "trends": (STATUS_COLUMNS, GAP_COLUMNS),
    "gaps": (GAP_COLUMNS,),
    "heat_map": (),  # ``explanation``: worded from the row's numbers (:func:`hot_spot`)
    "margins": (),  # ``note``: worded from the row's numbers (:func:`response_note`)
}

_MINUS = "\N{MINUS SIGN}"


# ----------------------------------------------------------------------------- translations

#: While :func:`worded_rows` words a table: each template's translation already looked up,
#: by (locale, template) — a download words the same few templates thousands of times, and
#: one Flask-Babel lookup costs far more than the formatting. The locale is in the key (the
#: same process serves English and Welsh) and the memo lives only as long as one call.
_MEMO: ContextVar[tuple[str, dict[tuple[str, ...], str]] | None] = ContextVar(
    "wording_memo", default=None
)


def _translated(*message: Any) -> str:
    """The translation of ``message`` (a template, or singular, plural and count) in the
    reader's locale, memoised within :func:`worded_rows`."""
    memo = _MEMO.get()
    if memo is None:
        return _lookup(*message)
    locale, seen = memo
    key = (locale, *map(str, message))
    if key not in seen:
        seen[key] = _lookup(*message)
    return seen[key]


def _lookup(*message: Any) -> str:
    translations = flask_babel.get_translations()
    if len(message) == 1:
        return translations.ugettext(message[0])
    return translations.ungettext(*message)


def gettext(string: str, **variables: Any) -> str:
    """:func:`flask_babel.gettext`, memoised within :func:`worded_rows`."""
    text = _translated(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """:func:`flask_babel.ngettext`, memoised within :func:`worded_rows`."""
    variables.setdefault("num", num)
    return _translated(singular, plural, num) % variables


# ----------------------------------------------------------------------------- numbers


def number(x: float | None, digits: int = 2) -> str:
    """``x`` to ``digits`` decimals with a true minus sign; "–" for none."""
    if x is None or not math.isfinite(x):
        return "\N{EN DASH}"
    return f"{x:.{digits}f}".replace("-", _MINUS)


def points_change(change: float | None) -> str:
    """'down 9 points', 'up 1 point' or 'no change' for a change on the 0–100 scale."""
    if change is None or not math.isfinite(change):
        return "\N{EN DASH}"
    k = int(round(abs(change)))
    if k == 0:
        return gettext("no change")
    if change < 0:
        return ngettext("down %(num)d point", "down %(num)d points", k)
    return ngettext("up %(num)d point", "up %(num)d points", k)


def odds(p: float | None) -> str:
    """'1 in 40' for a probability, to two significant figures ('fewer than 1 in 10,000')."""
    if p is None or math.isnan(p):
        return "\N{EN DASH}"
    if not p >= 1e-4:
        return gettext("fewer than 1 in 10,000")
    n = 1.0 / p
    digits = max(0, int(math.floor(math.log10(n))) - 1)
    return gettext("1 in %(n)s", n=f"{int(round(n, -digits)):,}")


def _base(f: Mapping[str, Any]) -> str:
    """The baseline of a series: 'its 2011-Q1 level' or 'its 2011-Q1–2011-Q4 level'."""
    first, last = f["base_from"], f["base_to"]
    if first == last:
        return gettext("its %(wave)s level", wave=first)
    return gettext("its %(first)s–%(last)s level", first=first, last=last)


# ----------------------------------------------------------------------------- subjects


def subject(title: str, side: str | None, area: str, area_name: str) -> str:
    """Whose status a summary is: e.g. "Innovation, supplier staff, all service areas" (a
    gap concerns both sides: no side)."""
    if area == AREA_NONE:
        where = gettext("service area not stated")
    elif area == AREA_ALL:
        where = gettext("all service areas")
    else:
        where = area_name
    if side is None:
        return f"{title}, {where}"
    return f"{title}, {gettext(SIDE_WORDS[side])}, {where}"


# ----------------------------------------------------------------------------- summaries


def status_summary(f: Mapping[str, Any], who: str) -> str:
    """A status in one sentence: subject, the status in words, what moved."""
    return gettext(
        "%(subject)s: %(status)s — %(headline)s",
        subject=who,
        status=gettext(STATUS_WORDS[f["status"]]),
        headline=_headline(f),
    )


def _headline(f: Mapping[str, Any]) -> str:
    key = f["key"]
    if key == "headline.none":
        return gettext("no survey results yet")
    if key == "headline.one":
        return gettext("only one survey so far (%(wave)s)", wave=f["wave"])
    now = {"now": f"{f['now']:.0f}", "wave": f["wave"]}
    if key == "headline.band":
        return gettext("in the concern band, now %(now)s out of 100 in %(wave)s", **now)
    if key == "headline.since":
        return gettext(
            "%(change)s since %(prev)s, now %(now)s out of 100 in %(wave)s",
            change=points_change(f["change"]),
            prev=f["prev"],
            **now,
        )
    return gettext(
        "%(change)s on %(base)s, now %(now)s out of 100 in %(wave)s",
        change=points_change(f["change"]),
        base=_base(f),
        **now,
    )


def gap_summary(f: Mapping[str, Any], who: str) -> str:
    """A perception gap in one sentence: subject, whether it is widening (the detector's
    status: further from level than at the baseline), how far apart the sides are now and
    how that moved since the baseline — widened or narrowed with the same side higher, or
    reversed (the other side was higher: a gap that crossed zero is never said to have
    grown or shrunk from the other side's lead)."""
    status = f["status"]
    if status == "widening":
        words = gettext("perception gap widening")
    elif status == "narrowing":
        words = gettext("perception gap narrowing")
    else:
        words = gettext("no sign that the perception gap is widening")
    return gettext(
        "%(subject)s: %(status)s — %(headline)s", subject=who, status=words, headline=_gap(f)
    )


def _gap(f: Mapping[str, Any]) -> str:
    if f["key"] == "gap.none":
        return gettext("no survey results yet")
    apart, wave = number(f["apart"]), f["wave"]
    if f["higher"] == "client":
        now = gettext(
            "%(apart)s scale points apart in %(wave)s (the client side higher)",
            apart=apart,
            wave=wave,
        )
    elif f["higher"] == "supplier":
        now = gettext(
            "%(apart)s scale points apart in %(wave)s (the supplier side higher)",
            apart=apart,
            wave=wave,
        )
    else:
        now = gettext("the two sides level in %(wave)s", wave=wave)
    was = f.get("was")
    if was is None or (isinstance(was, float) and math.isnan(was)):
        return now
    fill = {"now": now, "was": number(abs(was)), "base": _base(f)}
    movement = f.get("movement", "")
    if movement == "widened":
        return gettext("%(now)s, up from %(was)s at %(base)s", **fill)
    if movement == "narrowed":
        return gettext("%(now)s, down from %(was)s at %(base)s", **fill)
    if movement == "same":
        return gettext("%(now)s, as at %(base)s", **fill)
    if movement == "reversed" and was > 0:
        return gettext("%(now)s, reversed from the client side %(was)s higher at %(base)s", **fill)
    if movement == "reversed":
        return gettext(
            "%(now)s, reversed from the supplier side %(was)s higher at %(base)s", **fill
        )
    if number(abs(was)) == number(0.0):
        return gettext("%(now)s, the two sides level at %(base)s", **fill)
    return gettext("%(now)s, %(was)s at %(base)s", **fill)


# ----------------------------------------------------------------------------- evidence


def _ewma(f: Mapping[str, Any]) -> str:
    if points_change(f["change"]) == gettext("no change"):
        return gettext(
            "The recent level, which counts the latest surveys most, is at %(base)s.",
            base=_base(f),
        )
    return gettext(
        "The recent level, which counts the latest surveys most, is %(change)s on %(base)s "
        "(%(ewma)s against %(center)s).",
        change=points_change(f["change"]),
        base=_base(f),
        ewma=number(f["ewma"]),
        center=number(f["center"]),
    )


def _cusum(f: Mapping[str, Any]) -> str:
    size = number(f["sum"], 1)
    if f["direction"] < 0:
        if f["sum"] > 0:
            return gettext(
                "Small falls have added up wave after wave to %(size)s times the usual "
                "wave-to-wave noise.",
                size=size,
            )
        return gettext("No run of falls has built up.")
    if f["sum"] > 0:
        return gettext(
            "Small rises have added up wave after wave to %(size)s times the usual "
            "wave-to-wave noise.",
            size=size,
        )
    return gettext("No run of rises has built up.")


def _trend(f: Mapping[str, Any]) -> str:
    fill = {"n": f["n"], "first": f["first"], "change": points_change(f["change"])}
    slope = abs(f["slope"])
    if slope < 0.5:
        return gettext("Over %(n)s surveys since %(first)s: %(change)s.", **fill)
    return ngettext(
        "Over %(n)s surveys since %(first)s: %(change)s, about %(num)d point a wave.",
        "Over %(n)s surveys since %(first)s: %(change)s, about %(num)d points a wave.",
        int(round(slope)),
        **fill,
    )


def _decision(f: Mapping[str, Any]) -> str:
    family = gettext(FAMILY_WORDS.get(f["family"], FAMILY_WORDS["series"]))
    if f["flagged"]:
        return gettext(
            "A series that is not changing would give a signal this strong in %(odds)s "
            "surveys, and it stands out among the %(family)s of this relationship even "
            "allowing for how many are watched.",
            odds=odds(f["p"]),
            family=family,
        )
    return gettext(
        "A signal this strong would come by chance in %(odds)s surveys: not strong enough, "
        "with the %(family)s of this relationship watched at once.",
        odds=odds(f["p"]),
        family=family,
    )


def _p(p: float | None) -> str:
    return "p = \N{EN DASH}" if p is None else format_p(p)


def _ewma_how(f: Mapping[str, Any]) -> str:
    return gettext(
        "EWMA (λ = %(lam)s) %(ewma)s against the baseline %(center)s: z = %(z)s (its "
        "standard error %(sd)s from the noise model); control limits %(low)s to %(high)s; "
        "one-sided %(p)s.",
        lam=f"{f['lam']:g}",
        ewma=number(f["ewma"]),
        center=number(f["center"]),
        z=number(f["z"]),
        sd=number(f["sd"], 3),
        low=number(f["low"]),
        high=number(f["high"]),
        p=_p(f["p"]),
    )


def _cusum_how(f: Mapping[str, Any]) -> str:
    fill = {"sum": number(f["sum"], 1), "k": f"{f['k']:g}", "h": f"{f['h']:g}", "p": _p(f["p"])}
    if f["direction"] < 0:
        return gettext(
            "Lower CUSUM %(sum)sσ (k = %(k)sσ, decision interval %(h)sσ); %(p)s on simulated "
            "series with no change.",
            **fill,
        )
    return gettext(
        "Upper CUSUM %(sum)sσ (k = %(k)sσ, decision interval %(h)sσ); %(p)s on simulated "
        "series with no change.",
        **fill,
    )


def _trend_how(f: Mapping[str, Any]) -> str:
    return gettext(
        "Mann–Kendall S = %(s)s over %(n)s waves, z = %(z)s, one-sided %(p)s; Theil–Sen slope "
        "%(slope)s points a wave.",
        s=number(f["s"], 0),
        n=f["n"],
        z=number(f["z"]),
        p=_p(f["p"]),
        slope=number(f["slope"], 1),
    )


def _change_how(f: Mapping[str, Any]) -> str:
    return gettext(
        "Latest change %(d)s scale points, z = %(z)s against the noise of two waves "
        "(√(σₜ² + σₜ₋₁²) = %(noise)s); one-sided %(p)s.",
        d=number(f["d"]),
        z=number(f["z"]),
        noise=number(f["noise"], 3),
        p=_p(f["p"]),
    )


def _decision_how(f: Mapping[str, Any]) -> str:
    adjusted = f["p_adjusted"]
    return gettext(
        "Strongest rule: %(rule)s. The smallest of the four rules' one-sided p-values gives "
        "%(p)s on series with no change (simulated, τ² estimated as here, pool of %(pool)s "
        "series); Benjamini–Hochberg adjusted p = %(adjusted)s against %(level)s (%(route)s).",
        rule=gettext(RULE_WORDS.get(f["rule"], RULE_WORDS[""])),
        p=_p(f["p"]),
        pool=f["pool"],
        adjusted="\N{EN DASH}" if adjusted is None else f"{adjusted:.3g}",
        level=f"{f['level']:g}" if f["level"] is not None else "\N{EN DASH}",
        route=gettext(ROUTE_WORDS.get(f["route"], ROUTE_WORDS[""])),
    )


def _noise_how(f: Mapping[str, Any]) -> str:
    return gettext(
        "σₜ = √(se² + τ²) with se = %(se)s; τ² = %(tau2)s (%(method)s, pooled over the "
        "baseline waves of %(pool)s series, %(df)s degrees of freedom).",
        se=number(f["se"], 3),
        tau2="\N{EN DASH}" if f["tau2"] is None else f"{f['tau2']:.2g}",
        method=f["method"],
        pool=f["pool"],
        df=f["df"],
    )


#: Every evidence and "How we know" wording, by key (analysis.alert_evidence writes them).
PHRASES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "ewma": _ewma,
    "cusum": _cusum,
    "trend.short": lambda f: gettext(
        "Too few surveys for a trend test (it needs %(needs)s; there are %(n)s).",
        needs=f["needs"],
        n=f["n"],
    ),
    "trend": _trend,
    "change": lambda f: gettext(
        "Since %(prev)s: %(change)s.", prev=f["prev"], change=points_change(f["change"])
    ),
    "decision": _decision,
    "noise": lambda f: gettext(
        "Allowing for sampling error (±%(sampling)s in %(wave)s) and for how much the waves "
        "move anyway (about ±%(between)s).",
        sampling=number(f["sampling"]),
        wave=f["wave"],
        between=number(f["between"]),
    ),
    "one_survey": lambda f: gettext("Only one survey so far: nothing to compare it with."),
    "no_results": lambda f: gettext("No results yet."),
    "band": lambda f: gettext("In the concern band in %(wave)s.", wave=f["wave"]),
    "ewma.how": _ewma_how,
    "cusum.how": _cusum_how,
    "trend.short.how": lambda f: gettext("Mann–Kendall: needs %(needs)s waves.", needs=f["needs"]),
    "trend.how": _trend_how,
    "change.how": _change_how,
    "decision.how": _decision_how,
    "noise.how": _noise_how,
}


def phrase(f: Mapping[str, Any]) -> str:
    """One stored phrase (``{"key": ..., **facts}``) as a sentence."""
    return PHRASES[f["key"]](f)


# ----------------------------------------------------------------------------- deeper tables


def _rest(side: str) -> str:
    if side == "client":
        return gettext("the rest of the client staff")
    if side == "supplier":
        return gettext("the rest of the supplier staff")
    return gettext("the rest of the relationship")


def _adjusted(p: float) -> str:
    return gettext("adjusted p %(p)s", p="< 0.001" if p < 0.001 else f"= {p:.3f}")


def hot_spot(row: Mapping[str, Any], title: str) -> str | None:
    """A heat-map cell against the rest of its side, in words, from the row's numbers
    (:func:`analysis.heatmap.heat_map_differences`' rule: marked when significant after
    Benjamini–Hochberg and at least :data:`~analysis.heatmap.MIN_POINTS` points apart)."""
    if row.get(SUPPRESSED) is not None:
        return None
    rest = _rest(row["side"])
    reason = row.get("reason")
    d, pa, cell = row.get("difference_points"), row.get("p_adjusted"), row.get("score100")
    if reason:
        text = gettext("not compared with %(rest)s (%(reason)s).", rest=rest, reason=said(reason))
    elif d is None or pa is None or cell is None:
        return None  # hidden: no numbers to word
    else:
        fill = {
            "rest": rest,
            "size": f"{abs(d):.1f}",
            "cell": f"{cell:.0f}",
            "other": f"{cell - d:.0f}",
            "p": _adjusted(pa),
            "min": f"{MIN_POINTS:g}",
        }
        text = _difference(row.get("marking"), d, pa, fill)
    return gettext(
        "%(dimension)s in %(area)s: %(text)s", dimension=title, area=row["area_name"], text=text
    )


def _difference(marking: str | None, d: float, pa: float, fill: Mapping[str, str]) -> str:
    if marking == "higher":
        return gettext(
            "%(size)s points higher than %(rest)s (%(cell)s against %(other)s out of 100). "
            "Allowing for every comparison on this heat map, a difference this large is "
            "unlikely to be chance (%(p)s).",
            **fill,
        )
    if marking == "lower":
        return gettext(
            "%(size)s points lower than %(rest)s (%(cell)s against %(other)s out of 100). "
            "Allowing for every comparison on this heat map, a difference this large is "
            "unlikely to be chance (%(p)s).",
            **fill,
        )
    if pa < 0.05 and d > 0:
        return gettext(
            "%(size)s points above %(rest)s (%(cell)s against %(other)s out of 100): probably "
            "a real difference, but smaller than the %(min)s points we mark.",
            **fill,
        )
    if pa < 0.05:
        return gettext(
            "%(size)s points below %(rest)s (%(cell)s against %(other)s out of 100): probably "
            "a real difference, but smaller than the %(min)s points we mark.",
            **fill,
        )
    if abs(d) >= MIN_POINTS and d > 0:
        return gettext(
            "%(size)s points above %(rest)s (%(cell)s against %(other)s out of 100), but with "
            "these numbers of responses a difference this size could be chance (%(p)s).",
            **fill,
        )
    if abs(d) >= MIN_POINTS:
        return gettext(
            "%(size)s points below %(rest)s (%(cell)s against %(other)s out of 100), but with "
            "these numbers of responses a difference this size could be chance (%(p)s).",
            **fill,
        )
    return gettext(
        "no clear difference from %(rest)s (%(cell)s against %(other)s out of 100).", **fill
    )


def response_note(row: Mapping[str, Any]) -> str | None:
    """A group's response rate in words, with the low-response warning
    (:func:`analysis.margins.finite_population_margins`' rule), from the row's numbers."""
    rate, n, invited = row.get("response_rate"), row.get("n"), row.get("invited")
    if row.get(SUPPRESSED) is not None or rate is None or n is None or invited is None:
        return None
    text = gettext(
        "%(rate)s of those invited answered (%(n)s of %(invited)s).",
        rate=f"{rate:.0%}",
        n=f"{n:.0f}",
        invited=f"{invited:.0f}",
    )
    if row.get("low_response"):
        text += " " + gettext(
            "That is under %(min)s: those who answered may not speak for everyone invited, and "
            "the margin of error assumes they do.",
            min=f"{MIN_RESPONSE_RATE:.0%}",
        )
    return text


# ----------------------------------------------------------------------------- comparability


def _reverse(f: Mapping[str, Any]) -> str:
    if f["now"]:
        return gettext("item '%(item)s' is now reverse-keyed", item=f["item"])
    return gettext("item '%(item)s' is no longer reverse-keyed", item=f["item"])


def _per_area(f: Mapping[str, Any]) -> str:
    if f["now"]:
        return gettext("item '%(item)s' is now asked per service area", item=f["item"])
    return gettext("item '%(item)s' is no longer asked per service area", item=f["item"])


#: How each change :func:`instruments.changed_dimensions` finds in a dimension reads; item
#: and dimension keys are named as they are (identifiers, the same in every language).
ITEM_CHANGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "new_dimension": lambda f: gettext("new dimension in version %(version)s", **f),
    "dropped_dimension": lambda f: gettext("dropped in version %(version)s", **f),
    "scale_points": lambda f: gettext(
        "answer scale changed from %(previous)s to %(current)s points", **f
    ),
    "scale_labels": lambda f: gettext("answer scale labels changed"),
    "new_items": lambda f: gettext("new items: %(items)s", items=", ".join(f["items"])),
    "item_moved_here": lambda f: gettext(
        "item '%(item)s' moved here from '%(dimension)s'",
        item=f["item"],
        dimension=f["dimension"],
    ),
    "item_moved_to": lambda f: gettext(
        "item '%(item)s' moved to '%(dimension)s'",
        item=f["item"],
        dimension=f["dimension"],
    ),
    "item_replaces": lambda f: gettext(
        "item '%(item)s' replaces '%(previous)s'",
        item=f["item"],
        previous=f["previous"],
    ),
    "item_reworded": lambda f: gettext("item '%(item)s' reworded", item=f["item"]),
    "item_dropped": lambda f: gettext("item '%(item)s' dropped", item=f["item"]),
    "item_reverse": _reverse,
    "item_per_area": _per_area,
}


def item_changes(changes: Sequence[Mapping[str, Any]]) -> str:
    """The changes :func:`instruments.changed_dimensions` found in one dimension (stored as
    :meth:`~analysis.status.Phrase.as_dict`), in words, joined by "; "."""
    return "; ".join(ITEM_CHANGES[c["key"]](c) for c in changes)


def change_reason(f: Mapping[str, Any]) -> str:
    """Why a score is not comparable with the wave before, from the facts
    :func:`~survey_app.services.results.history.version_changes` stores. A dimension whose
    items changed between consecutive versions is described by :func:`item_changes`."""
    key = f["key"]
    if key == "instrument":
        return gettext(
            "a different instrument (%(previous)s → %(current)s)",
            previous=f["previous"],
            current=f["current"],
        )
    if key == "versions":
        return gettext(
            "versions %(previous)s and %(current)s are not consecutive",
            previous=f["previous"],
            current=f["current"],
        )
    if key == "dimensions":
        return gettext("dimensions changed: %(dimensions)s", dimensions=", ".join(f["dimensions"]))
    if "changes" in f:
        return item_changes(f["changes"])
    return f["detail"]  # stored as English before the changes were facts


def comparability_note(value: Any) -> Any:
    """A stored ``comparability_note`` (facts from
    :meth:`~survey_app.services.results.history.History.note`) in words; a note stored
    before ``ANALYSIS_VERSION`` 6 is already words."""
    if not isinstance(value, dict):
        return value
    if value["key"] == "from":
        return gettext(
            "Compared from %(wave)s only: version %(version)s of the instrument changed this "
            "(%(reason)s)",
            wave=value["wave"],
            version=value["version"],
            reason=change_reason(value["reason"]),
        )
    return gettext(
        "Compared across instrument versions %(first)s–%(last)s: unchanged in them",
        first=value["first"],
        last=value["last"],
    )


# ----------------------------------------------------------------------------- reasons

#: Reasons the analysis writes with a number in them, by their ``N_``-marked templates.
NUMBERED_REASONS = tuple(
    (re.compile("^" + re.escape(t).replace(re.escape("%(n)s"), r"(\d+)") + "$"), t)
    for t in (
        drivers.FEWER_RESPONSES,
        drivers.FEWER_COMPLETE,
        trends.NEEDS_WAVES,
        trends.NEEDS_BASELINE,
    )
)


def _said_one(text: str) -> str:
    for pattern, template in NUMBERED_REASONS:
        found = pattern.match(text)
        if found:
            return gettext(template, n=found.group(1))
    return gettext(text)


def said(reason: str) -> str:
    """A stored reason (the ``N_``-marked English of :mod:`analysis`, or several joined by
    "; ", as the trends table joins its tests' reasons) in the reader's language; a text the
    catalogue does not have is shown as it is."""
    return "; ".join(_said_one(part) for part in reason.split("; "))


def worded_reasons(row: Mapping[str, Any]) -> dict[str, str]:
    """The ``reason`` (why a figure is not computed) of ``row``, if any, in the reader's
    language. (Its ``suppressed`` reason stays the code the pages test, PRIMARY or SECONDARY,
    until a download writes it: :func:`~survey_app.services.results.store.output_table`.)"""
    reason = row.get("reason")
    return {"reason": said(reason)} if isinstance(reason, str) and reason else {}


# ----------------------------------------------------------------------------- rows


def _lines(value: Any) -> Any:
    if isinstance(value, list):
        return "\n".join(phrase(f) for f in value) or None
    return value  # stored before ANALYSIS_VERSION 6: already words


def worded_row(
    name: str, row: Mapping[str, Any], titles: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``row`` of table ``name`` with its stored phrases worded in the reader's language;
    ``titles`` names the dimensions in it (by key; else the stored title)."""
    out = dict(row)
    title = (titles or {}).get(row.get("dimension", ""), row.get("dimension_title") or "")
    out.update(worded_reasons(row))
    if name == "heat_map":
        out["explanation"] = hot_spot(row, title)
    elif name == "margins":
        out["note"] = response_note(row)
    if "comparability_note" in row:
        out["comparability_note"] = comparability_note(row["comparability_note"])
    for summary, evidence, how in WORDED_TABLES.get(name, ()):
        facts = row.get(summary)
        if isinstance(facts, dict):
            gap = summary == GAP_COLUMNS[0]
            who = subject(title, None if gap else row["side"], row["area"], row["area_name"])
            out[summary] = gap_summary(facts, who) if gap else status_summary(facts, who)
        for column in (evidence, how):
            if column in row:
                out[column] = _lines(row[column])
    return out


def worded_rows(
    name: str, rows: Sequence[Mapping[str, Any]], titles: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """:func:`worded_row` of every row (rows of a table without phrases: their reasons
    worded, :func:`worded_reasons`)."""
    token = _MEMO.set((str(flask_babel.get_locale()), {}))
    try:
        if name not in WORDED_TABLES:
            return [{**r, **worded_reasons(r)} for r in rows]
        return [worded_row(name, r, titles) for r in rows]
    finally:
        _MEMO.reset(token)
