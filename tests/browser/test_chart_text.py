"""Chart text is readable where a chart is shown: at least 12 CSS px once the SVG is scaled to
its rendered width, and inside the chart (nothing cut off at its edge). On a phone the charts'
text would shrink to about 5 px, so there each chart gives way to its table, shown in full.

The size is measured as the browser draws it: each ``<text>``'s computed font size (in the
SVG's user units) times the SVG's rendered width over its ``viewBox`` width."""

from __future__ import annotations

import pytest

from tests.browser.page_types import dashboard_of_the_demo, signed_in
from tests.browser.site import Site

pytestmark = [pytest.mark.browser, pytest.mark.reads_demo]  # one copy of the demo for all

#: The narrowest window at which charts are drawn (see app.css: below it, the tables).
CHART_MIN_WIDTH = 924

#: Per chart on the page: whether the SVG is shown, whether its table is shown, and each
#: text's rendered size and box against the SVG's box.
MEASURE = """() => [...document.querySelectorAll('figure.app-chart')].map(figure => {
    const svg = figure.querySelector('svg');
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;
    const visible = e => e.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true});
    const tables = [...figure.querySelectorAll('table')].filter(visible);
    return {
      key: figure.id,
      shown: visible(svg) && box.width > 0,
      table: tables.length,
      texts: [...svg.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => {
        const r = t.getBoundingClientRect();
        return {text: t.textContent.trim(),
                px: parseFloat(getComputedStyle(t).fontSize) * scale,
                inside: r.left >= box.left - 0.5 && r.right <= box.right + 0.5
                        && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5};
      }),
    };
  })"""


def measured(page, site: Site, widths: tuple[int, ...], path: str):  # type: ignore[no-untyped-def]
    """The charts of the demo's dashboard page ``path``, measured at each of ``widths`` in turn:
    the page is loaded once and the window resized (the layout is CSS alone: the page lays
    itself out again for each size, as it does when loaded at that size)."""
    site.demo_relationship_id()  # first: copied, or kept from the test before (tests/snapshots.py)
    page.set_viewport_size({"width": widths[0], "height": 900})
    signed_in("manager")(page, site)
    assert dashboard_of_the_demo(path)(page, site).status == 200
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        found = page.evaluate(MEASURE)
        assert len(found) >= (4 if path == "" else 2)  # index per side, gaps, heat map
        yield width, found


@pytest.mark.parametrize(("widths", "path"), [((320, 375, 768), ""), ((375,), "dimension/trust")])
def test_on_a_phone_each_chart_gives_way_to_its_table(page, site, widths, path):  # type: ignore[no-untyped-def]
    for width, charts in measured(page, site, widths, path):
        for chart in charts:
            small = [t for t in chart["texts"] if t["px"] < 12]
            if chart["shown"]:  # a chart may stay only if all its text is readable
                assert small == [], (width, chart["key"])
            else:
                assert chart["table"] == 1, (width, chart["key"])  # the numbers, in full, instead


@pytest.mark.parametrize(
    ("widths", "path"), [((CHART_MIN_WIDTH, 1280), ""), ((1280,), "dimension/trust")]
)
def test_where_charts_are_drawn_their_text_is_at_least_12_px_and_inside(page, site, widths, path):  # type: ignore[no-untyped-def]
    for width, charts in measured(page, site, widths, path):
        for chart in charts:
            assert chart["shown"], (width, chart["key"])
            assert chart["table"] == 0, (width, chart["key"])  # the table waits in its details
            small = [(t["text"], round(t["px"], 1)) for t in chart["texts"] if t["px"] < 11.95]
            assert small == [], (width, chart["key"])
            cut = [t["text"] for t in chart["texts"] if not t["inside"]]
            assert cut == [], (width, chart["key"])
