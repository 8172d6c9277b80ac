"""``/admin/instruments``: every questionnaire version, previewed exactly as each side's staff
will see it — the respondents' own pages (start, about you, each section, check your answers,
confirmation) and form builders, with a "Preview" banner, no link needed and nothing stored.
Answers on a preview page are checked as in the survey (so the error messages can be seen too)
and then forgotten: "Check your answers" shows where each answer would be, not an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from instruments import Instrument
from survey_app.forms.survey import SubmitSurveyForm, about_form, section_form
from survey_app.models import SIDES, Relationship
from survey_app.services import instruments as instruments_service
from survey_app.services import parse_id
from survey_app.services import relationships as relationships_service
from survey_app.services.respondents import Section, SurveyTexts, build_sections
from survey_app.texts import N_
from survey_app.web.access import current_scope, requires
from survey_app.web.admin.routes import bp
from survey_app.web.languages import current_language, show_in
from survey_app.web.survey.routes import check_view

#: Party names used when no relationship is chosen: (own party, partner) by side.
GENERIC = {
    "client": (N_("the council"), N_("the supplier")),
    "supplier": (N_("the supplier"), N_("the council")),
}
PREVIEW = "admin-preview"
#: What stands for the details a real wave and relationship would give.
GENERIC_RELATIONSHIP = N_("(relationship name)")
WAVE_LABEL = N_("(wave label)")
GENERIC_AREAS = [
    ("example-area-1", N_("First service area")),
    ("example-area-2", N_("Second service area")),
]
#: "Check your answers" in the preview: where a respondent's answer would be.
UNANSWERED = N_("(their answer)")
#: The query that makes a page lead back to "Check your answers" (as the survey's change links).
_CHANGING = {"return": "check"}


@dataclass(frozen=True)
class _Named:
    name: str
    id: int | None = None  # the relationship's, when one was chosen (its privacy notice)


@dataclass(frozen=True)
class PreviewWave:
    """The little of a wave the survey pages show (its relationship's name and its label)."""

    relationship: _Named
    label: str = field(default_factory=lambda: _(WAVE_LABEL))
    closes_on: None = None


@dataclass(frozen=True)
class PreviewInvitation:
    """An invitation that fixes neither service area nor role level, so that "About you"
    asks both questions (a real invitation may fix them, and the page is then skipped)."""

    service_area_id: None = None
    role_level: None = None


@dataclass
class PreviewContext(SurveyTexts):
    """What the survey's section template and form builder read from a respondent's context."""

    instrument: Instrument
    side: str
    own_party: str
    partner: str
    relationship: Relationship | None
    sections: list[Section] = field(default_factory=list)
    needs_about: bool = True
    invitation: PreviewInvitation = field(default_factory=PreviewInvitation)
    language: str = "en"

    @property
    def wave(self) -> PreviewWave:
        if self.relationship is None:
            return PreviewWave(_Named(_(GENERIC_RELATIONSHIP)))
        return PreviewWave(_Named(self.relationship.name, self.relationship.id))

    def service_area_choices(self) -> list[tuple[str, str]]:
        if self.relationship is None:
            return [(key, _(name)) for key, name in GENERIC_AREAS]
        return [(a.key, a.name) for a in self.relationship.service_areas]


def _context(key: str, version: int, side: str) -> PreviewContext:
    if side not in SIDES:
        abort(404)
    instrument = instruments_service.instrument_for_preview(key, version)
    if instrument is None:
        abort(404)
    chosen = parse_id(request.args.get("relationship"))
    relationship = (
        relationships_service.get_relationship(chosen, required=False) if chosen else None
    )
    if relationship is not None and not current_scope().allows(relationship.id):
        relationship = None  # as an unknown one: the generic names
    if relationship is not None:
        own, partner = relationship.party(side).name, relationship.other_party(side).name
    else:
        own, partner = (_(name) for name in GENERIC[side])
    language = instrument.resolve_language(current_language())
    show_in(language, instrument.languages)  # a preview in each language the version carries
    sections = build_sections(instrument, language)
    return PreviewContext(instrument, side, own, partner, relationship, sections, language=language)


def _args(ctx: PreviewContext) -> dict[str, Any]:
    """URL values that keep the preview's choices from page to page."""
    values: dict[str, Any] = {
        "key": ctx.instrument.key,
        "version": ctx.instrument.version,
        "side": ctx.side,
    }
    if ctx.relationship is not None:
        values["relationship"] = ctx.relationship.id
    return values


@bp.get("/instruments/")
@requires("admin", service_wide=True)
def instruments() -> str:
    return render_template(
        "admin/instruments.html",
        versions=instruments_service.instrument_versions(),
        relationships=relationships_service.all_relationships(scope=current_scope()),
    )


@bp.get("/instruments/<key>/v<int:version>/<side>/")
@requires("admin")
def preview(key: str, version: int, side: str) -> str:
    ctx = _context(key, version, side)
    return render_template(
        "admin/preview.html",
        ctx=ctx,
        args=_args(ctx),
        relationships=relationships_service.all_relationships(scope=current_scope()),
        other_side="supplier" if side == "client" else "client",
    )


@bp.route("/instruments/<key>/v<int:version>/<side>/<int:number>", methods=["GET", "POST"])
@requires("admin")
def preview_section(key: str, version: int, side: str, number: int):  # type: ignore[no-untyped-def]
    ctx = _context(key, version, side)
    current = ctx.section(number)
    if current is None:
        abort(404)
    args = _args(ctx)
    if request.method == "POST":
        form = section_form(ctx, current, {}, request.form)  # type: ignore[arg-type]
        if "save_later" in request.form:
            flash(
                _(
                    "In the survey, ‘Save and come back later’ keeps the answers given so far "
                    "and explains how to come back. Nothing was saved in this preview."
                ),
                PREVIEW,
            )
            return redirect(url_for("admin.preview", **args))
        if form.validate():
            if number < len(ctx.sections) and request.args.get("return") != "check":
                return redirect(url_for("admin.preview_section", number=number + 1, **args))
            return redirect(url_for("admin.preview_check", **args))
        status = 400
    else:
        form = section_form(ctx, current, {}, None)  # type: ignore[arg-type]
        status = 200
    return render_template(
        "admin/preview_section.html", ctx=ctx, section=current, form=form, args=args
    ), status


@bp.get("/instruments/<key>/v<int:version>/<side>/start")
@requires("admin")
def preview_start(key: str, version: int, side: str) -> str:
    ctx = _context(key, version, side)
    return render_template("admin/preview_start.html", ctx=ctx, args=_args(ctx))


@bp.route("/instruments/<key>/v<int:version>/<side>/about", methods=["GET", "POST"])
@requires("admin")
def preview_about(key: str, version: int, side: str):  # type: ignore[no-untyped-def]
    ctx = _context(key, version, side)
    args = _args(ctx)
    form = about_form(ctx, {}, request.form if request.method == "POST" else None)  # type: ignore[arg-type]
    if request.method == "POST" and form.validate():
        if request.args.get("return") == "check":
            return redirect(url_for("admin.preview_check", **args))
        return redirect(url_for("admin.preview_section", number=1, **args))
    return render_template("admin/preview_about.html", ctx=ctx, form=form, args=args), (
        400 if form.errors else 200
    )


@bp.route("/instruments/<key>/v<int:version>/<side>/check", methods=["GET", "POST"])
@requires("admin")
def preview_check(key: str, version: int, side: str):  # type: ignore[no-untyped-def]
    ctx = _context(key, version, side)
    args = _args(ctx)
    form = SubmitSurveyForm()
    if request.method == "POST" and form.validate():
        return redirect(url_for("admin.preview_done", **args))
    view = check_view(
        ctx,
        {},
        section_href=lambda n: url_for("admin.preview_section", number=n, **args, **_CHANGING),
        about_href=url_for("admin.preview_about", **args, **_CHANGING),
        unanswered=_(UNANSWERED),
    )
    return render_template("admin/preview_check.html", **view, form=form, args=args), (
        400 if form.errors else 200
    )


@bp.get("/instruments/<key>/v<int:version>/<side>/done")
@requires("admin")
def preview_done(key: str, version: int, side: str) -> str:
    ctx = _context(key, version, side)
    return render_template(
        "admin/preview_done.html", ctx=ctx, args=_args(ctx), relationship=ctx.wave.relationship.name
    )
