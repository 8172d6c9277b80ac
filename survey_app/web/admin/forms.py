"""Forms of the admin pages: relationships, service areas, waves, staff lists, and the button
that confirms a change (GOV.UK widgets; the shared fields are in :mod:`survey_app.web.fields`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovSubmitInput,
    GovTextArea,
)
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length, Regexp, ValidationError

from survey_app.dates import end_of_day, to_local, to_utc
from survey_app.services.waves import LABEL
from survey_app.web.fields import (
    FileBox,
    GovDateField,
    ListedSelectField,
    ReminderDaysField,
    TimeOfDayField,
    closing_date_field,
    name_field,
    no_control_characters,
    text_field,
)

# ============================================================================ relationships


class RelationshipEditForm(FlaskForm):
    name = name_field(
        _l("Name of the relationship"),
        _l("Enter the name of the relationship"),
        description=_l("For example, Birmingham City Council — Service Birmingham"),
    )
    client = name_field(
        _l("Client (the public body)"),
        _l("Enter the name of the client"),
        description=_l("For example, Birmingham City Council"),
    )
    supplier = name_field(
        _l("Supplier"),
        _l("Enter the name of the supplier"),
        description=_l("For example, Service Birmingham"),
    )
    submit = SubmitField(_l("Save changes"), widget=GovSubmitInput())

    def validate_supplier(self, field: Any) -> None:
        if field.data and self.client.data and field.data == self.client.data:
            raise ValidationError(_("The supplier must be a different party from the client"))


class RelationshipForm(RelationshipEditForm):
    service_areas = TextAreaField(
        _l("Service areas (optional)"),
        description=_l(
            "One per line, for example Core ICT infrastructure. You can add more later."
        ),
        validators=[
            Length(max=10_000, message=_l("Service areas must be 10,000 characters or fewer")),
            no_control_characters,
        ],
        widget=GovTextArea(),
    )
    submit = SubmitField(_l("Create relationship"), widget=GovSubmitInput())

    def validate_service_areas(self, field: Any) -> None:
        seen: set[str] = set()
        for line in self.area_names():
            if len(line) > 200:
                raise ValidationError(_("Each service area must be 200 characters or fewer"))
            if line.casefold() in seen:
                raise ValidationError(_("Service area ‘%(name)s’ is listed twice", name=line))
            seen.add(line.casefold())

    def area_names(self) -> list[str]:
        return [
            line.strip() for line in (self.service_areas.data or "").splitlines() if line.strip()
        ]


class ServiceAreaForm(FlaskForm):
    name = name_field(_l("Name of the service area"), _l("Enter the name of the service area"))
    submit = SubmitField(_l("Save"), widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token (the template gives its text). A refusal is
    shown in the error summary without a link: it is no field's problem."""

    errors_unlinked = True
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


# =================================================================================== waves


class WaveForm(FlaskForm):
    label = text_field(
        _l("Wave label"),
        description=_l(
            "For example, 2013-Q1. Letters, digits, spaces, dots, dashes or underscores."
        ),
        required=_l("Enter a label for the wave"),
        max_length=40,
        checks=[
            Regexp(
                LABEL.pattern,
                message=_l(
                    "Wave label must start with a letter or digit and use only letters, "
                    "digits, spaces, dots, dashes or underscores, like 2013-Q1"
                ),
            )
        ],
    )
    instrument = ListedSelectField(
        _l("Questionnaire"),
        prompt=_l("Select a questionnaire"),
        required_message=_l("Select the questionnaire version for the wave"),
        invalid_message=_l("Select one of the questionnaire versions listed"),
    )
    closes_on = closing_date_field()
    submit = SubmitField(_l("Create wave"), widget=GovSubmitInput())

    def __init__(self, instruments: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.instrument.offer(instruments)
        if len(instruments) == 1 and not self.is_submitted():
            self.instrument.data = instruments[0][0]  # the only one there is, chosen already


class ScheduleForm(FlaskForm):
    """A wave's schedule, on the organisation's clock: opening (a draft wave only; blank: the
    admin opens it), closing (a date, and a time or the end of the day) and reminder days."""

    opens_on = GovDateField(
        _l("Opening date (optional)"),
        description=_l("Leave blank to open the wave yourself. For example, 27 3 2013"),
    )
    opens_time = TimeOfDayField(
        _l("Opening time (optional)"), description=_l("For example, 9am or 17:30. Blank: midnight.")
    )
    closes_on = closing_date_field()
    closes_time = TimeOfDayField(
        _l("Closing time (optional)"),
        description=_l(
            "For example, 5pm or 17:00. Blank: midnight at the end of the closing date."
        ),
    )
    reminder_days = ReminderDaysField(
        _l("Reminder days (optional)"),
        description=_l(
            "Days after opening on which everyone who has not submitted is reminded, "
            "separated by commas, for example 3, 7"
        ),
    )
    submit = SubmitField(_l("Save schedule"), widget=GovSubmitInput())

    @classmethod
    def of(cls, wave: Any) -> ScheduleForm:
        """The form, filled in with the wave's schedule (on a GET)."""
        opens = _day_and_time(wave.opens_at, end=False)
        closes = _day_and_time(wave.closes_at, end=True)
        return cls(
            data={
                "opens_on": opens[0],
                "opens_time": opens[1],
                "closes_on": closes[0],
                "closes_time": closes[1],
                "reminder_days": wave.reminder_days or [],
            }
        )

    def validate_opens_time(self, field: Any) -> None:
        if field.data is not None and self.opens_on.data is None:
            raise ValidationError(_("Enter the opening date, or leave the opening time blank"))

    def opens_at(self) -> datetime | None:
        """The opening time as stored (UTC), or None."""
        day = self.opens_on.data
        return to_utc(datetime.combine(day, self.opens_time.data or time())) if day else None

    def closes_at(self) -> datetime:
        """The closing time as stored (UTC)."""
        day, at = self.closes_on.data, self.closes_time.data
        return to_utc(datetime.combine(day, at)) if at is not None else end_of_day(day)


def _day_and_time(stored: datetime | None, *, end: bool) -> tuple[date | None, time | None]:
    """A stored time as the form's day and time boxes (midnight: a blank time; for a closing
    time, the day that midnight ends)."""
    if stored is None:
        return None, None
    local = to_local(stored)
    if local.time() != time():
        return local.date(), local.time()
    return (local.date() - timedelta(days=1) if end else local.date()), None


class StaffListForm(FlaskForm):
    file = FileField(
        _l("Upload a staff list"),
        description=_l(
            "A CSV UTF-8 or Excel (.xlsx) file with the columns email, party and "
            "(optionally) service area and language."
        ),
        validators=[FileRequired(message=_l("Select a CSV or Excel file"))],
        widget=FileBox(),
    )
    submit = SubmitField(_l("Upload staff list"), widget=GovSubmitInput())
