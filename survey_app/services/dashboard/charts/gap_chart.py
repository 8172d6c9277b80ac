"""The perception-gap chart: client and supplier means per dimension (a dot plot), each pair
joined by a line, material gaps marked in words as well as by a thicker line (DESIGN §4.9)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from flask_babel import gettext

from survey_app.services.dashboard.charts.format import fmt_mean, fmt_p, fmt_signed, suppressed_text
from survey_app.services.dashboard.charts.model import Chart, DataTable, GapPoint, Scale
from survey_app.services.dashboard.charts.style import (
    BLACK,
    MID_GREY,
    SECONDARY_TEXT,
    SIDE_STYLE,
    legend_handle,
    margins,
    mean_axes,
    wrap,
)
from survey_app.services.dashboard.charts.svg import render_chart

if TYPE_CHECKING:  # matplotlib itself is imported when a chart is first drawn, not at start-up
    from matplotlib.figure import Figure


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

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        margins(fig, left=0.30, right=0.84, top=0.6, bottom=0.7)
        lo, hi = _x_range(gaps, scale)
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlim(lo, hi)
        apart = _Apart.of(ax)
        for yi, g in zip(y, gaps, strict=True):
            _draw_gap(ax, yi, g, apart, k)
        ax.set_yticks(y, [wrap(g.title, 30) for g in gaps])
        mean_axes(ax, "x", scale.points)
        _legend(ax, client_name, supplier_name)
        for label in ax.get_yticklabels():
            label.set_multialignment("right")

    material = [g.title for g in gaps if g.material]
    description = (
        gettext(
            "%(subject)s: the mean score of client staff (%(client)s) and of supplier staff "
            "(%(supplier)s) for each dimension, joined by a line; a thick line marks a material "
            "gap (significant after adjustment, and at least half a scale point or g ≥ 0.5).",
            subject=subject,
            client=client_name,
            supplier=supplier_name,
        )
        + " "
        + (
            gettext("Material gaps: %(gaps)s.", gaps=", ".join(material))
            if material
            else gettext("There is no material gap.")
        )
    )
    table = DataTable(
        caption=gettext("%(title)s: the data", title=title),
        head=(
            gettext("Dimension"),
            gettext("Client mean"),
            gettext("Supplier mean"),
            gettext("Difference (client − supplier)"),
            gettext("Hedges’ g"),
            gettext("Adjusted p"),
            gettext("Gap"),
        ),
        rows=tuple(_table_row(g, k) for g in gaps),
        numeric=(False, True, True, True, True, True, False),
    )
    return render_chart(key, title, description, draw, (8, 0.45 * n + 1.2), table)


def _x_range(gaps: Sequence[GapPoint], scale: Scale) -> tuple[float, float]:
    """The shown means to the nearest half point, padded, at least one point wide."""
    values = [v for g in gaps for v in (g.mean_client, g.mean_supplier) if v is not None]
    lo = max(1.0, np.floor((min(values) if values else 1.0) * 2) / 2 - 0.25)
    hi = min(float(scale.points), np.ceil((max(values) if values else scale.points) * 2) / 2 + 0.25)
    if hi - lo < 1:
        lo, hi = max(1.0, lo - 0.5), min(float(scale.points), hi + 0.5)
    return lo, hi


#: The size of each side's mark, in points (a circle's diameter, about a square's side).
MARKER_SIZE = 8


@dataclass(frozen=True)
class _Apart:
    """How far apart two means must be for their marks not to overlap on one line (in x
    units), and how far each mark moves off the line when they would (in y units)."""

    near: float
    shift: float
    middle: float

    @classmethod
    def of(cls, ax: Any) -> _Apart:
        fig = ax.figure
        box = ax.get_position()
        (lo, hi), (bottom, top) = ax.get_xlim(), ax.get_ylim()
        x_per_pt = (hi - lo) / (box.width * fig.get_figwidth() * 72)
        y_per_pt = (top - bottom) / (box.height * fig.get_figheight() * 72)
        return cls(MARKER_SIZE * x_per_pt, 0.6 * MARKER_SIZE * y_per_pt, (lo + hi) / 2)


def _draw_gap(ax: Any, yi: float, g: GapPoint, apart: _Apart, k: int) -> None:
    """One dimension's row: both means joined (thick when material), or why it is hidden.
    Means too close for both marks to show on one line are drawn just above (client) and
    below (supplier) it, so that neither hides the other."""
    if g.mean_client is None or g.mean_supplier is None:
        ax.text(
            apart.middle,
            yi,
            suppressed_text(g.suppressed, k) or gettext("Not computed"),
            ha="center",
            va="center",
            fontsize=8,
            color=SECONDARY_TEXT,
        )
        return
    material = bool(g.material)
    shift = apart.shift if abs(g.mean_client - g.mean_supplier) < apart.near else 0.0
    at = {"client": yi + shift, "supplier": yi - shift}
    ax.plot(
        [g.mean_client, g.mean_supplier],
        [at["client"], at["supplier"]],
        color=BLACK if material else MID_GREY,
        linewidth=3 if material else 1.5,
        zorder=1,
    )
    for side, mean in (("client", g.mean_client), ("supplier", g.mean_supplier)):
        colour, marker, _ = SIDE_STYLE[side]
        ax.plot(mean, at[side], marker, color=colour, markersize=MARKER_SIZE, zorder=2)
    verdict = _verdict(g)
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


def _legend(ax: Any, client_name: str, supplier_name: str) -> None:
    c_colour, c_marker, _ = SIDE_STYLE["client"]
    s_colour, s_marker, _ = SIDE_STYLE["supplier"]
    ax.legend(
        handles=[
            legend_handle(
                c_colour, c_marker, "none", gettext("Client: %(name)s", name=client_name)
            ),
            legend_handle(
                s_colour, s_marker, "none", gettext("Supplier: %(name)s", name=supplier_name)
            ),
            legend_handle(BLACK, None, "-", gettext("Material gap"), width=3),
        ],
        loc="lower left",
        bbox_to_anchor=(-0.4, 1.0),
        ncol=3,
        frameon=False,
        fontsize=9,
    )


def _verdict(g: GapPoint) -> str:
    if g.suppressed or g.difference is None:
        return ""
    if g.material:
        return gettext("Material gap")
    if g.p_adjusted is not None and g.p_adjusted < 0.05:
        return gettext("Significant, small")
    return ""


def _table_row(g: GapPoint, k: int) -> tuple[str, ...]:
    shown = g.suppressed is None and g.difference is not None
    return (
        g.title,
        fmt_mean(g.mean_client) or suppressed_text(g.suppressed, k),
        fmt_mean(g.mean_supplier) or suppressed_text(g.suppressed, k),
        fmt_signed(g.difference),
        fmt_signed(g.g),
        fmt_p(g.p_adjusted),
        _verdict(g) or (gettext("No") if shown else ""),
    )
