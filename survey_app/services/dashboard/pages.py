"""The manager dashboard's pages: a relationship's health and a dimension's drill-down, as
view models for the templates (the portfolio of relationships is :mod:`~.portfolio`'s).

Each page reads the relationship once (:class:`~survey_app.services.dashboard.rows.Reading`)
and puts together published rows (:mod:`~.rows`), trend charts (:mod:`~.series`), the
latest wave's charts (:mod:`~.wave_charts`), alerts (:mod:`survey_app.services.alerts`) and
an open wave's response rate (:mod:`survey_app.services.monitoring`). Nothing here computes
a statistic; filters only ever select among suppressed rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask_babel import gettext

from survey_app.dates import gov_uk_date
from survey_app.models import Relationship, Wave
from survey_app.services.alerts import Alert, needs_attention, relationship_alerts
from survey_app.services.dashboard.charts import (
    ActionMarker,
    Chart,
    TargetLine,
    from_row,
    suppressed_text,
)
from survey_app.services.dashboard.deeper import Deeper, deeper_sections
from survey_app.services.dashboard.filters import Filters, area_name
from survey_app.services.dashboard.rows import (
    Reading,
    dimension_order,
    open_waves,
    party_names,
    waves_as_of,
)
from survey_app.services.dashboard.series import action_markers, trend_charts
from survey_app.services.dashboard.wave_charts import (
    MaterialGap,
    hot_spots,
    material_gaps,
    perception_gaps,
    rate_chart,
)
from survey_app.services.monitoring import RateRow, response_rates
from survey_app.services.results import (
    AREA_ALL,
    INDEX,
    SIDE_WORDS,
    SUPPRESSED,
    closed_waves,
    min_cell_size,
)
from survey_app.services.targets import RATING_RULE, TargetDistance, distances


@dataclass(frozen=True)
class SideFigure:
    """One side's published figures of a scores cell (the health index or a dimension):
    ``None`` where the cell is suppressed or has no responses. The dashboard's
    :class:`Headline` and the board pack's ``IndexFigure`` add what each shows beside them."""

    side: str
    label: str
    n: int | None
    mean: float | None
    score100: float | None
    band: str | None
    status: str | None


@dataclass(frozen=True)
class Headline(SideFigure):
    """The health index (or a dimension) of one side in the latest closed wave."""

    status_summary: str | None
    suppressed: str | None
    suppressed_text: str


@dataclass(frozen=True)
class AlertGroup:
    """A dimension's deteriorating groups: over all service areas, and in each area."""

    dimension: str
    title: str
    overall: tuple[Alert, ...]
    by_area: tuple[Alert, ...]


@dataclass(frozen=True)
class DimensionLink:
    """A dimension in the table that leads to its drill-down, with its latest mean."""

    key: str
    title: str
    mean: float | None
    band: str | None
    status: str | None
    suppressed_text: str
    target: TargetDistance | None = None


@dataclass(frozen=True)
class OpenWaveRates:
    """An open wave's response rate: the monitor's rows with invitations, and their chart."""

    wave: Wave
    rows: tuple[RateRow, ...]
    chart: Chart | None


@dataclass
class RelationshipPage:
    relationship: Relationship
    filters: Filters
    k: int
    wave: Wave | None
    n_closed: int
    names: dict[str, str] = field(default_factory=dict)
    area_name: str = "all service areas"
    headlines: list[Headline] = field(default_factory=list)
    index_charts: list[Chart] = field(default_factory=list)
    gap_chart: Chart | None = None
    material_gaps: list[MaterialGap] = field(default_factory=list)
    heat_map: Chart | None = None
    deeper: Deeper = field(default_factory=Deeper)
    alert_groups: list[AlertGroup] = field(default_factory=list)
    gap_alerts: list[Alert] = field(default_factory=list)
    attention: list[Alert] = field(default_factory=list)
    dimensions: list[DimensionLink] = field(default_factory=list)
    response_rates: list[OpenWaveRates] = field(default_factory=list)
    closed_labels: tuple[str, ...] = ()
    chosen: bool = False
    targets: dict[str, TargetDistance] = field(default_factory=dict)
    rating_rule: str = RATING_RULE

    @property
    def latest(self) -> bool:
        """Whether the wave shown is the latest closed wave."""
        return (
            bool(self.closed_labels)
            and self.wave is not None
            and (self.wave.label == self.closed_labels[-1])
        )

    def query(self) -> dict[str, str]:
        """The page's GET parameters (filters, and the wave when one was chosen)."""
        return _query(self.filters, self.wave if self.chosen else None)

    @property
    def n_alerts(self) -> int:
        return sum(len(g.overall) + len(g.by_area) for g in self.alert_groups) + len(
            self.gap_alerts
        )


