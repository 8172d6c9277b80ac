"""The sign-in form (GOV.UK text and password inputs; messages written as GOV.UK asks)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import PasswordField, SubmitField
from wtforms.validators import InputRequired, Length, Regexp

from survey_app.services.accounts.users import EMAIL
from survey_app.web.fields import PasswordBox, text_field

MAX_PASSWORD = 1024


class SignInForm(FlaskForm):
    email = text_field(
        _l("Email address"),
        required=_l("Enter your email address"),
        max_length=254,
        checks=[
            Regexp(
                EMAIL.pattern,
                message=_l("Enter an email address in the correct format, like name@example.com"),
            )
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(message=_l("Enter your password")),
            Length(
                max=MAX_PASSWORD,
                message=_l("The password must be %(max)s characters or fewer", max=MAX_PASSWORD),
            ),
        ],
        widget=PasswordBox(),
    )
    submit = SubmitField(_l("Sign in"), widget=GovSubmitInput())
