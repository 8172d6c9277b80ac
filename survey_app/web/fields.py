"""Form fields and validators shared by the blueprints' forms: GOV.UK widgets on the fields,
GOV.UK error messages in the validators (the templates add the error summary and the
``Error:`` title prefix)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from govuk_frontend_wtf.gov_form_base import GovFormBase
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSelect, GovTextInput
from wtforms import Field, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, StopValidation, ValidationError


def strip(value: Any) -> Any:
    """A filter: text without the spaces around it (other values as they are)."""
    return value.strip() if isinstance(value, str) else value


def no_control_characters(form: Any, field: Any) -> None:
    """A validator: no control characters but new lines and tabs."""
    if field.data and any(ord(ch) < 32 and ch not in "\n\r\t" for ch in field.data):
        raise ValidationError(f"{field.label.text} must not contain control characters")


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
                "label": "Day",
                "id": field.id,
                "name": field.name,
                "classes": "govuk-input--width-2" + error,
                "value": day,
            },
            {
                "label": "Month",
                "id": f"{field.id}-month",
                "name": field.name,
                "classes": "govuk-input--width-2" + error,
                "value": month,
            },
            {
                "label": "Year",
                "id": f"{field.id}-year",
                "name": field.name,
                "classes": "govuk-input--width-4" + error,
                "value": year,
            },
        ]
        return params


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
            raise ValueError(f"{self.label.text} must be a real date")
        if not any(parts):
            self.data = None
            return
        missing = [
            name for name, part in zip(("day", "month", "year"), parts, strict=True) if not part
        ]
        if missing:
            self.data = None
            raise ValueError(f"{self.label.text} must include a {' and a '.join(missing)}")
        if not all(part.isdigit() for part in parts):
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date")
        if len(parts[2]) != 4:
            self.data = None
            raise ValueError("Year must include 4 numbers")
        try:
            self.data = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text} must be a real date") from None

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()
        if self.data is None and self.required_message:
            raise StopValidation(self.required_message)


def not_in_the_past(form: Any, field: Any) -> None:
    if field.data is not None and field.data < date.today():
        raise ValidationError(f"{field.label.text} must be today or in the future")


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


def closing_date_field(label: str) -> GovDateField:
    """A wave's closing date: today or later."""
    return GovDateField(
        label,
        description="For example, 27 3 2013",
        required_message=f"Enter the {label.lower()}",
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
                message=too_long or f"{label} must be {max_length:,} characters or fewer",
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
