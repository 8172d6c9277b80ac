"""A running job's latest progress as its readers see it, on SQLite noted beside the database.

On SQLite one write transaction at a time holds the database: a job whose work is one
all-or-nothing transaction (a history import) keeps its heartbeat from writing progress
until it commits. So on SQLite the heartbeat also notes the latest progress in a small file
of its own (``<instance>/job-progress/<job id>.json``, replaced whole, so a reader never sees
half of it), and :func:`job_progress` prefers that note to the row while the job runs. The
note holds only what the row would (figures and a message), and is deleted when the job
ends. On PostgreSQL the heartbeat writes beside the uncommitted work, and the row is read.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

from survey_app.extensions import db
from survey_app.models import Job
from survey_app.texts import say

log = logging.getLogger(__name__)

#: The notes' folder, in the instance folder.
FOLDER = "job-progress"


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a job has got: ``done`` of ``total`` (``None``: not known), and what it is
    doing (a stored text, see :func:`~survey_app.texts.stored_text`)."""

    done: int
    total: int | None
    message: str | None

    @property
    def message_text(self) -> str:
        """The message in the reader's language."""
        return say(self.message)


def notes_folder() -> Path | None:
    """Where this app notes progress (in its app context); ``None`` off SQLite."""
    if db.engine.dialect.name != "sqlite":
        return None
    return Path(current_app.instance_path) / FOLDER


def note_progress(folder: Path, job_id: int, progress: dict[str, Any]) -> None:
    """Note ``progress`` (``progress_done``, ``progress_total``, ``message``) for the job;
    a failure is logged, not raised (the database row still gets it later)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{job_id}.{os.getpid()}.{threading.get_ident()}.tmp"
        partial.write_text(json.dumps(progress), encoding="utf-8")
        os.replace(partial, folder / f"{job_id}.json")
    except OSError as exc:
        log.warning("job %s: could not note its progress (%s)", job_id, exc)


def forget_progress(folder: Path, job_id: int) -> None:
    (folder / f"{job_id}.json").unlink(missing_ok=True)


def job_progress(job: Job) -> Progress:
    """The job's latest progress: its row's, or, while it runs on SQLite, its note's."""
    row = Progress(job.progress_done or 0, job.progress_total, job.message)
    folder = notes_folder()
    if job.state != "running" or folder is None:
        return row
    try:
        noted = json.loads((folder / f"{job.id}.json").read_text(encoding="utf-8"))
        return Progress(
            int(noted["progress_done"]), noted.get("progress_total"), noted.get("message")
        )
    except (OSError, ValueError, KeyError, TypeError):
        return row
