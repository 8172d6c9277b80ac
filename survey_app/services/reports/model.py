"""The value types of the board pack: small frozen rows the template and the summary read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from survey_app.services.actions import ActionChange
from survey_app.services.dashboard.pages import SideFigure


@dataclass(frozen=True)
class IndexFigure(SideFigure):
    """The health index of one side (or both) over all service areas in the pack's wave, as
    published: ``None`` figures where the cell is suppressed (``hidden`` says why)."""

    previous_wave: str | None
    change: float | None
    change_points: float | None
    change_p_adjusted: float | None
    hidden: str


@dataclass(frozen=True)
class AreaResponses:
    """Responses of one service area (or all) per side, as published in ``scores``: a count,
    or the words a hidden cell says instead."""

    area: str
    area_name: str
    cells: tuple[str, ...]  # one per side of SIDE_KEYS


@dataclass(frozen=True)
class ActionLine:
    """An agreed action with the change in its dimension since, as of the pack's wave."""

    what: str
    owner: str
    due_on: date
    status: str
    dimension_title: str
    group: str
    baseline: str | None
    change: ActionChange


@dataclass(frozen=True)
class Summary:
    """The first page in plain words: what needs attention, the index and its change, the
    widest gaps, and who answered — each a list of sentences."""

    alerts: tuple[str, ...]
    index: tuple[str, ...]
    gaps: tuple[str, ...]
    responses: tuple[str, ...]
