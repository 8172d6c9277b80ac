"""Storing the results of closed waves, rebuilding them, and reading them back.

* :func:`score_closed_wave` — called when a wave closes: computes and stores its tables (and
  those of any later closed wave, whose status depends on it), the relationship's trends, and
  each rebuilt wave's raw-row release (``release``: the ``responses`` download's recoding).
* :func:`recompute` — ``relhealth recompute``: rebuilds stored results, replacing them.
* :func:`published_rows` / :func:`output_table` — what dashboards, downloads and the API
  show: stored rows with the confidentiality pattern stored with them.
* :func:`closed_waves` — the waves that have results, in time order.

Services flush; the caller (a request or a CLI command) commits once.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import delete, func, insert, select, text

from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import Relationship, ReleasedGroup, Response, ResultTable, Wave
from survey_app.services import ServiceError, audit, codebook
from survey_app.services.instruments import shown_dimensions, wave_instrument
from survey_app.services.results import wording
from survey_app.services.results.computation import RelationshipResults, compute_relationship
from survey_app.services.results.loading import collector_paused, steady_heap
from survey_app.services.results.publication import FOLLOW_SCORES, min_cell_size, suppress_rows
from survey_app.services.results.release import (
    RELEASED_COLUMNS,
    Cell,
    cells_given_whole,
    release_groups,
    role_cell_audit,
    store_release,
    stored_release,
)
from survey_app.services.results.vocabulary import (
    ANALYSIS_VERSION,
    INDEX,
    INDEX_TITLE,
    RELATIONSHIP_TABLES,
    SUPPRESSED,
    TABLES,
    WAVE_TABLES,
    Columns,
    rows_of,
)


def closed_waves(relationship: Relationship) -> list[Wave]:
    """The relationship's closed waves in time order (:attr:`Wave.time_order`)."""
    waves = db.session.scalars(
        select(Wave).where(Wave.relationship_id == relationship.id, Wave.state == "closed")
    ).all()
    return sorted(waves, key=lambda w: w.time_order)


def stored_tables(wave: Wave) -> dict[str, ResultTable]:
    """The stored tables of one wave, by name (``trends``: as of that wave)."""
    rows = db.session.scalars(select(ResultTable).where(ResultTable.wave_id == wave.id))
    return {r.name: r for r in rows}


def _columns(table: ResultTable) -> Columns:
    names = list(table.columns)
    data: Columns = {c: [] for c in names}
    for row in table.rows:
        for c, v in zip(names, row, strict=True):
            data[c].append(v)
    return data


def save_results(results: RelationshipResults, *, k: int) -> None:
    """Store computed tables, replacing any stored for the same waves.

    Each wave's ``trends`` (the trends as of it) are stored under it with the scope
    ``relationship``; the relationship's trends are those of its latest closed wave.
    """
    rel = results.relationship
    wave_ids = [w.id for w in results.waves]
    if wave_ids:
        db.session.execute(
            delete(ResultTable).where(
                ResultTable.wave_id.in_(wave_ids), ResultTable.name.in_(TABLES)
            )
        )
    computed_at = utcnow()
    records = []
    for wave, tables in zip(results.waves, results.tables, strict=True):
        for name in TABLES:
            if name in tables.tables:
                scope = "relationship" if name in RELATIONSHIP_TABLES else "wave"
                wave_k = wave.min_cell_size or k
                records.append(
                    _record(rel.id, wave.id, name, scope, tables.tables[name], wave_k, computed_at)
                )
    if records:
        _fast_compression()
        db.session.execute(insert(ResultTable), records)
    db.session.flush()


