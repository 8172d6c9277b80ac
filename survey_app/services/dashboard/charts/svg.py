"""matplotlib → an inline SVG fit for a GOV.UK page under the service's Content Security Policy.

matplotlib draws on a :class:`~matplotlib.figure.Figure` with the SVG canvas (no pyplot, no
global figure state); the few rc settings the SVG writer reads (``svg.fonttype: none`` so that
text stays text, a fixed ``svg.hashsalt`` so that the output is deterministic) are applied in
an :func:`matplotlib.rc_context` under a lock. The SVG is then made fit to sit inline in a
page under ``style-src 'self'`` (which blocks ``style`` attributes and ``<style>``
elements): every inline style becomes the equivalent presentation attribute, the ``<style>``
and ``<metadata>`` elements go, every ``id`` gets the chart's prefix (several charts share a
page), and the root gets ``role="img"`` with a ``<title>`` and a ``<desc>`` that say in words
what the chart shows.
"""

from __future__ import annotations

import io
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import TYPE_CHECKING

from survey_app.services.dashboard.charts.model import Chart, DataTable
from survey_app.services.dashboard.charts.style import BLACK, SECONDARY_TEXT

if TYPE_CHECKING:  # matplotlib itself is imported when a chart is first drawn, not at start-up
    from matplotlib.figure import Figure

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


def render_chart(
    key: str,
    title: str,
    description: str,
    draw: Callable[[Figure], None],
    size: tuple[float, float],
    table: DataTable,
    notes: tuple[str, ...] = (),
) -> Chart:
    """Draw a chart of ``size`` inches and return it inline, labelled, with its table."""
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
        _inline_element(element, key, referenced)
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


def _inline_element(element: ET.Element, key: str, referenced: set[str]) -> None:
    """One element: styles to attributes, ids kept only where referred to (and prefixed)."""
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


def raw_refs(root: ET.Element) -> set[str]:
    """The ids an SVG refers to (``xlink:href="#id"``, ``url(#id)``)."""
    found = set()
    for element in root.iter():
        for attr, value in element.attrib.items():
            if attr in (f"{{{_XLINK_NS}}}href", "href") and value.startswith("#"):
                found.add(value[1:])
            found.update(_URL.findall(value))
    return found
