"""``/admin``: relationships, service areas, waves, staff lists, invitations, reminders and the
response-rate monitor, for signed-in administrators (the monitor for managers too).

Each view reads its arguments, calls one service, commits once and redirects with a message;
a problem the user caused is shown in the GOV.UK error summary, with nothing changed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user

from survey_app.extensions import db
from survey_app.forms.admin import (
    ConfirmForm,
    ExtendWaveForm,
    RelationshipEditForm,
    RelationshipForm,
    ServiceAreaForm,
    StaffListForm,
    WaveForm,
)
from survey_app.models import Relationship, ServiceArea, Wave
from survey_app.services import ServiceError, mailing
from survey_app.services import instruments as instruments_service
from survey_app.services import relationships as relationships_service
from survey_app.services import waves as waves_service
from survey_app.services.imports import HEADERS, StaffListRejected, load_staff_list
from survey_app.services.instruments import InstrumentChoice
from survey_app.services.monitoring import response_rates
from survey_app.web.access import requires

bp = Blueprint("admin", __name__, url_prefix="/admin")
requires("admin")(bp)  # every view here is for admins unless it says otherwise

SUCCESS = "admin-success"


def _actor() -> Any:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _done(message: str) -> None:
    flash(message, SUCCESS)


def get_relationship_or_404(relationship_id: int) -> Relationship:
    relationship = db.session.get(Relationship, relationship_id)
    if relationship is None:
        abort(404)
    return relationship


def get_wave_or_404(wave_id: int) -> Wave:
    wave = db.session.get(Wave, wave_id)
    if wave is None:
        abort(404)
    return wave


def get_area_or_404(relationship: Relationship, area_id: int) -> ServiceArea:
    area = db.session.get(ServiceArea, area_id)
    if area is None or area.relationship_id != relationship.id:
        abort(404)
    return area


def _refused(field: Any, exc: ServiceError) -> None:
    """Show a service's refusal on a form field (it reaches the error summary)."""
    db.session.rollback()
    message = str(exc)
    field.errors = [*field.errors, message[:1].upper() + message[1:]]


# ================================================================================== index


@bp.get("/")
@requires("admin")
def index() -> str:
    return render_template("admin/index.html", relationships=relationships_service.relationship_rows())


# ========================================================================== relationships


@bp.route("/relationships/new", methods=["GET", "POST"])
@requires("admin")
def new_relationship():  # type: ignore[no-untyped-def]
    form = RelationshipForm()
    if form.validate_on_submit():
        try:
            relationship = relationships_service.create_relationship(
                form.name.data,
                client=form.client.data,
                supplier=form.supplier.data,
                service_areas=form.area_names(),
                actor=_actor(),
            )
        except ServiceError as exc:
            _refused(form.name, exc)
        else:
            db.session.commit()
            _done(f"Relationship {relationship.name} created")
            return redirect(url_for("admin.relationship", relationship_id=relationship.id))
    return render_template("admin/relationship_form.html", form=form, relationship=None), (
        400 if form.errors else 200
    )


@bp.get("/relationships/<int:relationship_id>/")
@requires("admin")
def relationship(relationship_id: int) -> str:
    rel = get_relationship_or_404(relationship_id)
    return render_template(
        "admin/relationship.html",
        relationship=rel,
        waves=waves_service.waves_of(rel),
    )


@bp.route("/relationships/<int:relationship_id>/edit", methods=["GET", "POST"])
@requires("admin")
def edit_relationship(relationship_id: int):  # type: ignore[no-untyped-def]
    rel = get_relationship_or_404(relationship_id)
    form = RelationshipEditForm(
        data={
            "name": rel.name,
            "client": rel.party("client").name,
            "supplier": rel.party("supplier").name,
        }
    )
    if form.validate_on_submit():
        try:
            relationships_service.update_relationship(
                rel,
                name=form.name.data,
                client=form.client.data,
                supplier=form.supplier.data,
                actor=_actor(),
            )
        except ServiceError as exc:
            _refused(form.name, exc)
        else:
            db.session.commit()
            _done("Relationship saved")
            return redirect(url_for("admin.relationship", relationship_id=rel.id))
    return render_template("admin/relationship_form.html", form=form, relationship=rel), (
        400 if form.errors else 200
    )


