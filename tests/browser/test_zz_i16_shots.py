import pytest
from tests.browser.page_types import PAGE_TYPES, Site

pytestmark = pytest.mark.browser


def test_shots(audit_page, factory, client, request):  # type: ignore[no-untyped-def]
    pt = next(p for p in PAGE_TYPES if p.name == "dashboard of a relationship")
    pt.reach(audit_page, Site(factory, client, request))
    for width in (1280, 375):
        audit_page.set_viewport_size({"width": width, "height": 900})
        audit_page.screenshot(path=f"/tmp/i16-dash-{width}.png", full_page=True)