def _fast_compression() -> None:
    """On PostgreSQL, compress the result rows written in this transaction with LZ4.

    The rows of a full recompute are ~57 MB of JSON (every wave's tables, whatever the
    number of responses), and PostgreSQL compresses each large value as it stores it: with
    its default method, pglz, inserting them took 7.2 s, with LZ4 1.9 s (issue 16 part 5,
    benchmarks/README.md); LZ4 values are also read back faster. ``SET LOCAL`` ends with
    the transaction, and the setting changes only how new values are stored: values
    compressed either way read the same. Servers without it (before PostgreSQL 14, or built
    without LZ4) keep their default; SQLite compresses nothing.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    has_lz4 = db.session.scalar(
        text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
    )
    if has_lz4:
        db.session.execute(text("SET LOCAL default_toast_compression = 'lz4'"))


def _record(
    relationship_id: int,
    wave_id: int,
    name: str,
    scope: str,
    columns: Columns,
    k: int,
    computed_at: datetime,
) -> dict[str, Any]:
    names = list(columns)
    rows = list(zip(*(columns[c] for c in names), strict=True))
    return {
        "relationship_id": relationship_id,
        "wave_id": wave_id,
        "name": name,
        "scope": scope,
        "analysis_version": ANALYSIS_VERSION,
        "computed_at": computed_at,
        "min_cell_size": k,
        "n_rows": len(rows),
        "columns": names,
        "rows": rows,
    }


@dataclass(frozen=True, slots=True)
class RecomputeSummary:
    """What a rebuild did: the waves whose tables were rebuilt, and how long it took."""

    relationship: str
    waves: tuple[str, ...]
    seconds: float

    def line(self) -> str:
        if not self.waves:
            return f"{self.relationship}: no closed waves, nothing to compute"
        span = self.waves[0] if len(self.waves) == 1 else f"{self.waves[0]} to {self.waves[-1]}"
        plural = "wave" if len(self.waves) == 1 else "waves"
        return (
            f"{self.relationship}: rebuilt results of {len(self.waves)} closed {plural} "
            f"({span}) and trends in {self.seconds:.1f} s"
        )


def _rebuild(
    relationship: Relationship, waves: list[Wave], start: int, *, k: int, **kwargs: Any
) -> RecomputeSummary:
    """Compute and store ``waves[start:]`` (and trends), reading earlier waves' stored tables.

    Earlier waves whose stored results are missing or from another analysis version are
    rebuilt too, so the result never mixes versions.
    """
    began = time.perf_counter()
    ids = [w.id for w in waves[:start]]
    versions: dict[int, dict[str, str]] = {}
    for wave_id, name, version in db.session.execute(  # no JSON read to check currency
        select(ResultTable.wave_id, ResultTable.name, ResultTable.analysis_version).where(
            ResultTable.wave_id.in_(ids)
        )
    ):
        versions.setdefault(wave_id, {})[name] = version
    for i, wave_id in enumerate(ids):
        if any(versions.get(wave_id, {}).get(n) != ANALYSIS_VERSION for n in WAVE_TABLES):
            start = i
            break
    stored = {
        (t.wave_id, t.name): t
        for t in db.session.scalars(
            select(ResultTable).where(
                ResultTable.wave_id.in_(ids[:start]), ResultTable.name.in_(("scores", "gaps"))
            )
        )
    }
    earlier = [
        (w, {n: _columns(stored[(w.id, n)]) for n in ("scores", "gaps")}) for w in waves[:start]
    ]
    todo = waves[start:]
    for wave in todo:  # the k in force when a wave's results are first computed stays its k
        if wave.min_cell_size is None:
            wave.min_cell_size = k
    # The rebuild makes millions of objects (columns, phrases, rows) and no reference cycles
    # worth looking for while it runs (:func:`collector_paused`), and frees arrays of a few
    # megabytes each wave that the next wave needs again (:func:`steady_heap`)
    if todo:
        steady_heap()
        with collector_paused():
            results = compute_relationship(
                relationship, todo, min_cell_size=k, earlier=earlier, **kwargs
            )
            save_results(results, k=k)
            held = results.groups or [None] * len(results.waves)
            for wave, tables, groups in zip(results.waves, results.tables, held, strict=True):
                # the raw download's recoding, audited against the scores just stored: their
                # rows as computed, with the pattern stored in them (what ``published_rows``
                # would read back, without decoding and wording every row again), and the
                # response groups the computation read with the answers
                store_release(wave, rows_of(tables.tables["scores"]), groups)
    return RecomputeSummary(
        relationship.name, tuple(w.label for w in todo), time.perf_counter() - began
    )


def score_closed_wave(wave: Wave) -> RecomputeSummary:
    """Compute and store the results of a wave that has just closed, and the trends.

    Later closed waves (if the wave closed out of time order) are rebuilt too: their status
    depends on every earlier wave.
    """
    if wave.state != "closed":
        raise ServiceError(f"wave {wave.label!r} is {wave.state}; only closed waves have results")
    relationship = wave.relationship
    waves = closed_waves(relationship)
    return _rebuild(relationship, waves, waves.index(wave), k=wave.min_cell_size or min_cell_size())


def check_closed_wave(relationship: Relationship, wave: Wave) -> None:
    """Refuse, with the reason, a wave whose results cannot be rebuilt: another
    relationship's, or one not closed."""
    if wave.relationship_id != relationship.id:
        raise ServiceError(f"wave {wave.label!r} is not a wave of {relationship.name!r}")
    if wave.state != "closed":
        raise ServiceError(f"wave {wave.label!r} is {wave.state}; only closed waves have results")


