"""An independent intruder for the disclosure tests: what can be worked out from what is shown.

It knows the domain (sides, areas, role levels), the counts and sums of a set of published
cells (any margin of side × area × role level, ``ALL`` on a summed axis), and optionally the
raw released rows (each with its side, area and role level, any of them generalised to
``OTHER``, and its value). It writes a mixed-integer program: ``x[b, t]`` rows of released
group ``b`` truly in base cell ``t``, ``y[b, t]`` their sum of values; each published cell and
each released group adds its equations; and asks the range of a base cell's count and sum
(scipy's HiGHS ``milp``). A count or sum with a range narrower than a response's worth is
worked out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import product

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

ALL = "*"
OTHER = "_other"

Cell = tuple[str | None, str | None, str | None]


@dataclass(frozen=True)
class Released:
    side: str
    area: str | None
    role: str | None
    value: float


def _in(cell: Cell, base: Cell) -> bool:
    return all(c in (ALL, b) for c, b in zip(cell, base, strict=True))


def _compatible(group: Cell, base: Cell) -> bool:
    return all(g in (OTHER, b) for g, b in zip(group, base, strict=True))


class Intruder:
    """The feasible base-cell counts and sums given what was published (see module notes)."""

    def __init__(
        self,
        domain: tuple[Iterable[str | None], Iterable[str | None], Iterable[str | None]],
        published: Mapping[Cell, tuple[int, float]],
        released: Iterable[Released] = (),
        *,
        value_range: tuple[float, float] = (0.0, 5.0),
    ) -> None:
        self.bases: list[Cell] = list(product(*[list(axis) for axis in domain]))
        released = list(released)
        groups: dict[Cell, list[float]] = defaultdict(list)
        for row in released:
            groups[(row.side, row.area, row.role)].append(row.value)
        if not released:  # the published tables alone: one unknown group of any size
            groups[(OTHER, OTHER, OTHER)] = []
        self.vars: list[tuple[Cell, Cell]] = [
            (g, t) for g in groups for t in self.bases if _compatible(g, t)
        ]
        n = len(self.vars)
        lo, hi = value_range
        rows, lower, upper = [], [], []

        def equation(coefs: dict[int, float], value: float, upper_value: float | None = None):
            row = np.zeros(2 * n)
            for i, c in coefs.items():
                row[i] += c
            rows.append(row)
            lower.append(value)
            upper.append(value if upper_value is None else upper_value)

        for g, values in groups.items():
            mine = [i for i, (gg, _) in enumerate(self.vars) if gg == g]
            if released:
                equation(dict.fromkeys(mine, 1.0), len(values))
                equation({n + i: 1.0 for i in mine}, float(sum(values)))
        for cell, (count, total) in published.items():
            inside = [i for i, (_, t) in enumerate(self.vars) if _in(cell, t)]
            equation(dict.fromkeys(inside, 1.0), count)
            equation({n + i: 1.0 for i in inside}, total)
        for i in range(n):  # lo·x <= y <= hi·x
            equation({n + i: 1.0, i: -lo}, 0.0, np.inf)
            equation({n + i: 1.0, i: -hi}, -np.inf, 0.0)
        self._n = n
        self._points: list[np.ndarray] = []  # the integer programs' solutions
        self._constraint = LinearConstraint(np.array(rows), lower, upper)
        self._integrality = np.r_[np.ones(n), np.zeros(n)]
        big = sum(len(v) for v in groups.values()) or 10**6
        self._bounds = Bounds(np.zeros(2 * n), np.r_[np.full(n, big), np.full(n, big * hi)])

    def _range(self, coefs: np.ndarray) -> tuple[float, float]:
        ends = []
        for sign in (1.0, -1.0):
            res = milp(
                sign * coefs,
                constraints=self._constraint,
                integrality=self._integrality,
                bounds=self._bounds,
            )
            assert res.status == 0, f"the intruder's program is infeasible: {res.message}"
            ends.append(sign * res.fun)
            self._points.append(res.x)
        return ends[0], ends[1]

    def _seen_apart(self, coefs: np.ndarray) -> bool:
        """Two solutions found so far (each satisfies every equation) give ``coefs · x``
        values a response's worth apart: it is not pinned, whatever its exact range."""
        seen = [float(coefs @ x) for x in self._points]
        return bool(seen) and max(seen) - min(seen) >= 0.5

    def _coefs(self, base: Cell, *, sums: bool = False) -> np.ndarray:
        """The base cell's count (or with ``sums`` its sum) as a linear function."""
        coefs = np.zeros(2 * self._n)
        offset = self._n if sums else 0
        for i, (_, t) in enumerate(self.vars):
            if t == base:
                coefs[offset + i] = 1.0
        return coefs

    def count_range(self, base: Cell) -> tuple[float, float]:
        return self._range(self._coefs(base))

    def sum_range(self, base: Cell) -> tuple[float, float]:
        return self._range(self._coefs(base, sums=True))

    def worked_out(self, base: Cell) -> bool:
        """The base cell's count or its sum is pinned to less than one response's worth
        (a range is solved only where the solutions found so far do not already show two
        values a response's worth apart)."""
        for sums in (False, True):
            coefs = self._coefs(base, sums=sums)
            if self._seen_apart(coefs):
                continue
            low, high = self._range(coefs)
            if high - low < 0.5:
                return True
        return False


def margins_of(truth: Iterable[tuple[Cell, float]]) -> dict[Cell, tuple[int, float]]:
    """Count and sum of every cell of the cube (each axis a value or ``ALL``)."""
    out: dict[Cell, list[float]] = defaultdict(lambda: [0, 0.0])
    for base, value in truth:
        for cell in product(*[(v, ALL) for v in base]):
            out[cell][0] += 1
            out[cell][1] += value
    return {cell: (int(c), float(s)) for cell, (c, s) in out.items()}


def small_cells(truth: Iterable[tuple[Cell, float]], k: int) -> list[Cell]:
    counts = Counter(base for base, _ in truth)
    return sorted((c for c, n in counts.items() if n < k), key=str)
