"""``/dashboard/<id>/charts/<key>.svg|png`` and ``/dashboard/<id>/board-pack`` (POST): what a
manager takes away from the dashboard — a chart as a file, and the board pack (printed by a
background job, then fetched from its progress page as a prepared download).

Access is the dashboard's (the blueprint requires a manager; admins too). A chart is named
as the page names it, under the page's filters (``side``, ``area``, ``role_level``), so the
file is the chart beside its link; a chart the page does not show, or a filter it refuses,
is a 404. The board pack is of ``?wave=<label>`` (a closed wave), else the latest closed one.
"""

from __future__ import annotations

from flask import Response, abort, request
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as WerkzeugResponse

from survey_app.services import ServiceError, dashboard, exports, reports
from survey_app.texts import N_, wording
from survey_app.web.access import requires
from survey_app.web.attachments import attachment
from survey_app.web.dashboard.routes import bp, chosen_wave
from survey_app.web.jobs.starting import start_job
from survey_app.web.languages import current_language
from survey_app.web.loading import relationship_or_404
from survey_app.web.prepared_files import prepared_attachment


@bp.get("/<int:relationship_id>/charts/<chart_key>.<fmt>")
@requires("manager")
def chart(relationship_id: int, chart_key: str, fmt: str) -> Response:
    rel = relationship_or_404(relationship_id)
    try:
        filters = dashboard.parse_filters(
            rel,
            side=request.args.get("side"),
            area=request.args.get("area"),
            role=request.args.get("role_level"),
        )
        found = dashboard.chart_file(rel, chart_key, filters, fmt, as_of=chosen_wave(rel))
    except (LookupError, ServiceError) as exc:
        abort(404, description=str(exc))
    return attachment(found.data, content_type=found.media_type, filename=found.filename)


@bp.post("/<int:relationship_id>/board-pack")
@requires("manager")
def board_pack(relationship_id: int) -> WerkzeugResponse:
    """Start printing the board pack (a job of kind ``reports.board_pack``) and go to its
    progress page (303), which links the PDF to the manager who asked when it is ready
    (:func:`prepared_pack`). Two clicks start one job; the pack is in the asker's
    language. (CSRFProtect has checked the form's token before the view.)"""
    rel = relationship_or_404(relationship_id)
    wave = chosen_wave(rel) or dashboard.latest_closed_wave(rel)
    if wave is None:
        abort(404, description=_l("The board pack is of a closed wave of this relationship."))
    try:
        parameters = reports.board_pack_parameters(rel, wave, current_language())
    except ServiceError as exc:
        abort(404, description=str(exc))
    return start_job(
        exports.BOARD_PACK_KIND,
        parameters,
        title=wording(
            N_("Board pack of %(relationship)s, wave %(wave)s"),
            relationship=rel.name,
            wave=wave.label,
        ),
        relationship=rel,
    )


@bp.get("/board-packs/<int:job_id>")
@requires("manager")
def prepared_pack(job_id: int) -> Response | tuple[str, int]:
    """A board pack a job printed, for the manager who asked while they still manage its
    relationship (anyone else: 404)."""
    return prepared_attachment(job_id, from_dashboard=True)