@bp.route("/relationships/<int:relationship_id>/areas/new", methods=["GET", "POST"])
@requires("admin")
def new_area(relationship_id: int):  # type: ignore[no-untyped-def]
    rel = get_relationship_or_404(relationship_id)
    form = ServiceAreaForm()
    if form.validate_on_submit():
        try:
            area = relationships_service.add_service_area(rel, form.name.data, actor=_actor())
        except ServiceError as exc:
            _refused(form.name, exc)
        else:
            db.session.commit()
            _done(f"Service area {area.name} added")
            return redirect(url_for("admin.relationship", relationship_id=rel.id))
    return render_template("admin/area_form.html", form=form, relationship=rel, area=None), (
        400 if form.errors else 200
    )


@bp.route("/relationships/<int:relationship_id>/areas/<int:area_id>/edit", methods=["GET", "POST"])
@requires("admin")
def edit_area(relationship_id: int, area_id: int):  # type: ignore[no-untyped-def]
    rel = get_relationship_or_404(relationship_id)
    area = get_area_or_404(rel, area_id)
    form = ServiceAreaForm(data={"name": area.name})
    if form.validate_on_submit():
        try:
            relationships_service.rename_service_area(area, form.name.data, actor=_actor())
        except ServiceError as exc:
            _refused(form.name, exc)
        else:
            db.session.commit()
            _done(f"Service area renamed {area.name}")
            return redirect(url_for("admin.relationship", relationship_id=rel.id))
    return render_template("admin/area_form.html", form=form, relationship=rel, area=area), (
        400 if form.errors else 200
    )


