"""Waves' schedules, kept by the worker's minute tick: open, remind and close on time.

Every minute (:func:`~survey_app.services.jobs.registry.on_tick`) each worker looks for
waves with something due and, for each, in a transaction of its own holding the wave's row
lock (``SELECT … FOR UPDATE`` on PostgreSQL, SQLite's write transaction), checks again and:

* opens a draft wave whose opening time has come (``waves.open_wave``);
* starts the ``wave.close`` job of an open wave whose closing time has come — the same job,
  under the same key, as the "Close wave" button; a close that failed or was cancelled is
  left to the administrator (the wave page shows it), not started again every minute;
* starts a reminder round (a ``mail.round`` job, as the "Send reminders" button does) on
  each reminder day, counted from the opening: one :class:`~survey_app.models.WaveReminder`
  row per wave and day (a unique key) says it was started — or why it could not be (email
  not set up, a later reminder already due). Several reminders due at once (workers were
  down) send one round.

Several workers may run it at once and it may run twice: every transition is checked under
the lock, so each happens once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from survey_app.database import write_transaction
from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import Job, Wave, WaveReminder
from survey_app.services import ServiceError, audit, mailing
from survey_app.services.jobs.lifecycle import idempotency_key, submit_job
from survey_app.services.jobs.registry import on_tick
from survey_app.services.waves import open_wave
from survey_app.texts import N_, Wording, wording

#: Who the audit log names for what the schedule does.
ACTOR = "schedule"


@dataclass
class ScheduleReport:
    """What one run of the schedule did (wave ids)."""

    opened: list[int] = field(default_factory=list)
    closing: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)


def close_job_key(wave_id: int) -> str:
    """The key of a wave's closing job: the button's and the schedule's are one job."""
    return idempotency_key("wave.close", {"wave_id": wave_id})


def round_job_key(wave_id: int, kind: str) -> str:
    """The key of a wave's sending job: one round of a wave at a time."""
    return idempotency_key("mail.round", {"wave_id": wave_id, "kind": kind})


def close_job_title(wave: Wave, *, on_schedule: bool = False) -> Wording:
    """Stored as a wording: each reader reads it in their language."""
    if on_schedule:
        return wording(
            N_("Close wave %(label)s on schedule and compute its results"), label=wave.label
        )
    return wording(N_("Close wave %(label)s and compute its results"), label=wave.label)


#: A mailing round's title, by (kind, retry_failed).
ROUND_TITLES = {
    ("invitations", False): N_("Send the invitations of wave %(label)s"),
    ("reminders", False): N_("Send the reminders of wave %(label)s"),
    ("invitations", True): N_("Send the failed invitations again of wave %(label)s"),
    ("reminders", True): N_("Send the failed reminders again of wave %(label)s"),
}


def round_job_title(wave: Wave, kind: str, *, retry_failed: bool = False) -> Wording:
    return wording(ROUND_TITLES[(kind, retry_failed)], label=wave.label)


def recompute_title(relationship: str) -> Wording:
    return wording(N_("Recompute the results of %(relationship)s"), relationship=relationship)


def import_title(filename: str, relationship: str) -> Wording:
    return wording(
        N_("Import %(file)s into %(relationship)s"), file=filename, relationship=relationship
    )


def reminders_due(wave: Wave, now: datetime) -> list[tuple[int, datetime]]:
    """(day, when) of each of the wave's reminders whose time has come (before it closes)."""
    if wave.state != "open" or wave.opened_at is None:
        return []
    due = []
    for day in sorted(wave.reminder_days or []):
        when = wave.opened_at + timedelta(days=day)
        if when > now or (wave.closes_at is not None and when >= wave.closes_at):
            break
        due.append((day, when))
    return due


