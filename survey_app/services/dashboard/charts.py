"""Server-rendered SVG charts of the dashboard, each with its table alternative, and their cache.

Drawing
-------
matplotlib draws on a :class:`~matplotlib.figure.Figure` with the SVG canvas (no pyplot, no
global figure state); the few rc settings the SVG writer reads (``svg.fonttype: none`` so that
text stays text, a fixed ``svg.hashsalt`` so that the output is deterministic) are applied in
an :func:`matplotlib.rc_context` under a lock. The SVG is then made fit to sit inline in a
GOV.UK page under the service's Content Security Policy (``style-src 'self'``, which blocks
``style`` attributes and ``<style>`` elements): every inline style becomes the equivalent
presentation attribute, the ``<style>`` and ``<metadata>`` elements go, every ``id`` gets the
chart's prefix (several charts share a page), and the root gets ``role="img"`` with a
``<title>`` and a ``<desc>`` that say in words what the chart shows.

Every chart comes with a :class:`DataTable` of the numbers it draws, rendered beside it as a
GOV.UK table for screen readers and anyone who prefers numbers. Colours are from the GOV.UK
palette with at least 3:1 contrast against white for lines and marks; text on the heat map's
light tints is black (at least 12:1). Colour never carries meaning alone: series differ in
marker and line style and are labelled, heat-map cells print their value.

Cache
-----
:class:`ChartCache` keeps rendered charts (and other derived payloads, e.g. the role-level
cuts of a wave) as JSON files under ``<instance>/chart-cache/<relationship id>/<results
version>/``. The *results version* (:func:`results_version`) is a hash of the relationship's
stored result tables (their ids and computation times): ``relhealth recompute`` and the
closing of a wave replace those rows, so the version changes and every cached chart of the
relationship is invalidated at once; older version folders are deleted when the new version
writes its first file. A key also holds the closed wave, the chart's parameters, the
confidentiality threshold in force and :data:`CHARTS_VERSION`. Files are written atomically
(temporary file, then rename), so concurrent workers at worst render the same chart twice.
An open wave's response-rate chart is never cached.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import textwrap
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from flask import current_app
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Relationship, ResultTable
from survey_app.services.results import min_cell_size

if TYPE_CHECKING:  # matplotlib itself is imported when a chart is first drawn, not at start-up
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

#: Bump when a chart's drawing or its table changes: cached charts of another version are ignored.
CHARTS_VERSION = "2"

# GOV.UK Frontend palette.
BLACK = "#0b0c0c"
SECONDARY_TEXT = "#505a5f"
MID_GREY = "#b1b4b6"
LIGHT_GREY = "#f3f2f1"
BLUE = "#1d70b8"
PURPLE = "#4c2c92"
RED = "#d4351c"
GREEN = "#00703c"
#: Light tints for the heat map (black text on each has contrast above 12:1).
TINT_CONCERN = "#f6d7d2"
TINT_BORDERLINE = "#fff2b3"
TINT_STRENGTH = "#cce2d8"

#: How each side is drawn: colour, marker, line style (never colour alone).
SIDE_STYLE = {
    "client": (BLUE, "o", "-"),
    "supplier": (PURPLE, "s", "--"),
    "all": (BLACK, "D", "-"),
}

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "relationship-health",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "axes.edgecolor": SECONDARY_TEXT,
    "axes.labelcolor": BLACK,
    "xtick.color": BLACK,
    "ytick.color": BLACK,
    "text.color": BLACK,
}
_LOCK = threading.Lock()
_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", _SVG_NS)
ET.register_namespace("xlink", _XLINK_NS)


# ============================================================================ what a chart is


@dataclass(frozen=True)
class DataTable:
    """The numbers a chart draws, as a table: ``head`` and ``rows`` of display strings.

    ``numeric`` says, per column, whether it holds numbers (right-aligned by GOV.UK);
    the first column of each row is its header.
    """

    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]


@dataclass(frozen=True)
class Chart:
    """An inline SVG with its title, description and table alternative."""

    key: str
    title: str
    description: str
    svg: str
    table: DataTable
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chart:
        table = data["table"]
        return cls(
            key=data["key"],
            title=data["title"],
            description=data["description"],
            svg=data["svg"],
            table=DataTable(
                table["caption"],
                tuple(table["head"]),
                tuple(tuple(r) for r in table["rows"]),
                tuple(table["numeric"]),
            ),
            notes=tuple(data.get("notes", ())),
        )


@dataclass(frozen=True)
class SeriesPoint:
    """One closed wave of a score series, as published (suppressed values are ``None``)."""

    wave: str
    n: int | None
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    score100: float | None
    band: str | None
    suppressed: str | None
    ewma: float | None = None
    ewma_lower: float | None = None
    ewma_upper: float | None = None


@dataclass(frozen=True)
class ActionMarker:
    """An agreed action, drawn as a vertical line at the wave it was agreed after."""

    wave: str
    text: str


@dataclass(frozen=True)
class GapPoint:
    """One dimension of a perception-gap chart (``None`` statistics when suppressed)."""

    dimension: str
    title: str
    mean_client: float | None
    mean_supplier: float | None
    n_client: int | None
    n_supplier: int | None
    difference: float | None
    g: float | None
    p_adjusted: float | None
    material: bool | None
    suppressed: str | None


@dataclass(frozen=True)
class HeatCell:
    mean: float | None
    n: int | None
    band: str | None
    suppressed: str | None


@dataclass(frozen=True)
class RateRow:
    """Invitations of one party and service area in an open wave."""

    party: str
    area: str
    issued: int
    started: int
    submitted: int

    @property
    def rate(self) -> float | None:
        return 100.0 * self.submitted / self.issued if self.issued else None


@dataclass(frozen=True)
class Scale:
    """What the charts need to know about the instrument's scale."""

    points: int = 5
    strength: float = 4.0
    concern: float = 3.0


