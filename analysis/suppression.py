"""Small-cell suppression for published counts and the statistics built on them (DESIGN §4.14)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np

from analysis._common import N_, reason_array
from analysis.linear_audit import LinearAudit, Magnitude, _equation_matrix

__all__ = [
    "LinearAudit",
    "Magnitude",
    "Network",
    "Protection",
    "SuppressionResult",
    "protect",
    "suppression_mask",
]

# marked N_: a published row's ``suppressed`` reason is shown in the reader's language
PRIMARY = N_("fewer than k responses")
SECONDARY = N_("secondary: would reveal a suppressed cell")
MIN_K = 3


@dataclass(frozen=True, slots=True)
class SuppressionResult:
    """Which cells to hide, and why.

    Attributes
    ----------
    mask : ndarray of bool, shape (n_cells,)
        True for every cell to suppress (primary or secondary).
    primary : ndarray of bool, shape (n_cells,)
        Cells with ``0 < count < k``.
    reason : ndarray of str, shape (n_cells,)
        ``""`` (shown), ``"fewer than k responses"`` or
        ``"secondary: would reveal a suppressed cell"``.
    unprotected_partitions : ndarray of int
        Indices of partitions whose suppressed cells still add up to fewer than ``k`` after
        every non-zero cell in them is hidden: their *total* is disclosive and must itself be
        suppressed by the caller (e.g. a margin that is not one of the cells).
    recoverable : ndarray of bool, shape (n_cells,)
        Suppressed primary cells whose value can still be worked out exactly from the
        partition totals and the shown cells (only when there was nothing left to hide; the
        caller must then suppress the totals involved).
    k : int
        The threshold used.
    """

    mask: np.ndarray
    primary: np.ndarray
    reason: np.ndarray
    unprotected_partitions: np.ndarray
    recoverable: np.ndarray
    k: int


def _suppression_iv(counts, partitions, k):
    if isinstance(k, bool) or int(k) != k:
        raise ValueError(f"`k` must be an integer, got {k!r}")
    k = int(k)
    if k < MIN_K:
        raise ValueError(f"`k` must be at least {MIN_K} (DESIGN §4.14), got {k}")
    counts = np.asarray(counts)
    if counts.ndim != 1:
        raise ValueError(f"`counts` must be 1-D, got shape {counts.shape}")
    if counts.size and (
        not np.issubdtype(counts.dtype, np.integer)
        and not (np.all(np.isfinite(counts)) and np.all(counts == np.round(counts)))
    ):
        raise ValueError("`counts` must be whole numbers")
    counts = counts.astype(np.int64)
    if np.any(counts < 0):
        raise ValueError("`counts` must be non-negative")
    n_cells = counts.size
    members, part_id = [], []
    for p, part in enumerate(partitions):
        idx = np.asarray(part)
        if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise ValueError(f"partition {p} must be a 1-D array of cell indices")
        idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= n_cells):
            raise ValueError(f"partition {p} has a cell index outside 0..{n_cells - 1}")
        if np.unique(idx).size != idx.size:
            raise ValueError(f"partition {p} lists a cell twice")
        members.append(idx)
        part_id.append(np.full(idx.size, p, dtype=np.int64))
    n_parts = len(members)
    cells = np.concatenate(members) if members else np.zeros(0, np.int64)
    pids = np.concatenate(part_id) if part_id else np.zeros(0, np.int64)
    return counts, cells, pids, n_parts, k


def suppression_mask(counts, partitions: Sequence, *, k: int = 5) -> SuppressionResult:
    r"""Primary and secondary suppression of small cells.

    Parameters
    ----------
    counts : array_like of int, shape (n_cells,)
        Responses behind each published cell.
    partitions : sequence of array_like of int
        Each a set of cell indices whose counts add up to a published total (all areas of one
        side; both sides of one area; ...). A cell may belong to several partitions.
    k : int, optional
        Minimum cell size (default 5; below 3 is refused, DESIGN §4.14).

    Returns
    -------
    SuppressionResult

    Notes
    -----
    *Primary*: a cell with :math:`0 < n < k` is suppressed (an empty cell reveals nobody and
    is shown).

    *Secondary*, repeated until nothing changes: in a partition :math:`P` with suppressed cells
    :math:`S \subseteq P`, the sum :math:`\sum_{c \in S} n_c` equals the published total minus
    the shown cells. It is disclosive when :math:`|S| = 1` (the cell itself is recovered) or
    when :math:`\sum_{c\in S} n_c < k` (a group smaller than :math:`k` is recovered). Such a
    partition also hides its smallest shown non-zero cell (ties: lowest index). All needy
    partitions are served in the same pass, with array operations over the concatenated
    partitions.

    This is the row/column rule of tabular disclosure control [1]_ [2]_. In a table with
    several crossing partitions a suppressed cell can in principle still be pinned down by
    combining equations from different partitions; after the rule converges each suppressed
    primary cell is therefore also audited: it is exactly recoverable iff its unit vector lies
    in the row space of the partition–hidden-cell incidence matrix :math:`A`
    (:math:`\operatorname{rank}[A; e_c] = \operatorname{rank} A`). Because every hidden cell is
    non-zero, a cell that is not in the row space can move both ways within the non-negative
    solutions, so its value is not determined. A recoverable cell gets the smallest shown
    non-zero cell of one of its partitions hidden too, and the rule runs again.

    References
    ----------
    .. [1] Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Schulte Nordholt,
           E., Spicer, K., & de Wolf, P.-P. (2012). *Statistical Disclosure Control*, ch. 4.
           Chichester: Wiley.
    .. [2] Office for National Statistics / Government Statistical Service (2021).
           *Statistical disclosure control guidance for tables*.
    """
    counts, cells, pids, n_parts, k = _suppression_iv(counts, partitions, k)
    primary = (counts > 0) & (counts < k)
    mask = primary.copy()
    unprotected = np.zeros(n_parts, dtype=bool)

    while True:
        changed, unprotected = _secondary_pass(counts, cells, pids, n_parts, k, mask)
        if changed:
            continue
        if not _audit_pass(counts, cells, pids, n_parts, primary, mask):
            break
    recoverable = _determined(counts, cells, pids, n_parts, mask, primary)

    reason = reason_array(counts.shape)
    reason[mask] = SECONDARY
    reason[primary] = PRIMARY
    return SuppressionResult(
        mask=mask,
        primary=primary,
        reason=reason,
        unprotected_partitions=np.flatnonzero(unprotected),
        recoverable=recoverable,
        k=k,
    )


def _secondary_pass(counts, cells, pids, n_parts, k, mask):
    """One pass of the partition rule; updates ``mask`` in place. Returns (changed, stuck)."""
    hidden = mask[cells]
    n_hidden = np.bincount(pids, weights=hidden, minlength=n_parts)
    hidden_sum = np.bincount(pids, weights=np.where(hidden, counts[cells], 0), minlength=n_parts)
    needy = (n_hidden >= 1) & ((n_hidden == 1) | (hidden_sum < k))

    candidate = ~hidden & (counts[cells] > 0) & needy[pids]
    has_candidate = np.bincount(pids, weights=candidate, minlength=n_parts) > 0
    stuck = needy & ~has_candidate
    if not candidate.any():
        return False, stuck
    c_cells, c_pids = cells[candidate], pids[candidate]
    order = np.lexsort((c_cells, counts[c_cells], c_pids))
    c_cells, c_pids = c_cells[order], c_pids[order]
    first = np.ones(c_pids.size, dtype=bool)
    first[1:] = c_pids[1:] != c_pids[:-1]
    mask[c_cells[first]] = True
    return True, stuck


def _determined(counts, cells, pids, n_parts, mask, targets) -> np.ndarray:
    """Which hidden ``targets`` cells are fixed by the partition totals and the shown cells.

    Cell ``c`` is determined iff ``e_c`` lies in the row space of the partition × hidden-cell
    incidence matrix, i.e. appending ``e_c`` does not raise the rank.
    """
    out = np.zeros(counts.size, dtype=bool)
    hidden_cells = np.flatnonzero(mask)
    targets = np.flatnonzero(targets & mask)
    if targets.size == 0:
        return out
    col = np.full(counts.size, -1, dtype=np.int64)
    col[hidden_cells] = np.arange(hidden_cells.size)
    on = mask[cells]
    incidence = np.zeros((n_parts + 1, hidden_cells.size))
    incidence[pids[on], col[cells[on]]] = 1.0
    rank = np.linalg.matrix_rank(incidence[:n_parts]) if n_parts else 0
    for c in targets:  # a handful of small cells; each test is one small SVD
        incidence[n_parts] = 0.0
        incidence[n_parts, col[c]] = 1.0
        out[c] = np.linalg.matrix_rank(incidence) == rank
    return out


def _audit_pass(counts, cells, pids, n_parts, primary, mask) -> bool:
    """Hide one more cell if some hidden primary cell is determined; True if mask changed."""
    determined = _determined(counts, cells, pids, n_parts, mask, primary)
    for c in np.flatnonzero(determined):
        # Hide the smallest shown non-zero cell sharing a partition with c.
        in_parts = np.isin(pids, pids[cells == c]) & ~mask[cells] & (counts[cells] > 0)
        if not in_parts.any():
            continue  # nothing left to hide; reported as `recoverable`
        options = np.unique(cells[in_parts])
        mask[options[np.lexsort((options, counts[options]))[0]]] = True
        return True
    return False


# ------------------------------------------------------------------------------------------
# Two-way tables with margins: exact ranges by maximum flow, smallest partners (issue 11).


@dataclass(frozen=True, slots=True)
class Protection:
    """A suppression pattern shared by linked tables over the same cells.

    Attributes
    ----------
    hidden : ndarray of bool, shape (n_cells,)
    primary : ndarray of bool, shape (n_cells,)
        Cells with ``0 < n < k`` in at least one of the tables.
    reason : ndarray of str, shape (n_cells,)
        ``""`` (shown), :data:`PRIMARY` or :data:`SECONDARY`.
    unprotected : ndarray of int
        Cells under ``k`` that no pattern allowed by ``fixed`` protects (the caller must not
        publish them as they stand); empty whenever every cell may be hidden.
    k : int
    """

    hidden: np.ndarray
    primary: np.ndarray
    reason: np.ndarray
    unprotected: np.ndarray
    k: int


class Network:
    r"""The published equations of a table whose every cell lies in at most two of them,
    as a flow network (the two-way side × area table with its margins, a one-way table).

    Each equation :math:`\sum_{members} x - x_{total} = b` is a node; scaling every node by
    :math:`\sigma = \pm 1` so that each cell has coefficient +1 at one end and −1 at the
    other makes the table a network matrix: each cell is an arc (tail → head) carrying its
    count as a flow, and a cell in one equation only runs to a *ground* node that no
    equation binds. Hidden cells are the unknown flows; shown cells are constants.

    The feasible values of a hidden cell's count (non-negative integers satisfying every
    equation; the matrix is totally unimodular, so the linear and integer ranges agree)
    are then: up by the maximum flow from its head back to its tail through the other
    hidden arcs (forward capacity unbounded, backward capacity the arc's count), down by
    the same from tail to head, and never below zero [1]_ [2]_.

    Raises ValueError when a cell lies in three equations or the signs cannot be made a
    network (a three-way cube: use :func:`suppression_mask` there).

    References
    ----------
    .. [1] Hundepool et al. (2012), *Statistical Disclosure Control*, ch. 4 (the audit of a
           suppression pattern; networks for two-dimensional tables).
    .. [2] Cox, L. H. (1980). Suppression methodology and statistical disclosure control.
           *JASA* 75(370), 377–385.
    """

    GROUND = -1

    def __init__(self, equations: Sequence, n_cells: int):
        matrix = _equation_matrix(equations, n_cells)
        ends: list[list[tuple[int, int]]] = [
            [(int(e), int(matrix[e, c])) for e in np.flatnonzero(matrix[:, c])]
            for c in range(n_cells)
        ]
        sigma = np.zeros(len(equations), dtype=np.int64)
        neighbours: dict[int, list[tuple[int, int]]] = {}
        for cell_ends in ends:
            if len(cell_ends) > 2:
                raise ValueError("a cell lies in more than two equations: not a two-way table")
            if len(cell_ends) == 2:
                (e1, a1), (e2, a2) = cell_ends
                neighbours.setdefault(e1, []).append((e2, -a1 * a2))
                neighbours.setdefault(e2, []).append((e1, -a1 * a2))
        for start in range(len(equations)):
            if sigma[start]:
                continue
            sigma[start], stack = 1, [start]
            while stack:
                e = stack.pop()
                for f, rel in neighbours.get(e, ()):
                    want = sigma[e] * rel
                    if sigma[f] == 0:
                        sigma[f] = want
                        stack.append(f)
                    elif sigma[f] != want:
                        raise ValueError("the equations do not form a network")
        self.tail = np.full(n_cells, self.GROUND, dtype=np.int64)
        self.head = np.full(n_cells, self.GROUND, dtype=np.int64)
        for c, cell_ends in enumerate(ends):
            for e, a in cell_ends:
                if sigma[e] * a > 0:
                    self.tail[c] = e
                else:
                    self.head[c] = e
        self.n_cells = n_cells

    def width(self, counts: np.ndarray, hidden: np.ndarray, cell: int, k: int) -> int:
        """How far the count of hidden ``cell`` can move (high − low of its feasible range),
        capped at ``k``."""
        return int(round(self.spread(np.asarray(counts, dtype=float), hidden, cell, k)))

    def spread(self, values: np.ndarray, hidden: np.ndarray, cell: int, cap: float) -> float:
        """High − low of hidden ``cell``'s value over the non-negative real flows through the
        hidden arcs (``values`` the true flows), capped at ``cap``."""
        down, up = self.reach(values, hidden, cell, cap, stop=True)
        return float(min(cap, up + down))

    def reach(
        self, values: np.ndarray, hidden: np.ndarray, cell: int, cap: float, stop: bool = False
    ) -> tuple[float, float]:
        """How far hidden ``cell``'s value can move down and up over the non-negative real
        flows through the hidden arcs, each capped at ``cap`` (``stop``: down not computed,
        0, once up reaches ``cap``)."""
        tail, head = int(self.tail[cell]), int(self.head[cell])
        if tail == head:  # in no equation, or a loop through the ground: unbounded
            return min(float(cap), float(values[cell])), float(cap)
        arcs = np.flatnonzero(hidden)
        arcs = arcs[arcs != cell]
        residual: dict[int, dict[int, float]] = {}
        for e in arcs.tolist():
            u, v = int(self.tail[e]), int(self.head[e])
            if u == v:
                continue
            residual.setdefault(u, {})
            residual.setdefault(v, {})
            residual[u][v] = np.inf
            residual[v][u] = residual[v].get(u, 0.0) + float(values[e])
        up = min(float(cap), _max_flow(residual, head, tail, cap))
        if stop and up >= cap:
            return 0.0, up
        return min(float(values[cell]), float(cap), _max_flow(residual, tail, head, cap)), up

    def count_width(self, counts, lower, sums: Sequence[Magnitude], hidden, cell: int, cap):
        r"""An upper bound on high − low of hidden ``cell``'s count given the sums published
        beside the counts (``sums``, each over the same counts) and the ``lower`` bounds,
        capped at ``cap``.

        Each relaxation alone has the true feasible set inside its own: the counts with
        :math:`x \ge` ``lower`` (flows of :math:`x - lower`, integer and exact), and for
        each sum the counts :math:`x = (t + r)/w` of :meth:`sum_width`'s independent
        flows :math:`t = s - l\,x` and :math:`r = h\,x - s` (real counts; with scores
        :math:`\ge 1`, :math:`x \le s`, so a hidden margin's published sum caps its hidden
        members' counts). The count can go no higher than the lowest of their highs and no
        lower than the highest of their lows; a bound below ``k`` proves a count unprotected,
        one well above it is taken as protected, and in between the integer program decides
        (:meth:`analysis.linear_audit.LinearAudit.count_width`)."""
        counts = np.asarray(counts, dtype=float)
        down, up = self.reach(counts - np.minimum(counts, lower), hidden, cell, cap)
        for m in sums:
            w = m.high - m.low
            t = np.maximum(m.sums - m.low * counts, 0.0)
            r = np.maximum(m.high * counts - m.sums, 0.0)
            t_down, t_up = self.reach(t, hidden, cell, cap * w)
            r_down, r_up = self.reach(r, hidden, cell, cap * w)
            down, up = min(down, (t_down + r_down) / w), min(up, (t_up + r_up) / w)
        return float(min(cap, down + up))

    def sum_width(self, magnitude: Magnitude, hidden: np.ndarray, cell: int, need: float) -> float:
        r"""High − low of hidden ``cell``'s sum over the linear relaxation (counts real).

        With :math:`w = h - l`, write each sum as :math:`s = l\,n + t` and
        :math:`h\,n - s = r`: then :math:`t, r \ge 0` are flows of this same network
        (right-hand sides from the shown cells), every pair of them gives the counts
        :math:`n = (t + r)/w \ge 0` satisfying the count equations and
        :math:`l n \le s \le h n`, and conversely; so :math:`t` and :math:`r` move
        independently and :math:`s_c = (h\,t_c + l\,r_c)/w` has range
        :math:`(|h|\,W_t + |l|\,W_r)/w`, :math:`W` the flow ranges of :meth:`spread`.
        For shares (:math:`w = 1`, integer data) the extreme flows are integers, so this
        is the integer range; for means it is the linear programme's (τ-Argus audits
        with the same relaxation).
        """
        m, w = magnitude, magnitude.high - magnitude.low

        def part(flows: np.ndarray, weight: float) -> float:
            # each flow's range capped where its own share alone reaches ``need``
            if weight == 0.0:
                return 0.0
            return weight * self.spread(flows, hidden, cell, need * w / weight + 1.0) / w

        upper = part(np.maximum(m.sums - m.low * m.counts, 0.0), abs(m.high))  # t
        if upper >= need:
            return upper
        return upper + part(np.maximum(m.high * m.counts - m.sums, 0.0), abs(m.low))  # r


def _max_flow(graph: dict[int, dict[int, float]], source: int, sink: int, limit: float) -> float:
    """Maximum flow from ``source`` to ``sink`` (Edmonds–Karp), stopping at ``limit``; the
    graph is copied, not changed."""
    if source not in graph or sink not in graph:
        return 0.0
    residual = {u: dict(vs) for u, vs in graph.items()}
    flow = 0.0
    while flow < limit:
        parent = {source: source}
        queue = [source]
        for u in queue:
            if u == sink:
                break
            for v, cap in residual[u].items():
                if cap > 1e-9 and v not in parent:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            break
        push, v = float(limit - flow), sink
        while v != source:
            push = min(push, residual[parent[v]][v])
            v = parent[v]
        v = sink
        while v != source:
            u = parent[v]
            residual[u][v] -= push
            residual[v][u] = residual[v].get(u, 0.0) + push
            v = u
        flow += push
    return flow


def protect(
    counts,
    equations: Sequence,
    *,
    k: int = 5,
    hidden=None,
    fixed=None,
    cost=None,
    sums: Sequence[Magnitude] = (),
    lower=None,
) -> Protection:
    r"""The smallest-partner pattern that leaves every hidden cell under ``k`` a feasible
    range at least ``k`` wide, in every one of several linked tables over the same cells,
    and the sums published beside them a range at least ``k`` wide on their own scale.

    Parameters
    ----------
    counts : array_like of int, shape (n_tables, n_cells) or (n_cells,)
        Linked tables over the same cells (the score row of a dimension and its items): they
        share one pattern, so that no table shows what another hides.
    equations : sequence of (members, total)
        The published margins: ``sum(counts[members]) == counts[total]``; ``total`` None
        when the sum is published without being a cell. At most two per cell
        (:class:`Network`; a cube raises ValueError: :class:`LinearAudit` can audit one,
        but role cuts and the monitor still use the partition rule).
    k : int, optional
        Minimum cell size (default 5; below 3 is refused, DESIGN §4.14).
    hidden : array_like of bool, shape (n_cells,), optional
        Cells hidden whatever their size (withheld elsewhere).
    fixed : array_like of bool, shape (n_cells,), optional
        Cells whose state may not change: never chosen as partners.
    cost : array_like of float, shape (n_cells,), optional
        What hiding a cell loses; partners are tried cheapest first. Default: its largest
        count over the tables, so that a margin (never smaller than its members) is hidden
        only when no smaller cell protects.
    sums : sequence of Magnitude, optional
        Sums published beside the tables (means × n, favourable counts). For every hidden
        cell under ``k`` in a sum's table, the sum's feasible range must be at least
        :math:`k` wide: ``k`` scale points for a mean × n, ``k`` answers for a share ×
        answers (the protection level; :class:`LinearAudit`).
    lower : array_like of int, shape (n_cells,), optional
        What the intruder knows each cell holds at least, from elsewhere (a response-rate
        monitor's submitted invitations naming an area): a hidden cell can move down only
        to its bound, so the flows are audited shifted by it (``x − lower ≥ 0`` over the
        same :class:`Network`). A table's cell under the bound (fewer answers than
        responses) counts as bounded by itself. Default 0.

    Returns
    -------
    Protection

    Notes
    -----
    Primary: every cell with :math:`0 < n < k` in any table; an empty cell reveals nobody,
    is shown and needs no partner. Then, in each table where it is under :math:`k`, each
    primary cell is audited (:meth:`Network.width`: hidden margins are unknowns, not known
    constants); while its range is less than :math:`k` wide the cells sharing an equation
    with its block of hidden cells are tried cheapest first and the first that protects it
    alone is hidden (if none does, the one that widens it most, and again). A table's count
    is audited over its counts' and its sums' equations together, with
    :math:`l\,n \le s \le h\,n` per cell (a sum over the table's own counts: shown means
    × n bound hidden counts, e.g. a hidden margin's sum caps its members' counts;
    :func:`_count_width`), as τ-Argus audits a magnitude table with its frequency table
    (Hundepool et al. 2012, ch. 4). The sums' own ranges are audited the same way after the
    counts. Hiding a cell only removes constants from the
    intruder's system, so it only widens the others' ranges: a cell once protected stays
    protected. This is the sequential heuristic of Hundepool et al. (2012) ch. 4 with an
    exact audit; the pattern is not proven minimal, but each partner is the cheapest that
    works at its step.
    """
    k = _k_iv(k)
    counts = _counts_iv(counts)
    n_cells = counts.shape[1]
    forced = _mask_iv(hidden, n_cells, "hidden")
    fixed = _mask_iv(fixed, n_cells, "fixed")
    largest = counts.max(axis=0) if counts.shape[0] else np.zeros(n_cells, np.int64)
    cost = largest.astype(float) if cost is None else np.asarray(cost, dtype=float)
    shape = _equations_key(equations, n_cells)
    audit = _linear_audit(shape)
    sums = [_magnitude_iv(m, counts.shape[0], audit) for m in sums]
    network = _network(shape)  # a cube raises: callers keep the partition rule
    lower = _lower_iv(lower, n_cells)
    key = (shape, k, *map(_array_key, (counts, forced, fixed, cost, lower)))
    key += tuple((m.table, _array_key(m.counts), _array_key(m.sums), m.low, m.high) for m in sums)
    found = _PATTERNS.get(key)
    if found is None:
        found = _pattern(counts, k, forced, fixed, largest, cost, audit, sums, network, lower)
        _PATTERNS[key] = found
        if len(_PATTERNS) > _PATTERNS_KEPT:
            _PATTERNS.popitem(last=False)
    else:
        # a pattern another thread dropped meanwhile is simply not moved up (each of these
        # OrderedDict operations is atomic; only the pair of them is not)
        with suppress(KeyError):
            _PATTERNS.move_to_end(key)
    arrays = (found.hidden, found.primary, found.reason, found.unprotected)
    return Protection(*(a.copy() for a in arrays), found.k)


#: Patterns already found, by their exact inputs (most recent last): the same wave is
#: protected again when it is recomputed unchanged or closed again after a rebuild, and one
#: wave's drivers blocks often repeat a table's counts. ``protect`` is deterministic, so a
#: pattern found for the same bytes is the pattern; each caller gets its own copy.
_PATTERNS: OrderedDict[tuple, Protection] = OrderedDict()
_PATTERNS_KEPT = 512


def _array_key(a: np.ndarray) -> tuple:
    return a.dtype.str, a.shape, a.tobytes()


def _pattern(counts, k, forced, fixed, largest, cost, audit, sums, network, lower) -> Protection:
    """:func:`protect` on checked inputs."""
    n_cells = counts.shape[1]
    small = (counts > 0) & (counts < k)
    primary = small.any(axis=0)
    mask = (primary & ~fixed) | forced
    stuck: list[int] = []

    def partner(width, cell: int, need: float, block) -> None:
        if not _partner(width, block, cell, mask, fixed, largest, cost, need):
            stuck.append(cell)

    for t, coupled in _count_tables(counts, sums):
        for c in np.flatnonzero(small[t] & mask).tolist():
            width = partial(_count_width, network, audit, counts[t], lower, coupled, cell=c, k=k)
            partner(width, c, k, partial(_network_touching, network, c))
    for m in sums:
        for c in np.flatnonzero(small[m.table] & mask & (m.counts > 0)).tolist():
            need = float(k)  # k points of the sum's own scale (LinearAudit)
            width = partial(_sum_width, network, audit, m, cell=c, need=need)
            partner(width, c, need, partial(audit.touching, c))
    reason = reason_array((n_cells,))
    reason[mask] = SECONDARY
    reason[primary & mask] = PRIMARY
    return Protection(mask, primary, reason, np.unique(np.asarray(stuck, dtype=np.int64)), k)


def _equations_key(equations: Sequence, n_cells: int) -> tuple:
    """The equations as a hashable key (members and total as ints, in the caller's order)."""
    return n_cells, tuple(
        (tuple(int(m) for m in members), None if total is None else int(total))
        for members, total in equations
    )


# One wave publishes many tables over the same side × area cells (every dimension, every
# drivers block), and a recompute many waves of the same shape: the network and the
# equation matrix depend on the equations alone, so each is built once per shape. They are
# read-only (their arrays are frozen); a ValueError (a cube, a bad equation) is not cached.
@lru_cache(maxsize=64)
def _linear_audit(key: tuple) -> LinearAudit:
    audit = LinearAudit(key[1], key[0])
    audit.matrix.flags.writeable = False
    return audit


@lru_cache(maxsize=64)
def _network(key: tuple) -> Network:
    network = Network(key[1], key[0])
    network.tail.flags.writeable = network.head.flags.writeable = False
    return network


def _count_tables(counts: np.ndarray, sums: list[Magnitude]):
    """Each table with the sums over its own counts (a mean × n; the counts they bound),
    once per distinct counts and sums."""
    seen = set()
    for t in range(counts.shape[0]):
        coupled = [m for m in sums if m.table == t and np.array_equal(m.counts, counts[t])]
        key = (
            counts[t].tobytes(),
            *(m.sums.tobytes() + bytes(f"{m.low},{m.high}", "ascii") for m in coupled),
        )
        if key not in seen:
            seen.add(key)
            yield t, coupled


#: How far above k a count's relaxed range (:meth:`Network.count_width`) must reach to be
#: taken as protected without the integer program.
COUNT_MARGIN = 2.0


def _count_width(network, audit: LinearAudit, counts, lower, coupled, hidden, cell: int, k: int):
    """The count's range: exact by flows without sums (:meth:`Network.width`, the network
    matrix is totally unimodular); with sums an upper bound by flows, and near the threshold
    the integer program over counts and sums together (:meth:`LinearAudit.count_width`)."""
    free = counts - np.minimum(counts, lower)
    if not coupled:
        return network.width(free, hidden, cell, k)
    relaxed = network.count_width(counts, lower, coupled, hidden, cell, k + COUNT_MARGIN)
    if relaxed < k or relaxed >= k + COUNT_MARGIN:
        return relaxed
    return audit.count_width(counts, hidden, cell, k, sums=coupled, lower=counts - free)


def _sum_width(network, audit: LinearAudit, m: Magnitude, hidden, cell: int, need: float):
    """The sum's range: by flows (:meth:`Network.sum_width`, the linear relaxation) where
    that is clearly wide enough, else exactly with integer counts
    (:meth:`LinearAudit.sum_width`): the relaxation can only be wider, and on seeded waves
    it differed from the integer range only within two units' worth of the threshold."""
    if network is not None:
        relaxed = network.sum_width(m, hidden, cell, need + 2 * (m.high - m.low))
        if relaxed < need or relaxed >= need + 2 * (m.high - m.low):
            return relaxed
    return audit.sum_width(m, hidden, cell, need)


def _counts_iv(counts) -> np.ndarray:
    counts = np.asarray(counts)
    if counts.ndim == 1:
        counts = counts[None, :]
    if counts.ndim != 2:
        raise ValueError(f"`counts` must be 1-D or 2-D, got shape {counts.shape}")
    if counts.size and (
        not np.all(np.isfinite(counts)) or np.any(counts != np.round(counts)) or np.any(counts < 0)
    ):
        raise ValueError("`counts` must be non-negative whole numbers")
    return counts.astype(np.int64)


def _magnitude_iv(m: Magnitude, n_tables: int, audit: LinearAudit) -> Magnitude:
    """Check a sum against its own equations and bounds (the true values must be feasible)."""
    if not 0 <= int(m.table) < n_tables:
        raise ValueError(f"a sum names table {m.table}, not one of 0..{n_tables - 1}")
    if not (np.isfinite(m.low) and np.isfinite(m.high) and m.low < m.high):
        raise ValueError(f"a sum's unit range [{m.low}, {m.high}] is not a range")
    n = _counts_iv(m.counts)[0]
    s = np.asarray(m.sums, dtype=float)
    if n.shape != (audit.n_cells,) or s.shape != (audit.n_cells,) or not np.all(np.isfinite(s)):
        raise ValueError(f"a sum needs finite counts and sums for each of {audit.n_cells} cells")
    slack = 1e-6 * (1.0 + np.abs(s))
    if np.any(s < m.low * n - slack) or np.any(s > m.high * n + slack):
        raise ValueError("a sum lies outside its count times the unit range")
    scale = 1e-6 * (1.0 + np.abs(audit.matrix) @ np.abs(s))
    if np.any(np.abs(audit.matrix @ s) > scale):
        raise ValueError("a sum does not add up over the published equations")
    return Magnitude(int(m.table), n, s, float(m.low), float(m.high))


def _k_iv(k) -> int:
    if isinstance(k, bool) or int(k) != k:
        raise ValueError(f"`k` must be an integer, got {k!r}")
    if int(k) < MIN_K:
        raise ValueError(f"`k` must be at least {MIN_K} (DESIGN §4.14), got {k}")
    return int(k)


def _lower_iv(lower, n_cells: int) -> np.ndarray:
    if lower is None:
        return np.zeros(n_cells, dtype=np.int64)
    arr = _counts_iv(lower)
    if arr.shape != (1, n_cells):
        raise ValueError(f"`lower` must have one entry per cell ({n_cells}), got {arr.shape}")
    return arr[0]


def _mask_iv(mask, n_cells: int, name: str) -> np.ndarray:
    if mask is None:
        return np.zeros(n_cells, dtype=bool)
    arr = np.asarray(mask, dtype=bool)
    if arr.shape != (n_cells,):
        raise ValueError(f"`{name}` must have one entry per cell ({n_cells}), got {arr.shape}")
    return arr


def _partner(width, block, cell: int, mask, fixed, largest, cost, need: float) -> bool:
    """Hide partners (in ``mask``, in place) until ``width(mask)`` of ``cell`` reaches
    ``need``; False if it cannot. ``block(mask)`` marks the cells that may widen it."""
    now = width(mask)
    while now < need:
        options = np.flatnonzero(block(mask) & ~mask & ~fixed & (largest > 0))
        if options.size == 0:
            return False
        options = options[np.lexsort((options, cost[options]))]
        best, best_width = int(options[0]), -1.0
        tried: dict[int, float] = {}
        for option in options.tolist():
            mask[option] = True
            got = tried[option] = width(mask)
            mask[option] = False
            if got >= need:
                best = option
                break
            if got > best_width:
                best, best_width = option, got
        mask[best] = True
        now = tried[best]  # the width just found with this very mask: not audited again
    return True


def _network_touching(network: Network, cell: int, mask) -> np.ndarray:
    """Cells with an end in the block of ``cell`` (:func:`_block_nodes`)."""
    nodes = _block_nodes(network, cell, mask)
    return np.isin(network.tail, nodes) | np.isin(network.head, nodes)


def _block_nodes(network: Network, cell: int, mask) -> np.ndarray:
    """The equations (and the ground) joined to ``cell`` through hidden cells."""
    nodes = {int(network.tail[cell]), int(network.head[cell])}
    arcs = [(int(network.tail[e]), int(network.head[e])) for e in np.flatnonzero(mask).tolist()]
    grown = True
    while grown:
        grown = False
        for u, v in arcs:
            if (u in nodes) != (v in nodes):
                nodes |= {u, v}
                grown = True
    return np.fromiter(nodes, dtype=np.int64)
