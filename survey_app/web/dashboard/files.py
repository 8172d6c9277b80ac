"""``/dashboard/<id>/charts/<key>.svg|png`` and ``/dashboard/<id>/board-pack.pdf``: what a
manager takes away from the dashboard — a chart as a file, and the board pack.

Access is the dashboard's (the blueprint requires a manager; admins too). A chart is named
as the page names it, under the page's filters (``side``, ``area``, ``role_level``), so the
file is the chart beside its link; a chart the page does not show, or a filter it refuses,
is a 404. The board pack is of ``?wave=<label>`` (a closed wave), else the latest closed one.
"""

from __future__ import annotations

from flask import Response, abort, request
from flask_babel import lazy_gettext as _l

from survey_app.extensions import db
from survey_app.services import ServiceError, dashboard, reports
from survey_app.web.access import requires
from survey_app.web.attachments import attachment
from survey_app.web.dashboard.routes import bp, chosen_wave
from survey_app.web.languages import current_language
from survey_app.web.loading import relationship_or_404
from survey_app.web.submissions import acting_user


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


@bp.get("/<int:relationship_id>/board-pack.pdf")
@requires("manager")
def board_pack(relationship_id: int) -> Response:
    """The board pack, built while the manager waits.

    The seam for the job queue (issue 13, ``survey_app.services.jobs``): submit a job kind
    ``reports.board_pack`` with ``{relationship_id, wave_id, user_id}`` whose run loads them,
    calls :func:`survey_app.services.reports.prepare_board_pack`, keeps the file for the user
    and records it (:func:`~survey_app.services.reports.record_board_pack`); this view then
    starts that job (once, however often it is asked) and redirects to its page, which links
    to the file when it is ready.
    """
    rel = relationship_or_404(relationship_id)
    wave = chosen_wave(rel) or dashboard.latest_closed_wave(rel)
    language = current_language()  # the pack is in the manager's language
    if wave is None:
        abort(404, description=_l("The board pack is of a closed wave of this relationship."))
    try:
        pack = reports.prepare_board_pack(rel, wave, language=language)
    except ServiceError as exc:
        abort(404, description=str(exc))
    reports.record_board_pack(rel, wave, actor=acting_user(), language=language)
    db.session.commit()  # the audit entry is kept even if the client stops reading
    return attachment(pack.data, content_type=pack.media_type, filename=pack.filename)
