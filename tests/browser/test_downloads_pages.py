"""The downloads pages fit a phone: at 320 and 375 CSS px (and at 1280) nothing is wider
than the window, so no link to a file is off screen, and every file link can be reached with
the keyboard."""

from __future__ import annotations

import pytest

from tests.browser.page_types import downloads_of_a_closed_wave, signed_in
from tests.browser.site import Site

pytestmark = pytest.mark.browser

#: Elements whose right edge is past the window's (visually hidden text, 1 px, is not).
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
    .filter(e => { const r = e.getBoundingClientRect();
                   return r.width > 1 && r.right > window.innerWidth + 0.5; })
    .map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} right=${
               Math.round(e.getBoundingClientRect().right)}`)"""
#: Each file link's box (as Playwright's bounding_box, in one call): a hidden one has no width.
LINK_BOXES = """() => [...document.querySelectorAll('main a[download]')].map(a => {
    const r = a.getBoundingClientRect(); return {href: a.getAttribute('href'), x: r.x, w: r.width}; })"""
WIDTHS = (320, 375, 1280)  # CSS px


def reach(page, site: Site, query: str = ""):  # type: ignore[no-untyped-def]
    signed_in("reviewer")(page, site)
    return downloads_of_a_closed_wave(query)(page, site)


@pytest.mark.parametrize("query", ["", "?wave=2024-Q1", "?wave=no-such-wave"])
def test_the_downloads_page_fits_the_window(page, factory, client, query):  # type: ignore[no-untyped-def]
    """Loaded once, then checked at each width in turn (the layout is CSS alone: the page
    lays itself out again for each window size, as it does when loaded at that size)."""
    page.set_viewport_size({"width": WIDTHS[0], "height": 800})
    response = reach(page, Site(factory, client), query)
    assert response.status == (400 if "no-such" in query else 200)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, width
        assert page.evaluate(OVERFLOWING) == [], width
        links = page.evaluate(LINK_BOXES)
        assert len(links) >= 20  # each table in each of its formats
        off_screen = [
            a for a in links if not (a["w"] > 0 and a["x"] >= 0 and a["x"] + a["w"] <= width)
        ]
        assert off_screen == [], width


def test_the_downloads_index_fits_a_phone(page, factory, client):  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 320, "height": 800})
    site = Site(factory, client)
    site.other_wave("closed")
    signed_in("reviewer", "/downloads/")(page, site)
    assert page.locator("h1").inner_text() == "Downloads"
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert page.evaluate(OVERFLOWING) == []


def test_a_reviewer_prepares_a_large_download_by_keyboard_and_a_worker_writes_it(  # type: ignore[no-untyped-def]
    page, factory, client, live_worker
):
    """The whole journey against gunicorn and a real ``relhealth worker``: the prepare page,
    "Prepare the file" by keyboard, the progress page until the worker is done, the file."""
    from playwright.sync_api import expect

    from survey_app.extensions import db
    from tests.browser.keyboard import enter, tab_to_button

    site = Site(factory, client)
    reach(page, site, "responses.csv/prepare")
    # End this process's read transaction: on SQLite the worker's minute tick checkpoints the
    # log, and waits (holding off every writer) for a reader that keeps an old snapshot.
    db.session.commit()
    assert page.locator("h1").inner_text() == "Prepare a large download"
    tab_to_button(page, "Prepare the file")
    enter(page)
    assert page.locator("h1").inner_text() == "Prepare relhealth-responses-all-waves.csv"
    link = page.get_by_role("link", name="Download relhealth-responses-all-waves.csv")
    for _ in range(30):  # the page updates its status region; the outcome's link needs a visit
        page.reload()
        if link.count():
            break
        page.wait_for_timeout(1_000)
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.focus()
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "relhealth-responses-all-waves.csv"
    assert download.value.path().read_bytes().startswith(b"\xef\xbb\xbfresponse_id")
