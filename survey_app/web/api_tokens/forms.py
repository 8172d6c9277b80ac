"""The forms of the API tokens page: name a new token, its lifetime and reach; revoke one (the
CSRF token only)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import IntegerField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from survey_app.services.accounts import api_tokens
from survey_app.web.fields import ListedSelectField, text_field

#: The reach value meaning "everything the owner can see".
ALL = "all"
DAYS = f"Enter a number of days from 1 to {api_tokens.MAX_LIFETIME_DAYS}"


class NewTokenForm(FlaskForm):
    name = text_field(
        "Name the token",
        description="So that you can tell your tokens apart, for example “Power BI refresh”.",
        required="Enter a name for the token",
        max_length=api_tokens.NAME_MAX,
        too_long=f"Token name must be {api_tokens.NAME_MAX} characters or fewer",
    )
    days = IntegerField(
        "How many days should it work?",
        description=f"At most {api_tokens.MAX_LIFETIME_DAYS} (a year).",
        default=api_tokens.MAX_LIFETIME_DAYS,
        validators=[
            InputRequired(message=DAYS),
            NumberRange(min=1, max=api_tokens.MAX_LIFETIME_DAYS, message=DAYS),
        ],
        widget=GovTextInput(),
    )
    reach = ListedSelectField(
        "What may it read?",
        prompt="Select what the token may read",
        required_message="Select what the token may read",
        invalid_message="Select one of the choices listed",
        default=ALL,
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())


class RevokeForm(FlaskForm):
    """The CSRF token only: a link or an image cannot revoke anything."""
