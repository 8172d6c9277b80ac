"""The upload form for historical responses (GOV.UK file upload, select and text input)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from survey_app.services.waves import LABEL
from survey_app.web.fields import FileBox


class ImportForm(FlaskForm):
    relationship = SelectField(
        _l("Relationship"),
        choices=[],
        coerce=str,
        validators=[InputRequired(message=_l("Select the relationship the responses belong to"))],
        widget=GovSelect(),
    )
    wave = StringField(
        _l("Wave (optional)"),
        description=_l(
            "Import only this wave’s rows, for example 2011-Q3. Leave blank to import every "
            "wave in the file."
        ),
        validators=[
            Optional(),
            Length(max=40, message=_l("Wave must be 40 characters or fewer")),
            Regexp(
                LABEL.pattern,
                message=_l(
                    "Wave must be letters, digits, spaces, dots, dashes or underscores, "
                    "like 2011-Q3"
                ),
            ),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        widget=GovTextInput(),
    )
    file = FileField(
        _l("Upload a file"),
        description=_l("A CSV UTF-8 or Excel (.xlsx) file in the responses layout."),
        validators=[FileRequired(message=_l("Select a CSV or Excel file"))],
        widget=FileBox(),
    )
    submit = SubmitField(_l("Import responses"), widget=GovSubmitInput())

    def __init__(self, relationships: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.relationship.choices = [("", _("Select a relationship")), *relationships]
