"""Respondent pages.

The personal link ``/s/<token>`` is checked once and then exchanged for the token's
hash in the signed session cookie, so that the token appears in no further URL
(and so in no further log line or Referer header).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from survey_app.extensions import db
from survey_app.forms.survey import (
    SubmitSurveyForm,
    about_form,
    field_name,
    read_about,
    read_section_answers,
    section_form,
)
from survey_app.models import ROLE_LEVELS
from survey_app.services import respondents
from survey_app.services.mailing.texts import survey_team
from survey_app.services.respondents import (
    DONT_KNOW,
    IncompleteSurvey,
    NoSurveySession,
    RespondentContext,
    SubmittedInThisBrowser,
    SurveyUnavailable,
)
from survey_app.web.languages import current_language, remember, show_in

bp = Blueprint("survey", __name__)

SESSION_KEY = "survey_invitation"  # the token hash of the link opened
DRAFT_KEY = "survey_draft_key"  # the draft's data key, unwrapped: only ever in this cookie


def _forget_link() -> None:
    session.pop(SESSION_KEY, None)
    session.pop(DRAFT_KEY, None)


@bp.errorhandler(SurveyUnavailable)
def survey_unavailable(exc: SurveyUnavailable):  # type: ignore[no-untyped-def]
    db.session.rollback()
    if not isinstance(exc, NoSurveySession):
        _forget_link()
    team = survey_team(exc.wave_id, current_language()) if exc.wave_id else None
    return (
        render_template("survey/unavailable.html", title=exc.title, message=exc.message, team=team),
        exc.status,
    )


def _context() -> RespondentContext:
    token_hash = session.get(SESSION_KEY)
    if not token_hash:
        if session.get("survey_done"):
            raise SubmittedInThisBrowser()  # Back after submitting
        raise NoSurveySession()
    ctx = respondents.load_context(token_hash, current_language())
    ctx.draft_key = session.get(DRAFT_KEY)
    show_in(ctx.language, ctx.instrument.languages)
    return ctx


@bp.get("/s/<token>")
def open_link(token: str) -> WerkzeugResponse:
    held = (session.get(SESSION_KEY), session.get(DRAFT_KEY))
    ctx = respondents.open_link(token, current_language(), held=held if all(held) else None)
    session.clear()  # a fresh survey session; the language chosen so far is kept
    remember(ctx.language)
    session[SESSION_KEY] = ctx.token_hash
    session[DRAFT_KEY] = ctx.draft_key
    if respondents.link_replaced(ctx):  # a later email carries a newer link: say to use it
        return redirect(url_for("survey.replaced"))
    draft = respondents.load_draft(ctx)
    if respondents.has_started(draft):
        return redirect(url_for("survey.resume"))
    return redirect(url_for("survey.start"))


@bp.get("/survey/replaced")
def replaced() -> str:
    """An earlier email's link: it still works, but the latest email's is the one to use."""
    ctx = _context()
    started = respondents.has_started(respondents.load_draft(ctx))
    return render_template(
        "survey/replaced.html",
        ctx=ctx,
        carry_on=url_for("survey.resume" if started else "survey.start"),
        elsewhere=respondents.answers_elsewhere(ctx),
        team=survey_team(ctx.wave.id, ctx.language),
    )


@bp.get("/survey/")
def start() -> str:
    ctx = _context()
    elsewhere = respondents.answers_elsewhere(ctx)
    if elsewhere and respondents.link_replaced(ctx):
        elsewhere = "newer"  # the answers may be under the latest email's link
    return render_template("survey/start.html", ctx=ctx, resuming=False, elsewhere=elsewhere)


@bp.get("/survey/resume")
def resume() -> WerkzeugResponse:
    ctx = _context()
    return _redirect_to(respondents.next_step(ctx, respondents.load_draft(ctx)))


def _redirect_to(step: tuple[str, int | None]) -> WerkzeugResponse:
    kind, number = step
    if kind == "about":
        return redirect(url_for("survey.about"))
    if kind == "section":
        return redirect(url_for("survey.section", number=number))
    return redirect(url_for("survey.check"))


def _after_page(ctx: RespondentContext, draft: dict[str, Any], after: int) -> WerkzeugResponse:
    """Where 'Save and continue' leads: back to check answers when changing, else onwards."""
    if request.args.get("return") == "check":
        return _redirect_to(respondents.next_step(ctx, draft))
    if after < len(ctx.sections):
        return redirect(url_for("survey.section", number=after + 1))
    return _redirect_to(respondents.next_step(ctx, draft))


@bp.route("/survey/about", methods=["GET", "POST"])
def about():  # type: ignore[no-untyped-def]
    ctx = _context()
    draft = respondents.load_draft(ctx)
    if not ctx.needs_about:
        return redirect(url_for("survey.section", number=1))
    form = about_form(ctx, draft, request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        draft["about"] = read_about(form)
        respondents.save_draft(ctx, draft)
        db.session.commit()
        return _after_page(ctx, draft, 0)
    return render_template("survey/about.html", ctx=ctx, form=form), (400 if form.errors else 200)


@bp.route("/survey/section/<int:number>", methods=["GET", "POST"])
def section(number: int):  # type: ignore[no-untyped-def]
    ctx = _context()
    current = ctx.section(number)
    if current is None:
        return render_template("errors/404.html"), 404
    draft = respondents.load_draft(ctx)
    if respondents.about_answers(ctx, draft) is None:
        return redirect(url_for("survey.about"))
    if request.method == "GET":
        form = section_form(ctx, current, draft, None)
        return render_template("survey/section.html", ctx=ctx, section=current, form=form)

    form = section_form(ctx, current, draft, request.form)
    saving_for_later = "save_later" in request.form
    valid = form.validate()
    if saving_for_later:
        # Keep what was answered; only a tampered answer is an error here.
        form_errors = {
            name: errs for name, errs in form.errors.items() if name in form and form[name].raw_data
        }
        if not form_errors:
            _store(ctx, current, form, draft)
            db.session.commit()
            return redirect(url_for("survey.saved"))
    elif valid:
        _store(ctx, current, form, draft)
        db.session.commit()
        return _after_page(ctx, draft, current.number)
    return (
        render_template("survey/section.html", ctx=ctx, section=current, form=form),
        400,
    )


def _store(ctx: RespondentContext, current: respondents.Section, form: Any, draft: dict) -> None:
    if current.kind == "dimension":
        draft.setdefault("answers", {}).update(read_section_answers(current, form))
    else:
        draft["comments"] = {
            q.key: (form[field_name(q.key)].data or "").strip() for q in ctx.instrument.comments
        }
        if current.number not in draft.setdefault("seen", []):
            draft["seen"].append(current.number)
    respondents.save_draft(ctx, draft)


@bp.get("/survey/saved")
def saved() -> str:
    ctx = _context()
    return render_template("survey/saved.html", ctx=ctx)


@bp.route("/survey/check", methods=["GET", "POST"])
def check():  # type: ignore[no-untyped-def]
    ctx = _context()
    draft = respondents.load_draft(ctx)
    step = respondents.next_step(ctx, draft)
    if step[0] != "check":
        return _redirect_to(step)
    form = SubmitSurveyForm()
    if request.method == "POST":
        if not form.validate():
            return render_template("survey/check.html", **check_view(ctx, draft), form=form), 400
        try:
            respondents.submit(ctx, draft)
        except IncompleteSurvey as exc:
            return _redirect_to(exc.step)
        _forget_link()  # the key goes with the link: nothing is left to open
        session["survey_done"] = ctx.wave.relationship.name
        return redirect(url_for("survey.done"))
    return render_template("survey/check.html", **check_view(ctx, draft), form=form)


def check_view(
    ctx: Any,
    draft: dict[str, Any],
    *,
    section_href: Callable[[int], str] | None = None,
    about_href: str | None = None,
    unanswered: str = "",
) -> dict[str, Any]:
    """Summary-list rows for 'Check your answers', each with its change link.

    The survey's own links unless ``section_href`` (section number → URL) and ``about_href``
    are given; ``unanswered`` is shown for a statement or an "about you" question with no
    answer in ``draft`` (the admin preview, which stores no answers, uses both).
    """
    if section_href is None:

        def section_href(number: int) -> str:
            return url_for("survey.section", number=number, **{"return": "check"})

    labels = dict(enumerate(ctx.scale_labels, start=1))
    answers = draft.get("answers", {})
    comments = draft.get("comments", {})
    sections = []
    for sec in ctx.sections:
        back = section_href(sec.number)
        if sec.kind == "dimension":
            pairs = [
                (
                    ctx.item_text(item),
                    ctx.dont_know_label
                    if answers.get(item.key) == DONT_KNOW
                    else labels.get(answers.get(item.key), unanswered),
                    field_name(item.key),
                )
                for item in sec.items
            ]
        else:
            pairs = [
                (
                    ctx.comment_text(q.key),
                    comments.get(q.key) or _("Not answered"),
                    field_name(q.key),
                )
                for q in ctx.instrument.comments
            ]
        rows = [
            _summary_row(question, answer, f"{back}#{anchor}") for question, answer, anchor in pairs
        ]
        sections.append({"title": f"{sec.number}. {sec.title}", "rows": rows})

    given = respondents.about_answers(ctx, draft)
    about = given or {}
    change_about = about_href or url_for("survey.about", **{"return": "check"})
    area_names = dict(ctx.service_area_choices())
    area = area_names.get(about.get("service_area") or "", _("Several areas, or none"))
    role = _(ROLE_LEVELS.get(about.get("role_level") or "", "Prefer not to say"))
    if given is None and unanswered:
        area = role = unanswered
    about_rows = [
        {"key": {"text": _("Organisation")}, "value": {"text": ctx.own_party}},
        _summary_row(
            _("Service area"), area, None if ctx.invitation.service_area_id else change_about
        ),
        _summary_row(_("Role level"), role, None if ctx.invitation.role_level else change_about),
    ]
    return {"ctx": ctx, "sections": sections, "about_rows": about_rows}


def _summary_row(question: str, answer: str, change_href: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"key": {"text": question}, "value": {"text": answer}}
    if change_href:
        row["actions"] = {
            "items": [{"href": change_href, "text": _("Change"), "visuallyHiddenText": question}]
        }
    return row


@bp.get("/survey/done")
def done() -> str:
    relationship = session.get("survey_done")
    if relationship is None:
        raise NoSurveySession()
    return render_template("survey/done.html", relationship=relationship)