@dataclass(frozen=True)
class ItemRow:
    key: str
    wording_client: str
    wording_supplier: str
    reverse: bool
    cells: tuple[tuple[str, dict[str, Any]], ...]  # (side, published row) for each side shown


@dataclass
class DimensionPage:
    relationship: Relationship
    filters: Filters
    k: int
    wave: Wave
    names: dict[str, str]
    area_name: str
    key: str
    title: str
    description: str
    headlines: list[Headline]
    charts: list[Chart]
    actions: list[ActionMarker]
    items: list[ItemRow]
    item_sides: tuple[str, ...]
    gaps_by_area: list[dict[str, Any]]
    alerts: list[Alert]
    chosen: bool = False
    target: TargetDistance | None = None
    rating_rule: str = RATING_RULE

    def query(self) -> dict[str, str]:
        """The page's GET parameters (filters, and the wave when one was chosen)."""
        return _query(self.filters, self.wave if self.chosen else None)


def relationship_page(
    relationship: Relationship, filters: Filters, *, as_of: Wave | None = None
) -> RelationshipPage:
    """Everything the relationship's dashboard shows, for the filters given.

    Results are those of the latest closed wave, or *as of* ``as_of`` (a closed wave of the
    relationship): the waves after it are left out of the trends, and its alerts and
    statuses are as they stood when it closed. Raises ServiceError for any other wave.
    """
    waves = waves_as_of(relationship, as_of)
    closed = closed_waves(relationship)
    page = RelationshipPage(
        relationship,
        filters,
        min_cell_size(),
        waves[-1] if waves else None,
        len(waves),
        names=party_names(relationship),
        area_name=area_name(relationship, filters.area_key),
        response_rates=[_open_wave_rates(relationship, w) for w in open_waves(relationship)],
        closed_labels=tuple(w.label for w in closed),
        chosen=as_of is not None,
    )
    if not waves:
        return page
    reading = Reading.of(relationship, filters, waves)
    scores, gaps = reading.rows("scores"), reading.rows("gaps")
    page.headlines = _headlines(reading, scores, INDEX)
    labels = {w.label for w in waves}
    markers = tuple(m for m in action_markers(relationship, INDEX) if m.wave in labels)
    page.targets = _distances(reading, scores)
    page.index_charts = trend_charts(reading, INDEX, markers, _line(page.targets.get(INDEX)))
    page.gap_chart = perception_gaps(reading, gaps)
    page.material_gaps = material_gaps(gaps, reading)
    page.heat_map = hot_spots(reading, scores)
    page.deeper = deeper_sections(reading)
    found = relationship_alerts(
        relationship, side=filters.side, area=filters.area, status=None, wave=reading.wave
    )
    page.alert_groups = _group_alerts([a for a in found if a.kind == "deteriorating"], reading)
    page.gap_alerts = [a for a in found if a.kind == "gap_widening"]
    page.attention = needs_attention(found)
    page.dimensions = _dimension_links(reading, scores, page.targets)
    return page


def dimension_page(
    relationship: Relationship, key: str, filters: Filters, *, as_of: Wave | None = None
) -> DimensionPage:
    """A dimension's drill-down: its score per side over time, its items, its gaps by area.

    As of the latest closed wave, or of ``as_of`` as :func:`relationship_page` (raises
    ServiceError for a wave that is not a closed wave of the relationship).
    """
    waves = waves_as_of(relationship, as_of)
    if not waves:
        raise LookupError("no closed wave")
    reading = Reading.of(relationship, filters, waves)
    try:
        dimension = reading.instrument.dimension(key)
    except KeyError:
        raise LookupError(f"no dimension {key!r}") from None
    labels = {w.label for w in waves}
    markers = tuple(m for m in action_markers(relationship, key) if m.wave in labels)
    scores = reading.rows("scores")
    target = _distances(reading, scores).get(key)
    return DimensionPage(
        relationship=relationship,
        filters=filters,
        k=reading.k,
        wave=reading.wave,
        names=reading.names,
        area_name=area_name(relationship, filters.area_key),
        key=key,
        title=dimension.title_in(reading.language),
        description=dimension.description_in(reading.language),
        headlines=_headlines(reading, scores, key),
        charts=trend_charts(reading, key, markers, _line(target)),
        actions=list(markers),
        items=_item_rows(reading, key),
        item_sides=filters.headline_sides,
        gaps_by_area=[
            {**r, "area_name": area_name(relationship, r["area"])}  # in the reader's language
            for r in reading.rows("gaps", dimension=key)
        ],
        alerts=relationship_alerts(
            relationship, side=filters.side, area=filters.area, dimension=key, wave=reading.wave
        ),
        chosen=as_of is not None,
        target=target,
    )


