"""Form fields and validators shared by the blueprints' forms: GOV.UK widgets on the fields,
GOV.UK error messages in the validators (the templates add the error summary and the
``Error:`` title prefix)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, time
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from govuk_frontend_wtf.gov_form_base import GovFormBase
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovFileInput,
    GovPasswordInput,
    GovSelect,
    GovTextInput,
)
from wtforms import Field, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, StopValidation, ValidationError

from survey_app.dates import clock_time
from survey_app.texts import N_


def strip(value: Any) -> Any:
    """A filter: text without the spaces around it (other values as they are)."""
    return value.strip() if isinstance(value, str) else value


def no_control_characters(form: Any, field: Any) -> None:
    """A validator: no control characters but new lines and tabs."""
    if field.data and any(ord(ch) < 32 and ch not in "\n\r\t" for ch in field.data):
        raise ValidationError(
            _("%(question)s must not contain control characters", question=field.label.text)
        )


def localise_govuk_widgets() -> None:
    """Every GOV.UK form widget's error message gets its hidden "Error:" prefix in the page's
    language (the macros' English default otherwise): one wrap of the widgets' common
    ``render``, done once by ``web.init_app``."""
    if getattr(GovFormBase.render, "localised", False):
        return
    render = GovFormBase.render

    def localised(self: GovFormBase, params: dict[str, Any]) -> Any:
        error = params.get("errorMessage")
        if error:
            error.setdefault("visuallyHiddenText", _("Error"))
        return render(self, params)

    localised.localised = True  # type: ignore[attr-defined]
    GovFormBase.render = localised  # type: ignore[method-assign]


class _SpeaksThePageLanguage:
    """A GOV.UK widget whose own texts (its i18n parameters, ``TEXTS``) are in the page's
    language."""

    TEXTS: dict[str, str] = {}

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)  # type: ignore[misc]
        for key, text in self.TEXTS.items():
            params.setdefault(key, _(text))
        return params  # type: ignore[no-any-return]


class PasswordBox(_SpeaksThePageLanguage, GovPasswordInput):
    """GOV.UK password input whose "Show"/"Hide" button speaks the page's language."""

    TEXTS = {
        "showPasswordText": N_("Show"),
        "hidePasswordText": N_("Hide"),
        "showPasswordAriaLabelText": N_("Show password"),
        "hidePasswordAriaLabelText": N_("Hide password"),
        "passwordShownAnnouncementText": N_("Your password is visible"),
        "passwordHiddenAnnouncementText": N_("Your password is hidden"),
    }


class FileBox(_SpeaksThePageLanguage, GovFileInput):
    """GOV.UK file upload whose texts speak the page's language."""

    TEXTS = {
        "chooseFilesButtonText": N_("Choose file"),
        "noFileChosenText": N_("No file chosen"),
        "dropInstructionText": N_("or drop file"),
        "enteredDropZoneText": N_("Entered drop zone"),
        "leftDropZoneText": N_("Left drop zone"),
    }


class DateInput(GovDateInput):
    """GOV.UK date input whose first box (day) carries the field's id, so that the error
    summary's link lands in it; tolerant of tampered input (not three boxes)."""

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params = GovFormBase.map_gov_params(self, field, **kwargs)
        raw = field.raw_data if field.raw_data and len(field.raw_data) == 3 else None
        if raw is not None:
            day, month, year = raw
        elif field.data:
            day, month, year = str(field.data.day), str(field.data.month), str(field.data.year)
        else:
            day = month = year = ""
        error = " govuk-input--error" if field.errors else ""
        params["id"] = f"{field.id}-date"
        params.setdefault("fieldset", {"legend": {"text": field.label.text}})
        params["fieldset"].setdefault("legend", {}).setdefault(
            "classes", "govuk-fieldset__legend--s"
        )
        params["items"] = [
            {
                "label": _("Day"),
                "id": field.id,
                "name": field.name,
                "classes": "govuk-input--width-2" + error,
                "value": day,
            },
            {
                "label": _("Month"),
                "id": f"{field.id}-month",
                "name": field.name,
                "classes": "govuk-input--width-2" + error,
                "value": month,
            },
            {
                "label": _("Year"),
                "id": f"{field.id}-year",
                "name": field.name,
                "classes": "govuk-input--width-4" + error,
                "value": year,
            },
        ]
        return params


#: The message for each set of missing boxes of a date (two missing boxes are named together).
MUST_INCLUDE = {
    ("day",): N_("%(label)s must include a day"),
    ("month",): N_("%(label)s must include a month"),
    ("year",): N_("%(label)s must include a year"),
    ("day", "month"): N_("%(label)s must include a day and a month"),
    ("day", "year"): N_("%(label)s must include a day and a year"),
    ("month", "year"): N_("%(label)s must include a month and a year"),
}


class GovDateField(Field):
    """A date in three boxes (day, month, year) with the GOV.UK error messages
    ("Closing date must include a month", "Closing date must be a real date")."""

    widget = DateInput()

    def __init__(self, label: str, *, required_message: str | None = None, **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.required_message = required_message

    def _value(self) -> str:
        return self.data.strftime("%d %m %Y") if self.data else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        parts = [str(v).strip() for v in valuelist]
        if len(parts) != 3:
            self.data = None
            raise ValueError(_("%(label)s must be a real date", label=_named(self)))
        if not any(parts):
            self.data = None
            return
        missing = tuple(
            name for name, part in zip(("day", "month", "year"), parts, strict=True) if not part
        )
        if missing:
            self.data = None
            raise ValueError(_(MUST_INCLUDE[missing], label=_named(self)))
        if not all(part.isdigit() for part in parts):
            self.data = None
            raise ValueError(_("%(label)s must be a real date", label=_named(self)))
        if len(parts[2]) != 4:
            self.data = None
            raise ValueError(_("Year must include 4 numbers"))
        try:
            self.data = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            self.data = None
            raise ValueError(_("%(label)s must be a real date", label=_named(self))) from None

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()
        if self.data is None and self.required_message:
            raise StopValidation(self.required_message)


def not_in_the_past(form: Any, field: Any) -> None:
    if field.data is not None and field.data < date.today():
        raise ValidationError(_("%(label)s must be today or in the future", label=_named(field)))


class ListedSelectField(SelectField):
    """A select whose first option asks for a choice ("Select a dimension"), and whose answer
    must be one of the options :meth:`offer` lists after it ("Select one of the dimensions
    listed")."""

    widget = GovSelect()

    def __init__(
        self,
        label: str,
        *,
        prompt: str,
        required_message: str,
        invalid_message: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            label,
            choices=[],
            validate_choice=False,  # post_validate says it GOV.UK-style
            validators=[InputRequired(message=required_message)],
            **kwargs,
        )
        self.prompt = prompt
        self.invalid_message = invalid_message

    def offer(self, options: Iterable[tuple[str, str]]) -> None:
        """List ``options`` (value, text) after the prompt."""
        self.choices = [
            SelectChoice("", self.prompt),
            *(SelectChoice(value, text) for value, text in options),
        ]

    def post_validate(self, form: Any, validation_stopped: bool) -> None:
        if validation_stopped:
            return  # the answer is missing: InputRequired has said so
        if self.data not in {c.value for c in self.choices if c.value}:
            raise ValidationError(self.invalid_message)


def closing_date_field() -> GovDateField:
    """A wave's closing date: today or later."""
    return GovDateField(
        _l("Closing date"),
        description=_l("For example, 27 3 2013"),
        required_message=_l("Enter the closing date"),
        validators=[not_in_the_past],
    )


def text_field(
    label: str,
    *,
    required: str,
    max_length: int,
    too_long: str | None = None,
    checks: Iterable[Any] = (),
    field: type[Field] = StringField,
    widget: Any = None,
    **kwargs: Any,
) -> Any:
    """A required text, stripped of the spaces around it, of at most ``max_length``
    characters: ``required`` is the message when it is empty, ``too_long`` when it is longer
    (by default "<label> must be <max_length> characters or fewer"), and ``checks`` are its
    other validators."""
    return field(
        label,
        validators=[
            InputRequired(message=required),
            Length(
                max=max_length,
                message=too_long
                or _l(
                    "%(label)s must be %(max)s characters or fewer",
                    label=label,
                    max=format(max_length, ","),
                ),
            ),
            *checks,
        ],
        filters=[strip],
        widget=widget or GovTextInput(),
        **kwargs,
    )


def name_field(label: str, required: str, **kwargs: Any) -> StringField:
    """A required name of at most 200 characters (``required``: the message when empty)."""
    return text_field(
        label, required=required, max_length=200, checks=[no_control_characters], **kwargs
    )


# ---------------------------------------------------------------- times of day and schedules

_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?(am|pm|yb|yh)?$")


def parse_time_of_day(text: str) -> time | None:
    """A time of day as people write it: 9am, 9:30am, 5pm, 17:30, midday, midnight (or in
    Welsh, as the Welsh pages show it: 9yb, 5yh, canol dydd, hanner nos); None if it is not
    one. A bare hour without am or pm ("9") is ambiguous and refused."""
    text = re.sub(r"\s+", "", text.strip().lower())
    if text in ("midday", "noon", "12noon", "canoldydd", "hanerdydd"):
        return time(12)
    if text in ("midnight", "hannernos"):
        return time(0)
    match = _CLOCK.match(text)
    if match is None or (match[2] is None and match[3] is None):
        return None
    hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half in ("pm", "yh") else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _named(field: Any) -> str:
    """The field's label as an error message names it (without "(optional)")."""
    return str(field.label.text).removesuffix(" " + _("(optional)"))


class TimeOfDayField(StringField):
    """A time of day in one box ("9am", "17:30"); ``data`` is a :class:`~datetime.time` or
    None when left blank."""

    widget = GovTextInput()

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return clock_time(self.data) if self.data else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        self.data = None
        if not text:
            return
        parsed = parse_time_of_day(text)
        if parsed is None:
            raise ValueError(
                _("%(label)s must be a time, like 9am, 5:30pm or 17:30", label=_named(self))
            )
        self.data = parsed


#: The most days after opening a reminder may be sent.
MAX_REMINDER_DAY = 365


class ReminderDaysField(StringField):
    """Days after opening, separated by commas or spaces ("3, 7"); ``data`` is a sorted list
    of distinct whole numbers (empty when blank)."""

    widget = GovTextInput()

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return ", ".join(str(d) for d in self.data or [])

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        self.data = []
        parts = [p for p in re.split(r"[,\s]+", text) if p]
        if not all(p.isdigit() for p in parts) or len(text) > 200:
            raise ValueError(
                _(
                    "%(label)s must be whole numbers of days, separated by commas, like 3, 7",
                    label=_named(self),
                )
            )
        days = sorted({int(p) for p in parts})
        if days and not 1 <= days[0] <= days[-1] <= MAX_REMINDER_DAY:
            raise ValueError(
                _(
                    "%(label)s must be between 1 and %(max)s days after opening",
                    label=_named(self),
                    max=MAX_REMINDER_DAY,
                )
            )
        self.data = days
