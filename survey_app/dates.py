"""Dates and times as the service writes them to people (GOV.UK style: 5 March 2013, 5:30pm),
for pages, emails and reports alike, on the organisation's clock, in the reader's language (the
month names and the words are marked for translation: 5 Mawrth 2013, 5:30yh in Welsh)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import gettext as _

from survey_app.texts import N_

MONTHS = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)


def gov_uk_date(value: date | None) -> str:
    """``value`` (a date, or the date of a datetime) as GOV.UK writes it: 5 March 2013; ``""``
    for none. The month is in the language of the page or email (``gettext``)."""
    return f"{value.day} {_(MONTHS[value.month - 1])} {value.year}" if value else ""


# ------------------------------------------------------------------ the organisation's clock
#
# Times are stored in UTC (naive ``datetime`` columns) and entered and shown in the
# organisation's time zone, the ``TIME_ZONE`` setting (Europe/London by default), so that a
# wave closing "at 5pm on 27 March" closes at 5pm on the council's clocks, summer time or not.

DEFAULT_TIME_ZONE = "Europe/London"


def utcnow() -> datetime:
    """Now as every timestamp is stored: naive UTC (a module that imports this name can have it
    replaced in a test, to move that module's clock)."""
    return datetime.now(UTC).replace(tzinfo=None)


def time_zone_name() -> str:
    if not has_app_context():
        return DEFAULT_TIME_ZONE
    return str(current_app.config.get("TIME_ZONE", DEFAULT_TIME_ZONE))


def local_zone() -> ZoneInfo:
    """The organisation's time zone (``TIME_ZONE``)."""
    return ZoneInfo(time_zone_name())


def zone_label() -> str:
    """How pages name the time zone: "UK time" for Europe/London, else the zone's name."""
    name = time_zone_name()
    return _("UK time") if name == DEFAULT_TIME_ZONE else _("%(zone)s time", zone=name)


def to_utc(local: datetime) -> datetime:
    """A wall-clock time in the organisation's zone (naive) as stored: naive UTC."""
    return local.replace(tzinfo=local_zone()).astimezone(UTC).replace(tzinfo=None)


def to_local(stored: datetime) -> datetime:
    """A stored (naive UTC) time on the organisation's clock (aware)."""
    return stored.replace(tzinfo=UTC).astimezone(local_zone())


def end_of_day(day: date) -> datetime:
    """The stored time at which ``day`` ends on the organisation's clock (the next midnight)."""
    return to_utc(datetime.combine(day + timedelta(days=1), time()))


def closing_day(closes_at: datetime) -> date:
    """The last day on the organisation's clock on which answers are accepted."""
    return to_local(closes_at - timedelta(microseconds=1)).date()


def clock_time(value: time) -> str:
    """A time of day as GOV.UK writes it: 9am, 5:30pm, midday, midnight."""
    if value == time(0):
        return _("midnight")
    if value == time(12):
        return _("midday")
    hour = value.hour % 12 or 12
    minutes = f":{value.minute:02d}" if value.minute else ""
    return f"{hour}{minutes}{_('am') if value.hour < 12 else _('pm')}"


def gov_uk_time(stored: datetime | None) -> str:
    """A stored time on the organisation's clock, GOV.UK style: "5:30pm on 5 March 2013"
    ("midnight at the end of 5 March 2013" for a day's end); ``""`` for none."""
    if stored is None:
        return ""
    local = to_local(stored)
    if local.time() == time(0):
        return _(
            "midnight at the end of %(day)s", day=gov_uk_date(local.date() - timedelta(days=1))
        )
    return _("%(time)s on %(day)s", time=clock_time(local.time()), day=gov_uk_date(local.date()))
