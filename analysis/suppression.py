r"""Disclosure control of published tables of counts (DESIGN §4.14): an audit and a protector.

A published table is a set of *cells* (groups of responses, each with its count and its sum of
scores) tied by *equations*: each margin is the sum of its members (all areas of one side; both
sides of one area; ...). Some cells are hidden. An intruder who knows every shown cell and every
equation can bound each hidden cell: its count lies in the range of a linear program over the
equations with non-negative integer counts, and its sum of scores in the range allowed by the
scale (each response scores between the scale's lowest and highest point).

* :func:`audit` — the feasible range of every hidden cell under ``k``, and whether it is
  protected (both ranges at least ``k`` wide).
* :func:`protect` — which cells to hide: every cell with ``0 < n < k`` (primary), and, until
  each is protected, the cheapest further cell that protects it (secondary). Several linked
  tables over the same cells (the items of a dimension and its score row) share one pattern.

Both split the equations into independent blocks (connected components of the graph joining
hidden cells that share an equation) and solve each linear program only over the block of its
cell, so the cost grows with the size of the blocks, not of the table.

References
----------
.. [1] Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Schulte Nordholt, E.,
       Spicer, K., & de Wolf, P.-P. (2012). *Statistical Disclosure Control*, ch. 4
       (frequency and magnitude tables; secondary suppression; linked tables). Wiley.
.. [2] de Wolf, P.-P., Hundepool, A., Giessing, S., Salazar, J.-J., & Castro, J. (2014).
       *τ-ARGUS user's manual*, version 4.1: protection levels and the audit of a
       suppression pattern (the feasible interval of every suppressed cell).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

from analysis._common import reason_array

__all__ = ["Audit", "Equation", "Protection", "audit", "protect", "protect_by_margins"]

PRIMARY = "fewer than k responses"
SECONDARY = "secondary: would reveal a suppressed cell"
MIN_K = 3
#: A bound no count or sum of scores reaches: a variable at it is unbounded in truth (kept
#: finite because HiGHS does not always tell an unbounded integer program from an infeasible one).
_UNBOUNDED = 1e9
#: Sums of scores are floating point: a range this close to k counts as k wide.
_TOLERANCE = 1e-6

#: An equation ``(members, total)``: the counts (and sums of scores) of ``members`` add up to
#: those of cell ``total``; ``total`` None when the sum is published without being a cell of
#: the table (an intruder may use it all the same).
Equation = tuple[Sequence[int], int | None]


@dataclass(frozen=True, slots=True)
class Audit:
    """What an intruder can work out about the hidden cells of one table.

    Attributes
    ----------
    low, high : ndarray of float, shape (n_cells,)
        Feasible range of each audited cell's count: NaN for cells not audited (shown cells,
        and hidden cells of ``k`` or more, which need no protection); ``high`` is ``inf``
        where nothing bounds the cell.
    sum_low, sum_high : ndarray of float, shape (n_cells,)
        Feasible range of each audited cell's sum of scores (NaN where not audited or where
        no sums were given).
    protected : ndarray of bool, shape (n_cells,)
        False only for an audited cell whose count range, or whose sum-of-scores range, is
        less than ``k`` wide.
    k : int
    """

    low: np.ndarray
    high: np.ndarray
    sum_low: np.ndarray
    sum_high: np.ndarray
    protected: np.ndarray
    k: int

    @property
    def unprotected(self) -> np.ndarray:
        """Indices of the cells an intruder can narrow to a range less than ``k`` wide."""
        return np.flatnonzero(~self.protected)


@dataclass(frozen=True, slots=True)
class Protection:
    """A suppression pattern, shared by linked tables over the same cells.

    Attributes
    ----------
    hidden : ndarray of bool, shape (n_cells,)
    primary : ndarray of bool, shape (n_cells,)
        Cells with ``0 < n < k`` in at least one of the tables.
    reason : ndarray of str, shape (n_cells,)
        ``""`` (shown), ``"fewer than k responses"`` or
        ``"secondary: would reveal a suppressed cell"``.
    unprotected : ndarray of int
        Cells under ``k`` that no pattern allowed by ``fixed`` protects: the caller must not
        publish them as they stand. Empty for every table whose cells may all be hidden.
    k : int
    """

    hidden: np.ndarray
    primary: np.ndarray
    reason: np.ndarray
    unprotected: np.ndarray
    k: int


def _k_iv(k) -> int:
    if isinstance(k, bool) or int(k) != k:
        raise ValueError(f"`k` must be an integer, got {k!r}")
    if int(k) < MIN_K:
        raise ValueError(f"`k` must be at least {MIN_K} (DESIGN §4.14), got {k}")
    return int(k)


def _whole_iv(values, name: str, ndim: int) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != ndim:
        raise ValueError(f"`{name}` must be {ndim}-D, got shape {arr.shape}")
    if arr.size and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
        raise ValueError(f"`{name}` must be whole numbers")
    if np.any(arr < 0):
        raise ValueError(f"`{name}` must be non-negative")
    return arr


def _sums_iv(sums, counts: np.ndarray, scale) -> tuple[np.ndarray | None, tuple[float, float]]:
    if sums is None:
        return None, (np.nan, np.nan)
    arr = np.asarray(sums, dtype=float)
    if arr.shape != counts.shape or not np.all(np.isfinite(arr)):
        raise ValueError(f"`sums` must be finite and shaped like `counts` {counts.shape}")
    if scale is None or len(scale) != 2 or not scale[0] < scale[1]:
        raise ValueError("`scale` must be (lowest, highest) score when `sums` are given")
    return arr, (float(scale[0]), float(scale[1]))


def _mask_iv(mask, n_cells: int, name: str) -> np.ndarray:
    if mask is None:
        return np.zeros(n_cells, dtype=bool)
    arr = np.asarray(mask, dtype=bool)
    if arr.shape != (n_cells,):
        raise ValueError(f"`{name}` must have one entry per cell ({n_cells}), got {arr.shape}")
    return arr


class _System:
    """The equations as a sparse matrix ``A`` (rows: equations, columns: cells):
    ``A @ values = constants``, where ``constants`` are the sums of the equations without a
    total cell (zero for the others)."""

    def __init__(self, equations: Sequence[Equation], n_cells: int):
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        open_rows: list[bool] = []
        for e, (members, total) in enumerate(equations):
            idx = np.asarray(members, dtype=np.int64).ravel()
            cells = idx if total is None else np.append(idx, int(total))
            if cells.size and (cells.min() < 0 or cells.max() >= n_cells):
                raise ValueError(f"equation {e} names a cell outside 0..{n_cells - 1}")
            if np.unique(cells).size != cells.size:
                raise ValueError(f"equation {e} lists a cell twice")
            rows += [e] * idx.size
            cols += idx.tolist()
            vals += [1.0] * idx.size
            if total is not None:
                rows.append(e)
                cols.append(int(total))
                vals.append(-1.0)
            open_rows.append(total is None)
        shape = (len(open_rows), n_cells)
        self.matrix = sparse.csr_matrix((vals, (rows, cols)), shape=shape)
        self.by_cell = self.matrix.tocsc()
        self.open = np.asarray(open_rows, dtype=bool)

    def constants(self, values: np.ndarray) -> np.ndarray:
        """Right-hand sides: the published sum of each equation without a total cell."""
        return np.where(self.open, self.matrix @ values, 0.0)

    def block(self, cell: int, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The hidden cells joined to ``cell`` through equations, and those equations."""
        cells, eqs, frontier = {cell}, set(), [cell]
        csr, csc = self.matrix, self.by_cell
        while frontier:
            c = frontier.pop()
            for e in csc.indices[csc.indptr[c] : csc.indptr[c + 1]].tolist():
                if e in eqs:
                    continue
                eqs.add(e)
                for m in csr.indices[csr.indptr[e] : csr.indptr[e + 1]].tolist():
                    if hidden[m] and m not in cells:
                        cells.add(m)
                        frontier.append(m)
        return np.array(sorted(cells), dtype=np.int64), np.array(sorted(eqs), dtype=np.int64)

    def neighbours(self, cells: np.ndarray) -> np.ndarray:
        """Every cell sharing an equation with one of ``cells``."""
        eqs = np.unique(self.by_cell[:, cells].tocoo().row)
        return np.unique(self.matrix[eqs].tocoo().col)


