"""Reports that leave the service: the board pack, a tagged and accessible PDF of a closed wave.

The package's rooms, from the bottom up:

``model``     the pack's value types (index figures, responses, actions, the summary)
``targets``   agreed targets and the distance to them (the seam for issue 15 item 3)
``summary``   the first page in plain words (the seam for issue 12's ranked alert summary)
``pack``      what the pack says, read as the dashboard reads it, as of the chosen wave
``pdf``       HTML → PDF/UA with WeasyPrint, checked and mended with pikepdf
``building``  the template, the PDF, the file and its audit record
``prepared``  the pack printed by a background job, kept as a prepared file

Other packages import from this face, not from the rooms.
"""

from survey_app.services.reports.building import (
    LANGUAGES,
    BoardPackFile,
    board_pack_filename,
    board_pack_html,
    build_board_pack,
    prepare_board_pack,
    record_board_pack,
)
from survey_app.services.reports.pack import BoardPack, board_pack
from survey_app.services.reports.pdf import InaccessiblePdf, html_to_pdf, make_accessible
from survey_app.services.reports.prepared import board_pack_parameters, prepare_board_pack_file

__all__ = [
    "LANGUAGES",
    "BoardPack",
    "BoardPackFile",
    "InaccessiblePdf",
    "board_pack",
    "board_pack_filename",
    "board_pack_parameters",
    "board_pack_html",
    "build_board_pack",
    "html_to_pdf",
    "make_accessible",
    "prepare_board_pack",
    "prepare_board_pack_file",
    "record_board_pack",
]
