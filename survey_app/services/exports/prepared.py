"""Large downloads, prepared in the background: the file written by a job, kept in the
instance folder for its requester alone, for a while.

A download whose rows pass ``DOWNLOAD_JOB_MIN_ROWS`` (:func:`estimated_rows`) is not written
inside the request, where a reverse proxy's 30–60 s timeout would cut off the minutes a
whole-history spreadsheet takes: the page starts a job of kind :data:`PREPARE_KIND`, whose run
(:func:`prepare_file`) writes the file with the same code as an immediate download
(:func:`~survey_app.services.exports.downloads.prepare_download`) into
:func:`prepared_folder` and returns where it is. The file is then

* **its requester's only**: :func:`prepared_file` gives it to the user who asked, while they
  still reach its relationship as a reviewer, and to nobody else (the page answers 404, as
  for a file that does not exist);
* **short-lived**: it can be fetched for ``PREPARED_DOWNLOAD_HOURS`` (24) after the job
  finished; :func:`delete_expired_files` (every minute, in a worker) deletes it after that,
  and any file no finished job owns;
* **audited** both ways: ``download.prepared`` when the job has written it (the job's
  ``job.submitted`` says who asked), ``download`` with the job's id when it is fetched.

Other files are prepared the same way by other kinds of job (:data:`FETCH_ROLES`): the board
pack (``reports.board_pack``, ``services/reports/prepared.py``) writes its PDF with
:func:`store_file` and is fetched, expired and swept here, by a manager of the relationship.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from instruments import LANGUAGES, SOURCE_LANGUAGE
from survey_app.database import write_transaction
from survey_app.dates import MONTHS, utcnow
from survey_app.extensions import db
from survey_app.models import Job, Response, ResultTable, User
from survey_app.services import JobReport, ServiceError, audit
from survey_app.services.accounts.scope import scope_of
from survey_app.services.exports.downloads import FORMATS, MEDIA_TYPES, file_name, prepare_download
from survey_app.services.exports.scope import Scope, export_scope
from survey_app.services.exports.tables import RESULT_TABLES, Table
from survey_app.texts import N_, Wording, wording

#: The job kind that prepares a download (registered in ``services/jobs/kinds.py``).
PREPARE_KIND = "exports.prepare"
#: How often (in rows written) the job reports its progress.
PROGRESS_EVERY = 2000
#: ``job-<job id>-<random>.<format>``: the job that owns a stored file, and its own name.
_STORED = re.compile(r"^job-(\d+)-[A-Za-z0-9_-]+\.(csv|json|xlsx|sav|pdf)(\.part)?$")
#: The job kind that prints a board pack (its run: ``services/reports/prepared.py``).
BOARD_PACK_KIND = "reports.board_pack"
#: The kinds of job whose result is a prepared file, and the role its requester must still
#: hold in the file's relationship to fetch it.
FETCH_ROLES = {PREPARE_KIND: "reviewer", BOARD_PACK_KIND: "manager"}


class FileUnavailable(ServiceError):
    """The requester's prepared file cannot be fetched: it has expired (410)."""

    status = 410


class FileNotReady(FileUnavailable):
    """The requester's file is still being prepared, or its job failed (409)."""

    status = 409


@dataclass(frozen=True)
class PreparedFile:
    """A prepared file its requester may fetch: where it is, what to call it, until when."""

    path: Path
    filename: str
    media_type: str
    table: str
    fmt: str
    scope: Scope
    expires_at: datetime


def prepared_folder() -> Path:
    """Where prepared files are kept: ``PREPARED_DOWNLOADS_DIR``, by default the instance
    folder's ``prepared-downloads`` (shared storage when workers run on other hosts)."""
    configured = current_app.config.get("PREPARED_DOWNLOADS_DIR") or ""
    return Path(configured or Path(current_app.instance_path) / "prepared-downloads")


def lifetime() -> timedelta:
    return timedelta(hours=float(current_app.config["PREPARED_DOWNLOAD_HOURS"]))


