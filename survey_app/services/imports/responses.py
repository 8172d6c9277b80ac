"""Importing historical responses from the ``responses`` layout (CSV or XLSX).

The layout is the one :mod:`survey_app.services.exports` writes: a header row naming
``response_id`` (optional), ``wave``, ``side``, ``service_area``, ``role_level``, ``instrument``,
``instrument_version``, then one column per item key and, optionally, one per free-text
question. An export therefore imports unchanged, and a council can load the waves it ran before
this service in the same shape.

Rules (each broken rule is a problem naming the row and column; row 1 is the header, so the
numbers are those a spreadsheet shows):

* **All or nothing.** Every row is checked; if any problem is found nothing is stored (the
  responses already inserted in the transaction are rolled back by the caller, which commits
  only on success) and :class:`ImportRejected` lists the problems (the first
  ``MAX_PROBLEMS``, then how many more).
* **Rows** are checked against the relationship (side, service area key or name, role level)
  and against the instrument version the row names, which must exist as a file or be frozen
  in the database already (a file is frozen now if it is new). Answers: a whole number on the
  scale, ``dk`` (or the scale's "don't know" label) where the item allows it, or blank for
  not answered. Columns of items the row's instrument does not have must be blank.
* **Waves.** A wave named by the rows that does not exist is created, already **closed**, on
  the rows' instrument version. An existing wave is accepted only if it is closed and has no
  responses yet: importing never adds to a wave that has results, nor into an open wave
  (whose respondents are still answering). All rows of one wave name one instrument version.
* ``--wave W`` (or the page's wave field) imports only the rows of wave W; rows with a blank
  wave are taken to be W, rows of other waves are skipped (and counted in the report).
* ``response_id``: a UUID is kept (so an export re-imports as the same responses; a key
  already stored is a problem); blank gets a new random key.
* Text cells written with a leading ``'`` by an export's CSV-injection guard (``'=...``) get
  the guard removed, so that the text round-trips.
* **Files**: UTF-8 CSV (a byte-order mark is fine; Excel's "CSV UTF-8") or an XLSX workbook
  (its ``responses`` sheet, else its first sheet other than ``codebook``). Binary files, old
  ``.xls`` workbooks, other encodings, broken workbooks, oversized files and unknown columns are
  refused with a message saying so.

A new wave's opening and closing times are read from its label when it names a period
(``2011-Q3``, ``2011-07``, ``2011``), so that it takes its place in time among the
relationship's waves; otherwise it counts as closed at the time of import. New waves are
created in the order they first appear in the file (an export lists waves in time order).

After a successful import the imported waves' results are computed and persisted (as when a
wave closes), in the same transaction: the earliest imported wave, every later closed wave
(whose status depends on the earlier ones) and the relationship's trends.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import func, insert, select

from instruments import Instrument
from survey_app.extensions import db
from survey_app.models import (
    ROLE_LEVELS,
    SIDES,
    Answer,
    Comment,
    InstrumentVersion,
    Relationship,
    Response,
    User,
    Wave,
)
from survey_app.services import ServiceError, audit
from survey_app.services.exports import DONT_KNOW
from survey_app.services.instruments import freeze_instrument, frozen_instrument
from survey_app.services.results import closed_waves, recompute
from survey_app.services.waves import LABEL, create_wave, now

#: How many problems an import report lists before summarising the rest.
MAX_PROBLEMS = 100
#: Defaults for the size limits (``IMPORT_MAX_BYTES`` / ``IMPORT_MAX_ROWS`` in the config).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_ROWS = 2_000_000
MAX_COLUMNS = 2000
#: An XLSX is a zip: refuse one that would unpack to more than this many times its limit.
XLSX_EXPANSION = 20
BATCH = 2000

FIXED = (
    "response_id",
    "wave",
    "side",
    "service_area",
    "role_level",
    "instrument",
    "instrument_version",
)
REQUIRED = ("side", "instrument", "instrument_version")
_GUARDED = re.compile(r"^'[=+\-@\t\r]")


class ImportRejected(ServiceError):
    """The file was refused; ``problems`` names each bad row and column. Nothing was stored."""

    def __init__(self, problems: list[str], *, more: int = 0, rows_checked: int = 0) -> None:
        self.problems = problems
        self.more = more
        self.rows_checked = rows_checked
        total = len(problems) + more
        if rows_checked:
            head = (
                f"Nothing was imported: {total} problem{'s' if total != 1 else ''} in "
                f"{rows_checked:,} row{'s' if rows_checked != 1 else ''}"
            )
        else:
            head = "Nothing was imported"
        lines = [head + ":" if total > 1 or rows_checked else head + ": " + problems[0]]
        if total > 1 or rows_checked:
            lines += [f"  {p}" for p in problems]
        if more:
            lines.append(f"  ... and {more:,} more")
        super().__init__("\n".join(lines))

    @property
    def summary(self) -> str:
        return str(self).splitlines()[0]


class FileRefused(ImportRejected):
    """The file as a whole cannot be read as the responses layout."""

    def __init__(self, message: str) -> None:
        super().__init__([message])


@dataclass
class ImportReport:
    relationship: str
    file_format: str
    responses: dict[str, int] = field(default_factory=dict)
    waves_created: list[str] = field(default_factory=list)
    rows_skipped: int = 0

    @property
    def total(self) -> int:
        return sum(self.responses.values())

    def lines(self) -> list[str]:
        out = [
            f"Imported {self.total:,} responses into {len(self.responses)} wave"
            f"{'s' if len(self.responses) != 1 else ''} of {self.relationship}:"
        ]
        for label, n in self.responses.items():
            created = " (new wave, closed)" if label in self.waves_created else ""
            out.append(f"  {label}: {n:,} responses{created}")
        if self.rows_skipped:
            out.append(f"Skipped {self.rows_skipped:,} rows of other waves.")
        return out


# ============================================================================ reading files


def _limits() -> tuple[int, int]:
    config = current_app.config
    return (
        int(config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)),
        int(config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)),
    )


def _size(source: IO[bytes]) -> int:
    position = source.tell()
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(position)
    return size


def read_rows(source: IO[bytes], filename: str = "") -> tuple[str, Iterator[tuple[int, list[Any]]]]:
    """Detect the format and return it with an iterator of (row number, cells), header first.

    Raises :class:`FileRefused` for anything that is not a readable CSV or XLSX file.
    """
    max_bytes, _ = _limits()
    size = _size(source)
    if size == 0:
        raise FileRefused("The file is empty")
    if size > max_bytes:
        raise FileRefused(
            f"The file is {size / 1e6:,.1f} MB: files must be smaller than {max_bytes / 1e6:,.0f} MB"
        )
    source.seek(0)
    head = source.read(8)
    source.seek(0)
    suffix = Path(filename).suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx", _xlsx_rows(source, max_bytes)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            "The file is an old Excel 97–2003 workbook (.xls): save it as an Excel workbook "
            "(.xlsx) or as CSV UTF-8"
        )
    if suffix in (".xlsx", ".xlsm"):
        raise FileRefused("The file is named .xlsx but is not an Excel workbook")
    return "csv", _csv_rows(source)


def _csv_rows(source: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    sample = source.read(65536)
    source.seek(0)
    if b"\x00" in sample:
        raise FileRefused(
            "The file is not a CSV file (it holds binary data): upload a CSV UTF-8 or XLSX file"
        )
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the sample's end
            raise _not_utf8() from exc
    return _csv_iter(source)


def _not_utf8(row: int | None = None) -> FileRefused:
    where = f" (row {row})" if row else ""
    return FileRefused(
        f"The file is not UTF-8 text{where}: save it as CSV UTF-8 (in Excel, ‘Save as’ "
        "and choose ‘CSV UTF-8 (comma delimited)’)"
    )


def _csv_iter(source: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]

    def lines() -> Iterator[str]:
        for line in text:
            if "\x00" in line:
                raise FileRefused(
                    "The file is not a CSV file (it holds binary data): upload a CSV UTF-8 or "
                    "XLSX file"
                )
            yield line

    reader = csv.reader(lines())
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):  # noqa: B007
            yield number, cells
    except UnicodeDecodeError as exc:
        raise _not_utf8(number + 1) from exc
    except csv.Error as exc:
        raise FileRefused(f"Row {number + 1} is not valid CSV: {exc}") from exc
    finally:
        with contextlib.suppress(ValueError):  # ValueError: the caller closed it first
            text.detach()  # leave the caller's file open, for the caller to close


def _xlsx_rows(source: IO[bytes], max_bytes: int) -> Iterator[tuple[int, list[Any]]]:
    try:
        with zipfile.ZipFile(source) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise FileRefused("The file is not a readable Excel workbook (.xlsx)") from exc
    if "xl/workbook.xml" not in names:
        raise FileRefused("The file is a zip archive but not an Excel workbook (.xlsx)")
    if unpacked > XLSX_EXPANSION * max_bytes:
        raise FileRefused("The workbook is too large once unpacked")
    source.seek(0)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise FileRefused("The file is not a readable Excel workbook (.xlsx)") from exc
    return _xlsx_iter(workbook)


def _xlsx_iter(workbook: Any) -> Iterator[tuple[int, list[Any]]]:
    try:
        names = workbook.sheetnames
        chosen = next((n for n in names if n.lower() == "responses"), None) or next(
            (n for n in names if n.lower() != "codebook"), None
        )
        if chosen is None:
            raise FileRefused("The workbook has no sheet of responses")
        sheet = workbook[chosen]
        try:
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(cells)
        except FileRefused:
            raise
        except Exception as exc:
            raise FileRefused(
                f"The workbook's sheet {chosen!r} cannot be read: it may be damaged"
            ) from exc
    finally:
        workbook.close()


# ============================================================================ checking rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if _GUARDED.match(text):
        text = text[1:]
    return text


@dataclass
class _Version:
    model: InstrumentVersion
    instrument: Instrument
    #: column index -> (item_no, item)
    items: dict[int, tuple[int, Any]]
    #: column index -> comment question
    comments: dict[int, Any]
    #: item/comment columns that this version does not have
    foreign: list[int]


@dataclass
class _WaveTarget:
    label: str
    wave: Wave | None
    version_id: int | None
    count: int = 0
    first_row: int = 0


class _Importer:
    def __init__(self, relationship: Relationship, wave_label: str | None, actor: Any) -> None:
        self.relationship = relationship
        self.only_wave = wave_label.strip() if wave_label else None
        self.actor = actor
        self.problems: list[str] = []
        self.more = 0
        self.areas = {}
        for area in relationship.service_areas:
            self.areas[area.key.lower()] = area.id
            self.areas.setdefault(area.name.strip().lower(), area.id)
        self.versions: dict[tuple[str, str], _Version | None] = {}
        self.waves: dict[str, _WaveTarget | None] = {}
        self.created: list[str] = []
        self.seen_ids: set[bytes] = set()
        self.skipped = 0
        self.rows = 0
        self.pending: list[
            tuple[int, dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]
        ] = []

    # ------------------------------------------------------------------ problems

    def problem(self, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)
        else:
            self.more += 1

    def cell_problem(self, row: int, column: str, message: str) -> None:
        self.problem(f"row {row}, column {column}: {message}")

    # ------------------------------------------------------------------ header

    def read_header(self, cells: list[Any]) -> None:
        names = [_text(c).lower() for c in cells]
        while names and not names[-1]:
            names.pop()
        if not names:
            raise FileRefused(
                "Row 1 must be a header row naming the columns (wave, side, service_area, "
                "role_level, instrument, instrument_version and the item keys)"
            )
        if len(names) > MAX_COLUMNS:
            raise FileRefused(f"The file has {len(names):,} columns: at most {MAX_COLUMNS:,}")
        problems = []
        for i, name in enumerate(names):
            if not name:
                problems.append(f"column {_column_letter(i)} of the header row is blank")
            elif name in names[:i]:
                problems.append(f"the header names column {name!r} twice")
        required = list(REQUIRED) + ([] if self.only_wave else ["wave"])
        missing = [name for name in required if name not in names]
        if missing:
            problems.append(
                "the header row has no "
                + ", ".join(missing)
                + " column"
                + ("s" if len(missing) > 1 else "")
                + ": is this a file in the responses layout?"
            )
        if problems:
            raise ImportRejected(problems)
        self.names = names
        self.index = {name: i for i, name in enumerate(names)}
        self.answer_columns = [i for i, name in enumerate(names) if name not in FIXED]
        self.width = len(names)

    # ------------------------------------------------------------------ lookups

    def version(self, row: int, key: str, number: str) -> _Version | None:
        cache_key = (key, number)
        if cache_key in self.versions:
            return self.versions[cache_key]
        found: _Version | None = None
        if not re.fullmatch(r"[1-9][0-9]{0,5}", number):
            self.cell_problem(row, "instrument_version", f"{number!r} is not a version number")
        else:
            try:
                model = freeze_instrument(key, int(number))
            except ServiceError as exc:
                self.cell_problem(row, "instrument", str(exc))
            else:
                found = self._layout(row, model)
        self.versions[cache_key] = found
        return found

    def _layout(self, row: int, model: InstrumentVersion) -> _Version:
        instrument = frozen_instrument(model)
        items = {item.key: (n, item) for n, item in enumerate(instrument.items)}
        comments = {q.key: q for q in instrument.comments}
        layout = _Version(model, instrument, {}, {}, [])
        for i in self.answer_columns:
            name = self.names[i]
            if name in items:
                layout.items[i] = items[name]
            elif name in comments:
                layout.comments[i] = comments[name]
            elif name.startswith("comment_") and name[8:] in comments:
                layout.comments[i] = comments[name[8:]]
            else:
                layout.foreign.append(i)
        missing = [key for key in items if key not in self.index]
        if missing and len(missing) == len(items):
            self.problem(
                f"row {row}: the header has none of the item columns of {model.key} "
                f"v{model.version} ({', '.join(list(items)[:5])}...)"
            )
        return layout

    def wave(self, row: int, label: str, version: _Version) -> _WaveTarget | None:
        if label in self.waves:
            target = self.waves[label]
            if target is not None and target.version_id != version.model.id:
                self.cell_problem(
                    row,
                    "instrument_version",
                    f"wave {label} is on {_version_name(target.version_id)}; every response of "
                    "a wave must answer the same instrument version",
                )
            return target
        target = None
        if not LABEL.match(label):
            self.cell_problem(
                row,
                "wave",
                f"{label!r} is not a wave label: use 1–40 letters, digits, spaces, dots, dashes "
                "or underscores, e.g. 2012-Q4",
            )
        else:
            existing = db.session.scalar(
                select(Wave).where(
                    Wave.relationship_id == self.relationship.id, Wave.label == label
                )
            )
            if existing is None:
                target = _WaveTarget(label, None, version.model.id, first_row=row)
            else:
                stored = db.session.scalar(
                    select(func.count())
                    .select_from(Response)
                    .where(Response.wave_id == existing.id)
                )
                if existing.state != "closed":
                    self.cell_problem(
                        row,
                        "wave",
                        f"wave {label} is {existing.state}: responses can be imported only into "
                        "a new wave or a closed wave with no responses",
                    )
                elif stored:
                    self.cell_problem(
                        row,
                        "wave",
                        f"wave {label} already has {stored:,} responses: import only waves this "
                        "service holds no responses for",
                    )
                elif existing.instrument_version_id != version.model.id:
                    self.cell_problem(
                        row,
                        "instrument_version",
                        f"wave {label} is on {_version_name(existing.instrument_version_id)}, "
                        f"not {version.model.key} v{version.model.version}",
                    )
                else:
                    target = _WaveTarget(
                        label, existing, existing.instrument_version_id, first_row=row
                    )
        self.waves[label] = target
        return target

    # ------------------------------------------------------------------ one row

    def check_row(self, row: int, cells: list[Any]) -> None:
        if len(cells) > self.width:
            extra = [i for i in range(self.width, len(cells)) if _text(cells[i])]
            if extra:
                self.problem(
                    f"row {row}: column {_column_letter(extra[0])} has a value but no header"
                )
                return
        if len(cells) < self.width:
            cells = cells + [None] * (self.width - len(cells))

        def cell(name: str) -> str:
            i = self.index.get(name)
            return _text(cells[i]) if i is not None else ""

        label = cell("wave")
        if self.only_wave:
            if not label:
                label = self.only_wave
            elif label != self.only_wave:
                self.skipped += 1
                return
        self.rows += 1
        ok = True
        if not label:
            self.cell_problem(row, "wave", "is blank: every response belongs to a wave")
            ok = False
        side = cell("side").lower()
        if side not in SIDES:
            shown = f"{cell('side')!r} is not a side" if side else "is blank"
            self.cell_problem(row, "side", f"{shown}: use client or supplier")
            ok = False
        area_text = cell("service_area")
        area_id = None
        if area_text:
            area_id = self.areas.get(area_text.lower())
            if area_id is None:
                known = ", ".join(a.key for a in self.relationship.service_areas) or "none"
                self.cell_problem(
                    row,
                    "service_area",
                    f"{area_text!r} is not a service area of this relationship (known: {known})",
                )
                ok = False
        role = cell("role_level").lower() or None
        if role is not None and role not in ROLE_LEVELS:
            self.cell_problem(
                row,
                "role_level",
                f"{cell('role_level')!r} is not a role level: use {', '.join(ROLE_LEVELS)} or "
                "leave it blank",
            )
            ok = False
        key, number = cell("instrument"), cell("instrument_version")
        version = None
        if not key or not number:
            column = "instrument" if not key else "instrument_version"
            self.cell_problem(row, column, "is blank: name the instrument the response answered")
            ok = False
        else:
            version = self.version(row, key, number)
            ok = ok and version is not None
        target = self.wave(row, label, version) if (version is not None and label) else None
        if target is None:
            ok = False
        response_id = self.response_id(row, cell("response_id"))
        if response_id is None:
            ok = False
        if version is None:
            return
        answers, comments = self.answers(row, cells, version, response_id)
        if answers is None or not ok or target is None:
            return
        target.count += 1
        assert response_id is not None
        self.pending.append(
            (
                row,
                {
                    "id": response_id,
                    "wave_label": label,
                    "instrument_version_id": version.model.id,
                    "side": side,
                    "service_area_id": area_id,
                    "role_level": role,
                },
                answers,
                comments,
            )
        )

    def response_id(self, row: int, text: str) -> uuid.UUID | None:
        if not text:
            return uuid.uuid4()
        try:
            value = uuid.UUID(text)
        except ValueError:
            self.cell_problem(row, "response_id", f"{text!r} is not a response key (a UUID)")
            return None
        if value.bytes in self.seen_ids:
            self.cell_problem(row, "response_id", f"{text} appears twice in the file")
            return None
        self.seen_ids.add(value.bytes)
        return value

    def answers(
        self, row: int, cells: list[Any], version: _Version, response_id: uuid.UUID | None
    ) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]]]:
        scale = version.instrument.scale
        points = scale.points
        dk_words = {DONT_KNOW, scale.dont_know_label.strip().lower(), "don't know", "don’t know"}
        answers: list[dict[str, Any]] = []
        comments: list[dict[str, Any]] = []
        ok = True
        for i in version.foreign:
            if _text(cells[i]):
                self.cell_problem(
                    row,
                    self.names[i],
                    f"is not an item of {version.model.key} v{version.model.version}, "
                    "so it must be blank",
                )
                ok = False
        for i, (item_no, item) in version.items.items():
            raw = cells[i]
            if raw is None or raw == "":
                continue
            value = _answer(raw, points)
            if value is None:
                text = _text(raw)
                if not text:
                    continue
                if text.lower() in dk_words:
                    if item.dont_know:
                        answers.append(
                            {"response_id": response_id, "item_no": item_no, "value": None}
                        )
                        continue
                    self.cell_problem(
                        row, self.names[i], "“don't know” is not an answer this item allows"
                    )
                else:
                    self.cell_problem(row, self.names[i], _off_scale(text, points, item.dont_know))
                ok = False
                continue
            answers.append({"response_id": response_id, "item_no": item_no, "value": value})
        for i, question in version.comments.items():
            text = _text(cells[i])
            if not text:
                continue
            if len(text) > question.max_length:
                self.cell_problem(
                    row,
                    self.names[i],
                    f"the comment has {len(text):,} characters: at most {question.max_length:,}",
                )
                ok = False
                continue
            comments.append(
                {"response_id": response_id, "question_key": question.key, "text": text}
            )
        return (answers if ok else None), comments

    # ------------------------------------------------------------------ storing

    def flush(self) -> None:
        """Store the pending rows (only while the file has no problems)."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        if self.problems or self.more:
            return
        ids = [entry[1]["id"] for entry in batch]
        stored = set(db.session.scalars(select(Response.id).where(Response.id.in_(ids))))
        if stored:
            for row, response, _, _ in batch:
                if response["id"] in stored:
                    self.cell_problem(
                        row,
                        "response_id",
                        f"response {response['id']} is already stored: was this file imported "
                        "before?",
                    )
            return
        responses, answers, comments = [], [], []
        for _, response, response_answers, response_comments in batch:
            target = self.waves[response.pop("wave_label")]
            assert target is not None
            if target.wave is None:
                target.wave = self.create(target)
            responses.append({**response, "wave_id": target.wave.id})
            answers.extend(response_answers)
            comments.extend(response_comments)
        # Core executemany on the session's connection (not the ORM's bulk path: no objects).
        connection = db.session.connection()
        connection.execute(insert(Response.__table__), responses)
        if answers:
            connection.execute(insert(Answer.__table__), answers)
        if comments:
            connection.execute(insert(Comment.__table__), comments)

    def create(self, target: _WaveTarget) -> Wave:
        model = db.session.get(InstrumentVersion, target.version_id)
        assert model is not None
        wave = create_wave(
            self.relationship,
            target.label,
            instrument_key=model.key,
            instrument_version=model.version,
            actor=_actor_name(self.actor),
        )
        wave.state = "closed"
        period = period_of(target.label)
        if period is None:
            wave.closed_at = now()
        else:
            wave.opened_at, wave.closed_at = period
        db.session.flush()
        self.created.append(target.label)
        return wave


