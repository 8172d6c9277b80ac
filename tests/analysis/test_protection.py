"""Exact audit and smallest-partner protection of two-way tables (issue 11 part A, DESIGN §4.14).

The ranges are checked against an independent computation: integer programs over the same
equations (``scipy.optimize.milp``), hidden margins as unknowns.
"""

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from analysis.suppression import PRIMARY, SECONDARY, LinearAudit, Magnitude, Network, protect

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


def integer_range(counts, equations, hidden, cell, lower=None):
    """min and max of a hidden cell's count over non-negative integers (independent), each
    at least its ``lower`` bound."""
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
            bounds=Bounds(0 if lower is None else np.asarray(lower)[cols], 1e6),
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


@pytest.mark.parametrize("seed", range(30))
def test_with_lower_bounds_known_elsewhere_every_small_cell_keeps_a_range_k_wide(seed):
    # A response-rate monitor's submitted invitations naming an area are at least the
    # responses there: each side × area cell gets a random bound at most its count, the
    # side totals are known (fixed), and the ranges are checked with those bounds.
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 6))
    inner = rng.choice([0, 1, 2, 3, 4, 6, 9, 30], size=(2, m))
    counts, equations, at = cube(inner)
    lower = np.zeros_like(counts)
    named = at[:2, :m].ravel()
    lower[named] = np.floor(counts[named] * rng.choice([0.0, 0.5, 0.9, 1.0], size=named.size))
    fixed = np.zeros(counts.size, dtype=bool)
    fixed[at[:2, m]] = counts[at[:2, m]] >= 5
    res = protect(counts, equations, k=5, lower=lower, fixed=fixed)
    assert not np.any(res.hidden & fixed)
    for c in np.flatnonzero(res.hidden & (counts > 0) & (counts < 5)):
        low, high = integer_range(counts, equations, res.hidden, c, lower)
        assert high - low >= 5 or c in res.unprotected, (inner.tolist(), lower.tolist(), c)


def test_a_partner_that_a_lower_bound_pins_is_not_chosen():
    # Client: 1 in area 0, 20 in area 1; supplier: 16 in area 0, 14 in area 1. Without
    # bounds the supplier's area 0 (16) is the cheapest partner, but its 16 submitted
    # invitations say it holds at least 16: it cannot fall, so the 1 would be exact.
    counts, equations, at = cube([[1, 20], [16, 14]])
    lower = np.zeros_like(counts)
    lower[at[1, 0]] = 16
    plain = protect(counts, equations, k=5)
    low, high = integer_range(counts, equations, plain.hidden, at[0, 0], lower)
    assert high - low < 5  # the attack works on the pattern that ignores the bound
    res = protect(counts, equations, k=5, lower=lower)
    low, high = integer_range(counts, equations, res.hidden, at[0, 0], lower)
    assert high - low >= 5
    assert res.unprotected.size == 0


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


def test_a_pattern_asked_for_again_is_the_same_and_each_caller_s_own():
    # protect keeps the patterns it found by their exact inputs: a repeated question gets
    # the same answer in arrays of its own, and a table one count apart gets its own answer.
    counts, equations, at = cube([[50, 62, 3], [60, 57, 0]])
    cycle = {int(at[0, 2]), int(at[2, 2]), int(at[0, 0]), int(at[2, 0])}  # the 50's cycle
    first = protect(counts, equations, k=5)
    first.hidden[:] = True  # a caller changing its copy changes nothing for the next
    again = protect(counts.copy(), [(np.array(m), t) for m, t in equations], k=5)
    assert set(np.flatnonzero(again.hidden).tolist()) == cycle
    assert again.reason[at[0, 2]] == PRIMARY and again.reason[at[0, 0]] == SECONDARY
    # client's area 0 now 70: its area 1 (62) is the cheaper partner
    other, _, _ = cube([[70, 62, 3], [60, 57, 0]])
    res = protect(other, equations, k=5)
    assert set(np.flatnonzero(res.hidden).tolist()) == {
        int(at[0, 2]),
        int(at[2, 2]),
        int(at[0, 1]),
        int(at[2, 1]),
    }


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


