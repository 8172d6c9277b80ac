"""The wave chooser of a relationship's downloads page (a GET form: no CSRF token needed)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField

ALL_WAVES = ""


class WaveChoiceForm(FlaskForm):
    class Meta:
        csrf = False  # it only changes which links the page shows

    wave = SelectField("Which waves", choices=[], widget=GovSelect(), validate_choice=True)
    submit = SubmitField("Show downloads", widget=GovSubmitInput())

    def __init__(self, wave_labels: list[str], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.wave.choices = [(ALL_WAVES, "All closed waves")] + [
            (label, label) for label in reversed(wave_labels)
        ]
