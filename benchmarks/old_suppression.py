"""The suppression rule before issue 11, kept only as the benchmark's baseline.

``analysis/suppression.py`` as of commit 2e9bbe2 (``suppression_mask``), and the service's
``suppression_reasons`` of that time (which forced a margin to a cell of 1 when the rule
could not protect a partition). Not used by the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis._common import reason_array

__all__ = ["SuppressionResult", "suppression_mask"]

PRIMARY = "fewer than k responses"
SECONDARY = "secondary: would reveal a suppressed cell"
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


def old_suppression_reasons(counts, partitions, totals, k):
    """The service's rule before issue 11 (publication.suppression_reasons at 2e9bbe2)."""
    counts_arr = np.asarray([int(c or 0) for c in counts], dtype=np.int64)
    forced: set[int] = set()
    while True:
        adjusted = counts_arr.copy()
        for i in forced:
            adjusted[i] = min(int(adjusted[i]), 1) or 0
        res = suppression_mask(adjusted, partitions, k=k)
        extra: set[int] = set()
        for p in res.unprotected_partitions:
            total = totals[int(p)]
            if total is not None and not res.mask[total] and counts_arr[total] > 0:
                extra.add(total)
        for c in np.flatnonzero(res.recoverable):
            for p, members in enumerate(partitions):
                total = totals[p]
                if (
                    c in members
                    and total is not None
                    and not res.mask[total]
                    and counts_arr[total] > 0
                ):
                    extra.add(total)
        if not extra - forced:
            return res.mask
        forced |= extra