# ------------------------------------------------------------------------------------------
# Sums beside the counts (issue 11 part 1: τ-Argus protection levels). The intruder's own
# program over counts and sums: ``linprog`` for the linear relaxation, ``milp`` with integer
# counts, written from the equations, not from the protector's flows.


def sum_range(counts, sums, equations, hidden, cell, low, high, *, integer, of_count=False):
    """min and max of hidden ``cell``'s sum (``of_count``: its count) given the shown counts
    and sums (independent)."""
    cols = np.flatnonzero(hidden)
    where = {c: i for i, c in enumerate(cols)}
    h = cols.size
    a, lo_b, up_b = [], [], []
    for values, offset in ((counts, 0), (sums, h)):
        for members, total in equations:
            row, const = np.zeros(2 * h), 0.0
            for c, coef in [(m, 1.0) for m in members] + [(total, -1.0)]:
                if hidden[c]:
                    row[offset + where[c]] += coef
                else:
                    const += coef * values[c]
            if row.any():
                a.append(row)
                lo_b.append(-const - 1e-9)
                up_b.append(-const + 1e-9)
    for i in range(h):  # low·n <= s <= high·n
        row = np.zeros(2 * h)
        row[h + i], row[i] = 1.0, -high
        a.append(row), lo_b.append(-np.inf), up_b.append(0.0)
        row = np.zeros(2 * h)
        row[h + i], row[i] = -1.0, low
        a.append(row), lo_b.append(-np.inf), up_b.append(0.0)
    c = np.zeros(2 * h)
    c[(0 if of_count else h) + where[cell]] = 1.0
    ends = []
    for sign in (1.0, -1.0):
        if integer:
            res = milp(
                sign * c,
                constraints=LinearConstraint(np.array(a), lo_b, up_b),
                integrality=np.r_[np.ones(h), np.zeros(h)],
                bounds=Bounds(0, 1e6),
            )
        else:
            a_ub = np.vstack([np.array(a), -np.array(a)])
            b_ub = np.r_[up_b, -np.array(lo_b)]
            finite = np.isfinite(b_ub)
            res = linprog(sign * c, A_ub=a_ub[finite], b_ub=b_ub[finite], bounds=(0, 1e6))
        assert res.status == 0, res.message
        ends.append(sign * res.fun)
    return ends[0], ends[1]


def seeded(rng, m, low, high):
    inner = rng.integers(0, 12, size=(2, m))
    inner[rng.random((2, m)) < 0.4] = rng.integers(1, 4)
    counts, equations, at = cube(inner)
    base = np.zeros((2, m))
    for (r, c), n in np.ndenumerate(inner):  # integer sums of n units on [low, high]
        base[r, c] = n * low + rng.integers(0, int((high - low) * n) + 1)
    grid = np.zeros((3, m + 1))
    grid[:2, :m] = base
    grid[2] = grid[:2].sum(axis=0)
    grid[:, m] = grid[:, :m].sum(axis=1)
    return counts, grid.ravel(), equations


@pytest.mark.parametrize("seed", range(12))
def test_flow_sum_range_is_the_linear_programmes(seed):
    rng = np.random.default_rng(seed)
    low, high = (1.0, 5.0) if seed % 2 else (0.0, 1.0)
    counts, sums, equations = seeded(rng, int(rng.integers(2, 5)), low, high)
    hidden = rng.random(counts.size) < 0.45
    network, audit = Network(equations, counts.size), LinearAudit(equations, counts.size)
    m = Magnitude(0, counts, sums, low, high)
    for cell in np.flatnonzero(hidden & (counts > 0)):
        for width, integer in ((network.sum_width, False), (audit.sum_width, True)):
            lo, hi = sum_range(counts, sums, equations, hidden, cell, low, high, integer=integer)
            got = width(m, hidden, cell, 1e9)
            if hi - lo > 1e5:  # unbounded (the independent program stops at 10⁶ a cell)
                assert got > 40  # LinearAudit bounds a count by the table's total
            else:
                assert got == pytest.approx(hi - lo, abs=1e-6)


