"""Response rates of a wave while it runs: invited, started and submitted, per party and area.

Counts come from the invitations alone — *invited* is every invitation of the wave, *started*
those with a saved draft (answers saved, not yet submitted: drafts are deleted on submit), and
*submitted* those used. The area is the one the invitation names (from the staff list); an
invitation without one counts under "Not given on the invitation", whatever area its
respondent then chooses, because nothing links an invitation to its response. One grouped
query, whatever the size of the wave.

The one reading of response rates: the monitor page (``/admin/waves/<id>/responses``), its
JSON feed, the wave pages, the board pack and the dashboard's chart of an open wave all show
these rows.

**Confidentiality** (DESIGN §4.14), during the wave and after: every count — invited, started,
not started, submitted — of fewer than k (the wave's own once its results are computed, else
``MIN_CELL_SIZE``) is hidden and shown as "fewer than k", and the counts are suppressed
together as one cube — figure × side × area, where invited = started + not started +
submitted, each side is the sum of its areas and both parties the sum of the sides — with
the same rule as the results (:func:`~survey_app.services.results.suppression_reasons`), so
that no hidden count can be worked out by subtracting shown ones. A rate is shown only where
both its counts are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, select

from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import Draft, Invitation, InvitationLink, Party, Wave
from survey_app.services.results import (
    AREA_ALL,
    AREA_NONE,
    PRIMARY,
    cube_partitions,
    min_cell_size,
    suppression_reasons,
)
from survey_app.texts import N_

NO_AREA = N_("Not given on the invitation")
#: The counts of a row; invited is the margin of the other three.
FIGURES = ("invited", "started", "not_started", "submitted")
#: What a count hidden as a partner (k or more, hidden so a smaller one cannot be worked out)
#: shows.
HIDDEN = N_("hidden")


@dataclass(frozen=True, slots=True)
class RateRow:
    """Invitations of one party and service area (or a party's, or both parties' total)."""

    side: str
    party: str
    area_key: str | None  # None: a party's total (area_name says which)
    area_name: str
    invited: int | None  # None: hidden (see ``suppressed``)
    started: int | None
    submitted: int | None
    not_started: int | None = None
    #: figure -> the words shown instead ("fewer than 5", or hidden as a partner)
    suppressed: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.not_started is None and not self.suppressed:
            counts = (self.invited or 0, self.started or 0, self.submitted or 0)
            object.__setattr__(self, "not_started", counts[0] - counts[1] - counts[2])

    @property
    def rate(self) -> float | None:
        """Submitted as a percentage of invited (None when either is hidden)."""
        if self.invited is None or self.submitted is None or not self.invited:
            return None
        return 100.0 * self.submitted / self.invited

    def figure(self, name: str) -> str:
        """A count as it may be shown: with thousands separators, or why it is hidden."""
        value = getattr(self, name)
        return self.suppressed.get(name, "") if value is None else f"{value:,}"

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
            "suppressed": dict(self.suppressed),
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
    areas.append((None, None, gettext(NO_AREA)))
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
        parties.append(_sum(own, party, gettext("All service areas")))
    total = RateRow(
        "all",
        gettext("Both parties"),
        None,
        gettext("All service areas"),
        sum(p.invited for p in parties),
        sum(p.started for p in parties),
        sum(p.submitted for p in parties),
    )
    rows, parties, total = protect_counts(rows, parties, total, min_cell_size(wave.min_cell_size))
    return ResponseRates(
        wave.id,
        wave.label,
        wave.state,
        utcnow().replace(microsecond=0),
        tuple(rows),
        tuple(parties),
        total,
    )


def protect_counts(
    rows: Sequence[RateRow], parties: Sequence[RateRow], total: RateRow, k: int
) -> tuple[list[RateRow], list[RateRow], RateRow]:
    """Hide counts under ``k`` and their partners, as one figure × side × area cube.

    ``rows`` are a party's areas (every area, shown or not, must be there for the sums),
    ``parties`` their sums per side, ``total`` the sum over sides.
    """

    def at(row: RateRow) -> tuple[str, str]:
        return (row.side, AREA_ALL if row.area_key is None else row.area_key)

    everything = [*rows, *parties, total]
    cells = [(f, *at(r)) for r in everything for f in FIGURES]
    counts = [getattr(r, f) for r in everything for f in FIGURES]
    partitions, totals = cube_partitions(cells, ("invited", "all", AREA_ALL))
    shown = [(p, t) for p, t in zip(partitions, totals, strict=True) if t is not None]
    partitions, totals = [p for p, _ in shown], [t for _, t in shown]  # no total, no equation
    reasons = dict(zip(cells, suppression_reasons(counts, partitions, totals, k), strict=True))
    words = {PRIMARY: gettext("fewer than %(k)s", k=k)}

    def protected(row: RateRow) -> RateRow:
        mine = {f: reasons[(f, *at(row))] for f in FIGURES}
        hidden = {f: words.get(reason, gettext(HIDDEN)) for f, reason in mine.items() if reason}
        if not hidden:
            return row
        return replace(row, suppressed=hidden, **dict.fromkeys(hidden))

    return [protected(r) for r in rows], [protected(p) for p in parties], protected(total)


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