def estimated_rows(table: str, scope: Scope) -> int:
    """How many rows a download of ``table`` over ``scope`` writes, from stored counts (one
    aggregate query): responses for ``responses``, stored result rows for a results table
    (every results table for ``all``); the ``codebook`` is small."""
    if not scope.wave_ids or table == "codebook":
        return 0
    if table == "responses":
        query = select(func.count(Response.id)).where(Response.wave_id.in_(scope.wave_ids))
    else:
        names = RESULT_TABLES if table == "all" else (table,)
        query = select(func.coalesce(func.sum(ResultTable.n_rows), 0)).where(
            ResultTable.wave_id.in_(scope.wave_ids), ResultTable.name.in_(names)
        )
    return int(db.session.scalar(query) or 0)


def needs_preparing(table: str, scope: Scope) -> bool:
    """Whether a download is large enough to be prepared by a job (``DOWNLOAD_JOB_MIN_ROWS``
    rows or more; 0 turns preparing off)."""
    threshold = int(current_app.config["DOWNLOAD_JOB_MIN_ROWS"])
    return threshold > 0 and estimated_rows(table, scope) >= threshold


def tables_to_prepare(scope: Scope) -> set[str]:
    """The tables (``all`` included) whose download over ``scope`` is prepared by a job, from
    two aggregate queries (for a page listing every table)."""
    threshold = int(current_app.config["DOWNLOAD_JOB_MIN_ROWS"])
    if threshold <= 0 or not scope.wave_ids:
        return set()
    stored = dict(
        db.session.execute(
            select(ResultTable.name, func.sum(ResultTable.n_rows))
            .where(ResultTable.wave_id.in_(scope.wave_ids), ResultTable.name.in_(RESULT_TABLES))
            .group_by(ResultTable.name)
        ).all()
    )
    rows = {name: int(stored.get(name) or 0) for name in RESULT_TABLES}
    rows["all"] = sum(rows.values())
    rows["responses"] = estimated_rows("responses", scope)
    return {name for name, count in rows.items() if count >= threshold}


def prepare_parameters(
    table: str, fmt: str, scope: Scope, language: str = SOURCE_LANGUAGE
) -> dict[str, Any]:
    """The job's parameters for a download (checked now, so a bad request starts nothing);
    ``language``: the requester's, that of an SPSS file's labels (the worker has no reader)."""
    prepare_download(table, fmt, scope)  # raises ServiceError for a table not in the format
    parameters = {
        "relationship_id": scope.relationship_id,
        "table": table,
        "fmt": fmt,
        "wave": scope.wave_label,
    }
    if fmt == "sav":  # only SPSS labels are in a language (one job for both otherwise)
        parameters["language"] = language if language in LANGUAGES else SOURCE_LANGUAGE
    return parameters


def prepare_file(
    ctx: JobReport,
    *,
    relationship_id: int,
    table: str,
    fmt: str,
    wave: str | None = None,
    language: str = SOURCE_LANGUAGE,
) -> dict[str, Any]:
    """Write the download into :func:`prepared_folder` (the job kind's work), reporting the
    rows written; an SPSS file labelled in ``language``, the requester's (as the direct
    download labels it in its reader's).

    The requester must still reach the relationship as a reviewer. The file is written under
    a ``.part`` name and renamed when complete; then, in one transaction, its audit entry
    (``download.prepared``) and a checkpoint naming it, so a job taken back after that
    returns the file it wrote rather than writing another. The result names the file for
    :func:`prepared_file`.
    """
    requester = allowed_requester(ctx, relationship_id, PREPARE_KIND)
    if fmt not in FORMATS:
        raise ServiceError(f"there is no format {fmt!r}")
    scope = export_scope(relationship_id, wave)
    filename = file_name(table, scope, fmt)
    done = ctx.resume_from or {}
    if not (prepared_folder() / str(done.get("stored"))).is_file():
        done = _write(ctx, requester, scope, table, fmt, language)
    return ready_result(
        ctx, done, filename=filename, table=table, fmt=fmt, media_type=MEDIA_TYPES[fmt]
    )