class _Table:
    """One table's values and equations, with the feasible ranges of its hidden cells."""

    def __init__(self, system: _System, counts, sums, scale, k: int):
        self.system, self.counts, self.sums, self.scale, self.k = system, counts, sums, scale, k
        self.count_rhs = system.constants(counts)
        self.sum_rhs = None if sums is None else system.constants(sums)

    def _lp(self, cells, eqs, hidden, values, rhs):
        a = self.system.matrix[eqs]
        shown = ~hidden
        b = rhs[eqs] - a[:, shown] @ values[shown]
        return a[:, cells].toarray(), b

    def ranges(self, cell: int, hidden: np.ndarray) -> tuple[float, float, float, float]:
        """(low, high) of the count of hidden ``cell``, then of its sum of scores."""
        cells, eqs = self.system.block(cell, hidden)
        if eqs.size == 0:
            return 0.0, np.inf, 0.0, np.inf
        n, target = cells.size, int(np.searchsorted(cells, cell))
        if n == 1:  # alone in its equations: each gives it away
            value = float(self.counts[cell])
            total = np.nan if self.sums is None else float(self.sums[cell])
            return value, value, total, total
        a, b = self._lp(cells, eqs, hidden, self.counts, self.count_rhs)
        objective = np.zeros(n)
        objective[target] = 1.0
        # The linear relaxation first: its range holds the integer one, so a range under k
        # is final; a wide one is confirmed over integers.
        low, high = _extremes(objective, a, b, None, None, None)
        if high - low >= self.k - _TOLERANCE:
            low, high = _extremes(objective, a, b, None, None, np.ones(n))
        if self.sums is None:
            return low, high, np.nan, np.nan
        a_s, b_s = self._lp(cells, eqs, hidden, self.sums, self.sum_rhs)
        zero = np.zeros_like(a)
        eye = np.eye(n)
        lo, hi = self.scale
        a_ub = np.block([[lo * eye, -eye], [-hi * eye, eye]])  # lo·x ≤ S ≤ hi·x
        objective = np.zeros(2 * n)
        objective[n + target] = 1.0
        s_low, s_high = _extremes(
            objective,
            np.block([[a, zero], [zero, a_s]]),
            np.concatenate([b, b_s]),
            a_ub,
            np.zeros(2 * n),
            None,
        )
        return low, high, s_low, s_high

    def protects(self, cell: int, hidden: np.ndarray) -> tuple[bool, float]:
        """Whether ``cell`` is protected under ``hidden``, and its narrower range's width."""
        low, high, s_low, s_high = self.ranges(cell, hidden)
        width = high - low
        if self.sums is not None:
            width = min(width, s_high - s_low)
        return bool(width >= self.k - _TOLERANCE), float(width)