_POINTS = {str(n): n for n in range(1, 100)}


def _answer(raw: Any, points: int) -> int | None:
    """The scale point a cell holds, or None if it holds no whole number on the scale."""
    quick = _POINTS.get(raw) if raw.__class__ is str else None
    if quick is not None:
        return quick if quick <= points else None
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            return None
        value = int(raw)
    else:
        text = str(raw).strip()
        if not re.fullmatch(r"[0-9]{1,3}(\.0*)?", text):
            return None
        value = int(float(text))
    return value if 1 <= value <= points else None


def _off_scale(text: str, points: int, dont_know: bool) -> str:
    shown = text if len(text) <= 20 else text[:20] + "…"
    dk = f", {DONT_KNOW} for don't know," if dont_know else ""
    if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return f"{shown} is not on the 1–{points} scale (use a whole number 1–{points}{dk} or leave it blank)"
    return f"{shown!r} is not an answer: use a whole number 1–{points}{dk} or leave it blank"


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _version_name(version_id: int | None) -> str:
    model = db.session.get(InstrumentVersion, version_id) if version_id else None
    return f"{model.key} v{model.version}" if model else "another instrument version"


def _actor_name(actor: Any) -> str:
    return actor.email if isinstance(actor, User) else str(actor)


# ============================================================================ the operation


