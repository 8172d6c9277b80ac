"""The kinds of job the service runs: each one's ``run(ctx, **parameters)``, registered.

``results.recompute``  rebuild a relationship's stored results (``relhealth recompute``), a few
                       waves per committed step; a job taken back resumes after the last step
``wave.close``         close a wave and compute its results (``services/waves.close_wave``), in
                       one transaction with the job's success
``mail.round``         send a round of invitations or reminders to a wave's address list,
                       crash-safe through the address outbox (``services/mailing/rounds.py``)
``responses.import``  import an uploaded file of historical responses and compute the results
                       of its waves, all or nothing, in one transaction with a checkpoint
                       (``services/imports``); the kept upload is deleted when it succeeds
``exports.prepare``    write a large download into the instance folder, for its requester
                       to fetch for a while (``services/exports/prepared.py``)
``reports.board_pack`` print a board pack in its requester's language and keep it as a
                       prepared file of theirs (``services/reports/prepared.py``)
``jobs.check``         count to N, a committed checkpoint per step: shows that a worker runs
                       jobs (``relhealth jobs check``) and that a job taken back resumes

and minute ticks: ``sqlite.checkpoint``, the write-ahead log emptied (a submit's attempt
does not wait for readers; this one does, and logs when a reader still kept it busy);
``imports.uploads``, uploads no unfinished import needs deleted after a day, and
``downloads.expire``, prepared downloads past their time deleted.

Add a kind here: a run function in the words of its capability, calling that capability's
service functions, and one :func:`register` line.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import select

from survey_app.database import checkpoint_wal, write_transaction
from survey_app.extensions import db
from survey_app.models import UNFINISHED_STATES, Job, Relationship, Wave
from survey_app.services import ServiceError, exports, imports, reports
from survey_app.services.jobs.lifecycle import idempotency_key
from survey_app.services.jobs.registry import on_tick, register
from survey_app.services.jobs.running import JobContext
from survey_app.services.mailing import send_round
from survey_app.services.results import (
    check_closed_wave,
    closed_waves,
    recompute,
    set_min_cell_size,
)
from survey_app.services.waves import close_wave
from survey_app.texts import N_, wording

#: Closed waves rebuilt per committed step of ``results.recompute``: about 0.6 s each for a
#: 25,000-response wave here, so a step holds SQLite's write lock for a few seconds at most.
WAVES_PER_STEP = 4
#: The most steps and the longest pause ``jobs.check`` accepts.
CHECK_MAX_STEPS = 10_000
CHECK_MAX_PAUSE = 60.0
log = logging.getLogger(__name__)


def recompute_results(
    ctx: JobContext,
    *,
    relationship_id: int,
    wave_id: int | None = None,
    waves_per_step: int = WAVES_PER_STEP,
    min_cell_size: int | None = None,
) -> dict[str, Any]:
    """Rebuild the stored results of every closed wave of a relationship — or of closed wave
    ``wave_id`` and every later one, whose status depends on it — and its trends.

    ``min_cell_size`` publishes the rebuilt waves with a new k (set and audited once, before
    the first step); without it each wave keeps its own.

    Waves are rebuilt in time order, ``waves_per_step`` at a time; each step commits with a
    checkpoint naming its last wave, and a resumed job starts after it. The stored results
    are then those of :func:`survey_app.services.results.recompute` run in one go.
    """
    relationship = db.session.get(Relationship, relationship_id)
    if relationship is None:
        raise ServiceError(wording(N_("The relationship no longer exists")))
    if waves_per_step < 1:
        raise ServiceError(wording(N_("A recompute rebuilds at least 1 wave per step")))
    name = relationship.name
    waves = closed_waves(relationship)
    ids, labels = [w.id for w in waves], [w.label for w in waves]
    first_wave = 0
    if wave_id is not None:
        wave = db.session.get(Wave, wave_id)
        if wave is None:
            raise ServiceError(wording(N_("The wave no longer exists")))
        check_closed_wave(relationship, wave)
        first_wave = ids.index(wave_id)
    resume = ctx.resume_from or {}
    start = ids.index(resume["through"]) + 1 if resume.get("through") in ids else first_wave
    if min_cell_size is not None and not resume:
        with write_transaction():
            set_min_cell_size(relationship, waves[first_wave:], min_cell_size, actor="job")
    total = len(ids)
    for first in range(start, total, waves_per_step):
        last = min(first + waves_per_step, total) - 1
        ctx.progress(
            first,
            total,
            wording(N_("Rebuilding the results of wave %(wave)s"), wave=labels[first])
            if first == last
            else wording(
                N_("Rebuilding the results of waves %(first)s to %(last)s"),
                first=labels[first],
                last=labels[last],
            ),
        )
        with write_transaction():
            recompute(
                db.session.get(Relationship, relationship_id),  # type: ignore[arg-type]
                db.session.get(Wave, ids[first]),
                through=db.session.get(Wave, ids[last]),
            )
            ctx.checkpoint({"through": ids[last]})
    ctx.progress(total, total, N_("All closed waves rebuilt"))
    if not total:
        summary = wording(
            N_("%(relationship)s has no closed waves: there were no results to rebuild"),
            relationship=name,
        )
    elif first_wave:
        summary = wording(
            N_("Closed waves of %(relationship)s rebuilt from wave %(wave)s: %(count)s"),
            relationship=name,
            wave=labels[first_wave],
            count=total - first_wave,
        )
    else:
        summary = wording(
            N_("Closed waves of %(relationship)s rebuilt: %(count)s"),
            relationship=name,
            count=total,
        )
    return {"summary": summary, "link": results_link(relationship_id, name)}


def results_link(relationship_id: int, name: str) -> dict[str, Any]:
    """A job's link to the dashboard of the relationship it worked on."""
    return {
        "endpoint": "dashboard.relationship",
        "values": {"relationship_id": relationship_id},
        "text": wording(N_("See the results of %(relationship)s"), relationship=name),
    }


