"""The board pack as a background job (kind ``reports.board_pack``): printed by a worker in
the language of the manager who asked, kept as one more prepared file
(:mod:`survey_app.services.exports.prepared`: for its requester alone, while they are still a
manager of the relationship, for ``PREPARED_DOWNLOAD_HOURS``, audited when written and when
fetched, swept when expired).
"""

from __future__ import annotations

from typing import Any

from survey_app.extensions import db
from survey_app.models import Relationship, Wave
from survey_app.services import ServiceError, exports
from survey_app.services.exports.prepared import JobReport
from survey_app.services.reports.building import (
    LANGUAGES,
    MEDIA_TYPE,
    board_pack_filename,
    prepare_board_pack,
)
from survey_app.services.results import closed_waves
from survey_app.texts import N_, wording

#: The table name a board pack has in the audit log (as ``relhealth report`` records it).
TABLE = "board_pack"


def board_pack_parameters(relationship: Relationship, wave: Wave, language: str) -> dict[str, Any]:
    """The job's parameters: checked now, so that a bad request starts nothing."""
    if language not in LANGUAGES:
        raise ServiceError(f"there is no board pack in {language!r}")
    if wave.relationship_id != relationship.id or wave.state != "closed":
        raise ServiceError("The board pack is of a closed wave of this relationship.")
    return {"relationship_id": relationship.id, "wave": wave.label, "language": language}


def prepare_board_pack_file(
    ctx: JobReport, *, relationship_id: int, wave: str, language: str = "en"
) -> dict[str, Any]:
    """Print the board pack of closed wave ``wave`` (a label) and keep it for the manager who
    asked (the job kind's work). A job taken back after the file was kept returns it rather
    than printing another."""
    exports.allowed_requester(ctx, relationship_id, exports.BOARD_PACK_KIND)
    relationship = db.session.get(Relationship, relationship_id)
    if relationship is None:
        raise ServiceError(wording(N_("The relationship no longer exists")))
    chosen = next((w for w in closed_waves(relationship) if w.label == wave), None)
    if chosen is None:
        raise ServiceError(
            wording(
                N_("Wave %(wave)s is not a closed wave of %(relationship)s"),
                wave=wave,
                relationship=relationship.name,
            )
        )
    filename = board_pack_filename(relationship, chosen)
    done = ctx.resume_from or {}
    if not (exports.prepared_folder() / str(done.get("stored"))).is_file():
        ctx.progress(0, 1, wording(N_("Printing the board pack of wave %(wave)s"), wave=wave))
        pack = prepare_board_pack(relationship, chosen, language=language)
        requester = ctx.requested_by()
        ctx.progress(1, 1, N_("The board pack is ready"))
        done = exports.store_file(
            ctx,
            requester,  # type: ignore[arg-type]
            [pack.data],
            fmt="pdf",
            relationship=relationship_id,
            table=TABLE,
            wave=wave,
            language=language,
        )
    # Nothing is read between the file's commit and the job's finish: on SQLite a read here
    # would pin a snapshot older than the heartbeat's progress write, and the job's final
    # update would then fail with "database is locked" (a stale snapshot cannot write).
    return exports.ready_result(
        ctx,
        done,
        filename=filename,
        table=TABLE,
        fmt="pdf",
        media_type=MEDIA_TYPE,
        endpoint="dashboard.prepared_pack",  # managers' page (downloads are reviewers')
    )
