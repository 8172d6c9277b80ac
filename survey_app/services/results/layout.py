"""What scoring needs from an instrument and a relationship, and a wave's responses scored.

:class:`Design` is an instrument version as arrays; :class:`Layout` the cells of a
relationship (side × service area, with every margin); :class:`Cube` each response stacked
once per cell it belongs to, so that one vectorised analysis call computes every cell and
margin; :func:`score_wave` reverse-keys and scores every response (DESIGN §4.1–4.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis import scoring
from instruments import Instrument
from survey_app.models import Relationship
from survey_app.services.results.loading import WaveAnswers
from survey_app.services.results.vocabulary import (
    AREA_ALL,
    AREA_ALL_NAME,
    AREA_NONE,
    AREA_NONE_NAME,
    INDEX,
    INDEX_TITLE,
    TIE_DECIMALS,
)


@dataclass(frozen=True, slots=True)
class Design:
    """What scoring needs from an instrument version, as arrays."""

    instrument: Instrument
    points: int
    reverse: np.ndarray
    item_dimension: np.ndarray
    dimension_keys: tuple[str, ...]
    dimension_titles: tuple[str, ...]
    weights: np.ndarray
    outcome: np.ndarray
    favourable: tuple[int, ...]
    unfavourable: tuple[int, ...]
    strength: float
    concern: float

    @classmethod
    def of(cls, instrument: Instrument) -> Design:
        keys = tuple(d.key for d in instrument.dimensions)
        position = {key: i for i, key in enumerate(keys)}
        return cls(
            instrument=instrument,
            points=instrument.scale.points,
            reverse=np.array([item.reverse for item in instrument.items], dtype=bool),
            item_dimension=np.array(
                [position[item.dimension] for item in instrument.items], dtype=np.int64
            ),
            dimension_keys=keys,
            dimension_titles=tuple(d.title for d in instrument.dimensions),
            weights=np.array([d.weight for d in instrument.dimensions], dtype=np.float64),
            outcome=np.array([d.outcome for d in instrument.dimensions], dtype=bool),
            favourable=tuple(instrument.scale.favourable),
            unfavourable=tuple(instrument.scale.unfavourable),
            strength=instrument.bands.strength,
            concern=instrument.bands.concern,
        )

    @property
    def n_dimensions(self) -> int:
        return len(self.dimension_keys)

    @property
    def score_keys(self) -> tuple[str, ...]:
        """Dimension keys then ``index``: the columns of a response's scores."""
        return (*self.dimension_keys, INDEX)

    @property
    def score_titles(self) -> tuple[str, ...]:
        return (*self.dimension_titles, INDEX_TITLE)

    def items_of(self, d: int) -> np.ndarray:
        """Item columns of score column ``d`` (every item for the index)."""
        if d == self.n_dimensions:
            return np.arange(self.item_dimension.size)
        return np.flatnonzero(self.item_dimension == d)


@dataclass(frozen=True, slots=True)
class Layout:
    """The cells of a relationship: sides (client, supplier, all) × areas (…, _none, _all)."""

    area_keys: tuple[str, ...]
    area_names: tuple[str, ...]

    @classmethod
    def of(cls, relationship: Relationship) -> Layout:
        areas = relationship.service_areas
        return cls(tuple(a.key for a in areas), tuple(a.name for a in areas))

    @property
    def n_areas(self) -> int:
        """Real service areas (A)."""
        return len(self.area_keys)

    @property
    def n_area_levels(self) -> int:
        """A areas, then _none (index A), then _all (index A + 1)."""
        return self.n_areas + 2

    @property
    def n_cells(self) -> int:
        return 3 * self.n_area_levels

    @property
    def level_keys(self) -> tuple[str, ...]:
        return (*self.area_keys, AREA_NONE, AREA_ALL)

    @property
    def level_names(self) -> tuple[str, ...]:
        return (*self.area_names, AREA_NONE_NAME, AREA_ALL_NAME)

    def cell(self, side: int, level: int) -> int:
        return side * self.n_area_levels + level


@dataclass(frozen=True, slots=True, eq=False)
class Cube:
    """Each response stacked four times, once per cell it belongs to.

    ``rows[i]`` is the response of stacked row ``i`` and ``cells[i]`` its cell; the four
    blocks are (side, area), (both sides, area), (side, all areas), (both sides, all areas).
    """

    rows: np.ndarray
    cells: np.ndarray
    side_level: np.ndarray
    area_level: np.ndarray

    @classmethod
    def of(cls, answers: WaveAnswers, layout: Layout) -> Cube:
        n = answers.n
        side = answers.side.astype(np.int64)
        level = np.where(answers.area < 0, layout.n_areas, answers.area).astype(np.int64)
        everyone = np.full(n, 2, dtype=np.int64)
        all_areas = np.full(n, layout.n_areas + 1, dtype=np.int64)
        side_level = np.concatenate([side, everyone, side, everyone])
        area_level = np.concatenate([level, level, all_areas, all_areas])
        rows = np.tile(np.arange(n, dtype=np.int64), 4)
        return cls(rows, side_level * layout.n_area_levels + area_level, side_level, area_level)


@dataclass(frozen=True, slots=True, eq=False)
class ScoredWave:
    """A wave's responses scored: what the next wave needs to test its change."""

    label: str
    design: Design
    layout: Layout
    answers: WaveAnswers
    scored: np.ndarray  # reverse-keyed answers (n, n_items)
    scores: np.ndarray  # dimension scores then the index (n, D + 1)
    cube: Cube


def score_wave(answers: WaveAnswers, layout: Layout, label: str) -> ScoredWave:
    """Reverse-key, score dimensions (half rule) and the health index of every response.

    Notes
    -----
    DESIGN §4.1–4.3 via :func:`analysis.scoring.reverse_key`,
    :func:`~analysis.scoring.dimension_scores` and :func:`~analysis.scoring.health_index`
    (weights from the instrument; the index needs half the dimensions).
    """
    design = Design.of(answers.instrument)
    scored = scoring.reverse_key(answers.x, design.reverse, points=design.points)
    dims = scoring.dimension_scores(scored, design.item_dimension, design.n_dimensions)
    # Held to TIE_DECIMALS so that equal indices reached by different sums tie exactly.
    index = np.round(scoring.health_index(dims, design.weights), TIE_DECIMALS)
    return ScoredWave(
        label=label,
        design=design,
        layout=layout,
        answers=answers,
        scored=scored,
        scores=np.column_stack([dims, index]),
        cube=Cube.of(answers, layout),
    )
