"""Everything published for one closed wave, as one linear system an intruder solves.

Independent of the service's code (it reads only what is shown): the unknowns are the counts
of the wave's responses in each base cell of side × service area × role level, and what each
publication says about them is an equation —

* **results tables**: a shown cell (any margin of the cube: a side × area cell of the
  scores, a side's all-areas row, a role-level cut) holds so many responses;
* **the raw download**: each released combination (side, area and role level, any of them
  "Other") holds so many rows, each of them truly in one base cell it is compatible with
  (``y[g, t]``, the rows of group ``g`` truly in base cell ``t``; the rows of all groups in
  ``t`` are its count);
* **the monitor**: invited = started + not started + submitted per party and invitation area,
  each party the sum of its areas, both parties the sum of the parties, the shown counts
  known, the hidden ones unknowns; and the link to the responses: an invitation naming an
  area fixes its respondent's area, so a party's responses in area A are its submitted
  invitations of area A plus those of its invitations without an area whose respondents
  chose A (``z[side, area]``, which add up to the submitted invitations without an area).

:meth:`WaveSystem.count_range` bounds any sum of unknowns: first the linear program
(``scipy.optimize.linprog``), whose range holds the integer one, then, where that is not
already narrow, the integer program (``scipy.optimize.milp``) over non-negative integer
counts. A hidden count under k is *narrowed* when its integer range is less than k wide.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from itertools import product

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from tests.disclosure.intruder import ALL, Cell
from tests.disclosure.intruder import _compatible as compatible
from tests.disclosure.intruder import _in as within


class WaveSystem:
    """The published equations of one wave over non-negative integer unknowns."""

    def __init__(self, sides: Iterable[str], areas: Iterable, roles: Iterable) -> None:
        self.bases: list[Cell] = list(product(list(sides), list(areas), list(roles)))
        self.index: dict[tuple, int] = {}
        self.equations: list[tuple[dict[int, float], float]] = []
        for base in self.bases:
            self.unknown(("x", base))

    def unknown(self, key: tuple) -> int:
        return self.index.setdefault(key, len(self.index))

    def equal(self, terms: Mapping[tuple, float], value: float) -> None:
        row: dict[int, float] = {}
        for key, coef in terms.items():
            j = self.unknown(key)
            row[j] = row.get(j, 0.0) + coef
        self.equations.append((row, float(value)))

    def responses_in(self, cell: Cell) -> dict[tuple, float]:
        """The terms of the count of responses in ``cell`` (any margin of the cube)."""
        return {("x", base): 1.0 for base in self.bases if within(cell, base)}

    # ------------------------------------------------------------------ what is published

    def results(self, shown: Mapping[Cell, int]) -> None:
        """Shown results cells: each holds so many responses."""
        for cell, count in shown.items():
            self.equal(self.responses_in(cell), count)

    def raw_download(self, groups: Mapping[Cell, int]) -> None:
        """The released rows: so many per released combination, each truly in one base cell
        it is compatible with (every response of the wave is released)."""
        into: dict[Cell, dict[tuple, float]] = {base: {("x", base): -1.0} for base in self.bases}
        for group, count in groups.items():
            mine = {("y", group, t): 1.0 for t in self.bases if compatible(group, t)}
            assert mine, f"released group {group} fits no cell of the domain"
            self.equal(mine, count)
            for key in mine:
                into[key[2]][key] = 1.0
        for terms in into.values():
            self.equal(terms, 0)

    def monitor(self, feed: Mapping) -> None:
        """The monitor's feed (rows, parties, total; a hidden figure is None) and its link
        to the responses (see the module notes)."""
        figures = ("invited", "started", "not_started", "submitted")
        rows = [*feed["rows"], *feed["parties"], feed["total"]]

        def m(figure: str, row) -> tuple:
            return ("m", figure, row["side"], row["area"])

        for row in rows:
            for figure in figures:
                if row.get(figure) is not None:
                    self.equal({m(figure, row): 1.0}, row[figure])
            self.equal({m("invited", row): 1.0, **{m(f, row): -1.0 for f in figures[1:]}}, 0)
        for figure in figures:
            for party in feed["parties"]:
                mine = [r for r in feed["rows"] if r["side"] == party["side"]]
                self.equal({m(figure, party): 1.0, **{m(figure, r): -1.0 for r in mine}}, 0)
            self.equal(
                {m(figure, feed["total"]): 1.0, **{m(figure, p): -1.0 for p in feed["parties"]}},
                0,
            )
        areas = sorted({base[1] for base in self.bases}, key=str)
        for party in feed["parties"]:
            side = party["side"]
            by_area = {r["area"]: r for r in feed["rows"] if r["side"] == side}
            chose = {("z", side, area): 1.0 for area in areas}
            if "_none" in by_area:  # invitations without an area: their respondents chose
                self.equal({**chose, m("submitted", by_area["_none"]): -1.0}, 0)
            else:
                self.equal(chose, 0)
            for area in areas:
                terms = self.responses_in((side, area, ALL))
                terms[("z", side, area)] = -1.0
                if area is not None and area in by_area:
                    terms[m("submitted", by_area[area])] = -1.0
                self.equal(terms, 0)

    # ------------------------------------------------------------------ the intruder's answer

    def _matrix(self) -> tuple[np.ndarray, np.ndarray]:
        a = np.zeros((len(self.equations), len(self.index)))
        b = np.zeros(len(self.equations))
        for r, (row, value) in enumerate(self.equations):
            for j, coef in row.items():
                a[r, j] = coef
            b[r] = value
        return a, b

    def count_range(
        self, terms: Mapping[tuple, float], *, wide_enough: float = math.inf
    ) -> tuple[float, float]:
        """The least and greatest value of ``Σ coef · unknown`` that every published
        equation allows, the unknowns non-negative integers.

        Every integer solution found so far (the integer programs', and the linear
        programs' where they are whole numbers) satisfies every equation, so the values the
        sum takes at them lie inside its integer range. Where they already span
        ``wide_enough``, the integer range is at least that wide: the linear program's range
        (which holds it) is returned without the integer programs."""
        if not hasattr(self, "_solved"):
            self._solved = self._matrix()
            self._points: list[np.ndarray] = []
        a, b = self._solved
        c = np.zeros(len(self.index))
        for key, coef in terms.items():
            c[self.index[key]] += coef
        ends = []
        for sign in (1.0, -1.0):
            res = linprog(sign * c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
            assert res.status in (0, 3), f"the published figures are inconsistent: {res.message}"
            ends.append(math.inf if res.status == 3 else sign * res.fun)
            if res.status == 0 and np.allclose(res.x, np.round(res.x), atol=1e-7):
                self._points.append(np.round(res.x))
        low, high = math.ceil(ends[0] - 1e-6), math.floor(ends[1] + 1e-6)
        seen = [float(c @ x) for x in self._points]
        if high - low >= 1 and not (seen and max(seen) - min(seen) >= wide_enough):
            ends = []
            for sign in (1.0, -1.0):
                res = milp(
                    sign * c,
                    constraints=LinearConstraint(a, b, b),
                    integrality=np.ones(len(self.index)),
                    bounds=Bounds(0, 1e6),
                )
                assert res.status == 0, f"the integer program failed: {res.message}"
                ends.append(sign * res.fun)
                self._points.append(np.round(res.x))
            low, high = round(ends[0]), round(ends[1])
        return low, high
