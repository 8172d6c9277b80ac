"""Uploads kept for the import job: a file an admin uploaded, checked at the top, stored where
the worker reads it, deleted once imported (or a day after a failed import, for "Try again").

The page checks the file's header and first rows at once (:func:`stage_import`: a clear error
changes nothing, and no file is kept); a file without a problem there is kept as
``<IMPORT_UPLOADS_DIR>/<name>.upload`` (mode 0600; default ``instance/uploads``), named by
a hash of its content, relationship and wave, so that the same upload twice is one file and
one job (:attr:`StagedImport.key`). The job (``responses.import``) then checks every row,
stores and scores in one transaction, and deletes the file when it succeeds; the minute tick
deletes files older than :data:`KEEP_HOURS` that no unfinished job needs.

With workers on several hosts, ``IMPORT_UPLOADS_DIR`` must be a folder they all share.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import current_app

from survey_app.models import Relationship
from survey_app.services import ServiceError
from survey_app.services.imports.responses import check_responses

#: A failed import's file is kept this long for "Try again", then deleted.
KEEP_HOURS = 24
#: How many rows the page checks before it starts the job (the job checks them all).
CHECKED_AT_ONCE = 2000
SUFFIX = ".upload"
_NAME = re.compile(r"^[0-9a-f]{40}$")
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class StagedImport:
    """An upload kept for the import job: its file's ``name`` and the job's parameters."""

    name: str
    parameters: dict[str, Any]

    @property
    def key(self) -> str:
        """Two identical uploads (same file, relationship and wave) while the first is
        unfinished start one job."""
        return f"responses.import:{self.name}"


def uploads_dir() -> Path:
    folder = current_app.config["IMPORT_UPLOADS_DIR"]
    path = Path(folder) if folder else Path(current_app.instance_path) / "uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def upload_path(name: str) -> Path:
    """Where the kept upload ``name`` is (whether or not it is still there)."""
    if not _NAME.match(name):
        raise ServiceError(f"{name!r} is not the name of a kept upload")
    return uploads_dir() / f"{name}{SUFFIX}"


def stage_import(
    source: IO[bytes], relationship: Relationship, *, filename: str, wave_label: str | None
) -> StagedImport:
    """Check the upload's header and first rows (raising the import's own refusal, nothing
    kept), then keep it for the job. Flushes nothing the caller should keep: roll back."""
    folder = uploads_dir()
    partial = folder / f".{secrets.token_hex(8)}.partial"
    digest = hashlib.sha256(f"{relationship.id}\0{wave_label or ''}\0".encode())
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as kept:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                kept.write(chunk)
        with partial.open("rb") as handle:
            check_responses(
                handle,
                relationship,
                filename=filename,
                wave_label=wave_label,
                rows=CHECKED_AT_ONCE,
            )
        name = digest.hexdigest()[:40]
        partial.replace(upload_path(name))
    finally:
        partial.unlink(missing_ok=True)
    return StagedImport(
        name,
        {
            "relationship_id": relationship.id,
            "upload": name,
            "filename": filename[:200],
            "wave_label": wave_label or None,
        },
    )


def discard_upload(name: str) -> None:
    upload_path(name).unlink(missing_ok=True)


def delete_stale_uploads(needed: set[str], *, now: float | None = None) -> list[str]:
    """Delete kept uploads older than :data:`KEEP_HOURS` (and partial files older than an
    hour) that are not in ``needed`` (those of unfinished jobs); their names."""
    now = time.time() if now is None else now
    deleted = []
    for path in uploads_dir().iterdir():
        age = now - path.stat().st_mtime
        stale = path.name.endswith(".partial") and age > 3600
        stale = stale or (path.suffix == SUFFIX and age > KEEP_HOURS * 3600)
        if stale and path.stem not in needed:
            path.unlink(missing_ok=True)
            deleted.append(path.name)
    return deleted
