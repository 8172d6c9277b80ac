"""``/admin/instruments``: every questionnaire version, previewed exactly as each side's staff
will see it — the respondents' own section template and form builder, with a "Preview" banner,
no link needed and nothing stored. Answers on a preview page are checked as in the survey (so
the error messages can be seen too) and then forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from instruments import Instrument, Item
from survey_app.extensions import db
from survey_app.forms.survey import section_form
from survey_app.models import SIDES, Relationship
from survey_app.services import admin as admin_service
from survey_app.services.respondents import Section, build_sections
from survey_app.web.access import requires
from survey_app.web.admin.routes import bp

#: Party names used when no relationship is chosen: (own party, partner) by side.
GENERIC = {"client": ("the council", "the supplier"), "supplier": ("the supplier", "the council")}
PREVIEW = "admin-preview"


@dataclass
class PreviewContext:
    """What the survey's section template and form builder read from a respondent's context."""

    instrument: Instrument
    side: str
    own_party: str
    partner: str
    relationship: Relationship | None
    sections: list[Section] = field(default_factory=list)
    needs_about: bool = False

    @property
    def partner_side(self) -> str:
        return "supplier" if self.side == "client" else "client"

    def section(self, number: int) -> Section | None:
        if 1 <= number <= len(self.sections):
            return self.sections[number - 1]
        return None

    def item_text(self, item: Item) -> str:
        return item.text(self.side, partner=self.partner, partner_side=self.partner_side)

    def comment_text(self, key: str) -> str:
        question = self.instrument.comment(key)
        return question.text(self.side, partner=self.partner, partner_side=self.partner_side)


def _context(key: str, version: int, side: str) -> PreviewContext:
    if side not in SIDES:
        abort(404)
    instrument = admin_service.instrument_for_preview(key, version)
    if instrument is None:
        abort(404)
    relationship = None
    chosen = request.args.get("relationship", "")
    if chosen.isdigit():
        relationship = db.session.get(Relationship, int(chosen))
    if relationship is not None:
        own, partner = relationship.party(side).name, relationship.other_party(side).name
    else:
        own, partner = GENERIC[side]
    return PreviewContext(instrument, side, own, partner, relationship, build_sections(instrument))


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
@requires("admin")
def instruments() -> str:
    return render_template(
        "admin/instruments.html",
        versions=admin_service.instrument_versions(),
        relationships=admin_service.relationships_for_preview(),
    )


@bp.get("/instruments/<key>/v<int:version>/<side>/")
@requires("admin")
def preview(key: str, version: int, side: str) -> str:
    ctx = _context(key, version, side)
    return render_template(
        "admin/preview.html",
        ctx=ctx,
        args=_args(ctx),
        relationships=admin_service.relationships_for_preview(),
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
                "In the survey, ‘Save and come back later’ keeps the answers given so far and "
                "explains how to come back. Nothing was saved in this preview.",
                PREVIEW,
            )
            return redirect(url_for("admin.preview", **args))
        if form.validate():
            if number < len(ctx.sections):
                return redirect(url_for("admin.preview_section", number=number + 1, **args))
            flash(
                "That was the last section. Respondents now check their answers and submit "
                "them. Nothing was saved in this preview.",
                PREVIEW,
            )
            return redirect(url_for("admin.preview", **args))
        status = 400
    else:
        form = section_form(ctx, current, {}, None)  # type: ignore[arg-type]
        status = 200
    return render_template(
        "admin/preview_section.html", ctx=ctx, section=current, form=form, args=args
    ), status