# ============================================================================ formatting


def fmt_mean(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def fmt_points(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def fmt_signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}".replace("-", "−")


def fmt_p(value: float | None) -> str:
    if value is None:
        return ""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fmt_int(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def suppressed_text(reason: str | None, k: int) -> str:
    """What a suppressed cell says instead of a number."""
    if reason is None:
        return ""
    if reason.startswith("secondary"):
        return "Hidden so that a smaller group cannot be worked out"
    return f"Fewer than {k} responses"


# ============================================================================ the charts


def index_chart(
    key: str,
    *,
    title: str,
    subject: str,
    points: Sequence[SeriesPoint],
    side: str,
    scale: Scale,
    markers: Sequence[ActionMarker] = (),
    k: int,
) -> Chart:
    """A score over the closed waves: means with 95% CIs, the EWMA and its control limits."""
    colour, marker, style = SIDE_STYLE.get(side, SIDE_STYLE["all"])
    labels = [p.wave for p in points]
    x = np.arange(len(points), dtype=float)
    mean = _array([p.mean for p in points])
    low = _array([p.ci_low for p in points])
    high = _array([p.ci_high for p in points])
    ewma = _array([p.ewma for p in points])
    lower = _array([p.ewma_lower for p in points])
    upper = _array([p.ewma_upper for p in points])

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        fig.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=0.24 if len(x) > 8 else 0.14)
        shown = ~np.isnan(mean)
        handles = []
        if shown.any():
            yerr = np.vstack([mean - low, high - mean])
            yerr = np.where(np.isnan(yerr), 0.0, yerr)
            ax.errorbar(
                x[shown],
                mean[shown],
                yerr=yerr[:, shown],
                fmt="none",
                ecolor=colour,
                elinewidth=1,
                capsize=3,
            )
            (line,) = ax.plot(
                x[shown], mean[shown], linestyle=style, marker=marker, color=colour, linewidth=1.8
            )
            handles.append(_handle(colour, marker, style, "Mean with 95% confidence interval"))
        if not np.isnan(ewma).all():
            ax.plot(x, ewma, color=SECONDARY_TEXT, linewidth=1.5, marker="|", markersize=8)
            ax.plot(x, lower, color=SECONDARY_TEXT, linewidth=1, linestyle=":")
            ax.plot(x, upper, color=SECONDARY_TEXT, linewidth=1, linestyle=":")
            handles.append(_handle(SECONDARY_TEXT, "|", "-", "EWMA (λ = 0.3)"))
            handles.append(_handle(SECONDARY_TEXT, None, ":", "Control limits"))
        values = np.concatenate([v[~np.isnan(v)] for v in (low, high, lower, upper, mean)])
        bottom, top = _y_range(values, scale)
        ax.set_ylim(bottom, top)
        for threshold, words in ((scale.concern, "concern below"), (scale.strength, "strength")):
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
        for number, m in enumerate(markers, start=1):
            if m.wave in labels:
                at = labels.index(m.wave)
                ax.axvline(at, color=RED, linewidth=1.2, linestyle="-.")
                ax.text(at, top, f" Action {number}", fontsize=8, color=RED, va="top")
        if markers:
            handles.append(_handle(RED, None, "-.", "Agreed action"))
        ax.set_xticks(
            x, labels, rotation=45 if len(x) > 8 else 0, ha="right" if len(x) > 8 else "center"
        )
        ax.set_xlim(-0.5, len(x) - 0.5)
        ax.set_ylabel(f"Mean (1–{scale.points})")
        ax.grid(axis="y", color=LIGHT_GREY, linewidth=0.8)
        ax.set_axisbelow(True)
        _plain_axes(ax)
        if handles:
            ax.legend(
                handles=handles,
                loc="lower left",
                bbox_to_anchor=(0.0, 1.01),
                ncol=len(handles),
                frameon=False,
                fontsize=9,
            )

    last = next((p for p in reversed(points) if p.mean is not None), None)
    description = [
        f"{subject}: the mean on a 1 to {scale.points} scale at each closed wave from "
        f"{labels[0]} to {labels[-1]}, with its 95% confidence interval, the exponentially "
        "weighted moving average (EWMA) and its control limits."
        if labels
        else f"{subject}: no closed wave yet."
    ]
    if last is not None:
        description.append(
            f"Latest shown, {last.wave}: {fmt_mean(last.mean)} ({last.band or 'no band'})."
        )
    hidden = [p.wave for p in points if p.suppressed]
    if hidden:
        description.append(f"Not shown for confidentiality: {', '.join(hidden)}.")
    scale100 = 100.0 / (scale.points - 1)
    rows = tuple(
        (
            p.wave,
            fmt_int(p.n) if not p.suppressed else suppressed_text(p.suppressed, k),
            fmt_mean(p.mean),
            fmt_points(p.score100 if p.score100 is not None else _to100(p.mean, scale100)),
            f"{fmt_mean(p.ci_low)} to {fmt_mean(p.ci_high)}" if p.ci_low is not None else "",
            fmt_mean(p.ewma),
            f"{fmt_mean(p.ewma_lower)} to {fmt_mean(p.ewma_upper)}"
            if p.ewma_lower is not None
            else "",
        )
        for p in points
    )
    table = DataTable(
        caption=f"{title}: the data",
        head=(
            "Wave",
            "Responses",
            f"Mean (1–{scale.points})",
            "0–100",
            "95% CI",
            "EWMA",
            "Control limits",
        ),
        rows=rows,
        numeric=(False, True, True, True, True, True, True),
    )
    notes = tuple(
        f"Action {number}, agreed after {m.wave}: {m.text}"
        for number, m in enumerate(markers, start=1)
    )
    return _finish(key, title, " ".join(description), draw, (8, 3.4), table, notes)


def gap_chart(
    key: str,
    *,
    title: str,
    subject: str,
    gaps: Sequence[GapPoint],
    client_name: str,
    supplier_name: str,
    scale: Scale,
    k: int,
) -> Chart:
    """Client and supplier means per dimension (a dot plot), material gaps marked."""
    n = len(gaps)
    y = np.arange(n, dtype=float)[::-1]
    labels = [_wrap(g.title, 30) for g in gaps]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        fig.subplots_adjust(
            left=0.30,
            right=0.84,
            top=1 - 0.6 / fig.get_figheight(),
            bottom=0.7 / fig.get_figheight(),
        )
        values = [v for g in gaps for v in (g.mean_client, g.mean_supplier) if v is not None]
        lo = max(1.0, np.floor((min(values) if values else 1.0) * 2) / 2 - 0.25)
        hi = min(
            float(scale.points), np.ceil((max(values) if values else scale.points) * 2) / 2 + 0.25
        )
        if hi - lo < 1:
            lo, hi = max(1.0, lo - 0.5), min(float(scale.points), hi + 0.5)
        c_colour, c_marker, _ = SIDE_STYLE["client"]
        s_colour, s_marker, _ = SIDE_STYLE["supplier"]
        for yi, g in zip(y, gaps, strict=True):
            if g.mean_client is None or g.mean_supplier is None:
                ax.text(
                    (lo + hi) / 2,
                    yi,
                    suppressed_text(g.suppressed, k) or "Not computed",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=SECONDARY_TEXT,
                )
                continue
            material = bool(g.material)
            ax.plot(
                [g.mean_client, g.mean_supplier],
                [yi, yi],
                color=BLACK if material else MID_GREY,
                linewidth=3 if material else 1.5,
                zorder=1,
            )
            ax.plot(g.mean_client, yi, c_marker, color=c_colour, markersize=8, zorder=2)
            ax.plot(g.mean_supplier, yi, s_marker, color=s_colour, markersize=8, zorder=2)
            verdict = _gap_verdict(g)
            if verdict:
                ax.text(
                    1.01,
                    yi,
                    verdict,
                    transform=ax.get_yaxis_transform(),
                    va="center",
                    fontsize=9,
                    fontweight="bold" if material else "normal",
                )
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlim(lo, hi)
        ax.set_xlabel(f"Mean (1–{scale.points})")
        ax.grid(axis="x", color=LIGHT_GREY, linewidth=0.8)
        ax.set_axisbelow(True)
        _plain_axes(ax)
        ax.legend(
            handles=[
                _handle(c_colour, c_marker, "none", f"Client: {client_name}"),
                _handle(s_colour, s_marker, "none", f"Supplier: {supplier_name}"),
                _handle(BLACK, None, "-", "Material gap", width=3),
            ],
            loc="lower left",
            bbox_to_anchor=(-0.4, 1.0),
            ncol=3,
            frameon=False,
            fontsize=9,
        )
        for label in ax.get_yticklabels():
            label.set_multialignment("right")

    material = [g.title for g in gaps if g.material]
    description = (
        f"{subject}: the mean score of client staff ({client_name}) and of supplier staff "
        f"({supplier_name}) for each dimension, joined by a line; a thick line marks a material "
        "gap (significant after adjustment, and at least half a scale point or g ≥ 0.5). "
        + (f"Material gaps: {', '.join(material)}." if material else "There is no material gap.")
    )
    rows = tuple(
        (
            g.title,
            fmt_mean(g.mean_client) or suppressed_text(g.suppressed, k),
            fmt_mean(g.mean_supplier) or suppressed_text(g.suppressed, k),
            fmt_signed(g.difference),
            fmt_signed(g.g),
            fmt_p(g.p_adjusted),
            _gap_verdict(g) or ("No" if g.suppressed is None and g.difference is not None else ""),
        )
        for g in gaps
    )
    table = DataTable(
        caption=f"{title}: the data",
        head=(
            "Dimension",
            "Client mean",
            "Supplier mean",
            "Difference (client − supplier)",
            "Hedges' g",
            "Adjusted p",
            "Gap",
        ),
        rows=rows,
        numeric=(False, True, True, True, True, True, False),
    )
    return _finish(key, title, description, draw, (8, 0.45 * n + 1.2), table)


def heat_map(
    key: str,
    *,
    title: str,
    subject: str,
    dimensions: Sequence[tuple[str, str]],
    areas: Sequence[tuple[str, str]],
    cells: dict[tuple[str, str], HeatCell],
    scale: Scale,
    k: int,
) -> Chart:
    """Dimension × service area: each cell coloured by its mean, the mean printed in it."""
    n_rows, n_cols = len(dimensions), len(areas)

    def draw(fig: Figure) -> None:
        from matplotlib.patches import Patch, Rectangle

        ax = fig.add_subplot()
        fig.subplots_adjust(
            left=0.27,
            right=0.99,
            top=1 - 0.75 / fig.get_figheight(),
            bottom=0.55 / fig.get_figheight(),
        )
        for i, (dim, _) in enumerate(dimensions):
            for j, (area, _) in enumerate(areas):
                cell = cells.get((dim, area))
                value = cell.mean if cell is not None else None
                if value is None:
                    ax.add_patch(
                        Rectangle(
                            (j, i),
                            1,
                            1,
                            facecolor=LIGHT_GREY,
                            edgecolor="white",
                            linewidth=2,
                            hatch="///",
                        )
                    )
                    text = _heat_hidden(cell, k)
                    ax.text(
                        j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=8, color=BLACK
                    )
                    continue
                ax.add_patch(
                    Rectangle(
                        (j, i),
                        1,
                        1,
                        facecolor=heat_colour(value, scale),
                        edgecolor="white",
                        linewidth=2,
                    )
                )
                ax.text(
                    j + 0.5,
                    i + 0.5,
                    fmt_mean(value),
                    ha="center",
                    va="center",
                    fontsize=9,
                    fontweight="bold" if dim == dimensions[-1][0] else "normal",
                    color=BLACK,
                )
        ax.set_xlim(0, n_cols)
        ax.set_ylim(n_rows, 0)
        ax.set_xticks(np.arange(n_cols) + 0.5, [_wrap(name, 14) for _, name in areas], fontsize=8)
        ax.xaxis.tick_top()
        ax.set_yticks(np.arange(n_rows) + 0.5, [_wrap(t, 32) for _, t in dimensions], fontsize=8)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        legend = [
            Patch(
                facecolor=TINT_CONCERN,
                edgecolor=MID_GREY,
                label=f"Concern: under {scale.concern:.1f}",
            ),
            Patch(
                facecolor=TINT_BORDERLINE,
                edgecolor=MID_GREY,
                label=f"Borderline: {scale.concern:.1f} to under {scale.strength:.1f}",
            ),
            Patch(
                facecolor=TINT_STRENGTH,
                edgecolor=MID_GREY,
                label=f"Strength: {scale.strength:.1f} or more",
            ),
            Patch(
                facecolor=LIGHT_GREY,
                edgecolor=MID_GREY,
                hatch="///",
                label=f"n < {k}: fewer than {k} responses; hidden: protects a smaller group",
            ),
        ]
        ax.legend(
            handles=legend,
            loc="upper left",
            bbox_to_anchor=(-0.37, -0.02),
            ncol=2,
            frameon=False,
            fontsize=8,
        )

    lowest = sorted(
        ((c.mean, dim, area) for (dim, area), c in cells.items() if c.mean is not None),
    )[:3]
    titles = dict(dimensions)
    names = dict(areas)
    description = (
        f"{subject}: a grid of dimensions (rows) by service area (columns); each cell shows the "
        f"mean score on the 1 to {scale.points} scale, printed in the cell, on a colour from red "
        f"(under {scale.concern:.1f}) through yellow to green ({scale.strength:.1f} or more). "
        + (
            "Lowest cells: "
            + "; ".join(f"{titles[d]} in {names[a]} {fmt_mean(m)}" for m, d, a in lowest)
            + "."
            if lowest
            else ""
        )
    )
    rows = []
    for dim, dim_title in dimensions:
        row = [dim_title]
        for area, _ in areas:
            cell = cells.get((dim, area))
            if cell is None:
                row.append("No responses")
            elif cell.mean is None:
                row.append(suppressed_text(cell.suppressed, k) or "Not computed")
            else:
                row.append(f"{fmt_mean(cell.mean)} (n = {fmt_int(cell.n)})")
        rows.append(tuple(row))
    table = DataTable(
        caption=f"{title}: the data (mean, and number of responses)",
        head=("Dimension", *(name for _, name in areas)),
        rows=tuple(rows),
        numeric=(False, *(True for _ in areas)),
    )
    return _finish(key, title, description, draw, (8, 0.42 * n_rows + 2.0), table)


def response_rate_chart(key: str, *, title: str, subject: str, rows: Sequence[RateRow]) -> Chart:
    """Share of issued invitations used, per party and service area (an open wave: not cached)."""
    labels = [_wrap(f"{r.party}, {r.area}", 40) for r in rows]
    rates = [r.rate or 0.0 for r in rows]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        fig.subplots_adjust(
            left=0.36,
            right=0.97,
            top=1 - 0.3 / fig.get_figheight(),
            bottom=0.6 / fig.get_figheight(),
        )
        y = np.arange(len(rows))[::-1]
        ax.barh(y, rates, color=BLUE, height=0.6)
        for yi, r in zip(y, rows, strict=True):
            ax.text(
                (r.rate or 0.0) + 1,
                yi,
                f"{r.rate or 0:.0f}% ({r.submitted:,} of {r.issued:,})",
                va="center",
                fontsize=8,
            )
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_xlim(0, 115)
        ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
        ax.set_xlabel("Invitations used")
        _plain_axes(ax)

    description = (
        f"{subject}: "
        + "; ".join(
            f"{r.party}, {r.area}: {r.submitted:,} of {r.issued:,} invitations used" for r in rows
        )
        + "."
    )
    table = DataTable(
        caption=f"{title}: the data",
        head=(
            "Party",
            "Service area",
            "Invitations issued",
            "Started, not submitted",
            "Submitted",
            "Response rate",
        ),
        rows=tuple(
            (
                r.party,
                r.area,
                fmt_int(r.issued),
                fmt_int(r.started),
                fmt_int(r.submitted),
                "" if r.rate is None else f"{r.rate:.0f}%",
            )
            for r in rows
        ),
        numeric=(False, False, True, True, True, True),
    )
    return _finish(key, title, description, draw, (8, 0.4 * max(len(rows), 1) + 1.0), table)


def heat_colour(value: float, scale: Scale) -> str:
    """The heat-map tint of a mean: red tint → yellow tint → green tint, linearly."""
    stops = (
        (scale.concern - 0.5, TINT_CONCERN),
        ((scale.concern + scale.strength) / 2, TINT_BORDERLINE),
        (scale.strength + 0.5, TINT_STRENGTH),
    )
    if value <= stops[0][0]:
        return stops[0][1]
    if value >= stops[-1][0]:
        return stops[-1][1]
    for (x0, c0), (x1, c1) in zip(stops, stops[1:], strict=False):
        if x0 <= value <= x1:
            t = (value - x0) / (x1 - x0)
            a, b = _rgb(c0), _rgb(c1)
            return "#" + "".join(f"{round(p + (q - p) * t):02x}" for p, q in zip(a, b, strict=True))
    return stops[1][1]  # pragma: no cover - the stops cover the line


# ============================================================================ helpers


def _heat_hidden(cell: HeatCell | None, k: int) -> str:
    if cell is None or not cell.suppressed:
        return "–"
    return "hidden" if cell.suppressed.startswith("secondary") else f"n < {k}"


def _gap_verdict(g: GapPoint) -> str:
    if g.suppressed or g.difference is None:
        return ""
    if g.material:
        return "Material gap"
    if g.p_adjusted is not None and g.p_adjusted < 0.05:
        return "Significant, small"
    return ""


def _array(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _to100(mean: float | None, scale100: float) -> float | None:
    return None if mean is None else (mean - 1.0) * scale100


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _y_range(values: np.ndarray, scale: Scale) -> tuple[float, float]:
    if values.size == 0:
        return 1.0, float(scale.points)
    lo, hi = float(values.min()), float(values.max())
    pad = max(0.1, (hi - lo) * 0.1)
    return max(1.0, lo - pad), min(float(scale.points), hi + pad)


def _handle(colour: str, marker: str | None, style: str, label: str, width: float = 1.5) -> Line2D:
    from matplotlib.lines import Line2D

    return Line2D(
        [],
        [],
        color=colour,
        marker=marker,
        linestyle=style,
        linewidth=width,
        markersize=7,
        label=label,
    )


def _plain_axes(ax: Any) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)


def _finish(
    key: str,
    title: str,
    description: str,
    draw: Callable[[Figure], None],
    size: tuple[float, float],
    table: DataTable,
    notes: tuple[str, ...] = (),
) -> Chart:
    svg = figure_svg(draw, size)
    return Chart(key, title, description, inline_svg(svg, key, title, description), table, notes)


def figure_svg(draw: Callable[[Figure], None], size: tuple[float, float]) -> str:
    """Draw on a new Figure (no pyplot) and return matplotlib's SVG text."""
    import matplotlib  # here, not at start-up: ~100 MB and seconds per worker that never draws
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=size)
        FigureCanvasSVG(fig)
        draw(fig)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