def recompute(
    relationship: Relationship,
    wave: Wave | None = None,
    *,
    through: Wave | None = None,
    new_min_cell_size: int | None = None,
    actor: str = "cli",
    **kwargs: Any,
) -> RecomputeSummary:
    """Rebuild the stored results of a relationship's closed waves, replacing what is stored.

    Parameters
    ----------
    relationship : Relationship
    wave : Wave, optional
        Rebuild this closed wave (and any later closed wave, whose status depends on it);
        every closed wave when omitted.
    through : Wave, optional
        Stop at this closed wave (the trends are then stored as of it): a long rebuild in
        steps, each committed, as the ``results.recompute`` job does. The later waves keep
        their stored results until their step.
    new_min_cell_size : int, optional
        Publish the rebuilt waves with this k instead of the one fixed when each was first
        computed: an explicit act, recorded in the audit log (``results.min_cell_size``) by
        ``actor``. Without it every wave keeps its own k whatever ``MIN_CELL_SIZE`` says.
    actor : str
        Who asked (for the audit log).
    **kwargs
        Passed to :func:`~survey_app.services.results.compute_relationship` (e.g.
        ``answers_of`` to supply answers already in memory).

    Returns
    -------
    RecomputeSummary
    """
    waves = closed_waves(relationship)
    k = min_cell_size()
    for named in (wave, through):
        if named is not None:
            check_closed_wave(relationship, named)
    if through is not None:
        waves = waves[: waves.index(through) + 1]
    if wave is None and through is None:
        db.session.execute(
            delete(ResultTable).where(ResultTable.relationship_id == relationship.id)
        )
    if wave is not None and wave not in waves:
        assert through is not None
        raise ServiceError(f"wave {wave.label!r} comes after wave {through.label!r}")
    start = 0 if wave is None else waves.index(wave)
    if new_min_cell_size is not None:
        set_min_cell_size(relationship, waves[start:], new_min_cell_size, actor)
    return _rebuild(relationship, waves, start, k=k, **kwargs)


def set_min_cell_size(
    relationship: Relationship, waves: Sequence[Wave], k: int, actor: str
) -> None:
    """Give ``waves`` a new k (at least 3; rebuild their results next), and record it in the
    audit log (``results.min_cell_size``, with each wave's k before)."""
    k = min_cell_size(k)
    before = {w.label: w.min_cell_size for w in waves}
    for w in waves:
        w.min_cell_size = k
    audit.record(
        "results.min_cell_size",
        actor=actor,
        relationship=relationship.name,
        waves=list(before),
        before=before,
        min_cell_size=k,
    )


