"""The forms of the people pages and of a person's own password."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput
from wtforms import PasswordField, SubmitField
from wtforms.validators import InputRequired, Length, Regexp

from survey_app.models import ROLES
from survey_app.services.accounts.links import MAX_PASSWORD
from survey_app.services.accounts.users import EMAIL
from survey_app.web.fields import ListedSelectField, name_field, text_field

EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"


def email_field() -> object:
    return text_field(
        "Email address",
        required="Enter the email address",
        max_length=254,
        checks=[Regexp(EMAIL.pattern, message=EMAIL_FORMAT)],
    )


def password_field(label: str, required: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            InputRequired(message=required),
            Length(
                max=MAX_PASSWORD, message=f"{label} must be {MAX_PASSWORD:,} characters or fewer"
            ),
        ],
        widget=GovPasswordInput(),
    )


def role_field(label: str) -> ListedSelectField:
    field = ListedSelectField(
        label,
        prompt="Select a role",
        required_message="Select a role",
        invalid_message="Select one of the roles listed",
    )
    return field


ROLE_CHOICES = [(role, role.capitalize()) for role in ROLES]


class InviteForm(FlaskForm):
    email = email_field()
    name = name_field("Full name", "Enter the person's name")
    relationship = ListedSelectField(
        "Relationship",
        prompt="Select a relationship",
        required_message="Select a relationship",
        invalid_message="Select one of the relationships listed",
    )
    role = role_field("Role")
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


class ButtonForm(FlaskForm):
    """The CSRF token only (switch an account off or on)."""


class ForgottenForm(FlaskForm):
    email = email_field()
    submit = SubmitField("Send me a link", widget=GovSubmitInput())


class NewPasswordForm(FlaskForm):
    password = password_field("New password", "Enter a new password")
    confirmation = password_field("Confirm the new password", "Enter the new password again")
    submit = SubmitField("Set password", widget=GovSubmitInput())


class ChangePasswordForm(NewPasswordForm):
    current = password_field("Current password", "Enter your current password")
    submit = SubmitField("Change password", widget=GovSubmitInput())
