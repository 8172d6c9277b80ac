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
  :data:`~survey_app.services.imports.spreadsheets.MAX_PROBLEMS`, then how many more).
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
  the guard removed (:func:`survey_app.services.formula_guard.restore`), so that the text
  round-trips.
* **Files**: UTF-8 CSV (a byte-order mark is fine; Excel's "CSV UTF-8") or an XLSX workbook
  (its ``responses`` sheet, else its first sheet other than ``codebook``). Binary files, old
  ``.xls`` workbooks, other encodings, broken workbooks, oversized files and unknown columns are
  refused with a message saying so.

A new wave's opening and closing times are read from its label when it names a period
(``2011-Q3``, ``2011-07``, ``2011``), so that it takes its place in time among the
relationship's waves; otherwise it counts as closed at the time of import. New waves are
created in the order they first appear in the file (an export lists waves in time order).

The files are read by :mod:`~survey_app.services.imports.spreadsheets` and the rows checked by
:mod:`~survey_app.services.imports.response_rows`; this module stores what was checked.

After a successful import the imported waves' results are computed and persisted (as when a
wave closes), in the same transaction: the earliest imported wave, every later closed wave
(whose status depends on the earlier ones) and the relationship's trends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from survey_app.database import insert_rows
from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import (
    Answer,
    Comment,
    InstrumentVersion,
    Relationship,
    Response,
    User,
    Wave,
)
from survey_app.services import audit
from survey_app.services.imports.response_rows import (
    FileRefused,
    ImportRejected,
    ResponseChecker,
    WaveTarget,
    bad_wave_label,
)
from survey_app.services.imports.spreadsheets import UnreadableFile, read_rows, size_limits
from survey_app.services.results import closed_waves, compute_wave_themes, recompute
from survey_app.services.waves import LABEL, create_wave
from survey_app.texts import N_, Wording, say, wording

#: Checked rows stored at a time (while the file has no problems).
BATCH = 2000


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

    def wordings(self) -> list[Wording]:
        """What was imported, a sentence a line, to store (an import job's outcome) and say
        in each reader's language."""
        out = [
            wording(
                N_("Imported %(count)s responses into 1 wave of %(relationship)s:")
                if len(self.responses) == 1
                else N_("Imported %(count)s responses into %(waves)s waves of %(relationship)s:"),
                count=f"{self.total:,}",
                waves=len(self.responses),
                relationship=self.relationship,
            )
        ]
        for label, n in self.responses.items():
            out.append(
                wording(
                    N_("%(wave)s: %(count)s responses (new wave, closed)")
                    if label in self.waves_created
                    else N_("%(wave)s: %(count)s responses"),
                    wave=label,
                    count=f"{n:,}",
                )
            )
        if self.rows_skipped:
            out.append(
                wording(
                    N_("Skipped %(count)s rows of other waves."), count=f"{self.rows_skipped:,}"
                )
            )
        return out

    def lines(self) -> list[str]:
        """:meth:`wordings` in the reader's language (English on the command line), a wave's
        line indented."""
        said = [say(w) for w in self.wordings()]
        return [said[0], *(f"  {line}" for line in said[1 : 1 + len(self.responses)])] + said[
            1 + len(self.responses) :
        ]


# ============================================================================ the operation


def import_responses(
    source: IO[bytes] | str | Path,
    relationship: Relationship,
    *,
    filename: str = "",
    wave_label: str | None = None,
    actor: User | str = "cli",
    progress: Callable[[int, Wording], None] | None = None,
) -> ImportReport:
    """Import a CSV or XLSX file of responses into ``relationship`` (see the module notes).

    Flushes; the caller commits on success and rolls back on :class:`ImportRejected` (which
    lists every problem found; nothing of the file may be kept). ``progress(rows, message)``
    is told how far it has got after each batch of rows, and before the results are computed.
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
                    progress=progress,
                )
        except OSError as exc:
            raise FileRefused(
                wording(
                    N_("Cannot read %(path)s: %(error)s"),
                    path=str(path),
                    error=exc.strerror or str(exc),
                )
            ) from exc
    if wave_label is not None and wave_label.strip() and not LABEL.match(wave_label.strip()):
        raise bad_wave_label(wave_label)
    checker = ResponseChecker(relationship, wave_label or None)
    store = _Store(relationship, actor, progress=progress)
    file_format, _ = _checked(source, filename, checker, store)
    targets = [t for t in checker.waves.values() if t is not None]
    db.session.flush()
    if progress is not None:
        progress(
            checker.rows,
            wording(
                N_("Computing the results of the imported waves: %(count)s"), count=len(targets)
            ),
        )
    compute_results(relationship, [t.wave for t in targets if t.wave is not None])
    report = ImportReport(
        relationship=relationship.name,
        file_format=file_format,
        responses={t.label: t.count for t in targets},
        waves_created=list(store.created),
        rows_skipped=checker.skipped,
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


def check_responses(
    source: IO[bytes],
    relationship: Relationship,
    *,
    filename: str = "",
    wave_label: str | None = None,
    rows: int,
) -> None:
    """Check a file's header and first ``rows`` rows as :func:`import_responses` would, storing
    nothing: the same refusal (:class:`ImportRejected`) for a problem found there. Roll back
    afterwards (checking may freeze an instrument version, as importing does)."""
    if wave_label is not None and wave_label.strip() and not LABEL.match(wave_label.strip()):
        raise bad_wave_label(wave_label)
    checker = ResponseChecker(relationship, wave_label or None)
    _checked(source, filename, checker, _Store(relationship, "check", check_only=True), rows)


def _checked(
    source: IO[bytes],
    filename: str,
    checker: ResponseChecker,
    store: _Store,
    limit: int | None = None,
) -> tuple[str, bool]:
    """Check the file row by row, storing checked rows in batches, up to ``limit`` rows, and
    raise the refusal of any problem; the file's format, and whether every row was read."""
    try:
        file_format, complete = _rows_checked(source, filename, checker, store, limit)
    except UnreadableFile as unreadable:
        raise FileRefused(unreadable.stored) from unreadable
    if problems := checker.problems:
        raise ImportRejected(problems.listed, more=problems.more, rows_checked=checker.rows)
    if checker.rows == 0 and complete:
        if checker.only_wave:
            raise FileRefused(
                wording(
                    N_("The file has no responses of wave %(wave)s to import"),
                    wave=checker.only_wave,
                )
            )
        raise FileRefused(wording(N_("The file has no responses to import")))
    return file_format, complete