def allowed_requester(ctx: JobReport, relationship_id: int, kind: str) -> User:
    """The person who asked for job ``ctx``'s file, if they may still fetch it (an active
    account holding the kind's :data:`FETCH_ROLES` role in the relationship)."""
    requester = ctx.requested_by()
    if requester is None or not requester.active:
        raise ServiceError(
            wording(N_("The person who asked for this file no longer has an account"))
        )
    if not scope_of(requester, {FETCH_ROLES[kind]}).allows(relationship_id):
        raise ServiceError(
            wording(N_("The person who asked for this file may no longer download it"))
        )
    return requester


def _write(
    ctx: JobReport, requester: User, scope: Scope, table: str, fmt: str, language: str
) -> dict:
    total = estimated_rows(table, scope)
    name = file_name(table, scope, fmt)
    ctx.progress(0, total, wording(N_("Writing %(file)s"), file=name))
    download = prepare_download(
        table, fmt, scope, wrap=_counting(ctx.progress, total, name), language=language
    )
    done = store_file(
        ctx,
        requester,
        download.chunks,
        fmt=fmt,
        relationship=scope.relationship_id,
        table=table,
        wave=scope.wave_label or "all",
    )
    ctx.progress(total, total, wording(N_("%(file)s is ready"), file=name))
    return done


def store_file(
    ctx: JobReport,
    requester: User,
    chunks: Iterable[bytes],
    *,
    fmt: str,
    relationship: int,
    table: str,
    wave: str,
    **detail: Any,
) -> dict[str, Any]:
    """Keep ``chunks`` as job ``ctx``'s prepared file: written under a ``.part`` name and
    renamed when complete; then, in one transaction, its audit entry (``download.prepared``,
    with ``detail``) and a checkpoint naming it. Returns that checkpoint (``stored``,
    ``bytes``)."""
    folder = prepared_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"job-{ctx.job_id}-{secrets.token_urlsafe(12)}.{fmt}"
    partial = folder / f"{stored}.part"
    try:
        with partial.open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        os.replace(partial, folder / stored)
    finally:
        partial.unlink(missing_ok=True)
    done = {"stored": stored, "bytes": (folder / stored).stat().st_size}
    with write_transaction():  # a fresh transaction: the reads above saw an older snapshot
        audit.record(
            "download.prepared",
            actor=db.session.merge(requester),
            job=ctx.job_id,
            relationship=relationship,
            table=table,
            format=fmt,
            wave=wave,
            bytes=done["bytes"],
            **detail,
        )
        ctx.checkpoint(done)
    return done


def ready_result(
    ctx: JobReport,
    done: dict[str, Any],
    *,
    filename: str,
    table: str,
    fmt: str,
    media_type: str,
    endpoint: str = "downloads.prepared",
) -> dict[str, Any]:
    """The result of a job that prepared a file: a summary, the link (to ``endpoint``, the
    page that gives it out) its requester alone sees on the job's page, and what
    :func:`prepared_file` needs to give it out."""
    until = utcnow() + lifetime()
    return {
        "summary": wording(
            N_(
                "%(file)s is ready (%(size)s). Only you can download it, until %(day)s %(month)s "
                "%(year)s at %(time)s UTC."
            ),
            file=filename,
            size=_size_text(done["bytes"]),
            day=until.day,
            month=wording(MONTHS[until.month - 1]),
            year=until.year,
            time=f"{until:%H:%M}",
        ),
        "link": {
            "endpoint": endpoint,
            "values": {"job_id": ctx.job_id},
            "text": wording(N_("Download %(file)s"), file=filename),
            "requester_only": True,  # the job's page shows it to nobody else
        },
        "file": {
            "stored": done["stored"],
            "filename": filename,
            "bytes": done["bytes"],
            "table": table,
            "fmt": fmt,
            "media_type": media_type,
        },
    }


