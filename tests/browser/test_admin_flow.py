"""The administration, driven in a real browser as its users drive it, with real email.

An admin, signed in through the sign-in page, sets up a relationship and a wave, uploads the
staff list, and sends the invitations, which arrive in a real SMTP mailbox (``mail_server``:
the live server is configured for it through the environment, as in production). A respondent
follows the link in one of those emails in a browser of their own and submits; the response-
rate monitor shows it, by its automatic update and by its "Refresh the figures" link. A
reminder reaches only the people who have not submitted, and closing the wave deletes the
address list. Then a manager records an action on an alert and finds it marked on the trend
chart of the dimension's dashboard page.

Fields are found by their labels, buttons and links by their roles and names; what the tests
check is what the pages say. axe audits a few pages on the way that only real data reaches.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Action, InvitationAddress
from tests.browser.axe_audit import axe_violations, describe
from tests.browser.page_types import press, signed_in
from tests.browser.site import Site
from tests.factories import STAFF, STAFF_EMAILS

pytestmark = pytest.mark.browser

STAFF_LIST = "email,party,service area,name\n" + "".join(
    f"{address},{party},{area},Someone\n" for address, party, area in STAFF
)


def assert_accessible(page) -> None:  # type: ignore[no-untyped-def]
    violations = axe_violations(page)
    assert not violations, f"{page.url}:\n" + "\n".join(describe(violations))


def heading(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("h1").first.inner_text()


def click(page, role: str, name: str):  # type: ignore[no-untyped-def]
    """Follow a link or press a button, as a user clicks it; the page it leads to."""
    with page.expect_navigation() as navigation:
        page.get_by_role(role, name=name, exact=True).click()
    return navigation.value


def fill_date(page, legend: str, day: date) -> None:  # type: ignore[no-untyped-def]
    group = page.get_by_role("group", name=legend, exact=True)
    group.get_by_label("Day", exact=True).fill(str(day.day))
    group.get_by_label("Month", exact=True).fill(str(day.month))
    group.get_by_label("Year", exact=True).fill(str(day.year))


def banner(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator(".govuk-notification-banner--success").inner_text()


def links_in(mail, base_url: str) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(re.escape(base_url) + r"/s/[A-Za-z0-9_\-]+", mail.body)


def total_row(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The monitor's figures for both parties, all service areas, as the page shows them."""
    return {
        name: page.locator(f'[data-cell="all|_total|{name}"]').inner_text()
        for name in ("invited", "started", "submitted", "rate")
    }


def complete_the_survey(page) -> None:  # type: ignore[no-untyped-def]
    """Answer every question of every page (the fourth option of each, or the last where
    there are fewer) and submit, pressing the buttons a respondent presses."""
    click(page, "button", "Start now")
    while not page.url.endswith("/survey/check"):
        for group in page.get_by_role("group").all():
            radios = group.get_by_role("radio")
            if radios.count():
                radios.nth(min(3, radios.count() - 1)).check()
        button = "Continue" if page.url.endswith("/survey/about") else "Save and continue"
        response = click(page, "button", button)
        assert response.status == 200, (page.url, heading(page))
    assert heading(page) == "Check your answers before submitting"
    click(page, "button", "Submit your answers")
    assert heading(page) == "Survey submitted"