_PRESENTATION = {
    "fill",
    "fill-opacity",
    "fill-rule",
    "stroke",
    "stroke-width",
    "stroke-opacity",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-dasharray",
    "stroke-dashoffset",
    "opacity",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "clip-path",
}
_URL = re.compile(r"url\(#([^)]+)\)")


def inline_svg(raw: str, key: str, title: str, description: str) -> str:
    """matplotlib's SVG made fit to sit inline in a page under ``style-src 'self'``.

    Inline ``style`` declarations become presentation attributes (the font family is left
    to the page's stylesheet), ``<style>`` and ``<metadata>`` go, ids nothing refers to go
    and the others (and every reference to them) get the prefix ``key-``, indentation goes,
    fixed width and height give way to the
    ``viewBox`` (the stylesheet sizes the chart), and the root gets ``role="img"`` with a
    ``<title>`` and a ``<desc>`` it is labelled by.
    """
    root = ET.fromstring(raw.encode("utf-8"))  # noqa: S314 (matplotlib's own output)
    ns = f"{{{_SVG_NS}}}"
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{ns}metadata", f"{ns}style"):
                parent.remove(child)
    referenced = raw_refs(root)
    for element in root.iter():
        if "id" in element.attrib and element.attrib["id"] not in referenced:
            del element.attrib["id"]  # matplotlib names every group; only targets need one
        if element.text is not None and not element.text.strip():
            element.text = None  # indentation
        element.tail = None
        style = element.attrib.pop("style", None)
        if style:
            for declaration in style.split(";"):
                name, _, value = declaration.partition(":")
                name, value = name.strip(), value.strip()
                if name in _PRESENTATION and value:
                    element.set(name, value)
        if "id" in element.attrib:
            element.set("id", f"{key}-{element.attrib['id']}")
        for attr, value in list(element.attrib.items()):
            if attr in (f"{{{_XLINK_NS}}}href", "href") and value.startswith("#"):
                element.set(attr, f"#{key}-{value[1:]}")
            elif "url(#" in value:
                element.set(attr, _URL.sub(lambda m: f"url(#{key}-{m.group(1)})", value))
    for empty in [d for d in root.iter(f"{ns}defs") if len(d) == 0]:
        for parent in root.iter():
            if empty in list(parent):
                parent.remove(empty)
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)
    root.set("role", "img")
    root.set("aria-labelledby", f"{key}-title {key}-desc")
    root.set("class", "app-chart__svg")
    root.set("font-family", "arial, sans-serif")
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    title_el = ET.Element(f"{ns}title", {"id": f"{key}-title"})
    title_el.text = title
    desc_el = ET.Element(f"{ns}desc", {"id": f"{key}-desc"})
    desc_el.text = description
    root.insert(0, desc_el)
    root.insert(0, title_el)
    return ET.tostring(root, encoding="unicode")


