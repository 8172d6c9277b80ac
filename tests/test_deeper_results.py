"""The deeper tables of a scored wave (issue 16): relative_weights, heat_map and margins.

The service's wiring is checked against the analysis functions called directly on the
responses of each cell (and, for the heat map and the margins, against SciPy and the
formula itself), and their suppression against k.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy import stats
from sqlalchemy import insert

from analysis import drivers, heatmap
from survey_app.extensions import db
from survey_app.models import Invitation
from survey_app.services import results
from survey_app.services.results import computation
from survey_app.services.results.deeper import deeper_tables
from survey_app.services.results.disclosure import publish_beside_scores, publish_wave
from survey_app.services.results.loading import invited_per_cell
from survey_app.services.results.wording import worded_row
from survey_app.services.waves import close_wave, create_wave, open_wave
from tests.factories import add_responses

AREAS = ["Core ICT", "Contact centre"]
#: (side, area key, mean answer, responses, invited)
GROUPS = [
    ("client", "core-ict", 3.0, 130, 200),
    ("client", "contact-centre", 4.2, 60, 80),
    ("supplier", "core-ict", 3.6, 40, 50),
    ("supplier", "contact-centre", 3.6, 3, 12),
]


@pytest.fixture
def scored(factory):
    """A closed wave of GROUPS with invitations fixing every area, and its scored responses."""
    rel = factory.relationship(areas=AREAS)
    wave = create_wave(rel, "2024-Q1")
    open_wave(wave)
    parties = {p.side: p.id for p in rel.parties}
    areas = {a.key: a.id for a in rel.service_areas}
    invitations = [
        {"wave_id": wave.id, "party_id": parties[side], "service_area_id": areas[area],
         "issued_on": date(2024, 1, 8)}
        for side, area, _, _, invited in GROUPS for _ in range(invited)
    ]  # fmt: skip
    db.session.execute(insert(Invitation), invitations)
    rng = np.random.default_rng(16)
    for side, area, mean, n, _ in GROUPS:
        add_responses(wave, side, mean, n, rng, area)
    close_wave(wave)
    db.session.commit()
    answers = results.load_answers([wave])[0]
    return rel, wave, results.score_wave(answers, results.Layout.of(rel), wave.label)


def _rows(name, rel, wave):
    columns, rows = results.stored_rows(name, rel, [wave])
    return rows


def _cell(scored, side, area):
    """Responses of a cell (side key or 'all', area key or '_all')."""
    answers, layout = scored.answers, scored.layout
    mask = np.ones(answers.n, dtype=bool)
    if side != "all":
        mask &= answers.side == ("client", "supplier").index(side)
    if area != "_all":
        mask &= answers.area == layout.area_keys.index(area)
    return mask


def test_relative_weights_equal_the_analysis_on_each_cells_responses(scored):
    rel, wave, sw = scored
    design = sw.design
    predictors = np.flatnonzero(~design.outcome)
    (outcome,) = np.flatnonzero(design.outcome)
    rows = _rows("relative_weights", rel, wave)
    assert {r["outcome"] for r in rows} == {design.dimension_keys[outcome]}
    for side, area in [("client", "core-ict"), ("client", "_all"), ("all", "_all"),
                       ("supplier", "core-ict"), ("all", "core-ict")]:  # fmt: skip
        mask = _cell(sw, side, area)
        direct = drivers.relative_weights(
            sw.scores[mask][:, predictors], sw.scores[mask, outcome], n_resamples=0
        )
        got = [r for r in rows if r["side"] == side and r["area"] == area]
        assert [r["dimension"] for r in got] == [design.dimension_keys[d] for d in predictors]
        assert got[0]["n"] == direct.n[0]
        if direct.reason[0]:
            assert got[0]["reason"] == direct.reason[0]
            assert all(r["raw_weight"] is None for r in got)
            continue
        np.testing.assert_allclose([r["raw_weight"] for r in got], direct.raw[0], atol=1e-12)
        np.testing.assert_allclose(got[0]["r_squared"], direct.r_squared[0], atol=1e-12)
        np.testing.assert_allclose(
            [r["rescaled_weight"] for r in got], direct.rescaled[0], atol=1e-9
        )
    # The intervals are the seeded ones of a direct call on the wave's four partitions
    # (sides × areas, sides, areas, the whole wave), each response's cells by the layout.
    layout = sw.layout
    side = sw.answers.side.astype(np.int64)
    level = np.where(sw.answers.area < 0, layout.n_areas, sw.answers.area)
    every = layout.level_keys.index("_all")
    partitions = np.stack(
        [layout.cell(side, level), layout.cell(side, every), layout.cell(2, level),
         np.full(side.size, layout.cell(2, every))]
    )  # fmt: skip
    direct = drivers.relative_weights(
        sw.scores[:, predictors], sw.scores[:, outcome], partitions, layout.n_cells, seed=16
    )
    compared = 0
    for cell in range(layout.n_cells):
        s, lv = divmod(cell, layout.n_area_levels)
        got = [
            r for r in rows
            if r["side"] == results.SIDE_KEYS[s] and r["area"] == layout.level_keys[lv]
        ]  # fmt: skip
        if not got or direct.reason[cell]:
            continue
        compared += 1
        for column, values in (("raw_ci_low", direct.raw_ci_low), ("raw_ci_high", direct.raw_ci_high),
                               ("rescaled_ci_low", direct.rescaled_ci_low)):  # fmt: skip
            np.testing.assert_allclose([r[column] for r in got], values[cell], atol=1e-9)
        assert [r["significant"] for r in got] == direct.significant[cell].tolist()
    assert compared >= 3


def test_heat_map_cells_equal_welch_against_the_rest_and_bh_over_the_wave(scored):
    rel, wave, sw = scored
    design, layout = sw.design, sw.layout
    rows = _rows("heat_map", rel, wave)
    keys = design.score_keys
    shape = (3, layout.n_areas, len(keys))
    n, mean, sd = np.zeros(shape), np.full(shape, np.nan), np.full(shape, np.nan)
    totals = np.zeros((3, 3, len(keys)))
    for s, side in enumerate(results.SIDE_KEYS):
        for a, area in enumerate(layout.area_keys):
            x = sw.scores[_cell(sw, side, area)]
            n[s, a] = (~np.isnan(x)).sum(axis=0)
            mean[s, a], sd[s, a] = np.nanmean(x, axis=0), np.nanstd(x, axis=0, ddof=1)
        x = sw.scores[_cell(sw, side, "_all")]
        totals[s] = [(~np.isnan(x)).sum(axis=0), np.nanmean(x, 0), np.nanstd(x, 0, ddof=1)]
    direct = heatmap.heat_map_differences(
        n, mean, sd, *totals.transpose(1, 0, 2), points=design.points
    )
    by_key = {(r["side"], r["area"], r["dimension"]): r for r in rows}
    assert len(rows) == 3 * layout.n_areas * len(keys)
    for s, side in enumerate(results.SIDE_KEYS):
        for a, area in enumerate(layout.area_keys):
            for d, key in enumerate(keys):
                row = by_key[(side, area, key)]
                assert row["p_adjusted"] == pytest.approx(direct.p_adjusted[s, a, d], abs=1e-12)
                assert (row["marking"] or "") == direct.marking[s, a, d]
    # One cell against SciPy on the raw scores: the client's Core ICT vs the rest of the client.
    d = keys.index(results.INDEX)
    client = sw.scores[_cell(sw, "client", "_all"), d]
    inside = _cell(sw, "client", "core-ict")[_cell(sw, "client", "_all")]
    welch = stats.ttest_ind(client[inside], client[~inside], equal_var=False)
    row = by_key[("client", "core-ict", results.INDEX)]
    assert row["welch_p"] == pytest.approx(welch.pvalue, rel=1e-9)
    # Core ICT (mean 3.0) against Contact centre (4.2): a real difference, marked and explained.
    # stored as numbers only, worded when read (in the reader's language; here English)
    assert row["explanation"] is None
    assert row["marking"] == "lower"
    shown = worded_row("heat_map", {**row, "suppressed": None})  # as if published
    assert "lower than the rest of the client staff" in shown["explanation"]
    assert shown["explanation"].startswith(
        f"Relationship health index in Core ICT: {abs(row['difference_points']):.1f} points lower"
    )


def test_margins_use_the_finite_population_correction_where_invitations_fixed_the_area(scored):
    rel, wave, sw = scored
    rows = _rows("margins", rel, wave)
    by_key = {(r["side"], r["area"], r["dimension"]): r for r in rows}
    for side, area, _, n, invited in GROUPS[:3]:
        row = by_key[(side, area, results.INDEX)]
        x = sw.scores[_cell(sw, side, area), -1]
        m, s = x.mean(), x.std(ddof=1)
        half = stats.t.ppf(0.975, n - 1) * s / np.sqrt(n) * np.sqrt(1 - n / invited)
        assert row["invited"] == invited and row["response_rate"] == pytest.approx(n / invited)
        assert row["corrected"] is True
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((m - half, m + half), rel=1e-12)
    assert by_key[("client", "_all", results.INDEX)]["invited"] == 280
    assert by_key[("all", "_all", results.INDEX)]["invited"] == 342
    low = by_key[("supplier", "contact-centre", results.INDEX)]
    note = worded_row("margins", {**low, "suppressed": None})["note"]  # as if published
    assert low["low_response"] is True and "under 30%" in note
    assert note.startswith(
        f"{low['response_rate']:.0%} of those invited answered ({low['n']} of {low['invited']})."
    )


def test_invitations_without_an_area_leave_the_areas_n_unknown(factory):
    rel = factory.relationship(areas=AREAS)
    wave = create_wave(rel, "2024-Q1")
    open_wave(wave)
    party = next(p.id for p in rel.parties if p.side == "client")
    db.session.execute(
        insert(Invitation),
        [{"wave_id": wave.id, "party_id": party, "service_area_id": None,
          "issued_on": date(2024, 1, 8)}] * 40,
    )  # fmt: skip
    add_responses(wave, "client", 3.5, 20, np.random.default_rng(1), "core-ict")
    close_wave(wave)
    db.session.commit()
    by_key = {(r["side"], r["area"]): r for r in _rows("margins", rel, wave)}
    area = by_key[("client", "core-ict")]
    assert area["invited"] is None and area["corrected"] is False
    assert area["reason"] == "invited number unknown"
    assert by_key[("client", "_all")]["invited"] == 40
    assert by_key[("client", "_all")]["response_rate"] == pytest.approx(0.5)


def _hidden(rows):
    return {(r["side"], r["area"], r.get("dimension")): r["suppressed"] for r in rows}


def test_small_groups_are_hidden_in_every_new_table(scored):
    rel, wave, _ = scored
    scores = _hidden(results.published_rows("scores", rel, [wave], k=5))
    for name in ("relative_weights", "heat_map", "margins"):
        shown = results.published_rows(name, rel, [wave], k=5)
        small = [r for r in shown if r["side"] == "supplier" and r["area"] == "contact-centre"]
        assert small and all(r["suppressed"] == results.PRIMARY for r in small), name
        assert all(r.get("n") is None and r.get("mean") is None for r in small), name
        whole = [r for r in shown if r["side"] == "all" and r["area"] == "_all"]
        assert not any(r["suppressed"] for r in whole), name
        if name == "margins":  # every cell hidden exactly where its scores are
            assert {key: scores[key] for key in _hidden(shown)} == _hidden(shown)
    # Supplier staff in Contact centre (3) hide, by the cube rule, the other area of each
    # side; with k = 3 they are shown, and a group under 100 complete responses has no weights.
    weights = results.published_rows("relative_weights", rel, [wave], k=3)
    few = [r for r in weights if r["side"] == "supplier" and r["area"] == "core-ict"]
    assert few and not any(r["suppressed"] for r in few)
    assert all(r["raw_weight"] is None for r in few)
    assert few[0]["reason"] == "fewer than 100 complete responses"


def _waves(factory, sizes):
    """A relationship with a closed wave per entry of ``sizes`` (client responses in Core ICT,
    the other groups of GROUPS as they are), each wave's client mean moved so that no two
    waves' tables are alike."""
    rel = factory.relationship(areas=AREAS)
    rng = np.random.default_rng(7)
    waves = []
    for t, n in enumerate(sizes):
        wave = create_wave(rel, f"2024-Q{t + 1}")
        open_wave(wave)
        add_responses(wave, "client", 2.6 + 0.4 * t, n, rng, "core-ict")
        for side, area, mean, size, _ in GROUPS[1:]:
            add_responses(wave, side, mean, size, rng, area)
        close_wave(wave)
        waves.append(wave)
    db.session.commit()
    return rel, waves


