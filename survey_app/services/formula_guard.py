"""The spreadsheet-formula guard (CSV injection): written on every text cell the service puts in
a CSV or XLSX file, and undone when such a file is read back.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and some
treat a leading tab or carriage return the same way), so a comment such as
``=HYPERLINK("http://evil.example/", "Click me")`` would become a live link. Such text is
written with a leading ``'``, which spreadsheets show as text and do not display. Numbers are
never guarded (a difference of -0.5 stays a number). An import removes the quote again, so
that text round-trips.

Used by the downloads (:mod:`survey_app.services.exports`), the mail-merge files of
:mod:`survey_app.services.mailing` and the imports (:mod:`survey_app.services.imports`).
"""

from __future__ import annotations

#: What a text cell may not start with, unguarded.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: What the guard puts in front.
GUARD = "'"


def neutralise(text: str) -> str:
    """A text cell safe to open in a spreadsheet: formula-like text gets a leading quote."""
    if text.startswith(FORMULA_START):
        return GUARD + text
    return text


def restore(text: str) -> str:
    """The text :func:`neutralise` was given, from what it wrote: the guard removed.

    Text that does not start with the guard before a formula-like start is returned as it is
    (a quote the writer put there itself stays).
    """
    if text.startswith(GUARD) and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text