def _counting(
    report: Callable[[int, int | None, Wording | None], None], total: int, name: str
) -> Callable[[Sequence[Table]], list[Table]]:
    """Wrap tables so that their rows, as they are written, are counted to ``report``."""
    written = 0

    def count(rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        nonlocal written
        for row in rows:
            written += 1
            if written % PROGRESS_EVERY == 0:
                report(
                    min(written, total),
                    max(total, written),
                    wording(N_("Writing %(file)s"), file=name),
                )
            yield row

    return lambda tables: [replace(t, rows=count(t.rows)) for t in tables]


def _size_text(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(size, 1) / 1024:,.0f} KB"
    return f"{size / (1024 * 1024):,.1f} MB"


def prepared_file(job_id: int, user: User) -> PreparedFile | None:
    """The file job ``job_id`` prepared, if ``user`` asked for it and still reaches its
    relationship in the kind's role (:data:`FETCH_ROLES`); ``None`` otherwise (the page
    answers 404). For its requester only: :class:`FileNotReady` while it is being prepared
    (or its job failed), :class:`FileUnavailable` once it has expired."""
    job = db.session.get(Job, job_id)
    if job is None or job.kind not in FETCH_ROLES or job.requested_by_id != user.id:
        return None
    if not scope_of(user, {FETCH_ROLES[job.kind]}).allows(job.relationship_id):
        return None
    stored = (job.result or {}).get("file") if job.state == "succeeded" else None
    if not isinstance(stored, dict) or job.finished_at is None:
        raise FileNotReady("This file is not ready: its job has not finished, or did not succeed.")
    expires_at = job.finished_at + lifetime()
    path = prepared_folder() / str(stored.get("stored"))
    if utcnow() >= expires_at or not _STORED.match(path.name) or not path.is_file():
        raise FileUnavailable("This file has expired and has been deleted. Prepare it again.")
    parameters = job.parameters
    scope = export_scope(job.relationship_id, parameters.get("wave"))  # type: ignore[arg-type]
    fmt = str(stored.get("fmt") or parameters["fmt"])
    table = str(stored.get("table") or parameters["table"])
    return PreparedFile(
        path=path,
        filename=str(stored.get("filename") or file_name(table, scope, fmt)),
        media_type=str(stored.get("media_type") or MEDIA_TYPES[fmt]),
        table=table,
        fmt=fmt,
        scope=scope,
        expires_at=expires_at,
    )


def ready_files(user: User, relationship_id: int) -> list[tuple[Job, datetime]]:
    """``user``'s prepared files of a relationship that can still be fetched, newest first,
    each with when it expires."""
    oldest = utcnow() - lifetime()
    jobs = db.session.scalars(
        select(Job)
        .where(
            Job.kind == PREPARE_KIND,  # the downloads' page lists these; a pack is one click
            Job.requested_by_id == user.id,
            Job.relationship_id == relationship_id,
            Job.state == "succeeded",
            Job.finished_at > oldest,
        )
        .order_by(Job.finished_at.desc())
    ).all()
    return [(job, job.finished_at + lifetime()) for job in jobs if job.finished_at]


def delete_expired_files(now: datetime | None = None) -> list[str]:
    """Delete every prepared file past its time, and every file no job owns any more (a job
    failed, cancelled or deleted after it wrote); files of unfinished jobs are kept. Returns
    the names deleted. Idempotent: several workers may run it at once."""
    folder = prepared_folder()
    if not folder.is_dir():
        return []
    now = now or utcnow()
    found = {path: _STORED.match(path.name) for path in folder.iterdir()}
    owners = {int(m.group(1)) for m in found.values() if m}
    jobs = {
        job.id: job for job in db.session.scalars(select(Job).where(Job.id.in_(sorted(owners))))
    }
    deleted = []
    for path, match in found.items():
        job = jobs.get(int(match.group(1))) if match else None
        if match and not _expired(job, path.name, now):
            continue
        if not match and path.is_dir():
            continue  # not ours
        path.unlink(missing_ok=True)
        deleted.append(path.name)
    return deleted


def _expired(job: Job | None, name: str, now: datetime) -> bool:
    if job is None or job.kind not in FETCH_ROLES:
        return True
    if not job.finished:
        return False  # still being written (a .part) or about to be recorded
    if job.state != "succeeded" or job.finished_at is None:
        return True
    if name != (job.result or {}).get("file", {}).get("stored"):
        return True
    return now >= job.finished_at + lifetime()
