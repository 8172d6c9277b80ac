"""The audit log: who did what, when (never a token or an answer)."""

from __future__ import annotations

from typing import Any, TypeVar

from survey_app.extensions import db
from survey_app.models import AuditEvent, User

Row = TypeVar("Row")


def record(action: str, *, actor: User | str, **detail: Any) -> AuditEvent:
    user = actor if isinstance(actor, User) else None
    event = AuditEvent(
        action=action,
        user_id=user.id if user else None,
        actor=user.email if user else str(actor),
        detail=detail,
    )
    db.session.add(event)
    return event


def created(
    row: Row, action: str, *, actor: User | str, id_as: str | None = None, **detail: Any
) -> Row:
    """Add a new ``row``, flush so that it has its id, and record ``action``: how every service
    that creates something audits it.

    ``id_as`` names the detail that carries the new row's id (e.g. ``id_as="wave"`` records
    ``wave=row.id``), which exists only after the flush; ``actor`` may be the new row itself
    (a user created at their first sign-in). Returns ``row``.
    """
    db.session.add(row)
    db.session.flush()
    if id_as is not None:
        detail = {id_as: row.id, **detail}  # the id first, as the log has always listed it
    record(action, actor=actor, **detail)
    return row
