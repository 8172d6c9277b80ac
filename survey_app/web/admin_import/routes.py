"""Import historical responses: an admin uploads a CSV or XLSX file in the responses layout.

All or nothing: a file with any bad row stores nothing, and the page lists each problem by row
and column (answered 400, so that a script sees the refusal too).
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from survey_app.extensions import db
from survey_app.services.imports import ImportRejected, import_responses
from survey_app.services.relationships import all_relationships, get_relationship
from survey_app.web.access import requires
from survey_app.web.admin_import.forms import ImportForm
from survey_app.web.submissions import acting_user

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
    try:
        report = import_responses(
            upload.stream,
            relationship,
            filename=upload.filename or "",
            wave_label=form.wave.data or None,
            actor=acting_user(),
        )
    except ImportRejected as rejected:
        db.session.rollback()
        current_app.logger.info("import refused: %s", rejected.summary)
        form.file.errors = [rejected.field_message]
        return (
            render_template("admin_import/upload.html", form=form, rejected=rejected),
            400,
        )
    db.session.commit()
    return render_template("admin_import/done.html", report=report)
