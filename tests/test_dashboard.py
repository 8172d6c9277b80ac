"""The manager dashboard on the demo data (the seed's story), its charts and tables, filters,
confidentiality on a small wave, the chart cache, and an open wave's response rates.

On the ``demo_site`` fixture (tests/demo_site.py: the demo and a small wave, loaded once for
the module with its own app); no test here uses the per-test ``app`` fixture, which would
empty the tables.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Invitation
from survey_app.services import alerts, dashboard, results
from survey_app.services.dashboard import charts
from survey_app.services.demo import NAME
from survey_app.services.instruments import frozen_instrument
from survey_app.services.relationships import get_relationship
from survey_app.services.results import published_rows, stored_rows
from tests.demo_site import SMALL
from tests.factories import open_wave_of_new_relationship
from tests.readers import svgs_of, tables_of

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def manager(demo_site):
    return demo_site.client("manager")


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def fmt(value: float) -> str:
    return f"{value:.2f}"


# ------------------------------------------------------------------------------ the pages


def test_the_manager_sees_every_relationship(demo_site, manager):
    html = page(manager, "/dashboard/")
    assert NAME in html and SMALL in html
    assert f'href="/dashboard/{demo_site.relationship_id}/"' in html


def test_the_seed_story_contact_centre_and_new_projects_weak_and_seen_differently(
    demo_site, manager
):
    html = page(manager, f"/dashboard/{demo_site.relationship_id}/")
    tables = tables_of(html)
    heat = {row[0]: row[1:] for row in tables["heat-all"][1:]}
    head = tables["heat-all"][0][1:]
    vfm = dict(zip(head, (float(v.split()[0]) for v in heat["Value for money"]), strict=True))
    weakest = sorted(
        (
            "Core ICT infrastructure",
            "Adult social care",
            "Revenues",
            "Contact centre",
            "New projects",
        ),
        key=vfm.get,
    )
    assert set(weakest[:2]) == {"Contact centre", "New projects"}
    # ... and seen differently: a material value-for-money gap in the contact centre, shown
    material = re.search(
        r'<ul class="govuk-list govuk-list--bullet" id="material-gaps">(.*?)</ul>', html, re.S
    )
    assert material and re.search(
        r"Value for money</a>, Contact centre: client \d\.\d\d, supplier \d\.\d\d",
        material.group(1),
    )
    contact = page(manager, f"/dashboard/{demo_site.relationship_id}/?area=contact-centre")
    gap_rows = {row[0]: row for row in tables_of(contact)["gaps-contact-centre"][1:]}
    assert gap_rows["Value for money"][-1] == "Material gap"
    assert float(gap_rows["Value for money"][1]) < float(gap_rows["Value for money"][2]) - 0.5


def test_the_seed_story_innovation_and_shared_purpose_deteriorating_with_evidence(
    demo_site, manager
):
    html = page(manager, f"/dashboard/{demo_site.relationship_id}/")
    alerts = html[html.index('id="alerts"') : html.index('id="dimensions"')]
    for title in ("Innovation", "Shared purpose"):
        summary = re.search(
            rf"<strong>{title}, both sides, all service areas: getting worse — down (\d+) points "
            r"on its 2009-Q2–2010-Q1 level, now \d+ out of 100 in 2012-Q3</strong>",
            alerts,
        )
        assert summary, title
        assert int(summary.group(1)) >= 10
    assert "Over 14 surveys since 2009-Q2: down" in alerts
    assert "How we know" in alerts and "EWMA" in alerts and "control limits" in alerts
    assert "perception gap widening" in alerts.lower()


def test_what_needs_attention_tops_the_dashboard_with_a_link_to_each_alert(demo_site, manager):
    html = page(manager, f"/dashboard/{demo_site.relationship_id}/")
    top = html[html.index('id="attention"') : html.index('id="index"')]
    rel = get_relationship(NAME)
    found = alerts.relationship_alerts(rel)
    named = alerts.needs_attention(found)
    assert 2 <= len(named) <= 6 < len(found)
    items = re.findall(r'<li><a class="govuk-link" href="#(alert-[^"]+)">([^<]+)</a>', top)
    assert [text for _, text in items] == [a.summary for a in named]
    assert {a.dimension for a in named[:2]} == {"innovation", "shared_purpose"}
    for anchor, _ in items:
        assert f'id="{anchor}"' in html  # each links to its alert, with its evidence
    assert "/dashboard/how-we-know" in top
    how = page(manager, "/dashboard/how-we-know")
    assert "How often it is wrong" in how and "at most 5%" in how


def test_material_gaps_are_listed_at_the_top_apart_from_what_is_getting_worse(demo_site, manager):
    """A material gap is a level apart, not a change (issue 12): the summary at the top
    lists the widest apart from the groups getting worse, the contact centre's first."""
    html = page(manager, f"/dashboard/{demo_site.relationship_id}/")
    top = html[html.index('id="attention"') : html.index('id="index"')]
    worse = re.search(r'id="attention-list">(.*?)</ul>', top, re.S)
    gaps = re.search(r'id="attention-gaps">(.*?)</ul>', top, re.S)
    assert worse and gaps
    assert "Value for money" not in worse.group(1)  # the gap is no deterioration
    first = re.findall(
        r'<li><a class="govuk-link" href="#material-gaps">([^<]+)</a>: ([^<]+)</li>', gaps.group(1)
    )
    assert first[0][0] == "Value for money, Contact centre"
    assert re.fullmatch(r"the supplier side rates it \d\.\d\d scale points higher", first[0][1])
    assert 'id="material-gaps"' in html  # where the link leads


