"""Reading uploaded spreadsheets: historical responses and staff lists.

Rooms: ``spreadsheets`` (CSV/XLSX rows and the all-or-nothing refusal both uploads share),
``response_rows`` (a responses file checked header first, then row by row), ``responses``
(the import: checked rows stored, waves created, results computed), ``uploads`` (a file kept
for the import job) and ``staff_lists``.
"""

from survey_app.services.imports.response_rows import FileRefused, ImportRejected
from survey_app.services.imports.responses import (
    ImportReport,
    compute_results,
    import_responses,
    period_of,
)
from survey_app.services.imports.spreadsheets import (
    MAX_PROBLEMS,
    Rejected,
    UnreadableFile,
    read_rows,
)
from survey_app.services.imports.staff_lists import (
    HEADERS,
    StaffListRejected,
    StaffListReport,
    StaffMember,
    load_staff_list,
    read_staff_list,
)
from survey_app.services.imports.uploads import (
    StagedImport,
    delete_stale_uploads,
    discard_upload,
    stage_import,
    upload_path,
)

__all__ = [
    "HEADERS",
    "MAX_PROBLEMS",
    "FileRefused",
    "ImportRejected",
    "ImportReport",
    "Rejected",
    "StagedImport",
    "StaffListRejected",
    "StaffListReport",
    "StaffMember",
    "UnreadableFile",
    "compute_results",
    "delete_stale_uploads",
    "discard_upload",
    "import_responses",
    "load_staff_list",
    "period_of",
    "read_rows",
    "read_staff_list",
    "stage_import",
    "upload_path",
]
