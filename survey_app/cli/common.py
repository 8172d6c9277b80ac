"""What every command shares: one transaction, and finding what a command names."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from survey_app.extensions import db
from survey_app.models import Wave
from survey_app.services import ServiceError
from survey_app.services.relationships import all_relationships, get_relationship
from survey_app.services.waves import get_wave


def one_transaction(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Commit if the command succeeds; on a ServiceError roll back and exit 1 with its message."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
            db.session.commit()
            return result
        except ServiceError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        except BaseException:
            db.session.rollback()
            raise

    return wrapper


def wave_arguments(command: Callable[..., Any]) -> Callable[..., Any]:
    """The RELATIONSHIP and LABEL arguments of a command about one wave (:func:`find_wave`)."""
    return click.argument("relationship")(click.argument("label")(command))


def find_wave(relationship: str, label: str) -> Wave:
    rel = get_relationship(relationship)
    assert rel is not None
    wave = get_wave(rel, label)
    assert wave is not None
    return wave


def only_relationship(relationship: str | None) -> Any:
    """The relationship named, or the only one there is."""
    if relationship:
        return get_relationship(relationship)
    relationships = all_relationships()
    if len(relationships) != 1:
        raise ServiceError(
            "name the relationship with --relationship "
            f"(there are {len(relationships) or 'no'} relationships)"
        )
    return relationships[0]
