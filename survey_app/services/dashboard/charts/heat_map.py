"""The heat map: dimension × service area, each cell tinted by its mean (red → yellow →
green through the bands) with the mean printed in it, hidden cells hatched and saying why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from flask_babel import gettext

from survey_app.services.dashboard.charts.format import fmt_int, fmt_mean, suppressed_text
from survey_app.services.dashboard.charts.model import Chart, DataTable, HeatCell, Scale
from survey_app.services.dashboard.charts.style import (
    BLACK,
    LIGHT_GREY,
    MID_GREY,
    TINT_BORDERLINE,
    TINT_CONCERN,
    TINT_STRENGTH,
    margins,
    wrap,
)
from survey_app.services.dashboard.charts.svg import render_chart

if TYPE_CHECKING:  # matplotlib itself is imported when a chart is first drawn, not at start-up
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

#: A hidden cell: grey, hatched.
_HIDDEN = {"facecolor": LIGHT_GREY, "hatch": "///"}


def heat_map(
    key: str,
    *,
    title: str,
    subject: str,
    dimensions: Sequence[tuple[str, str]],
    areas: Sequence[tuple[str, str]],
    cells: Mapping[tuple[str, str], HeatCell],
    scale: Scale,
    k: int,
) -> Chart:
    """Dimension × service area: each cell coloured by its mean, the mean printed in it."""
    n_rows, n_cols = len(dimensions), len(areas)
    last = dimensions[-1][0] if dimensions else None

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        margins(fig, left=0.27, right=0.99, top=0.75, bottom=0.55)
        for i, (dim, _) in enumerate(dimensions):
            for j, (area, _) in enumerate(areas):
                _draw_cell(ax, i, j, cells.get((dim, area)), scale, k, bold=dim == last)
        ax.set_xlim(0, n_cols)
        ax.set_ylim(n_rows, 0)
        ax.set_xticks(np.arange(n_cols) + 0.5, [wrap(name, 14) for _, name in areas], fontsize=8)
        ax.xaxis.tick_top()
        ax.set_yticks(np.arange(n_rows) + 0.5, [wrap(t, 32) for _, t in dimensions], fontsize=8)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.legend(
            handles=_legend(scale, k),
            loc="upper left",
            bbox_to_anchor=(-0.37, -0.02),
            ncol=2,
            frameon=False,
            fontsize=8,
        )

    grid = _Grid(dimensions, areas, cells)
    size = (8, 0.42 * n_rows + 2.0)
    return render_chart(
        key, title, grid.description(subject, scale), draw, size, grid.table(title, k)
    )


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


def _draw_cell(
    ax: Any, i: int, j: int, cell: HeatCell | None, scale: Scale, k: int, *, bold: bool
) -> None:
    """Row ``i``, column ``j``: a tint with the mean printed, or hatched with why it is not."""
    from matplotlib.patches import Rectangle  # lazily, as matplotlib is: see svg.figure_svg

    value = cell.mean if cell is not None else None
    if value is None:
        fill, text, size, weight = _HIDDEN, _hidden_words(cell, k), 8, "normal"
    else:
        fill = {"facecolor": heat_colour(value, scale)}
        text, size, weight = fmt_mean(value), 9, "bold" if bold else "normal"
    ax.add_patch(Rectangle((j, i), 1, 1, edgecolor="white", linewidth=2, **fill))
    ax.text(
        j + 0.5,
        i + 0.5,
        text,
        ha="center",
        va="center",
        fontsize=size,
        fontweight=weight,
        color=BLACK,
    )


def _legend(scale: Scale, k: int) -> list[Patch]:
    from matplotlib.patches import Patch  # lazily, as matplotlib is: see svg.figure_svg

    entries = (
        (
            {"facecolor": TINT_CONCERN},
            gettext("Concern: under %(concern)s", concern=format(scale.concern, ".1f")),
        ),
        (
            {"facecolor": TINT_BORDERLINE},
            gettext(
                "Borderline: %(concern)s to under %(strength)s",
                concern=format(scale.concern, ".1f"),
                strength=format(scale.strength, ".1f"),
            ),
        ),
        (
            {"facecolor": TINT_STRENGTH},
            gettext("Strength: %(strength)s or more", strength=format(scale.strength, ".1f")),
        ),
        (
            _HIDDEN,
            gettext("n < %(k)s: fewer than %(k)s responses; hidden: protects a smaller group", k=k),
        ),
    )
    return [Patch(edgecolor=MID_GREY, label=label, **fill) for fill, label in entries]


def _hidden_words(cell: HeatCell | None, k: int) -> str:
    """What a cell without a mean prints: short, the table says it in full."""
    if cell is None or not cell.suppressed:
        return "–"
    return gettext("hidden") if cell.suppressed.startswith("secondary") else f"n < {k}"


@dataclass(frozen=True)
class _Grid:
    """The cells of a heat map: rows are dimensions, columns service areas, (key, name) each."""

    dimensions: Sequence[tuple[str, str]]
    areas: Sequence[tuple[str, str]]
    cells: Mapping[tuple[str, str], HeatCell]

    def description(self, subject: str, scale: Scale) -> str:
        shown = ((c.mean, d, a) for (d, a), c in self.cells.items() if c.mean is not None)
        lowest = sorted(shown)[:3]
        titles, names = dict(self.dimensions), dict(self.areas)
        lowest_words = (
            gettext(
                "Lowest cells: %(cells)s.",
                cells="; ".join(
                    gettext(
                        "%(dimension)s in %(area)s %(mean)s",
                        dimension=titles[d],
                        area=names[a],
                        mean=fmt_mean(m),
                    )
                    for m, d, a in lowest
                ),
            )
            if lowest
            else ""
        )
        return (
            gettext(
                "%(subject)s: a grid of dimensions (rows) by service area (columns); each cell "
                "shows the mean score on the 1 to %(points)s scale, printed in the cell, on a "
                "colour from red (under %(concern)s) through yellow to green (%(strength)s or "
                "more).",
                subject=subject,
                points=scale.points,
                concern=format(scale.concern, ".1f"),
                strength=format(scale.strength, ".1f"),
            )
            + " "
            + lowest_words
        )

    def table(self, title: str, k: int) -> DataTable:
        def text(cell: HeatCell | None) -> str:
            if cell is None:
                return gettext("No responses")
            if cell.mean is None:
                return suppressed_text(cell.suppressed, k) or gettext("Not computed")
            return f"{fmt_mean(cell.mean)} (n = {fmt_int(cell.n)})"

        return DataTable(
            caption=gettext("%(title)s: the data (mean, and number of responses)", title=title),
            head=(gettext("Dimension"), *(name for _, name in self.areas)),
            rows=tuple(
                (dim_title, *(text(self.cells.get((dim, area))) for area, _ in self.areas))
                for dim, dim_title in self.dimensions
            ),
            numeric=(False, *(True for _ in self.areas)),
        )


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
