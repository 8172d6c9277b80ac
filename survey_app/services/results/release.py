"""The k-anonymous release of a closed wave's raw responses (DESIGN §4.14, issue 11 part 2).

The raw ``responses`` download releases each response with its side, service area and role
level recoded: :func:`analysis.anonymity.protect_release` generalises them — role level, then
area, then side — until every released combination holds at least k responses (the wave's own
k) and, together with the side × area cells the wave's results show, narrows no group of fewer
than k to a range under k wide; a wave of fewer than k responses is withheld.

The recoding moves whole groups (responses alike on all three), so it is stored as one
:class:`~survey_app.models.ReleasedGroup` per group, with the group's size. It depends only on
the wave's responses, its k and its published scores, so :func:`store_release` computes it
once, when the wave's results are stored (at close and on ``relhealth recompute``), and the
download reads it (:func:`~survey_app.services.results.store.wave_release`): the audit's
linear programs cost far more than writing the rows (benchmarks/README.md, *Export*). Which
groups' comments the download gives is decided when it is read, under the comment threshold
then in force.

The release is also the audit of the dashboard's role-level cuts (:func:`cells_given_whole`):
a side × area × role-level cell whose responses are exactly the download's rows released with
its values reveals nothing the download does not; one whose every response is released with
its values but that an "Other" row could be in says that row is elsewhere, and is shown only
when its count, as a further equation of the release's audit, narrows no small group
(:func:`role_cell_audit`). No other role cut is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import product
from typing import Any

import numpy as np
from sqlalchemy import String, cast, delete, func, insert, select

from analysis.anonymity import (
    GENERALISED,
    SUMMED,
    Recoding,
    counts_publishable,
    protect_release,
)
from survey_app.extensions import db
from survey_app.models import SIDES as SIDE_NAMES
from survey_app.models import ReleasedGroup, Response, ServiceArea, Wave
from survey_app.services.results.loading import WaveAnswers, submitted_per_invitation_area
from survey_app.services.results.publication import min_cell_size
from survey_app.services.results.vocabulary import (
    AREA_ALL,
    AREA_NONE,
    INDEX,
    ROLE_KEYS,
    ROLE_NONE,
    SIDES,
    SUPPRESSED,
)

#: The order the release generalises the quasi-identifiers in: role level, area, side.
GENERALISE = (2, 1, 0)
#: A group of a wave's responses: (side, service area id or None, role level or None).
GroupKey = tuple[str, int | None, str | None]
#: A cell of a wave's side × service area × role level cube, as the role cuts name it: side or
#: ``all``; area key, :data:`AREA_NONE` or :data:`AREA_ALL`; role level or :data:`ROLE_NONE`.
Cell = tuple[str, str, str]


def release_groups(
    wave: Wave,
    scores: Sequence[Mapping[str, Any]],
    groups: Sequence[tuple[GroupKey, int]] | None = None,
) -> list[ReleasedGroup]:
    """The release of every group of ``wave``'s responses (not stored), given the wave's
    published ``scores`` rows (with their ``suppressed`` entry) and, where the caller holds
    them, the wave's ``groups`` (:func:`response_groups`; read from the database otherwise).

    The recoding moves whole groups, and it depends on the responses only through each
    group's size and the order in which the groups first appear in response-key order (the
    order decides its ties): so the groups are taken counted, in that order, and given to
    :func:`~analysis.anonymity.protect_release` as rows in blocks — the same recoding as the
    responses one by one, without a row per response (a full recompute read 1,000,000 of
    them, ~9 s of CPU on SQLite).
    """
    found = _counted_groups(wave) if groups is None else list(groups)
    if not found:
        return []
    keys, sizes, codes, index = _coded(found)
    k = min_cell_size(wave.min_cell_size)
    area_ids = _area_ids(wave)
    recoding = protect_release(
        np.repeat(codes, sizes, axis=0),
        _published_cells(scores, index, area_ids),
        generalise=GENERALISE,
        k=k,
        at_least=_monitored_cells(wave, index, area_ids),
    )
    # whole groups move: each group's first row says how it goes
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return [
        ReleasedGroup(
            wave_id=wave.id,
            side=side,
            service_area_id=area_id,
            role_level=role,
            n_responses=n,
            min_cell_size=k,
            side_generalised=side_g,
            area_generalised=area_g,
            role_generalised=role_g,
            withheld=withheld,
        )
        for (side, area_id, role), n, (side_g, area_g, role_g), withheld in zip(
            keys,
            sizes.tolist(),
            recoding.generalised[first].tolist(),
            recoding.withheld[first].tolist(),
            strict=True,
        )
    ]


def _counted_groups(wave: Wave) -> list[tuple[GroupKey, int]]:
    """The groups of a wave's responses with their counts, read from the database in the
    order they first appear in response-key order."""
    first_key = func.min(cast(Response.id, String))  # the text form sorts as the key does
    found = db.session.execute(
        select(Response.side, Response.service_area_id, Response.role_level, func.count())
        .where(Response.wave_id == wave.id)
        .group_by(Response.side, Response.service_area_id, Response.role_level)
        .order_by(first_key)
    ).all()
    return [((side, area_id, role), int(n)) for side, area_id, role, n in found]


def response_groups(answers: WaveAnswers) -> list[tuple[GroupKey, int]]:
    """The groups of a wave's responses with their counts, in the order they first appear,
    from the wave's answers as loaded (rows in response-key order; role codes index
    :data:`ROLE_KEYS`, which are the only role levels a response can be given): what
    :func:`_counted_groups` reads, without reading the responses again."""
    n_areas, n_roles = len(answers.area_ids) + 1, len(ROLE_KEYS) + 1
    key = (answers.side.astype(np.int64) * n_areas + answers.area + 1) * n_roles + answers.role + 1
    values, first, counts = np.unique(key, return_index=True, return_counts=True)
    seen = np.argsort(first)
    out = []
    for value, n in zip(values[seen].tolist(), counts[seen].tolist(), strict=True):
        rest, role = divmod(value, n_roles)
        side, area = divmod(rest, n_areas)
        group = (
            SIDE_NAMES[side],
            answers.area_ids[area - 1] if area else None,
            ROLE_KEYS[role - 1] if role else None,
        )
        out.append((group, n))
    return out


def _coded(
    found: Sequence[tuple[GroupKey, int]],
) -> tuple[list[GroupKey], np.ndarray, np.ndarray, list[dict[Any, int]]]:
    """Counted groups (in order of first appearance) as the release's audit takes them: their
    keys, their sizes, their codes (a row per group) and each column's ``value -> code``,
    values coded in order of first appearance (None a value like any other)."""
    keys = [g for g, _ in found]
    sizes = np.array([n for _, n in found], dtype=np.int64)
    columns = list(zip(*keys, strict=True))
    index: list[dict[Any, int]] = [{v: i for i, v in enumerate(dict.fromkeys(c))} for c in columns]
    codes = np.array([[index[c][v] for c, v in enumerate(g)] for g in keys], dtype=np.int64)
    return keys, sizes, codes, index


def _area_ids(wave: Wave) -> dict[str, int]:
    """``area key -> id`` of the wave's relationship."""
    return dict(
        db.session.execute(
            select(ServiceArea.key, ServiceArea.id).where(
                ServiceArea.relationship_id == wave.relationship_id
            )
        ).all()
    )


