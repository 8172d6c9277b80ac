"""``/downloads``: a page per relationship listing each table in each format, and the files.

A download reads persisted results (never recomputes), applies suppression at output time,
is written to the audit log before its first byte, and streams.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
)

from survey_app.extensions import db
from survey_app.services import ServiceError, exports, results
from survey_app.texts import N_
from survey_app.web.access import current_scope, requires
from survey_app.web.attachments import attachment
from survey_app.web.downloads.forms import WaveChoiceForm
from survey_app.web.loading import relationship_or_404
from survey_app.web.submissions import acting_user

bp = Blueprint("downloads", __name__, url_prefix="/downloads")
requires("reviewer")(bp)  # reviewers, and admins (roles nest)

FORMAT_NAMES = {"csv": "CSV", "xlsx": N_("Excel (XLSX)"), "json": "JSON", "sav": N_("SPSS (.sav)")}


@bp.get("/")
@requires("reviewer")
def index() -> str:
    relationships = exports.downloadable_relationships(current_scope())
    return render_template("downloads/index.html", relationships=relationships)


@bp.get("/<int:relationship_id>/")
@requires("reviewer")
def relationship(relationship_id: int) -> tuple[str, int] | str:
    rel = relationship_or_404(relationship_id)
    waves = results.closed_waves(rel)
    labels = [w.label for w in waves]
    form = WaveChoiceForm(labels, formdata=request.args if "wave" in request.args else None)
    status = 200
    if "wave" in request.args and not form.validate():
        status = 400
    chosen = form.wave.data or None if not form.errors else None
    links = [
        {
            "table": table,
            "title": exports.TABLE_TITLES[table],
            "formats": [
                (fmt, FORMAT_NAMES[fmt]) for fmt in exports.FORMATS if table in exports.FORMATS[fmt]
            ],
        }
        for table in (*exports.TABLES, "all")
    ]
    return (
        render_template(
            "downloads/relationship.html",
            relationship=rel,
            waves=waves,
            chosen=chosen,
            form=form,
            links=links,
            min_cell_size=_config("MIN_CELL_SIZE"),
            min_comment_cell_size=_config("MIN_COMMENT_CELL_SIZE"),
            dont_know=exports.DONT_KNOW,
        ),
        status,
    )


@bp.get("/<int:relationship_id>/<table>.<fmt>")
@requires("reviewer")
def download(relationship_id: int, table: str, fmt: str) -> Response:
    rel = relationship_or_404(relationship_id)
    if fmt not in exports.FORMATS or table not in exports.FORMATS[fmt]:
        abort(404)
    wave = request.args.get("wave") or None
    try:
        scope = exports.export_scope(rel, wave)
        prepared = exports.prepare_download(table, fmt, scope)
    except ServiceError as exc:
        abort(404, description=str(exc))
    exports.record_download(prepared, actor=acting_user())
    db.session.commit()  # the audit entry is kept even if the client stops reading
    return attachment(
        stream_with_context(prepared.chunks),
        content_type=prepared.media_type,  # it names its charset (CSV)
        filename=prepared.filename,
    )


def _config(name: str) -> int:
    return int(current_app.config[name])