def _extremes(objective, a_eq, b_eq, a_ub, b_ub, integrality) -> tuple[float, float]:
    """Minimum and maximum of ``objective @ x`` over ``a_eq x = b_eq, a_ub x ≤ b_ub, x ≥ 0``
    (HiGHS; integer where ``integrality``)."""
    out = []
    for sign in (1.0, -1.0):
        res = optimize.linprog(
            sign * objective,
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a_eq,
            b_eq=b_eq,
            bounds=(0, _UNBOUNDED),
            method="highs",
            integrality=integrality,
        )
        if res.status != 0:  # infeasible: the published figures contradict each other
            raise ValueError("the published cells and equations are inconsistent")
        out.append(sign * res.fun)
    high = np.inf if out[1] >= _UNBOUNDED / 2 else out[1]
    return float(out[0]), float(high)


def audit(
    counts,
    equations: Sequence[Equation],
    hidden,
    *,
    k: int = 5,
    sums=None,
    scale: tuple[float, float] | None = None,
) -> Audit:
    r"""Feasible range of every hidden cell under ``k``, as an intruder can work it out.

    Parameters
    ----------
    counts : array_like of int, shape (n_cells,)
        Responses behind each cell (the true values, hidden ones included).
    equations : sequence of (members, total)
        The published relations: ``sum(counts[members]) == counts[total]`` (``total`` None:
        the sum is published elsewhere and known).
    hidden : array_like of bool, shape (n_cells,)
        Cells not published.
    k : int, optional
        Minimum cell size (default 5; below 3 is refused, DESIGN §4.14).
    sums : array_like of float, shape (n_cells,), optional
        Each cell's sum of scores (count × mean): the sums obey the same equations.
    scale : (float, float), optional
        The lowest and highest score one response can have (needed with ``sums``).

    Returns
    -------
    Audit

    Notes
    -----
    For each hidden cell :math:`c` with :math:`0 < n_c < k`, over the hidden cells :math:`x`
    of its block (shown cells are constants),

    .. math:: \min / \max\; x_c \quad\text{s.t.}\quad A x = b,\; x \ge 0,\; x \in \mathbb{Z},

    and, with sums :math:`S` and the scale :math:`[l, h]`, :math:`\min/\max S_c` subject to the
    same equations for :math:`S` and :math:`l x \le S \le h x` (continuous). The cell is
    protected when both ranges are at least :math:`k` wide (a protection level of :math:`k`
    on each side of the interval in τ-Argus's terms is more than this; a width of :math:`k`
    is the classical rule that the hidden cells of a row add up to at least :math:`k`) [1]_ [2]_.
    """
    k = _k_iv(k)
    counts = _whole_iv(counts, "counts", 1)
    sums, scale = _sums_iv(sums, counts, scale)
    hidden = _mask_iv(hidden, counts.size, "hidden")
    table = _Table(_System(equations, counts.size), counts, sums, scale, k)
    shape = counts.shape
    low, high = np.full(shape, np.nan), np.full(shape, np.nan)
    s_low, s_high = np.full(shape, np.nan), np.full(shape, np.nan)
    protected = np.ones(shape, dtype=bool)
    for c in np.flatnonzero(hidden & (counts > 0) & (counts < k)).tolist():
        low[c], high[c], s_low[c], s_high[c] = table.ranges(c, hidden)
        width = high[c] - low[c]
        if sums is not None:
            width = min(width, s_high[c] - s_low[c])
        protected[c] = width >= k - _TOLERANCE
    return Audit(low, high, s_low, s_high, protected, k)