def _published_cells(
    scores: Sequence[Mapping[str, Any]], index: list[dict[Any, int]], area_ids: dict[str, int]
) -> list[tuple[int, int, int]]:
    """The side × area cells (margins included) the wave's results show, as codes of the
    wave's quasi-identifiers (:data:`~analysis.anonymity.SUMMED` where a cell sums)."""
    cells = set()
    for row in scores:
        if row["dimension"] != INDEX or row[SUPPRESSED] is not None:
            continue
        side = SUMMED if row["side"] == "all" else index[0].get(row["side"])
        area = {AREA_ALL: SUMMED, AREA_NONE: index[1].get(None)}.get(
            row["area"], index[1].get(area_ids.get(row["area"]))
        )
        if side is not None and area is not None:  # else no response: nothing to say
            cells.add((side, area, SUMMED))
    return sorted(cells)


def _monitored_cells(
    wave: Wave, index: list[dict[Any, int]], area_ids: dict[str, int]
) -> list[tuple[tuple[int, int, int], int]]:
    """The response-rate monitor's submitted invitations naming an area, as lower bounds on
    the side × area cells (codes as :func:`_published_cells`): its respondents are there."""
    out = []
    for (side, key), n in submitted_per_invitation_area(wave).items():
        side_code = index[0].get(side)
        area_code = index[1].get(area_ids.get(key)) if key is not None else None
        if side_code is not None and area_code is not None:
            out.append(((side_code, area_code, SUMMED), n))
    return out