def recompute_key(relationship_id: int) -> str:
    """One recompute of a relationship at a time, whoever asks (a page or the command line)."""
    return idempotency_key("results.recompute", {"relationship_id": relationship_id})


def close_and_score(ctx: JobContext, *, wave_id: int) -> dict[str, Any]:
    """Close wave ``wave_id`` and compute its results, in one transaction with a checkpoint: a
    job taken back before it committed closes the wave afresh, one taken back after finds it
    done."""
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        raise ServiceError(wording(N_("The wave no longer exists")))
    label = wave.label
    if not (ctx.resume_from or {}).get("closed"):
        ctx.progress(
            0, 1, wording(N_("Closing wave %(label)s and computing its results"), label=label)
        )
        with write_transaction():
            close_wave(db.session.get(Wave, wave_id), actor=ctx.requested_by() or "worker")  # type: ignore[arg-type]
            ctx.checkpoint({"closed": True})
    ctx.progress(1, 1, N_("Results computed"))
    return {
        "summary": wording(
            N_(
                "Wave %(label)s is closed: its results are computed and its address list is deleted"
            ),
            label=label,
        ),
        "link": {
            "endpoint": "admin.wave",
            "values": {"wave_id": wave_id},
            "text": wording(N_("Back to wave %(label)s"), label=label),
        },
    }


def import_history(
    ctx: JobContext,
    *,
    relationship_id: int,
    upload: str,
    filename: str,
    wave_label: str | None = None,
) -> dict[str, Any]:
    """Import the kept upload ``upload`` into relationship ``relationship_id`` and compute its
    waves' results (:func:`survey_app.services.imports.import_responses`), in one
    transaction with a checkpoint: a refused file or a stopped worker leaves nothing of it,
    and a job taken back after the commit finds it done. The upload is deleted on success;
    after a failure it is kept a while, so that "Try again" works."""
    done = (ctx.resume_from or {}).get("imported")
    if done is None:
        relationship = db.session.get(Relationship, relationship_id)
        if relationship is None:
            raise ServiceError(wording(N_("The relationship no longer exists")))
        path = imports.upload_path(upload)
        if not path.is_file():
            raise ServiceError(
                wording(
                    N_(
                        "The uploaded file %(file)s is no longer kept (a failed import’s file "
                        "is deleted after a day): upload it again"
                    ),
                    file=filename,
                )
            )
        ctx.progress(0, None, wording(N_("Checking the rows of %(file)s"), file=filename))
        with write_transaction():
            report = imports.import_responses(
                path,
                relationship,
                filename=filename,
                wave_label=wave_label,
                actor=ctx.requested_by() or "cli",
                progress=lambda rows, message: ctx.progress(rows, None, message),
            )
            done = {"lines": report.wordings(), "name": report.relationship}
            ctx.checkpoint({"imported": done})
    imports.discard_upload(upload)
    ctx.progress(1, 1, N_("Imported, and the results computed"))
    return {
        "summary": done["lines"],
        "lines": done["lines"],
        "link": results_link(relationship_id, done["name"]),
    }


