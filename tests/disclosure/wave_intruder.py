"""A motivated intruder for one closed wave's published results tables (issue 11 part A).

Independent of the protector (:mod:`analysis.suppression`): it writes its own equations from
the rows as published — in every block of every table each side's areas add up to the
side's all-areas cell and the two sides of an area to its both-sides cell, hidden margins
being unknowns; a dimension's ``n_answers`` is the sum of its items' ``n`` in the same group,
the index's the sum of every item's (the linked-table attack); a gap's ``n_client`` and
``n_supplier`` are the scores cells' ``n``; the heat map's and the margins' ``n`` too where
they count the same group — and bounds each hidden count under k with integer programs
(``scipy.optimize.milp``). A group under k is *recovered* when its range is less than k wide.

With ``points`` (the scale's K) it also attacks the sums published beside the counts: each
shown mean × n and favourable / unfavourable share × answers is a known sum, the same margins
bind the sums, and a hidden sum lies between its count times the lowest and the highest value
of one unit (1 and K for a score or an answer, 0 and 1 for a share). A hidden sum of a group
under k is *recovered* when its range is less than k wide on its own scale (k scale points
for a mean × n, k answers for a share × answers: the protection level the README states).

:func:`pooled_leaks` checks the figures pooled over cells: an ICC on an all-areas row over a
hidden area (k0 and the between-area sum of squares give the hidden areas' sizes and means)
and Benjamini–Hochberg adjusted p-values that are not a function of the shown rows alone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from analysis.gaps import benjamini_hochberg

ALL, AREA_ALL, INDEX = "all", "_all", "index"
SIDES = ("client", "supplier")


#: What a row of :class:`_System` holds besides its unknowns' coefficients: the shown
#: constants' sum, an inequality's mark, and the constants' size (the sum of their absolute
#: values).
_NOT_UNKNOWNS = ("const", "le", "size")

#: How far a row's published constants may miss it. The figures are published as doubles
#: (a mean × n, a share × answers): each term carries a relative rounding of at most 2⁻⁵³
#: (about 1.1e-16) and a row adds at most a few hundred, so a true row misses by less than
#: 1e-13 of the size of its constants — ``RELATIVE`` leaves a thousandfold margin over that.
#: HiGHS accepts a point that misses a row by up to its primal feasibility tolerance (1e-7,
#: after its own scaling) and an integer within 1e-6 of a whole number: ``TOLERANCE``
#: (1e-5, absolute) keeps the true values well inside every row by HiGHS's measure, so
#: rounding never makes the system infeasible, and every point it returns is within
#: ``TOLERANCE`` plus its own tolerances. A real inconsistency still fails: a count off by
#: one misses by 1, a mean × n off by a thousandth of a point in a group of ten by 0.01,
#: both far beyond 1e-5 + 1e-10 × the constants (2e-5 for a row of 100,000 points).
TOLERANCE = 1e-5
RELATIVE = 1e-10


@dataclass(frozen=True)
class Finding:
    """One hidden group under k that the intruder narrowed to a range under k wide."""

    key: tuple
    true: int
    low: float
    high: float


class _System:
    """Unknowns (hidden counts, integer; hidden sums, real) and rows ``Σ coef · value = 0``
    (or ``<= 0``) over unknowns and shown constants. Sum keys start with ``"sum"``."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.rows: list[dict] = []
        self.shown: dict[tuple, float | None] = {}

    def equal(self, terms: list[tuple[float, tuple]], *, at_most: bool = False) -> None:
        row: dict = defaultdict(float)
        for coef, key in terms:
            value = self.shown[key]
            if value is not None:
                row["const"] += coef * value
                row["size"] += abs(coef * value)
            else:
                row[self.index.setdefault(key, len(self.index))] += coef
        if at_most:
            row["le"] = 1.0
        if any(j not in _NOT_UNKNOWNS for j in row):
            self.rows.append(row)

    def ranges(
        self, keys: list[tuple], *, wide_enough: float = np.inf, known: dict | None = None
    ) -> dict[tuple, tuple[float, float]]:
        """The integer range of each of ``keys``, each over the equations of its component.

        Every solution an integer program returns is a point that satisfies every equation,
        and so is ``known`` (e.g. the true values) when it does: the values a key takes at
        the points found so far lie inside its range. Where they already span
        ``wide_enough``, that span is returned (the range is at least that wide, which is
        all a caller comparing with ``wide_enough`` needs) and the key's own two programs
        are not run; otherwise its exact range is solved."""
        out = {}
        components: dict[int, _Component] = {}
        for key in keys:
            if key not in self.index:  # in no equation: nothing bounds it
                out[key] = (0.0, np.inf)
                continue
            root = self._root(self.index[key])
            if root not in components:
                components[root] = _Component(self, root, known)
            out[key] = components[root].range(self.index[key], wide_enough)
        return out

    def _root(self, i: int) -> int:
        if not hasattr(self, "_parent"):
            parent = list(range(len(self.index)))

            def root(i: int) -> int:
                while parent[i] != i:
                    parent[i] = parent[parent[i]]
                    i = parent[i]
                return i

            for row in self.rows:
                js = [j for j in row if j not in _NOT_UNKNOWNS]
                for j in js[1:]:
                    parent[root(j)] = root(js[0])
            self._parent = [root(i) for i in range(len(parent))]
        return self._parent[i]


