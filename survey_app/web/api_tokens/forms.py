"""The forms of the API tokens page: name a new token; revoke one (the CSRF token only)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from survey_app.services.accounts import api_tokens
from survey_app.web.fields import text_field


class NewTokenForm(FlaskForm):
    name = text_field(
        "Name the token",
        description="So that you can tell your tokens apart, for example “Power BI refresh”.",
        required="Enter a name for the token",
        max_length=api_tokens.NAME_MAX,
        too_long=f"Token name must be {api_tokens.NAME_MAX} characters or fewer",
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())


class RevokeForm(FlaskForm):
    """The CSRF token only: a link or an image cannot revoke anything."""
