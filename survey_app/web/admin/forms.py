"""Forms of the admin pages: relationships, service areas, waves, staff lists, and the button
that confirms a change (GOV.UK widgets; the shared fields are in :mod:`survey_app.web.fields`)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovSubmitInput,
    GovTextArea,
)
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length, Regexp, ValidationError

from survey_app.services.waves import LABEL
from survey_app.web.fields import (
    ListedSelectField,
    closing_date_field,
    name_field,
    no_control_characters,
    text_field,
)

# ============================================================================ relationships


class RelationshipEditForm(FlaskForm):
    name = name_field(
        "Name of the relationship",
        "Enter the name of the relationship",
        description="For example, Birmingham City Council — Service Birmingham",
    )
    client = name_field(
        "Client (the public body)",
        "Enter the name of the client",
        description="For example, Birmingham City Council",
    )
    supplier = name_field(
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
            no_control_characters,
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
    name = name_field("Name of the service area", "Enter the name of the service area")
    submit = SubmitField("Save", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token (the template gives its text). A refusal is
    shown in the error summary without a link: it is no field's problem."""

    errors_unlinked = True
    submit = SubmitField("Continue", widget=GovSubmitInput())


# =================================================================================== waves


class WaveForm(FlaskForm):
    label = text_field(
        "Wave label",
        description="For example, 2013-Q1. Letters, digits, spaces, dots, dashes or underscores.",
        required="Enter a label for the wave",
        max_length=40,
        checks=[
            Regexp(
                LABEL.pattern,
                message="Wave label must start with a letter or digit and use only letters, "
                "digits, spaces, dots, dashes or underscores, like 2013-Q1",
            )
        ],
    )
    instrument = ListedSelectField(
        "Questionnaire",
        prompt="Select a questionnaire",
        required_message="Select the questionnaire version for the wave",
        invalid_message="Select one of the questionnaire versions listed",
    )
    closes_on = closing_date_field("Closing date")
    submit = SubmitField("Create wave", widget=GovSubmitInput())

    def __init__(self, instruments: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.instrument.offer(instruments)
        if len(instruments) == 1 and not self.is_submitted():
            self.instrument.data = instruments[0][0]  # the only one there is, chosen already


class ExtendWaveForm(FlaskForm):
    closes_on = closing_date_field("New closing date")
    submit = SubmitField("Change closing date", widget=GovSubmitInput())


class StaffListForm(FlaskForm):
    file = FileField(
        "Upload a staff list",
        description="A CSV UTF-8 or Excel (.xlsx) file with the columns email, party and "
        "(optionally) service area and language.",
        validators=[FileRequired(message="Select a CSV or Excel file")],
        widget=GovFileInput(),
    )
    submit = SubmitField("Upload staff list", widget=GovSubmitInput())
