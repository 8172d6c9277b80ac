"""The dashboard's pages fit a phone: at 320 and 375 CSS px nothing makes the page wider than
the window; a wide table scrolls inside its own region (reachable with the keyboard), never
the page, and its caption stays whole in view. The wave is chosen with the keyboard alone."""

from __future__ import annotations

import pytest

from tests.browser.page_types import actions_agreed, dashboard_of_the_demo, signed_in, visit
from tests.browser.site import Site

pytestmark = pytest.mark.browser

#: Elements past the window's right edge that are not inside a scrolling region of their own.
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
    .filter(e => { const r = e.getBoundingClientRect();
                   return r.width > 1 && r.right > window.innerWidth + 0.5
                          && !e.closest('.app-table-scroll'); })
    .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} right=${
               Math.round(e.getBoundingClientRect().right)}`)"""


def fits(page, width: int) -> None:  # type: ignore[no-untyped-def]
    overflowing = page.evaluate(OVERFLOWING)  # named first: what makes the page too wide
    assert overflowing == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for region in page.locator(".app-table-scroll").all():
        assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"
    assert page.evaluate(CAPTIONS_CUT) == []


#: Shown captions of tables in a scrolling region that run past the region's edge: a table
#: wider than a phone scrolls, and its caption must still be read whole without scrolling.
CAPTIONS_CUT = """() => [...document.querySelectorAll('.app-table-scroll > table > caption')]
    .filter(c => { const r = c.getBoundingClientRect(),
                         box = c.closest('.app-table-scroll').getBoundingClientRect();
                   return r.width > 1 && (r.right > box.right + 0.5 || r.left < box.left - 0.5); })
    .map(c => c.textContent.trim())"""


@pytest.mark.reads_demo  # these and the next share one copy of the demo (tests/conftest.py app)
@pytest.mark.parametrize("width", [320, 375])
@pytest.mark.parametrize(
    "path",  # and in Welsh, whose words are longer
    ["", "?wave=2010-Q3", "dimension/trust", "comments", "?lang=cy", "dimension/trust?lang=cy"],
)
def test_a_relationships_dashboard_fits_a_phone(page, site, width, path):  # type: ignore[no-untyped-def]
    site.demo_relationship_id()  # first: copied, or kept from the test before (tests/snapshots.py)
    page.set_viewport_size({"width": width, "height": 800})
    signed_in("manager")(page, site)
    assert dashboard_of_the_demo(path)(page, site).status == 200
    fits(page, width)


@pytest.mark.reads_demo
def test_a_wave_is_chosen_with_the_keyboard(page, site):  # type: ignore[no-untyped-def]
    site.demo_relationship_id()  # first: copied, or kept from the test before (tests/snapshots.py)
    signed_in("manager")(page, site)
    dashboard_of_the_demo()(page, site)
    select = page.get_by_label("Results as of wave")
    select.focus()
    select.select_option("2011-Q1")  # what arrow keys do on a focused <select>
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("?wave=2011-Q1")
    assert "Results of wave 2011-Q1 as they stood when it closed" in page.content()


@pytest.mark.parametrize("width", [320, 375])
def test_the_portfolio_and_the_actions_fit_a_phone(page, factory, client, width):  # type: ignore[no-untyped-def]
    site = Site(factory, client)
    page.set_viewport_size({"width": width, "height": 800})
    actions_agreed(alert=False)(page, site)
    signed_in("manager", "/actions/{relationship}/")(page, site)
    fits(page, width)
    record = page.get_by_text("Record an action").first
    box = record.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    visit("/actions/{relationship}/targets")(page, site)
    fits(page, width)
    visit("/dashboard/")(page, site)
    fits(page, width)