def import_responses(
    source: IO[bytes] | str | Path,
    relationship: Relationship,
    *,
    filename: str = "",
    wave_label: str | None = None,
    actor: User | str = "cli",
) -> ImportReport:
    """Import a CSV or XLSX file of responses into ``relationship`` (see the module notes).

    Flushes; the caller commits on success and rolls back on :class:`ImportRejected` (which
    lists every problem found; nothing of the file may be kept).
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            with path.open("rb") as handle:
                return import_responses(
                    handle,
                    relationship,
                    filename=filename or path.name,
                    wave_label=wave_label,
                    actor=actor,
                )
        except OSError as exc:
            raise FileRefused(f"Cannot read {path}: {exc.strerror or exc}") from exc
    if wave_label is not None and wave_label.strip() and not LABEL.match(wave_label.strip()):
        raise FileRefused(
            f"{wave_label!r} is not a wave label: use 1–40 letters, digits, spaces, dots, "
            "dashes or underscores, e.g. 2012-Q4"
        )
    _, max_rows = _limits()
    file_format, rows = read_rows(source, filename)
    importer = _Importer(relationship, wave_label or None, actor)
    try:
        header = next(rows, None)
        if header is None:
            raise FileRefused("The file is empty")
        importer.read_header(header[1])
        for number, cells in rows:
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue  # blank lines (a spreadsheet's trailing rows)
            if importer.rows + importer.skipped >= max_rows:
                raise FileRefused(
                    f"The file has more than {max_rows:,} rows: split it into smaller files"
                )
            importer.check_row(number, cells)
            if len(importer.pending) >= BATCH:
                importer.flush()
    finally:
        rows.close()  # type: ignore[attr-defined]
    importer.flush()
    if importer.problems or importer.more:
        raise ImportRejected(importer.problems, more=importer.more, rows_checked=importer.rows)
    if importer.rows == 0:
        where = f" of wave {importer.only_wave}" if importer.only_wave else ""
        raise FileRefused(f"The file has no responses{where} to import")
    waves = [t.wave for t in importer.waves.values() if t is not None and t.wave is not None]
    db.session.flush()
    compute_results(relationship, waves)
    report = ImportReport(
        relationship=relationship.name,
        file_format=file_format,
        responses={t.label: t.count for t in importer.waves.values() if t is not None},
        waves_created=list(importer.created),
        rows_skipped=importer.skipped,
    )
    audit.record(
        "responses.import",
        actor=actor,
        relationship=relationship.id,
        file=filename[:200],
        format=file_format,
        responses=report.total,
        waves=report.responses,
        waves_created=report.waves_created,
    )
    db.session.flush()
    return report


def compute_results(relationship: Relationship, waves: list[Wave]) -> None:
    """Compute and persist the results of the imported (closed) waves, as closing a wave does.

    One rebuild from the earliest imported wave in time order: that wave, every later closed
    wave (whose status depends on the earlier ones) and the relationship's trends.
    """
    if not waves:
        return
    ordered = closed_waves(relationship)
    imported = {w.id for w in waves}
    earliest = next(w for w in ordered if w.id in imported)
    recompute(relationship, earliest)


_QUARTER = re.compile(r"^(\d{4})[-_ ]?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^(\d{4})$")


def period_of(label: str) -> tuple[datetime, datetime] | None:
    """The period a wave label names (``2011-Q3``, ``2011-07``, ``2011``), as start and end.

    An imported wave has no opening or closing time of its own; one read from its label puts
    it in its place among the relationship's waves (results order waves by time). A label
    that names no period gives None: the wave then counts as closed at the time of import.
    """
    if match := _QUARTER.match(label):
        year, quarter = int(match[1]), int(match[2])
        start = datetime(year, 3 * quarter - 2, 1)
        end_month = 3 * quarter
    elif match := _MONTH.match(label):
        year, month = int(match[1]), int(match[2])
        start, end_month = datetime(year, month, 1), month
    elif match := _YEAR.match(label):
        year = int(match[1])
        start, end_month = datetime(year, 1, 1), 12
    else:
        return None
    if not 1900 <= year <= 2999:
        return None
    following = datetime(year + (end_month == 12), end_month % 12 + 1, 1)
    return start, following - timedelta(seconds=1)
