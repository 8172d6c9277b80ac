"""A score over the closed waves: means with 95% CIs, the EWMA and its control limits, the
bands' thresholds and the agreed actions (DESIGN §4.11, §5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from flask_babel import gettext

from survey_app.services.dashboard.charts.format import (
    band_words,
    fmt_int,
    fmt_mean,
    fmt_points,
    suppressed_text,
)
from survey_app.services.dashboard.charts.model import (
    ActionMarker,
    Chart,
    DataTable,
    Scale,
    SeriesPoint,
    TargetLine,
)
from survey_app.services.dashboard.charts.style import (
    GREEN,
    MID_GREY,
    RED,
    SECONDARY_TEXT,
    SIDE_STYLE,
    legend_handle,
    mean_axes,
)
from survey_app.services.dashboard.charts.svg import render_chart
from survey_app.services.results import EWMA_LAMBDA

if TYPE_CHECKING:  # matplotlib itself is imported when a chart is first drawn, not at start-up
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D


@dataclass(frozen=True)
class _Series:
    """The points of a chart as arrays (NaN where a value is not shown)."""

    labels: list[str]
    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    ewma: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def of(cls, points: Sequence[SeriesPoint]) -> _Series:
        def array(name: str) -> np.ndarray:
            values = [getattr(p, name) for p in points]
            return np.array([np.nan if v is None else float(v) for v in values], dtype=float)

        return cls(
            [p.wave for p in points],
            np.arange(len(points), dtype=float),
            array("mean"),
            array("ci_low"),
            array("ci_high"),
            array("ewma"),
            array("ewma_lower"),
            array("ewma_upper"),
        )

    @property
    def crowded(self) -> bool:
        """More waves than fit level labels: the labels are slanted."""
        return len(self.x) > 8


def index_chart(
    key: str,
    *,
    title: str,
    subject: str,
    points: Sequence[SeriesPoint],
    side: str,
    scale: Scale,
    markers: Sequence[ActionMarker] = (),
    target: TargetLine | None = None,
    k: int,
) -> Chart:
    """A score over the closed waves: means with 95% CIs, the EWMA and its control limits,
    and the agreed target where there is one."""
    series = _Series.of(points)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        fig.subplots_adjust(
            left=0.08, right=0.98, top=0.86, bottom=0.24 if series.crowded else 0.14
        )
        handles = _draw_means(ax, series, side) + _draw_ewma(ax, series)
        values = np.concatenate(
            [
                v[~np.isnan(v)]
                for v in (series.low, series.high, series.lower, series.upper, series.mean)
            ]
            + ([np.array([target.value])] if target else [])
        )
        bottom, top = _y_range(values, scale)
        ax.set_ylim(bottom, top)
        _draw_thresholds(ax, scale, bottom, top)
        handles += _draw_target(ax, target)
        handles += _draw_markers(ax, markers, series.labels, top)
        _label_axes(ax, series, scale, handles)

    notes = tuple(
        gettext(
            "Action %(number)s, agreed after %(wave)s: %(text)s",
            number=number,
            wave=m.wave,
            text=m.text,
        )
        for number, m in enumerate(markers, start=1)
    )
    description = _description(subject, points, scale)
    if target is not None:
        agreed = gettext(
            "Agreed target %(target)s, agreed by both sides on %(day)s.",
            target=fmt_mean(target.value),
            day=target.agreed,
        )
        notes = (agreed, *notes)
        description = f"{description} {agreed}"
    return render_chart(
        key, title, description, draw, (8, 3.4), _table(title, points, scale, k), notes
    )


def _draw_means(ax: Any, series: _Series, side: str) -> list[Line2D]:
    """The shown means joined by the side's line, each with its 95% CI."""
    colour, marker, style = SIDE_STYLE.get(side, SIDE_STYLE["all"])
    shown = ~np.isnan(series.mean)
    if not shown.any():
        return []
    yerr = np.vstack([series.mean - series.low, series.high - series.mean])
    yerr = np.where(np.isnan(yerr), 0.0, yerr)
    x, mean = series.x[shown], series.mean[shown]
    ax.errorbar(x, mean, yerr=yerr[:, shown], fmt="none", ecolor=colour, elinewidth=1, capsize=3)
    ax.plot(x, mean, linestyle=style, marker=marker, color=colour, linewidth=1.8)
    return [legend_handle(colour, marker, style, gettext("Mean with 95% CI"))]


def _draw_ewma(ax: Any, series: _Series) -> list[Line2D]:
    """The EWMA and its control limits, where there are any."""
    if np.isnan(series.ewma).all():
        return []
    ax.plot(series.x, series.ewma, color=SECONDARY_TEXT, linewidth=1.5, marker="|", markersize=8)
    for limit in (series.lower, series.upper):
        ax.plot(series.x, limit, color=SECONDARY_TEXT, linewidth=1, linestyle=":")
    return [
        legend_handle(SECONDARY_TEXT, "|", "-", f"EWMA (λ = {EWMA_LAMBDA})"),
        legend_handle(SECONDARY_TEXT, None, ":", gettext("Control limits")),
    ]


