"""k-anonymous release of raw rows by local recoding (DESIGN §4.14).

A row of raw responses carries quasi-identifiers — the wave, the side, the service area, the
role level — beside its answers. Anyone who knows a colleague's side, area and role finds their
row when that combination holds one response. :func:`k_anonymous_recoding` generalises the
quasi-identifiers of small combinations row by row (local recoding) until every combination
holds at least ``k`` rows, and then keeps generalising until no published count minus the rows
visibly in it isolates a group of fewer than ``k``; :func:`protect_release` audits the result
together with the counts published beside it (a linear program per small group) and
generalises further where they would pin one. :func:`publishable_sets` decides which
groups' sets of records (free-text comments) may be shown, so that no intersection or
difference of shown sets isolates fewer than ``k`` people.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations, product

import numpy as np
from scipy.optimize import linprog

__all__ = [
    "GENERALISED",
    "SUMMED",
    "Recoding",
    "k_anonymous_recoding",
    "counts_publishable",
    "protect_release",
    "publishable_sets",
]

#: The code of a generalised value ("Other": one of several groups of fewer than k).
GENERALISED = -1


@dataclass(frozen=True, slots=True)
class Recoding:
    """Quasi-identifiers of raw rows made k-anonymous.

    Attributes
    ----------
    codes : ndarray of int, shape (n_rows, n_columns)
        The recoded quasi-identifiers: the original code, or :data:`GENERALISED`.
    generalised : ndarray of bool, shape (n_rows, n_columns)
        Where a value was generalised.
    withheld : ndarray of bool, shape (n_rows,)
        Rows left out: their stratum (the columns that are never generalised) holds fewer than
        ``k`` rows, so no generalisation can hide them.
    k : int
        The threshold used.
    """

    codes: np.ndarray
    generalised: np.ndarray
    withheld: np.ndarray
    k: int

    @property
    def explicit(self) -> np.ndarray:
        """Rows released with every quasi-identifier as it was given."""
        return ~self.withheld & ~self.generalised.any(axis=1)


def _recoding_iv(quasi_identifiers, order, k):
    if isinstance(k, bool) or int(k) != k or int(k) < 1:
        raise ValueError(f"`k` must be a positive whole number, got {k!r}")
    codes = np.asarray(quasi_identifiers)
    if codes.ndim != 2:
        raise ValueError(f"`quasi_identifiers` must be 2-D (rows × columns), got {codes.shape}")
    if codes.size and not np.issubdtype(codes.dtype, np.integer):
        raise ValueError("`quasi_identifiers` must be integer codes")
    codes = codes.astype(np.int64)
    if codes.size and codes.min() < 0:
        raise ValueError("`quasi_identifiers` codes must be non-negative")
    order = [int(c) for c in order]
    if len(set(order)) != len(order) or any(not 0 <= c < codes.shape[1] for c in order):
        raise ValueError(f"`generalise` must list distinct columns of 0..{codes.shape[1] - 1}")
    return codes, order, int(k)


def _row_keys(codes: np.ndarray) -> np.ndarray:
    """One integer per row, equal exactly when the rows' codes are (mixed radix; codes ≥ -1)."""
    shifted = codes + 1
    keys = np.zeros(codes.shape[0], dtype=np.int64)
    for column in shifted.T:
        keys = keys * (int(column.max(initial=0)) + 1) + column
    return keys


