"""The sign-in form (GOV.UK text and password inputs; messages written as GOV.UK asks)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Regexp

from survey_app.services.accounts.users import EMAIL
from survey_app.web.fields import strip

MAX_PASSWORD = 1024


class SignInForm(FlaskForm):
    email = StringField(
        "Email address",
        validators=[
            InputRequired(message="Enter your email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            Regexp(
                EMAIL.pattern,
                message="Enter an email address in the correct format, like name@example.com",
            ),
        ],
        filters=[strip],
        widget=GovTextInput(),
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