def test_an_admin_runs_a_wave_in_the_browser_with_real_email(  # type: ignore[no-untyped-def]
    audit_page, new_context, live_server, live_worker, mail_server, console, factory, client
):
    page = audit_page
    mailbox = mail_server.mailbox
    mailbox.clear()
    site = Site(factory, client)

    # Signed in through the sign-in page, the admin sets up the relationship ...
    signed_in("admin", "/admin/")(page, site)
    assert heading(page) == "Administration"
    click(page, "button", "Create a relationship")
    page.get_by_label("Name of the relationship").fill("Test Council — Test Supplier")
    page.get_by_label("Client (the public body)").fill("Test Council")
    page.get_by_label("Supplier", exact=True).fill("Test Supplier")
    page.get_by_label("Service areas (optional)").fill("Core ICT\nContact centre")
    click(page, "button", "Create relationship")
    assert heading(page) == "Test Council — Test Supplier"
    assert "Relationship Test Council — Test Supplier created" in banner(page)
    areas = page.get_by_role("table", name="Service areas")
    expect(areas.get_by_role("rowheader")).to_have_text(["Core ICT", "Contact centre"])

    # ... and its first wave, a draft until opened
    click(page, "button", "Create a wave")
    page.get_by_label("Wave label").fill("2024-Q1")
    expect(page.get_by_label("Questionnaire")).to_have_value("partnership-health:1")
    closes = date.today() + timedelta(days=14)
    fill_date(page, "Closing date", closes)
    click(page, "button", "Create wave")
    assert heading(page) == "Wave 2024-Q1"
    assert "Upload a staff list, then open it" in banner(page)
    assert_accessible(page)  # a draft wave, just created
    click(page, "button", "Open wave 2024-Q1")
    assert "Wave 2024-Q1 is open: invitation links now work" in banner(page)

    # The staff list, chosen as a file
    click(page, "link", "Upload a staff list")
    page.get_by_label("Upload a staff list").set_input_files(
        files=[{"name": "staff.csv", "mimeType": "text/csv", "buffer": STAFF_LIST.encode()}]
    )
    click(page, "button", "Upload staff list")
    assert heading(page) == "Staff list uploaded"
    assert "5 people added to wave 2024-Q1" in page.locator(".govuk-panel").inner_text()
    assert "These columns were ignored and not stored: name." in page.inner_text("main")

    # The invitations, by email: one each, with a link back to this service
    click(page, "link", "Send the invitations")
    assert heading(page) == "Invitations and reminders"
    click(page, "button", "Send 5 invitations by email")  # a job: its page follows it
    expect(page.locator("main")).to_contain_text("5 invitations sent", timeout=60_000)
    assert_accessible(page)  # the job's page, updated by its script
    click(page, "link", "See how it went")
    expect(page.locator(".govuk-panel")).to_contain_text("5 invitations sent")
    click(page, "link", "Back to the invitations")
    assert sorted(r.to[0] for r in mailbox.received) == STAFF_EMAILS
    links = {}
    for received in mailbox.received:
        assert received.message["Subject"].strip().startswith("Please take part: ")
        assert f"The survey closes on {closes.day} {closes:%B %Y}." in received.body
        (links[received.to[0]],) = links_in(received, live_server.url)
    assert len(set(links.values())) == 5

    # The admin watches the response rates in a tab of their own, updated automatically
    monitor = page.context.new_page()
    console.attach(monitor)
    monitor.clock.install()  # the page's 30-second timer runs when the test says
    monitor.goto(page.get_by_role("link", name="Response rates", exact=True).get_attribute("href"))
    assert heading(monitor) == "Response rates"
    # 3 client and 2 supplier invitations, each area's under k: their total may be hidden too
    # (complementary suppression, DESIGN §4.14); nothing is started or submitted yet.
    assert total_row(monitor)["invited"] in ("5", "hidden")
    assert total_row(monitor)["submitted"] == "0" and total_row(monitor)["started"] == "0"
    monitor.get_by_label("Update the figures every 30 seconds").check()
    expect(monitor.get_by_role("status")).to_have_text("The figures will update every 30 seconds.")

    # Ann follows the link in her email, in a browser of her own, and submits
    respondent = new_context(locale="en-GB")
    ann = respondent.new_page()
    console.attach(ann)
    ann.goto(links["ann@council.example"])
    assert heading(ann) == "Partnership health survey"
    complete_the_survey(ann)

    monitor.bring_to_front()
    monitor.clock.run_for(30_000)
    expect(monitor.get_by_role("status")).to_contain_text("Figures updated at")
    after = total_row(monitor)  # one submitted: under k, so no count and no rate
    assert (after["submitted"], after["rate"]) == ("fewer than 5", "–")
    assert_accessible(monitor)  # the monitor, its automatic update switched on

    # The same figures by the monitor's own refresh control, its "Refresh the figures" link
    page.bring_to_front()
    click(page, "link", "Response rates")
    click(page, "link", "Refresh the figures")
    assert total_row(page)["submitted"] == "fewer than 5"
    client_core = page.locator('[data-cell="client|core-ict|submitted"]')
    # Ann is the only council person in Core ICT: her invitation does not name the area (an
    # area of fewer than k is left off invitations), so her answer counts nowhere as Core ICT
    expect(client_core).to_have_text("0")

    # A reminder reaches only the four who have not submitted
    mailbox.clear()
    click(page, "link", "Back")
    assert "submitted: fewer than 5; started: 0." in page.inner_text("main")
    click(page, "link", "Invitations and reminders")
    click(page, "button", "Send a reminder to 4 people")
    expect(page.locator("main")).to_contain_text("4 reminders (round 1) sent", timeout=60_000)
    assert sorted(r.to[0] for r in mailbox.received) == [
        e for e in STAFF_EMAILS if e != "ann@council.example"
    ]
    reminders = {}
    for received in mailbox.received:
        assert received.message["Subject"].strip().startswith("Reminder: ")
        (reminders[received.to[0]],) = links_in(received, live_server.url)
        assert reminders[received.to[0]] != links[received.to[0]]  # a new link replaces it

    # Closing the wave: confirmed, then the address list is gone
    click(page, "link", "See how it went")
    click(page, "link", "Back to the invitations")
    click(page, "link", "Back")
    click(page, "button", "Close wave 2024-Q1")
    assert heading(page) == "Are you sure you want to close wave 2024-Q1?"
    assert "submitted: fewer than 5. Small counts are not shown" in page.inner_text("main")
    assert_accessible(page)
    click(page, "button", "Close wave 2024-Q1")  # a job too: closing and scoring
    expect(page.locator("main")).to_contain_text("its address list is deleted", timeout=60_000)
    click(page, "link", "See how it went")
    click(page, "link", "Back to wave 2024-Q1")
    assert "This wave is closed" in page.inner_text("main")
    assert page.get_by_role("link", name="Invitations and reminders").count() == 0

    monitor.clock.run_for(30_000)
    expect(monitor.get_by_role("status")).to_contain_text(
        "The wave is closed: these are its final figures"
    )
    expect(monitor.get_by_label("Update the figures every 30 seconds")).to_be_hidden()

    db.session.remove()  # read what the server committed
    assert db.session.scalar(select(func.count()).select_from(InvitationAddress)) == 0
    page.goto(page.url + "invitations")
    assert "This wave is closed: its address list has been deleted." in page.inner_text("main")

    # and the links in the emails no longer open the survey
    closed = ann.goto(reminders["bob@council.example"])
    assert (closed.status, heading(ann)) == (410, "This survey has closed")
    respondent.close()
    assert not console.errors(), console.errors()