def _group_sizes(codes: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row in ``rows``: its combination's index and that combination's size."""
    group = np.full(codes.shape[0], -1, np.int64)
    size = np.zeros(codes.shape[0], np.int64)
    if not rows.any():
        return group, size
    _, inverse, counts = np.unique(_row_keys(codes[rows]), return_inverse=True, return_counts=True)
    group[rows] = inverse
    size[rows] = counts[inverse]
    return group, size


def k_anonymous_recoding(quasi_identifiers, *, generalise: Sequence[int], k: int = 5) -> Recoding:
    r"""Generalise quasi-identifiers row by row until the rows are k-anonymous.

    Parameters
    ----------
    quasi_identifiers : array_like of int, shape (n_rows, n_columns)
        Non-negative codes per row and quasi-identifier ("not stated" is a code of its own).
    generalise : sequence of int
        The columns that may be generalised, in the order to try them (e.g. role level, then
        service area, then side). The other columns are strata (e.g. the wave): never
        generalised, never merged across.
    k : int, optional
        Minimum number of rows per combination (default 5).

    Returns
    -------
    Recoding

    Notes
    -----
    *k-anonymity* [1]_: every combination of quasi-identifier values released holds at least
    :math:`k` rows. *Local recoding* [2]_: a value is generalised in some rows and kept in
    others, so large groups keep their detail.

    1. For each column of ``generalise`` in turn, every row whose combination holds fewer than
       :math:`k` rows has that column generalised (:data:`GENERALISED`, shown as "Other").
    2. From the second column on, a combination still smaller than :math:`k` (every column
       so far generalised) absorbs the smallest other combination that shares its remaining
       columns (e.g. the same side), those columns generalised too, until it holds
       :math:`k`; where there is none, the next column is generalised. After the last
       column, a stratum of fewer than :math:`k` rows is withheld.
    3. *Differencing.* A published count of any margin of the table — any subset of the
       generalisable columns fixed, the rest summed over, e.g. all of one side's senior
       staff over every area — minus the rows visibly in it gives the rows hidden in "Other"
       (or withheld). When that difference is between 1 and :math:`k - 1` for a group of at
       least :math:`k` (a smaller group is itself suppressed when published), it would single
       out a small group; the smallest visible combination of that group then has its first
       fixed generalisable column generalised too, until no such difference remains. Whole
       combinations move, so step 1's guarantee holds throughout.

    The rule stops: every move generalises at least one more value.

    References
    ----------
    .. [1] Sweeney, L. (2002). k-anonymity: a model for protecting privacy. *International
           Journal of Uncertainty, Fuzziness and Knowledge-Based Systems*, 10(5), 557–570.
    .. [2] Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Schulte Nordholt,
           E., Spicer, K., & de Wolf, P.-P. (2012). *Statistical Disclosure Control*, §3.4
           (global and local recoding, local suppression). Chichester: Wiley.
    """
    original, order, k = _recoding_iv(quasi_identifiers, generalise, k)
    codes = original.copy()
    withheld = np.zeros(codes.shape[0], dtype=bool)
    if codes.shape[0] == 0:
        return Recoding(codes=codes, generalised=codes != original, withheld=withheld, k=k)
    for step, column in enumerate(order):
        _, size = _group_sizes(codes, ~withheld)
        codes[(size < k) & ~withheld, column] = GENERALISED
        if step:
            _absorb_small_remainders(codes, withheld, order, step, k)
    margins = _margins(original, order)
    while _close_differences(original, codes, withheld, order, k, margins):
        pass
    return Recoding(codes=codes, generalised=codes != original, withheld=withheld, k=k)


def _absorb_small_remainders(codes, withheld, order, step, k) -> None:
    """Step 2 after generalising ``order[step]``: grow small combinations, or give up.

    Gives up (leaves them for the next column) before the last step, withholds after it.
    """
    done = list(order[: step + 1])
    kept = [c for c in range(codes.shape[1]) if c not in done]
    last = step == len(order) - 1
    stuck = np.zeros(codes.shape[0], dtype=bool)
    while True:
        group, size = _group_sizes(codes, ~withheld)
        small = np.flatnonzero((size < k) & ~withheld & ~stuck)
        if small.size == 0:
            return
        row = small[0]
        same = ~withheld & np.all(codes[:, kept] == codes[row, kept], axis=1)
        others = same & (group != group[row])
        if not others.any():
            if last:
                withheld[same] = True
            else:
                stuck[group == group[row]] = True
            continue
        candidates = np.flatnonzero(others)
        pick = candidates[np.lexsort((candidates, size[candidates]))[0]]
        codes[np.ix_(group == group[pick], done)] = GENERALISED


def _close_differences(original, codes, withheld, order, k, margins) -> bool:
    """Step 3: one move against a margin that isolates fewer than k rows; True if moved."""
    for fixed, keep, cell, cell_size in margins:
        visible = ~withheld & np.all(codes[:, keep] == original[:, keep], axis=1)
        n_visible = np.bincount(cell, weights=visible, minlength=cell.max() + 1)
        hidden = cell_size - n_visible[cell]
        leaking = (cell_size >= k) & (hidden > 0) & (hidden < k)
        movable = visible & leaking  # only withheld rows differing: nothing to generalise
        if not movable.any():
            continue
        group, size = _group_sizes(codes, ~withheld)
        candidates = np.flatnonzero(movable)
        pick = candidates[np.lexsort((candidates, size[candidates]))[0]]
        column = next(c for c in order if c in fixed)
        codes[group == group[pick], column] = GENERALISED
        return True
    return False


def _margins(original, order) -> list:
    """Every margin of the table: the generalisable columns it fixes, the columns it keeps,
    each row's cell in it and that cell's size."""
    out = []
    everyone = np.ones(original.shape[0], dtype=bool)
    for width in range(1, len(order) + 1):
        for fixed in combinations(order, width):
            keep = [c for c in range(original.shape[1]) if c not in order or c in fixed]
            cell, cell_size = _group_sizes(original[:, keep], everyone)
            out.append((fixed, keep, cell, cell_size))
    return out


def publishable_sets(membership, sizes, *, k: int) -> np.ndarray:
    r"""Which groups' sets of records (e.g. free-text comments) may be shown.

    Parameters
    ----------
    membership : array_like of bool, shape (n_groups, n_cells)
        Which base cells make up each group (a group is a union of base cells: a margin of a
        side × area × role level cube, say).
    sizes : array_like of int, shape (n_cells,)
        People in each base cell.
    k : int
        The smallest number of people whose records may be shown together.

    Returns
    -------
    ndarray of bool, shape (n_groups,)
        True for every group whose records may be shown.

    Notes
    -----
    Records, unlike counts, can be intersected as well as subtracted: a comment shown for
    area A and again for senior staff comes from A's senior staff. So the rule looks at the
    *atoms* of the shown groups — the base cells grouped by which shown groups hold them,
    i.e. every set an intruder can make from the shown sets by intersection and difference.
    A group of fewer than ``k`` people is never shown (primary); then, while an atom holds
    between 1 and :math:`k - 1` people, the cheapest move that merges it is made: hide the
    shown groups that tell it apart from another atom (their symmetric difference), or every
    shown group holding it — whichever hides the fewest people in total (the smallest
    partner that protects, as for cells; Hundepool et al. 2012, ch. 4). Each move hides at
    least one group, so the rule stops.
    """
    membership = np.asarray(membership, dtype=bool)
    sizes = np.asarray(sizes, dtype=np.int64)
    if membership.ndim != 2 or sizes.shape != (membership.shape[1],):
        raise ValueError("`membership` must be (groups × cells) and `sizes` one per cell")
    if np.any(sizes < 0):
        raise ValueError("`sizes` must be non-negative")
    group_sizes = membership.astype(np.int64) @ sizes
    shown = group_sizes >= k
    while True:
        atoms = _atoms(membership, sizes, shown)
        small = [(n, sig) for sig, n in atoms.items() if 0 < n < k]
        if not small:
            return shown
        _, signature = min(small, key=lambda atom: (atom[0], sorted(atom[1])))
        moves = [frozenset(signature)]  # hide every shown group holding the atom
        moves += [signature ^ other for other, n in atoms.items() if n and other != signature]
        cost = {move: int(group_sizes[list(move)].sum()) for move in moves}
        best = min(moves, key=lambda m: (cost[m], sorted(m)))
        shown[list(best)] = False


def _atoms(membership, sizes, shown) -> dict[frozenset, int]:
    """People per signature (the set of shown groups holding a base cell), empty one aside."""
    atoms: dict[frozenset, int] = {}
    held = membership[shown]
    names = np.flatnonzero(shown)
    for cell in range(membership.shape[1]):
        signature = frozenset(names[held[:, cell]].tolist())
        if signature:
            atoms[signature] = atoms.get(signature, 0) + int(sizes[cell])
    return atoms


#: The code of a published cell's summed column (all values of it).
SUMMED = -2


def protect_release(
    quasi_identifiers, published, *, generalise: Sequence[int], k: int = 5, at_least=()
):
    r""":func:`k_anonymous_recoding`, generalised further until the released combinations
    together with the published counts narrow no small group.

    Parameters
    ----------
    quasi_identifiers : array_like of int, shape (n_rows, n_columns)
        As for :func:`k_anonymous_recoding`.
    published : array_like of int, shape (n_cells, n_columns)
        Cells whose counts are published elsewhere (e.g. the results tables' shown cells):
        each a code per column, or :data:`SUMMED` where the cell sums over that column.
    generalise : sequence of int
    k : int, optional
    at_least : sequence of (cell, int), optional
        Cells (coded like ``published``) that something else published says hold at least
        so many rows (a response-rate monitor's submitted invitations naming an area): the
        intruder's inequalities. A bound above the cell's count is taken as its count.

    Returns
    -------
    Recoding

    Notes
    -----
    An intruder knows the count of every released combination and of every published cell;
    each released row lies in one base cell its combination is compatible with. For every
    cell of the cube (any margin) holding between 1 and :math:`k - 1` rows that is not
    published, the range of its count over that linear system is found (``linprog``, the
    linear relaxation). While one is less than :math:`k` wide, the released combination
    whose generalisation (its next column in ``generalise``) widens it to :math:`k` — the
    smallest such, before any that generalises the last column — is generalised; if none
    does, the one that widens it most. Then step 3 of :func:`k_anonymous_recoding` runs
    again. Whole combinations move, so k-anonymity holds throughout; every move generalises
    a value, so the rule stops. This is the audit of Hundepool et al. (2012) ch. 4 applied
    to the release with the tables published beside it.
    """
    recoding = k_anonymous_recoding(quasi_identifiers, generalise=generalise, k=k)
    original, order, k = _recoding_iv(quasi_identifiers, generalise, k)
    published = np.asarray(published, dtype=np.int64).reshape(-1, original.shape[1])
    codes, withheld = recoding.codes.copy(), recoding.withheld
    if withheld.all():
        return recoding
    margins = _margins(original, order)
    audit = _ReleaseAudit(original[~withheld], published, order, k, at_least)
    while (target := audit.narrowed(codes[~withheld])) is not None:
        if not _widen(audit, codes, withheld, order, target, k):
            audit.give_up(target)  # the published counts alone pin it: nothing to do here
            continue
        while _close_differences(original, codes, withheld, order, k, margins):
            pass
    return Recoding(codes=codes, generalised=codes != original, withheld=withheld, k=k)


def counts_publishable(
    quasi_identifiers, recoding: Recoding, published, *, generalise: Sequence[int], at_least=()
) -> Callable[[Sequence], bool]:
    r"""The audit of further counts beside a release and the counts published with it: a
    function that, given cells, says whether their counts can be published too — whether,
    together, they narrow no small group that the release's audit (:func:`protect_release`)
    protects to a range under ``recoding.k`` wide.

    Parameters
    ----------
    quasi_identifiers : array_like of int, shape (n_rows, n_columns)
        The rows' codes as given (as for :func:`protect_release`).
    recoding : Recoding
        Their release (e.g. from :func:`protect_release`).
    published, at_least, generalise
        As for :func:`protect_release`: what else is published, and the recoding's order.

    Returns
    -------
    callable
        ``allows(cells) -> bool``, ``cells`` of shape (n_cells, n_columns) coded like
        ``published``. The small groups to protect are found once, so several sets of cells
        can be tried for the cost of one linear program per group and end each.

    Notes
    -----
    The intruder's linear system of :func:`protect_release` — every released combination's
    count and every published cell's — gains one equation per cell. The small groups to
    protect are those the release protects: a cell under k, not published, whose range the
    published counts alone (beside a release that says nothing) leave at least k wide. Each
    one's range over the larger system (the linear relaxation, ``linprog``) must still be at
    least k wide (Hundepool et al. 2012, ch. 4). A cell that holds exactly the rows released
    with its values adds only that no other released row is in it: that is what this audits.
    Where every row is withheld nothing is released to audit with, and only no cells pass.
    """
    original, order, k = _recoding_iv(quasi_identifiers, generalise, recoding.k)
    columns = original.shape[1]
    published = np.asarray(published, dtype=np.int64).reshape(-1, columns)
    kept = ~recoding.withheld
    audit = _ReleaseAudit(original[kept], published, order, k, at_least) if kept.any() else None

    def allows(cells: Sequence) -> bool:
        cells = np.asarray(cells, dtype=np.int64).reshape(-1, columns)
        if not len(cells):
            return True
        return audit is not None and audit.narrowed(recoding.codes[kept], cells) is None

    return allows


def _widen(audit, codes, withheld, order, target, k) -> bool:
    """Generalise the next column of the released combination that best widens ``target``;
    False when every value is generalised already."""
    group, size = _group_sizes(codes, ~withheld)
    moves = []
    for g in np.unique(group[~withheld]).tolist():
        rows = group == g
        row = int(np.flatnonzero(rows)[0])
        column = next((c for c in order if codes[row, c] != GENERALISED), None)
        if column is not None:
            moves.append((column == order[-1], int(size[row]), g, column))
    best, best_width = None, -1.0
    for _generalises_last, _, g, column in sorted(moves):
        trial = codes.copy()
        trial[group == g, column] = GENERALISED
        width = audit.width(trial[~withheld], target)
        if width >= k:
            best = (g, column)
            break
        if width > best_width:
            best, best_width = (g, column), width
    if best is None:
        return False
    codes[group == best[0], best[1]] = GENERALISED
    return True


def _combinations(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct rows (codes ≥ -1) in lexicographic order, as ``np.unique(rows, axis=0)``
    gives them, with each one's first row and count: one sort of integer keys
    (:func:`_row_keys`, which order as the rows do), not of the rows."""
    _, first, sizes = np.unique(_row_keys(rows), return_index=True, return_counts=True)
    return rows[first], first, sizes


class _ReleaseAudit:
    """The intruder's linear system for :func:`protect_release`."""

    def __init__(self, original: np.ndarray, published: np.ndarray, order, k: int, at_least=()):
        # rows alike (one sort, not a loop over the rows): counts are sums of their sizes
        groups, first, sizes = _combinations(original)
        self.rows = groups, sizes
        values = [np.unique(groups[:, c]) for c in range(original.shape[1])]
        self.bases = np.array(list(product(*values)), dtype=np.int64)
        self.published = published
        self.counts = {tuple(c): self._count(groups, sizes, c) for c in published}
        bounds = [(np.asarray(c, dtype=np.int64), int(n)) for c, n in at_least]
        self.bounded = np.array([c for c, _ in bounds], dtype=np.int64).reshape(-1, len(values))
        self.floors = np.array([min(n, self._count(groups, sizes, c)) for c, n in bounds], float)
        self.k = k
        seen = np.argsort(first)  # in order of first appearance
        alike = dict(zip(map(tuple, groups[seen].tolist()), sizes[seen].tolist(), strict=True))
        cube: dict[tuple, int] = {}  # each cell in the order the rows first reach it
        for row, n in alike.items():
            for cell in product(*[(v, SUMMED) for v in row]):
                cube[cell] = cube.get(cell, 0) + n
        self.targets = [np.array(c) for c, n in cube.items() if 0 < n < k and c not in self.counts]
        # A cell the published counts pin even beside a release that says nothing (every
        # generalisable value "Other") is theirs to protect, not the release's.
        nothing = original.copy()
        nothing[:, list(order)] = GENERALISED
        system = self._system(nothing)  # one system for every target
        self.targets = [
            t for t in self.targets if self._width(system, t, failed=np.inf) >= k - 1e-6
        ]

    def give_up(self, target: np.ndarray) -> None:
        self.targets = [t for t in self.targets if not np.array_equal(t, target)]

    @staticmethod
    def _count(groups: np.ndarray, sizes: np.ndarray, cell) -> int:
        """Rows in ``cell``: the sizes of the distinct rows ``groups`` that lie in it."""
        cell = np.asarray(cell)
        return int(sizes[np.all((groups == cell) | (cell == SUMMED), axis=1)].sum())

    def _system(self, released: np.ndarray, also: np.ndarray | None = None):
        published, counts = self.published, [self.counts[tuple(c)] for c in self.published]
        if also is not None and len(also):  # further counts to publish
            published = np.vstack([published, also])
            counts += [self._count(*self.rows, c) for c in also]
        groups, _, sizes = _combinations(released)
        pairs = [
            (g, t)
            for g in range(len(groups))
            for t in range(len(self.bases))
            if np.all((groups[g] == self.bases[t]) | (groups[g] == GENERALISED))
        ]
        a = np.zeros((len(groups) + len(published), len(pairs)))
        b = np.zeros(a.shape[0])
        for j, (g, t) in enumerate(pairs):
            a[g, j] = 1.0
            inside = np.all((published == self.bases[t]) | (published == SUMMED), axis=1)
            a[len(groups) + np.flatnonzero(inside), j] = 1.0
        b[: len(groups)] = sizes
        b[len(groups) :] = counts
        floor = np.zeros((len(self.bounded), len(pairs)))  # −count ≤ −bound
        for j, (_, t) in enumerate(pairs):
            inside = np.all((self.bounded == self.bases[t]) | (self.bounded == SUMMED), axis=1)
            floor[np.flatnonzero(inside), j] = -1.0
        return a, b, pairs, floor

    def _width(self, system, target: np.ndarray, failed: float = 0.0) -> float:
        """The width of ``target``'s count range over ``system``; ``failed`` where the solver
        finds no answer (iteration limit, numerical trouble): the safe side for the caller —
        0 (narrowed) where a wide range lets something be published, ∞ where it keeps a
        group among those to protect."""
        a, b, pairs, floor = system
        ub = {"A_ub": floor, "b_ub": -self.floors} if len(floor) else {}
        c = np.array(
            [np.all((target == self.bases[t]) | (target == SUMMED)) for _, t in pairs], float
        )
        ends = []
        for sign in (1.0, -1.0):
            res = linprog(sign * c, A_eq=a, b_eq=b, **ub, bounds=(0, None), method="highs")
            if res.status == 3:  # unbounded
                return np.inf
            if res.status != 0:
                return failed
            ends.append(sign * res.fun)
        return ends[1] - ends[0]

    def narrowed(self, released: np.ndarray, also: np.ndarray | None = None) -> np.ndarray | None:
        """The first small cell whose range is less than k wide, if any (``also``: further
        cells whose counts are published; a small one among them is given away outright)."""
        system = self._system(released, also)
        shown = set() if also is None else set(map(tuple, also.tolist()))
        return next(
            (
                t
                for t in self.targets
                if tuple(t.tolist()) in shown or self._width(system, t) < self.k - 1e-6
            ),
            None,
        )

    def width(self, released: np.ndarray, target: np.ndarray) -> float:
        return self._width(self._system(released), target)
