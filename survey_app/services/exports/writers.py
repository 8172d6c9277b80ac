"""The writers that turn a :class:`~survey_app.services.exports.tables.Table` into a file.

=======  ===================================================================================
csv      UTF-8 with a byte-order mark (Excel opens it as UTF-8), CRLF line ends, a header row;
         yielded in chunks so that a web response streams with flat memory.
xlsx     openpyxl write-only workbook: a sheet per table and a ``codebook`` sheet (a download
         of the codebook itself is that one sheet). Rows go to temporary files as they are
         written, so memory stays flat; a table longer than a sheet (1,048,576 rows)
         continues on ``<name>_2``, ``<name>_3``... Numbers are shown rounded by a number
         format from the codebook (:attr:`Column.decimals`: 2 decimals for a mean, 3 for a
         p-value, whole numbers for counts), the cell keeping the full value.
json     one streamed JSON object ``{"table", "relationship", "waves", "columns": [{name,
         type, label, label_cy, supplier_label, description, description_cy, value_labels,
         value_labels_cy}], "rows": [[...], ...]}``
         — rows are arrays in column order (``pandas.DataFrame(doc["rows"],
         columns=[c["name"] for c in doc["columns"]])``).
=======  ===================================================================================

(SPSS files are written by :mod:`survey_app.services.exports.spss`.) In every format:

* **CSV injection**: a *text* cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is written with a leading ``'`` in CSV and XLSX
  (:mod:`survey_app.services.formula_guard`). Numbers (a difference of -0.5) stay numbers.
  JSON carries the text unchanged (it runs no formulas).
* A suppressed results cell is blank, and the row says why in its ``suppressed`` column
  (as the results service writes it). A number that is not finite (NaN, ±inf) is blank too
  (JSON ``null``): no spreadsheet reads it as a number.
* XLSX numbers carry 16 significant digits (openpyxl's writer; Excel itself keeps 15) and show
  the codebook's decimals; CSV and JSON carry Python's shortest exact repr.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from survey_app.services.codebook import DONT_KNOW, Column
from survey_app.services.exports.scope import Scope
from survey_app.services.exports.tables import CODEBOOK_COLUMNS, Table, codebook_rows
from survey_app.services.formula_guard import neutralise

XLSX_MAX_ROWS = 1_048_576


def _cell(value: Any) -> Any:
    """A cell for CSV or XLSX: text neutralised, non-finite numbers blank, numpy unwrapped."""
    kind = value.__class__
    if kind is str:
        return neutralise(value)
    if value is None or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is bool:
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return neutralise(str(value))
    if hasattr(value, "item"):  # numpy scalar
        return _cell(value.item())
    return neutralise(str(value))


def _converter(columns: Sequence[Column]) -> Callable[[Sequence[Any]], list[Any]]:
    """A row converter that leaves answer and integer columns alone (they hold ints, None or
    ``dk``) and makes every other cell safe."""
    others = [i for i, c in enumerate(columns) if c.type not in ("answer",)]
    if len(others) == len(columns):
        return lambda row: [_cell(v) for v in row]

    def convert(row: Sequence[Any]) -> list[Any]:
        out = list(row)
        for i in others:
            v = out[i]
            if v is not None and v.__class__ is not int:
                out[i] = _cell(v)
        return out

    return convert


# ---------------------------------------------------------------------------- CSV


def _csv_text(value: Any) -> Any:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


def csv_chunks(table: Table, *, chunk_size: int = 1 << 16) -> Iterator[bytes]:
    """The table as CSV bytes: BOM, header, rows; CRLF; yielded in chunks of ~64 KiB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(table.column_names)
    convert = _converter(table.columns)
    booleans = [i for i, c in enumerate(table.columns) if c.type == "boolean"]
    write = writer.writerow
    count = 0
    for row in table.rows:
        cells = convert(row)
        for i in booleans:
            cells[i] = _csv_text(cells[i])
        write(cells)
        count += 1
        if count == 256:
            count = 0
            if buffer.tell() >= chunk_size:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------- JSON


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _json_cell(value: Any) -> Any:
    if value.__class__ is float and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, int, float, bool)):
        return _json_cell(value.item())
    return value


