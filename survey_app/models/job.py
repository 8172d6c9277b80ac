"""Background jobs: long work (closing and scoring a wave, recomputing, sending, importing,
preparing a large download) run by a worker, with its progress and outcome stored.

The queue (huey) only wakes workers; the job and its state live here, so that a worker killed
mid-job leaves a row whose lease runs out and which another worker takes back and resumes:

* ``state``: ``queued`` → ``running`` → ``succeeded`` | ``failed``; ``cancelled`` from either
  unfinished state. A failed job may be queued again ("Try again").
* A worker that claims a job writes its name in ``lease_owner`` and keeps pushing
  ``lease_expires_at`` forward while it runs (a heartbeat). Every write a worker makes to the
  job is conditional on still holding the lease, so a worker whose lease was taken back can
  neither report progress nor commit its work.
* ``checkpoint`` is the job kind's own note of how far its committed work has got (written in
  the same transaction as that work): a job taken back resumes from it.
* ``idempotency_key`` is unique among unfinished jobs (a partial unique index on both
  databases): two clicks of the same button start one job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, orm, text
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.dates import utcnow
from survey_app.models.base import Base, IntPk, RelationshipId
from survey_app.models.relationship import Relationship
from survey_app.models.user import User
from survey_app.texts import N_, say

#: A job's states, as stored → as shown.
JOB_STATES = {  # translated where shown
    "queued": N_("Waiting to start"),
    "running": N_("In progress"),
    "succeeded": N_("Done"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}
#: States in which a job still has work to do (and holds its idempotency key).
UNFINISHED_STATES = ("queued", "running")

_UNFINISHED_SQL = text("state IN ('queued', 'running')")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="state"
        ),
        Index(
            "uq_jobs_unfinished_idempotency_key",
            "idempotency_key",
            unique=True,
            postgresql_where=_UNFINISHED_SQL,
            sqlite_where=_UNFINISHED_SQL,
        ),
        Index("ix_jobs_state_lease_expires_at", "state", "lease_expires_at"),
    )

    id: Mapped[IntPk]
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None]
    message: Mapped[str | None] = mapped_column(String(300))
    checkpoint: Mapped[Any | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    relationship_id: Mapped[RelationshipId | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    woken_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    requested_by: Mapped[User | None] = orm.relationship()
    relationship: Mapped[Relationship | None] = orm.relationship()

    @property
    def state_text(self) -> str:
        return JOB_STATES.get(self.state, self.state)

    # The title, progress message, error and the result's summary and link text are stored as
    # wordings (survey_app/texts.py): each reader reads them in their own language.
    @property
    def title_text(self) -> str:
        return say(self.title)

    @property
    def message_text(self) -> str:
        return say(self.message)

    @property
    def error_text(self) -> str:
        return say(self.error)

    @property
    def summary_text(self) -> str:
        """The outcome in a sentence or a few (an import's: one a line, joined)."""
        summary = (self.result or {}).get("summary")
        if isinstance(summary, list):
            return " ".join(say(line).strip() for line in summary)
        return say(summary)

    @property
    def finished(self) -> bool:
        return self.state not in UNFINISHED_STATES

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state}>"
