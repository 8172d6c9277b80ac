"""What a page does with a submitted form that changes something — written once.

A view that changes something reads its arguments, builds its form, and answers
``carry_out(form, operation, refused_on=field, done=message, then=url) or form_page(template,
form, ...)``, ``operation`` being a call of one service.

:func:`carry_out` runs the service once the form is valid, commits once, says what was done
(a success banner) and redirects; when the service refuses (a :class:`ServiceError`, a problem
the user caused) it rolls back, so nothing is changed, and puts the message on the form, where
it reaches the GOV.UK error summary. It answers ``None`` whenever the form must be shown again,
and :func:`form_page` shows it (status 400 when it has errors). A page whose success is not a
redirect (a report, a file, a token shown once) calls :func:`attempt` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, Final, Literal, TypeVar

from flask import flash, redirect, render_template
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import Field

from survey_app.extensions import db
from survey_app.models import User
from survey_app.services import ServiceError

#: The flash category of the success banner on admin and action pages (``admin/_layout.html``).
SUCCESS = "admin-success"

Result = TypeVar("Result")


class Refused(Enum):
    """What :func:`attempt` answers when the service refused (nothing was changed)."""

    REFUSED = "refused"


REFUSED: Final = Refused.REFUSED


def acting_user() -> User:
    """The signed-in user, as the services record who did what."""
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def show_refusal(field: Field, exc: ServiceError) -> None:
    """Roll back, and show a service's refusal on ``field`` (it reaches the error summary)."""
    db.session.rollback()
    message = str(exc)
    field.errors = [*field.errors, message[:1].upper() + message[1:]]


def attempt(
    operation: Callable[[], Result], *, refused_on: Field
) -> Result | Literal[Refused.REFUSED]:
    """Run ``operation`` and commit; if it refuses, roll back, show why on ``refused_on`` and
    answer :data:`REFUSED`."""
    try:
        result = operation()
    except ServiceError as exc:
        show_refusal(refused_on, exc)
        return REFUSED
    db.session.commit()
    return result


def carry_out(
    form: FlaskForm,
    operation: Callable[[], Result],
    *,
    refused_on: Field,
    done: str | Callable[[Result], str],
    then: str | Callable[[Result], str],
) -> WerkzeugResponse | None:
    """On a valid submission, :func:`attempt` ``operation``; if it was carried out, flash
    ``done`` and redirect to ``then`` (each a text, or made from the operation's result).

    ``None`` when the form was not submitted, is not valid, or the service refused."""
    if not form.validate_on_submit():
        return None
    result = attempt(operation, refused_on=refused_on)
    if result is REFUSED:
        return None
    flash(done(result) if callable(done) else done, SUCCESS)
    return redirect(then(result) if callable(then) else then)


def form_page(
    template: str, form: FlaskForm, *, error_status: int = 400, **context: Any
) -> tuple[str, int]:
    """The page of ``form``: 200, or ``error_status`` when the form shows errors."""
    return render_template(template, form=form, **context), (error_status if form.errors else 200)
