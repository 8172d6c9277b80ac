"""A motivated intruder for published results (issue 11): what can be worked out about the
groups the service hides, from everything a signed-in reader sees of one closed wave.

Independent of the protector (:mod:`analysis.suppression`): it builds its own equations from
the published rows — each side's areas add up to the side's all-areas cell, the two sides of
an area to its both-sides cell, in every scores and items block, and a dimension's
``n_answers`` to its items' ``n`` in the same group (the linked-table attack), the index's
``n_answers`` to every item's — and bounds each hidden count with its own linear programs
(``scipy.optimize.linprog``). A group under k is *recovered* when its range is less than k
wide.

It also holds the seeded dataset with small groups the attacks run on.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from sqlalchemy import insert

from analysis.gaps import benjamini_hochberg
from survey_app.extensions import db
from survey_app.models import Answer, Response
from survey_app.services.instruments import frozen_instrument
from survey_app.services.waves import close_wave, create_wave, open_wave

ALL, AREA_ALL = "all", "_all"


@dataclass(frozen=True)
class Finding:
    """One hidden group under k that the intruder narrowed to a range under k wide."""

    table: str
    key: tuple
    true: int
    low: float
    high: float


def _cells_equations(keys):
    """Margin equations over (side, area) cells of one block: list of (members, total)."""
    eqs = []
    by_side, by_area = defaultdict(list), defaultdict(list)
    for cell in keys:
        side, area = cell
        if area != AREA_ALL:
            by_side[side].append(cell)
        if side != ALL:
            by_area[area].append(cell)
    for side, members in by_side.items():
        eqs.append((members, (side, AREA_ALL)))
    for area, members in by_area.items():
        eqs.append((members, (ALL, area)))
    return [(m, t) for m, t in eqs if t in keys]


class _Problem:
    """Unknowns (hidden counts) and linear equations over them, with constants from shown
    counts: sum(coef * value) == 0 over every term."""

    def __init__(self):
        self.index: dict[tuple, int] = {}
        self.rows: list[dict] = []

    def term(self, key, shown_value):
        return ("const", shown_value) if shown_value is not None else ("var", key)

    def add(self, terms):
        """``terms``: list of (coef, ("const", v) | ("var", key))."""
        row: dict = defaultdict(float)
        for coef, (kind, x) in terms:
            if kind == "const":
                row["const"] += coef * x
            else:
                row[self.index.setdefault(x, len(self.index))] += coef
        self.rows.append(row)

    def ranges(self, keys):
        n = len(self.index)
        a = np.zeros((len(self.rows), n))
        b = np.zeros(len(self.rows))
        for r, row in enumerate(self.rows):
            for j, coef in row.items():
                if j == "const":
                    b[r] = -coef
                else:
                    a[r, j] = coef
        out = {}
        for key in keys:
            c = np.zeros(n)
            c[self.index[key]] = 1.0
            lo = linprog(c, A_eq=a, b_eq=b, bounds=(0, 1e7), method="highs")
            hi = linprog(-c, A_eq=a, b_eq=b, bounds=(0, 1e7), method="highs")
            assert lo.status == 0 and hi.status == 0, "the published figures are inconsistent"
            out[key] = (lo.fun, -hi.fun)
        return out


def attack_wave(published: dict[str, list[dict]], true: dict[str, list[dict]], k: int):
    """Every group under k of one wave's scores and items that the intruder narrows below k.

    ``published`` are the rows as shown (hidden rows with ``n`` None); ``true`` the stored
    rows (to know which hidden groups are under k and check the intruder's ranges).
    """
    problem = _Problem()
    shown_n = {}
    truth = {}
    for table, block in (("scores", "dimension"), ("items", "item")):
        for row, real in zip(published[table], true[table], strict=True):
            key = (table, row[block], row["side"], row["area"])
            shown_n[key] = row["n"]
            truth[key] = real["n"] or 0
            if table == "scores":
                answers = ("answers", row[block], row["side"], row["area"])
                shown_n[answers] = row.get("n_answers")
                truth[answers] = real.get("n_answers") or 0
    blocks = defaultdict(set)
    for key in shown_n:
        blocks[key[:2]].add(key[2:])
    for (table, name), cells in blocks.items():
        for members, total in _cells_equations(cells):
            terms = [
                (1.0, problem.term((table, name, *m), shown_n[(table, name, *m)])) for m in members
            ]
            terms.append(
                (-1.0, problem.term((table, name, *total), shown_n[(table, name, *total)]))
            )
            problem.add(terms)
    # Linked tables: a dimension's answers are its items' answers (the index pools all items).
    dim_of = {r["item"]: r["dimension"] for r in published["items"]}
    for key in [k_ for k_ in shown_n if k_[0] == "answers"]:
        _, dim, side, area = key
        items = [i for i, d in dim_of.items() if d == dim or dim == "index"]
        terms = [
            (1.0, problem.term(("items", i, side, area), shown_n[("items", i, side, area)]))
            for i in items
        ]
        terms.append((-1.0, problem.term(key, shown_n[key])))
        problem.add(terms)
    targets = [
        key
        for key, v in shown_n.items()
        if v is None and 0 < truth[key] < k and key[0] != "answers"
    ]
    found = []
    for key, (lo, hi) in problem.ranges(targets).items():
        assert lo - 1e-6 <= truth[key] <= hi + 1e-6
        if hi - lo < k - 1e-6:
            found.append(Finding(key[0], key[1:], truth[key], lo, hi))
    return found


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
                and s["area"] not in (AREA_ALL, "_none")
            ]  # fmt: skip
            if any((s["side"], s["area"], s["dimension"]) in hidden for s in under):
                leaks.append(f"ICC on {r['side']} all areas {r['dimension']} over a hidden area")
    for table, raw, adjusted in (
        ("gaps", "welch_p", "p_adjusted"),
        ("scores", "change_p", "change_p_adjusted"),
    ):
        rows = [r for r in published[table] if r["suppressed"] is None]
        p = np.array([np.nan if r[raw] is None else r[raw] for r in rows], dtype=float)
        expected = benjamini_hochberg(p)
        for r, e in zip(rows, expected, strict=True):
            got = r[adjusted]
            if got is None and np.isnan(e):
                continue
            if got is None or not np.isclose(got, e):
                leaks.append(
                    f"{table} {adjusted} of {r.get('area')} {r.get('dimension')} uses hidden rows"
                )
    return leaks


# ------------------------------------------------------------ a seeded wave with small groups

#: Group sizes (side, area index or None, role level) of the seeded wave: a 3-person area,
#: 1–2 person role levels, a 2-person no-area group on one side only.
SMALL_GROUPS = {
    ("client", 0, "staff"): 30, ("client", 0, "manager"): 8, ("client", 0, "executive"): 1,
    ("client", 1, "staff"): 25, ("client", 1, "manager"): 2,
    ("client", 2, "staff"): 3,
    ("client", None, "staff"): 2,
    ("supplier", 0, "staff"): 28, ("supplier", 0, "manager"): 6,
    ("supplier", 1, "staff"): 22, ("supplier", 1, "executive"): 2,
    ("supplier", 2, "staff"): 12, ("supplier", 2, "manager"): 4,
}  # fmt: skip


def seeded_wave(relationship, label: str, seed: int = 11, groups=None):
    """A closed wave with the small groups of :data:`SMALL_GROUPS` (answers random, some
    "don't know" and skipped), scored as a wave is when it closes."""
    rng = np.random.default_rng(seed)
    wave = create_wave(relationship, label)
    open_wave(wave)
    instrument = frozen_instrument(wave.instrument_version)
    areas = [a.id for a in relationship.service_areas]
    responses, answers = [], []
    for (side, area, role), n in (groups or SMALL_GROUPS).items():
        for _ in range(n):
            rid = uuid.UUID(bytes=rng.bytes(16), version=4)
            responses.append({
                "id": rid, "wave_id": wave.id, "instrument_version_id": wave.instrument_version_id,
                "side": side, "service_area_id": None if area is None else areas[area],
                "role_level": role,
            })  # fmt: skip
            for j, item in enumerate(instrument.items):
                u = rng.random()
                if u < 0.05:
                    continue
                if u < 0.15 and item.dont_know:
                    answers.append({"response_id": rid, "item_no": j, "value": None})
                    continue
                value = int(rng.integers(1, instrument.scale.points + 1))
                answers.append({"response_id": rid, "item_no": j, "value": value})
    db.session.execute(insert(Response.__table__), responses)
    db.session.execute(insert(Answer.__table__), answers)
    db.session.flush()
    close_wave(wave)
    db.session.commit()
    return wave