def _json_head(table: Table, scope: Scope | None) -> dict[str, Any]:
    """What a JSON download says before its rows: the table, its scope and its columns."""
    return {
        "table": table.name,
        "title": table.title,
        "relationship": scope.relationship_name if scope else None,
        "waves": [w.label for w in scope.waves] if scope else None,
        "dont_know": DONT_KNOW,
        "columns": [
            {
                "name": c.name,
                "type": c.type,
                "label": c.label,
                "label_cy": c.label_cy,
                "supplier_label": c.supplier_label,
                "description": c.description,
                "description_cy": c.description_cy,
                "value_labels": {str(k): v for k, v in c.value_labels.items()},
                "value_labels_cy": {str(k): v for k, v in c.value_labels_cy.items()},
            }
            for c in table.columns
        ],
    }


def json_chunks(
    table: Table, *, scope: Scope | None = None, chunk_rows: int = 500
) -> Iterator[bytes]:
    """The table as one JSON object, streamed: metadata and columns first, then ``rows``."""
    opening = json.dumps(_json_head(table, scope), ensure_ascii=False)[:-1] + ', "rows": ['
    yield opening.encode("utf-8")
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_json_default).encode
    floats = [i for i, c in enumerate(table.columns) if c.type in ("number", "text")]
    parts: list[str] = []
    separator = "\n"
    for row in table.rows:
        cells = list(row)
        for i in floats:
            v = cells[i]
            if v is not None and v.__class__ is not str:
                cells[i] = _json_cell(v)
        parts.append(separator + dumps(cells))
        separator = ",\n"
        if len(parts) >= chunk_rows:
            yield "".join(parts).encode("utf-8")
            parts.clear()
    parts.append("\n]}\n")
    yield "".join(parts).encode("utf-8")


# ---------------------------------------------------------------------------- XLSX


def _sheet_title(name: str, used: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
    base, n = title, 1
    while title.lower() in used:
        n += 1
        suffix = f"_{n}"
        title = base[: 31 - len(suffix)] + suffix
    used.add(title.lower())
    return title


def _number_formats(columns: Sequence[Column]) -> list[tuple[int, str]]:
    """(column index, Excel number format) of each column the codebook gives decimals:
    ``0.00`` for two. Other cells keep Excel's General format (whole numbers show whole)."""
    return [
        (i, "0." + "0" * c.decimals if c.decimals else "0")
        for i, c in enumerate(columns)
        if c.decimals is not None
    ]


def write_xlsx(tables: Sequence[Table], target: str | Path | IO[bytes]) -> None:
    """A workbook with a sheet per table and a ``codebook`` sheet (openpyxl write-only)."""
    # openpyxl is imported here, not at the top: most processes never write a workbook, and
    # it is a large import for a worker to hold.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    used: set[str] = set()
    bold = Font(bold=True)

    def header(sheet: Any, names: Sequence[str]) -> None:
        sheet.freeze_panes = "A2"
        cells = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    def clean(value: Any) -> Any:
        if value.__class__ is str and ILLEGAL_CHARACTERS_RE.search(value):
            return ILLEGAL_CHARACTERS_RE.sub("", value)
        return value

    for table in tables:
        names = table.column_names
        convert = _converter(table.columns)
        texts = [i for i, c in enumerate(table.columns) if c.type == "text"]
        formats = _number_formats(table.columns)
        sheet = workbook.create_sheet(_sheet_title(table.name, used))
        header(sheet, names)
        rows_left = XLSX_MAX_ROWS - 1
        part = 1
        for row in table.rows:
            if rows_left == 0:
                part += 1
                sheet = workbook.create_sheet(_sheet_title(f"{table.name}_{part}", used))
                header(sheet, names)
                rows_left = XLSX_MAX_ROWS - 1
            cells = convert(row)
            for i in texts:
                if cells[i].__class__ is str:
                    cells[i] = clean(cells[i])
            for i, number_format in formats:
                if cells[i].__class__ in (float, int):  # not None, not bool
                    cells[i] = WriteOnlyCell(sheet, value=cells[i])
                    cells[i].number_format = number_format
            sheet.append(cells)
            rows_left -= 1
    described = [t for t in tables if t.name != "codebook"]
    if len(described) == len(tables):  # a codebook download is its own codebook sheet
        codebook = workbook.create_sheet(_sheet_title("codebook", used))
        header(codebook, [c.name for c in CODEBOOK_COLUMNS])
        for row in codebook_rows(described):
            codebook.append([clean(_cell(v)) for v in row])
    workbook.save(target)
