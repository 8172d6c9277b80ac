"""The form of an action agreed on an alert or a dimension (GOV.UK widgets and messages)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovRadioInput,
    GovSubmitInput,
)
from wtforms import SelectChoice, SubmitField, TextAreaField
from wtforms.validators import InputRequired

from survey_app.forms.survey import ChoiceRadioField, character_count_texts
from survey_app.models import ACTION_STATUSES
from survey_app.web.fields import (
    GovDateField,
    ListedSelectField,
    name_field,
    no_control_characters,
    text_field,
)


class _CharacterCount(GovCharacterCount):
    """A GOV.UK character count whose own texts are in the page's language."""

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        return {**super().map_gov_params(field, **kwargs), **character_count_texts()}


class ActionForm(FlaskForm):
    dimension = ListedSelectField(
        _l("Dimension"),
        prompt=_l("Select a dimension"),
        required_message=_l("Select the dimension the action is about"),
        invalid_message=_l("Select one of the dimensions listed"),
    )
    what = text_field(
        _l("What will be done"),
        description=_l("The action both sides agreed, in a sentence or two."),
        required=_l("Enter what will be done"),
        max_length=2000,
        checks=[no_control_characters],
        field=TextAreaField,
        widget=_CharacterCount(),
    )
    owner = name_field(
        _l("Owner"),
        _l("Enter who owns the action"),
        description=_l("The person or team responsible, for example Head of ICT client team."),
    )
    due_on = GovDateField(
        _l("Due date"),
        description=_l("For example, 30 6 2013"),
        required_message=_l("Enter the due date"),
    )
    status = ChoiceRadioField(
        _l("Status"),
        choices=[SelectChoice(value, _l(label)) for value, label in ACTION_STATUSES.items()],
        default="open",
        validators=[InputRequired(message=_l("Select the status of the action"))],
        invalid_message=_l("Select one of the statuses listed"),
        widget=GovRadioInput(),
    )
    submit = SubmitField(_l("Save action"), widget=GovSubmitInput())

    def __init__(
        self,
        dimensions: list[tuple[str, str]],
        *,
        fixed_dimension: str | None = None,
        **kwargs: Any,
    ) -> None:
        """``fixed_dimension``: the dimension is the alert's or the existing action's; the page
        shows it rather than asking, so nothing is expected from the form for it."""
        super().__init__(**kwargs)
        self.dimension.offer(dimensions)
        if fixed_dimension is not None:
            self.dimension.data = fixed_dimension
            self.dimension.validators = []
            self.dimension.flags.required = False

    def terms(self) -> dict[str, Any]:
        """What will be done, by whom, by when, and how far it has got, as the services take
        them (``record_action``, ``update_action``)."""
        return {
            "what": self.what.data,
            "owner": self.owner.data,
            "due_on": self.due_on.data,
            "status": self.status.data,
        }
