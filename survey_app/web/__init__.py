"""Blueprints: thin views that read arguments, check access, call a service, render.

One package per blueprint, its forms beside its routes: ``pages`` (home and statements),
``survey`` (respondents), ``auth`` (sign-in), ``api_tokens``, ``dashboard``, ``downloads``,
``actions``, ``admin`` (with the questionnaire previews), ``admin_import`` and ``api``.
What they share: ``access`` (who may use which page), ``loading`` (the thing a URL names, or
404), ``submissions`` (call a service, commit, say so, redirect), ``fields`` (GOV.UK form
fields) and ``errors`` (error pages).
"""

from flask import Flask
from flask_babel import gettext

from survey_app.dates import gov_uk_date, gov_uk_time, zone_label
from survey_app.models import ROLE_NAMES
from survey_app.web.fields import localise_govuk_widgets


def role_name(role: str) -> str:
    """A role as pages name it, in the page's language (Admin, Manager, Reviewer)."""
    return gettext(ROLE_NAMES[role]) if role in ROLE_NAMES else role


def init_app(app: Flask) -> None:
    """What every template may use: ``| day``, a date as GOV.UK writes it; ``| moment``, a
    stored time on the organisation's clock ("5:30pm on 5 March 2013"); ``zone_label()``,
    which clock that is ("UK time"); ``| role_name``, a role in the page's language."""
    app.add_template_filter(gov_uk_date, "day")
    app.add_template_filter(gov_uk_time, "moment")
    app.add_template_global(zone_label)
    app.add_template_filter(role_name, "role_name")
    localise_govuk_widgets()
