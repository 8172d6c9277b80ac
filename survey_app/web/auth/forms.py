"""The sign-in form (GOV.UK text and password inputs; messages written as GOV.UK asks)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput
from wtforms import PasswordField, SubmitField
from wtforms.validators import InputRequired, Length, Regexp

from survey_app.services.accounts.users import EMAIL
from survey_app.web.fields import text_field

MAX_PASSWORD = 1024


class SignInForm(FlaskForm):
    email = text_field(
        "Email address",
        required="Enter your email address",
        max_length=254,
        checks=[
            Regexp(
                EMAIL.pattern,
                message="Enter an email address in the correct format, like name@example.com",
            )
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            InputRequired(message="Enter your password"),
            Length(
                max=MAX_PASSWORD, message=f"Password must be {MAX_PASSWORD:,} characters or fewer"
            ),
        ],
        widget=GovPasswordInput(),
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())
