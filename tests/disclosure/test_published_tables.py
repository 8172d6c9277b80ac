"""The intruder against one closed wave's published tables (issue 11, DESIGN §4.14):
differencing within and across linked tables, pooled statistics, the k fixed at close."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Relationship
from survey_app.services import results
from survey_app.services.demo import load_demo
from tests.disclosure.wave_intruder import attack_wave, pooled_leaks, seeded_wave

TABLES = ("scores", "items", "gaps")


@pytest.fixture
def small_groups(factory):
    rel = factory.relationship(areas=["Core ICT", "Contact centre", "Adult social care"])
    return rel, seeded_wave(rel, "2024-Q1")


def _published(rel, wave, k=None):
    return {t: results.published_rows(t, rel, [wave], k=k) for t in TABLES}


def _true(rel, wave):
    return {t: results.stored_rows(t, rel, [wave])[1] for t in TABLES}


def test_no_group_under_k_is_recovered_from_the_seeded_wave(app, small_groups):
    rel, wave = small_groups
    k = wave.min_cell_size
    assert k == app.config["MIN_CELL_SIZE"]
    true = _true(rel, wave)
    small = [r for r in true["scores"] if 0 < r["n"] < k]
    assert small, "the seeded wave should have groups under k"
    assert attack_wave(_published(rel, wave), true, k) == []
    assert pooled_leaks(_published(rel, wave)) == []


def test_the_intruder_recovers_groups_when_linked_tables_are_suppressed_one_by_one(
    app, small_groups
):
    # The attack can fail: table by table (the old way), a scores row's n_answers minus its
    # shown items gives hidden items away, or the margins do.
    rel, wave = small_groups
    one_by_one = _published(rel, wave, k=wave.min_cell_size)
    assert attack_wave(one_by_one, _true(rel, wave), wave.min_cell_size)


def test_side_totals_and_all_area_gaps_are_shown_where_a_smaller_cell_protects(app, small_groups):
    rel, wave = small_groups
    shown = _published(rel, wave)
    totals = [r for r in shown["scores"] if r["area"] == "_all"]
    assert totals and all(r["suppressed"] is None for r in totals)
    all_area_gaps = [r for r in shown["gaps"] if r["area"] == "_all"]
    assert all_area_gaps and all(r["suppressed"] is None for r in all_area_gaps)


def test_the_k_of_a_wave_is_fixed_when_it_closes(app, small_groups, runner):
    rel, wave = small_groups
    before = _published(rel, wave)
    app.config["MIN_CELL_SIZE"] = 10
    assert _published(rel, wave) == before
    results.recompute(rel)
    db.session.commit()
    assert _published(rel, wave) == before, "a plain recompute keeps each wave's k"
    outcome = runner.invoke(args=["recompute", "--relationship", rel.name, "--min-cell-size", "7"])
    assert outcome.exit_code == 0, outcome.output
    db.session.expire_all()
    assert db.session.get(type(wave), wave.id).min_cell_size == 7
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "results.min_cell_size")
    ).one()
    assert event.detail["min_cell_size"] == 7 and event.detail["before"] == {"2024-Q1": 5}
    after = _published(rel, wave)
    assert sum(r["suppressed"] is not None for r in after["scores"]) > sum(
        r["suppressed"] is not None for r in before["scores"]
    )


def test_no_group_under_k_is_recovered_from_the_demo(app):
    load_demo()
    db.session.commit()
    rel = db.session.scalars(select(Relationship)).first()
    k = app.config["MIN_CELL_SIZE"]
    for wave in results.closed_waves(rel):
        published = _published(rel, wave)
        assert attack_wave(published, _true(rel, wave), k) == [], wave.label
        assert pooled_leaks(published) == [], wave.label
