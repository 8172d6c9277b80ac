"""SPSS system files (``.sav``) of a table, for the raw ``responses`` (pyreadstat).

Variable labels, value labels and user-missing "don't know" codes: an answer column is
numeric — the scale point, system-missing when skipped, and a numeric code for "don't know"
(9 on scales of up to 8 points, else 99: :func:`dont_know_code`), declared user-missing and
labelled "Don't know". Text cells are written unchanged (SPSS runs no formulas).

An item's variable label is the wording the client's staff read; where the supplier's staff
read something else, their wording is in the file's document (``DISPLAY DOCUMENTS.``), one
entry per item, as in the codebook's ``supplier_label``. SPSS limits a variable label to 256
bytes, a document line to 80 and the file label to 64: longer texts are cut at a character
boundary (labels) or wrapped (the document).

pyreadstat writes from a DataFrame, so the whole table is held in memory: about 8 bytes per
item answer plus ~150 bytes per response (≈ 450 MB for a million 37-item responses);
per-wave downloads are small.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from survey_app.services.codebook import DONT_KNOW, Column
from survey_app.services.exports.tables import Table

_SPSS_RESERVED = {
    "ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH",
}  # fmt: skip
_NUMERIC_TYPES = ("answer", "integer", "number", "boolean")
#: The first line of the file's document (an item's variable label is the client staff's
#: wording).
DOCUMENT_HEADING = "What supplier staff read, where it differs from the variable label:"


def spss_names(names: Sequence[str]) -> list[str]:
    """Valid, unique SPSS variable names (letters, digits, ``_.@#$``; ≤ 64 bytes)."""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        spss = re.sub(r"[^A-Za-z0-9_.@#$]", "_", name)
        if not spss or not spss[0].isalpha():
            spss = "v" + spss
        spss = spss.rstrip(".")[:64] or "v"
        if spss.upper() in _SPSS_RESERVED:
            spss += "_"
        base, n = spss, 1
        while spss.lower() in seen:
            n += 1
            spss = f"{base[: 64 - len(str(n)) - 1]}_{n}"
        seen.add(spss.lower())
        out.append(spss)
    return out


def dont_know_code(points: int) -> int:
    """The SPSS code for "don't know": 9, 99 or 999 — the first above the scale's top point."""
    code = 9
    while code <= points:
        code = code * 10 + 9
    return code


def write_sav(
    table: Table, target: str | Path, *, file_label: str = "", language: str = "en"
) -> None:
    """An SPSS .sav file of the table (pyreadstat; the table is held in memory to write it).

    Answer columns are numeric: the scale point, system-missing when skipped, and the
    :func:`dont_know_code` for "don't know", declared user-missing and labelled. Value labels
    come from the codebook; variable labels are the columns' labels (for items, the client
    wording with the supplier's name filled in). Integer columns get an F format with no
    decimals. Text columns are strings (blank for none). The supplier staff's wording of
    items whose wording differs goes in the file's document. ``language`` ``cy``: variable
    and value labels in Welsh where the codebook has them (the codebook keeps both).
    """
    # pyreadstat and pandas are imported here, not at the top: only an SPSS download needs
    # them, and they are large imports for a worker to hold.
    import pyreadstat

    columns = tuple(c.in_language(language) for c in table.columns)
    names = spss_names([c.name for c in columns])
    dk_codes = {
        i: dont_know_code(max((k for k in c.value_labels if isinstance(k, int)), default=5))
        for i, c in enumerate(columns)
        if c.type == "answer"
    }
    metadata = _variables(names, columns, dk_codes)
    pyreadstat.write_sav(
        _frame(table, names, dk_codes),
        str(target),
        file_label=_fit(file_label, 64),
        column_labels=[_fit(c.label or c.description, 256) for c in columns],
        note=_document(names, columns) or None,
        **metadata,
    )


def _fit(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, at a character boundary."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _document(names: Sequence[str], columns: Sequence[Column]) -> list[str]:
    """The file's document: the supplier staff's wording of each item whose wording differs
    from its variable label, in lines of at most 80 bytes."""
    entries = [(n, c.supplier_label) for n, c in zip(names, columns, strict=True)]
    entries = [(n, text) for n, text in entries if text]
    if not entries:
        return []
    lines = [DOCUMENT_HEADING]
    for name, text in entries:
        lines += _wrapped(f"{name}: {text}", indent="    ")
    return lines


def _wrapped(text: str, *, indent: str = "", limit: int = 80) -> list[str]:
    """Words of ``text`` in lines of at most ``limit`` bytes of UTF-8 (later lines indented);
    a word longer than a line is cut."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else (indent if lines else "") + word
        if len(candidate.encode("utf-8")) <= limit:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = _fit((indent if lines else "") + word, limit)
    if line:
        lines.append(line)
    return lines


def _frame(table: Table, names: list[str], dk_codes: dict[int, int]) -> Any:
    """The table's rows as a DataFrame: numbers as float64 (NaN for missing), text as str."""
    import pandas as pd  # imported here, as pyreadstat is in write_sav: for SPSS only

    numeric = [c.type in _NUMERIC_TYPES for c in table.columns]
    data: list[Any] = [array("d") if numeric[i] else [] for i in range(len(numeric))]
    nan = math.nan
    for row in table.rows:
        for i, value in enumerate(row):
            if numeric[i]:
                if value is None:
                    value = nan
                elif value == DONT_KNOW and i in dk_codes:
                    value = dk_codes[i]
                elif (
                    value.__class__ is str or isinstance(value, float) and not math.isfinite(value)
                ):
                    value = nan
                data[i].append(float(value))
            else:
                data[i].append("" if value is None else str(value))
    return pd.DataFrame(
        {
            name: (np.frombuffer(values, dtype=np.float64) if numeric[i] else values)
            for i, (name, values) in enumerate(zip(names, data, strict=True))
        }
    )


def _variables(
    names: list[str], columns: Sequence[Column], dk_codes: dict[int, int]
) -> dict[str, dict[str, Any]]:
    """pyreadstat's value labels, missing ranges, measures and formats of every variable."""
    value_labels: dict[str, dict[Any, str]] = {}
    missing: dict[str, list[Any]] = {}
    measure: dict[str, str] = {}
    formats: dict[str, str] = {}
    for i, (name, column) in enumerate(zip(names, columns, strict=True)):
        numeric = column.type in _NUMERIC_TYPES
        labels = {}
        for code, meaning in column.value_labels.items():
            if column.type == "answer" and code == DONT_KNOW:
                labels[float(dk_codes[i])] = meaning
            elif numeric and isinstance(code, (int, float)) and not isinstance(code, bool):
                labels[float(code)] = meaning
            elif not numeric:
                labels[str(code)] = meaning
        if labels:
            value_labels[name] = labels
        if column.type == "answer":
            if DONT_KNOW in column.value_labels:
                missing[name] = [float(dk_codes[i])]
            measure[name] = "ordinal"
            formats[name] = f"F{len(str(dk_codes[i]))}.0"
        elif column.type in ("integer", "boolean"):
            measure[name] = "scale" if column.type == "integer" else "nominal"
            formats[name] = "F8.0"
        elif column.type == "number":
            measure[name] = "scale"
            formats[name] = "F10.4"
        else:
            measure[name] = "nominal"
    return {
        "variable_value_labels": value_labels,
        "missing_ranges": missing,
        "variable_measure": measure,
        "variable_format": formats,
    }
