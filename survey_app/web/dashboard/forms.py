"""The dashboard's filters: side, service area and role level (a GET form: no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput
from wtforms import RadioField, SelectField, SubmitField

from survey_app.models import ROLE_LEVELS, Relationship
from survey_app.services.dashboard import area_choices


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # it only narrows what the page shows

    side = RadioField(
        _l("Whose answers"),
        choices=[],
        default="",
        widget=GovRadioInput(),
        validate_choice=True,
    )
    area = SelectField(_l("Service area"), choices=[], default="", widget=GovSelect())
    role_level = SelectField(_l("Role level"), choices=[], default="", widget=GovSelect())
    submit = SubmitField(_l("Apply filters"), widget=GovSubmitInput())

    def __init__(self, relationship: Relationship, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        names = {p.side: p.name for p in relationship.parties}
        self.side.choices = [
            ("", _l("Both sides")),
            ("client", _l("Client staff (%(party)s)", party=names.get("client", _l("client")))),
            (
                "supplier",
                _l("Supplier staff (%(party)s)", party=names.get("supplier", _l("supplier"))),
            ),
        ]
        self.area.choices = [("", _l("All service areas")), *area_choices(relationship)]
        self.role_level.choices = [
            ("", _l("All role levels")),
            *((key, _l(label)) for key, label in ROLE_LEVELS.items()),
        ]

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        ok = super().validate(extra_validators)
        messages = {
            "side": _l("Select whose answers to show"),
            "area": _l("Select a service area from the list"),
            "role_level": _l("Select a role level from the list"),
        }
        for name, message in messages.items():
            field = self[name]
            if field.errors:
                field.errors = [message]
        return ok