def test_a_manager_records_an_action_on_an_alert_and_sees_it_on_the_trend_chart(  # type: ignore[no-untyped-def]
    page, console, factory, client
):
    site = Site(factory, client)
    site.actions_history(agreed=False)  # trust falls for client staff: an alert in 2024-Q2
    relationship = site.ids["relationship"]

    signed_in("manager", f"/actions/{relationship}/")(page, site)
    assert heading(page) == "Test Council — Test Supplier"
    assert "No actions have been recorded yet" in page.inner_text("main")
    alerts = page.get_by_role("table", name=re.compile("Alerts of wave 2024-Q2"))
    with page.expect_navigation():
        alerts.get_by_role(
            "link", name=re.compile(r"^Record an action on Trust, Client")
        ).first.click()
    assert heading(page) == "Record an action"
    assert "in wave 2024-Q2: Trust, Client" in page.locator(".govuk-inset-text").inner_text()

    page.get_by_label("What will be done").fill("Joint monthly service review")
    page.get_by_label("Owner", exact=True).fill("Head of ICT client team")
    due = date.today() + timedelta(days=30)
    fill_date(page, "Due date", due)
    page.get_by_label("In progress").check()
    press("Save action")(page, site)
    assert "Action recorded" in banner(page)
    card = page.locator(".govuk-summary-card", has_text="Joint monthly service review")
    expect(card.get_by_role("heading")).to_have_text("Trust: Joint monthly service review")
    expect(card).to_contain_text("In progress")
    db.session.remove()
    action = db.session.scalar(select(Action))
    assert (action.dimension_key, action.alert_side, action.marker_wave_label) == (
        "trust",
        "client",
        "2024-Q2",
    )

    # Later the action is under way: its owner changes, on the same dimension and alert
    with page.expect_navigation():
        card.get_by_role("link", name=re.compile(r"^Change")).click()
    assert heading(page) == "Change an action"
    page.get_by_label("Owner", exact=True).fill("Service review board")
    press("Save action")(page, site)
    assert "Action saved" in banner(page)
    expect(card).to_contain_text("Service review board")

    page.goto(f"/dashboard/{relationship}/dimension/trust")
    assert heading(page) == "Trust"
    agreed = f"Joint monthly service review (owner Service review board, due {due.day} {due:%B %Y}, in progress)"  # fmt: skip
    trend = page.locator("figure.app-chart", has=page.locator("svg text", has_text="Action 1"))
    expect(trend.first).to_be_visible()  # the line and its label, drawn on the chart
    expect(trend.first.locator(".app-chart__notes")).to_have_text(
        f"Action 1, agreed after 2024-Q2: {agreed}"
    )
    assert f"After 2024-Q2: {agreed}" in page.inner_text("main")
    assert not console.errors(), console.errors()