# ============================================================================ the cache


def raw_refs(root: ET.Element) -> set[str]:
    """The ids an SVG refers to (``xlink:href="#id"``, ``url(#id)``)."""
    found = set()
    for element in root.iter():
        for attr, value in element.attrib.items():
            if attr in (f"{{{_XLINK_NS}}}href", "href") and value.startswith("#"):
                found.add(value[1:])
            found.update(_URL.findall(value))
    return found


def results_version(relationship: Relationship) -> str:
    """A fingerprint of the relationship's stored results: it changes whenever they are rebuilt.

    The names the charts print (parties, service areas) are part of it too, so a renamed
    area is not drawn under its old name.
    """
    rows = db.session.execute(
        select(
            ResultTable.id,
            ResultTable.wave_id,
            ResultTable.name,
            ResultTable.analysis_version,
            ResultTable.computed_at,
        )
        .where(ResultTable.relationship_id == relationship.id)
        .order_by(ResultTable.id)
    ).all()
    digest = hashlib.sha256()
    names = [relationship.name]
    names += [f"{p.side}={p.name}" for p in relationship.parties]
    names += [f"{a.key}={a.name}" for a in relationship.service_areas]
    digest.update(repr(names).encode("utf-8"))
    for row in rows:
        digest.update(repr(tuple(row)).encode("utf-8"))
    return digest.hexdigest()[:20]