@bp.route(
    "/relationships/<int:relationship_id>/areas/<int:area_id>/delete", methods=["GET", "POST"]
)
@requires("admin")
def delete_area(relationship_id: int, area_id: int):  # type: ignore[no-untyped-def]
    rel = get_relationship_or_404(relationship_id)
    area = get_area_or_404(rel, area_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = area.name
        try:
            relationships_service.delete_service_area(area, actor=_actor())
        except ServiceError as exc:
            _refused(form.submit, exc)
        else:
            db.session.commit()
            _done(f"Service area {name} deleted")
            return redirect(url_for("admin.relationship", relationship_id=rel.id))
    return render_template(
        "admin/area_delete.html",
        form=form,
        relationship=rel,
        area=area,
        in_use=relationships_service.area_in_use(area),
    ), (400 if form.errors else 200)


# ================================================================================= waves


@bp.route("/relationships/<int:relationship_id>/waves/new", methods=["GET", "POST"])
@requires("admin")
def new_wave(relationship_id: int):  # type: ignore[no-untyped-def]
    rel = get_relationship_or_404(relationship_id)
    versions = instruments_service.instrument_versions()
    form = WaveForm([(v.value, v.label) for v in versions if v.in_file or v.frozen])
    if form.validate_on_submit():
        try:
            key, version = InstrumentChoice.parse(form.instrument.data)
            wave = waves_service.create_wave(
                rel,
                form.label.data,
                instrument_key=key,
                instrument_version=version,
                closes_on=form.closes_on.data,
                actor=_actor(),
            )
        except ServiceError as exc:
            _refused(form.label, exc)
        else:
            db.session.commit()
            _done(f"Wave {wave.label} created. Upload a staff list, then open it.")
            return redirect(url_for("admin.wave", wave_id=wave.id))
    elif not form.is_submitted() and len(form.instrument.choices) == 2:
        form.instrument.data = form.instrument.choices[1].value
    return render_template("admin/wave_form.html", form=form, relationship=rel), (
        400 if form.errors else 200
    )


def _wave_page(wave: Wave, *, form: Any = None, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "admin/wave.html",
        wave=wave,
        form=form,
        open_form=form if form is not None else ConfirmForm(),
        addresses=mailing.address_list_summary(wave),
        rates=response_rates(wave) if wave.state != "draft" else None,
    ), status


@bp.get("/waves/<int:wave_id>/")
@requires("admin")
def wave(wave_id: int):  # type: ignore[no-untyped-def]
    return _wave_page(get_wave_or_404(wave_id))


@bp.post("/waves/<int:wave_id>/open")
@requires("admin")
def open_wave(wave_id: int):  # type: ignore[no-untyped-def]
    wave = get_wave_or_404(wave_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _wave_page(wave, form=form, status=400)
    try:
        waves_service.open_wave(wave, actor=_actor())
    except ServiceError as exc:
        _refused(form.submit, exc)
        return _wave_page(get_wave_or_404(wave_id), form=form, status=409)
    db.session.commit()
    _done(f"Wave {wave.label} is open: invitation links now work")
    return redirect(url_for("admin.wave", wave_id=wave.id))


@bp.route("/waves/<int:wave_id>/closing-date", methods=["GET", "POST"])
@requires("admin")
def extend_wave(wave_id: int):  # type: ignore[no-untyped-def]
    wave = get_wave_or_404(wave_id)
    form = ExtendWaveForm(data={"closes_on": wave.closes_on})
    if form.validate_on_submit():
        try:
            waves_service.extend_wave(wave, form.closes_on.data, actor=_actor())
        except ServiceError as exc:
            _refused(form.closes_on, exc)
        else:
            db.session.commit()
            _done(f"Wave {wave.label} now closes on {_day(form.closes_on.data)}")
            return redirect(url_for("admin.wave", wave_id=wave.id))
    return render_template("admin/wave_extend.html", form=form, wave=wave), (
        400 if form.errors else 200
    )


@bp.route("/waves/<int:wave_id>/close", methods=["GET", "POST"])
@requires("admin")
def close_wave(wave_id: int):  # type: ignore[no-untyped-def]
    wave = get_wave_or_404(wave_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            waves_service.close_wave(wave, actor=_actor())
        except ServiceError as exc:
            _refused(form.submit, exc)
        else:
            db.session.commit()
            _done(
                f"Wave {wave.label} is closed: its results are computed and its address list "
                "is deleted"
            )
            return redirect(url_for("admin.wave", wave_id=wave.id))
    wave = get_wave_or_404(wave_id)
    return render_template(
        "admin/wave_close.html",
        form=form,
        wave=wave,
        rates=response_rates(wave),
        addresses=mailing.address_list_summary(wave),
    ), (409 if form.errors else 200)


# ======================================================================= staff lists, mail


@bp.route("/waves/<int:wave_id>/staff-list", methods=["GET", "POST"])
@requires("admin")
def staff_list(wave_id: int):  # type: ignore[no-untyped-def]
    wave = get_wave_or_404(wave_id)
    form = StaffListForm()
    rejected = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = load_staff_list(
                wave, upload.stream, filename=upload.filename or "", actor=_actor()
            )
        except StaffListRejected as exc:
            db.session.rollback()
            rejected = exc
            form.file.errors = [
                (
                    f"The selected file has {exc.total:,} problem{'s' if exc.total != 1 else ''}"
                    ": nobody was added. Correct them and upload the file again"
                )
                if exc.rows_checked
                else str(exc)
            ]
        else:
            db.session.commit()
            return render_template("admin/staff_list_done.html", wave=wave, report=report)
    return render_template(
        "admin/staff_list.html",
        form=form,
        wave=get_wave_or_404(wave_id),
        rejected=rejected,
        headers=HEADERS,
    ), (400 if form.errors else 200)


def _invitations_page(wave: Wave, *, form: Any = None, report: Any = None, status: int = 200):  # type: ignore[no-untyped-def]
    settings = mailing.MailSettings.from_config()
    return render_template(
        "admin/invitations.html",
        wave=wave,
        form=form,
        addresses=mailing.address_list_summary(wave),
        failed=mailing.failed_addresses(wave),
        mail_configured=settings.configured,
        batch_size=settings.batch_size,
        report=report,
    ), status


@bp.get("/waves/<int:wave_id>/invitations")
@requires("admin")
def invitations(wave_id: int):  # type: ignore[no-untyped-def]
    return _invitations_page(get_wave_or_404(wave_id))


def _send(wave_id: int, send: Any) -> Any:
    """Run a sending service on a POST with a valid CSRF token; show what it did."""
    wave = get_wave_or_404(wave_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _invitations_page(wave, form=form, status=400)
    try:
        report = send(wave, actor=_actor())
    except ServiceError as exc:
        _refused(form.submit, exc)
        return _invitations_page(get_wave_or_404(wave_id), form=form, status=409)
    db.session.commit()
    return _invitations_page(get_wave_or_404(wave_id), report=report)


@bp.post("/waves/<int:wave_id>/invitations/send")
@requires("admin")
def send_invitations(wave_id: int):  # type: ignore[no-untyped-def]
    return _send(wave_id, mailing.send_invitations)


@bp.post("/waves/<int:wave_id>/reminders/send")
@requires("admin")
def send_reminders(wave_id: int):  # type: ignore[no-untyped-def]
    return _send(wave_id, mailing.send_reminders)


@bp.post("/waves/<int:wave_id>/failed/retry")
@requires("admin")
def retry_failed(wave_id: int):  # type: ignore[no-untyped-def]
    return _send(wave_id, mailing.retry_failed)


def _mail_merge(wave_id: int, make: Any, name: str) -> Any:
    wave = get_wave_or_404(wave_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _invitations_page(wave, form=form, status=400)
    try:
        text, _count = make(wave, actor=_actor())
    except ServiceError as exc:
        _refused(form.submit, exc)
        return _invitations_page(get_wave_or_404(wave_id), form=form, status=409)
    label = wave.label
    db.session.commit()  # (the service committed the links before handing over the file)
    filename = f"{name}-{_safe(label)}.csv"
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/waves/<int:wave_id>/invitations/mail-merge")
@requires("admin")
def mail_merge(wave_id: int):  # type: ignore[no-untyped-def]
    return _mail_merge(wave_id, mailing.mail_merge_invitations, "invitation-links")


@bp.post("/waves/<int:wave_id>/reminders/mail-merge")
@requires("admin")
def reminder_mail_merge(wave_id: int):  # type: ignore[no-untyped-def]
    return _mail_merge(wave_id, mailing.mail_merge_reminders, "reminder-links")


# =============================================================================== monitor


@bp.get("/waves/<int:wave_id>/responses")
@requires("manager")  # managers watch an open wave's response rate too
def monitor(wave_id: int) -> str:
    wave = get_wave_or_404(wave_id)
    return render_template("admin/monitor.html", wave=wave, rates=response_rates(wave))


@bp.get("/waves/<int:wave_id>/responses.json")
@requires("manager")
def monitor_json(wave_id: int):  # type: ignore[no-untyped-def]
    wave = get_wave_or_404(wave_id)
    response = current_app.json.response(response_rates(wave).as_dict())
    response.headers["Cache-Control"] = "no-store"
    return response


# ================================================================================ helpers


def _day(value: Any) -> str:
    return f"{value.day} {value:%B %Y}"


def _safe(label: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in label)


@bp.context_processor
def admin_globals() -> dict[str, Any]:
    return {"today": date.today}


@bp.app_template_filter("day")
def day_filter(value: Any) -> str:
    """A date as GOV.UK writes it: 5 March 2013."""
    return _day(value) if value else ""
