"""``/downloads``: a page per relationship listing each table in each format, and the files.

A download reads persisted results (never recomputes), applies suppression at output time,
is written to the audit log before its first byte, and streams. A large one (from
``DOWNLOAD_JOB_MIN_ROWS`` rows) is prepared by a background job instead: its page
(``prepare``) starts the job, whose progress page links to the file (``prepared``) — for its
requester only, while they still reach the relationship, until it expires.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse

from survey_app.extensions import db
from survey_app.services import ServiceError, exports, results
from survey_app.texts import N_, wording
from survey_app.web.access import current_scope, requires
from survey_app.web.attachments import attachment
from survey_app.web.downloads.forms import WaveChoiceForm
from survey_app.web.jobs.starting import start_job
from survey_app.web.languages import current_language
from survey_app.web.loading import relationship_or_404
from survey_app.web.prepared_files import prepared_attachment
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
    prepared = exports.tables_to_prepare(exports.export_scope(rel, chosen)) if waves else set()
    links = [
        {
            "table": table,
            "title": exports.TABLE_TITLES[table],
            "prepared": table in prepared,
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
def download(relationship_id: int, table: str, fmt: str) -> WerkzeugResponse:
    rel = relationship_or_404(relationship_id)
    if fmt not in exports.FORMATS or table not in exports.FORMATS[fmt]:
        abort(404)
    wave = request.args.get("wave") or None
    try:
        scope = exports.export_scope(rel, wave)
        if exports.needs_preparing(table, scope):  # too large to write inside a request
            target = url_for(".prepare", relationship_id=rel.id, table=table, fmt=fmt, wave=wave)
            return redirect(target, 303)
        prepared = exports.prepare_download(table, fmt, scope, language=current_language())
    except ServiceError as exc:
        abort(404, description=str(exc))
    exports.record_download(prepared, actor=acting_user())
    db.session.commit()  # the audit entry is kept even if the client stops reading
    return attachment(
        stream_with_context(prepared.chunks),
        content_type=prepared.media_type,  # it names its charset (CSV)
        filename=prepared.filename,
    )


@bp.route("/<int:relationship_id>/<table>.<fmt>/prepare", methods=["GET", "POST"])
@requires("reviewer")
def prepare(relationship_id: int, table: str, fmt: str) -> WerkzeugResponse | str:
    """A large download: what it is, the files of it already prepared, and (POST) a job that
    prepares it — two clicks start one job, reloading its page starts nothing."""
    rel = relationship_or_404(relationship_id)
    wave = request.args.get("wave") or None
    try:
        scope = exports.export_scope(rel, wave)
        parameters = exports.prepare_parameters(table, fmt, scope, current_language())
    except ServiceError as exc:
        abort(404, description=str(exc))
    form = FlaskForm()
    if request.method == "POST" and form.validate_on_submit():
        name = exports.file_name(table, scope, fmt)
        return start_job(
            exports.PREPARE_KIND,
            parameters,
            title=wording(N_("Prepare %(file)s"), file=name),
            relationship=rel,
        )
    if request.method == "POST":
        abort(400, description="The form has expired: go back and try again")
    return render_template(
        "downloads/prepare.html",
        relationship=rel,
        form=form,
        table=table,
        title=exports.TABLE_TITLES[table],
        fmt=fmt,
        fmt_name=FORMAT_NAMES[fmt],
        filename=exports.file_name(table, scope, fmt),
        scope=scope,
        rows=exports.estimated_rows(table, scope),
        large=exports.needs_preparing(table, scope),
        hours=_config("PREPARED_DOWNLOAD_HOURS"),
        ready=[
            (job, until)
            for job, until in exports.ready_files(acting_user(), rel.id)
            if job.parameters == parameters
        ],
    )


@bp.get("/prepared/<int:job_id>")
@requires("reviewer")
def prepared(job_id: int) -> Response | tuple[str, int]:
    """A prepared file, for the person who asked for it while they still reach its
    relationship (anyone else: 404, as for a file that does not exist)."""
    return prepared_attachment(job_id)


def _config(name: str) -> int:
    return int(current_app.config[name])
