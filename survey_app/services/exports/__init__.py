"""Downloads of results and raw responses (CSV, XLSX, JSON, SPSS) with their codebook.

Rooms: ``scope`` (what a download covers), ``tables`` (a table, the results tables and the
codebook table), ``responses`` (the raw responses table), ``writers`` (CSV, JSON, XLSX),
``spss`` (``.sav``), ``downloads`` (a download prepared and recorded) and ``prepared`` (a
large download written by a background job, kept for its requester for a while). Columns are
:class:`survey_app.services.codebook.Column`; "don't know" is written as
:data:`~survey_app.services.codebook.DONT_KNOW`; text cells are guarded by
:mod:`survey_app.services.formula_guard`.
"""

from survey_app.services.codebook import COLUMN_TYPES, DONT_KNOW, OTHER, OTHER_LABEL, Column
from survey_app.services.exports.downloads import (
    FORMATS,
    MEDIA_TYPES,
    Download,
    build_tables,
    file_name,
    prepare_download,
    record_download,
)
from survey_app.services.exports.prepared import (
    BOARD_PACK_KIND,
    FETCH_ROLES,
    PREPARE_KIND,
    FileNotReady,
    FileUnavailable,
    PreparedFile,
    allowed_requester,
    delete_expired_files,
    estimated_rows,
    needs_preparing,
    prepare_file,
    prepare_parameters,
    prepared_file,
    prepared_folder,
    ready_files,
    ready_result,
    store_file,
    tables_to_prepare,
)
from survey_app.services.exports.responses import (
    released_quasi_identifiers,
    response_queries,
    responses_columns,
    responses_table,
)
from survey_app.services.exports.scope import (
    Scope,
    WaveRef,
    downloadable_relationships,
    export_scope,
)
from survey_app.services.exports.spss import dont_know_code, spss_names, write_sav
from survey_app.services.exports.tables import (
    CODEBOOK_COLUMNS,
    DERIVED_TABLES,
    RELATIONSHIP_TABLES,
    RESULT_TABLES,
    TABLE_TITLES,
    TABLES,
    UNDESCRIBED,
    Table,
    codebook_rows,
    codebook_table,
    results_table,
    targets_table,
)
from survey_app.services.exports.writers import XLSX_MAX_ROWS, csv_chunks, json_chunks, write_xlsx

__all__ = [
    "OTHER",
    "BOARD_PACK_KIND",
    "FETCH_ROLES",
    "PREPARE_KIND",
    "allowed_requester",
    "ready_result",
    "store_file",
    "FileNotReady",
    "FileUnavailable",
    "PreparedFile",
    "OTHER_LABEL",
    "CODEBOOK_COLUMNS",
    "DERIVED_TABLES",
    "COLUMN_TYPES",
    "Column",
    "DONT_KNOW",
    "Download",
    "FORMATS",
    "MEDIA_TYPES",
    "RELATIONSHIP_TABLES",
    "RESULT_TABLES",
    "Scope",
    "TABLES",
    "TABLE_TITLES",
    "Table",
    "UNDESCRIBED",
    "WaveRef",
    "XLSX_MAX_ROWS",
    "build_tables",
    "codebook_rows",
    "codebook_table",
    "csv_chunks",
    "delete_expired_files",
    "estimated_rows",
    "dont_know_code",
    "downloadable_relationships",
    "export_scope",
    "file_name",
    "json_chunks",
    "needs_preparing",
    "prepare_file",
    "prepare_parameters",
    "prepared_file",
    "prepared_folder",
    "ready_files",
    "prepare_download",
    "record_download",
    "released_quasi_identifiers",
    "response_queries",
    "responses_columns",
    "responses_table",
    "results_table",
    "spss_names",
    "tables_to_prepare",
    "targets_table",
    "write_sav",
    "write_xlsx",
]
