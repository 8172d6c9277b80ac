"""What a download covers: one relationship and one closed wave, or all its closed waves.

A :class:`Scope` holds plain values only (no ORM objects), so that a streamed download can keep
reading after the request has committed its audit entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Relationship, Wave
from survey_app.services import ServiceError
from survey_app.services.accounts.scope import EVERYTHING, AccessScope
from survey_app.services.relationships import get_relationship
from survey_app.services.results import closed_waves
from survey_app.texts import N_, wording


@dataclass(frozen=True)
class WaveRef:
    """A wave as a download needs it: plain values, safe after the session commits."""

    id: int
    label: str
    instrument_version_id: int


@dataclass(frozen=True)
class Scope:
    """What a download covers: one relationship and one closed wave, or all its closed waves.

    Plain values only (no ORM objects), so a streamed download can keep reading after the
    request has committed its audit entry.
    """

    relationship_id: int
    relationship_name: str
    waves: tuple[WaveRef, ...]
    wave_label: str | None = None
    supplier_name: str = "the supplier"
    client_name: str = "the council"
    #: The relationship's service areas as (key, name), in its order.
    service_areas: tuple[tuple[str, str], ...] = ()

    @property
    def slug(self) -> str:
        """The part of a file name that says which waves: ``2012-Q3`` or ``all-waves``."""
        if self.wave_label is None:
            return "all-waves"
        return re.sub(r"[^A-Za-z0-9._-]+", "-", self.wave_label).strip("-") or "wave"

    @property
    def description(self) -> str:
        return f"wave {self.wave_label}" if self.wave_label else "all closed waves"

    @property
    def wave_ids(self) -> list[int]:
        return [w.id for w in self.waves]

    @property
    def relationship(self) -> Relationship:
        """The relationship, loaded in the current session."""
        found = db.session.get(Relationship, self.relationship_id)
        assert found is not None
        return found

    def wave_models(self) -> list[Wave]:
        """The waves, loaded in the current session, in scope order."""
        by_id = {
            w.id: w for w in db.session.scalars(select(Wave).where(Wave.id.in_(self.wave_ids)))
        }
        return [by_id[w.id] for w in self.waves]


def export_scope(relationship: Relationship | str | int, wave_label: str | None = None) -> Scope:
    """The scope of a download; only closed waves can be downloaded (ServiceError otherwise)."""
    if not isinstance(relationship, Relationship):
        found = get_relationship(relationship)
        assert found is not None
        relationship = found
    waves = [WaveRef(w.id, w.label, w.instrument_version_id) for w in closed_waves(relationship)]
    base = {
        "relationship_id": relationship.id,
        "relationship_name": relationship.name,
        "supplier_name": _party_name(relationship, "supplier"),
        "client_name": _party_name(relationship, "client"),
        "service_areas": tuple((a.key, a.name) for a in relationship.service_areas),
    }
    if wave_label is None:
        return Scope(waves=tuple(waves), wave_label=None, **base)
    for wave in waves:
        if wave.label == wave_label:
            return Scope(waves=(wave,), wave_label=wave_label, **base)
    state = db.session.scalar(
        select(Wave.state).where(Wave.relationship_id == relationship.id, Wave.label == wave_label)
    )
    if state is None:
        raise ServiceError(
            wording(
                N_("relationship %(relationship)s has no wave %(wave)s"),
                relationship=repr(relationship.name),
                wave=repr(wave_label),
            )
        )
    raise ServiceError(
        wording(
            N_("wave %(wave)s is open: only closed waves can be downloaded")
            if state == "open"
            else N_("wave %(wave)s is draft: only closed waves can be downloaded"),
            wave=repr(wave_label),
        )
    )


def downloadable_relationships(
    access: AccessScope = EVERYTHING,
) -> list[tuple[Relationship, int]]:
    """Every relationship in ``access``, by name, with how many closed waves it has to
    download."""
    closed = func.count(Wave.id).filter(Wave.state == "closed")
    rows = db.session.execute(
        access.filter(
            select(Relationship, closed)
            .outerjoin(Wave, Wave.relationship_id == Relationship.id)
            .group_by(Relationship.id)
            .order_by(Relationship.name)
        )
    ).all()
    return [(relationship, count) for relationship, count in rows]


def _party_name(relationship: Relationship, side: str) -> str:
    try:
        return relationship.party(side).name
    except LookupError:
        return side
