"""Per-user API tokens for the read-only JSON API (``/api/v1``).

A token is shown to its owner once, when it is created; only its SHA-256 is stored (a token
carries 256 random bits, so a fast hash is enough: there is nothing to guess). A token acts
with its owner's roles as they are when the token is used — narrowed, when ``relationship_id`` is
set, to that one relationship —, stops working when the owner's account is deactivated or it
expires (``expires_at``, chosen at creation, a year at most), and is revoked for good by setting
``revoked_at``. ``last_used_on`` keeps the
day only, which is all an owner needs to spot a token nobody uses.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String, orm
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.models.base import Base, IntPk, RelationshipId, UserId
from survey_app.models.relationship import Relationship
from survey_app.models.user import User


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[IntPk]
    user_id: Mapped[UserId]
    #: What the owner called it ("Power BI refresh"), to tell their tokens apart.
    name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 (hex) of the token; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_used_on: Mapped[date | None]
    revoked_at: Mapped[datetime | None]
    #: When set, the token reaches this relationship only (within its owner's own scope).
    relationship_id: Mapped[RelationshipId | None]

    user: Mapped[User] = orm.relationship()
    relationship: Mapped[Relationship | None] = orm.relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        state = "active" if self.revoked_at is None else "revoked"
        return f"<ApiToken {self.id} {self.name!r} {state}>"
