"""No more hidden than must be on the dashboard's role-level filter (issue 11: "the role-level
filter shows Hidden even for groups of 200"; DESIGN §4.14: a large cell is hidden only when
nothing smaller protects).

The seeded wave's one group under k is 2 client respondents who gave neither an area nor a
role level; every other group holds 12–200. The results hide those 2 with a client
contact-centre partner. On the role-level filter, the contact-centre's roles add up to that
hidden partner, so one of them must be hidden too; the managers (25) protect, and the staff
(150, 200 and their totals) need not be hidden: shown, the intruder still cannot narrow the
2 below k.
"""

from __future__ import annotations

import json
from collections import Counter
from itertools import product
from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import select

from analysis.anonymity import GENERALISED, SUMMED, Recoding, counts_publishable
from survey_app.extensions import db
from survey_app.models import Relationship, ReleasedGroup
from survey_app.services import results
from survey_app.services.dashboard.charts import ChartCache
from survey_app.services.dashboard.role_cuts import role_rows
from survey_app.services.results import INDEX, SECONDARY, SUPPRESSED
from survey_app.services.results.release import cells_given_whole, role_cell_audit
from tests.disclosure.datasets import seeded_once, truth
from tests.disclosure.intruder import ALL
from tests.disclosure.wave_system import WaveSystem

LARGE_GROUPS = [
    ("client", "core-ict", "staff", 200),
    ("client", "core-ict", "manager", 30),
    ("client", "core-ict", "executive", 20),
    ("client", "contact-centre", "staff", 150),
    ("client", "contact-centre", "manager", 25),
    ("client", None, None, 2),
    ("supplier", "core-ict", "staff", 120),
    ("supplier", "core-ict", "manager", 15),
    ("supplier", "contact-centre", "staff", 90),
    ("supplier", "contact-centre", "manager", 12),
]

#: The role cells that protect the 2 on the role-level filter: the contact-centre's and all
#: areas' managers, client and both sides (25, 55, 37 and 82 responses).
MANAGERS = {(side, area, "manager") for side in ("client", ALL) for area in ("contact-centre", ALL)}


@pytest.fixture
def large_groups(app, factory):
    rel = db.session.get(Relationship, seeded_once("large groups", factory, cells=LARGE_GROUPS))
    return rel, results.closed_waves(rel)[0]


def _cube(rel):
    """Every cell of side × area × role level (margins ``ALL``) and its count."""
    counts: Counter = Counter()
    for t in truth(rel.id).values():
        for cell in product(*[(v, ALL) for v in t["cell"]]):
            counts[cell] += 1
    sides, areas, roles = (sorted({c[a] for c in counts} - {ALL}, key=str) for a in range(3))
    domain = (sides, areas, roles)
    return {cell: counts.get(cell, 0) for cell in product(*[[*v, ALL] for v in domain])}, domain


def _hidden_results(rel, wave):
    """The all-roles cells the stored results hide (the index block)."""
    where = {"all": ALL, "_all": ALL, "_none": None}
    return {
        (where.get(r["side"], r["side"]), where.get(r["area"], r["area"]), ALL)
        for r in results.published_rows("scores", rel, [wave])
        if r["dimension"] == INDEX and r[SUPPRESSED]
    }


def _narrowed(cube, domain, hidden, k):
    """The cells under k whose count the intruder narrows below k wide when every cell of
    the cube but ``hidden`` is shown (empty cells included)."""
    system = WaveSystem(*domain)
    system.results({cell: n for cell, n in cube.items() if cell not in hidden})
    out = []
    for cell, n in cube.items():
        if 0 < n < k:
            low, high = system.count_range(system.responses_in(cell))
            assert low <= n <= high
            if high - low < k:
                out.append((cell, low, high))
    return out


def test_the_managers_protect_the_small_group_with_every_staff_cell_shown(app, large_groups):
    rel, wave = large_groups
    k = wave.min_cell_size
    cube, domain = _cube(rel)
    small = {cell for cell, n in cube.items() if 0 < n < k}
    assert small and max(cube[c] for c in MANAGERS) == 82
    results_hide = _hidden_results(rel, wave)
    assert ("client", "contact-centre", ALL) in results_hide  # the results' partner
    assert _narrowed(cube, domain, results_hide | small | MANAGERS, k) == []
    # The check can fail: without the managers the contact-centre's roles add up to the
    # results' hidden partner, and the 2 come out exactly.
    assert ((("client", None, None), 2, 2)) in _narrowed(cube, domain, results_hide | small, k)


def test_the_role_level_filter_shows_the_staff_where_the_managers_protect(app, large_groups):
    rel, wave = large_groups
    staff = role_rows("scores", wave, ChartCache.of(rel), None)["staff"]
    hidden = [(r["side"], r["area"]) for r in staff if r["dimension"] == INDEX and r[SUPPRESSED]]
    assert hidden == []


def _group(side, area, role, n, *generalised, withheld=False):
    """A released group: ``generalised`` names the fields released as "Other"."""
    return ReleasedGroup(
        side=side,
        service_area_id=area,
        role_level=role,
        n_responses=n,
        min_cell_size=5,
        side_generalised="side" in generalised,
        area_generalised="area" in generalised,
        role_generalised="role" in generalised,
        withheld=withheld,
    )


AREAS = {1: "core-ict", 2: "contact-centre"}


