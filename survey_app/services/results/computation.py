"""Computing the results of consecutive closed waves of a relationship, and its trends.

The statistics all come from the pure :mod:`analysis` package. Every wave is cut into cells:
side (``client``, ``supplier``, ``all``) × service area (each area of the relationship,
``_none`` for responses without an area, ``_all``). Each response is counted once, in its
side and area; the margins are sums of those counts (:class:`CellCounts`), so one vectorised
analysis call computes every cell and margin.

Two steps, kept apart so that each can be timed, and the second replaced, on its own:

1. :func:`compute_tables` — every wave's tables (DESIGN §5), and the :class:`History` of
   published cells that statuses are read from;
2. :func:`add_statuses` — the status of every cell as of each wave, and the trends
   (DESIGN §4.11–4.12).

:func:`compute_relationship` does both.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from survey_app.models import Relationship, Wave
from survey_app.services.instruments import frozen_instrument
from survey_app.services.results.deeper import deeper_tables
from survey_app.services.results.disclosure import (
    publish_beside_scores,
    publish_trends,
    publish_wave,
)
from survey_app.services.results.history import History, WaveSummary, version_changes
from survey_app.services.results.layout import Design, Layout, ScoredWave, score_wave
from survey_app.services.results.loading import (
    WaveAnswers,
    invited_per_cell,
    load_answer_grid,
    submitted_per_invitation_area,
)
from survey_app.services.results.publication import hide_changes_from_hidden_cells
from survey_app.services.results.release import GroupKey, response_groups
from survey_app.services.results.statuses import fill_status, status_snapshot, trends_table
from survey_app.services.results.tables import WaveTables, compute_wave_tables
from survey_app.services.results.vocabulary import Columns


@dataclass(slots=True)
class RelationshipResults:
    """Computed tables of some closed waves of one relationship (each with the trends as of
    it), and its trends (as of the last of them).

    ``history`` holds every closed wave up to the last of ``waves`` as the status step reads
    them; the trends are None until :func:`add_statuses` has run.
    """

    relationship: Relationship
    waves: list[Wave]
    tables: list[WaveTables]
    trends: Columns | None
    min_cell_size: int
    history: History | None = None
    #: Each computed wave's response groups (:func:`~.release.response_groups`) when
    #: :func:`compute_tables` read the answers itself, for the release to audit without
    #: reading the responses again; None when the answers came from ``answers_of``.
    groups: list[list[tuple[GroupKey, int]]] | None = None


def compute_relationship(
    relationship: Relationship,
    waves: Sequence[Wave],
    *,
    min_cell_size: int,
    earlier: Sequence[tuple[Wave, dict[str, Columns]]] = (),
    answers_of: Callable[[Wave], WaveAnswers] | None = None,
) -> RelationshipResults:
    """Compute the tables of ``waves`` (consecutive closed waves, in time order), with the
    status of every cell as of each wave, and the trends as of the last.

    :func:`compute_tables` then :func:`add_statuses`; the parameters are those of
    :func:`compute_tables`.
    """
    results = compute_tables(
        relationship, waves, min_cell_size=min_cell_size, earlier=earlier, answers_of=answers_of
    )
    add_statuses(results)
    return results


def compute_tables(
    relationship: Relationship,
    waves: Sequence[Wave],
    *,
    min_cell_size: int,
    earlier: Sequence[tuple[Wave, dict[str, Columns]]] = (),
    answers_of: Callable[[Wave], WaveAnswers] | None = None,
    deeper: bool = True,
) -> RelationshipResults:
    """Compute the tables of ``waves`` (consecutive closed waves, in time order), statuses aside.

    Parameters
    ----------
    relationship : Relationship
    waves : sequence of Wave
        The waves to compute, oldest first; they follow the ``earlier`` waves directly.
    min_cell_size : int
        k for a wave that has none of its own (``Wave.min_cell_size``, fixed when its results
        are first computed): each wave's disclosure pattern is computed with its k and
        stored in its tables' ``suppressed`` column (:func:`publish_wave`), and hidden cells
        are left out of trend series (DESIGN §4.14).
    earlier : sequence of (Wave, tables)
        The closed waves before ``waves``, in order, with their stored ``scores`` and
        ``gaps`` (only these two tables are read).
    answers_of : callable, optional
        ``answers_of(wave)`` gives a wave's :class:`WaveAnswers`; by default the answers of
        ``waves`` (and of the last ``earlier`` wave, for the change to the first of
        ``waves``) are read in one bulk load (:func:`load_answer_grid`, about 40 bytes per
        response) and each wave's arrays are taken when it is reached.
    deeper : bool, optional
        Also compute the deeper tables (:func:`deeper_tables`; default True). Only the
        analysis benchmark leaves them out, to time them apart from the tables its baseline
        also computes.

    Returns
    -------
    RelationshipResults
        Tables of each of ``waves`` (status columns empty) and the ``history`` the status
        step reads; ``trends`` None.
    """
    groups: list[list[tuple[GroupKey, int]]] | None = None
    if answers_of is None:
        needed = [earlier[-1][0]] if earlier else []
        answers_of = load_answer_grid([*needed, *waves]).wave
        groups = []
    load = answers_of
    layout = Layout.of(relationship)
    history = History(layout, min_cell_size)
    for wave, tables in earlier:
        history.append(
            WaveSummary(
                wave.label,
                Design.of(frozen_instrument(wave.instrument_version)),
                tables["scores"],
                tables["gaps"],
            )
        )
    previous: ScoredWave | None = None
    previous_gaps: Columns | None = None
    if earlier:
        last_wave, last_tables = earlier[-1]
        previous = score_wave(load(last_wave), layout, last_wave.label)
        previous_gaps = last_tables["gaps"]

    computed: list[WaveTables] = []
    waiting: deque[tuple[WaveTables, int, Future[dict[str, Columns]]]] = deque()
    with _deeper_worker(deeper) as worker:
        for wave in waves:
            current = score_wave(load(wave), layout, wave.label)
            k = wave.min_cell_size or min_cell_size
            future = None
            if worker is not None:
                invited = invited_per_cell(wave, layout.n_areas, current.answers.area_ids)
                future = worker.submit(deeper_tables, current, invited)
            if groups is not None:
                groups.append(response_groups(current.answers))
            changed = (
                version_changes(previous.design.instrument, current.design.instrument)
                if previous is not None
                else {}
            )
            tables = compute_wave_tables(
                current, previous=previous, previous_gaps=previous_gaps, changed=changed
            )
            if history.waves:
                hide_changes_from_hidden_cells(tables.tables, history.waves[-1].hidden)
            publish_wave(
                tables.tables,
                k,
                current.design.points,
                submitted=submitted_per_invitation_area(wave),
            )
            if future is not None:
                waiting.append((tables, k, future))
                if len(waiting) > _DEEPER_WAITING:
                    _add_deeper(*waiting.popleft())
            history.append(
                WaveSummary(
                    wave.label, current.design, tables.tables["scores"], tables.tables["gaps"]
                )
            )
            computed.append(tables)
            previous, previous_gaps = current, tables.tables["gaps"]
        while waiting:
            _add_deeper(*waiting.popleft())

    return RelationshipResults(
        relationship, list(waves), computed, None, min_cell_size, history=history, groups=groups
    )


#: Waves whose deeper tables may still be computing while the next wave's tables are: each
#: holds its scored wave (about 10 MB at 25,000 responses) until they are done.
_DEEPER_WAITING = 1


@contextmanager
def _deeper_worker(wanted: bool) -> Iterator[ThreadPoolExecutor | None]:
    """A thread for the deeper tables (:func:`deeper_tables`), or None when not ``wanted``.

    A wave's deeper tables are pure array work (NumPy and LAPACK let other threads run
    while they work) and take as long as all its other tables, so they are computed in
    this thread while the caller computes and publishes the next wave's tables; each wave's
    are published beside its scores when done (:func:`publish_beside_scores`, which reads
    only the scores' pattern), all before the results are returned, and are the same as
    when computed in turn. On an error, the waves not started are dropped.
    """
    if not wanted:
        yield None
        return
    worker = ThreadPoolExecutor(1, "relhealth-deeper")
    try:
        yield worker
    finally:
        worker.shutdown(wait=True, cancel_futures=True)


def _add_deeper(tables: WaveTables, k: int, future: Future[dict[str, Columns]]) -> None:
    """Wait for a wave's deeper tables, publish them beside its scores, and add them."""
    extra = future.result()
    publish_beside_scores(extra, k, tables.tables["scores"])
    tables.tables.update(extra)


def add_statuses(results: RelationshipResults) -> None:
    """Fill the status of every cell of each computed wave, as of that wave, and the trends.

    Reads ``results.history`` (every closed wave up to the last computed one) and writes the
    status and alert columns of each wave's ``scores`` and ``gaps`` and ``results.trends``
    (DESIGN §4.11–4.12).
    """
    history = results.history
    if history is None:
        raise ValueError("these results have no history: compute them with compute_tables")
    first = len(history.waves) - len(results.tables)
    for i, tables in enumerate(results.tables):
        t = first + i
        snapshot = status_snapshot(history, t, detailed=True)
        fill_status(tables, snapshot)
        # Every wave keeps the trends as they stood when it closed (a download of one wave,
        # the dashboard as of a wave); the relationship's trends are its latest wave's.
        trends = trends_table(results.relationship.name, history, snapshot, t=t)
        publish_trends(trends, tables.tables["scores"])
        tables.tables["trends"] = trends
    results.trends = results.tables[-1].tables["trends"] if results.tables else None
