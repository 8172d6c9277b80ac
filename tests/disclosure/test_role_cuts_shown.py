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

from collections import Counter
from itertools import product

import pytest

from survey_app.extensions import db
from survey_app.models import Relationship
from survey_app.services import results
from survey_app.services.dashboard.charts import ChartCache
from survey_app.services.dashboard.role_cuts import role_rows
from survey_app.services.results import INDEX, SUPPRESSED
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


@pytest.mark.xfail(
    strict=True,
    reason="the role cube's partition rule (results.partition_reasons, the three-way fallback "
    "of suppression_reasons) hides published all-roles cells, and _suppressed_role_cube then "
    "hides every role cell of the block (its `conflict` clause), staff 200 included",
)
def test_the_role_level_filter_shows_the_staff_where_the_managers_protect(app, large_groups):
    rel, wave = large_groups
    staff = role_rows("scores", wave, ChartCache.of(rel), None)["staff"]
    hidden = [(r["side"], r["area"]) for r in staff if r["dimension"] == INDEX and r[SUPPRESSED]]
    assert hidden == []
