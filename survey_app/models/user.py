"""Signed-in users, their single-use account links and recovery codes, and the audit log.

``User.role`` is a *service-wide* role (the service's operators; every user migrated from the
time roles were global); everybody else holds roles per relationship (``Membership``). A user
signs in with a local password (``password_hash``), through their organisation's OpenID Provider
(keyed on ``oidc_issuer`` + ``oidc_subject``, never on e-mail), or both where allowed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, func, orm
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from survey_app.models.base import Base, IntPk, UserId
from survey_app.models.organisation import Membership, Organisation
from survey_app.texts import N_

ROLES = ("admin", "manager", "reviewer")
#: How pages name each role (translated where shown: ``| role_name``).
ROLE_NAMES = {"admin": N_("Admin"), "manager": N_("Manager"), "reviewer": N_("Reviewer")}

#: Roles nest: what each role may do, as the set of roles whose pages it may use.
ROLE_INCLUDES: dict[str, frozenset[str]] = {
    "admin": frozenset({"admin", "manager", "reviewer"}),
    "manager": frozenset({"manager"}),
    "reviewer": frozenset({"reviewer"}),
}


#: How passwords are hashed: werkzeug's scrypt with its default cost (N=32768, r=8, p=1). Read
#: at each call (the sign-in's dummy hash follows it, so an unknown email costs the same).
PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a method name, not a password)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IS NULL OR role IN ('admin', 'manager', 'reviewer')", name="role"),
        UniqueConstraint("oidc_issuer", "oidc_subject"),
    )

    id: Mapped[IntPk]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: A service-wide role, or ``None`` for a user whose roles are all per relationship.
    role: Mapped[str | None] = mapped_column(String(10))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    #: ``None``: no local password (signs in through the organisation's provider only).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_signed_in_at: Mapped[datetime | None]
    #: The TOTP secret, encrypted with the app's key (it must be read to check a code).
    totp_secret: Mapped[str | None] = mapped_column(Text)
    #: The last TOTP time step accepted: a code is accepted once.
    totp_last_step: Mapped[int | None]
    #: The language the person chose for their pages and the emails sent to them (``en``,
    #: ``cy``); ``None``: never chosen (pages follow the session, emails go in both languages).
    language: Mapped[str | None] = mapped_column(String(2))

    organisation: Mapped[Organisation | None] = orm.relationship()
    memberships: Mapped[list[Membership]] = orm.relationship(
        cascade="all, delete-orphan", order_by="Membership.relationship_id"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_HASH_METHOD)

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    def roles_held(self) -> frozenset[str]:
        """Every role the user holds anywhere: service-wide or on some relationship."""
        held = {m.role for m in self.memberships}
        if self.role is not None:
            held.add(self.role)
        return frozenset(held)

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class AuditEvent(Base):
    """Who did what, when. Never holds a token, an answer or a respondent's detail."""

    __tablename__ = "audit_events"

    id: Mapped[IntPk]
    at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


#: What a single-use account link is for.
LINK_PURPOSES = ("invite", "reset")


class AccountLink(Base):
    """A single-use, expiring link e-mailed to a user: an invitation to set a password (or sign
    in with their provider), or a password reset. Only the token's SHA-256 is stored."""

    __tablename__ = "account_links"
    __table_args__ = (CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),)

    id: Mapped[IntPk]
    user_id: Mapped[UserId]
    purpose: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """A one-time TOTP recovery code, stored hashed (like a password)."""

    __tablename__ = "recovery_codes"

    id: Mapped[IntPk]
    user_id: Mapped[UserId]
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None]