def _rows_checked(source, filename, checker, store, limit):  # type: ignore[no-untyped-def]
    """:func:`_checked`'s reading: the rows checked (and stored) one by one."""
    _, max_rows = size_limits()
    file_format, rows = read_rows(source, filename)
    try:
        complete = True
        header = next(rows, None)
        if header is None:
            raise FileRefused(wording(N_("The file is empty")))
        checker.read_header(header[1])
        for number, cells in rows:
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue  # blank lines (a spreadsheet's trailing rows)
            if checker.rows + checker.skipped >= max_rows:
                raise FileRefused(
                    wording(
                        N_("The file has more than %(count)s rows: split it into smaller files"),
                        count=f"{max_rows:,}",
                    )
                )
            if limit is not None and checker.rows + checker.skipped >= limit:
                complete = False
                break
            checker.check_row(number, cells)
            if len(checker.pending) >= BATCH:
                store.flush(checker)
    finally:
        rows.close()  # type: ignore[attr-defined]
    store.flush(checker)
    return file_format, complete


class _Store:
    """Stores checked rows while the file has no problems, creating new waves as they come
    (``check_only``: only looks for rows already stored)."""

    def __init__(
        self,
        relationship: Relationship,
        actor: User | str,
        *,
        check_only: bool = False,
        progress: Callable[[int, Wording], None] | None = None,
    ) -> None:
        self.relationship = relationship
        self.actor = actor
        self.check_only = check_only
        self.progress = progress
        self.stored = 0
        self.created: list[str] = []

    def flush(self, checker: ResponseChecker) -> None:
        """Store the pending rows (only while the file has no problems)."""
        if not checker.pending:
            return
        batch, checker.pending = checker.pending, []
        if checker.problems:
            return
        ids = [entry.response["id"] for entry in batch]
        stored = set(db.session.scalars(select(Response.id).where(Response.id.in_(ids))))
        if stored:
            for entry in batch:
                if entry.response["id"] in stored:
                    checker.cell_problem(
                        entry.row,
                        "response_id",
                        f"response {entry.response['id']} is already stored: was this file "
                        "imported before?",
                    )
            return
        if self.check_only:
            return
        responses, answers, comments = [], [], []
        for entry in batch:
            target = checker.waves[entry.wave_label]
            assert target is not None
            if target.wave is None:
                target.wave = self.create(target)
            responses.append({**entry.response, "wave_id": target.wave.id})
            answers.extend(entry.answers)
            comments.extend(entry.comments)
        # Core rows on the session's connection (not the ORM's bulk path: no objects).
        db.session.flush()
        connection = db.session.connection()
        insert_rows(connection, Response.__table__, responses)
        insert_rows(connection, Answer.__table__, answers)
        insert_rows(connection, Comment.__table__, comments)
        self.stored += len(batch)
        if self.progress is not None:
            self.progress(
                self.stored,
                wording(N_("Rows checked and stored: %(count)s"), count=f"{self.stored:,}"),
            )

    def create(self, target: WaveTarget) -> Wave:
        """A wave the file names and the relationship lacks, created closed, in its period."""
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
            wave.closed_at = utcnow()
        else:
            wave.opened_at, wave.closed_at = period
        db.session.flush()
        self.created.append(target.label)
        return wave


def _actor_name(actor: Any) -> str:
    return actor.email if isinstance(actor, User) else str(actor)


def compute_results(relationship: Relationship, waves: list[Wave]) -> None:
    """Compute and persist the results and comment themes of the imported (closed) waves, as
    closing a wave does.

    One rebuild from the earliest imported wave in time order: that wave, every later closed
    wave (whose status depends on the earlier ones) and the relationship's trends.
    """
    if not waves:
        return
    ordered = closed_waves(relationship)
    imported = {w.id for w in waves}
    earliest = next(w for w in ordered if w.id in imported)
    recompute(relationship, earliest)
    for wave in waves:  # their comment themes too, computed once as when a wave closes
        compute_wave_themes(wave, actor="import")


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
