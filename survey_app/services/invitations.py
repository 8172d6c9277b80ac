"""Invitations and their links: the one home of the token model (README "Invitation links").

An invitation is one person's single use of a wave; a *link* is one token issued for it. A
token is returned once and never stored: ``invitation_links`` keeps its SHA-256. An invitation
may have several links (a reminder's, or a message re-sent after a crash left its fate
unknown); each works until the invitation is used through any of them (:func:`mark_used`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, insert, select, update

from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import ROLE_LEVELS, SIDES, Invitation, InvitationLink, ServiceArea, Wave
from survey_app.services import ServiceError, audit
from survey_app.services.tokens import hash_token

TOKEN_BYTES = 24  # 192 bits from the OS's CSPRNG
MAX_BATCH = 100_000


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def survey_link(token: str, language: str | None = None) -> str:
    """The personal survey link of a token, at ``PUBLIC_BASE_URL``; with ``?lang=`` when the
    invitation says the person's language, so the survey opens in it (README "Welsh and
    English pages"): the language travels on the link, never onto the response."""
    link = f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/s/{token}"
    return f"{link}?lang={language}" if language else link


def issue_links(invitation_ids: Sequence[int], *, now: datetime | None = None) -> list[str]:
    """A new link for each invitation (in the order given; flushed, not committed): the
    tokens, which exist nowhere else. Earlier links of the invitations keep working."""
    tokens = [new_token() for _ in invitation_ids]
    store_links(list(zip(invitation_ids, tokens, strict=True)), now=now)
    return tokens


def store_links(pairs: Sequence[tuple[int, str]], *, now: datetime | None = None) -> None:
    """Store the hash of each (invitation id, token) as a link of that invitation (flushed)."""
    if pairs:
        issued_at = now or utcnow()
        db.session.execute(
            insert(InvitationLink.__table__),
            [
                {"invitation_id": i, "token_hash": hash_token(t), "issued_at": issued_at}
                for i, t in pairs
            ],
        )


def renew_links(pairs: Sequence[tuple[int, str]]) -> set[int]:
    """Store each (invitation id, token) as the newest link of an unused invitation. Answers
    saved through its earlier links stay under them, sealed with a key the server cannot
    unwrap: the new link opened in the browser holding that key carries them on
    (``respondents.open_link``). Returns the ids of the invitations given a link (one used
    meanwhile gets none). Flushed."""
    ids = [i for i, _ in pairs]
    if not ids:
        return set()
    unused = set(
        db.session.scalars(
            select(Invitation.id).where(Invitation.id.in_(ids), Invitation.used_on.is_(None))
        )
    )
    renewed = [(i, t) for i, t in pairs if i in unused]
    store_links(renewed)
    return {i for i, _ in renewed}


def issue_link(invitation: Invitation, *, now: datetime | None = None) -> str:
    """A new link for ``invitation``: its token (see :func:`issue_links`)."""
    return issue_links([invitation.id], now=now)[0]


def create_invitations(
    wave_id: int,
    rows: Sequence[tuple[int, int | None, str | None]],
    day: date,
    *,
    used_on: Sequence[date | None] | None = None,
) -> list[int]:
    """Insert invitations without links, one per (party id, area id, role level); their ids,
    in the order given (flushed). ``used_on`` marks some used already (the demo's history)."""
    if not rows:
        return []
    used = used_on or [None] * len(rows)
    ids = db.session.scalars(
        insert(Invitation).returning(Invitation.id, sort_by_parameter_order=True),
        [
            {
                "wave_id": wave_id,
                "party_id": party_id,
                "service_area_id": area_id,
                "role_level": role_level,
                "issued_on": day,
                "used_on": u,
            }
            for (party_id, area_id, role_level), u in zip(rows, used, strict=True)
        ],
    ).all()
    return list(ids)


def invitation_for_hash(token_hash: str, *loads: Any) -> Invitation | None:
    """The invitation of the link whose token has this hash (used or not), loaded with
    ``loads`` (ORM loader options on Invitation); None for an unknown link."""
    return db.session.scalar(
        select(Invitation)
        .join(InvitationLink, InvitationLink.invitation_id == Invitation.id)
        .where(InvitationLink.token_hash == token_hash)
        .options(*loads)
    )


def invitation_for_token(token: str, *loads: Any) -> Invitation | None:
    """The invitation a personal link's token reaches (see :func:`invitation_for_hash`)."""
    return invitation_for_hash(hash_token(token), *loads)


def link_hashes(invitation_id: int) -> Select[tuple[str]]:
    """The token hashes of an invitation's links, as a subquery (e.g. to delete its drafts)."""
    return select(InvitationLink.token_hash).where(InvitationLink.invitation_id == invitation_id)


def mark_used(invitation_id: int, day: date) -> bool:
    """Use the invitation (through whichever of its links): True if this call used it, False
    if it was used already. Only the day is kept. Part of the caller's transaction."""
    claimed = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.used_on.is_(None))
        .values(used_on=day)
        .execution_options(synchronize_session=False)
    ).rowcount
    return claimed == 1


def _refuse_a_small_area(
    wave: Wave, party_id: int, area: ServiceArea, count: int, min_group: int
) -> None:
    already = db.session.scalar(
        select(func.count()).where(
            Invitation.wave_id == wave.id,
            Invitation.party_id == party_id,
            Invitation.service_area_id == area.id,
        )
    )
    if (already or 0) + count < min_group:
        raise ServiceError(
            f"fewer than {min_group} invitations of one side to {area.name} would let a "
            "used link show who answered: issue at least "
            f"{min_group - (already or 0)}, or leave the area out (respondents then choose it)"
        )


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
    min_area_group: int = 1,
) -> list[IssuedInvitation]:
    """Create ``count`` invitations for one party (and optionally one area and role level).

    Invitations fixed to an area are refused while the party would have fewer than
    ``min_area_group`` in it on the wave (``relhealth invite`` passes ``MIN_CELL_SIZE``): a
    used link of a one- or two-person area would name who answered.
    """
    if wave.state == "closed":
        raise ServiceError(f"wave {wave.label!r} is closed: no more invitations can be issued")
    if side not in SIDES:
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
    if service_area is not None:
        _refuse_a_small_area(wave, party.id, service_area, count, min_area_group)
    issued_on = today or date.today()
    row = (party.id, service_area.id if service_area else None, role_level)
    tokens = issue_links(create_invitations(wave.id, [row] * count, issued_on))
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
