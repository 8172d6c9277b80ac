"""The kinds of job the service runs, and the hooks the scheduler calls every minute.

A job kind is a name and a function ``run(ctx, **parameters)``:

* ``ctx`` is a :class:`~survey_app.services.jobs.running.JobContext`: ``ctx.progress(done,
  total, message)`` reports how far it has got (written at once, on its own connection, never
  blocking the work); ``ctx.checkpoint(state)`` records, in the work's own transaction, how far
  the *committed* work has got; ``ctx.resume_from`` is the last checkpoint a previous attempt
  committed (``None`` on a fresh start).
* ``parameters`` are the JSON values the job was submitted with.
* It returns a JSON-able dict (or ``None``): ``summary`` (a sentence for the progress page)
  and ``link`` (``{"endpoint": ..., "values": {...}, "text": ...}``, where to see the outcome).
* It raises :class:`~survey_app.services.ServiceError` for a problem the user can act on (the
  page shows its message); any other exception fails the job with a general message and is
  logged.

Its work runs in the worker's app context; whatever it leaves uncommitted is committed with
the job's success (and rolled back with its failure). A kind that commits on the way (a
checkpoint per chunk, e.g. with :func:`survey_app.database.write_transaction`) is resumable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from survey_app.services import ServiceError
from survey_app.texts import N_

#: ``run(ctx, **parameters) -> dict | None``
RunJob = Callable[..., dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class JobKind:
    """A kind of job.

    Attributes
    ----------
    name : str
        How jobs of this kind are stored, e.g. ``"results.recompute"``.
    run : callable
        ``run(ctx, **parameters)``, see the module's docstring.
    title : str
        What a job of this kind does, for pages ("Recompute results").
    counts : str
        What its progress counts, for "3 of 40 waves rebuilt".
    """

    name: str
    run: RunJob
    title: str
    counts: str = "steps done"


_KINDS: dict[str, JobKind] = {}
_TICKS: dict[str, Callable[[], None]] = {}


def register(name: str, *, run: RunJob, title: str, counts: str = "steps done") -> JobKind:
    """Add a kind of job (once per name; registering the same function again is harmless)."""
    kind = JobKind(name, run, title, counts)
    existing = _KINDS.get(name)
    if existing is not None and existing != kind:
        raise ValueError(f"a job kind {name!r} is already registered")
    _KINDS[name] = kind
    return kind


def job_kind(name: str) -> JobKind:
    """The kind registered as ``name``; a :class:`ServiceError` if there is none."""
    try:
        return _KINDS[name]
    except KeyError:
        raise ServiceError(f"there is no kind of job called {name!r}") from None


def progress_text(kind: str, done: int, total: int | None) -> str | None:
    """``3 of 40 waves rebuilt`` (``None`` before the job has said how much there is)."""
    if total is None:
        return None
    try:
        counts = job_kind(kind).counts
    except ServiceError:  # a kind no longer in the service (an old job)
        counts = "done"
    # in the reader's language on a page, English on the command line (no request there)
    return gettext(
        "%(done)s of %(total)s %(counted)s",
        done=format(done, ","),
        total=format(total, ","),
        counted=gettext(counts),
    )


#: What each kind of job counts (``JobKind.counts``), translated where shown.
COUNTS = (
    N_("waves rebuilt"),
    N_("steps done"),
    N_("addresses done"),
    N_("rows written"),
    N_("done"),
)


def job_kinds() -> list[JobKind]:
    return sorted(_KINDS.values(), key=lambda k: k.name)


def on_tick(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register ``fn()`` to run every minute in a worker (e.g. opening and closing waves on
    their schedule), in its own app context and transaction, after the lease sweeper.

    Several workers run the tick at once: ``fn`` must be idempotent (check each transition
    under a row lock). An error is logged and does not stop the other hooks.
    """

    def decorator(fn: Callable[[], None]) -> Callable[[], None]:
        _TICKS[name] = fn
        return fn

    return decorator


def tick_hooks() -> dict[str, Callable[[], None]]:
    return dict(_TICKS)