def next_event(wave: Wave, now: datetime | None = None) -> tuple[datetime, str] | None:
    """What the schedule will do next to ``wave``, and when (UTC); None if nothing."""
    now = now or utcnow()
    if wave.state == "closed":
        return None
    if wave.state == "draft":
        return (wave.opens_at, "Opens") if wave.opens_at else None
    done = set(db.session.scalars(select(WaveReminder.day).where(WaveReminder.wave_id == wave.id)))
    for number, day in enumerate(sorted(wave.reminder_days or []), start=1):
        when = (wave.opened_at or now) + timedelta(days=day)
        if day in done or (wave.closes_at is not None and when >= wave.closes_at):
            continue
        return when, f"Reminder {number} ({day} days after opening) to those who have not submitted"
    return (wave.closes_at, "Closes") if wave.closes_at else None


def run_schedules(now: datetime | None = None) -> ScheduleReport:
    """Open, remind and close every wave whose time has come (see the module)."""
    now = now or utcnow()
    report = ScheduleReport()
    candidates = db.session.scalars(
        select(Wave.id)
        .where(
            or_(
                and_(Wave.state == "draft", Wave.opens_at <= now),
                and_(Wave.state == "open", Wave.closes_at <= now),
                and_(Wave.state == "open", Wave.reminder_days.is_not(None)),
            )
        )
        .order_by(Wave.id)
    ).all()
    db.session.rollback()  # end the read: each wave is kept in a transaction of its own
    for wave_id in candidates:
        with write_transaction():
            _keep(wave_id, now, report)
    return report


def _keep(wave_id: int, now: datetime, report: ScheduleReport) -> None:
    wave = db.session.scalar(
        select(Wave)
        .where(Wave.id == wave_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if wave is None:
        return
    if wave.state == "draft" and wave.opens_at is not None and wave.opens_at <= now:
        open_wave(wave, actor=ACTOR)
        report.opened.append(wave.id)
    if wave.state != "open":
        return
    if wave.past_closing(now):
        if _start_closing(wave):
            report.closing.append(wave.id)
        return
    if _start_reminder(wave, now):
        report.reminded.append(wave.id)


def _start_closing(wave: Wave) -> bool:
    key = close_job_key(wave.id)
    if db.session.scalar(select(Job.id).where(Job.idempotency_key == key).limit(1)) is not None:
        return False  # running, or it failed or was cancelled: the admin's to decide
    submit_job(
        "wave.close",
        {"wave_id": wave.id},
        relationship=wave.relationship,
        key=key,
        title=close_job_title(wave, on_schedule=True),
    )
    audit.record("wave.close_scheduled", actor=ACTOR, wave=wave.id)
    return True


def _start_reminder(wave: Wave, now: datetime) -> bool:
    due = reminders_due(wave, now)
    done = set(db.session.scalars(select(WaveReminder.day).where(WaveReminder.wave_id == wave.id)))
    waiting = [(day, when) for day, when in due if day not in done]
    if not waiting:
        return False
    for day, when in waiting[:-1]:
        db.session.add(
            WaveReminder(
                wave_id=wave.id, day=day, due_at=when, started_at=now,
                outcome=f"Not sent: the reminder of day {waiting[-1][0]} was due as well",
            )
        )  # fmt: skip
    day, when = waiting[-1]
    reminder = WaveReminder(wave_id=wave.id, day=day, due_at=when, started_at=now)
    try:
        mailing.check_round(wave, "reminders")
    except ServiceError as exc:
        reminder.outcome = f"Not sent: {exc}"[:300]
    else:
        parameters = {"wave_id": wave.id, "kind": "reminders"}
        reminder.job_id = submit_job(
            "mail.round",
            parameters,
            relationship=wave.relationship,
            key=round_job_key(wave.id, "reminders"),
            title=wording(
                N_("Send the reminders of wave %(label)s (day %(day)s, on schedule)"),
                label=wave.label,
                day=day,
            ),
        ).id
    audit.created(
        reminder, "wave.reminder_scheduled", actor=ACTOR, wave=wave.id, day=day, job=reminder.job_id
    )
    return reminder.job_id is not None


@on_tick("waves.schedule")
def keep_schedules() -> None:
    """The minute tick: :func:`run_schedules` now."""
    run_schedules()