def check_workers(ctx: JobContext, *, steps: int = 1, pause: float = 0.0) -> dict[str, Any]:
    """Count to ``steps``, pausing ``pause`` seconds per step, committing a checkpoint after
    each. The result says where each attempt started (``[0]``: in one go)."""
    if not 1 <= steps <= CHECK_MAX_STEPS or not 0 <= pause <= CHECK_MAX_PAUSE:
        raise ServiceError(
            wording(
                N_("A check counts 1 to %(steps)s steps with pauses of 0 to %(pause)s seconds"),
                steps=f"{CHECK_MAX_STEPS:,}",
                pause=f"{CHECK_MAX_PAUSE:g}",
            )
        )
    resume = ctx.resume_from or {}
    done = int(resume.get("done", 0))
    starts = [*resume.get("starts", []), done]
    for step in range(done, steps):
        ctx.progress(
            step, steps, wording(N_("Step %(step)s of %(steps)s"), step=step + 1, steps=steps)
        )
        time.sleep(pause)
        with write_transaction():
            ctx.checkpoint({"done": step + 1, "starts": starts})
    ctx.progress(steps, steps, N_("Done"))
    return {
        "summary": wording(
            N_("A worker counted to %(steps)s; attempts: %(attempts)s"),
            steps=steps,
            attempts=len(starts),
        ),
        "starts": starts,
    }


def prepare_download(ctx: JobContext, **parameters: Any) -> dict[str, Any]:
    """Write a large download for its requester (:func:`survey_app.services.exports.
    prepare_file`); the file and its audit entry are kept when the job succeeds."""
    return exports.prepare_file(ctx, **parameters)


def print_board_pack(ctx: JobContext, **parameters: Any) -> dict[str, Any]:
    """Print a board pack for the manager who asked (:func:`survey_app.services.reports.
    prepare_board_pack_file`), kept as a prepared file of theirs."""
    return reports.prepare_board_pack_file(ctx, **parameters)


register(
    "results.recompute",
    run=recompute_results,
    title=N_("Recompute results"),
    counts="waves rebuilt",
)
register("wave.close", run=close_and_score, title=N_("Close a wave"), counts="steps done")
register("mail.round", run=send_round, title=N_("Send emails"), counts="addresses done")
register("responses.import", run=import_history, title=N_("Import responses"), counts="done")
register(
    exports.PREPARE_KIND,
    run=prepare_download,
    title=N_("Prepare a download"),
    counts="rows written",
)
register(
    exports.BOARD_PACK_KIND,
    run=print_board_pack,
    title=N_("Prepare a board pack"),
    counts="steps done",
)
register("jobs.check", run=check_workers, title=N_("Check the workers"), counts="steps done")


@on_tick("sqlite.checkpoint")
def checkpoint_log() -> None:
    """Empty SQLite's write-ahead log, so no recent submit stays readable in it."""
    if not checkpoint_wal():
        log.warning("SQLite write-ahead log checkpoint was busy (a reader); retried next minute")


@on_tick("imports.uploads")
def delete_stale_uploads() -> None:
    """Delete kept uploads that no unfinished import needs, a day after they were kept."""
    needed = {
        str((parameters or {}).get("upload"))
        for parameters in db.session.scalars(
            select(Job.parameters).where(
                Job.kind == "responses.import", Job.state.in_(UNFINISHED_STATES)
            )
        )
    }
    for name in imports.delete_stale_uploads(needed):
        log.info("deleted the kept upload %s (a day old, no unfinished import needs it)", name)


@on_tick("downloads.expire")
def delete_expired_downloads() -> None:
    """Delete prepared downloads past their time (and files no job owns)."""
    for name in exports.delete_expired_files():
        log.info("deleted the prepared download %s (expired or unowned)", name)
