"""Agreed targets: per relationship and dimension (or the health index), the mean both sides
agreed to reach and when; and the distance of a published mean to it, rated red, amber or
green by :func:`analysis.targets.target_rating` (the rule, :data:`RATING_RULE`, is written
beside every rating).

Operations check what a manager could get wrong (a :class:`ServiceError` fit to show),
change the database, flush and audit; the request or command commits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from analysis.targets import RATING_RULE, target_rating
from survey_app.extensions import db
from survey_app.models import AgreedTarget, Relationship, User, Wave
from survey_app.services import ServiceError, audit
from survey_app.services.instruments import shown_dimensions
from survey_app.services.results import AREA_ALL, INDEX, INDEX_TITLE, published_rows
from survey_app.services.waves import instrument_in_use
from survey_app.texts import N_

__all__ = [
    "RATING_RULE",
    "TargetDistance",
    "distance_to",
    "distances",
    "record_target",
    "remove_target",
    "target_choices",
    "targets_of",
]

#: A rating as a GOV.UK tag colour and words.
RATING_TAGS = {
    "green": ("green", N_("Green")),
    "amber": ("orange", N_("Amber")),
    "red": ("red", N_("Red")),
}


@dataclass(frozen=True)
class TargetDistance:
    """A published mean beside its agreed target."""

    dimension: str
    target: float
    agreed_on: date
    mean: float | None
    distance: float | None  # mean minus target (None when the mean is not shown)
    rating: str  # "green", "amber", "red", or "" when the mean is not shown

    @property
    def tag(self) -> tuple[str, str]:
        """(GOV.UK tag colour, words) of the rating."""
        return RATING_TAGS.get(self.rating, ("grey", N_("Not rated")))

    def as_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "target": self.target,
            "agreed_on": self.agreed_on.isoformat(),
            "mean": self.mean,
            "distance": self.distance,
            "rating": self.rating or None,
        }


def targets_of(relationship: Relationship) -> dict[str, AgreedTarget]:
    """The relationship's agreed targets by dimension key."""
    found = db.session.scalars(
        select(AgreedTarget).where(AgreedTarget.relationship_id == relationship.id)
    )
    return {t.dimension: t for t in found}


def target_choices(relationship: Relationship) -> list[tuple[str, str]]:
    """(key, title) of what a target can be set for: the health index, then each dimension
    of the instrument in use (none before the relationship has a wave)."""
    instrument = instrument_in_use(relationship)
    if instrument is None:
        return []
    return [(INDEX, gettext(INDEX_TITLE)), *shown_dimensions(instrument)]


def record_target(
    relationship: Relationship,
    dimension: str,
    target: float,
    agreed_on: date,
    *,
    actor: User | str,
    today: date | None = None,
) -> AgreedTarget:
    """Record (or replace) the target both sides agreed for ``dimension``: a mean on the
    instrument's scale, agreed on a day not after today."""
    instrument = instrument_in_use(relationship)
    if instrument is None:
        raise ServiceError("A target can be agreed once the relationship has a survey wave")
    if dimension not in dict(target_choices(relationship)):
        raise ServiceError(f"There is no dimension {dimension!r} to set a target for")
    points = instrument.scale.points
    if not (isinstance(target, int | float) and math.isfinite(target) and 1 <= target <= points):
        raise ServiceError(f"The target must be a mean from 1 to {points}")
    if agreed_on > (today or date.today()):
        raise ServiceError("The date agreed must be today or in the past")
    found = targets_of(relationship).get(dimension)
    before = None if found is None else {"target": found.target, "agreed_on": str(found.agreed_on)}
    if found is None:
        found = AgreedTarget(relationship_id=relationship.id, dimension=dimension)
        db.session.add(found)
    found.target, found.agreed_on = round(float(target), 2), agreed_on
    audit.record(
        "target.record",
        actor=actor,
        relationship=relationship.id,
        dimension=dimension,
        target=found.target,
        agreed_on=str(agreed_on),
        before=before,
    )
    db.session.flush()
    return found


def remove_target(relationship: Relationship, dimension: str, *, actor: User | str) -> None:
    """Remove the target of ``dimension`` (the audit log keeps what it was)."""
    found = targets_of(relationship).get(dimension)
    if found is None:
        raise ServiceError(f"There is no target for {dimension!r} to remove")
    audit.record(
        "target.remove",
        actor=actor,
        relationship=relationship.id,
        dimension=dimension,
        target=found.target,
        agreed_on=str(found.agreed_on),
    )
    db.session.delete(found)
    db.session.flush()


def distance_to(target: AgreedTarget, row: Mapping[str, Any]) -> TargetDistance:
    """The distance of a published ``scores`` row's mean (a suppressed row has none) to
    ``target``, rated by :func:`analysis.targets.target_rating`."""
    mean, ci_high = row.get("mean"), row.get("ci_high")
    rating = target_rating(
        math.nan if mean is None else mean,
        math.nan if ci_high is None else ci_high,
        target.target,
    ).item()
    return TargetDistance(
        target.dimension,
        target.target,
        target.agreed_on,
        mean,
        None if mean is None else mean - target.target,
        rating,
    )


def distances(
    relationship: Relationship,
    wave: Wave | None,
    *,
    side: str = "all",
    area: str = AREA_ALL,
    scores: Iterable[Mapping[str, Any]] | None = None,
) -> dict[str, TargetDistance]:
    """Each agreed target of the relationship beside ``wave``'s published mean of ``side``
    in ``area`` (both sides, all service areas by default), by dimension key. ``scores``:
    the wave's published ``scores`` rows when the caller has them (a role level's cut, say).
    Without a closed wave, every target is unrated."""
    agreed = targets_of(relationship)
    if scores is None:
        scores = published_rows("scores", relationship, [wave]) if wave is not None else []
    at = {r["dimension"]: r for r in scores if r["side"] == side and r["area"] == area}
    return {key: distance_to(t, at.get(key, {})) for key, t in agreed.items()}
