"""Import historical responses: an admin uploads a CSV or XLSX file in the responses layout.

The page checks the file's header and first rows at once: a problem there is listed by row
and column (answered 400, so that a script sees the refusal too) and nothing is kept. A file
without one is kept for the import job (``responses.import``), which checks every row, stores
and scores all or nothing; the page redirects to the job's progress page, which says how it
went — or why nothing was imported — and offers "Try again".
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from survey_app.extensions import db
from survey_app.services.imports import ImportRejected, stage_import
from survey_app.services.jobs import import_title
from survey_app.services.relationships import all_relationships, get_relationship
from survey_app.web.access import requires
from survey_app.web.admin_import.forms import ImportForm
from survey_app.web.jobs import start_job

bp = Blueprint("imports", __name__, url_prefix="/admin/import")
requires("admin")(bp)


@bp.route("/", methods=["GET", "POST"])
@requires("admin", service_wide=True)  # an import may create waves of any relationship
def upload():  # type: ignore[no-untyped-def]
    relationships = all_relationships()
    form = ImportForm([(str(r.id), r.name) for r in relationships])
    if not form.is_submitted():
        return render_template("admin_import/upload.html", form=form)
    if not form.validate():
        return render_template("admin_import/upload.html", form=form), 400
    relationship = get_relationship(int(form.relationship.data))
    upload = form.file.data
    filename = upload.filename or "the file"
    try:
        staged = stage_import(
            upload.stream, relationship, filename=filename, wave_label=form.wave.data or None
        )
    except ImportRejected as rejected:
        db.session.rollback()
        current_app.logger.info("import refused: %s", rejected.summary)
        form.file.errors = [rejected.field_message]
        return (
            render_template("admin_import/upload.html", form=form, rejected=rejected),
            400,
        )
    return start_job(  # rolls back what the check read; the job does the import
        "responses.import",
        staged.parameters,
        title=import_title(filename, relationship.name),
        relationship=relationship,
        key=staged.key,
    )