def stored_rows(name: str, relationship: Relationship, waves: Sequence[Wave] | None = None):
    """Stored rows of a results table (unsuppressed: never show these directly).

    Returns
    -------
    columns : list of str
    rows : list of dict
        For a wave table, the rows of every wave in ``waves`` (all closed waves in time
        order by default). For ``trends``: with ``waves``, the trends as of each of them
        (stored when it closed); without, the relationship's trends (as of its latest
        closed wave).
    """
    if name not in TABLES:
        raise ServiceError(f"there is no results table {name!r} (known: {', '.join(TABLES)})")
    if name in RELATIONSHIP_TABLES and waves is None:
        return _latest(name, relationship)
    waves = closed_waves(relationship) if waves is None else list(waves)
    if not waves:
        return _codebook_columns(name), []
    columns: list[str] = []
    rows: list[dict[str, Any]] = []
    by_wave = {
        t.wave_id: t
        for t in db.session.scalars(
            select(ResultTable).where(
                ResultTable.wave_id.in_([w.id for w in waves]), ResultTable.name == name
            )
        )
    }
    for wave in waves:
        table = by_wave.get(wave.id)
        if table is None:
            raise ServiceError(
                f"wave {wave.label!r} has no stored {name}"
                + (": only closed waves have results" if wave.state != "closed" else "")
                + ("" if wave.state != "closed" else ": run relhealth recompute")
            )
        for c in table.columns:
            if c not in columns:
                columns.append(c)
        rows.extend(table.records())
    return columns, rows


def _latest(name: str, relationship: Relationship) -> tuple[list[str], list[dict[str, Any]]]:
    """A relationship table as of the latest closed wave that has it stored (the latest
    closed wave, unless a rebuild is under way)."""
    stored = set(
        db.session.scalars(
            select(ResultTable.wave_id).where(
                ResultTable.relationship_id == relationship.id, ResultTable.name == name
            )
        )
    )
    waves = closed_waves(relationship)
    latest = next((w for w in reversed(waves) if w.id in stored), None)
    if latest is None:
        if not waves:
            return _codebook_columns(name), []
        raise ServiceError(f"{relationship.name!r} has no stored {name}: run relhealth recompute")
    table = db.session.scalar(
        select(ResultTable).where(ResultTable.wave_id == latest.id, ResultTable.name == name)
    )
    assert table is not None
    return list(table.columns), table.records()


def _codebook_columns(name: str) -> list[str]:
    """A table's stored columns as the codebook lists them (for a table with no rows yet)."""
    return [c.name for c in codebook.columns(name) if c.name != SUPPRESSED]


def published_rows(
    name: str,
    relationship: Relationship,
    waves: Sequence[Wave] | None = None,
    *,
    k: int | None = None,
) -> list[dict[str, Any]]:
    """Rows of a results table as anyone may see them.

    Every row carries a ``suppressed`` entry: ``None`` when shown, else the reason; a
    suppressed row keeps its labels (wave, side, area, dimension ...) and has every
    statistic blank. The pattern is the one stored when each wave's results were computed,
    with that wave's k (DESIGN §4.14); an explicit ``k`` asks instead what this one table
    would show under it, table by table (for comparisons, never for publishing).
    """
    _, rows = stored_rows(name, relationship, waves)
    return _published(name, rows, relationship, waves, k)


def wave_release(wave: Wave) -> list[ReleasedGroup]:
    """How each group of a closed wave's responses is released in the raw download (and so
    which role cuts the dashboard shows): the release stored with the wave's results
    (:func:`~survey_app.services.results.release.stored_release`), or for a wave that has
    none covering its responses (closed before releases were stored: ``relhealth recompute``
    stores it) computed now the same way, from its published scores."""
    groups = stored_release(wave)
    if groups is None:
        groups = release_groups(wave, published_rows("scores", wave.relationship, [wave]))
    return groups


