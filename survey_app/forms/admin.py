"""Forms of the admin and action pages: GOV.UK widgets on the fields, GOV.UK error messages in
the validators (the templates add the error summary and the ``Error:`` title prefix)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.gov_form_base import GovFormBase
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovDateInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import Field, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Regexp, StopValidation, ValidationError

from survey_app.forms.survey import ChoiceRadioField
from survey_app.models import ACTION_STATUSES
from survey_app.services.waves import LABEL


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _no_control_characters(form: Any, field: Any) -> None:
    if field.data and any(ord(ch) < 32 and ch not in "\n\r\t" for ch in field.data):
        raise ValidationError(f"{field.label.text} must not contain control characters")


# ==================================================================================== dates


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


# ============================================================================ relationships


def _name_field(label: str, required: str, **kwargs: Any) -> StringField:
    return StringField(
        label,
        validators=[
            InputRequired(message=required),
            Length(max=200, message=f"{label} must be 200 characters or fewer"),
            _no_control_characters,
        ],
        filters=[_strip],
        widget=GovTextInput(),
        **kwargs,
    )


class RelationshipEditForm(FlaskForm):
    name = _name_field(
        "Name of the relationship",
        "Enter the name of the relationship",
        description="For example, Birmingham City Council — Service Birmingham",
    )
    client = _name_field(
        "Client (the public body)",
        "Enter the name of the client",
        description="For example, Birmingham City Council",
    )
    supplier = _name_field(
        "Supplier",
        "Enter the name of the supplier",
        description="For example, Service Birmingham",
    )
    submit = SubmitField("Save changes", widget=GovSubmitInput())

    def validate_supplier(self, field: Any) -> None:
        if field.data and self.client.data and field.data == self.client.data:
            raise ValidationError("The supplier must be a different party from the client")


class RelationshipForm(RelationshipEditForm):
    service_areas = TextAreaField(
        "Service areas (optional)",
        description="One per line, for example Core ICT infrastructure. You can add more later.",
        validators=[
            Length(max=10_000, message="Service areas must be 10,000 characters or fewer"),
            _no_control_characters,
        ],
        widget=GovTextArea(),
    )
    submit = SubmitField("Create relationship", widget=GovSubmitInput())

    def validate_service_areas(self, field: Any) -> None:
        seen: set[str] = set()
        for line in self.area_names():
            if len(line) > 200:
                raise ValidationError("Each service area must be 200 characters or fewer")
            if line.casefold() in seen:
                raise ValidationError(f"Service area ‘{line}’ is listed twice")
            seen.add(line.casefold())

    def area_names(self) -> list[str]:
        return [
            line.strip() for line in (self.service_areas.data or "").splitlines() if line.strip()
        ]


class ServiceAreaForm(FlaskForm):
    name = _name_field("Name of the service area", "Enter the name of the service area")
    submit = SubmitField("Save", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token (the template gives its text). A refusal is
    shown in the error summary without a link: it is no field's problem."""

    errors_unlinked = True
    submit = SubmitField("Continue", widget=GovSubmitInput())


# =================================================================================== waves


class WaveForm(FlaskForm):
    label = StringField(
        "Wave label",
        description="For example, 2013-Q1. Letters, digits, spaces, dots, dashes or underscores.",
        validators=[
            InputRequired(message="Enter a label for the wave"),
            Length(max=40, message="Wave label must be 40 characters or fewer"),
            Regexp(
                LABEL.pattern,
                message="Wave label must start with a letter or digit and use only letters, "
                "digits, spaces, dots, dashes or underscores, like 2013-Q1",
            ),
        ],
        filters=[_strip],
        widget=GovTextInput(),
    )
    instrument = SelectField(
        "Questionnaire",
        choices=[],
        validate_choice=False,  # validate_instrument says it GOV.UK-style
        validators=[InputRequired(message="Select the questionnaire version for the wave")],
        widget=GovSelect(),
    )
    closes_on = GovDateField(
        "Closing date",
        description="For example, 27 3 2013",
        required_message="Enter the closing date",
        validators=[not_in_the_past],
    )
    submit = SubmitField("Create wave", widget=GovSubmitInput())

    def __init__(self, instruments: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.instrument.choices = [
            SelectChoice("", "Select a questionnaire"),
            *(SelectChoice(value, label) for value, label in instruments),
        ]

    def validate_instrument(self, field: Any) -> None:
        if field.data not in {c.value for c in self.instrument.choices if c.value}:
            raise ValidationError("Select one of the questionnaire versions listed")


class ExtendWaveForm(FlaskForm):
    closes_on = GovDateField(
        "New closing date",
        description="For example, 27 3 2013",
        required_message="Enter the new closing date",
        validators=[not_in_the_past],
    )
    submit = SubmitField("Change closing date", widget=GovSubmitInput())


class StaffListForm(FlaskForm):
    file = FileField(
        "Upload a staff list",
        description="A CSV UTF-8 or Excel (.xlsx) file with the columns email, party and "
        "(optionally) service area.",
        validators=[FileRequired(message="Select a CSV or Excel file")],
        widget=GovFileInput(),
    )
    submit = SubmitField("Upload staff list", widget=GovSubmitInput())


# ================================================================================= actions


class ActionForm(FlaskForm):
    dimension = SelectField(
        "Dimension",
        choices=[],
        validate_choice=False,  # validate_dimension says it GOV.UK-style
        validators=[InputRequired(message="Select the dimension the action is about")],
        widget=GovSelect(),
    )
    what = TextAreaField(
        "What will be done",
        description="The action both sides agreed, in a sentence or two.",
        validators=[
            InputRequired(message="Enter what will be done"),
            Length(max=2000, message="What will be done must be 2,000 characters or fewer"),
            _no_control_characters,
        ],
        filters=[_strip],
        widget=GovCharacterCount(),
    )
    owner = _name_field(
        "Owner",
        "Enter who owns the action",
        description="The person or team responsible, for example Head of ICT client team.",
    )
    due_on = GovDateField(
        "Due date",
        description="For example, 30 6 2013",
        required_message="Enter the due date",
    )
    status = ChoiceRadioField(
        "Status",
        choices=[SelectChoice(value, label) for value, label in ACTION_STATUSES.items()],
        default="open",
        validators=[InputRequired(message="Select the status of the action")],
        invalid_message="Select one of the statuses listed",
        widget=GovRadioInput(),
    )
    submit = SubmitField("Save action", widget=GovSubmitInput())

    def __init__(
        self,
        dimensions: list[tuple[str, str]],
        *,
        fixed_dimension: str | None = None,
        **kwargs: Any,
    ) -> None:
        """``fixed_dimension``: the dimension is the alert's or the existing action's; the page
        shows it rather than asking, so nothing is expected from the form for it."""
        super().__init__(**kwargs)
        self.dimension.choices = [
            SelectChoice("", "Select a dimension"),
            *(SelectChoice(value, label) for value, label in dimensions),
        ]
        if fixed_dimension is not None:
            self.dimension.data = fixed_dimension
            self.dimension.validators = []
            self.dimension.flags.required = False

    def validate_dimension(self, field: Any) -> None:
        if field.data not in {c.value for c in self.dimension.choices if c.value}:
            raise ValidationError("Select one of the dimensions listed")
