"""What scoring needs from an instrument and a relationship, and a wave's responses scored.

:class:`Design` is an instrument version as arrays; :class:`Layout` the cells of a
relationship (side × service area, with every margin); :func:`score_wave` reverse-keys and
scores every response (DESIGN §4.1–4.3) and counts answers and scores per cell
(:class:`CellCounts`): each response is counted once, in its base cell (its side and area),
and every margin is a sum of base cells' counts, so one vectorised analysis call on the
counts computes every cell and margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis import frequencies, scoring
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

    @property
    def indicator(self) -> np.ndarray:
        """Item × dimension membership, (n_items, D) of 0.0 / 1.0."""
        return (self.item_dimension[:, None] == np.arange(self.n_dimensions)[None, :]).astype(
            np.float64
        )

    @property
    def resolution(self) -> int:
        """Every dimension score is a multiple of 1 / resolution: lcm(1..most items)."""
        most = int(np.bincount(self.item_dimension).max()) if self.item_dimension.size else 1
        return math.lcm(*range(1, most + 1))

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

    @property
    def n_base(self) -> int:
        """Base cells: client and supplier × (each area, then _none); they partition a wave."""
        return 2 * (self.n_areas + 1)

    def base_cells(self, side: np.ndarray, area: np.ndarray) -> np.ndarray:
        """The base cell of each response: ``side × (A + 1) + area`` (``A`` when no area)."""
        level = np.where(area < 0, self.n_areas, area).astype(np.int64)
        return side.astype(np.int64) * (self.n_areas + 1) + level

    @property
    def margins(self) -> np.ndarray:
        """(n_cells, n_base) of 0.0 / 1.0: the base cells each cell (or margin) adds up."""
        sides = np.arange(3)[:, None, None, None]
        levels = np.arange(self.n_area_levels)[None, :, None, None]
        base_side = np.arange(2)[None, None, :, None]
        base_level = np.arange(self.n_areas + 1)[None, None, None, :]
        member = ((sides == 2) | (sides == base_side)) & (
            (levels == self.n_areas + 1) | (levels == base_level)
        )
        return member.reshape(self.n_cells, self.n_base).astype(np.float64)

    @staticmethod
    def totals(base_counts: np.ndarray, margins: np.ndarray) -> np.ndarray:
        """Counts per base cell (first axis) summed into every cell (int64; the float64
        product is exact for counts below 2**53)."""
        flat = base_counts.reshape(base_counts.shape[0], -1).astype(np.float64)
        out = (margins @ flat).reshape(margins.shape[0], *base_counts.shape[1:])
        return np.rint(out).astype(np.int64)


@dataclass(frozen=True, slots=True, eq=False)
class CellCounts:
    """A wave's answers and scores counted per cell (side × area level, every margin).

    The first axis of every array is the layout's cells (:meth:`Layout.cell`); the counts
    carry every item-level and score statistic of the wave's tables
    (:mod:`analysis.frequencies`).

    Attributes
    ----------
    answers : ndarray, shape (n_cells, n_items, K)
        Reverse-keyed answers ``1..K`` per item.
    dont_know : ndarray, shape (n_cells, n_items)
    answered : ndarray, shape (n_cells, D)
        Responses with at least one answered item of each dimension.
    dimension_values : ndarray, shape (V_d,)
        Distinct dimension scores of the wave.
    dimensions : ndarray, shape (n_cells, D, V_d)
    index_values : ndarray, shape (V_i,)
        Distinct health indices of the wave.
    index : ndarray, shape (n_cells, V_i)
    """

    answers: np.ndarray
    dont_know: np.ndarray
    answered: np.ndarray
    dimension_values: np.ndarray
    dimensions: np.ndarray
    index_values: np.ndarray
    index: np.ndarray

    @classmethod
    def of(
        cls,
        answers: WaveAnswers,
        design: Design,
        layout: Layout,
        keyed: np.ndarray,
        answered: np.ndarray,
        scores: np.ndarray,
    ) -> CellCounts:
        """Count once per base cell (one ``bincount`` each), then sum into the margins.

        ``keyed`` are the reverse-keyed answer codes, ``answered`` the answered items of
        each response per dimension, ``scores`` its dimension scores and index.
        """
        base = layout.base_cells(answers.side, answers.area)
        n_base, n_dim = layout.n_base, design.n_dimensions
        items = frequencies.answer_counts(keyed, base, n_base, points=design.points)
        any_answered = np.bincount(
            (base[:, None] * n_dim + np.arange(n_dim)[None, :])[answered > 0],
            minlength=n_base * n_dim,
        ).reshape(n_base, n_dim)
        dims = frequencies.score_counts(
            scores[:, :n_dim], base, n_base, resolution=design.resolution
        )
        index = frequencies.score_counts(scores[:, n_dim], base, n_base)
        margins = layout.margins
        return cls(
            answers=layout.totals(items.counts, margins),
            dont_know=layout.totals(items.dont_know, margins),
            answered=layout.totals(any_answered, margins),
            dimension_values=dims.values,
            dimensions=layout.totals(dims.counts, margins),
            index_values=index.values,
            index=layout.totals(index.counts, margins),
        )


@dataclass(frozen=True, slots=True, eq=False)
class ScoredWave:
    """A wave's responses scored and counted: what its tables, and the next wave's change,
    are computed from."""

    label: str
    design: Design
    layout: Layout
    answers: WaveAnswers
    keyed: np.ndarray  # reverse-keyed answer codes, int8 (n, n_items): 1..K, 0 dk, -1 skipped
    scored: np.ndarray  # reverse-keyed answers as floats, NaN where missing (n, n_items)
    scores: np.ndarray  # dimension scores then the index (n, D + 1)
    counts: CellCounts

    @property
    def base(self) -> np.ndarray:
        """The base cell of each response (:meth:`Layout.base_cells`)."""
        return self.layout.base_cells(self.answers.side, self.answers.area)


def score_wave(answers: WaveAnswers, layout: Layout, label: str) -> ScoredWave:
    """Reverse-key, score dimensions (half rule) and the health index of every response, and
    count answers and scores per cell.

    Notes
    -----
    DESIGN §4.1–4.3 via :func:`analysis.scoring.reverse_key`,
    :func:`~analysis.scoring.dimension_scores` and :func:`~analysis.scoring.health_index`
    (weights from the instrument; the index needs half the dimensions); the counts via
    :func:`analysis.frequencies.answer_counts` and :func:`~analysis.frequencies.score_counts`.
    """
    design = Design.of(answers.instrument)
    keyed = scoring.reverse_key(answers.codes, design.reverse, points=design.points)
    scored = np.where(keyed > 0, keyed, np.nan)
    dims, answered = scoring.dimension_scores(
        scored, design.item_dimension, design.n_dimensions, return_answered=True
    )
    # Held to TIE_DECIMALS so that equal indices reached by different sums tie exactly.
    index = np.round(scoring.health_index(dims, design.weights), TIE_DECIMALS)
    scores = np.column_stack([dims, index])
    return ScoredWave(
        label=label,
        design=design,
        layout=layout,
        answers=answers,
        keyed=keyed,
        scored=scored,
        scores=scores,
        counts=CellCounts.of(answers, design, layout, keyed, answered, scores),
    )