def protect(
    counts,
    equations: Sequence[Equation],
    *,
    k: int = 5,
    sums=None,
    scale: tuple[float, float] | None = None,
    hidden=None,
    fixed=None,
    cost=None,
) -> Protection:
    r"""The smallest-partner suppression pattern that protects every cell under ``k``.

    Parameters
    ----------
    counts : array_like of int, shape (n_tables, n_cells) or (n_cells,)
        Linked tables over the same cells (the items of one dimension and its score row):
        they share one pattern, so that no table shows what another hides.
    equations : sequence of (members, total)
        As :func:`audit`; the same for every table.
    k : int, optional
        Minimum cell size (default 5, at least 3).
    sums : array_like, shaped as ``counts``, optional
        Sums of scores; ``scale`` then gives one response's lowest and highest score.
    hidden : array_like of bool, shape (n_cells,), optional
        Cells hidden whatever their size (already withheld elsewhere).
    fixed : array_like of bool, shape (n_cells,), optional
        Cells whose state may not change (published already): never chosen as partners.
    cost : array_like of float, shape (n_cells,), optional
        What hiding a cell loses; partners are tried cheapest first. Default: its largest
        count over the tables, so that a margin (never smaller than its members) is hidden
        only when no smaller cell protects.

    Returns
    -------
    Protection

    Notes
    -----
    Primary suppression hides every cell with :math:`0 < n < k` in any table; an empty cell
    reveals nobody, is shown and needs no partner. Then each primary cell is audited
    (:func:`audit`) in each table where it is under :math:`k`; while it is not protected,
    the cells sharing an equation with its block are tried as partners, cheapest first, and
    the first that protects it is hidden (if none does alone, the one that widens its range
    most, and the audit repeats). Hiding a cell only widens the feasible ranges of the
    others, so a cell once protected stays protected and one pass suffices. This is the
    sequential heuristic of [1]_ ch. 4 with the audit of [2]_; the pattern is not proven
    minimal, but every partner is the cheapest one that works at its step.
    """
    k = _k_iv(k)
    counts = _whole_iv(counts, "counts", np.ndim(counts))
    if counts.ndim == 1:
        counts = counts[None, :]
        sums = None if sums is None else np.asarray(sums, dtype=float)[None, :]
    if counts.ndim != 2:
        raise ValueError(f"`counts` must be 1-D or 2-D, got shape {counts.shape}")
    n_cells = counts.shape[1]
    if sums is not None:
        sums = np.asarray(sums, dtype=float)
        _sums_iv(sums, counts, scale)
    scale_pair = None if sums is None else (float(scale[0]), float(scale[1]))
    forced = _mask_iv(hidden, n_cells, "hidden")
    fixed = _mask_iv(fixed, n_cells, "fixed")
    cost = counts.max(axis=0) if cost is None else np.asarray(cost, dtype=float)
    system = _System(equations, n_cells)
    small = (counts > 0) & (counts < k)
    primary = small.any(axis=0)
    mask = (primary & ~fixed) | forced
    stuck: list[int] = []
    seen: set[bytes] = set()
    for t in range(counts.shape[0]):
        key = counts[t].tobytes() + (b"" if sums is None else sums[t].tobytes())
        if key in seen:
            continue
        seen.add(key)
        table = _Table(system, counts[t], None if sums is None else sums[t], scale_pair, k)
        for c in np.flatnonzero(small[t] & mask).tolist():
            if not _partner(table, system, c, mask, fixed, counts, cost):
                stuck.append(c)
    reason = reason_array((n_cells,))
    reason[mask] = SECONDARY
    reason[primary & mask] = PRIMARY
    return Protection(mask, primary, reason, np.unique(np.asarray(stuck, dtype=np.int64)), k)


