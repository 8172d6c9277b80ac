"""The audit log: who did what, when (never a token or an answer)."""

from __future__ import annotations

from typing import Any

from survey_app.extensions import db
from survey_app.models import AuditEvent, User


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
