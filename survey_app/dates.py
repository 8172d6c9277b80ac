"""Dates as the service writes them to people (GOV.UK style: 5 March 2013), for pages, emails
and reports alike."""

from __future__ import annotations

from datetime import date


def gov_uk_date(value: date | None) -> str:
    """``value`` (a date, or the date of a datetime) as GOV.UK writes it: 5 March 2013; ``""``
    for none."""
    return f"{value.day} {value:%B %Y}" if value else ""
