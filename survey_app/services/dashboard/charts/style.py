"""How the charts look: the GOV.UK palette, how each side is drawn, and the axes pieces every
chart shares.

Colours are from the GOV.UK Frontend palette with at least 3:1 contrast against white for
lines and marks; text on the heat map's light tints is black (at least 12:1). Colour never
carries meaning alone: series differ in marker and line style and are labelled, heat-map
cells print their value.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from flask_babel import gettext

if TYPE_CHECKING:  # matplotlib itself is imported when a chart is first drawn, not at start-up
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

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


def legend_handle(
    colour: str,
    marker: str | None,
    style: str | tuple[float, tuple[float, ...]],
    label: str,
    width: float = 1.5,
) -> Line2D:
    """A legend entry drawn as a short line with its marker."""
    from matplotlib.lines import Line2D  # lazily, as matplotlib is: see svg.figure_svg

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


def plain_axes(ax: Any) -> None:
    """No box: only the left and bottom axes."""
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)


def mean_axes(ax: Any, axis: str, points: int) -> None:
    """Axes that read off means: ``axis`` ("x" or "y") labelled "Mean (1–K)", light grid lines
    across it behind the marks, and no box."""
    (ax.set_xlabel if axis == "x" else ax.set_ylabel)(gettext("Mean (1–%(points)s)", points=points))
    ax.grid(axis=axis, color=LIGHT_GREY, linewidth=0.8)
    ax.set_axisbelow(True)
    plain_axes(ax)


def margins(fig: Figure, left: float, right: float, top: float, bottom: float) -> None:
    """Side margins as shares of the width; ``top`` and ``bottom`` in inches, so that a
    chart whose height grows with its rows keeps the same room for its legend and labels."""
    height = fig.get_figheight()
    fig.subplots_adjust(left=left, right=right, top=1 - top / height, bottom=bottom / height)


def wrap(text: str, width: int) -> str:
    """A label broken into lines of at most ``width`` characters."""
    return "\n".join(textwrap.wrap(text, width)) or text
