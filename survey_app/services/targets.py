"""Agreed targets: per relationship and dimension (or the health index), the mean both sides
agreed to reach and when; and the distance of a published mean to it, rated red, amber or
green by :func:`analysis.targets.target_rating` (the rule, :data:`RATING_RULE`, is written
beside every rating).

Targets keep their history (:class:`~survey_app.models.AgreedTarget` rows): the target that
*stands* on a day is the one agreed latest on or before it, unless it was withdrawn by then.
A closed wave is read against its targets (:func:`wave_targets`): those standing when it
closed, or today's for the latest closed wave (a target is usually agreed after seeing the
latest results, and measured against them until the next wave closes).

Operations check what a manager could get wrong (a :class:`ServiceError` fit to show),
change the database, flush and audit; the request or command commits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from analysis.targets import RATING_RULE, target_rating
from survey_app.extensions import db
from survey_app.models import AgreedTarget, Relationship, User, Wave
from survey_app.services import ServiceError, audit
from survey_app.services.instruments import frozen_instrument, shown_dimensions
from survey_app.services.results import (
    AREA_ALL,
    INDEX,
    INDEX_TITLE,
    closed_waves,
    published_rows,
)
from survey_app.services.waves import instrument_in_use
from survey_app.texts import N_, wording

__all__ = [
    "RATING_RULE",
    "RATING_TAGS",
    "TargetDistance",
    "distance_to",
    "distances",
    "record_target",
    "remove_target",
    "TARGET_SIDES",
    "target_choices",
    "targets_of",
    "wave_target_rows",
    "wave_targets",
]

#: The sides a target's distance is given for (over all service areas), both sides first.
TARGET_SIDES = ("all", "client", "supplier")
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


def targets_of(relationship: Relationship, on: date | None = None) -> dict[str, AgreedTarget]:
    """The relationship's targets standing on the day ``on`` (today by default), by
    dimension key: for each dimension the one agreed latest on or before that day, unless it
    had been withdrawn by then."""
    on = on or date.today()
    found = db.session.scalars(
        select(AgreedTarget)
        .where(AgreedTarget.relationship_id == relationship.id, AgreedTarget.agreed_on <= on)
        .order_by(AgreedTarget.agreed_on)
    )
    latest = {t.dimension: t for t in found}
    return {key: t for key, t in latest.items() if t.withdrawn_on is None or t.withdrawn_on > on}


def wave_targets(relationship: Relationship, wave: Wave | None) -> dict[str, AgreedTarget]:
    """The targets ``wave`` (a closed wave of the relationship) is read against: those
    standing on the day it closed, or today's when it is the latest closed wave (or None)."""
    closed = closed_waves(relationship)
    if wave is None or not closed or wave.id == closed[-1].id:
        return targets_of(relationship)
    when = wave.closed_at or wave.closes_at
    return targets_of(relationship, when.date() if when else None)


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
        raise ServiceError(
            wording(N_("A target can be agreed once the relationship has a survey wave"))
        )
    if dimension not in dict(target_choices(relationship)):
        raise ServiceError(
            wording(N_("There is no dimension %(key)s to set a target for"), key=repr(dimension))
        )
    points = instrument.scale.points
    if not (isinstance(target, int | float) and math.isfinite(target) and 1 <= target <= points):
        raise ServiceError(
            wording(N_("The target must be a mean from 1 to %(points)s"), points=points)
        )
    if agreed_on > (today or date.today()):
        raise ServiceError(wording(N_("The date agreed must be today or in the past")))
    standing = targets_of(relationship).get(dimension)
    before = None if standing is None else _audited(standing)
    found = db.session.scalar(
        select(AgreedTarget).where(
            AgreedTarget.relationship_id == relationship.id,
            AgreedTarget.dimension == dimension,
            AgreedTarget.agreed_on == agreed_on,
        )
    )
    if found is None:  # a target agreed on another day: the history keeps the earlier ones
        found = AgreedTarget(relationship_id=relationship.id, dimension=dimension)
        db.session.add(found)
    found.target, found.agreed_on = round(float(target), 2), agreed_on
    found.withdrawn_on = None
    audit.record(
        "target.record",
        actor=actor,
        relationship=relationship.id,
        dimension=dimension,
        **_audited(found),
        before=before,
    )
    db.session.flush()
    return found


def _audited(target: AgreedTarget) -> dict[str, Any]:
    """What the audit log keeps of a target, recorded, replaced or removed: its mean and the
    day it was agreed."""
    return {"target": target.target, "agreed_on": str(target.agreed_on)}


def remove_target(
    relationship: Relationship,
    dimension: str,
    *,
    actor: User | str,
    today: date | None = None,
) -> None:
    """Withdraw the standing target of ``dimension`` from today: it no longer stands, but
    the waves that closed while it stood are still read against it."""
    today = today or date.today()
    found = targets_of(relationship, today).get(dimension)
    if found is None:
        raise ServiceError(
            wording(N_("There is no target for %(key)s to remove"), key=repr(dimension))
        )
    audit.record(
        "target.remove",
        actor=actor,
        relationship=relationship.id,
        dimension=dimension,
        **_audited(found),
    )
    if found.agreed_on == today:  # agreed and withdrawn the same day: it never stood
        db.session.delete(found)
    else:
        found.withdrawn_on = today
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
    in ``area`` (both sides, all service areas by default), by dimension key: the targets
    the wave is read against (:func:`wave_targets`). ``scores``: the wave's published
    ``scores`` rows when the caller has them (a role level's cut, say). Without a closed
    wave, today's targets, unrated."""
    agreed = wave_targets(relationship, wave)
    if scores is None:
        scores = published_rows("scores", relationship, [wave]) if wave is not None else []
    at = {r["dimension"]: r for r in scores if r["side"] == side and r["area"] == area}
    return {key: distance_to(t, at.get(key, {})) for key, t in agreed.items()}


def wave_target_rows(relationship: Relationship, waves: Sequence[Wave]) -> Iterator[dict[str, Any]]:
    """Per closed wave, each target it is read against (:func:`wave_targets`, in the
    instrument's order, the health index first) for each of :data:`TARGET_SIDES` over all
    service areas: the target, the day agreed, the wave's published mean with its CI (blank
    where suppressed: ``suppressed`` says why), the distance and the rating. The one source
    of the downloads' ``targets`` table (columns as ``codebook.yaml`` describes it) and the
    board pack's targets."""
    for wave in waves:
        agreed = wave_targets(relationship, wave)
        if not agreed:
            continue
        titles = {INDEX: INDEX_TITLE} | {
            d.key: d.title for d in frozen_instrument(wave.instrument_version).dimensions
        }
        order = list(titles)
        scores = published_rows("scores", relationship, [wave])
        at = {(r["side"], r["dimension"]): r for r in scores if r["area"] == AREA_ALL}
        for key in sorted(agreed, key=lambda k: order.index(k) if k in order else len(order)):
            target = agreed[key]
            for side in TARGET_SIDES:
                row = at.get((side, key), {})
                found = distance_to(target, row)
                yield {
                    "wave": wave.label,
                    "dimension": key,
                    "dimension_title": titles.get(key, key),
                    "side": side,
                    "target": target.target,
                    "agreed_on": target.agreed_on.isoformat(),
                    "mean": found.mean,
                    "ci_low": row.get("ci_low"),
                    "ci_high": row.get("ci_high"),
                    "distance": found.distance,
                    "rating": found.rating or None,
                    "suppressed": row.get("suppressed"),
                }