def _deeper_alone(rel, wave, scores, k):
    """A wave's deeper tables computed on their own and published beside its scores."""
    layout = results.Layout.of(rel)
    scored = results.score_wave(results.load_answers([wave])[0], layout, wave.label)
    invited = invited_per_cell(wave, layout.n_areas, scored.answers.area_ids)
    tables = deeper_tables(scored, invited)
    publish_beside_scores(tables, k, scores)
    return tables


def test_each_wave_gets_its_own_deeper_tables_while_the_next_waves_are_computed(factory):
    """The deeper tables are computed in a thread beside the next waves' other tables: each
    wave's, once published, are what that wave's responses give on their own."""
    rel, waves = _waves(factory, [130, 150, 170, 120])
    computed = results.compute_tables(rel, waves, min_cell_size=5)
    for wave, tables in zip(waves, computed.tables, strict=True):
        alone = _deeper_alone(rel, wave, tables.tables["scores"], 5)
        for name in ("relative_weights", "heat_map", "margins"):
            assert tables.tables[name] == alone[name], (wave.label, name)
    n_of = [t.tables["relative_weights"]["n"] for t in computed.tables]
    assert len({tuple(n) for n in n_of}) == len(waves)  # the check could tell waves apart


def test_an_error_in_a_waves_deeper_tables_reaches_the_caller(factory, monkeypatch):
    rel, waves = _waves(factory, [130, 150, 170])
    made = computation.deeper_tables
    calls = []

    def failing(scored, invited):
        calls.append(scored.label)
        if len(calls) == 2:
            raise RuntimeError("deeper tables failed")
        return made(scored, invited)

    monkeypatch.setattr(computation, "deeper_tables", failing)
    with pytest.raises(RuntimeError, match="deeper tables failed"):
        results.compute_tables(rel, waves, min_cell_size=5)


def test_the_deeper_tables_published_after_the_rest_are_published_alike(scored):
    """:func:`publish_beside_scores` after :func:`publish_wave` of the other tables gives
    every table the pattern one :func:`publish_wave` of them all gives."""
    rel, wave, sw = scored
    layout = results.Layout.of(rel)
    invited = invited_per_cell(wave, layout.n_areas, sw.answers.area_ids)
    submitted = results.submitted_per_invitation_area(wave)

    def made():
        return results.compute_wave_tables(sw).tables, deeper_tables(sw, invited)

    core, deeper = made()
    together = {**core, **deeper}
    publish_wave(together, 5, sw.design.points, submitted=submitted)
    core, deeper = made()
    publish_wave(core, 5, sw.design.points, submitted=submitted)
    publish_beside_scores(deeper, 5, core["scores"])
    assert {**core, **deeper} == together
    hidden = [r for r in together["relative_weights"][results.SUPPRESSED] if r]
    assert hidden  # the supplier's 3 in Contact centre and the cells they hide
