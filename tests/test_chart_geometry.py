"""Where the charts put their words and marks (issue 15's page defects): every text inside the
chart, labels where no data is, and both sides' marks visible when they coincide.

Each chart is drawn again through its own drawing function on a Figure at 72 dpi, so that a
display unit is a point, as in the SVG's ``viewBox``; text extents are matplotlib's, in DejaVu
Sans, which is wider than the page's fonts (so a text that fits here fits on the page). The
data marks are placed from the inputs, not read back from the chart's artists.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from contextlib import contextmanager

import numpy as np
import pytest

from survey_app.services.dashboard import charts
from survey_app.services.dashboard.charts import style, svg
from tests.factories import heat_map_chart, index_chart, series_points

SVG = "{http://www.w3.org/2000/svg}"


@contextmanager
def captured(monkeypatch):  # type: ignore[no-untyped-def]
    """Collects the figures the charts drawn inside the block would draw (at 72 dpi)."""
    drawn: list = []
    original = svg._draw

    def keep(draw, size, out, **save):  # type: ignore[no-untyped-def]
        drawn.append((draw, size))
        original(draw, size, out, **save)

    monkeypatch.setattr(svg, "_draw", keep)
    yield drawn


def figure_of(monkeypatch, make):  # type: ignore[no-untyped-def]
    """The chart ``make()`` returns, and its figure drawn again at 72 dpi."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with captured(monkeypatch) as drawn:
        chart = make()
    draw, size = drawn[-1]
    with matplotlib.rc_context(svg._RC):
        fig = Figure(figsize=size, dpi=72)
        FigureCanvasAgg(fig)
        draw(fig)
        fig.canvas.draw()
    return chart, fig


def texts(fig):  # type: ignore[no-untyped-def]
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def assert_inside(fig) -> None:  # type: ignore[no-untyped-def]
    """No text (tick labels, legends, labels) reaches past the figure's edge: nothing clipped."""
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    out = []
    for t in texts(fig):
        box = t.get_window_extent(renderer)
        if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5:
            out.append((t.get_text(), [round(v) for v in box.extents]))
    assert out == [], f"clipped in a {width:.0f} × {height:.0f} chart: {out}"


def index(markers=(), means=(3.6, 3.7, 3.5, 3.4, 3.45, 3.3), target=None, limits=(3.3, 3.9)):
    """The index chart and the points it draws."""
    chart = index_chart(means, limits=limits, markers=markers, target=target)
    return chart, series_points(means, limits=limits)


