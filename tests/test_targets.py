"""Agreed targets: recorded by managers (audited, bad input refused), drawn on the trend
charts, and shown on the dashboard as a distance rated red, amber or green by the written rule."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from analysis.targets import RATING_RULE, target_rating
from survey_app.extensions import db
from survey_app.models import AgreedTarget, AuditEvent
from survey_app.services import dashboard, reports, targets
from survey_app.services.relationships import get_relationship
from survey_app.services.results import published_rows
from tests.factories import csrf_token
from tests.readers import conforms, svgs_of, tables_of
from tests.scored_sites import name_of, scored_site

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def site(migrated, tmp_path_factory):
    yield from scored_site(migrated, tmp_path_factory.mktemp("targets-instance"), [3.4])


@pytest.fixture(scope="module")
def manager(site):
    return site.client("manager")


def post_target(manager, site, **fields):  # type: ignore[no-untyped-def]
    path = f"/actions/{site.relationship_id}/targets"
    token = csrf_token(manager.get(path).get_data(as_text=True))
    day = fields.pop("agreed_on", date(2024, 3, 1))
    data = MultiDict([("csrf_token", token), *fields.items()])
    for v in (day.day, day.month, day.year):
        data.add("agreed_on", str(v))
    return manager.post(path, data=data)


def scores_row(dimension: str) -> dict:
    rel = get_relationship(name_of(0))
    wave = dashboard.latest_closed_wave(rel)
    return next(
        r
        for r in published_rows("scores", rel, [wave])
        if (r["side"], r["area"], r["dimension"]) == ("all", "_all", dimension)
    )


def test_a_manager_records_a_target_and_the_dashboard_rates_the_distance(site, manager):
    trust = scores_row("trust")
    answer = post_target(manager, site, dimension="trust", target=f"{trust['mean'] + 0.5:.2f}")
    assert answer.status_code == 302
    stored = db.session.scalar(select(AgreedTarget).where(AgreedTarget.dimension == "trust"))
    assert stored.target == round(trust["mean"] + 0.5, 2) and stored.agreed_on == date(2024, 3, 1)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "target.record"))
    assert event.detail["dimension"] == "trust" and event.actor == "manager@demo.example"

    html = manager.get(f"/dashboard/{site.relationship_id}/").get_data(as_text=True)
    rows = {row[0]: row for row in tables_of(html)["dimensions-table"][1:]}
    expected = target_rating(trust["mean"], trust["ci_high"], stored.target).item()
    assert expected == "red"  # half a point short of it, 24 people
    assert rows["Trust"][3] == f"{stored.target:.2f}"
    assert rows["Trust"][4] == f"{trust['mean'] - stored.target:+.2f} Red"
    assert rows["Shared purpose"][3] == "None"
    assert RATING_RULE in html


def test_the_index_target_is_drawn_on_its_chart_and_summarised(site, manager):
    index = scores_row("index")
    before = manager.get(f"/dashboard/{site.relationship_id}/").get_data(as_text=True)
    assert post_target(manager, site, dimension="index", target="3.00").status_code == 302
    html = manager.get(f"/dashboard/{site.relationship_id}/").get_data(as_text=True)
    summary = html[html.index('id="target-index"') :]
    summary = summary[: summary.index("</div>")]
    rating = target_rating(index["mean"], index["ci_high"], 3.0).item()
    assert "agreed target 3.00" in summary and "1 March 2024" in summary
    assert f"{index['mean'] - 3.0:+.2f} from the target" in summary
    assert f">{rating.capitalize()}</strong>" in summary
    # the trend charts were drawn again with the target (a new cache key), and say so
    chart = next(
        s
        for s in svgs_of(html)
        if s.find(f"{SVG}title").get("id") == "trend-client-all-index-title"
    )
    assert "Agreed target 3.00" in chart.find(f"{SVG}desc").text
    assert "Agreed target 3.00" not in before
    svg = manager.get(f"/dashboard/{site.relationship_id}/charts/trend-client-all-index.svg")
    assert b"Agreed target 3.00" in svg.data


def test_a_dimension_page_shows_its_target(site, manager):
    html = manager.get(f"/dashboard/{site.relationship_id}/dimension/trust").get_data(as_text=True)
    assert 'id="target-trust"' in html and "Trust: agreed target" in html


def test_bad_targets_are_refused_with_a_clear_message_and_change_nothing(site, manager):
    count = db.session.scalar(select(func.count(AgreedTarget.id)))
    cases = [
        ({"dimension": "trust", "target": "6"}, "The target must be a mean from 1 to 5"),
        ({"dimension": "trust", "target": "3.456"}, "Enter the target as a mean such as 3.8"),
        ({"dimension": "trust", "target": ""}, "Enter the agreed target"),
        ({"dimension": "nope", "target": "3"}, "Select the health index or one of the"),
        (
            {"dimension": "trust", "target": "3", "agreed_on": date(2999, 1, 1)},
            "The date agreed must be today or in the past",
        ),
    ]
    for fields, message in cases:
        answer = post_target(manager, site, **fields)
        assert answer.status_code == 400, fields
        page = answer.get_data(as_text=True)
        assert message in page and "govuk-error-summary" in page, (fields, message)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(AgreedTarget.id))) == count


def test_a_target_is_removed_and_the_removal_audited(site, manager):
    path = f"/actions/{site.relationship_id}/targets"
    page = manager.get(path).get_data(as_text=True)
    assert 'Remove<span class="govuk-visually-hidden"> the target for Trust' in page
    answer = manager.post(f"{path}/trust/remove", data={"csrf_token": csrf_token(page)})
    assert answer.status_code == 302
    rel = get_relationship(name_of(0))
    assert "trust" not in targets.targets_of(rel)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "target.remove"))
    again = manager.post(f"{path}/trust/remove", data={"csrf_token": csrf_token(page)})
    assert again.status_code == 404


def test_the_board_pack_shows_each_target_with_its_distance_and_rule(site, manager):
    assert post_target(manager, site, dimension="trust", target="2.00").status_code == 302
    rel = get_relationship(name_of(0))
    wave = dashboard.latest_closed_wave(rel)
    pack = reports.board_pack(rel, wave)
    trust = scores_row("trust")
    row = next(t for t in pack.targets if t.dimension_title == "Trust")
    assert row.mean == trust["mean"] and row.distance == pytest.approx(trust["mean"] - 2.0)
    assert row.rating == "Green" and row.rule == RATING_RULE
    with site.app.test_request_context():
        html = reports.board_pack_html(pack)
    assert RATING_RULE in html and "No targets are recorded" not in html


def test_the_api_serves_the_targets_as_its_document_says(site, manager):
    assert post_target(manager, site, dimension="index", target="3.00").status_code == 302
    path = f"/api/v1/relationships/{site.relationship_id}/targets"
    body = conforms(manager.get(path), "/relationships/{relationship_id}/targets")
    assert body["rule"] == RATING_RULE and body["as_of"] == "2024-Q1"
    index = next(t for t in body["items"] if t["dimension"] == "index")
    mean = scores_row("index")["mean"]
    assert index["target"] == 3.0 and index["agreed_on"] == "2024-03-01"
    assert index["mean"] == pytest.approx(mean) and index["distance"] == pytest.approx(mean - 3)
    assert index["rating"] == target_rating(mean, scores_row("index")["ci_high"], 3.0).item()
    conforms(manager.get("/api/v1/relationships/999999/targets"), None, 404)
