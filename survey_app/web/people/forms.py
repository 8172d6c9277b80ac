"""The forms of the people pages, of a person's own password and of an organisation's
sign-in settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import PasswordField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp

from instruments import LANGUAGES
from survey_app.forms.survey import ChoiceRadioField, QuestionRadios
from survey_app.models import ROLES
from survey_app.services.accounts.links import MAX_PASSWORD
from survey_app.services.accounts.users import EMAIL
from survey_app.web import role_name
from survey_app.web.fields import ListedSelectField, PasswordBox, name_field, text_field

ENTRA_ISSUER = "https://login.microsoftonline.com/<tenant id>/v2.0"

#: The invitation's answer when the person's language is not known (emails in both languages).
NOT_KNOWN = "unknown"

EMAIL_FORMAT = _l("Enter an email address in the correct format, like name@example.com")


def email_field() -> object:
    return text_field(
        _l("Email address"),
        required=_l("Enter the email address"),
        max_length=254,
        checks=[Regexp(EMAIL.pattern, message=EMAIL_FORMAT)],
    )


def password_field(label: str, required: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            InputRequired(message=required),
            Length(
                max=MAX_PASSWORD,
                message=_l("The password must be %(max)s characters or fewer", max=MAX_PASSWORD),
            ),
        ],
        widget=PasswordBox(),
    )


def role_field(label: str) -> ListedSelectField:
    field = ListedSelectField(
        label,
        prompt=_l("Select a role"),
        required_message=_l("Select a role"),
        invalid_message=_l("Select one of the roles listed"),
    )
    return field


def language_field(
    label: str, *, not_known: str | None = None, description: str = ""
) -> ChoiceRadioField:
    """English or Cymraeg (each written in its own language); with ``not_known``, a third
    answer, chosen unless another is (an invitation posted without it goes in both)."""
    choices = [SelectChoice(code, name) for code, name in LANGUAGES.items()]
    if not_known is not None:
        choices.append(SelectChoice(NOT_KNOWN, not_known))
    return ChoiceRadioField(
        label,
        choices=choices,
        default=NOT_KNOWN if not_known is not None else None,
        validators=[] if not_known else [InputRequired(message=_l("Select a language"))],
        invalid_message=_l("Select one of the languages listed"),
        description=description,
        widget=QuestionRadios("govuk-fieldset__legend--m"),
    )


def role_choices() -> list[tuple[str, str]]:
    """The roles to choose from, named in the page's language."""
    return [(role, role_name(role)) for role in ROLES]


class InviteForm(FlaskForm):
    email = email_field()
    name = name_field(_l("Full name"), _l("Enter the person's name"))
    relationship = ListedSelectField(
        _l("Relationship"),
        prompt=_l("Select a relationship"),
        required_message=_l("Select a relationship"),
        invalid_message=_l("Select one of the relationships listed"),
    )
    role = role_field(_l("Role"))
    language = language_field(
        _l("Which language should their invitation and pages be in?"),
        not_known=_l("Not known: send the invitation in English and Welsh"),
    )
    submit = SubmitField(_l("Send invitation"), widget=GovSubmitInput())


class ButtonForm(FlaskForm):
    """The CSRF token only (switch an account off or on)."""


class ForgottenForm(FlaskForm):
    email = email_field()
    submit = SubmitField(_l("Send me a link"), widget=GovSubmitInput())


class NewPasswordForm(FlaskForm):
    password = password_field(_l("New password"), _l("Enter a new password"))
    confirmation = password_field(
        _l("Confirm the new password"), _l("Enter the new password again")
    )
    submit = SubmitField(_l("Set password"), widget=GovSubmitInput())


class ChangePasswordForm(NewPasswordForm):
    current = password_field(_l("Current password"), _l("Enter your current password"))
    submit = SubmitField(_l("Change password"), widget=GovSubmitInput())


class LanguageForm(FlaskForm):
    """A person's own language, for their pages and the emails sent to them."""

    language = language_field(
        _l("Which language do you want to use?"),
        description=_l("Your pages, and the emails this service sends you, will be in it."),
    )
    submit = SubmitField(_l("Save language"), widget=GovSubmitInput())


class LanguageSwitchForm(FlaskForm):
    """The header's language switch of a signed-in user: only its CSRF token is checked here
    (the language and the page to return to are the buttons' and hidden fields' values)."""


class ProviderForm(FlaskForm):
    """An organisation's OpenID Provider (see ``federated.configure_provider``)."""

    issuer = text_field(
        _l("Issuer"),
        required=_l("Enter the provider's issuer URL"),
        max_length=500,
        description=_l("For Entra ID: %(example)s", example=ENTRA_ISSUER),
    )
    client_id = text_field(_l("Client ID"), required=_l("Enter the client ID"), max_length=255)
    client_secret = PasswordField(
        _l("Client secret"),
        validators=[Optional(), Length(max=2000, message=_l("The client secret is too long"))],
        description=_l("Leave empty to keep the secret already stored. It is stored encrypted."),
        widget=PasswordBox(),
    )
    domains = text_field(
        _l("Allowed email domains"),
        required=_l("Enter at least one email domain"),
        max_length=2000,
        field=TextAreaField,
        widget=GovTextArea(),
        description=_l("One per line. Only verified email addresses of these domains may sign in."),
    )
    groups = TextAreaField(
        _l("Groups and the roles they give"),
        validators=[Optional(), Length(max=5000, message=_l("List fewer groups"))],
        description=_l(
            "One per line, as GROUP=ROLE (admin, manager or reviewer), on every "
            "relationship the organisation is a party to."
        ),
        widget=GovTextArea(),
    )
    local_passwords = ChoiceRadioField(
        _l("Can its staff also sign in with a password?"),
        choices=[
            SelectChoice("yes", _l("Yes")),
            SelectChoice("no", _l("No, only through the provider")),
        ],
        default="yes",
        validators=[InputRequired(message=_l("Select whether passwords are still allowed"))],
        invalid_message=_l("Select whether passwords are still allowed"),
        widget=QuestionRadios(),
    )
    admin_mfa = StringField(
        _l("Claim an admin's sign-in must carry (optional)"),
        validators=[Optional(), Length(max=100, message=_l("The claim is too long"))],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        description=_l("An amr value such as mfa, or an acr. Empty: trust the provider's policy."),
        widget=GovTextInput(),
    )
    submit = SubmitField(_l("Save sign-in settings"), widget=GovSubmitInput())
