"""The published equations of a table as a linear system, audited by integer programs
(DESIGN §4.14, issue 11): the exact audit where the flows of :class:`analysis.suppression.Network`
do not apply (a three-way cube), the sums published beside the counts (τ-Argus protection
intervals), and the counts those sums bound (Hundepool et al. 2012, ch. 4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

__all__ = ["LinearAudit", "Magnitude"]


def _equation_matrix(equations: Sequence, n_cells: int) -> np.ndarray:
    """Each equation ``(members, total)`` as a row: +1 for its members, −1 for its total."""
    matrix = np.zeros((len(equations), n_cells))
    for e, (members, total) in enumerate(equations):
        idx = [int(m) for m in members]
        cells = idx + ([] if total is None else [int(total)])
        if any(c < 0 or c >= n_cells for c in cells):
            raise ValueError(f"equation {e} names a cell outside 0..{n_cells - 1}")
        if len(set(cells)) != len(cells):
            raise ValueError(f"equation {e} lists a cell twice")
        matrix[e, idx] = 1.0
        if total is not None:
            matrix[e, int(total)] = -1.0
    return matrix


@dataclass(frozen=True, slots=True)
class Magnitude:
    r"""A sum published beside one of the linked count tables (a magnitude table).

    Each of the ``counts[c]`` units of cell ``c`` (a response's dimension score, an item
    answer, an answer's favourable indicator) contributes a value in ``[low, high]``;
    ``sums[c]`` is their total (mean × n of a shown cell; the favourable share × answers).

    Attributes
    ----------
    table : int
        The row of ``protect``'s ``counts`` whose cells under ``k`` this sum must protect.
    counts : ndarray of int, shape (n_cells,)
        Units behind each cell's sum (may differ from ``counts[table]``: answers, not people).
    sums : ndarray of float, shape (n_cells,)
    low, high : float
        The range of one unit's value (the scale's 1 and K; 0 and 1 for a share).
    """

    table: int
    counts: np.ndarray
    sums: np.ndarray
    low: float
    high: float


class LinearAudit:
    r"""The published equations as a linear system over any table (a three-way cube too),
    solved as integer programs: the exact audit where :class:`Network` does not apply, and
    the audit of sums.

    Each equation :math:`\sum_{members} x - x_{total} = 0` holds for the counts and for
    every sum published beside them (a margin's mean × n is the sum of its members'). Hidden
    cells are unknowns, shown cells constants. For a sum :math:`s_c` over :math:`n_c` units
    with values in :math:`[l, h]`, :math:`l\,n_c \le s_c \le h\,n_c` (the protection
    intervals of τ-Argus [1]_): the intruder's feasible set is the integer counts and real
    sums satisfying the equations and those bounds, and the range of a hidden cell's sum is
    its minimum and maximum there (scipy's HiGHS ``milp``, counts integer).

    *Why a range at least* :math:`k` *wide* (the protection level, on the sum's own scale:
    :math:`k` scale points for a mean × n, :math:`k` answers for a share × answers): a cell's
    count range at least :math:`k` wide says the intruder cannot tell the group from one
    :math:`k` people larger or smaller; a sum range at least :math:`k` points wide is more
    than :math:`n` points for a group of :math:`n < k`, so it cannot be closed by knowing
    each member's answer to within a point (spread over the group, more than one whole point
    of its mean, :math:`k / n > 1`). For a share, :math:`k` answers is :math:`k` units
    (:math:`h - l = 1`). The range is that of the counts and sums together, not at the true
    count: with scores of at least 1, a count that the published counts and sums let reach
    both 0 and :math:`k` already gives its sum a range of :math:`k` points, so the means'
    audit adds partners mainly where they do not; a count known from outside the published
    figures (a manager who knows the team's size) is not assumed.

    References
    ----------
    .. [1] Hundepool et al. (2012), *Statistical Disclosure Control*, ch. 4 (sensitivity
           rules, protection levels and the audit of magnitude tables); de Wolf, P.-P.
           et al., *τ-Argus user's manual* (protection intervals).
    """

    def __init__(self, equations: Sequence, n_cells: int):
        self.matrix = _equation_matrix(equations, n_cells)
        self.n_cells = n_cells

    def _system(self, hidden: np.ndarray, values: list[np.ndarray]):
        """The equations with hidden columns, and their right-hand sides for ``values``."""
        cols = np.flatnonzero(hidden)
        rows = np.flatnonzero(np.any(self.matrix[:, cols] != 0, axis=1))
        a = self.matrix[np.ix_(rows, cols)]
        shown = self.matrix[np.ix_(rows, np.flatnonzero(~hidden))]
        rhs = [-shown @ v[~hidden] for v in values]
        return cols, a, rhs

    def count_width(
        self,
        counts: np.ndarray,
        hidden: np.ndarray,
        cell: int,
        k: int,
        *,
        sums: Sequence[Magnitude] = (),
        lower=None,
    ) -> int:
        r"""High − low of the hidden ``cell``'s integer count, capped at ``k``: over the
        counts' equations alone, or with ``sums`` (each over the same counts) over the
        counts' and the sums' equations together with :math:`l\,n \le s \le h\,n` per
        cell (sums real), and each count at least its ``lower`` bound."""
        counts = np.asarray(counts, dtype=float)
        cols, a, (b, *b_sums) = self._system(hidden, [counts, *(m.sums for m in sums)])
        h, q = cols.size, len(sums)
        big = float(counts.sum() + k)
        floor = np.zeros(h) if lower is None else np.asarray(lower, dtype=float)[cols]
        blocks = [np.hstack([a, np.zeros((a.shape[0], h * q))])]
        lows, highs = [b], [b]
        for j, m in enumerate(sums):  # A s = b_s; l n − s ≤ 0; s − h n ≤ 0
            pad = [np.zeros((a.shape[0], h * j)), a, np.zeros((a.shape[0], h * (q - j - 1)))]
            blocks.append(np.hstack([np.zeros_like(a), *pad]))
            eye = np.zeros((h, h * q))
            eye[:, h * j : h * (j + 1)] = np.eye(h)
            blocks += [np.hstack([m.low * np.eye(h), -eye]), np.hstack([-m.high * np.eye(h), eye])]
            lows += [b_sums[j], np.full(2 * h, -np.inf)]
            highs += [b_sums[j], np.zeros(2 * h)]
        matrix = np.vstack(blocks)
        # each sum lies within its cell's l·n and h·n, n ≤ big: finite bounds, without which
        # HiGHS can fail on a feasible program ("Solve error") with free real variables
        s_low = np.concatenate([np.full(h, min(0.0, m.low) * big) for m in sums] or [[]])
        s_high = np.concatenate([np.full(h, max(0.0, m.high) * big) for m in sums] or [[]])
        tol = 1e-7 * (1.0 + np.abs(np.concatenate(highs)))  # published means carry rounding
        program = {
            "constraints": [LinearConstraint(matrix, np.concatenate(lows) - tol,
                                             np.concatenate(highs) + tol)] if matrix.size else [],
            "integrality": np.r_[np.ones(h), np.zeros(h * q)],
            "bounds": Bounds(np.r_[floor, s_low], np.r_[np.full(h, big), s_high]),
        }  # fmt: skip
        target = np.zeros(h * (1 + q))
        target[np.searchsorted(cols, cell)] = 1.0
        high = -_solve(-target, program)
        if high - counts[cell] >= k:
            return k
        return int(min(k, round(high - _solve(target, program))))

    def sum_width(self, magnitude: Magnitude, hidden: np.ndarray, cell: int, need: float) -> float:
        """High − low of the hidden ``cell``'s sum, counts integer and sums real; stops at
        ``need`` once the maximum alone is that far above the true sum."""
        m = magnitude
        cols, a, (b_n, b_s) = self._system(hidden, [m.counts.astype(float), m.sums])
        h, eye = cols.size, np.eye(cols.size)
        zeros = np.zeros_like(a)
        matrix = np.vstack(
            [np.hstack([-m.high * eye, eye]), np.hstack([m.low * eye, -eye]),
             np.hstack([a, zeros]), np.hstack([zeros, a])]
        )  # fmt: skip
        upper = np.r_[np.zeros(2 * h), b_n, b_s]
        lower = np.r_[np.full(2 * h, -np.inf), b_n, b_s]
        big = float(m.counts.sum()) + self.n_cells
        program = {
            "constraints": LinearConstraint(matrix, lower, upper),
            "integrality": np.r_[np.ones(h), np.zeros(h)],
            "bounds": Bounds(np.zeros(2 * h), np.r_[np.full(h, big), np.full(h, big * m.high)]),
        }
        target = np.zeros(2 * h)
        target[h + np.searchsorted(cols, cell)] = 1.0
        high = -_solve(-target, program)
        if high - m.sums[cell] >= need:
            return high - m.sums[cell]
        return high - _solve(target, program)

    def touching(self, cell: int, hidden: np.ndarray) -> np.ndarray:
        """Cells sharing an equation with the block of hidden cells joined to ``cell``."""
        member = self.matrix != 0
        block = np.zeros(self.n_cells, dtype=bool)
        block[cell] = True
        while True:
            equations = member[:, block].any(axis=1)
            grown = block | (member[equations].any(axis=0) & hidden)
            if np.array_equal(grown, block):
                return member[equations].any(axis=0)
            block = grown


def _solve(target, program: dict) -> float:
    """The minimum of ``target · x`` (the true values are feasible: only numerical trouble
    fails)."""
    res = milp(target, **program)
    if res.status != 0:
        raise ValueError(f"the audit's integer program failed: {res.message}")
    return float(res.fun)