def _line(target: TargetDistance | None) -> TargetLine | None:
    return TargetLine(target.target, gov_uk_date(target.agreed_on)) if target else None


def _distances(reading: Reading, scores: Sequence[Mapping[str, Any]]) -> dict[str, TargetDistance]:
    """Each agreed target beside the published mean of the filters' side and area."""
    filters = reading.filters
    return distances(
        reading.relationship,
        reading.wave,
        side=filters.heat_side,
        area=filters.area_key,
        scores=scores,
    )


def _query(filters: Filters, wave: Wave | None) -> dict[str, str]:
    return {**filters.query(), **({"wave": wave.label} if wave is not None else {})}


def scores_cell(
    rows: Iterable[Mapping[str, Any]], side: str, area: str, dimension: str
) -> Mapping[str, Any]:
    """The published scores row of one cell (side, service area, dimension); empty when the
    wave has none."""
    return next(
        (
            r
            for r in rows
            if r["side"] == side and r["area"] == area and r["dimension"] == dimension
        ),
        {},
    )


F = TypeVar("F", bound=SideFigure)


def side_figure(
    cls: type[F],
    rows: Iterable[Mapping[str, Any]],
    side: str,
    area: str,
    dimension: str,
    k: int,
    *,
    why_hidden: str,
) -> F:
    """A ``cls`` of one side's cell among published ``scores`` rows, labelled with the side;
    its field named ``why_hidden`` says why figures are missing ("No responses" when the
    wave has none)."""
    row = scores_cell(rows, side, area, dimension)
    text = suppressed_text(row.get(SUPPRESSED), k) if row else gettext("No responses")
    label = gettext(SIDE_WORDS[side]).capitalize()
    return from_row(cls, row, side=side, label=label, **{why_hidden: text})


def headline_of(
    rows: Iterable[Mapping[str, Any]], side: str, area: str, dimension: str, k: int
) -> Headline:
    """The headline of one side's cell among published ``scores`` rows."""
    return side_figure(Headline, rows, side, area, dimension, k, why_hidden="suppressed_text")


def _headlines(
    reading: Reading, scores: Sequence[Mapping[str, Any]], dimension: str
) -> list[Headline]:
    area = reading.filters.area_key
    return [
        headline_of(scores, side, area, dimension, reading.k)
        for side in reading.filters.headline_sides
    ]


def _item_rows(reading: Reading, dimension: str) -> list[ItemRow]:
    """Each statement of the dimension, both sides' wordings, and its published cells."""
    items = reading.rows("items", dimension=dimension)
    at = {(r["item"], r["side"]): r for r in items if r["area"] == reading.filters.area_key}
    names = reading.names
    return [
        ItemRow(
            item.key,
            item.text_in(
                "client", reading.language, partner=names["supplier"], partner_side="supplier"
            ),
            item.text_in(
                "supplier", reading.language, partner=names["client"], partner_side="client"
            ),
            item.reverse,
            tuple((s, at.get((item.key, s), {})) for s in reading.filters.headline_sides),
        )
        for item in reading.instrument.items_in(dimension)
    ]


def _dimension_links(
    reading: Reading,
    scores: Sequence[Mapping[str, Any]],
    targets: Mapping[str, TargetDistance],
) -> list[DimensionLink]:
    filters = reading.filters
    by_key = {
        r["dimension"]: r
        for r in scores
        if r["side"] == filters.heat_side and r["area"] == filters.area_key
    }
    return [
        from_row(
            DimensionLink,
            by_key.get(d.key, {}),
            key=d.key,
            title=d.title_in(reading.language),
            suppressed_text=suppressed_text(by_key.get(d.key, {}).get(SUPPRESSED), reading.k),
            target=targets.get(d.key),
        )
        for d in reading.instrument.dimensions
    ]


def _group_alerts(alerts: Sequence[Alert], reading: Reading) -> list[AlertGroup]:
    groups: dict[str, list[Alert]] = defaultdict(list)
    for a in alerts:
        groups[a.dimension].append(a)
    return [
        AlertGroup(
            key,
            title,
            tuple(a for a in groups[key] if a.area == AREA_ALL),
            tuple(a for a in groups[key] if a.area != AREA_ALL),
        )
        for key, title in dimension_order(reading.instrument)
        if key in groups
    ]


def _open_wave_rates(relationship: Relationship, wave: Wave) -> OpenWaveRates:
    """The monitor's rows of an open wave that have invitations, with their chart."""
    rows = tuple(r for r in response_rates(wave).rows if r.invited != 0)
    return OpenWaveRates(wave, rows, rate_chart(relationship, wave, rows) if rows else None)
