"""What the board pack of a relationship's closed wave says: a view model for its template.

Everything is read as the dashboard reads it, *as of* the chosen wave
(:func:`survey_app.services.dashboard.relationship_page` with ``as_of``): the index over the
waves up to it, its perception gaps, heat map and alerts (with the statuses stored when it
closed), from published — suppressed — rows only, with the dashboard's charts and their table
alternatives. Added here: the headline figures of the index (its change since the wave
before), the actions agreed by then with the change since each, the wave's response rate,
and the summary in words (:mod:`~survey_app.services.reports.summary`). Nothing here
computes a statistic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext

from survey_app.models import Action, Relationship, Wave
from survey_app.services import actions as actions_service
from survey_app.services.actions import ActionChange
from survey_app.services.alerts import Alert
from survey_app.services.dashboard import Filters, relationship_page, waves_as_of
from survey_app.services.dashboard.charts import suppressed_text
from survey_app.services.dashboard.pages import RelationshipPage, scores_cell, side_figure
from survey_app.services.monitoring import RateRow, response_rates
from survey_app.services.reports.model import ActionLine, AreaResponses, IndexFigure, Summary
from survey_app.services.reports.summary import summarise
from survey_app.services.reports.targets import TargetRow, target_rows
from survey_app.services.results import (
    AREA_ALL,
    INDEX,
    SIDE_KEYS,
    SIDE_WORDS,
    SUPPRESSED,
    published_rows,
)


@dataclass
class BoardPack:
    """Everything the board pack of ``wave`` shows (see the module)."""

    relationship: Relationship
    wave: Wave
    page: RelationshipPage
    language: str
    generated_on: date
    index: list[IndexFigure] = field(default_factory=list)
    parties: tuple[RateRow, ...] = ()
    total: RateRow | None = None
    responses: list[AreaResponses] = field(default_factory=list)
    actions: list[ActionLine] = field(default_factory=list)
    targets: list[TargetRow] = field(default_factory=list)
    summary: Summary | None = None

    @property
    def k(self) -> int:
        return self.page.k

    @property
    def names(self) -> dict[str, str]:
        return self.page.names

    @property
    def title(self) -> str:
        return gettext(
            "Partnership health board pack: %(relationship)s, %(wave)s",
            relationship=self.relationship.name,
            wave=self.wave.label,
        )

    @property
    def alerts(self) -> list[Alert]:
        """The wave's alerts — groups getting worse, gaps widening — in the dashboard's order."""
        groups = [a for g in self.page.alert_groups for a in (*g.overall, *g.by_area)]
        return groups + list(self.page.gap_alerts)


def board_pack(relationship: Relationship, wave: Wave, *, language: str = "en") -> BoardPack:
    """The board pack of a closed wave of the relationship (ServiceError for any other)."""
    page = relationship_page(relationship, Filters(), as_of=wave)
    scores = published_rows("scores", relationship, [wave])
    rates = response_rates(wave)
    pack = BoardPack(
        relationship,
        wave,
        page,
        language,
        date.today(),
        index=[_index_figure(scores, side, page.k) for side in SIDE_KEYS],
        parties=rates.parties,
        total=rates.total,
        responses=_responses(scores, page.k),
        actions=_action_lines(relationship, wave),
        targets=target_rows(relationship, wave),
    )
    pack.summary = summarise(
        wave=wave.label,
        k=page.k,
        index=pack.index,
        alerts=pack.alerts,
        material_gaps=page.material_gaps,
        total=rates.total,
    )
    return pack


def _index_figure(scores: list[dict[str, Any]], side: str, k: int) -> IndexFigure:
    return side_figure(IndexFigure, scores, side, AREA_ALL, INDEX, k, why_hidden="hidden")


def _responses(scores: list[dict[str, Any]], k: int) -> list[AreaResponses]:
    """Published responses per service area and side (the index's ``n``), all areas last."""
    areas: dict[str, str] = {}
    for r in scores:
        if r["dimension"] == INDEX:
            areas.setdefault(r["area"], r["area_name"])
    order = [a for a in areas if a != AREA_ALL] + [AREA_ALL]
    out = []
    for area in order:
        cells = []
        for side in SIDE_KEYS:
            row = scores_cell(scores, side, area, INDEX)
            if not row:
                cells.append("0")
            elif row.get(SUPPRESSED):
                cells.append(suppressed_text(row[SUPPRESSED], k))
            else:
                cells.append(f"{row['n']:,}")
        out.append(AreaResponses(area, areas[area], tuple(cells)))
    return out


def _action_lines(relationship: Relationship, wave: Wave) -> list[ActionLine]:
    """Actions agreed by the wave (baseline no later than it, or agreed before any wave
    closed), with the change since each up to the wave."""
    by_then = {w.id for w in waves_as_of(relationship, wave)}
    agreed = [
        a
        for a in actions_service.actions_for(relationship)
        if a.baseline_wave_id is None or a.baseline_wave_id in by_then
    ]
    changes = actions_service.changes_since_actions(agreed, as_of=wave)
    titles = dict(actions_service.dimension_choices(relationship))
    return [
        ActionLine(
            a.what,
            a.owner,
            a.due_on,
            a.status.replace("_", " "),
            titles.get(a.dimension_key, a.dimension_key),
            _group(a, changes[a.id]),
            a.baseline_wave.label if a.baseline_wave else None,
            changes[a.id],
        )
        for a in agreed
    ]


def _group(action: Action, change: ActionChange) -> str:
    """Whose group the action is about, in words: e.g. "Client staff, Contact centre"."""
    side = action.alert_side
    if side == "gap":
        words = gettext("Gap between the sides")
    elif side in SIDE_WORDS:
        words = gettext(SIDE_WORDS[side]).capitalize()
    else:
        words = gettext("Both sides")
    headline = change.headline
    area = headline.area_name if headline else None
    if not area or change.area == AREA_ALL:
        area = gettext("all service areas")
    return f"{words}, {area}"
