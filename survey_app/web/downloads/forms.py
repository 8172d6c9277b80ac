"""The wave chooser of a relationship's downloads page (a GET form: no CSRF token needed)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField, ValidationError

ALL_WAVES = ""
NOT_A_WAVE = _l("Select a closed wave, or all closed waves")


class WaveChoiceForm(FlaskForm):
    class Meta:
        csrf = False  # it only changes which links the page shows

    # validate_choice=False: WTForms' own message ("Not a valid choice.") is not GOV.UK's
    # style; validate_wave says what to do instead.
    wave = SelectField(_l("Which waves"), choices=[], widget=GovSelect(), validate_choice=False)
    submit = SubmitField(_l("Show downloads"), widget=GovSubmitInput())

    def __init__(self, wave_labels: list[str], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.wave.choices = [(ALL_WAVES, _l("All closed waves"))] + [
            (label, label) for label in reversed(wave_labels)
        ]

    def validate_wave(self, field: SelectField) -> None:
        if field.data not in {value for value, _ in field.choices}:
            raise ValidationError(NOT_A_WAVE)
