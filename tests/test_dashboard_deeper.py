"""The deeper sections of the relationship dashboard on the demo (issue 16): what moves
commitment most, the heat map's marked cells in words, and margins of error with response
rates — each equal to the published rows of its table.

On the ``demo_site`` fixture (loaded once for the module, with its own app).
"""

from __future__ import annotations

import pytest
from markupsafe import escape

from survey_app.services import dashboard
from survey_app.services.relationships import get_relationship
from survey_app.services.results import published_rows


@pytest.fixture(scope="module")
def manager(demo_site):
    return demo_site.client("manager")


def _html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_dashboard_shows_what_moves_commitment_with_intervals(demo_site, manager):
    rel = get_relationship(demo_site.relationship_id)
    wave = dashboard.latest_closed_wave(rel)
    rows = [
        r
        for r in published_rows("relative_weights", rel, [wave])
        if r["side"] == "all" and r["area"] == "_all"
    ]
    assert rows and rows[0]["rescaled_weight"] is not None
    html = _html(manager, f"/dashboard/{demo_site.relationship_id}/")
    assert 'id="what-moves"' in html and 'id="what-moves-table"' in html
    top = max(rows, key=lambda r: r["rescaled_weight"])
    assert f"{top['dimension_title']} matters most: {top['rescaled_weight']:.0f}%" in html
    for r in rows:
        assert f"{r['rescaled_ci_low']:.0f} to {r['rescaled_ci_high']:.0f}%" in html


def test_the_dashboard_explains_the_marked_hot_spots_and_the_margins(demo_site, manager):
    rel = get_relationship(demo_site.relationship_id)
    wave = dashboard.latest_closed_wave(rel)
    html = _html(manager, f"/dashboard/{demo_site.relationship_id}/")
    marked = [
        r
        for r in published_rows("heat_map", rel, [wave])
        if r["side"] == "all" and r["marking"] and r["suppressed"] is None
    ]
    assert 'id="marked-cells"' in html
    for r in marked:
        assert str(escape(r["explanation"])) in html
    margins = [
        r
        for r in published_rows("margins", rel, [wave])
        if r["area"] == "_all" and r["dimension"] == "index" and r["suppressed"] is None
    ]
    assert 'id="how-sure"' in html and margins
    for r in margins:
        assert f"± {r['margin_points']:.1f} points" in html
        if r["note"]:
            assert str(escape(r["note"])) in html


def test_a_role_level_says_the_deeper_results_are_for_all_role_levels(demo_site, manager):
    html = _html(manager, f"/dashboard/{demo_site.relationship_id}/?role_level=staff")
    assert "clear the role level to see" in html
