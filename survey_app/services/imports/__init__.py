"""Reading spreadsheets: historical responses and staff lists."""

from survey_app.services.imports.responses import (
    FileRefused,
    ImportRejected,
    ImportReport,
    compute_results,
    import_responses,
    period_of,
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

__all__ = [
    "HEADERS",
    "FileRefused",
    "ImportRejected",
    "ImportReport",
    "StaffListRejected",
    "StaffListReport",
    "StaffMember",
    "compute_results",
    "import_responses",
    "load_staff_list",
    "period_of",
    "read_rows",
    "read_staff_list",
]
