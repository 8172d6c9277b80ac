"""Survey forms built at run time from the frozen instrument, with GOV.UK widgets.

Every question names itself in its error message, so the error summary tells a
respondent exactly which statement still needs an answer.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovRadioInput, GovSubmitInput
from wtforms import RadioField, SelectChoice, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from survey_app.models import ROLE_LEVELS
from survey_app.services.respondents import DONT_KNOW, RespondentContext, Section

NO_AREA = "none"
NOT_SAID = "not-said"


def field_name(item_key: str) -> str:
    return f"q_{item_key}"


class ChoiceRadioField(RadioField):
    """A radios field whose 'not one of the options' message names the question."""

    def __init__(self, *args: Any, invalid_message: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def pre_validate(self, form: Any) -> None:
        if self.data is None and not self.raw_data:
            return  # InputRequired (or Optional) decides about a missing answer
        if not any(self.data == choice.value for choice in self.choices):
            raise ValidationError(self.invalid_message)


class QuestionRadios(GovRadioInput):
    """GOV.UK radios whose legend is the question, with no empty hint, and an "or"
    divider before "Don't know" as the Design System shows it."""

    def __init__(self, legend_classes: str = "govuk-fieldset__legend--s") -> None:
        self.legend_classes = legend_classes

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)
        legend = params.setdefault("fieldset", {}).setdefault("legend", {})
        legend.setdefault("text", field.label.text)
        legend.setdefault("classes", self.legend_classes)
        if not field.description:
            params.pop("hint", None)
        items = params["items"]
        for index, item in enumerate(items):
            if item.get("value") == DONT_KNOW and index:
                items.insert(index, {"divider": _("or")})
                break
        params["idPrefix"] = field.id
        _error_prefix(params)
        return params


class CommentBox(GovCharacterCount):
    """A GOV.UK character count with the question as its label and no empty hint."""

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)
        if not field.description:
            params.pop("hint", None)
        params["label"] = {"text": field.label.text, "classes": "govuk-label--s"}
        limit = next((v.max for v in field.validators if isinstance(v, Length)), None)
        params["maxlength"] = limit
        _error_prefix(params)
        params.update(character_count_texts())
        return params


def character_count_texts() -> dict[str, Any]:
    """GOV.UK Frontend's own texts of a character count, in the page's language (its i18n
    parameters): for every character count, the survey's and the staff pages'."""
    return {
        "textareaDescriptionText": _("You can enter up to %{count} characters"),
        "charactersUnderLimitText": {
            "one": _("You have %{count} character remaining"),
            "other": _("You have %{count} characters remaining"),
        },
        "charactersAtLimitText": _("You have 0 characters remaining"),
        "charactersOverLimitText": {
            "one": _("You have %{count} character too many"),
            "other": _("You have %{count} characters too many"),
        },
    }


def _error_prefix(params: dict[str, Any]) -> None:
    """An error message's hidden "Error:" prefix in the page's language."""
    if params.get("errorMessage"):
        params["errorMessage"]["visuallyHiddenText"] = _("Error")


def _no_nul(form: Any, field: Any) -> None:
    if field.data and any(ord(ch) < 32 and ch not in "\n\r\t" for ch in field.data):
        raise ValidationError(
            _("%(question)s must not contain control characters", question=field.label.text)
        )


class _SurveyPage(FlaskForm):
    continue_ = SubmitField(_l("Save and continue"), widget=GovSubmitInput())
    save_later = SubmitField(_l("Save and come back later"), widget=GovSubmitInput())


def section_form(ctx: RespondentContext, section: Section, draft: dict[str, Any], formdata: Any):
    """The form for one section, pre-filled from the draft (on GET)."""
    attrs: dict[str, Any] = {}
    if section.kind == "dimension":
        for item in section.items:
            text = ctx.item_text(item)
            labels = ctx.scale_labels
            choices = [SelectChoice(str(v), label) for v, label in enumerate(labels, start=1)]
            if item.dont_know:
                choices.append(SelectChoice(DONT_KNOW, ctx.dont_know_label))
            required = _("Select how much you agree with ‘%(question)s’", question=text)
            attrs[field_name(item.key)] = ChoiceRadioField(
                text,
                choices=choices,
                validators=[InputRequired(message=required)],
                invalid_message=_(
                    "Select one of the answers given for ‘%(question)s’", question=text
                ),
                widget=QuestionRadios(),
            )
    else:
        for question in ctx.instrument.comments:
            text = ctx.comment_text(question.key)
            attrs[field_name(question.key)] = TextAreaField(
                text,
                validators=[
                    Optional(),
                    Length(
                        max=question.max_length,
                        message=_(
                            "Your answer to ‘%(question)s’ must be %(limit)s characters or fewer",
                            question=text,
                            limit=f"{question.max_length:,}",
                        ),
                    ),
                    _no_nul,
                ],
                widget=CommentBox(),
            )
    form_class = type(f"Section{section.number}Form", (_SurveyPage,), attrs)
    data = {}
    if formdata is None:
        data = initial_section_data(section, draft)
    return form_class(formdata=formdata, data=data)


def initial_section_data(section: Section, draft: dict[str, Any]) -> dict[str, Any]:
    if section.kind == "dimension":
        answers = draft.get("answers", {})
        return {field_name(i.key): str(answers[i.key]) for i in section.items if i.key in answers}
    comments = draft.get("comments", {})
    return {field_name(k): v for k, v in comments.items()}


def read_section_answers(section: Section, form: Any) -> dict[str, Any]:
    """The valid answers on a submitted section page, as draft values."""
    values: dict[str, Any] = {}
    for item in section.items:
        field = form[field_name(item.key)]
        if field.data in (None, "") or field.errors:
            continue
        values[item.key] = DONT_KNOW if field.data == DONT_KNOW else int(field.data)
    return values


def _about_question(
    question: str, options: list[tuple[str, str]], *, required: str, invalid: str
) -> ChoiceRadioField:
    """A question of "About you": radios, one of ``options`` (value, text) to choose."""
    return ChoiceRadioField(
        question,
        choices=[SelectChoice(value, text) for value, text in options],
        validators=[InputRequired(message=required)],
        invalid_message=invalid,
        widget=QuestionRadios("govuk-fieldset__legend--m"),
    )


def about_form(ctx: RespondentContext, draft: dict[str, Any], formdata: Any):
    attrs: dict[str, Any] = {}
    data: dict[str, Any] = {}
    given = draft.get("about") or {}
    if ctx.invitation.service_area_id is None:
        question = _(
            "Which service area of the %(relationship)s partnership do you work in?",
            relationship=ctx.wave.relationship.name,
        )
        attrs["service_area"] = _about_question(
            question,
            [*ctx.service_area_choices(), (NO_AREA, _("Several of these, or none of them"))],
            required=_("Select the service area you work in"),
            invalid=_("Select one of the service areas listed"),
        )
        if "service_area" in given:
            data["service_area"] = given["service_area"] or NO_AREA
    if ctx.invitation.role_level is None:
        levels = [(key, _(label)) for key, label in ROLE_LEVELS.items()]
        attrs["role_level"] = _about_question(
            _("What is your role level?"),
            [*levels, (NOT_SAID, _("Prefer not to say"))],
            required=_("Select your role level, or ‘Prefer not to say’"),
            invalid=_("Select one of the role levels listed"),
        )
        if "role_level" in given:
            data["role_level"] = given["role_level"] or NOT_SAID
    attrs["continue_"] = SubmitField(_("Continue"), widget=GovSubmitInput())
    form_class = type("AboutYouForm", (FlaskForm,), attrs)
    return form_class(formdata=formdata, data=data if formdata is None else {})


def read_about(form: Any) -> dict[str, str | None]:
    about: dict[str, str | None] = {}
    if "service_area" in form:
        value = form["service_area"].data
        about["service_area"] = None if value == NO_AREA else value
    if "role_level" in form:
        value = form["role_level"].data
        about["role_level"] = None if value == NOT_SAID else value
    return about


class SubmitSurveyForm(FlaskForm):
    submit = SubmitField(_l("Submit your answers"), widget=GovSubmitInput())
