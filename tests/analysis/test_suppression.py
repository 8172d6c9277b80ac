"""Primary and secondary suppression of small cells (DESIGN §4.14)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import linprog

from analysis.suppression import suppression_mask

PRIMARY = "fewer than k responses"
SECONDARY = "secondary: would reveal a suppressed cell"


def grid_partitions(n_rows, n_cols):
    """Rows and columns of a table stored row-major, each adding up to a published margin."""
    cells = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
    return [cells[r] for r in range(n_rows)] + [cells[:, c] for c in range(n_cols)]


def suppressed(table):  # type: ignore[no-untyped-def]
    """A drawn table's counts, k, row and column partitions, and what suppression hides."""
    counts, n_rows, n_cols, k = table
    partitions = grid_partitions(n_rows, n_cols)
    return counts, k, partitions, suppression_mask(counts, partitions, k=k)


def test_cells_below_k_are_suppressed_and_empty_cells_are_shown():
    res = suppression_mask([0, 1, 4, 5, 12], [], k=5)
    np.testing.assert_array_equal(res.mask, [False, True, True, False, False])
    assert list(res.reason) == ["", PRIMARY, PRIMARY, "", ""]


def test_a_lone_suppressed_cell_takes_the_smallest_other_cell_of_its_partition_with_it():
    # total 2 + 9 + 7 + 30 is published: 2 alone would be total minus the shown cells
    res = suppression_mask([2, 9, 7, 30], [np.arange(4)], k=5)
    np.testing.assert_array_equal(res.mask, [True, False, True, False])
    assert list(res.reason) == [PRIMARY, "", SECONDARY, ""]


def test_suppressed_cells_adding_up_to_fewer_than_k_take_another_cell_with_them():
    # 1 + 2 = 3 < 5 would be recovered as a group: hide the next smallest (6) as well
    res = suppression_mask([1, 2, 6, 8, 20], [np.arange(5)], k=5)
    np.testing.assert_array_equal(res.mask, [True, True, True, False, False])


def test_secondary_suppression_cascades_across_crossing_partitions():
    # sides x areas; 2 forces a partner in its row and in its column, and those in theirs.
    counts = np.array([[2, 10, 12], [8, 9, 30]]).ravel()
    res = suppression_mask(counts, grid_partitions(2, 3), k=5)
    np.testing.assert_array_equal(res.mask.reshape(2, 3), [[1, 1, 0], [1, 1, 0]])
    assert not res.recoverable.any() and res.unprotected_partitions.size == 0


def test_a_partition_whose_total_is_itself_small_is_reported():
    res = suppression_mask([3, 0, 0], [np.arange(3)], k=5)
    assert res.mask[0] and not res.mask[1:].any()
    np.testing.assert_array_equal(res.unprotected_partitions, [0])
    assert res.recoverable[0]


@pytest.mark.parametrize("k", [0, 1, 2, 2.5, True])
def test_k_below_three_or_not_whole_is_refused(k):
    with pytest.raises(ValueError, match="k"):
        suppression_mask([1, 2], [], k=k)


def test_k_of_three_is_allowed():
    res = suppression_mask([2, 3], [], k=3)
    np.testing.assert_array_equal(res.mask, [True, False])


def test_bad_counts_and_partitions_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        suppression_mask([-1, 2], [])
    with pytest.raises(ValueError, match="outside"):
        suppression_mask([1, 2], [np.array([0, 2])])
    with pytest.raises(ValueError, match="twice"):
        suppression_mask([1, 2], [np.array([0, 0])])


tables = st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(3, 10)).flatmap(
    lambda rck: st.tuples(
        hnp.arrays(
            np.int64, rck[0] * rck[1], elements=st.one_of(st.integers(0, 12), st.integers(0, 3))
        ),
        st.just(rck[0]),
        st.just(rck[1]),
        st.just(rck[2]),
    )
)


@settings(max_examples=200, deadline=None)
@given(tables)
def test_no_partition_gives_away_a_suppressed_cell_by_subtraction(table):
    counts, k, partitions, res = suppressed(table)
    assert np.all(res.mask[(counts > 0) & (counts < k)])
    assert not np.any(res.mask[counts == 0])
    for p, part in enumerate(partitions):
        hidden = part[res.mask[part]]
        if hidden.size == 0 or p in res.unprotected_partitions:
            continue
        # total minus the shown cells is the sum of the hidden ones: it must not single out
        # one cell, nor be a group smaller than k
        assert hidden.size >= 2
        assert counts[hidden].sum() >= k


@settings(max_examples=60, deadline=None)
@given(tables)
def test_no_suppressed_small_cell_is_pinned_down_by_the_published_margins(table):
    # Independent audit by linear programming: each hidden cell's range over all
    # non-negative tables with the same shown cells and margins must not be a single value.
    counts, k, partitions, res = suppressed(table)
    hidden = np.flatnonzero(res.mask)
    if hidden.size == 0:
        return
    a_eq = np.array([[1.0 if c in part else 0.0 for c in hidden] for part in partitions])
    b_eq = np.array([counts[part][res.mask[part]].sum() for part in partitions], float)
    for j, c in enumerate(hidden):
        if not res.primary[c] or res.recoverable[c]:
            continue
        objective = np.zeros(hidden.size)
        objective[j] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None)).fun
        high = -linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None)).fun
        assert high - low > 1e-6, f"cell {c} with count {counts[c]} is recoverable"


@settings(max_examples=200, deadline=None)
@given(tables)
def test_a_small_cell_stays_recoverable_only_when_some_published_total_is_itself_small(table):
    counts, k, _, res = suppressed(table)
    if res.recoverable.any():
        assert res.unprotected_partitions.size > 0