def test_headline_index_per_side_with_band_and_status(demo_site, manager):
    html = page(manager, f"/dashboard/{demo_site.relationship_id}/")
    rel = get_relationship(NAME)
    rows = published_rows("scores", rel, [dashboard.latest_closed_wave(rel)])
    index = {r["side"]: r for r in rows if r["area"] == "_all" and r["dimension"] == "index"}
    headline = html[html.index('id="index"') : html.index('id="over-time"')]
    for side in ("client", "supplier", "all"):
        assert f'{fmt(index[side]["mean"])} <span class="app-headline__unit">' in headline
    assert headline.count("govuk-tag--yellow") == 3  # borderline, each side
    assert "Deteriorating" in headline


def test_every_chart_is_valid_svg_with_title_desc_and_a_table(demo_site, manager):
    for url in (
        f"/dashboard/{demo_site.relationship_id}/",
        f"/dashboard/{demo_site.relationship_id}/dimension/innovation",
    ):
        html = page(manager, url)
        svgs = svgs_of(html)
        assert svgs
        for svg in svgs:
            assert svg.get("role") == "img"
            title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
            assert title is not None and title.text and desc is not None and desc.text
            figure_id = title.get("id").removesuffix("-title")
            assert figure_id in tables_of(html), figure_id
        assert html.count("Show the data as a table") == len(svgs)


def test_the_trend_table_holds_the_stored_means_and_its_ewma_the_stored_one(demo_site, manager):
    rel = get_relationship(NAME)
    html = page(manager, f"/dashboard/{demo_site.relationship_id}/")
    table = tables_of(html)["trend-client-all-index"]
    _, stored = stored_rows("scores", rel)
    means = {
        r["wave"]: r
        for r in stored
        if (r["side"], r["area"], r["dimension"]) == ("client", "_all", "index")
    }
    assert len(table) == 1 + 14
    for row in table[1:]:
        assert row[1] == f"{means[row[0]]['n']:,}"
        assert row[2] == fmt(means[row[0]]["mean"])
        assert row[4] == f"{fmt(means[row[0]]['ci_low'])} to {fmt(means[row[0]]['ci_high'])}"
    _, trends = stored_rows("trends", rel)
    latest = next(
        r for r in trends if (r["side"], r["area"], r["dimension"]) == ("client", "_all", "index")
    )
    points = dashboard.score_series(rel, results.closed_waves(rel), "client", "_all", "index")
    assert points[-1].ewma == pytest.approx(latest["ewma"])
    assert points[-1].ewma_lower == pytest.approx(latest["ewma_lower"])
    assert table[-1][5] == fmt(latest["ewma"])


def test_the_heat_map_and_gap_tables_hold_the_stored_numbers(demo_site, manager):
    rel = get_relationship(NAME)
    wave = dashboard.latest_closed_wave(rel)
    scores = {
        (r["dimension"], r["area_name"]): r
        for r in published_rows("scores", rel, [wave])
        if r["side"] == "all"
    }
    gaps = {
        r["dimension_title"]: r for r in published_rows("gaps", rel, [wave]) if r["area"] == "_all"
    }
    tables = tables_of(page(manager, f"/dashboard/{demo_site.relationship_id}/"))
    heat = tables["heat-all"]
    titles = {r["dimension_title"]: r["dimension"] for r in scores.values()}
    for row in heat[1:]:
        for area, cell in zip(heat[0][1:], row[1:], strict=True):
            stored = scores[(titles[row[0]], area)]
            assert cell == f"{fmt(stored['mean'])} (n = {stored['n']})"
    for row in tables["gaps-all"][1:]:
        assert row[1] == fmt(gaps[row[0]]["mean_client"])
        assert row[2] == fmt(gaps[row[0]]["mean_supplier"])


