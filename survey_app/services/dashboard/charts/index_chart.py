"""A score over the closed waves: means with 95% CIs, the EWMA and its control limits, the
bands' thresholds and the agreed actions (DESIGN §4.11, §5)."""

from __future__ import annotations

import math
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
    margins,
    mean_axes,
)
from survey_app.services.dashboard.charts.svg import render_chart
from survey_app.services.results import EWMA_LAMBDA

if TYPE_CHECKING:  # matplotlib itself is imported when a chart is first drawn, not at start-up
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D


#: Legend entries per row; the legend sits above the axes, and each row adds this much height.
_LEGEND_COLUMNS = 3
_LEGEND_ROW_INCHES = 0.22
#: The axes' right edge (a share of the width): the bands' labels sit in the margin beyond.
_RIGHT = 0.85
_ACTION_FONT = 8


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

    n_handles = _n_legend_entries(series, markers, target)
    legend_rows = math.ceil(n_handles / _LEGEND_COLUMNS)
    size = (8.0, 3.0 + _LEGEND_ROW_INCHES * legend_rows)

    values = np.concatenate(
        [
            v[~np.isnan(v)]
            for v in (series.low, series.high, series.lower, series.upper, series.mean)
        ]
        + ([np.array([target.value])] if target else [])
    )
    bottom, top = _y_range(values, scale)
    labelled = any(bottom < t < top for t in (scale.concern, scale.strength))

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        margins(
            fig,
            left=0.08,
            right=_RIGHT if labelled else 0.98,  # room for the bands' labels when drawn
            top=0.2 + _LEGEND_ROW_INCHES * legend_rows,
            bottom=0.95 if series.crowded else 0.5,
        )
        handles = _draw_means(ax, series, side) + _draw_ewma(ax, series)
        ax.set_xlim(-0.5, len(series.x) - 0.5)
        ax.set_ylim(bottom, top)
        _draw_thresholds(ax, scale, bottom, top)
        handles += _draw_target(ax, target)
        handles += _draw_markers(ax, markers, series.labels, (bottom, top))
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
    return render_chart(key, title, description, draw, size, _table(title, points, scale, k), notes)


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
    """The bands' thresholds, where they fall inside the axis, each labelled in the right
    margin beside its line, where no data is drawn."""
    for threshold, words in (
        (scale.concern, gettext("concern below")),
        (scale.strength, gettext("strength")),
    ):
        if bottom < threshold < top:
            ax.axhline(threshold, color=MID_GREY, linewidth=0.8, linestyle="--", zorder=0)
            ax.text(
                1.01,
                threshold,
                f"{words} {threshold:.1f}",
                transform=ax.get_yaxis_transform(),
                fontsize=8,
                color=SECONDARY_TEXT,
                va="center",
                ha="left",
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
    ax: Any, markers: Sequence[ActionMarker], labels: list[str], data: tuple[float, float]
) -> list[Line2D]:
    """A numbered vertical line at each agreed action's wave, its label in a strip above the
    data (the y axis is extended for it), in as many rows as keep neighbours' labels apart;
    a label reads away from the nearer side, so that none is cut off at the edge."""
    shown = [
        (number, labels.index(m.wave)) for number, m in enumerate(markers, 1) if m.wave in labels
    ]
    if not shown:
        return [legend_handle(RED, None, "-.", gettext("Agreed action"))] if markers else []
    fig = ax.figure
    width_pt = ax.get_position().width * fig.get_figwidth() * 72
    height_pt = ax.get_position().height * fig.get_figheight() * 72
    per_pt = len(labels) / width_pt  # waves (x units) per point
    rows: list[list[tuple[float, float]]] = []
    placed = []
    for number, at in shown:
        text = gettext("Action %(number)s", number=number)
        extent = (len(text) * 0.62 * _ACTION_FONT + 4) * per_pt
        right = at > (len(labels) - 1) / 2
        span = (at - extent, at) if right else (at, at + extent)
        row = next(
            (i for i, r in enumerate(rows) if all(span[1] < a or span[0] > b for a, b in r)),
            len(rows),
        )
        if row == len(rows):
            rows.append([])
        rows[row].append(span)
        placed.append((text, at, row, right))
    bottom, top = data
    row_pt = _ACTION_FONT * 1.6
    strip = (top - bottom) * len(rows) * row_pt / max(height_pt - len(rows) * row_pt, 1.0)
    ticks = [t for t in ax.get_yticks() if bottom - 1e-9 <= t <= top + 1e-9]
    ax.set_ylim(bottom, top + strip)
    ax.set_yticks(ticks)
    for text, at, row, right in placed:
        ax.axvline(at, color=RED, linewidth=1.2, linestyle="-.")
        y = top + strip * (len(rows) - row - 0.5) / len(rows)
        ax.text(
            at + (-0.04 if right else 0.04),
            y,
            text,
            fontsize=_ACTION_FONT,
            color=RED,
            va="center",
            ha="right" if right else "left",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
        )
    return [legend_handle(RED, None, "-.", gettext("Agreed action"))]


def _label_axes(ax: Any, series: _Series, scale: Scale, handles: list[Line2D]) -> None:
    crowded = series.crowded
    ax.set_xticks(
        series.x, series.labels, rotation=45 if crowded else 0, ha="right" if crowded else "center"
    )
    mean_axes(ax, "y", scale.points)
    if handles:
        ax.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(-0.07, 1.01),
            ncol=_LEGEND_COLUMNS,
            frameon=False,
            fontsize=9,
        )


def _n_legend_entries(
    series: _Series, markers: Sequence[ActionMarker], target: TargetLine | None
) -> int:
    """How many entries the legend will have (the figure's height depends on it)."""
    means = int(not np.isnan(series.mean).all())
    ewma = 2 * int(not np.isnan(series.ewma).all())
    return means + ewma + int(target is not None) + int(bool(markers))


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