def cache_root() -> Path:
    configured = current_app.config.get("CHART_CACHE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "chart-cache"


@dataclass
class ChartCache:
    """Derived views of one relationship's closed waves, kept per results version.

    ``chart(...)`` and ``payload(...)`` return the cached value for a key, else build it,
    store it and return it. Keys are (wave id, name, parameters, k, :data:`CHARTS_VERSION`).
    """

    relationship_id: int
    version: str
    root: Path = field(default_factory=cache_root)

    @classmethod
    def of(cls, relationship: Relationship) -> ChartCache:
        return cls(relationship.id, results_version(relationship))

    @property
    def folder(self) -> Path:
        return self.root / str(self.relationship_id) / self.version

    def path(self, wave_id: int, name: str, params: dict[str, Any]) -> Path:
        key = json.dumps(
            {"params": params, "k": min_cell_size(), "charts": CHARTS_VERSION},
            sort_keys=True,
            default=str,
        )
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        return self.folder / f"{wave_id}-{name}-{digest}.json"

    def payload(
        self, wave_id: int, name: str, params: dict[str, Any], build: Callable[[], Any]
    ) -> Any:
        path = self.path(wave_id, name, params)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            pass
        value = build()
        self._write(path, json.dumps(value, separators=(",", ":")))
        return value

    def chart(
        self, wave_id: int, name: str, params: dict[str, Any], render: Callable[[], Chart]
    ) -> Chart:
        data = self.payload(wave_id, name, params, lambda: render().to_dict())
        return Chart.from_dict(data)

    def _write(self, path: Path, text: str) -> None:
        folder = path.parent
        if not folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            self._drop_other_versions()
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _drop_other_versions(self) -> None:
        parent = self.folder.parent
        for other in parent.iterdir():
            if other.is_dir() and other.name != self.version:
                shutil.rmtree(other, ignore_errors=True)


def invalidate(relationship: Relationship) -> None:
    """Forget every cached chart of a relationship (results rebuilt outside this process)."""
    shutil.rmtree(cache_root() / str(relationship.id), ignore_errors=True)


__all__ = [
    "CHARTS_VERSION",
    "ActionMarker",
    "Chart",
    "ChartCache",
    "DataTable",
    "GapPoint",
    "HeatCell",
    "RateRow",
    "Scale",
    "SeriesPoint",
    "figure_svg",
    "gap_chart",
    "heat_colour",
    "heat_map",
    "index_chart",
    "inline_svg",
    "invalidate",
    "response_rate_chart",
    "results_version",
    "suppressed_text",
]