def _partner(table: _Table, system: _System, cell: int, mask, fixed, counts, cost) -> bool:
    """Hide partners (in ``mask``, in place) until ``cell`` is protected; False if it cannot be."""
    ok, _ = table.protects(cell, mask)
    while not ok:
        block, _ = system.block(cell, mask)
        options = system.neighbours(block)
        options = options[~mask[options] & ~fixed[options] & (counts[:, options].max(axis=0) > 0)]
        if options.size == 0:
            return False
        options = options[np.lexsort((options, cost[options]))]
        best, best_width = int(options[0]), -1.0
        for option in options.tolist():
            mask[option] = True
            ok, width = table.protects(cell, mask)
            mask[option] = False
            if ok:
                best = option
                break
            if width > best_width:
                best, best_width = option, width
        mask[best] = True
    return True


def protect_by_margins(
    counts,
    equations: Sequence[Equation],
    *,
    k: int = 5,
    hidden=None,
    fixed=None,
) -> Protection:
    r"""A fast, conservative pattern for tables computed on request, checked by :func:`audit`.

    Parameters are as :func:`protect` (counts only, no sums). Where :func:`protect` tests
    partner candidates one at a time with linear programs (thousands per cube), this rule
    chooses partners from the equations alone and runs the audit once at the end:

    1. hide every cell with :math:`0 < n < k` (primary) and every ``hidden`` cell;
    2. for every equation (its members and its total) in which the hidden members add up to
       fewer than :math:`k` responses while some cell of it is hidden — including a lone
       hidden cell, which the equation gives away exactly — hide the smallest shown, not
       ``fixed`` cell of that equation with a response, members before the total;
       repeat until no equation changes;
    3. audit the pattern: the integer range of each hidden cell under :math:`k`, as
       :func:`audit`, except that a cell already seen to vary by :math:`k` or more between
       two whole-number solutions of its block's equations needs no program of its own.

    Any cell the audit still finds narrower than :math:`k` is reported in ``unprotected``:
    the caller must then hide more (the dashboard hides every role cell of the block). The
    rule hides more than :func:`protect` at times — it never tries a cheaper partner that
    works through another equation — which is the price of answering a page in seconds.
    This is the classical "at least two suppressions per line, their sum at least k" rule of
    [1]_ ch. 4, made safe by the audit of [2]_.
    """
    k = _k_iv(k)
    counts = _whole_iv(counts, "counts", np.ndim(counts))
    if counts.ndim == 1:
        counts = counts[None, :]
    if counts.ndim != 2:
        raise ValueError(f"`counts` must be 1-D or 2-D, got shape {counts.shape}")
    n_cells = counts.shape[1]
    forced = _mask_iv(hidden, n_cells, "hidden")
    fixed = _mask_iv(fixed, n_cells, "fixed")
    small = (counts > 0) & (counts < k)
    primary = small.any(axis=0)
    mask = (primary & ~fixed) | forced
    largest = counts.max(axis=0)
    least = counts.min(axis=0)
    changed = True
    while changed:
        changed = False
        for members, total in equations:
            members = list(members)
            cells = members + ([] if total is None else [int(total)])
            if not mask[cells].any():
                continue
            hidden_members = [m for m in members if mask[m]]
            if len(hidden_members) >= 2 and least[hidden_members].sum() >= k:
                continue
            if not hidden_members and total is not None and mask[total] and len(members) < 2:
                continue
            options = [c for c in cells if not mask[c] and not fixed[c] and largest[c] > 0]
            if not options:
                continue
            options.sort(key=lambda c: (c == total, largest[c], c))
            mask[options[0]] = True
            changed = True
    system = _System(equations, n_cells)
    stuck: list[int] = []
    for t in range(counts.shape[0]):
        table = _Table(system, counts[t], None, None, k)
        stuck += _exposed(table, np.flatnonzero(mask & small[t]).tolist(), mask)
    reason = reason_array((n_cells,))
    reason[mask] = SECONDARY
    reason[primary & mask] = PRIMARY
    return Protection(mask, primary, reason, np.unique(np.asarray(stuck, dtype=np.int64)), k)