def _draw_thresholds(ax: Any, scale: Scale, bottom: float, top: float) -> None:
    """The bands' thresholds, where they fall inside the axis, each labelled."""
    for threshold, words in (
        (scale.concern, gettext("concern below")),
        (scale.strength, gettext("strength")),
    ):
        if bottom < threshold < top:
            ax.axhline(threshold, color=MID_GREY, linewidth=0.8, linestyle="--", zorder=0)
            ax.text(
                1.0,
                threshold,
                f" {words} {threshold:.1f}",
                transform=ax.get_yaxis_transform(),
                fontsize=8,
                color=SECONDARY_TEXT,
                va="bottom",
                ha="right",
            )


def _draw_target(ax: Any, target: TargetLine | None) -> list[Line2D]:
    """The agreed target as a long-dashed green line across the waves."""
    if target is None:
        return []
    ax.axhline(target.value, color=GREEN, linewidth=1.6, linestyle=(0, (8, 3)), zorder=1)
    return [
        legend_handle(
            GREEN,
            None,
            (0, (8, 3)),
            gettext("Agreed target %(target)s", target=fmt_mean(target.value)),
        )
    ]


def _draw_markers(
    ax: Any, markers: Sequence[ActionMarker], labels: list[str], top: float
) -> list[Line2D]:
    """A numbered vertical line at each agreed action's wave."""
    for number, m in enumerate(markers, start=1):
        if m.wave in labels:
            at = labels.index(m.wave)
            ax.axvline(at, color=RED, linewidth=1.2, linestyle="-.")
            ax.text(
                at,
                top,
                " " + gettext("Action %(number)s", number=number),
                fontsize=8,
                color=RED,
                va="top",
            )
    return [legend_handle(RED, None, "-.", gettext("Agreed action"))] if markers else []


def _label_axes(ax: Any, series: _Series, scale: Scale, handles: list[Line2D]) -> None:
    crowded = series.crowded
    ax.set_xticks(
        series.x, series.labels, rotation=45 if crowded else 0, ha="right" if crowded else "center"
    )
    ax.set_xlim(-0.5, len(series.x) - 0.5)
    mean_axes(ax, "y", scale.points)
    if handles:
        ax.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.01),
            ncol=len(handles),
            frameon=False,
            fontsize=9,
        )


def _y_range(values: np.ndarray, scale: Scale) -> tuple[float, float]:
    if values.size == 0:
        return 1.0, float(scale.points)
    lo, hi = float(values.min()), float(values.max())
    pad = max(0.1, (hi - lo) * 0.1)
    return max(1.0, lo - pad), min(float(scale.points), hi + pad)


def _description(subject: str, points: Sequence[SeriesPoint], scale: Scale) -> str:
    if not points:
        return gettext("%(subject)s: no closed wave yet.", subject=subject)
    words = [
        gettext(
            "%(subject)s: the mean on a 1 to %(points)s scale at each closed wave from "
            "%(first)s to %(last)s, with its 95%% confidence interval, the exponentially "
            "weighted moving average (EWMA) and its control limits.",
            subject=subject,
            points=scale.points,
            first=points[0].wave,
            last=points[-1].wave,
        )
    ]
    last = next((p for p in reversed(points) if p.mean is not None), None)
    if last is not None:
        words.append(
            gettext(
                "Latest shown, %(wave)s: %(mean)s (%(band)s).",
                wave=last.wave,
                mean=fmt_mean(last.mean),
                band=band_words(last.band),
            )
        )
    hidden = [p.wave for p in points if p.suppressed]
    if hidden:
        words.append(gettext("Not shown for confidentiality: %(waves)s.", waves=", ".join(hidden)))
    return " ".join(words)


def _table(title: str, points: Sequence[SeriesPoint], scale: Scale, k: int) -> DataTable:
    scale100 = 100.0 / (scale.points - 1)

    def row(p: SeriesPoint) -> tuple[str, ...]:
        score100 = p.score100
        if score100 is None and p.mean is not None:
            score100 = (p.mean - 1.0) * scale100
        return (
            p.wave,
            fmt_int(p.n) if not p.suppressed else suppressed_text(p.suppressed, k),
            fmt_mean(p.mean),
            fmt_points(score100),
            _span(p.ci_low, p.ci_high),
            fmt_mean(p.ewma),
            _span(p.ewma_lower, p.ewma_upper),
        )

    return DataTable(
        caption=gettext("%(title)s: the data", title=title),
        head=(
            gettext("Wave"),
            gettext("Responses"),
            gettext("Mean (1–%(points)s)", points=scale.points),
            "0–100",
            gettext("95% CI"),
            "EWMA",
            gettext("Control limits"),
        ),
        rows=tuple(row(p) for p in points),
        numeric=(False, True, True, True, True, True, True),
    )


def _span(low: float | None, high: float | None) -> str:
    """An interval as the table writes it ("" when not computed)."""
    if low is None:
        return ""
    return gettext("%(low)s to %(high)s", low=fmt_mean(low), high=fmt_mean(high))
