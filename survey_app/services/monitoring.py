"""Response rates of a wave while it runs: invited, started and submitted, per party and area.

Counts come from the invitations alone — *invited* is every invitation of the wave, *started*
those with a saved draft (answers saved, not yet submitted: drafts are deleted on submit), and
*submitted* those used. The area is the one the invitation names (from the staff list); an
invitation without one counts under "Not given on the invitation", whatever area its
respondent then chooses, because nothing links an invitation to its response. One grouped
query, whatever the size of the wave.

The one reading of response rates: the monitor page (``/admin/waves/<id>/responses``), its
JSON feed and the dashboard's chart of an open wave all show these rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Draft, Invitation, InvitationLink, Party, Wave
from survey_app.services.results import AREA_NONE

NO_AREA = "Not given on the invitation"


@dataclass(frozen=True, slots=True)
class RateRow:
    """Invitations of one party and service area (or a party's, or both parties' total)."""

    side: str
    party: str
    area_key: str | None  # None: a party's total (area_name says which)
    area_name: str
    invited: int
    started: int
    submitted: int

    @property
    def rate(self) -> float | None:
        """Submitted as a percentage of invited."""
        return 100.0 * self.submitted / self.invited if self.invited else None

    @property
    def not_started(self) -> int:
        return self.invited - self.started - self.submitted

    def as_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "party": self.party,
            "area": self.area_key,
            "area_name": self.area_name,
            "invited": self.invited,
            "started": self.started,
            "submitted": self.submitted,
            "rate": None if self.rate is None else round(self.rate, 1),
        }


@dataclass(frozen=True, slots=True)
class ResponseRates:
    wave_id: int
    wave_label: str
    state: str
    as_of: datetime
    rows: tuple[RateRow, ...]  # party × area, in the relationship's order
    parties: tuple[RateRow, ...]  # one per party
    total: RateRow

    def as_dict(self) -> dict[str, Any]:
        return {
            "wave": self.wave_label,
            "state": self.state,
            "as_of": self.as_of.isoformat(timespec="seconds") + "Z",
            "rows": [r.as_dict() for r in self.rows],
            "parties": [r.as_dict() for r in self.parties],
            "total": self.total.as_dict(),
        }


def response_rates(wave: Wave) -> ResponseRates:
    """Invited, started and submitted for each party and service area of ``wave``."""
    drafted = (
        select(InvitationLink.invitation_id)
        .join(Draft, Draft.token_hash == InvitationLink.token_hash)
        .distinct()
        .subquery()
    )
    counts = {
        (party_id, area_id): (invited, started, submitted)
        for party_id, area_id, invited, started, submitted in db.session.execute(
            select(
                Invitation.party_id,
                Invitation.service_area_id,
                func.count(Invitation.id),
                func.count(drafted.c.invitation_id).filter(Invitation.used_on.is_(None)),
                func.count(Invitation.used_on),
            )
            .outerjoin(drafted, drafted.c.invitation_id == Invitation.id)
            .where(Invitation.wave_id == wave.id)
            .group_by(Invitation.party_id, Invitation.service_area_id)
        )
    }
    relationship = wave.relationship
    areas: list[tuple[int | None, str | None, str]] = [
        (a.id, a.key, a.name) for a in relationship.service_areas
    ]
    areas.append((None, None, NO_AREA))
    rows: list[RateRow] = []
    parties: list[RateRow] = []
    for party in sorted(relationship.parties, key=lambda p: p.side):
        own = [
            RateRow(
                party.side,
                party.name,
                key or AREA_NONE,
                name,
                *counts.get((party.id, a_id), (0, 0, 0)),
            )
            for a_id, key, name in areas
        ]
        shown = [r for r in own if r.invited or r.area_key != AREA_NONE]
        rows.extend(shown)
        parties.append(_sum(own, party, "All service areas"))
    total = RateRow(
        "all",
        "Both parties",
        None,
        "All service areas",
        sum(p.invited for p in parties),
        sum(p.started for p in parties),
        sum(p.submitted for p in parties),
    )
    return ResponseRates(
        wave.id,
        wave.label,
        wave.state,
        datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        tuple(rows),
        tuple(parties),
        total,
    )


def _sum(rows: list[RateRow], party: Party, name: str) -> RateRow:
    return RateRow(
        party.side,
        party.name,
        None,
        name,
        sum(r.invited for r in rows),
        sum(r.started for r in rows),
        sum(r.submitted for r in rows),
    )