def test_a_partner_that_frees_the_count_can_leave_the_sum_pinned():
    # Areas of 3, 6 and 20 people: hiding the 3 and the 6 leaves the 3's count free over
    # 0..9, but none of the nine answered favourably, so its favourable count is 0 exactly
    # (a range under k = 5 answers): a third cell must be hidden.
    counts, equations = np.array([3, 6, 20, 29]), [([0, 1, 2], 3)]
    favourable = np.array([0.0, 0.0, 12.0, 12.0])
    alone = protect(counts, equations, k=5)
    assert alone.hidden.tolist() == [True, True, False, False]
    both = protect(counts, equations, k=5, sums=[Magnitude(0, counts, favourable, 0.0, 1.0)])
    assert both.hidden.tolist() == [True, True, True, False]


def test_the_protection_level_of_a_mean_s_sum_is_k_scale_points():
    # All nine in the hidden 3 and 6 answered 1: the 3's score sum ranges over 0..9 with
    # its count, 9 points ≥ k = 5 (a bar of k × (K − 1) = 20 would hide the 20 too).
    counts, equations = np.array([3, 6, 20, 29]), [([0, 1, 2], 3)]
    sums = np.array([3.0, 6.0, 60.0, 69.0])
    both = protect(counts, equations, k=5, sums=[Magnitude(0, counts, sums, 1.0, 5.0)])
    assert both.hidden.tolist() == [True, True, False, False]


@pytest.mark.parametrize("seed", range(8))
def test_no_hidden_sum_under_k_is_narrower_than_k_points(seed):
    rng = np.random.default_rng(100 + seed)
    k = 5
    low, high = (1.0, 5.0) if seed % 2 else (0.0, 1.0)
    counts, sums, equations = seeded(rng, int(rng.integers(2, 5)), low, high)
    res = protect(counts, equations, k=k, sums=[Magnitude(0, counts, sums, low, high)])
    for cell in np.flatnonzero(res.hidden & (counts > 0) & (counts < k)):
        lo, hi = sum_range(counts, sums, equations, res.hidden, cell, low, high, integer=True)
        assert hi - lo >= k - 1e-6 or cell in res.unprotected


def test_a_sum_that_does_not_add_up_is_refused():
    counts, equations = np.array([3, 6, 9]), [([0, 1], 2)]
    with pytest.raises(ValueError, match="add up"):
        protect(counts, equations, sums=[Magnitude(0, counts, np.array([3.0, 6.0, 10.0]), 1, 5)])
    with pytest.raises(ValueError, match="outside"):
        protect(counts, equations, sums=[Magnitude(0, counts, np.array([1.0, 6.0, 7.0]), 1, 5)])


# ------------------------------------------------------------------------------------------
# The counts' audit over the counts' and the sums' equations together (issue 11: with
# answers of at least 1 and at most K, n ≤ sum ≤ K·n, so shown sums bound hidden counts).

# seeded(np.random.default_rng(8), 3, 1, 5): the counts alone hide the four 3s, whose
# rectangle moves by ±3, but the client's first 3 has a sum of 15 (all answered 5), so it
# cannot shrink: 3..6.
RECTANGLE_COUNTS = np.array([3, 3, 11, 17, 3, 3, 7, 13, 6, 6, 18, 30])
RECTANGLE_SUMS = np.array([15.0, 6, 49, 70, 6, 4, 12, 22, 21, 10, 61, 92])


