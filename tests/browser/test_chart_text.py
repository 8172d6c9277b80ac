"""Chart text is readable where a chart is shown: at least 12 CSS px once the SVG is scaled to
its rendered width, and inside the chart (nothing cut off at its edge). On a phone the charts'
text would shrink to about 5 px, so there each chart gives way to its table, shown in full.

The size is measured as the browser draws it: each ``<text>``'s computed font size (in the
SVG's user units) times the SVG's rendered width over its ``viewBox`` width."""

from __future__ import annotations

import pytest

from tests.browser.page_types import Site, dashboard_of_the_demo, signed_in

pytestmark = pytest.mark.browser

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


def measured(page, site: Site, width: int, path: str):  # type: ignore[no-untyped-def]
    site.demo_relationship_id()  # first, into empty tables: copied (tests/snapshots.py)
    page.set_viewport_size({"width": width, "height": 900})
    signed_in("manager")(page, site)
    assert dashboard_of_the_demo(path)(page, site).status == 200
    found = page.evaluate(MEASURE)
    assert len(found) >= (4 if path == "" else 2)  # index per side, gaps, heat map
    return found


@pytest.mark.parametrize(
    ("width", "path"), [(320, ""), (375, ""), (375, "dimension/trust"), (768, "")]
)
def test_on_a_phone_each_chart_gives_way_to_its_table(page, site, width, path):  # type: ignore[no-untyped-def]
    for chart in measured(page, site, width, path):
        small = [t for t in chart["texts"] if t["px"] < 12]
        if chart["shown"]:  # a chart may stay only if all its text is readable
            assert small == [], chart["key"]
        else:
            assert chart["table"] == 1, chart["key"]  # the numbers, in full, instead


@pytest.mark.parametrize(
    ("width", "path"), [(CHART_MIN_WIDTH, ""), (1280, ""), (1280, "dimension/trust")]
)
def test_where_charts_are_drawn_their_text_is_at_least_12_px_and_inside(page, site, width, path):  # type: ignore[no-untyped-def]
    for chart in measured(page, site, width, path):
        assert chart["shown"], chart["key"]
        assert chart["table"] == 0, chart["key"]  # the table waits in its details, closed
        small = [(t["text"], round(t["px"], 1)) for t in chart["texts"] if t["px"] < 11.95]
        assert small == [], chart["key"]
        cut = [t["text"] for t in chart["texts"] if not t["inside"]]
        assert cut == [], chart["key"]
