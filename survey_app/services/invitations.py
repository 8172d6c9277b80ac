"""Issuing single-use invitation tokens. The token is returned once; only its hash is kept."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import insert

from survey_app.extensions import db
from survey_app.models import ROLE_LEVELS, Invitation, ServiceArea, Wave
from survey_app.services import ServiceError, audit

TOKEN_BYTES = 24  # 192 bits from the OS's CSPRNG
MAX_BATCH = 100_000


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def survey_link(token: str) -> str:
    """The personal survey link of a token, at ``PUBLIC_BASE_URL``."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/s/{token}"


@dataclass(frozen=True)
class IssuedInvitation:
    token: str
    party: str
    side: str
    service_area: str | None
    role_level: str | None


def issue_invitations(
    wave: Wave,
    side: str,
    count: int,
    *,
    service_area: ServiceArea | None = None,
    role_level: str | None = None,
    today: date | None = None,
    actor: str = "cli",
) -> list[IssuedInvitation]:
    """Create ``count`` invitations for one party (and optionally one area and role level)."""
    if wave.state == "closed":
        raise ServiceError(f"wave {wave.label!r} is closed: no more invitations can be issued")
    if side not in ("client", "supplier"):
        raise ServiceError(f"side must be 'client' or 'supplier', not {side!r}")
    if not 1 <= count <= MAX_BATCH:
        raise ServiceError(f"the number of invitations must be between 1 and {MAX_BATCH:,}")
    if role_level is not None and role_level not in ROLE_LEVELS:
        raise ServiceError(
            f"role level must be one of {', '.join(ROLE_LEVELS)}, not {role_level!r}"
        )
    if service_area is not None and service_area.relationship_id != wave.relationship_id:
        raise ServiceError("that service area belongs to another relationship")
    party = wave.relationship.party(side)
    issued_on = today or date.today()
    tokens = [new_token() for _ in range(count)]
    db.session.execute(
        insert(Invitation.__table__),
        [
            {
                "wave_id": wave.id,
                "party_id": party.id,
                "service_area_id": service_area.id if service_area else None,
                "role_level": role_level,
                "token_hash": hash_token(token),
                "issued_on": issued_on,
            }
            for token in tokens
        ],
    )
    audit.record(
        "invitations.issue",
        actor=actor,
        wave=wave.id,
        side=side,
        count=count,
        service_area=service_area.key if service_area else None,
    )
    area_name = service_area.name if service_area else None
    return [IssuedInvitation(t, party.name, side, area_name, role_level) for t in tokens]