def test_a_cell_is_shown_whole_only_when_the_download_s_rows_in_it_are_exactly_its_own():
    groups = [
        _group("client", 1, "staff", 20),
        _group("client", 2, "staff", 9),
        _group("client", 2, "manager", 7, "role"),  # released (client, contact-centre, Other)
        _group("supplier", 1, "staff", 6),
        _group("supplier", 2, "staff", 5, "side"),  # released (Other, contact-centre, staff)
    ]
    cells = cells_given_whole(groups, AREAS)
    # exactly released groups, and no "Other" row could be in it: shown whole
    assert cells[("client", "core-ict", "staff")] == (20, True)
    assert cells[("all", "core-ict", "staff")] == (26, True)  # both sides' staff
    assert cells[("client", "_none", "executive")] == (0, True)  # empty, and known to be
    # a member released with a field the cell names generalised: not whole
    assert cells[("client", "contact-centre", "manager")] == (7, False)
    assert cells[("client", "_all", "manager")] == (7, False)
    assert cells[("supplier", "_all", "staff")] == (11, False)
    assert cells[("supplier", "contact-centre", "staff")] == (5, False)
    # its own rows all kept, but an "Other" row could be in it (its count would place them)
    assert cells[("client", "contact-centre", "staff")] == (9, False)
    assert cells[("all", "contact-centre", "staff")] == (14, False)
    assert cells[("client", "contact-centre", "executive")] == (0, False)
    # nothing is whole when a group is withheld: it could be anywhere
    withheld = [*groups[:1], _group("supplier", 1, "staff", 2, withheld=True)]
    assert not any(whole for _, whole in cells_given_whole(withheld, AREAS).values())


def _client_cc(row) -> bool:
    return row["side"] == "client" and row["area"] == "contact-centre"


def test_the_cache_holds_published_rows_only_and_follows_the_release(app, large_groups):
    rel, wave = large_groups
    cache = ChartCache.of(rel)
    staff = [r for r in role_rows("scores", wave, cache)["staff"] if r["dimension"] == INDEX]
    assert not any(r[SUPPRESSED] for r in staff)  # audited with the release: shown
    managers = [r for r in role_rows("scores", wave, cache)["manager"] if r["dimension"] == INDEX]
    # the contact-centre's 25 managers are released as "Other": hidden
    assert [r[SUPPRESSED] for r in managers if _client_cc(r)] == [SECONDARY]
    for path in cache.folder.iterdir():  # no unpublished figure is written down
        for cut in json.loads(path.read_text(encoding="utf-8")).values():
            for row in cut:
                if row[SUPPRESSED]:
                    assert row.get("mean") is None and row.get("n") is None, path.name
    # a release that keeps every value (stored anew) shows the managers: not the cached rows
    for group in db.session.scalars(select(ReleasedGroup).where(ReleasedGroup.wave_id == wave.id)):
        group.side_generalised = group.area_generalised = group.role_generalised = False
    db.session.flush()
    managers = [r for r in role_rows("scores", wave, cache)["manager"] if r["dimension"] == INDEX]
    assert [r[SUPPRESSED] for r in managers if _client_cc(r)] == [None]


def test_a_count_that_places_released_other_rows_is_refused():
    # areas 0 and 1 × role levels 0 and 1, k = 5: the 2 of (area 0, role 1) and the 6 of
    # (area 1, role 1) are released as one group of 8 with area and role level "Other"
    codes = np.array([(0, 0)] * 10 + [(0, 1)] * 2 + [(1, 1)] * 6)
    generalised = np.zeros(codes.shape, dtype=bool)
    generalised[10:] = True
    release = Recoding(
        codes=np.where(generalised, GENERALISED, codes),
        generalised=generalised,
        withheld=np.zeros(len(codes), dtype=bool),
        k=5,
    )

    allows = counts_publishable(codes, release, [], generalise=(1, 0))

    def publishable(*cells):
        return allows(list(cells))

    assert publishable()
    # role 0 of all areas holds 10: the 8 are all role 1, in either area — the 2 stay in [0, 8]
    assert publishable((SUMMED, 0))
    # area 1 holds 6: 2 of the 8 are in area 0, role 0 or 1 — the 2 only in [0, 2]
    assert not publishable((1, SUMMED))
    assert not publishable((SUMMED, 0), (1, SUMMED))  # both: exactly 2
    assert not publishable((0, 1))  # the 2 themselves


def test_a_solver_without_an_answer_publishes_nothing_more(monkeypatch):
    # Where the linear program finds no answer (numerical trouble, an iteration limit) the
    # audit takes the safe side: the release generalises every value it can, and no further
    # count is published — never a failed job, never a group taken off the list to protect.
    import analysis.anonymity as anonymity

    codes = np.array([(0, 0)] * 10 + [(0, 1)] * 2 + [(1, 1)] * 6)
    release = anonymity.protect_release(codes, [], generalise=(1, 0), k=5)
    allows = counts_publishable(codes, release, [], generalise=(1, 0))
    assert allows([(SUMMED, 0)])  # as above, with a solver that answers

    def no_answer(*args, **kwargs):
        return SimpleNamespace(status=4, fun=None, x=None, message="numerical difficulties")

    monkeypatch.setattr(anonymity, "linprog", no_answer)
    assert not counts_publishable(codes, release, [], generalise=(1, 0))([(SUMMED, 0)])
    assert release.generalised.sum(axis=0).tolist() == [18, 8]  # the 10 keep their area
    failed = anonymity.protect_release(codes, [], generalise=(1, 0), k=5)
    assert failed.generalised.all()  # every value "Other": nothing was shown safe


def test_a_release_that_is_not_of_the_wave_s_responses_lets_no_further_count_out(app, large_groups):
    rel, wave = large_groups
    groups = list(db.session.scalars(select(ReleasedGroup).where(ReleasedGroup.wave_id == wave.id)))
    scores = results.published_rows("scores", rel, [wave])
    staff = [("client", "core-ict", "staff")]
    assert role_cell_audit(wave, groups, scores)(staff)  # shown, as above
    assert not role_cell_audit(wave, groups[1:], scores)(staff)  # a group unaccounted for