def test_the_dimension_drill_down_lists_its_items_with_the_stored_scores(demo_site, manager):
    rel = get_relationship(NAME)
    wave = dashboard.latest_closed_wave(rel)
    html = page(
        manager, f"/dashboard/{demo_site.relationship_id}/dimension/innovation?area=contact-centre"
    )
    items = [
        r
        for r in published_rows("items", rel, [wave])
        if r["dimension"] == "innovation" and r["area"] == "contact-centre"
    ]
    rows = tables_of(html)["items-table"][1:]
    instrument = frozen_instrument(wave.instrument_version)
    assert len(rows) == len(instrument.items_in("innovation"))
    client = {r["item"]: r for r in items if r["side"] == "client"}
    for row, item in zip(rows, instrument.items_in("innovation"), strict=True):
        assert row[1] == f"{fmt(client[item.key]['mean'])} ({client[item.key]['n']})"
    assert "Service Birmingham" in html  # the statement with the partner's name filled in
    assert page(manager, f"/dashboard/{demo_site.relationship_id}/dimension/no-such-thing", 404)


def test_filters_narrow_and_a_bad_filter_is_a_clear_error(demo_site, manager):
    html = page(
        manager, f"/dashboard/{demo_site.relationship_id}/?side=supplier&area=contact-centre"
    )
    assert "Health index, 2012-Q3: Contact centre" in html
    assert "trend-supplier-contact-centre-index" in html and "trend-client-" not in html
    assert "heat-supplier" in html
    bad = page(manager, f"/dashboard/{demo_site.relationship_id}/?side=both&area=nowhere", 400)
    assert "Select whose answers to show" in bad and "Select a service area from the list" in bad
    assert "govuk-error-summary" in bad


def test_a_role_level_filter_suppresses_small_groups(demo_site, manager):
    html = page(manager, f"/dashboard/{demo_site.relationship_id}/?role_level=executive")
    assert "Showing the executive or director level only" in html
    heat = tables_of(html)["heat-all"]
    cells = [c for row in heat[1:] for c in row[1:]]
    assert "Fewer than 5 responses" in cells
    for cell in cells:
        if cell[0].isdigit():
            assert int(cell.split("n = ")[1].rstrip(")")) >= 5


def test_an_open_wave_shows_its_response_rate_per_party(demo_site, manager):
    html = page(manager, f"/dashboard/{demo_site.relationship_id}/")
    assert "Wave 2012-Q4 is open" in html
    rel = get_relationship(NAME)
    wave = next(w for w in dashboard.open_waves(rel))
    table = tables_of(html)[f"rates-{wave.id}"]
    # the monitor's words (templates/admin/_macros.html), for the monitor's rows
    assert table[0][2:] == ["Invited", "Started, not submitted", "Submitted", "Response rate"]
    rows = {row[0]: row for row in table[1:]}
    for party in rel.parties:
        issued, used = db.session.execute(
            select(func.count(Invitation.id), func.count(Invitation.used_on)).where(
                Invitation.wave_id == wave.id, Invitation.party_id == party.id
            )
        ).one()
        row = rows[party.name]
        assert row[2] == f"{issued:,}" and row[4] == f"{used:,}"
        assert row[5] == f"{100 * used / issued:.1f}%"


def test_an_agreed_action_is_marked_on_its_dimension_chart(demo_site, manager):
    from survey_app.models import Action

    rel = get_relationship(NAME)
    # The Action row as survey_app.services.actions.record_action stores it (baseline: the
    # latest closed wave when it was agreed).
    db.session.add(
        Action(
            relationship_id=rel.id,
            dimension_key="innovation",
            baseline_wave_id=dashboard.latest_closed_wave(rel).id,
            what="Set up a joint innovation board",
            owner="Head of ICT",
            due_on=date(2013, 3, 31),
            status="open",
            created_by="manager@demo.example",
        )
    )
    db.session.commit()
    html = page(manager, f"/dashboard/{demo_site.relationship_id}/dimension/innovation")
    assert "Action 1, agreed after 2012-Q3: Set up a joint innovation board" in html
    svg = svgs_of(html)[0]
    assert "Action 1" in [t.text for t in svg.iter(f"{SVG}text")]


