"""Disclosure audit and protector (DESIGN §4.14), checked against brute-force enumeration of
every table of counts consistent with what is published (independent of the linear programs)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import suppression


def _two_way(body):
    """A rows × columns table with its row totals, column totals and grand total as cells.

    Returns counts (row-major, totals last in each row, a totals row last) and equations.
    """
    body = np.asarray(body)
    r, c = body.shape
    full = np.zeros((r + 1, c + 1), dtype=int)
    full[:r, :c] = body
    full[:r, c] = body.sum(axis=1)
    full[r, :] = full[:r, :].sum(axis=0)
    idx = np.arange((r + 1) * (c + 1)).reshape(r + 1, c + 1)
    eqs = [(idx[i, :c].tolist(), int(idx[i, c])) for i in range(r + 1)]
    eqs += [(idx[:r, j].tolist(), int(idx[r, j])) for j in range(c + 1)]
    return full.ravel(), eqs


def _brute_ranges(counts, eqs, hidden, limit):
    """Range of every hidden cell over all non-negative integer tables (cells ≤ ``limit``)
    that agree with the shown cells and the equations: plain enumeration, no LP."""
    counts = np.asarray(counts)
    cells = np.flatnonzero(hidden)
    grid = np.indices((limit + 1,) * cells.size).reshape(cells.size, -1).T
    x = np.repeat(counts[None, :], grid.shape[0], axis=0)
    x[:, cells] = grid
    ok = np.ones(grid.shape[0], dtype=bool)
    for members, total in eqs:
        ok &= x[:, list(members)].sum(axis=1) == x[:, total]
    feasible = x[ok]
    return (
        {c: feasible[:, c].min() for c in cells},
        {c: feasible[:, c].max() for c in cells},
    )


def test_a_lone_hidden_cell_is_recovered_by_subtraction():
    counts, eqs = [1, 6, 7, 14], [([0, 1, 2], 3)]
    res = suppression.audit(counts, eqs, [True, False, False, False])
    assert (res.low[0], res.high[0]) == (1, 1)
    assert res.unprotected.tolist() == [0]


def test_a_hidden_margin_is_an_unknown_not_a_known_constant():
    # Hiding the small cell and the row total: the row is x0 + 6 + 7 = t, nothing fixes x0
    # unless the column equations do; here nothing does.
    counts, eqs = [1, 6, 7, 14], [([0, 1, 2], 3)]
    res = suppression.audit(counts, eqs, [True, False, False, True])
    assert res.protected.all() and res.high[0] == np.inf


def test_empty_cells_are_shown_and_need_no_partner():
    counts, eqs = _two_way([[0, 40], [30, 20]])
    res = suppression.protect(counts, eqs, k=5)
    assert not res.hidden.any()


def test_the_partner_is_the_smallest_cell_that_protects():
    # Row: 2 + 3 + 9 + 40 = 54. Hiding 2 and 3 leaves a sum of 5 (enough for k = 5 only if
    # both are hidden together); the rule must not reach for the 40 or the total.
    counts, eqs = [2, 3, 9, 40, 54], [([0, 1, 2, 3], 4)]
    res = suppression.protect(counts, eqs, k=5)
    assert res.hidden.tolist() == [True, True, False, False, False]
    counts, eqs = [2, 9, 7, 40, 58], [([0, 1, 2, 3], 4)]
    res = suppression.protect(counts, eqs, k=5)
    assert res.hidden.tolist() == [True, False, True, False, False]
    assert res.reason.tolist()[:3] == [suppression.PRIMARY, "", suppression.SECONDARY]


def test_side_totals_stay_shown_when_a_cell_protects():
    # The case: one side has 3 responses without an area, the other none.
    body = [[40, 35, 3, 34], [45, 40, 0, 32]]  # columns: two areas, no area, ...
    counts, eqs = _two_way(body)
    res = suppression.protect(counts, eqs, k=5)
    totals = [4, 9, 14]  # the row totals and the grand total
    assert not res.hidden[totals].any()
    assert suppression.audit(counts, eqs, res.hidden).protected.all()


def test_linked_tables_share_one_pattern():
    # Two items over the same cells: each hides its own small cell, and so the other's.
    counts = np.array([[3, 40, 43], [20, 2, 22]])
    eqs = [([0, 1], 2)]
    res = suppression.protect(counts, eqs, k=5)
    assert res.hidden.tolist() == [True, True, False]


def test_fixed_cells_are_never_partners_and_unprotectable_cells_are_reported():
    counts, eqs = [2, 40, 42], [([0, 1], 2)]
    res = suppression.protect(counts, eqs, k=5, fixed=[False, True, True])
    assert res.hidden.tolist() == [True, False, False]
    assert res.unprotected.tolist() == [0]


def test_sums_of_scores_are_audited_on_the_scale():
    # Two hidden cells of 1 and 6 in a shown total of 7 whose mean is 5 on a 1..5 scale:
    # everyone scored 5, so the hidden cells' sums are fixed by their counts' range only.
    counts, eqs = [1, 6, 7], [([0, 1], 2)]
    res = suppression.audit(counts, eqs, [True, True, False], sums=[5.0, 30.0, 35.0], scale=(1, 5))
    assert res.sum_low[0] == pytest.approx(0.0) and res.sum_high[0] == pytest.approx(35.0)
    assert res.protected.all()


@pytest.mark.parametrize("k", [0, 1, 2, 2.5, True])
def test_k_below_three_or_not_whole_is_refused(k):
    with pytest.raises(ValueError, match="k"):
        suppression.protect([1, 2, 3], [([0, 1], 2)], k=k)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="whole"):
        suppression.audit([1.5, 2, 3.5], [([0, 1], 2)], [True, False, False])
    with pytest.raises(ValueError, match="non-negative"):
        suppression.audit([-1, 2, 1], [([0, 1], 2)], [True, False, False])
    with pytest.raises(ValueError, match="outside"):
        suppression.audit([1, 2, 3], [([0, 5], 2)], [True, False, False])
    with pytest.raises(ValueError, match="twice"):
        suppression.audit([1, 2, 3], [([0, 0], 2)], [True, False, False])
    with pytest.raises(ValueError, match="one entry per cell"):
        suppression.audit([1, 2, 3], [([0, 1], 2)], [True])
    with pytest.raises(ValueError, match="scale"):
        suppression.audit([1, 2, 3], [([0, 1], 2)], [True, True, False], sums=[1, 2, 3])


small_tables = st.lists(
    st.lists(st.integers(0, 6), min_size=2, max_size=3), min_size=2, max_size=2
).filter(lambda rows: len({len(r) for r in rows}) == 1)


@settings(max_examples=40, deadline=None)
@given(small_tables)
def test_the_audit_agrees_with_enumeration(body):
    counts, eqs = _two_way(body)
    hidden = (counts > 0) & (counts < 5)
    hidden[-1] = False
    limit = int(counts.max())
    if not 0 < hidden.sum() <= 4:
        return
    res = suppression.audit(counts, eqs, hidden, k=5)
    low, high = _brute_ranges(counts, eqs, hidden, limit)
    for c in np.flatnonzero(hidden & (counts > 0) & (counts < 5)):
        assert res.low[c] == low[c]
        if res.high[c] <= limit:
            assert res.high[c] == high[c]


@settings(max_examples=40, deadline=None)
@given(small_tables)
def test_after_protection_enumeration_finds_no_small_cell_narrowed_below_k(body):
    counts, eqs = _two_way(np.asarray(body) * 2)
    res = suppression.protect(counts, eqs, k=3)
    assert res.unprotected.size == 0
    hidden = res.hidden
    cells = np.flatnonzero(hidden)
    if not 0 < cells.size <= 4:
        return
    limit = int(counts.max()) + 3  # a cell reaching the cap is unbounded in truth
    low, high = _brute_ranges(counts, eqs, hidden, limit)
    for c in np.flatnonzero(hidden & (counts > 0) & (counts < 3)):
        assert high[c] - low[c] >= 3 or high[c] == limit


def _three_way(body):
    """A sides × areas × roles cube with every margin as a cell (the dashboard's role cuts)."""
    body = np.asarray(body)
    shape = tuple(s + 1 for s in body.shape)
    full = np.zeros(shape, dtype=int)
    full[: body.shape[0], : body.shape[1], : body.shape[2]] = body
    for axis in range(3):
        last = [slice(None)] * 3
        last[axis] = -1
        full[tuple(last)] = np.take(full, range(shape[axis] - 1), axis=axis).sum(axis=axis)
    idx = np.arange(full.size).reshape(shape)
    eqs = []
    for axis in range(3):
        moved = np.moveaxis(idx, axis, -1).reshape(-1, shape[axis])
        eqs += [(line[:-1].tolist(), int(line[-1])) for line in moved]
    return full.ravel(), eqs


cubes = st.integers(0, 2**32 - 1).map(
    lambda seed: np.random.default_rng(seed).choice([0, 1, 2, 3, 6, 9, 15, 30], size=(2, 3, 3))
)


@settings(max_examples=25, deadline=None)
@given(cubes)
def test_the_fast_role_cut_rule_reports_exactly_what_the_full_audit_finds(body):
    # protect_by_margins certifies most cells by whole-number solutions instead of their own
    # programs: what it calls unprotected must be what the exact audit (every range) finds.
    counts, eqs = _three_way(body)
    fixed = np.zeros(counts.size, dtype=bool)
    res = suppression.protect_by_margins(counts, eqs, k=5, fixed=fixed)
    assert np.all(res.hidden[(counts > 0) & (counts < 5)])
    exact = suppression.audit(counts, eqs, res.hidden, k=5)
    assert set(res.unprotected.tolist()) == set(exact.unprotected.tolist())


def test_the_fast_rule_hides_a_partner_beside_a_lone_small_cell():
    counts, eqs = _two_way([[2, 8], [9, 7]])
    res = suppression.protect_by_margins(counts, eqs, k=5)
    assert res.unprotected.size == 0
    assert res.hidden.sum() == 4  # the 2, its row and column partners, and the opposite cell
    assert suppression.audit(counts, eqs, res.hidden, k=5).unprotected.size == 0