def store_release(
    wave: Wave,
    scores: Sequence[Mapping[str, Any]],
    groups: Sequence[tuple[GroupKey, int]] | None = None,
) -> None:
    """Compute and store the release of ``wave``'s responses, replacing any stored (flushes);
    ``groups`` as :func:`release_groups`."""
    db.session.execute(delete(ReleasedGroup).where(ReleasedGroup.wave_id == wave.id))
    released = release_groups(wave, scores, groups)
    records = [{c: getattr(g, c) for c in RELEASED_COLUMNS} for g in released]
    if records:
        db.session.execute(insert(ReleasedGroup), records)
    db.session.flush()


RELEASED_COLUMNS = (
    "wave_id",
    "side",
    "service_area_id",
    "role_level",
    "n_responses",
    "min_cell_size",
    "side_generalised",
    "area_generalised",
    "role_generalised",
    "withheld",
)


def stored_release(wave: Wave) -> list[ReleasedGroup] | None:
    """The stored release of a wave's responses; None when none is stored that covers every
    response the wave holds now under its k now (a wave closed before releases were stored,
    one given a new k and not yet rebuilt, or an open wave)."""
    groups = list(db.session.scalars(select(ReleasedGroup).where(ReleasedGroup.wave_id == wave.id)))
    held = db.session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave.id))
    if not held:
        return []
    k = min_cell_size(wave.min_cell_size)
    if sum(g.n_responses for g in groups) != held or any(g.min_cell_size != k for g in groups):
        return None
    return groups


