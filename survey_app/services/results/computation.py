"""Computing the results of consecutive closed waves of a relationship, and its trends.

The statistics all come from the pure :mod:`analysis` package. Every wave is cut into a cube
of cells: side (``client``, ``supplier``, ``all``) × service area (each area of the
relationship, ``_none`` for responses without an area, ``_all``). A response belongs to four
cells (its side and area, both sides in its area, its side in all areas, everyone); the
answers are stacked four times with one cell code per copy, so that one vectorised call of an
analysis function computes every cell and margin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from survey_app.models import Relationship, Wave
from survey_app.services.instruments import frozen_instrument
from survey_app.services.results.history import History, WaveSummary, version_changes
from survey_app.services.results.layout import Design, Layout, ScoredWave, score_wave
from survey_app.services.results.loading import WaveAnswers, load_answer_grid
from survey_app.services.results.publication import hide_changes_from_hidden_cells
from survey_app.services.results.statuses import fill_status, status_snapshot, trends_table
from survey_app.services.results.tables import WaveTables, compute_wave_tables
from survey_app.services.results.vocabulary import Columns


@dataclass(slots=True)
class RelationshipResults:
    """Computed tables of some closed waves of one relationship (each with the trends as of
    it), and its trends (as of the last of them)."""

    relationship: Relationship
    waves: list[Wave]
    tables: list[WaveTables]
    trends: Columns | None
    min_cell_size: int


def compute_relationship(
    relationship: Relationship,
    waves: Sequence[Wave],
    *,
    min_cell_size: int,
    earlier: Sequence[tuple[Wave, dict[str, Columns]]] = (),
    answers_of: Callable[[Wave], WaveAnswers] | None = None,
) -> RelationshipResults:
    """Compute the tables of ``waves`` (consecutive closed waves, in time order) and trends.

    Parameters
    ----------
    relationship : Relationship
    waves : sequence of Wave
        The waves to compute, oldest first; they follow the ``earlier`` waves directly.
    min_cell_size : int
        k: cells below it are left out of trend series (DESIGN §4.14).
    earlier : sequence of (Wave, tables)
        The closed waves before ``waves``, in order, with their stored ``scores`` and
        ``gaps`` (only these two tables are read).
    answers_of : callable, optional
        ``answers_of(wave)`` gives a wave's :class:`WaveAnswers`; by default the answers of
        ``waves`` (and of the last ``earlier`` wave, for the change to the first of
        ``waves``) are read in one bulk load (:func:`load_answer_grid`, about 40 bytes per
        response) and each wave's float arrays are made when it is reached.

    Returns
    -------
    RelationshipResults
        Tables of each of ``waves`` with status as of that wave (its ``trends`` among them:
        the trends as of that wave), and ``trends`` as of the last.
    """
    if answers_of is None:
        needed = [earlier[-1][0]] if earlier else []
        answers_of = load_answer_grid([*needed, *waves]).wave
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
    for wave in waves:
        current = score_wave(load(wave), layout, wave.label)
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
        history.append(
            WaveSummary(wave.label, current.design, tables.tables["scores"], tables.tables["gaps"])
        )
        computed.append(tables)
        previous, previous_gaps = current, tables.tables["gaps"]

    first = len(history.waves) - len(computed)
    for i, tables in enumerate(computed):
        t = first + i
        snapshot = status_snapshot(history, t, detailed=True)
        fill_status(tables, snapshot)
        # Every wave keeps the trends as they stood when it closed (a download of one wave,
        # the dashboard as of a wave); the relationship's trends are its latest wave's.
        tables.tables["trends"] = trends_table(relationship.name, history, snapshot, t=t)
    trends_columns = computed[-1].tables["trends"] if computed else None
    return RelationshipResults(relationship, list(waves), computed, trends_columns, min_cell_size)
