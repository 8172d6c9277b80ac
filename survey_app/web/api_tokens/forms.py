"""The forms of the API tokens page: name a new token, its lifetime and reach; revoke one (the
CSRF token only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import IntegerField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from survey_app.services.accounts import api_tokens
from survey_app.texts import N_
from survey_app.web.fields import ListedSelectField, text_field

#: The reach value meaning "everything the owner can see".
ALL = "all"
DAYS = _l("Enter a number of days from 1 to %(max)s", max=api_tokens.MAX_LIFETIME_DAYS)
#: WTForms' own message for a number that is not one, translated through our catalogue.
N_("Not a valid integer value.")


class NewTokenForm(FlaskForm):
    name = text_field(
        _l("Name the token"),
        description=_l("So that you can tell your tokens apart, for example “Power BI refresh”."),
        required=_l("Enter a name for the token"),
        max_length=api_tokens.NAME_MAX,
        too_long=_l("Token name must be %(max)s characters or fewer", max=api_tokens.NAME_MAX),
    )
    days = IntegerField(
        _l("How many days should it work?"),
        description=_l("At most %(max)s (a year).", max=api_tokens.MAX_LIFETIME_DAYS),
        default=api_tokens.MAX_LIFETIME_DAYS,
        validators=[
            InputRequired(message=DAYS),
            NumberRange(min=1, max=api_tokens.MAX_LIFETIME_DAYS, message=DAYS),
        ],
        widget=GovTextInput(),
    )
    reach = ListedSelectField(
        _l("What may it read?"),
        prompt=_l("Select what the token may read"),
        required_message=_l("Select what the token may read"),
        invalid_message=_l("Select one of the choices listed"),
        default=ALL,
    )
    submit = SubmitField(_l("Create token"), widget=GovSubmitInput())


class RevokeForm(FlaskForm):
    """The CSRF token only: a link or an image cannot revoke anything."""
