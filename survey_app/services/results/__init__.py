"""Results of closed waves: computed once when a wave closes, stored, and published suppressed.

The package's rooms, from the bottom up:

``vocabulary``   the words every part of the service names cells and tables with
``loading``      the answers of some waves, in bulk, into NumPy arrays
``layout``       an instrument and a relationship as arrays; a wave's responses scored
``tables``       every per-wave table of DESIGN §5 (scores, items, reliability, gaps, drivers)
``deeper``       relative weights, heat-map significance and margins of error (issue 16)
``comments``     which groups' comments may be published, and reading them
``themes``       comment themes, computed when a wave closes (issue 16)
``publication``  confidentiality suppression of stored rows (DESIGN §4.14)
``history``      the closed waves of a relationship as the status over time sees them
``statuses``     status of every cell and dimension as of each wave, and the trends table
``computation``  the tables of consecutive closed waves and the relationship's trends
``release``      the raw download's k-anonymous recoding, computed when results are stored
``store``        storing, rebuilding (``relhealth recompute``) and reading stored results

Other packages import from this face, not from the rooms.
"""

from survey_app.services.results.comments import (
    PublishedComment,
    min_comment_cell_size,
    published_comment_groups,
    published_comments,
)
from survey_app.services.results.computation import (
    RelationshipResults,
    add_statuses,
    compute_relationship,
    compute_tables,
)
from survey_app.services.results.disclosure import blank_icc_under_hidden_areas, publish_gaps
from survey_app.services.results.history import History, WaveSummary, version_changes
from survey_app.services.results.layout import CellCounts, Design, Layout, ScoredWave, score_wave
from survey_app.services.results.loading import (
    AnswerGrid,
    WaveAnswers,
    answer_statements,
    load_answer_grid,
    load_answers,
    submitted_per_invitation_area,
)
from survey_app.services.results.publication import (
    PRIMARY,
    SECONDARY,
    blank,
    cube_partitions,
    gap_hidden,
    hidden_score_cells,
    min_cell_size,
    suppress_rows,
    suppression_reasons,
)
from survey_app.services.results.release import (
    cells_given_whole,
    release_groups,
    stored_release,
)
from survey_app.services.results.statuses import (
    StatusSnapshot,
    fill_status,
    status_snapshot,
    trends_table,
)
from survey_app.services.results.store import (
    RecomputeSummary,
    check_closed_wave,
    closed_waves,
    output_table,
    published_rows,
    recompute,
    release_version,
    role_cells,
    save_results,
    score_closed_wave,
    set_min_cell_size,
    stored_rows,
    stored_tables,
    wave_release,
)
from survey_app.services.results.tables import WaveTables, compute_wave_tables
from survey_app.services.results.themes import (
    StoredTheme,
    compute_wave_themes,
    shown_themes,
    stored_themes,
    theme_groups,
)
from survey_app.services.results.vocabulary import (
    ANALYSIS_VERSION,
    AREA_ALL,
    AREA_ALL_NAME,
    AREA_NONE,
    AREA_NONE_NAME,
    CHART_BASELINE_WAVES,
    DEEPER_TABLES,
    EWMA_LAMBDA,
    INDEX,
    INDEX_TITLE,
    RELATIONSHIP_TABLES,
    ROLE_ALL,
    ROLE_KEYS,
    ROLE_NONE,
    SIDE_KEYS,
    SIDE_WORDS,
    SIDES,
    SUPPRESSED,
    TABLES,
    TIE_DECIMALS,
    WAVE_TABLES,
    Columns,
    rows_of,
)
from survey_app.services.results.wording import change_reason

__all__ = [
    "ANALYSIS_VERSION",
    "AREA_ALL",
    "AREA_ALL_NAME",
    "AREA_NONE",
    "AREA_NONE_NAME",
    "CHART_BASELINE_WAVES",
    "DEEPER_TABLES",
    "EWMA_LAMBDA",
    "INDEX",
    "INDEX_TITLE",
    "PRIMARY",
    "RELATIONSHIP_TABLES",
    "ROLE_ALL",
    "ROLE_KEYS",
    "ROLE_NONE",
    "SECONDARY",
    "SIDES",
    "SIDE_KEYS",
    "SIDE_WORDS",
    "SUPPRESSED",
    "TABLES",
    "TIE_DECIMALS",
    "WAVE_TABLES",
    "AnswerGrid",
    "CellCounts",
    "Columns",
    "Design",
    "History",
    "PublishedComment",
    "Layout",
    "RecomputeSummary",
    "RelationshipResults",
    "ScoredWave",
    "StatusSnapshot",
    "StoredTheme",
    "WaveAnswers",
    "WaveSummary",
    "WaveTables",
    "add_statuses",
    "answer_statements",
    "blank",
    "blank_icc_under_hidden_areas",
    "cells_given_whole",
    "check_closed_wave",
    "closed_waves",
    "compute_relationship",
    "compute_tables",
    "compute_wave_tables",
    "compute_wave_themes",
    "cube_partitions",
    "fill_status",
    "gap_hidden",
    "hidden_score_cells",
    "load_answer_grid",
    "load_answers",
    "submitted_per_invitation_area",
    "min_cell_size",
    "min_comment_cell_size",
    "output_table",
    "published_comment_groups",
    "published_comments",
    "publish_gaps",
    "published_rows",
    "recompute",
    "release_groups",
    "release_version",
    "role_cells",
    "rows_of",
    "set_min_cell_size",
    "save_results",
    "score_closed_wave",
    "score_wave",
    "shown_themes",
    "status_snapshot",
    "stored_release",
    "stored_rows",
    "stored_tables",
    "stored_themes",
    "suppress_rows",
    "suppression_reasons",
    "theme_groups",
    "trends_table",
    "version_changes",
    "wave_release",
    "change_reason",
]
