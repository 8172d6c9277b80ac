"""The dashboard's and the API's reading of stored results: a relationship's waves, the
published rows of a closed wave (all role levels, or one role level's cut), and its trends.

Nothing here computes a statistic of the survey afresh: every number comes from the tables
that :mod:`survey_app.services.results` stored when the wave closed, with confidentiality
suppression applied now (DESIGN §4.14) by its functions; a role level's cut comes from
:mod:`~survey_app.services.dashboard.role_cuts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from instruments import Instrument
from survey_app.extensions import db
from survey_app.models import ROLE_LEVELS, Relationship, Wave
from survey_app.services import ServiceError
from survey_app.services.dashboard.charts import ChartCache, Scale
from survey_app.services.dashboard.filters import Filters
from survey_app.services.dashboard.role_cuts import role_rows
from survey_app.services.instruments import reader_language, shown_dimensions, wave_instrument
from survey_app.services.results import (
    DEEPER_TABLES,
    INDEX,
    INDEX_TITLE,
    closed_waves,
    min_cell_size,
    published_rows,
)

# ================================================================================ waves


def latest_closed_wave(relationship: Relationship) -> Wave | None:
    waves = closed_waves(relationship)
    return waves[-1] if waves else None


def waves_as_of(relationship: Relationship, wave: Wave | None = None) -> list[Wave]:
    """The relationship's closed waves in time order up to ``wave`` (all of them when
    ``None``). Raises ServiceError when ``wave`` is not a closed wave of the relationship."""
    waves = closed_waves(relationship)
    if wave is None:
        return waves
    if wave.relationship_id != relationship.id:
        raise ServiceError(f"wave {wave.label!r} is not a wave of {relationship.name!r}")
    if wave not in waves:
        raise ServiceError(f"wave {wave.label!r} is {wave.state}: only closed waves have results")
    return waves[: waves.index(wave) + 1]


def open_waves(relationship: Relationship) -> list[Wave]:
    waves = db.session.scalars(
        select(Wave).where(Wave.relationship_id == relationship.id, Wave.state == "open")
    )
    return sorted(waves, key=lambda w: w.time_order)


def instrument_of(wave: Wave) -> Instrument:
    """The wave's instrument with the translations it froze (its titles in Welsh too)."""
    return wave_instrument(wave)


def dimension_order(instrument: Instrument) -> list[tuple[str, str]]:
    """(key, title) of the index, then every dimension in instrument order, in the reader's
    language where the instrument carries it (else English)."""
    return [(INDEX, gettext(INDEX_TITLE)), *shown_dimensions(instrument)]


def shown_title(instrument: Instrument, row: Mapping[str, Any]) -> str:
    """A stored row's dimension title as the reader reads it (the stored one is English)."""
    return dict(dimension_order(instrument)).get(row["dimension"], row["dimension_title"])


def scale_of(instrument: Instrument) -> Scale:
    return Scale(instrument.scale.points, instrument.bands.strength, instrument.bands.concern)


def party_names(relationship: Relationship) -> dict[str, str]:
    """Each side's party name."""
    return {p.side: p.name for p in relationship.parties}


# ================================================================================ rows


def wave_rows(
    table: str,
    wave: Wave,
    role: str | None = None,
    *,
    dimension: str | None = None,
    cache: ChartCache | None = None,
) -> list[dict[str, Any]]:
    """Suppressed rows of ``scores``, ``items``, ``gaps`` or a deeper table
    (``relative_weights``, ``heat_map``, ``margins``: all role levels only) of one closed wave.

    All role levels (the stored results) by default; ``role`` gives the role-level cut,
    shown where the raw download gives its cells whole (:mod:`~.role_cuts`) and cached per
    wave. ``dimension`` narrows the rows.
    """
    if table not in ("scores", "items", "gaps", *DEEPER_TABLES):
        raise ServiceError(f"no wave table {table!r}")
    if table in DEEPER_TABLES and role is not None:
        raise ServiceError(f"{table} is computed for all role levels together, not by role level")
    if wave.state != "closed":
        raise ServiceError(f"wave {wave.label!r} is {wave.state}: only closed waves have results")
    relationship = wave.relationship
    if role is None:
        rows = published_rows(table, relationship, [wave])
    else:
        if role not in ROLE_LEVELS:
            raise ServiceError(f"role level must be one of {', '.join(ROLE_LEVELS)}, not {role!r}")
        rows = role_rows(table, wave, cache or ChartCache.of(relationship), dimension)[role]
    return rows if dimension is None else [r for r in rows if r["dimension"] == dimension]


def filter_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    side: str | None = None,
    area: str | None = None,
    dimension: str | None = None,
) -> list[dict[str, Any]]:
    """Rows of a published table narrowed by side, service area (key) and dimension."""
    return [
        dict(r)
        for r in rows
        if (not side or r.get("side") == side)
        and (not area or r.get("area") == area)
        and (not dimension or r.get("dimension") == dimension)
    ]


def trend_rows(relationship: Relationship) -> list[dict[str, Any]]:
    """The relationship's published trends (empty before any wave closes), their statuses
    worded in the reader's language."""
    return published_rows("trends", relationship)


# ================================================================================ a page's reading


@dataclass(frozen=True)
class Reading:
    """What a dashboard page reads once: the relationship's closed waves (in time order, the
    latest last), the latest's instrument and scale, the party names, the chart cache, the
    confidentiality threshold in force and the filters."""

    relationship: Relationship
    filters: Filters
    waves: tuple[Wave, ...]
    instrument: Instrument
    scale: Scale
    names: dict[str, str]
    cache: ChartCache
    k: int

    @classmethod
    def of(cls, relationship: Relationship, filters: Filters, waves: Sequence[Wave]) -> Reading:
        """The reading of a relationship with at least one closed wave (``waves``)."""
        instrument = instrument_of(waves[-1])
        return cls(
            relationship,
            filters,
            tuple(waves),
            instrument,
            scale_of(instrument),
            party_names(relationship),
            ChartCache.of(relationship),
            min_cell_size(),
        )

    @property
    def wave(self) -> Wave:
        """The latest closed wave."""
        return self.waves[-1]

    @property
    def language(self) -> str:
        """The language the instrument's texts are shown in: the reader's, where it carries it."""
        return reader_language(self.instrument)

    def rows(self, table: str, *, dimension: str | None = None) -> list[dict[str, Any]]:
        """The latest wave's published rows of ``table`` for the filters' role level."""
        return wave_rows(table, self.wave, self.filters.role, dimension=dimension, cache=self.cache)