def test_the_latest_waves_alerts_are_what_the_stored_trends_say(demo_site):
    """Alerts are read from a wave's stored scores and gaps; for the latest wave they are
    exactly the trends table's: every shown group deteriorating, with its summary and evidence,
    and every widening perception gap (checked here against the trends rows). A group to
    watch is never an alert."""
    rel = get_relationship(NAME)
    shown = [r for r in results.published_rows("trends", rel) if r["suppressed"] is None]
    expected = {
        (r["status"], r["side"], r["area"], r["dimension"], r["status_summary"])
        for r in shown
        if r["status"] == "deteriorating"
    }
    expected |= {
        ("gap_widening", None, r["area"], r["dimension"], r["gap_alert_summary"])
        for r in shown
        if r["side"] == "all" and r["gap_alert"]
    }
    found = alerts.relationship_alerts(rel, status=None)
    assert {a.kind for a in found} == {"deteriorating", "gap_widening"}
    assert any(r["status"] == "watch" for r in shown)
    assert {(a.kind, a.side, a.area, a.dimension, a.summary) for a in found} == expected
    assert len(found) == len(expected)
    assert {a.wave_label for a in found} == {dashboard.latest_closed_wave(rel).label}
    evidence = {
        (r["side"], r["area"], r["dimension"]): (r["status_evidence"] or "").strip().split("\n")
        for r in shown
    }
    for a in found:
        if a.kind != "gap_widening":
            assert len(a.evidence) == len(evidence[a.side, a.area, a.dimension])
    # they are the page's and the API's default, heaviest first within each kind
    assert alerts.relationship_alerts(rel) == found
    worse = [a.weight for a in found if a.kind == "deteriorating"]
    assert worse == sorted(worse, reverse=True) and worse[-1] > 0


# ------------------------------------------------------------------------------ confidentiality


def test_a_three_person_area_is_never_shown_nor_recoverable_on_the_page(demo_site, manager):
    html = page(manager, f"/dashboard/{demo_site.small_id}/?area=tiny-area")
    headline = html[html.index('id="index"') : html.index('id="over-time"')]
    assert headline.count("Fewer than 5 responses") == 3
    heat = tables_of(html)["heat-all"]
    columns = heat[0]
    tiny, big = columns.index("Tiny area"), columns.index("Big area")
    for row in heat[1:]:
        assert row[tiny] == "Fewer than 5 responses"
        # the big area would give the tiny one away by subtraction from the total
        assert row[big] == "Hidden so that a smaller group cannot be worked out"
    gaps = tables_of(html)["gaps-tiny-area"]
    assert all(row[1] == "Fewer than 5 responses" for row in gaps[1:])


def test_a_role_filter_never_gives_a_small_role_group_away(demo_site, manager):
    # 3 client managers in the big area: the staff figure would reveal them by subtraction
    for role in ("manager", "staff"):
        html = page(
            manager, f"/dashboard/{demo_site.small_id}/?side=client&area=big-area&role_level={role}"
        )
        headline = html[html.index('id="index"') : html.index('id="over-time"')]
        assert 'class="app-headline__value"' not in headline, role


# ------------------------------------------------------------------------------ the cache


def test_charts_are_cached_per_closed_wave_and_rebuilt_after_a_recompute(
    demo_site, manager, monkeypatch
):
    renders = []
    real = charts.svg.figure_svg

    def counting(draw, size):  # type: ignore[no-untyped-def]
        renders.append(size)
        return real(draw, size)

    monkeypatch.setattr(charts.svg, "figure_svg", counting)
    url = f"/dashboard/{demo_site.relationship_id}/?area=revenues"
    first = page(manager, url)
    cached = len(renders)
    assert cached >= 4  # two trend charts, the gap chart, the heat map (and the open wave)
    second = page(manager, url)
    assert len(renders) - cached == 1  # only the open wave's response rate: never cached
    assert svgs_of(first)[0].find(f"{SVG}title").text == svgs_of(second)[0].find(f"{SVG}title").text

    from survey_app.services.results import recompute

    # the latest wave's results rebuilt, which changes the stored results' version as a rebuild of
    # every wave does (at a fraction of its CPU)
    rel = get_relationship(NAME)
    recompute(rel, dashboard.latest_closed_wave(rel))
    db.session.commit()
    before = len(renders)
    page(manager, url)
    assert len(renders) - before >= 4  # the stored results changed: every chart drawn again


