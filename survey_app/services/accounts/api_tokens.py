"""Per-user API tokens: create (shown once), list, revoke, and authenticate a bearer token.

A token is ``rh_`` followed by 43 URL-safe characters (256 bits from :mod:`secrets`); the
database keeps only its SHA-256. A token authenticates only while it is not revoked, not expired
(a lifetime chosen at creation, :data:`MAX_LIFETIME_DAYS` at most) and its owner's account is
active, and it acts with the owner's current roles — narrowed to one relationship when it was
made for one. Creating and revoking
are written to the audit log (never the token). Services flush; the request commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import ApiToken, Relationship, User
from survey_app.services import ServiceError, audit
from survey_app.services.tokens import hash_token

PREFIX = "rh_"
TOKEN_BYTES = 32
NAME_MAX = 100
#: An owner may hold this many active tokens at once (a leak is easier to spot in a short list).
MAX_ACTIVE = 20
#: A token lives at most a year (and this long unless its owner chooses less).
MAX_LIFETIME_DAYS = 365


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``token`` is the only copy there will ever be."""

    record: ApiToken
    token: str


def create_token(
    user: User,
    name: str,
    *,
    lifetime_days: int = MAX_LIFETIME_DAYS,
    relationship: Relationship | None = None,
) -> IssuedToken:
    """Create a token for ``user`` called ``name`` (1–100 characters), valid ``lifetime_days``
    (1 to :data:`MAX_LIFETIME_DAYS`), reaching only ``relationship`` when one is given (the
    caller checks that ``user`` may see it)."""
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError(_("Enter a name for the token"))
    if len(name) > NAME_MAX:
        raise ServiceError(_("Token name must be %(max)s characters or fewer", max=NAME_MAX))
    if not 1 <= lifetime_days <= MAX_LIFETIME_DAYS:
        raise ServiceError(_("A token must last between 1 and %(max)s days", max=MAX_LIFETIME_DAYS))
    if len(active_tokens(user)) >= MAX_ACTIVE:
        raise ServiceError(
            _(
                "You already have %(max)s active tokens: revoke one you no longer use first",
                max=MAX_ACTIVE,
            )
        )
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    record = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=lifetime_days),
        relationship_id=relationship.id if relationship is not None else None,
    )
    audit.created(
        record,
        "api_token.create",
        actor=user,
        id_as="token_id",
        name=name,
        days=lifetime_days,
        relationship=record.relationship_id,
    )
    return IssuedToken(record, token)


def tokens_of(user: User) -> list[ApiToken]:
    """Every token of ``user``, newest first (revoked ones included)."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def active_tokens(user: User) -> list[ApiToken]:
    return [t for t in tokens_of(user) if t.revoked_at is None]


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens. Someone else's token is reported as not found."""
    record = db.session.get(ApiToken, token_id)
    if record is None or record.user_id != user.id:
        raise LookupError(f"no API token {token_id} of this account")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        audit.record("api_token.revoke", actor=user, token_id=record.id, name=record.name)
        db.session.flush()
    return record


@dataclass(frozen=True)
class TokenHolder:
    """Who a valid token acts for, and the one relationship it is limited to (if any)."""

    user: User
    relationship_id: int | None


def holder_of(token: str, *, today: date | None = None) -> TokenHolder | None:
    """Who an active, unexpired token of an active owner acts for, or ``None``.

    Records the day of use (one write a token a day at most) and commits it at once: an API
    request only reads, so nothing else of the request is committed with it.
    """
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = db.session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > utcnow(),
        )
    ).first()
    if row is None:
        return None
    record, user = row
    if not user.active:
        return None
    relationship_id = record.relationship_id
    today = today or date.today()
    if record.last_used_on != today:
        db.session.execute(
            update(ApiToken).where(ApiToken.id == record.id).values(last_used_on=today)
        )
        db.session.commit()
        user = db.session.get(User, user.id)
    return TokenHolder(user, relationship_id)  # type: ignore[arg-type]


def user_for_token(token: str, *, today: date | None = None) -> User | None:
    """The user a token acts for (see :func:`holder_of`), or ``None``."""
    holder = holder_of(token, today=today)
    return holder.user if holder is not None else None


__all__ = [
    "PREFIX",
    "IssuedToken",
    "TokenHolder",
    "active_tokens",
    "create_token",
    "hash_token",
    "holder_of",
    "revoke_token",
    "tokens_of",
    "user_for_token",
]
