"""``/admin``: relationships, service areas, waves, staff lists, invitations, reminders and the
response-rate monitor, for signed-in administrators (the monitor for managers too).

Each view reads its arguments, calls one service and shows what it did
(:mod:`survey_app.web.submissions`: one commit, and a problem the user caused shown in the
GOV.UK error summary with nothing changed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey_app.dates import gov_uk_time, zone_label
from survey_app.extensions import db
from survey_app.models import Wave
from survey_app.services import instruments as instruments_service
from survey_app.services import mailing
from survey_app.services import relationships as relationships_service
from survey_app.services import waves as waves_service
from survey_app.services.imports import HEADERS, StaffListRejected, load_staff_list
from survey_app.services.instruments import InstrumentChoice
from survey_app.services.jobs import (
    close_job_key,
    close_job_title,
    next_event,
    round_job_key,
    round_job_title,
    unfinished_job,
)
from survey_app.services.monitoring import response_rates
from survey_app.web.access import current_scope, requires
from survey_app.web.admin.forms import (
    ConfirmForm,
    RelationshipEditForm,
    RelationshipForm,
    ScheduleForm,
    ServiceAreaForm,
    StaffListForm,
    WaveForm,
)
from survey_app.web.attachments import attachment
from survey_app.web.jobs import start_job
from survey_app.web.loading import area_or_404, relationship_or_404, wave_or_404
from survey_app.web.submissions import (
    REFUSED,
    acting_user,
    attempt,
    carry_out,
    form_page,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
requires("admin")(bp)  # every view here is for admins unless it says otherwise


def _to_relationship(relationship_id: int) -> str:
    return url_for("admin.relationship", relationship_id=relationship_id)


def _to_wave(wave: Wave) -> str:
    return url_for("admin.wave", wave_id=wave.id)


# ================================================================================== index


@bp.get("/")
@requires("admin")
def index() -> str:
    return render_template(
        "admin/index.html", relationships=relationships_service.relationship_rows(current_scope())
    )


# ========================================================================== relationships


@bp.route("/relationships/new", methods=["GET", "POST"])
@requires("admin", service_wide=True)
def new_relationship():  # type: ignore[no-untyped-def]
    form = RelationshipForm()
    return carry_out(
        form,
        lambda: relationships_service.create_relationship(
            form.name.data,
            client=form.client.data,
            supplier=form.supplier.data,
            service_areas=form.area_names(),
            actor=acting_user(),
        ),
        refused_on=form.name,
        done=lambda rel: _("Relationship %(name)s created", name=rel.name),
        then=lambda rel: _to_relationship(rel.id),
    ) or form_page("admin/relationship_form.html", form, relationship=None)


@bp.get("/relationships/<int:relationship_id>/")
@requires("admin")
def relationship(relationship_id: int) -> str:
    rel = relationship_or_404(relationship_id)
    return render_template(
        "admin/relationship.html", relationship=rel, waves=waves_service.waves_of(rel)
    )


@bp.route("/relationships/<int:relationship_id>/edit", methods=["GET", "POST"])
@requires("admin")
def edit_relationship(relationship_id: int):  # type: ignore[no-untyped-def]
    rel = relationship_or_404(relationship_id)
    form = RelationshipEditForm(
        data={
            "name": rel.name,
            "client": rel.party("client").name,
            "supplier": rel.party("supplier").name,
        }
    )
    return carry_out(
        form,
        lambda: relationships_service.update_relationship(
            rel,
            name=form.name.data,
            client=form.client.data,
            supplier=form.supplier.data,
            actor=acting_user(),
        ),
        refused_on=form.name,
        done=lambda _rel: _("Relationship saved"),
        then=_to_relationship(rel.id),
    ) or form_page("admin/relationship_form.html", form, relationship=rel)


@bp.route("/relationships/<int:relationship_id>/areas/new", methods=["GET", "POST"])
@requires("admin")
def new_area(relationship_id: int):  # type: ignore[no-untyped-def]
    rel = relationship_or_404(relationship_id)
    form = ServiceAreaForm()
    return carry_out(
        form,
        lambda: relationships_service.add_service_area(rel, form.name.data, actor=acting_user()),
        refused_on=form.name,
        done=lambda area: _("Service area %(name)s added", name=area.name),
        then=_to_relationship(rel.id),
    ) or form_page("admin/area_form.html", form, relationship=rel, area=None)


@bp.route("/relationships/<int:relationship_id>/areas/<int:area_id>/edit", methods=["GET", "POST"])
@requires("admin")
def edit_area(relationship_id: int, area_id: int):  # type: ignore[no-untyped-def]
    rel = relationship_or_404(relationship_id)
    area = area_or_404(rel, area_id)
    form = ServiceAreaForm(obj=area)
    return carry_out(
        form,
        lambda: relationships_service.rename_service_area(
            area, form.name.data, actor=acting_user()
        ),
        refused_on=form.name,
        done=lambda renamed: _("Service area renamed %(name)s", name=renamed.name),
        then=_to_relationship(rel.id),
    ) or form_page("admin/area_form.html", form, relationship=rel, area=area)


@bp.route(
    "/relationships/<int:relationship_id>/areas/<int:area_id>/delete", methods=["GET", "POST"]
)
@requires("admin")
def delete_area(relationship_id: int, area_id: int):  # type: ignore[no-untyped-def]
    rel = relationship_or_404(relationship_id)
    area = area_or_404(rel, area_id)
    form = ConfirmForm()
    return carry_out(
        form,
        lambda: relationships_service.delete_service_area(area, actor=acting_user()),
        refused_on=form.submit,
        done=lambda _result: _("Service area %(name)s deleted", name=area.name),
        then=_to_relationship(rel.id),
    ) or form_page(
        "admin/area_delete.html",
        form,
        relationship=rel,
        area=area,
        in_use=relationships_service.area_in_use(area),
    )


# ================================================================================= waves


@bp.route("/relationships/<int:relationship_id>/waves/new", methods=["GET", "POST"])
@requires("admin")
def new_wave(relationship_id: int):  # type: ignore[no-untyped-def]
    rel = relationship_or_404(relationship_id)
    versions = instruments_service.instrument_versions()
    form = WaveForm(
        [
            (v.value, _("%(title)s — %(key)s version %(version)s", **v.named()))
            for v in versions
            if v.in_file or v.frozen
        ]
    )

    def create() -> Wave:
        key, version = InstrumentChoice.parse(form.instrument.data)
        return waves_service.create_wave(
            rel,
            form.label.data,
            instrument_key=key,
            instrument_version=version,
            closes_on=form.closes_on.data,
            actor=acting_user(),
        )

    return carry_out(
        form,
        create,
        refused_on=form.label,
        done=lambda wave: _(
            "Wave %(label)s created. Upload a staff list, then open it.", label=wave.label
        ),
        then=_to_wave,
    ) or form_page("admin/wave_form.html", form, relationship=rel)


def _wave_page(wave: Wave, *, form: Any = None, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template(
        "admin/wave.html",
        wave=wave,
        form=form,
        open_form=form if form is not None else ConfirmForm(),
        addresses=mailing.address_list_summary(wave),
        rates=response_rates(wave) if wave.state != "draft" else None,
        next_event=next_event(wave),
    ), status


@bp.get("/waves/<int:wave_id>/")
@requires("admin")
def wave(wave_id: int):  # type: ignore[no-untyped-def]
    return _wave_page(wave_or_404(wave_id))


@bp.post("/waves/<int:wave_id>/open")
@requires("admin")
def open_wave(wave_id: int):  # type: ignore[no-untyped-def]
    wave = wave_or_404(wave_id)
    form = ConfirmForm()
    return carry_out(
        form,
        lambda: waves_service.open_wave(wave, actor=acting_user()),
        refused_on=form.submit,
        done=lambda _result: _(
            "Wave %(label)s is open: invitation links now work", label=wave.label
        ),
        then=_to_wave(wave),
    ) or _wave_page(wave, form=form, status=409)


@bp.route("/waves/<int:wave_id>/closing-date", methods=["GET", "POST"])
@requires("admin")
def extend_wave(wave_id: int):  # type: ignore[no-untyped-def]
    """The wave's schedule: opening, closing and reminder times (kept by the worker's tick)."""
    wave = wave_or_404(wave_id)
    form = ScheduleForm() if request.method == "POST" else ScheduleForm.of(wave)
    return carry_out(
        form,
        lambda: waves_service.schedule_wave(
            wave,
            opens_at=form.opens_at(),
            closes_at=form.closes_at(),
            reminder_days=form.reminder_days.data,
            actor=acting_user(),
        ),
        refused_on=form.closes_on,
        done=lambda scheduled: _(
            "Wave %(label)s now closes at %(time)s (%(zone)s)",
            label=scheduled.label,
            time=gov_uk_time(scheduled.closes_at),
            zone=zone_label(),
        ),
        then=_to_wave,
    ) or form_page("admin/wave_extend.html", form, wave=wave)


@bp.route("/waves/<int:wave_id>/close", methods=["GET", "POST"])
@requires("admin")
def close_wave(wave_id: int):  # type: ignore[no-untyped-def]
    wave = wave_or_404(wave_id)
    form = ConfirmForm()
    if form.validate_on_submit() and (
        attempt(lambda: waves_service.check_can_close(wave), refused_on=form.submit) is not REFUSED
    ):  # closing and scoring run in a job: its page shows how far it has got
        parameters = {"wave_id": wave.id}
        return start_job(
            "wave.close",
            parameters,
            title=close_job_title(wave),
            relationship=wave.relationship,
            key=close_job_key(wave.id),
        )
    return form_page(
        "admin/wave_close.html",
        form,
        error_status=409,
        wave=wave,
        rates=response_rates(wave),
        addresses=mailing.address_list_summary(wave),
    )


# ======================================================================= staff lists, mail


@bp.route("/waves/<int:wave_id>/staff-list", methods=["GET", "POST"])
@requires("admin")
def staff_list(wave_id: int):  # type: ignore[no-untyped-def]
    wave = wave_or_404(wave_id)
    form = StaffListForm()
    rejected = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = load_staff_list(
                wave, upload.stream, filename=upload.filename or "", actor=acting_user()
            )
        except StaffListRejected as exc:
            db.session.rollback()
            rejected = exc
            form.file.errors = [_problems_message(exc) if exc.rows_checked else str(exc)]
        else:
            db.session.commit()
            return render_template("admin/staff_list_done.html", wave=wave, report=report)
    return form_page("admin/staff_list.html", form, wave=wave, rejected=rejected, headers=HEADERS)


def _invitations_page(wave: Wave, *, form: Any = None, status: int = 200):  # type: ignore[no-untyped-def]
    settings = mailing.MailSettings.from_config()
    sending = {kind: unfinished_job(round_job_key(wave.id, kind)) for kind in mailing.ROUND_KINDS}
    return render_template(
        "admin/invitations.html",
        wave=wave,
        form=form,
        sending=sending,
        addresses=mailing.address_list_summary(wave),
        failed=mailing.failed_addresses(wave),
        mail_configured=settings.configured,
    ), status


@bp.get("/waves/<int:wave_id>/invitations")
@requires("admin")
def invitations(wave_id: int):  # type: ignore[no-untyped-def]
    return _invitations_page(wave_or_404(wave_id))


def _mailing(wave_id: int, operation: Callable[..., Any], present: Callable[[Wave, Any], Any]):  # type: ignore[no-untyped-def]
    """Run a mailing service on the wave (a POST with a valid CSRF token) and ``present`` what
    it gave; a refusal is shown on the invitations page."""
    wave = wave_or_404(wave_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _invitations_page(wave, form=form, status=400)
    result = attempt(lambda: operation(wave, actor=acting_user()), refused_on=form.submit)
    if result is REFUSED:
        return _invitations_page(wave, form=form, status=409)
    return present(wave, result)


def _round(wave_id: int, kind: str):  # type: ignore[no-untyped-def]
    """Start the wave's round of ``kind`` as a job (or find the one running) and redirect to
    its progress page: one click sends to everybody, and reloading sends nothing again."""
    wave = wave_or_404(wave_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _invitations_page(wave, form=form, status=400)
    if attempt(lambda: mailing.check_round(wave, kind), refused_on=form.submit) is REFUSED:
        return _invitations_page(wave, form=form, status=409)
    return _start_round(wave, kind)


def _start_round(wave: Wave, kind: str, *, retry_failed: bool = False):  # type: ignore[no-untyped-def]
    parameters: dict[str, Any] = {"wave_id": wave.id, "kind": kind}
    if retry_failed:
        parameters["retry_failed"] = True
    return start_job(
        "mail.round",
        parameters,
        title=round_job_title(wave, kind, retry_failed=retry_failed),
        relationship=wave.relationship,
        key=round_job_key(wave.id, kind),  # one round of a wave at a time
    )


@bp.post("/waves/<int:wave_id>/invitations/send")
@requires("admin")
def send_invitations(wave_id: int):  # type: ignore[no-untyped-def]
    return _round(wave_id, "invitations")


@bp.post("/waves/<int:wave_id>/reminders/send")
@requires("admin")
def send_reminders(wave_id: int):  # type: ignore[no-untyped-def]
    return _round(wave_id, "reminders")


@bp.post("/waves/<int:wave_id>/failed/retry")
@requires("admin")
def retry_failed(wave_id: int):  # type: ignore[no-untyped-def]
    """Send the failed invitations and reminders again, each kind a round of its own (the
    rounds' jobs, ``retry_failed``): one round shows its progress page; two, this page."""
    wave = wave_or_404(wave_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _invitations_page(wave, form=form, status=400)
    kinds = attempt(lambda: mailing.retry_kinds(wave), refused_on=form.submit)
    if kinds is REFUSED:
        return _invitations_page(wave, form=form, status=409)
    started = [_start_round(wave, kind, retry_failed=True) for kind in kinds]
    if len(started) == 1:
        return started[0]
    return redirect(url_for("admin.invitations", wave_id=wave_id), 303)


def _links_file(name: str) -> Callable[[Wave, tuple[str, int]], Response]:
    """A mail-merge file of links, ``<name>-<wave label>.csv`` (the service committed the
    links before handing over the file)."""

    def present(wave: Wave, made: tuple[str, int]) -> Response:
        text, _count = made
        return attachment(
            text.encode("utf-8"),
            content_type="text/csv; charset=utf-8",
            filename=f"{name}-{_safe(wave.label)}.csv",
        )

    return present


@bp.post("/waves/<int:wave_id>/invitations/mail-merge")
@requires("admin")
def mail_merge(wave_id: int):  # type: ignore[no-untyped-def]
    return _mailing(wave_id, mailing.mail_merge_invitations, _links_file("invitation-links"))


@bp.post("/waves/<int:wave_id>/reminders/mail-merge")
@requires("admin")
def reminder_mail_merge(wave_id: int):  # type: ignore[no-untyped-def]
    return _mailing(wave_id, mailing.mail_merge_reminders, _links_file("reminder-links"))


# =============================================================================== monitor


@bp.get("/waves/<int:wave_id>/responses")
@requires("manager")  # managers watch an open wave's response rate too
def monitor(wave_id: int) -> str:
    wave = wave_or_404(wave_id)
    return render_template("admin/monitor.html", wave=wave, rates=response_rates(wave))


@bp.get("/waves/<int:wave_id>/responses.json")
@requires("manager")
def monitor_json(wave_id: int):  # type: ignore[no-untyped-def]
    wave = wave_or_404(wave_id)
    response = current_app.json.response(response_rates(wave).as_dict())
    response.headers["Cache-Control"] = "no-store"
    return response


# ================================================================================ helpers


def _problems_message(rejected: StaffListRejected) -> str:
    if rejected.total == 1:
        return _(
            "The selected file has 1 problem: nobody was added. Correct it and upload the "
            "file again"
        )
    return _(
        "The selected file has %(count)s problems: nobody was added. Correct them and upload "
        "the file again",
        count=format(rejected.total, ","),
    )


def _safe(label: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in label)


@bp.context_processor
def admin_globals() -> dict[str, Any]:
    return {"today": date.today}
