"""Reading an uploaded spreadsheet — UTF-8 CSV or an XLSX workbook — as numbered rows of cells,
and refusing it all or nothing: what the responses import and the staff lists share.

:func:`read_rows` detects the format and yields ``(row number, cells)``, the header first (row
1, as a spreadsheet numbers it). Anything that is not a readable CSV or XLSX file — empty,
too large, binary, another encoding, an old ``.xls``, a broken or oversized workbook, invalid
CSV — raises :class:`UnreadableFile` with a message saying so, either at once or while the
rows are read. Each reader turns that into its own refusal, a :class:`Rejected`, which lists
the problems found (the first :data:`MAX_PROBLEMS`, then how many more) and means that
nothing of the file was stored.
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

from flask import current_app
from flask_babel import gettext as _

from survey_app.services import ServiceError
from survey_app.texts import N_, Wording, lines, say, wording

#: How many problems a refusal lists before counting the rest.
MAX_PROBLEMS = 100
#: Defaults for the size limits (``IMPORT_MAX_BYTES`` / ``IMPORT_MAX_ROWS`` in the config).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_ROWS = 2_000_000
#: An XLSX is a zip: refuse one that would unpack to more than this many times its limit.
XLSX_EXPANSION = 20

#: A problem's line under the message's first, indented (not a text to translate).
_INDENTED = "  %(line)s"
_BINARY = N_("The file is not a CSV file (it holds binary data): upload a CSV UTF-8 or XLSX file")
_NOT_A_WORKBOOK = N_("The file is not a readable Excel workbook (.xlsx)")


class UnreadableFile(ServiceError):
    """The file cannot be read as rows of a CSV or XLSX file; the message (a wording) says why."""


class Rejected(ServiceError):
    """A file refused all or nothing: ``problems`` names each bad row and column (the first
    :data:`MAX_PROBLEMS`; ``more`` counts the rest) found in ``rows_checked`` rows.

    Each problem is kept as given (a wording, or a text already in the reader's language) and
    said when read: :attr:`problems` and ``str(exc)`` in the reader's language, :attr:`stored`
    the whole message as :func:`~survey_app.texts.lines` for a job to keep and say later.
    Each upload says what did not happen in its own words (:attr:`outcome`).
    """

    #: What did not happen, as the message begins: "Nothing was imported".
    outcome: ClassVar[str] = N_("Nothing was stored")

    def __init__(
        self, problems: list[Wording | str], *, more: int = 0, rows_checked: int = 0
    ) -> None:
        self.given = list(problems)
        self.more = more
        self.rows_checked = rows_checked
        super().__init__(self.stored)

    def __str__(self) -> str:
        return self.describe()

    @property
    def problems(self) -> list[str]:
        """The problems in the reader's language."""
        return [say(problem) for problem in self.given]

    @property
    def total(self) -> int:
        return len(self.given) + self.more

    def _counted(self) -> Wording:
        rows = self.rows_checked
        return wording(
            N_("%(outcome)s: %(problems)s in %(rows)s"),
            outcome=wording(self.outcome),
            problems=self._problems_wording(),
            rows=wording(N_("1 row"))
            if rows == 1
            else wording(N_("%(count)s rows"), count=f"{rows:,}"),
        )

    def _problems_wording(self) -> Wording:
        total = self.total
        if total == 1:
            return wording(N_("1 problem"))
        return wording(N_("%(count)s problems"), count=f"{total:,}")

    def counted(self) -> str:
        """ "Nothing was imported: 4 problems in 52 rows" (when rows were checked), in the
        reader's language (English in a worker)."""
        return say(self._counted())

    def problems_text(self) -> str:
        """ "4 problems" ("1 problem")."""
        return say(self._problems_wording())

    @property
    def stored(self) -> Wording:
        """The message as :func:`~survey_app.texts.lines`: the outcome, then each problem on a
        line of its own (indented), said in the reader's language when read."""
        if not (self.total > 1 or self.rows_checked):
            first = self.given[0] if self.given else ""
            return wording(
                N_("%(outcome)s: %(problem)s"), outcome=wording(self.outcome), problem=first
            )
        head = self._counted() if self.rows_checked else wording(self.outcome)
        rest = [wording(_INDENTED, line=problem) for problem in self.given]
        if self.more:
            more = wording(N_("... and %(count)s more"), count=f"{self.more:,}")
            rest.append(wording(_INDENTED, line=more))
        return lines(wording(N_("%(outcome)s:"), outcome=head), *rest)

    def describe(self) -> str:
        """The message: the outcome, then each problem on a line of its own."""
        return say(self.stored)

    @property
    def summary(self) -> str:
        """The message's first line."""
        return str(self).splitlines()[0]

    @property
    def field_message(self) -> str:
        """The error shown on an upload form's file field."""
        if not self.rows_checked:
            return say(self.given[0])
        outcome = _(self.outcome)
        return _(
            "The selected file has %(problems)s: %(outcome)s. Correct them and upload the file "
            "again",
            problems=self.problems_text(),
            outcome=outcome[:1].lower() + outcome[1:],
        )


class Problems:
    """The problems found in a file, in the order found: the first :data:`MAX_PROBLEMS` listed,
    the rest counted."""

    def __init__(self) -> None:
        self.listed: list[Wording | str] = []
        self.more = 0

    def add(self, problem: Wording | str) -> None:
        if len(self.listed) < MAX_PROBLEMS:
            self.listed.append(problem)
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.listed or self.more)