def test_a_relationship_with_only_an_open_wave_shows_its_response_rate(demo_site, manager):
    from survey_app.services.invitations import issue_invitations

    rel, wave = open_wave_of_new_relationship("New Council", "New Supplier", label="2025-Q1")
    issue_invitations(wave, "client", 4, service_area=rel.service_areas[0])
    db.session.commit()
    html = page(manager, f"/dashboard/{rel.id}/")
    assert "No wave of this relationship has closed yet" in html
    rows = tables_of(html)[f"rates-{wave.id}"]
    # invited groups only; 4 invited is under k (DESIGN §4.14), so its rate is not given
    assert rows[1:] == [["New Council", "Estates", "fewer than 5", "0", "0", "–"]]
    page(manager, f"/dashboard/{rel.id}/dimension/trust", 404)


def test_a_role_filter_on_a_drill_down_hides_small_groups_of_items(demo_site, manager):
    html = page(manager, f"/dashboard/{demo_site.small_id}/dimension/trust?role_level=manager")
    rows = tables_of(html)["items-table"][1:]
    cells = [cell for row in rows for cell in row[1:-1]]
    assert rows and cells
    assert all(c.startswith(("Fewer than 5", "Hidden", "No responses")) for c in cells), cells


# ------------------------------------------------------------------------------ any closed wave


def test_an_earlier_wave_shows_its_results_and_statuses_as_they_stood(demo_site, manager):
    rel = get_relationship(NAME)
    waves = results.closed_waves(rel)
    earlier = waves[5]  # 2010-Q3: eight waves closed after it
    html = page(manager, f"/dashboard/{demo_site.relationship_id}/?wave={earlier.label}")
    assert f"Results of wave {earlier.label} as they stood when it closed: wave 6 of 14" in html
    assert re.search(rf'<option value="{earlier.label}" selected>', html)
    # the headline is that wave's stored index, with its status as stored for that wave
    stored = {
        r["side"]: r
        for r in published_rows("scores", rel, [earlier])
        if r["area"] == "_all" and r["dimension"] == "index"
    }
    latest = {
        r["side"]: r
        for r in published_rows("scores", rel, [waves[-1]])
        if r["area"] == "_all" and r["dimension"] == "index"
    }
    assert stored["all"]["mean"] != latest["all"]["mean"]
    headline = html[html.index('id="index"') : html.index('id="over-time"')]
    assert f'{fmt(stored["all"]["mean"])} <span class="app-headline__unit">' in headline
    assert f'{fmt(latest["all"]["mean"])} <span class="app-headline__unit">' not in headline
    # the trend stops at that wave; the alerts are those stored for it
    assert len(tables_of(html)["trend-client-all-index"]) == 1 + 6
    then = alerts.relationship_alerts(rel, status=None, wave=earlier)
    now = alerts.relationship_alerts(rel, status=None)
    assert {a.summary for a in then} != {a.summary for a in now}
    for a in then:
        assert a.summary.replace("&", "&amp;") in html.replace("&#39;", "'")
    # every link of the page keeps the wave: filters, drill-downs, chart files
    assert f'name="wave" value="{earlier.label}"' in html
    assert f"/dimension/trust?wave={earlier.label}" in html
    assert f"/charts/trend-client-all-index.svg?wave={earlier.label}" in html


def test_a_drill_down_and_a_chart_file_of_an_earlier_wave_stop_at_it(demo_site, manager):
    rel = get_relationship(NAME)
    earlier = results.closed_waves(rel)[2]
    url = f"/dashboard/{demo_site.relationship_id}/dimension/trust?wave={earlier.label}&side=client"
    html = page(manager, url)
    assert f"Trust, {earlier.label}" in html
    assert len(tables_of(html)["trend-client-all-trust"]) == 1 + 3
    svg = manager.get(
        f"/dashboard/{demo_site.relationship_id}/charts/trend-client-all-trust.svg?wave={earlier.label}"
    )
    assert svg.status_code == 200
    latest = manager.get(
        f"/dashboard/{demo_site.relationship_id}/charts/trend-client-all-trust.svg"
    )
    assert len(svg.data) < len(latest.data)  # 3 waves drawn, not 14


def test_the_latest_wave_is_the_default_and_a_wave_without_results_is_a_404(demo_site, manager):
    html = page(manager, f"/dashboard/{demo_site.relationship_id}/")
    assert "Results of wave 2012-Q3, the latest of 14 closed waves." in html
    assert re.search(r'<option value="2012-Q3" selected>2012-Q3 \(latest\)</option>', html)
    assert 'name="wave"' in html and "/dimension/trust?wave=" not in html  # links unpinned
    page(manager, f"/dashboard/{demo_site.relationship_id}/?wave=2012-Q4", 404)  # open
    page(manager, f"/dashboard/{demo_site.relationship_id}/?wave=1999-Q1", 404)
    page(manager, f"/dashboard/{demo_site.relationship_id}/dimension/trust?wave=2012-Q4", 404)
