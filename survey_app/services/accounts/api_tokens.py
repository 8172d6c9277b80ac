"""Per-user API tokens: create (shown once), list, revoke, and authenticate a bearer token.

A token is ``rh_`` followed by 43 URL-safe characters (256 bits from :mod:`secrets`); the
database keeps only its SHA-256. A token authenticates only while it is not revoked and its
owner's account is active, and it acts with the owner's current role. Creating and revoking
are written to the audit log (never the token). Services flush; the request commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select, update

from survey_app.extensions import db
from survey_app.models import ApiToken, User
from survey_app.services import ServiceError, audit

PREFIX = "rh_"
TOKEN_BYTES = 32
NAME_MAX = 100
#: An owner may hold this many active tokens at once (a leak is easier to spot in a short list).
MAX_ACTIVE = 20


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``token`` is the only copy there will ever be."""

    record: ApiToken
    token: str


def create_token(user: User, name: str) -> IssuedToken:
    """Create a token for ``user`` called ``name`` (1–100 characters)."""
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError("Enter a name for the token")
    if len(name) > NAME_MAX:
        raise ServiceError(f"Token name must be {NAME_MAX} characters or fewer")
    if len(active_tokens(user)) >= MAX_ACTIVE:
        raise ServiceError(
            f"You already have {MAX_ACTIVE} active tokens: revoke one you no longer use first"
        )
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    record = ApiToken(user_id=user.id, name=name, token_hash=hash_token(token), created_at=_now())
    db.session.add(record)
    db.session.flush()
    audit.record("api_token.create", actor=user, token_id=record.id, name=name)
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
        record.revoked_at = _now()
        audit.record("api_token.revoke", actor=user, token_id=record.id, name=record.name)
        db.session.flush()
    return record


def user_for_token(token: str, *, today: date | None = None) -> User | None:
    """The active owner of an active token, or ``None``.

    Records the day of use (one write a token a day at most) and commits it at once: an API
    request only reads, so nothing else of the request is committed with it.
    """
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = db.session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    record, user = row
    if not user.active:
        return None
    today = today or date.today()
    if record.last_used_on != today:
        db.session.execute(
            update(ApiToken).where(ApiToken.id == record.id).values(last_used_on=today)
        )
        db.session.commit()
        user = db.session.get(User, user.id)
    return user


__all__ = [
    "PREFIX",
    "IssuedToken",
    "active_tokens",
    "create_token",
    "hash_token",
    "revoke_token",
    "tokens_of",
    "user_for_token",
]
