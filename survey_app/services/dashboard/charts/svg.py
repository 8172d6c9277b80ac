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

A chart can also be taken away as a file: :func:`standalone_svg` makes the inline SVG a
document of its own, and :func:`drawn_as_png` draws a chart *again* on a PNG canvas from the
same drawing function (matplotlib writes PNG itself: no SVG rasteriser is needed). While a
``with drawn_as_png(key) as png:`` block is open in this thread or task, rendering the chart
``key`` — and only it, even if the cache holds its SVG
(:meth:`~survey_app.services.dashboard.charts.cache.ChartCache.chart` asks
:func:`png_wanted`) — also draws the PNG, which ``png.data`` then holds.
"""

from __future__ import annotations

import io
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
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


def _serialised(root: ET.Element) -> str:
    """``root`` as text with SVG as the default namespace and ``xlink:`` for links.

    ElementTree's prefixes are process-wide (:func:`xml.etree.ElementTree.register_namespace`)
    and other libraries change them (WeasyPrint registers the empty namespace when it is
    imported, which made every later chart come out as ``<ns0:svg>``), so the default
    prefixes are registered again on each call rather than once at import.
    (``tostring(default_namespace=...)`` would not do: it refuses unqualified attribute names.)
    """
    ET.register_namespace("", _SVG_NS)
    ET.register_namespace("xlink", _XLINK_NS)
    return ET.tostring(root, encoding="unicode")


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


#: Resolution of a chart's PNG: an 8-inch chart is 1,600 pixels wide, sharp on a slide.
PNG_DPI = 200


@dataclass
class PngDrawing:
    """The PNG of one chart, drawn while :func:`drawn_as_png` is open (``None`` until then)."""

    key: str
    dpi: int = PNG_DPI
    data: bytes | None = None


_PNG_WANTED: ContextVar[PngDrawing | None] = ContextVar("png_wanted", default=None)


@contextmanager
def drawn_as_png(key: str, *, dpi: int = PNG_DPI) -> Iterator[PngDrawing]:
    """While open, rendering the chart ``key`` also draws it as a PNG (see the module)."""
    wanted = PngDrawing(key, dpi)
    token = _PNG_WANTED.set(wanted)
    try:
        yield wanted
    finally:
        _PNG_WANTED.reset(token)


def png_wanted(key: str) -> bool:
    """Whether the chart ``key`` must be drawn again, as a PNG is wanted of it."""
    wanted = _PNG_WANTED.get()
    return wanted is not None and wanted.key == key and wanted.data is None


def render_chart(
    key: str,
    title: str,
    description: str,
    draw: Callable[[Figure], None],
    size: tuple[float, float],
    table: DataTable,
    notes: tuple[str, ...] = (),
) -> Chart:
    """Draw a chart of ``size`` inches and return it inline, labelled, with its table (and
    draw it as a PNG too when :func:`drawn_as_png` asks for this chart)."""
    svg = figure_svg(draw, size)
    wanted = _PNG_WANTED.get()
    if wanted is not None and wanted.key == key:
        wanted.data = figure_png(
            draw, size, wanted.dpi, {"Title": title, "Description": description}
        )
    return Chart(key, title, description, inline_svg(svg, key, title, description), table, notes)


def figure_svg(draw: Callable[[Figure], None], size: tuple[float, float]) -> str:
    """Draw on a new Figure (no pyplot) and return matplotlib's SVG text."""
    out = io.BytesIO()
    _draw(draw, size, out, format="svg", metadata={"Date": None})
    return out.getvalue().decode("utf-8")


def figure_png(
    draw: Callable[[Figure], None],
    size: tuple[float, float],
    dpi: int = PNG_DPI,
    text: dict[str, str] | None = None,
) -> bytes:
    """Draw on a new Figure (no pyplot) and return it as PNG at ``dpi``, its ``text`` (e.g.
    Title, Description) written into the file, and no software or date stamp."""
    out = io.BytesIO()
    _draw(draw, size, out, format="png", dpi=dpi, metadata={"Software": None, **(text or {})})
    return out.getvalue()


def _draw(
    draw: Callable[[Figure], None], size: tuple[float, float], out: io.BytesIO, **save
) -> None:  # type: ignore[no-untyped-def]
    import matplotlib  # here, not at start-up: ~100 MB and seconds per worker that never draws
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    with _LOCK, matplotlib.rc_context(_RC):
        fig = Figure(figsize=size)
        (FigureCanvasSVG if save["format"] == "svg" else FigureCanvasAgg)(fig)
        draw(fig)
        fig.savefig(out, **save)


def standalone_svg(chart: Chart) -> str:
    """The chart's inline SVG as a file of its own: an XML declaration, and a width and
    height (from the ``viewBox``, in points) so that other programs open it at its size."""
    root = ET.fromstring(chart.svg.encode("utf-8"))  # noqa: S314 (our own inline SVG)
    _, _, width, height = (root.get("viewBox") or "0 0 576 244.8").split()
    root.set("width", f"{width}pt")
    root.set("height", f"{height}pt")
    root.attrib.pop("class", None)
    body = _serialised(root)
    return '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + body + "\n"


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
    return _serialised(root)


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
