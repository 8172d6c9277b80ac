"""The response-rate monitor: invited, started and submitted per party and service area, a page
that refreshes only when the user asks (a link, or an auto-refresh they switch on), and a JSON
feed for it."""

from __future__ import annotations

import re

import pytest

from survey_app.extensions import db
from survey_app.models import Wave
from survey_app.services.monitoring import NO_AREA, response_rates
from tests.factories import Respondent, sections_of, sign_in, text


@pytest.fixture
def running(app, factory):  # type: ignore[no-untyped-def]
    """An open wave: client Core ICT 3 invited (1 submitted, 1 started), client without an
    area 2 invited, supplier Contact centre 1 invited (submitted)."""
    relationship = factory.relationship()
    core, contact = relationship.service_areas
    wave = factory.wave(relationship)
    core_tokens = factory.tokens(wave, "client", 3, area=core)
    loose = factory.tokens(wave, "client", 2)
    supplier = factory.tokens(wave, "supplier", 1, area=contact)
    wave_id, n_sections = wave.id, sections_of(wave)
    assert Respondent(app.test_client(), core_tokens[0]).complete(n_sections).status_code == 302
    started = Respondent(app.test_client(), core_tokens[1])
    started.open()
    started.answer_about()
    assert started.answer_section(1).status_code == 302
    assert Respondent(app.test_client(), supplier[0]).complete(n_sections).status_code == 302
    del loose
    return wave_id


def figures(row) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    return (row.figure("invited"), row.figure("started"), row.figure("submitted"))


FEWER = "fewer than 5"


def test_rates_count_per_party_and_area_and_hide_every_count_under_k(app, running):
    # Counted: client Core ICT (3, 1, 1), client no area (2, 0, 0), supplier Contact centre
    # (1, 0, 1), client (5, 1, 1), supplier (1, 0, 1), both (6, 1, 2). Every count of 1-4 is
    # "fewer than 5"; the client's 5 invited is hidden too, or 6 - 5 gives the supplier's 1.
    rates = response_rates(db.session.get(Wave, running))
    rows = {(r.side, r.area_key): r for r in rates.rows}
    assert figures(rows[("client", "core-ict")]) == (FEWER, FEWER, FEWER)
    assert figures(rows[("client", "contact-centre")]) == ("0", "0", "0")  # empty: shown
    assert figures(rows[("client", "_none")]) == (FEWER, "0", "0")
    assert rows[("client", "_none")].area_name == NO_AREA
    assert figures(rows[("supplier", "contact-centre")]) == (FEWER, "0", FEWER)
    assert ("supplier", "_none") not in rows  # no supplier invitation without an area
    parties = {p.side: p for p in rates.parties}
    assert figures(parties["client"]) == ("hidden", FEWER, FEWER)
    assert figures(parties["supplier"]) == (FEWER, "0", FEWER)
    assert figures(rates.total) == ("6", FEWER, FEWER)
    assert rates.total.invited == 6 and rates.total.submitted is None
    assert rates.total.rate is None, "a rate needs both its counts shown"
    assert rows[("client", "contact-centre")].rate is None


def test_the_json_feed_gives_the_same_figures_and_is_never_cached(app, running):
    manager = sign_in(app, "manager")
    response = manager.get(f"/admin/waves/{running}/responses.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert data["state"] == "open" and data["wave"] == "2024-Q1"
    assert data["total"]["invited"] == 6 and data["total"]["submitted"] is None
    assert data["total"]["suppressed"] == {
        "started": "fewer than 5",
        "not_started": "fewer than 5",
        "submitted": "fewer than 5",
    }
    assert data["total"]["rate"] is None
    assert {(r["side"], r["area"]) for r in data["rows"]} == {
        ("client", "core-ict"),
        ("client", "contact-centre"),
        ("client", "_none"),
        ("supplier", "core-ict"),
        ("supplier", "contact-centre"),
    }
    assert set(data["rows"][0]) == {
        "side", "party", "area", "area_name", "invited", "started", "submitted", "rate",
        "suppressed",
    }  # fmt: skip
    assert sign_in(app, "reviewer").get(f"/admin/waves/{running}/responses.json").status_code == 403
    assert app.test_client().get(f"/admin/waves/{running}/responses.json").status_code == 302


def test_the_page_refreshes_only_when_the_user_asks(app, running):
    admin = sign_in(app, "admin")
    response = admin.get(f"/admin/waves/{running}/responses")
    html = text(response)
    assert response.status_code == 200
    assert 'http-equiv="refresh"' not in html.lower()
    assert f'href="/admin/waves/{running}/responses">Refresh the figures</a>' in html
    # the optional auto-refresh: a checkbox, hidden until the script shows it, off by default
    assert f'data-source="/admin/waves/{running}/responses.json"' in html
    assert re.search(r'<div class="govuk-form-group" data-monitor-control hidden>', html)
    assert 'id="monitor-auto" type="checkbox" value="on">' in html
    assert '<script type="module" src="/assets/app/monitor.js"></script>' in html
    assert 'aria-live="polite"' in html
    # no inline script beyond the template's own (which carries the CSP nonce)
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert all("nonce=" in tag for tag in inline)
    # the figures, each addressable by the script
    assert 'data-cell="client|core-ict|invited">fewer than 5</td>' in html
    assert 'data-cell="all|_total|invited">6</td>' in html
    assert 'data-cell="all|_total|submitted">fewer than 5</td>' in html
    assert 'data-cell="all|_total|rate">–</td>' in html
    assert "<caption" in html and 'scope="col"' in html and 'scope="row"' in html


def test_the_script_is_served_and_polls_only_when_switched_on(client):
    response = client.get("/assets/app/monitor.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["Content-Type"]
    source = response.get_data(as_text=True)
    assert 'sessionStorage.getItem(remember) === "on"' in source  # off unless chosen
    assert "document.hidden" in source  # no polling from a hidden tab
    response.close()


def test_a_closed_wave_says_its_figures_no_longer_change(app, factory):
    wave = factory.wave(state="closed")
    wave_id = wave.id
    html = text(sign_in(app, "manager").get(f"/admin/waves/{wave_id}/responses"))
    assert "the figures no longer change" in html
    assert "data-monitor-control" not in html