def _exposed(table: _Table, small: list[int], hidden: np.ndarray) -> list[int]:
    """The cells of ``small`` (hidden, under k) whose count range is under ``k`` wide.

    The audit of :func:`audit`, with a shortcut: integer solutions of the block's equations
    (the true counts, and those minimising and maximising the small cells' total) are
    feasible tables, so a cell that differs by ``k`` or more between two of them is protected
    without a program of its own; only the others get their exact range.
    """
    out: list[int] = []
    done: set[int] = set()
    for c in small:
        if c in done:
            continue
        cells, eqs = table.system.block(c, hidden)
        members = [m for m in small if m in set(cells.tolist())]
        done.update(members)
        low = high = table.counts[cells].astype(float)
        if eqs.size and cells.size > 1:
            a, b = table._lp(cells, eqs, hidden, table.counts, table.count_rhs)
            for point in _solutions(np.isin(cells, members).astype(float), a, b):
                low, high = np.minimum(low, point), np.maximum(high, point)
        for m in members:
            at = int(np.searchsorted(cells, m))
            for sign in (-1.0, 1.0):
                if high[at] - low[at] >= table.k - _TOLERANCE or cells.size == 1:
                    break
                objective = np.zeros(cells.size)
                objective[at] = 1.0
                for point in _solutions(objective, a, b, signs=(sign,)):
                    low, high = np.minimum(low, point), np.maximum(high, point)
            if high[at] - low[at] < table.k - _TOLERANCE and not table.protects(m, hidden)[0]:
                out.append(m)
    return out


def _solutions(objective, a_eq, b_eq, signs=(1.0, -1.0)) -> list[np.ndarray]:
    """Integer solutions of ``a_eq x = b_eq, x ≥ 0`` minimising (sign 1) and maximising
    (sign -1) ``objective`` (the linear program's vertex when it is whole, else the integer
    program's)."""
    out = []
    for sign in signs:
        for integrality in (None, np.ones(objective.size)):
            res = optimize.linprog(
                sign * objective,
                A_eq=a_eq,
                b_eq=b_eq,
                bounds=(0, _UNBOUNDED),
                method="highs",
                integrality=integrality,
            )
            if res.status != 0:
                break
            x = np.asarray(res.x, dtype=float)
            if np.all(np.abs(x - np.round(x)) < 1e-7):
                out.append(np.round(x))
                break
    return out