def role_cells(wave: Wave) -> dict[Cell, tuple[int, bool]]:
    """Every side × area × role-level cell of a closed wave with its count and whether the
    dashboard's role cuts may show it.

    A cell the release gives whole (:func:`~survey_app.services.results.release.cells_given_whole`)
    is shown: everything in it can be worked out from the download. So is a cell whose every
    response the download releases with the values the cell names but which a row released
    as "Other" could be in — its figures are those of the download's rows with its values;
    its count says no "Other" row is in it — when the release's audit with those counts as
    further equations (:func:`~survey_app.services.results.release.role_cell_audit`)
    narrows no small group: all such cells if it does not, else the non-empty ones, else
    role level by role level, each level's cells kept when they pass with those kept before
    (the small groups found once, then at most six sets of linear programs; the role cuts
    are cached). Nothing but the strict rule when a group is withheld.
    """
    groups = wave_release(wave)
    areas = {a.id: a.key for a in wave.relationship.service_areas}
    strict = cells_given_whole(groups, areas)
    if any(g.withheld for g in groups):
        return strict
    placed = cells_given_whole(groups, areas, others_placed=True)
    extra = [cell for cell, (_, whole) in placed.items() if whole and not strict[cell][1]]
    if not extra:
        return strict
    publishable = role_cell_audit(wave, groups, published_rows("scores", wave.relationship, [wave]))

    filled = [cell for cell in extra if placed[cell][0]]
    shown: list[Cell] = []
    if publishable(extra):
        shown = extra
    elif filled and publishable(filled):
        shown = filled
    else:  # role level by role level, each kept if the audit passes with those before
        for role in {cell[2]: None for cell in filled}:
            tried = shown + [cell for cell in filled if cell[2] == role]
            if publishable(tried):
                shown = tried
    shown_set = set(shown)
    return {cell: (n, whole or cell in shown_set) for cell, (n, whole) in strict.items()}


def release_version(wave: Wave) -> str:
    """A fingerprint of the release a wave's role cuts follow (:func:`wave_release`,
    :func:`~survey_app.services.results.release.cells_given_whole`):
    the stored groups and how each is released, or, where none is stored that covers the
    wave (it is then computed when read), the wave's k and its count of responses."""
    groups = stored_release(wave)
    if groups is None:
        held = db.session.scalar(select(func.count(Response.id)).where(Response.wave_id == wave.id))
        return f"computed k={min_cell_size(wave.min_cell_size)} n={held}"
    digest = hashlib.sha256()
    for g in sorted(groups, key=lambda g: g.id):
        digest.update(repr(tuple(getattr(g, c) for c in RELEASED_COLUMNS)).encode("utf-8"))
    return digest.hexdigest()[:20]


def _published(name, rows, relationship, waves, k) -> list[dict[str, Any]]:
    if k is not None:
        rows = [{c: v for c, v in r.items() if c != SUPPRESSED} for r in rows]
    k = min_cell_size(k)
    scores = None
    if name in FOLLOW_SCORES:
        _, scores = stored_rows("scores", relationship, waves)
    shown = suppress_rows(name, rows, k, scores=scores)
    if name not in wording.WORDED_TABLES:
        return wording.worded_rows(name, shown)  # only their reasons to word
    return wording.worded_rows(name, shown, _titles(relationship, waves))


def _titles(relationship: Relationship, waves: Sequence[Wave] | None) -> dict[str, str]:
    """The dimensions' titles in the reader's language, by key, as the waves' instruments
    name them (the latest wave's where they differ), for the worded statuses."""
    titles: dict[str, str] = {}
    for wave in closed_waves(relationship) if waves is None else waves:
        # by id: a caller's wave may be detached from this session (a page's, after its request)
        titles.update(shown_dimensions(wave_instrument(db.session.get(Wave, wave.id))))
    titles[INDEX] = gettext(INDEX_TITLE)
    return titles


def output_table(
    name: str,
    relationship: Relationship,
    waves: Sequence[Wave] | None = None,
    *,
    k: int | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """Column names and rows (lists in column order) of a suppressed results table.

    As :func:`published_rows`, shaped for writers: the last column is ``suppressed``, its
    reason in the reader's language.
    """
    columns, rows = stored_rows(name, relationship, waves)
    shown = _published(name, rows, relationship, waves, k)
    names = [*(c for c in columns if c != SUPPRESSED), SUPPRESSED]
    out = []
    for row in shown:
        values = [row.get(c) for c in names]
        if values[-1]:
            values[-1] = wording.said(values[-1])
        out.append(values)
    return names, out
