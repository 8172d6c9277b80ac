"""The portfolio page: every relationship a person may see side by side, and the norms across
the installation — only from relationships both of whose organisations agreed, only from 10
or more, rounded, and worked out so that no other organisation's score can be read off."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.stats import mstats
from sqlalchemy import select

from analysis.norms import norms
from survey_app.extensions import db
from survey_app.models import AuditEvent
from survey_app.services import dashboard
from survey_app.services.relationships import (
    get_relationship,
    set_norms_consent,
)
from survey_app.services.results import published_rows
from tests.factories import sign_in
from tests.readers import conforms, tables_of
from tests.scored_sites import LEVELS, name_of, scored_site


@pytest.fixture(scope="module")
def site(migrated, tmp_path_factory):
    yield from scored_site(migrated, tmp_path_factory.mktemp("portfolio-instance"), LEVELS)


@pytest.fixture(scope="module")
def manager(site):
    return site.client("manager")


def consent(indices, *, sides=("client", "supplier"), agree=True) -> None:
    for i in indices:
        for side in sides:
            set_norms_consent(get_relationship(name_of(i)), side, agree)
    db.session.commit()


def index_mean(i: int) -> float:
    rel = get_relationship(name_of(i))
    wave = dashboard.latest_closed_wave(rel)
    return next(
        r["mean"]
        for r in published_rows("scores", rel, [wave])
        if (r["side"], r["area"], r["dimension"]) == ("all", "_all", "index")
    )


def norms_table(manager) -> dict[str, list[str]]:
    html = manager.get("/dashboard/").get_data(as_text=True)
    return {row[0]: row[1:] for row in tables_of(html).get("norms-table", [])[1:]}


def test_the_portfolio_shows_each_relationship_side_by_side(site, manager):
    html = manager.get("/dashboard/").get_data(as_text=True)
    rows = {row[0]: row for row in tables_of(html)["portfolio"][1:]}
    assert len(rows) == len(LEVELS)
    rel = get_relationship(name_of(3))
    wave = dashboard.latest_closed_wave(rel)
    row = rows[name_of(3)]
    assert row[1] == "2024-Q1"
    assert row[2] == f"{index_mean(3):.2f}"
    gaps = [
        r
        for r in published_rows("gaps", rel, [wave])
        if r["area"] == "_all" and r["dimension"] != "index" and r["suppressed"] is None
    ]
    widest = max(gaps, key=lambda r: abs(r["difference"]))
    assert row[4].startswith(f"{widest['dimension_title']}: {widest['difference']:+.2f}")
    assert row[5] == "60%"  # 24 of 40 invitations answered


def test_norms_need_ten_relationships_both_of_whose_organisations_agreed(site, manager):
    consent(range(9))
    consent([9], sides=("client",))  # the supplier has not agreed: it does not count
    assert norms_table(manager) == {}
    html = manager.get("/dashboard/").get_data(as_text=True)
    assert "Norms appear when at least 10 relationships" in html and "(9 so far)" in html
    consent([9], sides=("supplier",))
    table = norms_table(manager)
    assert table["Relationship health index"][0] == "10"
    means = [index_mean(i) for i in range(10)]
    expected = mstats.hdquantiles(means, prob=[0.25, 0.5, 0.75])
    assert table["Relationship health index"][1:] == [f"{v:.1f}" for v in expected]
    for figures in table.values():  # one decimal everywhere
        assert all(re.fullmatch(r"\d\.\d|Too few", f) for f in figures[1:]), figures
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "relationship.norms_consent").limit(1)
    )
    consent([9], sides=("supplier",), agree=False)


def test_a_relationship_that_did_not_agree_moves_no_norm(site, manager):
    consent(range(10))
    before = norms_table(manager)
    consent([10], sides=("client",))  # the 11th (the highest scores): half agreed
    assert norms_table(manager) == before
    consent([10], sides=("supplier",))
    after = norms_table(manager)
    assert after["Relationship health index"][0] == "11"
    consent([10], agree=False)


def test_no_organisations_score_can_be_read_off_a_norm(site, manager):
    """A reader knows their own score: were a figure one relationship's score, or two
    averaged, they could solve for another's. Every figure weighs each of the 10 at most a
    third, and a plain median or quartile would give scores away where this does not."""
    consent(range(10))
    means = np.array([index_mean(i) for i in range(10)])
    result = dashboard.installation_norms()[0][0]
    unrounded = norms(means)
    assert unrounded.max_weight <= 1 / 3
    shown = (result.lower_quartile, result.median, result.upper_quartile)
    assert shown == tuple(
        round(v, 1) for v in (unrounded.lower_quartile, unrounded.median, unrounded.upper_quartile)
    )
    # the plain median of 10 is the mean of two relationships: knowing one gives the other
    plain = np.median(means)
    middle = np.sort(means)[4:6]
    assert 2 * plain - middle[0] == pytest.approx(middle[1])
    assert all(abs(2 * unrounded.median - m - other) > 1e-6 for m in means for other in means)


def test_the_portfolio_lists_only_the_relationships_in_the_persons_scope(site, manager):
    consent(range(10))
    norms_before = norms_table(manager)
    scoped = sign_in(
        site.app,
        "manager",
        email="one.relationship@council.example",
        relationships=[get_relationship(name_of(2))],
    )
    html = scoped.get("/dashboard/").get_data(as_text=True)
    assert [row[0] for row in tables_of(html)["portfolio"][1:]] == [name_of(2)]
    assert norms_table(scoped) == norms_before  # the norms are the installation's


def test_the_command_line_records_each_organisations_agreement(site):
    runner = site.app.test_cli_runner()
    rel = name_of(10)
    said = runner.invoke(args=["relationship", "norms", rel, "--side", "client"])
    assert said.exit_code == 0, said.output
    assert f"Council 10 agrees: {rel} does not count in the norms" in said.output
    said = runner.invoke(args=["relationship", "norms", rel, "--side", "supplier"])
    assert f"Supplier 10 agrees: {rel} counts in the norms" in said.output
    said = runner.invoke(args=["relationship", "norms", rel, "--side", "supplier", "--withdraw"])
    assert "does not agree" in said.output
    db.session.expire_all()
    assert [p.in_norms for p in get_relationship(rel).parties] == [True, False]
    bad = runner.invoke(args=["relationship", "norms", "No such", "--side", "client"])
    assert bad.exit_code != 0 and "No such" in bad.output
    consent([10], agree=False)


def test_the_api_serves_the_portfolio_and_the_norms_as_its_document_says(site, manager):
    consent(range(10))
    body = conforms(manager.get("/api/v1/portfolio?per_page=1000"), "/portfolio")
    assert body["total"] == len(LEVELS)
    row = next(r for r in body["items"] if r["relationship"]["name"] == name_of(3))
    assert row["index"] == pytest.approx(index_mean(3))
    assert row["response_rate"] == pytest.approx(0.6) and row["invited"] == 40
    norms_body = conforms(manager.get("/api/v1/norms"), "/norms")
    assert norms_body["contributors"] == 10 and norms_body["min_contributors"] == 10
    index = next(n for n in norms_body["items"] if n["dimension"] == "index")
    shown = norms_table(manager)["Relationship health index"]
    assert [index["lower_quartile"], index["median"], index["upper_quartile"]] == [
        float(v) for v in shown[1:]
    ]
    consent(range(10), agree=False)
    withdrawn = conforms(manager.get("/api/v1/norms"), "/norms")
    assert all(n["median"] is None for n in withdrawn["items"])