class _Component:
    """The equations of one connected set of unknowns, as one integer program's
    constraints, and the feasible points found for them so far."""

    def __init__(self, system: _System, root: int, known: dict | None) -> None:
        names = {j: key for key, j in system.index.items()}
        self.cols = [j for j in range(len(system.index)) if system._root(j) == root]
        self.where = {j: i for i, j in enumerate(self.cols)}
        rows = [r for r in system.rows if any(j in self.where for j in r if j not in _NOT_UNKNOWNS)]
        a = np.zeros((len(rows), len(self.cols)))
        b = np.array([-row.get("const", 0.0) for row in rows])
        tol = TOLERANCE + RELATIVE * np.array([row.get("size", 0.0) for row in rows])
        low = np.where([("le" in row) for row in rows], -np.inf, b - tol)
        for r, row in enumerate(rows):
            for j, coef in row.items():
                if j not in _NOT_UNKNOWNS:
                    a[r, self.where[j]] += coef
        self.integer = np.array([names[j][0] != "sum" for j in self.cols])
        self.constraint = LinearConstraint(a, low, b + tol)
        self.points: list[np.ndarray] = []
        if known is not None:
            point = np.array([known.get(names[j], np.nan) for j in self.cols], dtype=float)
            if self._feasible(a, low, b + tol, point):
                self.points.append(point)

    def _feasible(self, a, low, high, point) -> bool:
        if np.isnan(point).any() or (point < 0).any() or (point > 1e6).any():
            return False
        if not np.allclose(point[self.integer], np.round(point[self.integer])):
            return False
        value = a @ point
        return bool(np.all(value >= low) and np.all(value <= high))

    def range(self, j: int, wide_enough: float) -> tuple[float, float]:
        i = self.where[j]
        if self.points:
            seen = np.array([p[i] for p in self.points])
            if seen.max() - seen.min() >= wide_enough:
                return float(seen.min()), float(seen.max())
        c = np.zeros(len(self.cols))
        c[i] = 1.0
        ends = []
        for sign in (1.0, -1.0):
            res = milp(
                sign * c,
                constraints=self.constraint,
                integrality=self.integer.astype(float),
                bounds=Bounds(np.zeros(len(self.cols)), np.full(len(self.cols), 1e6)),
            )
            assert res.status == 0, "the published figures are inconsistent"
            ends.append(sign * res.fun)
            self.points.append(res.x)
        return ends[0], ends[1]


