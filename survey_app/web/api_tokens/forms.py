"""The forms of the API tokens page: name a new token; revoke one (the CSRF token only)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length

from survey_app.services.accounts import api_tokens
from survey_app.web.fields import strip


class NewTokenForm(FlaskForm):
    name = StringField(
        "Name the token",
        description="So that you can tell your tokens apart, for example “Power BI refresh”.",
        validators=[
            InputRequired(message="Enter a name for the token"),
            Length(
                max=api_tokens.NAME_MAX,
                message=f"Token name must be {api_tokens.NAME_MAX} characters or fewer",
            ),
        ],
        filters=[strip],
        widget=GovTextInput(),
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())


class RevokeForm(FlaskForm):
    """The CSRF token only: a link or an image cannot revoke anything."""
