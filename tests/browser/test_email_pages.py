"""The pages of a wave's emails with the keyboard alone, at a phone's width and a desktop's:
an admin names the survey team, saves, and previews the reminder as the supplier's staff get
it; a respondent following an earlier email's link is asked to use the latest one and can
carry on with it."""

from __future__ import annotations

import pytest

from tests.browser.keyboard import enter, tab_to_button, tab_to_link, type_into
from tests.browser.page_types import replaced_link, signed_in

pytestmark = pytest.mark.browser


def test_an_admin_names_the_team_and_previews_the_reminder_by_keyboard(page, site, width):  # type: ignore[no-untyped-def]
    signed_in("admin", "/admin/waves/{wave}/emails")(page, site)
    type_into(page, "Survey team’s name, in English", "Partnership Survey Team")
    type_into(page, "Survey team’s email address (optional)", "survey@council.example")
    tab_to_button(page, "Save the emails")
    preview = enter(page)
    assert preview.status == 200 and "/emails/preview" in page.url
    assert "Emails saved (version 1)" in page.locator("main").inner_text()
    tab_to_link(page, "Reminder")
    enter(page)
    tab_to_link(page, "Supplier: Test Supplier")
    enter(page)
    body = page.locator("#email-body").inner_text()
    assert body.startswith("Dear colleague,") and "Your new personal link:" in body
    assert "contact Partnership Survey Team: survey@council.example." in body
    assert "as a member of staff of Test Supplier" in body
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_an_earlier_emails_link_asks_for_the_latest_and_carries_on_by_keyboard(page, site, width):  # type: ignore[no-untyped-def]
    response = replaced_link(page, site)
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Use the link in your latest email"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    tab_to_button(page, "Carry on with this link")
    enter(page)
    assert page.locator("h1").inner_text() == "Partnership health survey"
