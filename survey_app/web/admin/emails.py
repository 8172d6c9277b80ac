"""``/admin/waves/<id>/emails``: a wave's invitation and reminder texts, edited (each save a new
version, audited) and previewed as each side receives them, in each language, before sending.

The preview is made by the code that sends (``mailing.preview_email``), with a sample link that
is no token.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from instruments import LANGUAGES
from survey_app.models import SIDES, Wave
from survey_app.services import mailing
from survey_app.services.mailing.messages import service_name
from survey_app.services.mailing.texts import (
    KINDS,
    MAX_NAME,
    PLACEHOLDERS,
    EmailTexts,
    body_problems,
    email_texts,
    normalised,
    save_email_texts,
    subject_problems,
    wave_languages,
)
from survey_app.web.access import requires
from survey_app.web.admin.routes import bp
from survey_app.web.fields import no_control_characters, strip
from survey_app.web.loading import wave_or_404
from survey_app.web.submissions import acting_user, carry_out, form_page

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^[0-9+()\- ]{6,40}$")
LANGUAGE_NAMES = {"en": _l("in English"), "cy": _l("in Welsh")}
TEAM_TOO_LONG = _l("The survey team’s name must be 100 characters or fewer")
PARTS = {
    ("invitation", "subject"): _l("Invitation subject"),
    ("invitation", "body"): _l("Invitation text"),
    ("reminder", "subject"): _l("Reminder subject"),
    ("reminder", "body"): _l("Reminder text"),
}


def _checked(problems_of: Any) -> Any:
    """A validator that shows the first problem the service finds, naming the field."""

    def check(form: Any, field: Any) -> None:
        problems = problems_of(normalised(field.data))
        if problems:
            raise ValidationError(f"{field.label.text}: {problems[0]}")

    return check


def _email(form: Any, field: Any) -> None:
    if field.data and (len(field.data) > 254 or not EMAIL.match(field.data)):
        raise ValidationError(
            _l("Enter the email address in the right format, like name@council.gov.uk")
        )


def _phone(form: Any, field: Any) -> None:
    if field.data and not PHONE.match(field.data):
        raise ValidationError(_l("Enter the phone number in digits, like 01632 960 001"))


class EmailTextsForm(FlaskForm):
    """The fields every wave has; :func:`email_texts_form` adds each language's."""

    sender_name = StringField(
        _l("Sender’s name"),
        description=_l("Shown as who the emails are from, for example Partnership survey team"),
        validators=[
            InputRequired(message=_l("Enter the sender’s name")),
            Length(max=MAX_NAME, message=_l("The sender’s name must be 100 characters or fewer")),
            no_control_characters,
        ],
        filters=[strip],
        widget=GovTextInput(),
    )
    team_email = StringField(
        _l("Survey team’s email address (optional)"),
        validators=[Optional(), _email],
        filters=[strip],
        widget=GovTextInput(),
    )
    team_phone = StringField(
        _l("Survey team’s phone number (optional)"),
        validators=[Optional(), _phone],
        filters=[strip],
        widget=GovTextInput(),
    )
    submit = SubmitField(_l("Save the emails"), widget=GovSubmitInput())

    languages: tuple[str, ...] = ("en",)

    def validate_team_phone(self, field: Any) -> None:
        if not (field.data or self.team_email.data):
            raise ValidationError(
                _l("Enter the survey team’s email address or phone number, or both")
            )

    def wordings(self) -> dict[str, dict[str, str]]:
        return {
            code: {
                name: getattr(self, f"{name}_{code}").data or ""
                for name in ("team", *(f"{k}_{p}" for k, p in PARTS))
            }
            for code in self.languages
        }


def email_texts_form(languages: tuple[str, ...]) -> type[EmailTextsForm]:
    """The form for a wave offering ``languages``: the team's name and the four texts in each
    (the team's name is required in English only: the Welsh falls back on it)."""
    fields: dict[str, Any] = {"languages": languages}
    for code in languages:
        language = LANGUAGE_NAMES[code]
        required = code == "en"
        fields[f"team_{code}"] = StringField(
            _l("Survey team’s name, %(language)s", language=language)
            if required
            else _l("Survey team’s name, %(language)s (optional)", language=language),
            validators=[
                InputRequired(message=_l("Enter the survey team’s name"))
                if required
                else Optional(),
                Length(max=MAX_NAME, message=TEAM_TOO_LONG),
                no_control_characters,
            ],
            filters=[strip],
            widget=GovTextInput(),
        )
        for (kind, part), label in PARTS.items():
            is_subject = part == "subject"
            fields[f"{kind}_{part}_{code}"] = (StringField if is_subject else TextAreaField)(
                _l("%(part)s, %(language)s", part=label, language=language),
                validators=[_checked(subject_problems if is_subject else body_problems)],
                widget=GovTextInput() if is_subject else GovTextArea(),
            )
    return type("EmailTextsFormFor", (EmailTextsForm,), fields)


def _filled(form_class: type[EmailTextsForm], wave: Wave, texts: EmailTexts) -> EmailTextsForm:
    closes = wave.closes_at is not None
    data: dict[str, Any] = {
        "sender_name": texts.sender_name or service_name("en"),
        "team_email": texts.team_email,
        "team_phone": texts.team_phone,
    }
    for code in form_class.languages:
        wording = texts.wording(code, closes=closes)
        data[f"team_{code}"] = wording.team
        for kind, part in PARTS:
            data[f"{kind}_{part}_{code}"] = getattr(wording, part)(kind)
    return form_class(data=data)


@bp.route("/waves/<int:wave_id>/emails", methods=["GET", "POST"])
@requires("admin")
def email_texts_page(wave_id: int):  # type: ignore[no-untyped-def]
    wave = wave_or_404(wave_id)
    texts = email_texts(wave)
    form_class = email_texts_form(wave_languages(wave))
    form = form_class() if request.method == "POST" else _filled(form_class, wave, texts)
    return carry_out(
        form,
        lambda: save_email_texts(
            wave,
            sender_name=form.sender_name.data,
            team_email=form.team_email.data,
            team_phone=form.team_phone.data,
            wordings=form.wordings(),
            actor=acting_user(),
        ),
        refused_on=form.submit,
        done=lambda saved: str(_l("Emails saved (version %(version)s)", version=saved.version)),
        then=url_for("admin.email_preview", wave_id=wave.id),
    ) or form_page(
        "admin/email_texts.html",
        form,
        wave=wave,
        texts=texts,
        placeholders=PLACEHOLDERS,
    )


@bp.get("/waves/<int:wave_id>/emails/preview")
@requires("admin")
def email_preview(wave_id: int) -> str:
    wave = wave_or_404(wave_id)
    kind = request.args.get("kind", "invitation")
    side = request.args.get("side", "client")
    language = request.args.get("language", "en")
    if kind not in KINDS or side not in SIDES or language not in (*LANGUAGES, "both"):
        abort(404)
    preview = mailing.preview_email(wave, kind, side, None if language == "both" else language)
    return render_template(
        "admin/email_preview.html",
        wave=wave,
        preview=preview,
        chosen={"kind": kind, "side": side, "language": language},
        version=email_texts(wave).version,
    )