def cells_given_whole(
    groups: Sequence[ReleasedGroup], areas: Mapping[int, str], *, others_placed: bool = False
) -> dict[Cell, tuple[int, bool]]:
    """Every side × area × role-level cell of a wave (margins over side and area; the role
    level always named) with its count and whether the release ``groups`` give it whole
    (``areas``: the relationship's service area keys by id).

    A cell is given whole when the download's rows that could be in it, by the values they
    are released with, are exactly its responses: every response in it is released (not
    withheld) with every field the cell names kept — its side unless the cell is all sides,
    its area unless all areas, and its role level — and no row released with a field
    generalised ("Other") could be in it. Then its count, means, shares and items are those
    of the rows the download releases with the cell's values, so showing the cell adds
    nothing to what the download's audit (:func:`release_groups`) allowed; a non-empty one
    is a union of released combinations, so holds at least the release's k.

    A generalised row that is not in a cell it could be in must keep the cell hidden: shown,
    the cell's count would say the row is elsewhere, and shown neighbours then place it
    (e.g. a side's staff of every named area shown, and its staff of all areas: the staff
    released without an area gave none, and the side's no-area count minus them singles out
    its few managers) — unless ``others_placed``: the cells' counts have been audited with
    the release (:func:`role_cell_audit`), and only the first condition is asked.
    """
    released = [
        (
            g,
            (
                g.side,
                AREA_NONE if g.service_area_id is None else areas[g.service_area_id],
                g.role_level or ROLE_NONE,
            ),
            (g.side_generalised, g.area_generalised, g.role_generalised),
        )
        for g in groups
    ]
    out: dict[Cell, tuple[int, bool]] = {}
    for cell in product(
        (*SIDES, "all"), (*sorted(areas.values()), AREA_NONE, AREA_ALL), (*ROLE_KEYS, ROLE_NONE)
    ):
        named = (cell[0] != "all", cell[1] != AREA_ALL, True)  # the fields the cell names
        n, whole = 0, True
        for g, values, generalised in released:
            inside = all(not f or v == c for f, v, c in zip(named, values, cell, strict=True))
            could_be = g.withheld or all(
                not f or gen or v == c
                for f, gen, v, c in zip(named, generalised, values, cell, strict=True)
            )
            given = not g.withheld and not any(
                f and gen for f, gen in zip(named, generalised, strict=True)
            )
            n += g.n_responses if inside else 0
            whole = whole and (not (inside or could_be and not others_placed) or given)
        out[cell] = (n, whole)
    return out


def role_cell_audit(
    wave: Wave, groups: Sequence[ReleasedGroup], scores: Sequence[Mapping[str, Any]]
) -> Callable[[Sequence[Cell]], bool]:
    """The audit of role cells' counts beside the wave's release ``groups`` and its published
    ``scores``: a function that, given side × area × role-level cells (named as the role cuts
    name them), says whether their counts can be shown too — whether the release's own audit,
    with them as further equations (:func:`analysis.anonymity.counts_publishable`), narrows no
    small group it protects.

    A cell naming a value no response has is empty, and the audit's intruder already knows
    which values occur: it adds nothing and is left out of the system.
    """
    found = _counted_groups(wave)
    if not found:
        return lambda cells: True
    keys, sizes, codes, index = _coded(found)
    area_ids = _area_ids(wave)
    how = {
        (g.side, g.service_area_id, g.role_level): (
            (g.side_generalised, g.area_generalised, g.role_generalised),
            g.withheld,
        )
        for g in groups
    }
    if any(key not in how for key in keys):  # a release that is not of these responses
        return lambda cells: not cells
    rows = np.repeat(codes, sizes, axis=0)  # a row per response, as the release was audited
    generalised = np.repeat(np.array([how[key][0] for key in keys], dtype=bool), sizes, axis=0)
    withheld = np.repeat(np.array([how[key][1] for key in keys], dtype=bool), sizes)
    allows = counts_publishable(
        rows,
        Recoding(
            codes=np.where(generalised, GENERALISED, rows),
            generalised=generalised,
            withheld=withheld,
            k=min_cell_size(wave.min_cell_size),
        ),
        _published_cells(scores, index, area_ids),
        generalise=GENERALISE,
        at_least=_monitored_cells(wave, index, area_ids),
    )

    def publishable(cells: Sequence[Cell]) -> bool:
        coded = [_cell_codes(cell, index, area_ids) for cell in cells]
        return allows([c for c in coded if c is not None])

    return publishable


def _cell_codes(
    cell: Cell, index: list[dict[Any, int]], area_ids: Mapping[str, int]
) -> tuple[int, int, int] | None:
    """A role cut's cell as codes of the wave's quasi-identifiers (:data:`SUMMED` where it
    sums); None when it names a value no response has."""
    side, area, role = cell
    codes = (
        SUMMED if side == "all" else index[0].get(side),
        {AREA_ALL: SUMMED, AREA_NONE: index[1].get(None)}.get(
            area, index[1].get(area_ids.get(area))
        ),
        index[2].get(None if role == ROLE_NONE else role),
    )
    return None if None in codes else codes
