"""The intruder against closed waves' published tables (issue 11 part A, DESIGN §4.14):
differencing within and across linked tables, pooled statistics, the k fixed for a wave."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Relationship, Wave
from survey_app.services import results
from survey_app.services.instruments import wave_instrument
from survey_app.services.results.vocabulary import SUPPRESSED
from tests.demo_site import closed_demo
from tests.disclosure.datasets import seeded_once
from tests.disclosure.wave_intruder import attack_wave, pooled_leaks

TABLES = ("scores", "items", "gaps", "heat_map", "margins", "drivers", "relative_weights")


@pytest.fixture
def small_groups(app, factory):
    rel = db.session.get(Relationship, seeded_once("small groups", factory))
    return rel, results.closed_waves(rel)[0]


@pytest.fixture(scope="module")
def attacks() -> dict:
    """Attacks on the seeded wave, each run once for the module's tests that assert different
    things about it (every test's wave is the same rows: ``seeded_once``)."""
    return {}


@pytest.fixture
def sums_attack(small_groups, attacks):
    """What the intruder narrows below k with the sums beside the counts (means' sums only)."""
    if "sums" not in attacks:
        rel, wave = small_groups
        k, points = wave.min_cell_size, wave_instrument(wave).scale.points
        published, true = _published(rel, wave), _true(rel, wave)
        attacks["sums"] = attack_wave(published, true, k, points, shares=False)
    return attacks["sums"]


def _published(rel, wave, k=None):
    return {t: results.published_rows(t, rel, [wave], k=k) for t in TABLES}


def _true(rel, wave):
    return {t: results.stored_rows(t, rel, [wave])[1] for t in TABLES}


def test_no_group_under_k_is_recovered_from_the_seeded_wave(app, small_groups):
    rel, wave = small_groups
    k = wave.min_cell_size
    assert k == app.config["MIN_CELL_SIZE"]
    true = _true(rel, wave)
    assert [r for r in true["scores"] if 0 < r["n"] < k], "the wave should have groups under k"
    published = _published(rel, wave)
    assert attack_wave(published, true, k) == []
    assert pooled_leaks(published) == []


def test_no_hidden_group_s_score_sum_is_narrowed_below_k_points(sums_attack):
    # The sums beside the counts (mean × n of every scores and items row, 1..K each): for
    # every hidden group under k the intruder's integer program leaves a range of at least
    # k scale points (README, *Sums are protected too*).
    assert [f for f in sums_attack if f.key[0] == "sum"] == []


def test_the_sums_narrow_no_hidden_count_below_k(sums_attack):
    # The published sums bound hidden counts (n ≤ sum ≤ K·n): the counts' audit takes them
    # (on the code before, an item's 1-person no-area group was narrowed to 0..4).
    assert [f for f in sums_attack if f.key[0] != "sum"] == []


def test_the_sums_intruder_finds_a_score_sum_the_partners_no_longer_cover(app, small_groups):
    # The check can fail: show every partner (secondary) row as it is, and the margins
    # pin the small groups' score sums (mean × n), not only their counts.
    rel, wave = small_groups
    k, points = wave.min_cell_size, wave_instrument(wave).scale.points
    true, published = _true(rel, wave), _published(rel, wave)
    leaky = {
        t: [
            real if r[SUPPRESSED] == results.SECONDARY else r
            for r, real in zip(published[t], true[t], strict=True)
        ]
        for t in ("scores", "items")
    }
    found = attack_wave(leaky, {t: true[t] for t in leaky}, k, points, shares=False)
    assert [f for f in found if f.key[0] == "sum" and f.key[-1] == "mean"]


def test_the_intruder_finds_what_linked_tables_suppressed_one_by_one_give_away(app, small_groups):
    # The attack can fail. Publish the items of one hidden scores cell (as a table
    # suppressed on its own would where its counts are all k or more): the scores row's
    # n_answers and the margins then pin the hidden groups down.
    rel, wave = small_groups
    k = wave.min_cell_size
    true = _true(rel, wave)
    published = _published(rel, wave)
    hidden = next(r for r in published["scores"] if r[SUPPRESSED] and r["dimension"] != "index")
    leaky = dict(published)
    leaky["items"] = [
        real if (r["side"], r["area"], r["dimension"]) == (
            hidden["side"], hidden["area"], hidden["dimension"]
        ) else r
        for r, real in zip(published["items"], true["items"], strict=True)
    ]  # fmt: skip
    assert attack_wave(leaky, true, k)


def test_the_intruder_finds_an_icc_over_a_hidden_area_and_a_bh_rank(app, small_groups):
    # The checks can fail: an ICC on an all-areas row with a hidden area under it (as the
    # scoring computes it, over every area), and adjusted p-values of another family.
    rel, wave = small_groups
    published = _published(rel, wave)
    true = _true(rel, wave)
    leaky = dict(published)
    leaky["scores"] = [
        {**r, "icc1": 0.1, "icc2": 0.4} if r[SUPPRESSED] is None and r["area"] == "_all" else r
        for r in published["scores"]
    ]
    leaky["gaps"] = [
        {**r, "p_adjusted": real["p_adjusted"] * 2 if real["p_adjusted"] else 0.5}
        if r[SUPPRESSED] is None
        else r
        for r, real in zip(published["gaps"], true["gaps"], strict=True)
    ]
    leaks = pooled_leaks(leaky)
    assert any(leak.startswith("ICC") for leak in leaks)
    assert any(leak.startswith("gaps") for leak in leaks)


def test_side_totals_and_all_area_gaps_are_shown_where_a_smaller_cell_protects(app, small_groups):
    rel, wave = small_groups
    shown = _published(rel, wave)
    totals = [r for r in shown["scores"] if r["area"] == "_all"]
    assert totals and all(r[SUPPRESSED] is None for r in totals)
    all_area_gaps = [r for r in shown["gaps"] if r["area"] == "_all"]
    assert all_area_gaps and all(r[SUPPRESSED] is None for r in all_area_gaps)


def test_the_k_of_a_wave_is_fixed_when_its_results_are_computed(app, small_groups, runner):
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
    assert db.session.get(Wave, wave.id).min_cell_size == 7
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "results.min_cell_size")
    ).one()
    assert event.detail["min_cell_size"] == 7 and event.detail["before"] == {wave.label: 5}
    after = _published(rel, db.session.get(Wave, wave.id))
    hidden = [sum(r[SUPPRESSED] is not None for r in t["scores"]) for t in (before, after)]
    assert hidden[1] > hidden[0]


def test_no_group_under_k_is_recovered_from_the_demo(app):
    closed_demo()
    k = app.config["MIN_CELL_SIZE"]
    for rel in db.session.scalars(select(Relationship)):
        for wave in results.closed_waves(rel):
            published = _published(rel, wave)
            assert attack_wave(published, _true(rel, wave), k) == [], (rel.name, wave.label)
            assert pooled_leaks(published) == [], (rel.name, wave.label)