def data_marks(fig, pts) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Display positions of everything a trend chart draws from its data: each wave's mean,
    CI ends, EWMA and limits, and points along the lines joining them and along each CI."""
    ax = fig.axes[0]
    found = []
    series = [
        [(i, getattr(p, name)) for i, p in enumerate(pts) if getattr(p, name) is not None]
        for name in ("mean", "ewma", "ewma_lower", "ewma_upper", "ci_low", "ci_high")
    ]
    series += [[(i, p.ci_low), (i, p.ci_high)] for i, p in enumerate(pts) if p.ci_low is not None]
    for line in series:
        for (x0, y0), (x1, y1) in zip(line, line[1:], strict=False):
            for t in np.linspace(0, 1, 25):
                found.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
        found += line
    return ax.transData.transform(np.array(found, dtype=float))


def overlapping(fig, words: str, marks: np.ndarray) -> list[str]:  # type: ignore[no-untyped-def]
    renderer = fig.canvas.get_renderer()
    hits = []
    for t in texts(fig):
        if words in t.get_text():
            box = t.get_window_extent(renderer).padded(1)
            inside = (
                (marks[:, 0] >= box.x0)
                & (marks[:, 0] <= box.x1)
                & (marks[:, 1] >= box.y0)
                & (marks[:, 1] <= box.y1)
            )
            if inside.any():
                hits.append(t.get_text())
    return hits


MARKERS = (
    charts.ActionMarker("2010-Q2", "Joint review"),
    charts.ActionMarker("2011-Q2", "Monthly service review with both directors"),
)


@pytest.mark.parametrize(
    "means",
    [
        (3.6, 3.7, 3.5, 3.4, 3.45, 3.3),  # the latest wave just above the concern line
        (3.05, 3.0, 2.95, 3.1, 3.02, 3.04),  # every wave on the concern line
        (4.1, 4.0, 3.9, 4.05, 3.95, 4.02),  # on the strength line
    ],
)
def test_the_bands_labels_and_action_labels_sit_where_no_data_is(monkeypatch, means):
    limits = (min(means) - 0.3, max(means) + 0.3)
    chart_pts = []

    def make():  # type: ignore[no-untyped-def]
        built, found = index(MARKERS, means, limits=limits)
        chart_pts.extend(found)
        return built

    _, fig = figure_of(monkeypatch, make)
    marks = data_marks(fig, chart_pts)
    labels = [t.get_text().strip() for t in texts(fig)]
    assert any("concern" in t or "strength" in t for t in labels)  # a band's line is labelled
    assert [t for t in labels if t.startswith("Action")] == ["Action 1", "Action 2"]
    for words in ("concern", "strength", "Action"):
        assert overlapping(fig, words, marks) == [], words
    assert_inside(fig)


def test_an_action_at_the_latest_wave_is_not_clipped(monkeypatch):
    markers = (charts.ActionMarker("2011-Q2", "A review at the latest wave"),)
    _, fig = figure_of(monkeypatch, lambda: index(markers)[0])
    assert any("Action 1" in t.get_text() for t in texts(fig))
    assert_inside(fig)


def test_actions_at_neighbouring_waves_do_not_overlap(monkeypatch):
    means = tuple(3.5 + 0.02 * (i % 3) for i in range(20))
    markers = tuple(charts.ActionMarker(p.wave, "x") for p in series_points(means)[10:14])
    _, fig = figure_of(monkeypatch, lambda: index(markers, means)[0])
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts(fig) if "Action" in t.get_text()]
    assert len(boxes) == 4
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    assert_inside(fig)


def test_a_trend_chart_with_every_legend_entry_is_not_clipped(monkeypatch):
    target = charts.TargetLine(4.25, "1 March 2011")
    _, fig = figure_of(monkeypatch, lambda: index(MARKERS, target=target)[0])
    assert_inside(fig)


def gaps(pairs, titles=None):  # type: ignore[no-untyped-def]
    out = []
    for i, (c, s) in enumerate(pairs):
        diff = None if c is None or s is None else c - s
        out.append(
            charts.GapPoint(
                dimension=f"d{i}",
                title=(titles or {}).get(i, f"Dimension {i}"),
                mean_client=c,
                mean_supplier=s,
                n_client=30,
                n_supplier=30,
                difference=diff,
                g=None if diff is None else diff / 0.8,
                p_adjusted=None if diff is None else (0.001 if abs(diff) >= 0.5 else 0.04),
                material=None if diff is None else abs(diff) >= 0.5,
                suppressed=None,
            )
        )
    return out


def gap_chart(pairs, titles=None):  # type: ignore[no-untyped-def]
    return charts.gap_chart(
        "gaps",
        title="Perception gaps",
        subject="Perception gaps",
        gaps=gaps(pairs, titles),
        client_name="Birmingham City Council",
        supplier_name="Service Birmingham Limited",
        scale=charts.Scale(),
        k=5,
    )


def marker_centres(chart, colour: str) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    root = ET.fromstring(chart.svg)
    return [
        (float(u.get("x")), float(u.get("y")))
        for u in root.iter(f"{SVG}use")
        if u.get("fill") == colour and u.get("x") is not None
    ]


def test_equal_means_keep_both_sides_marks_visible():
    pairs = [(3.5, 3.5), (3.2, 3.21), (4.0, 3.1), (2.9, 2.9)]
    chart = gap_chart(pairs)
    client = marker_centres(chart, style.SIDE_STYLE["client"][0])
    supplier = marker_centres(chart, style.SIDE_STYLE["supplier"][0])
    assert len(client) == len(supplier) == len(pairs) + 1  # each row, and the legend
    size = 8  # the markers' size in points (a circle's diameter, about a square's side)
    for cx, cy in client:
        nearest = min(math.dist((cx, cy), s) for s in supplier)
        assert nearest >= size, (cx, cy, nearest)


def test_unequal_means_stay_on_their_rows_line():
    chart = gap_chart([(4.0, 3.1), (3.6, 3.0)])
    client = marker_centres(chart, style.SIDE_STYLE["client"][0])
    supplier = marker_centres(chart, style.SIDE_STYLE["supplier"][0])
    # a row's two marks share its line (the legend's marks are the last drawn)
    assert [round(y, 1) for _, y in client[:-1]] == [round(y, 1) for _, y in supplier[:-1]]


@pytest.mark.parametrize("n", [1, 4, 11])
def test_a_gap_chart_is_not_clipped(monkeypatch, n):
    pairs = [(3.0 + 0.1 * i, 3.55 + 0.05 * i) for i in range(n)]
    titles = {0: "Partnership orientation and a very long dimension title indeed"}
    _, fig = figure_of(monkeypatch, lambda: gap_chart(pairs, titles))
    assert_inside(fig)


def test_a_heat_map_is_not_clipped(monkeypatch):
    dims = [(f"d{i}", f"A dimension title number {i} of several words") for i in range(6)]
    areas = [(f"a{j}", f"Service area with a long name {j}") for j in range(5)]
    cells = {
        (d, a): charts.HeatCell(2.5 + 0.3 * i + 0.1 * j, 30, "borderline", None)
        for i, (d, _) in enumerate(dims)
        for j, (a, _) in enumerate(areas)
    }
    cells[("d0", "a0")] = charts.HeatCell(None, None, None, "primary")
    _, fig = figure_of(monkeypatch, lambda: heat_map_chart(dims, areas, cells))
    assert_inside(fig)
