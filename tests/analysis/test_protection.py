"""Exact audit and smallest-partner protection of two-way tables (issue 11 part A, DESIGN §4.14).

The ranges are checked against an independent computation: integer programs over the same
equations (``scipy.optimize.milp``), hidden margins as unknowns.
"""

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from analysis.suppression import PRIMARY, SECONDARY, Network, protect

SIDES = ("client", "supplier", "all")


def cube(inner):
    """A side × area table with its margins from the (2, m) inner counts, row-major over
    (client, supplier, all) × (areas..., all), and its equations."""
    inner = np.asarray(inner)
    m = inner.shape[1]
    grid = np.zeros((3, m + 1), dtype=int)
    grid[:2, :m] = inner
    grid[2] = grid[:2].sum(axis=0)
    grid[:, m] = grid[:, :m].sum(axis=1)
    at = np.arange(3 * (m + 1)).reshape(3, m + 1)
    equations = [(list(at[r, :m]), int(at[r, m])) for r in range(3)]
    equations += [(list(at[:2, c]), int(at[2, c])) for c in range(m + 1)]
    return grid.ravel(), equations, at


def integer_range(counts, equations, hidden, cell):
    """min and max of a hidden cell's count over non-negative integers (independent)."""
    cols = np.flatnonzero(hidden)
    where = {c: i for i, c in enumerate(cols)}
    a, b = [], []
    for members, total in equations:
        row, const = np.zeros(cols.size), 0.0
        for c, coef in [(m, 1.0) for m in members] + [(total, -1.0)]:
            if hidden[c]:
                row[where[c]] += coef
            else:
                const += coef * counts[c]
        a.append(row)
        b.append(-const)
    objective = np.zeros(cols.size)
    objective[where[cell]] = 1.0
    ends = []
    for sign in (1.0, -1.0):
        res = milp(
            sign * objective,
            constraints=LinearConstraint(np.array(a), b, b),
            integrality=np.ones(cols.size),
            bounds=Bounds(0, 1e6),
        )
        assert res.status == 0
        ends.append(sign * res.fun)
    return ends


@pytest.mark.parametrize("seed", range(40))
def test_the_flow_ranges_equal_integer_programs_and_protect_every_small_cell(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 7))
    inner = rng.choice([0, 1, 2, 3, 4, 6, 9, 30, 120], size=(2, m))
    counts, equations, _ = cube(inner)
    k = int(rng.integers(3, 7))
    res = protect(counts, equations, k=k)
    network = Network(equations, counts.size)
    assert np.all(res.hidden[(counts > 0) & (counts < k)])
    assert res.unprotected.size == 0
    for c in np.flatnonzero(res.hidden):
        low, high = integer_range(counts, equations, res.hidden, c)
        assert network.width(counts, res.hidden, c, 10**6) == min(high - low, 10**6)
        if 0 < counts[c] < k:
            assert high - low >= k, (inner.tolist(), c)


def test_a_small_no_area_group_on_one_side_hides_four_cells_and_no_side_total():
    # The case: 3 client staff without an area, none on the supplier side. The old
    # cascade hid every side × area cell and both side totals; one cycle of four protects.
    counts, equations, at = cube([[50, 62, 3], [60, 57, 0]])
    res = protect(counts, equations, k=5)
    assert res.hidden.sum() == 4
    assert not res.hidden[at[:2, -1]].any(), "side totals shown"
    assert res.hidden[at[0, 2]] and res.hidden[at[2, 2]]  # client and both-sides no-area
    assert res.reason[at[0, 2]] == PRIMARY
    assert sorted(set(res.reason[res.hidden])) == [PRIMARY, SECONDARY]
    # the partner is the smallest that protects: client's area of 50, not 62
    assert res.hidden[at[0, 0]] and not res.hidden[at[0, 1]]


def test_empty_cells_need_no_partner_and_linked_tables_share_one_pattern():
    counts, equations, at = cube([[0, 40, 30], [25, 35, 20]])
    assert not protect(counts, equations, k=5).hidden.any()
    other, _, _ = cube([[2, 40, 30], [25, 35, 20]])  # an item of the same groups, one small
    res = protect(np.array([counts, other]), equations, k=5)
    assert res.hidden[at[0, 0]] and res.primary[at[0, 0]]
    assert res.hidden.sum() >= 4 and res.unprotected.size == 0


def test_a_three_way_cube_and_bad_input_are_refused():
    # a cell in three equations is not a two-way table
    with pytest.raises(ValueError, match="two-way"):
        Network([([0, 1], 2), ([0, 3], 4), ([0, 5], 6)], 7)
    counts, equations, _ = cube([[3, 9]] * 2)
    with pytest.raises(ValueError, match="at least 3"):
        protect(counts, equations, k=2)
    with pytest.raises(ValueError, match="whole"):
        protect(counts + 0.5, equations, k=5)
    with pytest.raises(ValueError, match="outside"):
        protect(counts, [([0, 99], 1)], k=5)