def test_the_sums_bound_a_count_the_counts_alone_leave_k_wide():
    counts, equations, _ = cube([[3, 3, 11], [3, 3, 7]])
    assert counts.tolist() == RECTANGLE_COUNTS.tolist()
    alone = protect(counts, equations, k=5)
    assert alone.hidden.tolist() == [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    assert integer_range(counts, equations, alone.hidden, 0) == [0, 6]
    means = sum_range(
        counts, RECTANGLE_SUMS, equations, alone.hidden, 0, 1, 5, integer=True, of_count=True
    )
    assert means == pytest.approx((3, 6))
    both = protect(counts, equations, k=5, sums=[Magnitude(0, counts, RECTANGLE_SUMS, 1, 5)])
    assert both.hidden.sum() > alone.hidden.sum() and both.unprotected.size == 0
    for cell in np.flatnonzero(both.hidden & (counts > 0) & (counts < 5)):
        lo, hi = sum_range(
            counts, RECTANGLE_SUMS, equations, both.hidden, cell, 1, 5, integer=True, of_count=True
        )
        assert hi - lo >= 5 - 1e-6


@pytest.mark.parametrize("seed", range(16))
def test_every_hidden_count_under_k_keeps_k_given_the_sums(seed):
    # 7 of the first 30 seeds were narrowed below k by the counts' audit alone.
    rng = np.random.default_rng(seed)
    k = 5
    counts, sums, equations = seeded(rng, int(rng.integers(2, 4)), 1.0, 5.0)
    res = protect(counts, equations, k=k, sums=[Magnitude(0, counts, sums, 1.0, 5.0)])
    for cell in np.flatnonzero(res.hidden & (counts > 0) & (counts < k)):
        for of_count in (True, False):
            lo, hi = sum_range(
                counts, sums, equations, res.hidden, cell, 1, 5, integer=True, of_count=of_count
            )
            assert hi - lo >= k - 1e-6 or cell in res.unprotected


@pytest.mark.parametrize("seed", range(10))
def test_the_count_ranges_given_the_sums_bound_and_equal_the_programmes(seed):
    # Flows: never narrower than the linear programme (an upper bound, so a count they
    # call unprotected is); LinearAudit: the integer programme's range exactly.
    rng = np.random.default_rng(200 + seed)
    counts, sums, equations = seeded(rng, int(rng.integers(2, 5)), 1.0, 5.0)
    hidden = rng.random(counts.size) < 0.45
    network, audit = Network(equations, counts.size), LinearAudit(equations, counts.size)
    m = Magnitude(0, counts, sums, 1.0, 5.0)
    zero = np.zeros(counts.size)
    for cell in np.flatnonzero(hidden & (counts > 0)):
        args = (counts, sums, equations, hidden, cell, 1, 5)
        lo, hi = sum_range(*args, integer=False, of_count=True)
        assert network.count_width(counts, zero, [m], hidden, cell, 1e9) >= hi - lo - 1e-6
        lo, hi = sum_range(*args, integer=True, of_count=True)
        assert audit.count_width(counts, hidden, cell, 100, sums=[m]) == min(100, round(hi - lo))


def test_a_feasible_table_with_sums_and_lower_bounds_does_not_stop_the_solver():
    # Found by seeded search (seed 351): with the sums' real variables left free, HiGHS
    # answered "Solve error" (status 4) on this feasible program, so protect() raised and
    # a wave closing with such a table would have failed. The sums now carry the bounds
    # their own constraints imply (l·n ≤ s ≤ h·n, n ≤ the program's bound on a count).
    counts, equations, _ = cube([[1, 2, 2], [0, 2, 7]])
    sums = np.array([2.0, 10, 2, 14, 0, 8, 7, 15, 2, 18, 9, 29])
    lower = np.zeros(counts.size)
    lower[[2, 7]] = [1, 4]
    res = protect(counts, equations, k=5, sums=[Magnitude(0, counts, sums, 1, 5)], lower=lower)
    assert res.unprotected.size == 0
    assert res.hidden[(counts > 0) & (counts < 5)].all()