def cell_text(value: Any) -> str:
    """A cell as text: blank for none, a whole number without ``.0``, spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def column_letter(index: int) -> str:
    """The spreadsheet letters of the column at 0-based ``index``: A, B, ..., Z, AA, AB..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def size_limits() -> tuple[int, int]:
    """The largest file (bytes) and the most rows an upload may have."""
    config = current_app.config
    return (
        int(config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)),
        int(config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)),
    )


def read_rows(source: IO[bytes], filename: str = "") -> tuple[str, Iterator[tuple[int, list[Any]]]]:
    """Detect the format and return it with an iterator of (row number, cells), header first.

    Raises :class:`UnreadableFile` for anything that is not a readable CSV or XLSX file (the
    iterator too, for a fault found further in).
    """
    max_bytes, _ = size_limits()
    size = _size(source)
    if size == 0:
        raise UnreadableFile(wording(N_("The file is empty")))
    if size > max_bytes:
        raise UnreadableFile(
            wording(
                N_("The file is %(size)s MB: files must be smaller than %(limit)s MB"),
                size=f"{size / 1e6:,.1f}",
                limit=f"{max_bytes / 1e6:,.0f}",
            )
        )
    source.seek(0)
    head = source.read(8)
    source.seek(0)
    suffix = Path(filename).suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx", _xlsx_rows(source, max_bytes)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(
            wording(
                N_(
                    "The file is an old Excel 97–2003 workbook (.xls): save it as an Excel "
                    "workbook (.xlsx) or as CSV UTF-8"
                )
            )
        )
    if suffix in (".xlsx", ".xlsm"):
        raise UnreadableFile(wording(N_("The file is named .xlsx but is not an Excel workbook")))
    return "csv", _csv_rows(source)


def _size(source: IO[bytes]) -> int:
    position = source.tell()
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(position)
    return size


# ---------------------------------------------------------------------------- CSV


def _csv_rows(source: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    sample = source.read(65536)
    source.seek(0)
    if b"\x00" in sample:
        raise UnreadableFile(wording(_BINARY))
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the sample's end
            raise _not_utf8() from exc
    return _csv_iter(source)


def _not_utf8(row: int | None = None) -> UnreadableFile:
    advice = wording(
        N_("save it as CSV UTF-8 (in Excel, ‘Save as’ and choose ‘CSV UTF-8 (comma delimited)’)")
    )
    if row:
        return UnreadableFile(
            wording(
                N_("The file is not UTF-8 text (row %(row)s): %(advice)s"), row=row, advice=advice
            )
        )
    return UnreadableFile(wording(N_("The file is not UTF-8 text: %(advice)s"), advice=advice))


def _csv_iter(source: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]

    def checked_lines() -> Iterator[str]:
        for line in text:
            if "\x00" in line:
                raise UnreadableFile(wording(_BINARY))
            yield line

    reader = csv.reader(checked_lines())
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):  # noqa: B007
            yield number, cells
    except UnicodeDecodeError as exc:
        raise _not_utf8(number + 1) from exc
    except csv.Error as exc:
        raise UnreadableFile(
            wording(N_("Row %(row)s is not valid CSV: %(error)s"), row=number + 1, error=str(exc))
        ) from exc
    finally:
        with contextlib.suppress(ValueError):  # ValueError: the caller closed it first
            text.detach()  # leave the caller's file open, for the caller to close


# ---------------------------------------------------------------------------- XLSX


def _xlsx_rows(source: IO[bytes], max_bytes: int) -> Iterator[tuple[int, list[Any]]]:
    try:
        with zipfile.ZipFile(source) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableFile(wording(_NOT_A_WORKBOOK)) from exc
    if "xl/workbook.xml" not in names:
        raise UnreadableFile(
            wording(N_("The file is a zip archive but not an Excel workbook (.xlsx)"))
        )
    if unpacked > XLSX_EXPANSION * max_bytes:
        raise UnreadableFile(wording(N_("The workbook is too large once unpacked")))
    source.seek(0)
    # openpyxl is imported here, not at the top: only an XLSX upload needs it, and it is a
    # large import for a worker to hold.
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise UnreadableFile(wording(_NOT_A_WORKBOOK)) from exc
    return _xlsx_iter(workbook)


def _xlsx_iter(workbook: Any) -> Iterator[tuple[int, list[Any]]]:
    """The rows of the workbook's ``responses`` sheet, else of its first sheet other than
    ``codebook`` (a download's workbook imports as it is)."""
    try:
        names = workbook.sheetnames
        chosen = next((n for n in names if n.lower() == "responses"), None) or next(
            (n for n in names if n.lower() != "codebook"), None
        )
        if chosen is None:
            raise UnreadableFile(wording(N_("The workbook has no sheet of responses")))
        sheet = workbook[chosen]
        try:
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(cells)
        except UnreadableFile:
            raise
        except Exception as exc:
            raise UnreadableFile(
                wording(
                    N_("The workbook's sheet %(sheet)s cannot be read: it may be damaged"),
                    sheet=repr(chosen),
                )
            ) from exc
    finally:
        workbook.close()