def _cube_equations(
    system: _System, prefix: tuple, cells: set[tuple[str, str]], suffix: tuple = ()
) -> None:
    by_side, by_area = defaultdict(list), defaultdict(list)
    for side, area in cells:
        if area != AREA_ALL:
            by_side[side].append((side, area))
        if side != ALL:
            by_area[area].append((side, area))
    for side, members in by_side.items():
        if (side, AREA_ALL) in cells:
            system.equal(
                [(1.0, (*prefix, *m, *suffix)) for m in members]
                + [(-1.0, (*prefix, side, AREA_ALL, *suffix))]
            )
    for area, members in by_area.items():
        if (ALL, area) in cells:
            system.equal(
                [(1.0, (*prefix, *m, *suffix)) for m in members]
                + [(-1.0, (*prefix, ALL, area, *suffix))]
            )


def attack_wave(
    published: dict[str, list[dict]],
    true: dict[str, list[dict]],
    k: int,
    points: int | None = None,
    *,
    shares: bool = True,
):
    """Every hidden group under k of one wave that the intruder narrows below k (its count,
    or with ``points`` its sums: see the module's notes; ``shares`` False attacks the
    means' sums only, the sums the service protects).

    ``published`` are the rows as shown (a hidden row has ``n`` None), ``true`` the stored
    rows in the same order (to know which hidden groups are under k and check the ranges).
    Tables: ``scores`` and ``items`` (required), any of ``gaps``, ``heat_map``, ``margins``,
    ``drivers`` and ``relative_weights``.
    """
    system = _System()
    truth: dict[tuple, float] = {}
    blocks: dict[tuple, set] = defaultdict(set)

    def put(key: tuple, shown, real) -> None:
        system.shown[key] = shown
        truth[key] = real or 0

    for table, block in (("scores", "dimension"), ("items", "item")):
        for row, real in zip(published[table], true[table], strict=True):
            key = (table, row[block], row["side"], row["area"])
            put(key, row["n"], real["n"])
            blocks[key[:2]].add(key[2:])
            if table == "scores":
                answers = ("answers", row[block], row["side"], row["area"])
                put(answers, row.get("n_answers"), real.get("n_answers"))
                blocks[answers[:2]].add(answers[2:])
    for table in ("drivers", "relative_weights"):
        for row, real in zip(published.get(table, []), true.get(table, []), strict=True):
            key = (table, (row["outcome"], row["dimension"]), row["side"], row["area"])
            put(key, row["n"], real["n"])
            blocks[key[:2]].add(key[2:])
    for (table, name), cells in blocks.items():
        _cube_equations(system, (table, name), cells)
    # Linked tables: a dimension's answers are its items' answers (the index pools all items).
    dim_of = {r["item"]: r["dimension"] for r in published["items"]}
    for key in [key for key in system.shown if key[0] == "answers"]:
        _, dim, side, area = key
        items = [i for i, d in dim_of.items() if d == dim or dim == INDEX]
        system.equal([(1.0, ("items", i, side, area)) for i in items] + [(-1.0, key)])
    # The same groups in other tables: gaps' n per side, the heat map's and margins' n.
    for row, real in zip(published.get("gaps", []), true.get("gaps", []), strict=True):
        for side in SIDES:
            key = ("gaps", row["dimension"], side, row["area"])
            put(key, row[f"n_{side}"], real[f"n_{side}"])
            system.equal([(1.0, key), (-1.0, ("scores", row["dimension"], side, row["area"]))])
    for table in ("heat_map", "margins"):
        for row, real in zip(published.get(table, []), true.get(table, []), strict=True):
            key = (table, row["dimension"], row["side"], row["area"])
            same = ("scores", row["dimension"], row["side"], row["area"])
            put(key, row["n"], real["n"])
            if same in truth and truth[same] == (real["n"] or 0):
                system.equal([(1.0, key), (-1.0, same)])
    sums: set[tuple] = set()
    if points is not None:
        sums = _sum_equations(system, truth, published, true, blocks, points, shares)
    targets = [
        key
        for key, v in system.shown.items()
        if v is None and 0 < truth[key] < k and key[0] != "answers"
    ]
    targets += [key for key in sums if system.shown[key] is None and 0 < truth[key[1:]] < k]
    found = []
    # A range already seen k wide needs no integer programs of its own (see ranges).
    for key, (lo, hi) in system.ranges(targets, wide_enough=k - 1e-6, known=truth).items():
        slack = 1e-5 * (1.0 + abs(truth[key]))  # shown means carry their rounding
        assert lo - slack <= truth[key] <= hi + slack, (key, lo, hi, truth[key])
        if hi - lo < k - 1e-6:
            found.append(Finding(key, truth[key], lo, hi))
    return found


