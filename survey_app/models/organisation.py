"""Organisations (a relationship's two parties) and who holds which role on which relationship.

A :class:`Party` is one side of one relationship; the :class:`Organisation` is the body itself
(a council, a supplier), which may be a party to several relationships. A user belongs to at most
one organisation and holds, per relationship, one role (:class:`Membership`) — or, for the
service's own operators, a service-wide role (``User.role``). Roles nest (admin ⊃ manager,
reviewer), so one role per relationship is all a membership needs.

An organisation may sign its staff in through its own OpenID Provider (``oidc_*``): its issuer,
the client registered there, the e-mail domains it vouches for (verified addresses only), how
the provider's groups map to roles, whether local passwords are still allowed, and which
``amr`` value (or ``acr``) proves a multi-factor sign-in for its admins.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, String, Text, UniqueConstraint, func, orm
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.models.base import Base, IntPk, RelationshipId, UserId

if TYPE_CHECKING:
    from survey_app.models.relationship import Party

#: The roles a user may hold, least to most: an admin may do all a manager or a reviewer may.
MEMBERSHIP_ROLES = ("admin", "manager", "reviewer")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[IntPk]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    #: The OpenID Provider's issuer identifier (``https://login.microsoftonline.com/<tenant>/v2.0``).
    oidc_issuer: Mapped[str | None] = mapped_column(String(500), unique=True)
    oidc_client_id: Mapped[str | None] = mapped_column(String(255))
    #: The client secret, encrypted with the app's key (it must be read to be sent).
    oidc_client_secret: Mapped[str | None] = mapped_column(Text)
    #: E-mail domains whose *verified* addresses may sign in through the provider.
    allowed_email_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The provider's group (or role) claim value → one of :data:`MEMBERSHIP_ROLES`, granted on
    #: every relationship the organisation is a party to.
    group_roles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    local_passwords_allowed: Mapped[bool] = mapped_column(default=True)
    #: An ``amr`` value (e.g. ``mfa``) or ``acr`` the ID token of an admin must carry; none: trust
    #: the provider's own policy.
    admin_mfa_claim: Mapped[str | None] = mapped_column(String(100))

    parties: Mapped[list[Party]] = orm.relationship("Party", back_populates="organisation")

    @property
    def signs_in_with_oidc(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    def __repr__(self) -> str:
        return f"<Organisation {self.name!r}>"


class Membership(Base):
    """``user`` holds ``role`` on ``relationship`` (and nothing on any other, unless another
    membership or a service-wide role says so)."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "relationship_id"),
        CheckConstraint("role IN ('admin', 'manager', 'reviewer')", name="role"),
    )

    id: Mapped[IntPk]
    user_id: Mapped[UserId]
    relationship_id: Mapped[RelationshipId]
    role: Mapped[str] = mapped_column(String(10))

    def __repr__(self) -> str:
        return (
            f"<Membership user {self.user_id} {self.role} of relationship {self.relationship_id}>"
        )
