"""A download: which table in which format, checked and prepared, then written to the audit log.

:func:`prepare_download` checks that the table is offered in the format, reads the tables'
columns (so that a problem is raised before any byte is sent) and returns a
:class:`Download` whose chunks write the file lazily; :func:`record_download` puts it in the
audit log. The web route and ``relhealth export`` both do exactly this.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from survey_app.extensions import db
from survey_app.models import User
from survey_app.services import ServiceError, audit
from survey_app.services.exports.responses import responses_table
from survey_app.services.exports.scope import Scope
from survey_app.services.exports.spss import write_sav
from survey_app.services.exports.tables import (
    RESULT_TABLES,
    TABLES,
    Table,
    codebook_table,
    results_table,
    targets_table,
)
from survey_app.services.exports.writers import csv_chunks, json_chunks, write_xlsx

if TYPE_CHECKING:
    from survey_app.services.exports.prepared import PreparedFile

#: Formats, and the tables each serves (SPSS is for the raw responses).
FORMATS: dict[str, tuple[str, ...]] = {
    "csv": TABLES,
    "xlsx": (*TABLES, "all"),
    "json": TABLES,
    "sav": ("responses",),
}
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "sav": "application/x-spss-sav",
}


@dataclass
class Download:
    """A file ready to send: its name and media type, and its bytes as chunks."""

    filename: str
    media_type: str
    chunks: Iterator[bytes]
    table: str
    fmt: str
    scope: Scope


def file_name(table: str, scope: Scope, fmt: str) -> str:
    """``relhealth-scores-2012-Q3.csv``, ``relhealth-responses-all-waves.sav``."""
    return f"relhealth-{table}-{scope.slug}.{fmt}"


def build_tables(name: str, scope: Scope) -> list[Table]:
    """The tables a download of ``name`` writes: one, or every results table (and the
    agreed targets) for ``all``.

    The ``codebook`` table describes the columns of every other table of the scope.
    """
    if name == "all":
        return [results_table(t, scope) for t in RESULT_TABLES] + [targets_table(scope)]
    if name == "responses":
        return [responses_table(scope)]
    if name == "codebook":
        tables = [results_table(t, scope) for t in RESULT_TABLES]
        return [codebook_table([*tables, targets_table(scope), responses_table(scope)])]
    if name in RESULT_TABLES:
        return [results_table(name, scope)]
    if name == "targets":
        return [targets_table(scope)]
    raise ServiceError(f"there is no table {name!r}: choose one of {', '.join(TABLES)}")


def _spooled(write: Callable[[Path], None], suffix: str) -> Iterator[bytes]:
    """Write a file to a temporary folder, then yield it in chunks and delete it."""
    with tempfile.TemporaryDirectory(prefix="relhealth-export-") as folder:
        path = Path(folder) / f"export{suffix}"
        write(path)
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 16):
                yield chunk


def prepare_download(
    table: str,
    fmt: str,
    scope: Scope,
    *,
    wrap: Callable[[list[Table]], list[Table]] | None = None,
    language: str = "en",
) -> Download:
    """Check that ``table`` exists in ``fmt`` and build what writes it (nothing runs yet).

    The tables' columns (and the small results tables) are read now, so that a problem is
    raised before any byte is sent; the rows are read lazily, as the chunks are taken.
    ``wrap`` may replace the tables by others with the same columns (a prepared download
    counts the rows it writes). ``language``: the language of an SPSS file's labels.
    """
    if fmt not in FORMATS:
        raise ServiceError(f"there is no format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if table not in FORMATS[fmt]:
        allowed = ", ".join(FORMATS[fmt])
        raise ServiceError(f"the {table!r} table is not offered as {fmt}: {fmt} offers {allowed}")
    if table not in TABLES and table != "all":
        raise ServiceError(f"there is no table {table!r}: choose one of {', '.join(TABLES)}")

    tables = build_tables(table, scope)  # columns now (errors surface before any byte)
    if wrap is not None:
        tables = wrap(tables)

    def chunks() -> Iterator[bytes]:
        if fmt == "csv":
            yield from csv_chunks(tables[0])
        elif fmt == "json":
            yield from json_chunks(tables[0], scope=scope)
        elif fmt == "xlsx":
            yield from _spooled(lambda path: write_xlsx(tables, path), ".xlsx")
        else:
            label = f"{scope.relationship_name}: {scope.description}"
            yield from _spooled(
                lambda path: write_sav(tables[0], path, file_label=label, language=language),
                ".sav",
            )

    return Download(
        filename=file_name(table, scope, fmt),
        media_type=MEDIA_TYPES[fmt],
        chunks=chunks(),
        table=table,
        fmt=fmt,
        scope=scope,
    )


def record_download(
    download: Download | PreparedFile, *, actor: User | str, job: int | None = None
) -> None:
    """Write the download to the audit log: who, which relationship, table, format and waves
    (and, for a file prepared in the background, the job that prepared it)."""
    prepared = {"job": job} if job is not None else {}
    audit.record(
        "download",
        actor=actor,
        relationship=download.scope.relationship_id,
        table=download.table,
        format=download.fmt,
        wave=download.scope.wave_label or "all",
        **prepared,
    )
    db.session.flush()