def _sum_equations(
    system: _System, truth, published, true, blocks, points: int, shares: bool
) -> set:
    """The sums of the scores and items rows as unknowns or constants, their margins and
    their bounds; returns the sums' keys."""
    sums = set()
    share = (("favourable_pct", 0.0, 1.0), ("unfavourable_pct", 0.0, 1.0)) if shares else ()
    for table, block in (("scores", "dimension"), ("items", "item")):
        answers = "n_answers" if table == "scores" else "n"
        for row, real in zip(published[table], true[table], strict=True):
            count = (table, row[block], row["side"], row["area"])
            units = ("answers", *count[1:]) if table == "scores" else count
            for value, lo, hi in (("mean", 1.0, float(points)), *share):
                key = ("sum", *count, value)
                scale = 100.0 if value.endswith("_pct") else 1.0

                def total(r, n_column=answers if value.endswith("_pct") else "n", v=value):
                    if r[n_column] is None or r[v] is None:
                        return None if r[n_column] is None else 0.0
                    return r[v] / scale * r[n_column]

                system.shown[key] = total(row)
                truth[key] = total(real) or 0.0
                truth[key[1:]] = truth[count]  # a sum's target test reads its group's count
                sums.add(key)
                n_key = count if value == "mean" else units
                system.equal([(1.0, key), (-hi, n_key)], at_most=True)
                system.equal([(-1.0, key), (lo, n_key)], at_most=True)
    for (table, name), cells in blocks.items():
        if table in ("scores", "items"):
            for value in ("mean", *(name for name, _, _ in share)):
                _cube_equations(system, ("sum", table, name), cells, suffix=(value,))
    return sums


def pooled_leaks(published: dict[str, list[dict]]) -> list[str]:
    """Pooled statistics published over hidden cells: ICC on an all-areas row with a hidden
    area under it, and adjusted p-values that are not a function of the shown rows alone."""
    leaks = []
    scores = published["scores"]
    hidden = {(r["side"], r["area"], r["dimension"]) for r in scores if r["suppressed"]}
    for r in scores:
        if r["area"] == AREA_ALL and (r["icc1"] is not None or r["icc2"] is not None):
            under = [
                s for s in scores
                if s["side"] == r["side"] and s["dimension"] == r["dimension"]
                and s["area"] != AREA_ALL
            ]  # fmt: skip
            if any((s["side"], s["area"], s["dimension"]) in hidden for s in under):
                leaks.append(f"ICC on {r['side']} all areas {r['dimension']} over a hidden area")
    for table, raw, adjusted in (
        ("gaps", "welch_p", "p_adjusted"),
        ("scores", "change_p", "change_p_adjusted"),
    ):
        rows = [r for r in published[table] if r["suppressed"] is None]
        p = np.array([np.nan if r[raw] is None else r[raw] for r in rows], dtype=float)
        expected = benjamini_hochberg(p) if p.size else p
        for r, e in zip(rows, expected, strict=True):
            got = r[adjusted]
            if got is None and np.isnan(e):
                continue
            if got is None or not np.isclose(got, e):
                leaks.append(f"{table} {adjusted} of {r.get('area')} {r.get('dimension')}")
    return leaks
