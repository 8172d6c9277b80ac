"""The manager dashboard and the API's reading of results: view models from stored results.

Nothing here computes a statistic of the survey afresh from a view's point of view: every
number comes from the tables that :mod:`survey_app.services.results` stored when the wave
closed, with confidentiality suppression applied now (DESIGN §4.14) by its functions. Two
things are derived here, both from the same pure functions the scoring service uses:

* **Role-level cuts** (the "role level" filter). The stored tables cut a wave by side and
  service area only. For a role level the wave's answers are split by role (every level, and
  "not stated"), each part is scored with :func:`~survey_app.services.results.score_wave` and
  :func:`~survey_app.services.results.compute_wave_tables`, and the result is cached per closed
  wave (:class:`~survey_app.services.dashboard.charts.ChartCache`). A role cut is then suppressed as a
  three-way cube — side × service area × role level, with the stored all-roles cells as the
  role margins — so that no cell below k is shown and none can be worked out by subtracting
  shown cells (another role, another side, another area) from a margin the dashboard shows.
  Role cuts carry no status, trend or change: those need every wave and stay with the
  all-roles results.
* **The EWMA line of a chart**, drawn through the *published* wave means (suppressed waves
  are gaps) with :func:`analysis.trends.ewma` and the scoring service's parameters, so that a
  suppressed mean cannot be recovered from the smoothed line. Where nothing is suppressed its
  last value is the stored ``trends`` EWMA (tested).

Filters (side, service area, role level) only ever select among suppressed rows.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select

from analysis import trends
from instruments import Instrument
from survey_app.extensions import db
from survey_app.models import ROLE_LEVELS, Draft, Invitation, Party, Relationship, ServiceArea, Wave
from survey_app.services import ServiceError, actions
from survey_app.services.dashboard import charts
from survey_app.services.instruments import frozen_instrument
from survey_app.services.results import (
    AREA_ALL,
    AREA_NONE,
    CHART_BASELINE_WAVES,
    INDEX,
    INDEX_TITLE,
    PRIMARY,
    ROLE_KEYS,
    SECONDARY,
    SUPPRESSED,
    Layout,
    blank,
    closed_waves,
    compute_wave_tables,
    cube_partitions,
    load_answers,
    min_cell_size,
    published_rows,
    score_wave,
    stored_rows,
    suppress_rows,
    suppression_reasons,
)

SIDES = ("client", "supplier")
ROLE_ALL = "_all"
ROLE_NONE = "_none"
SIDE_WORDS = {"client": "Client staff", "supplier": "Supplier staff", "all": "Both sides"}
#: EWMA smoothing, as the scoring service charts it (DESIGN §4.11).
EWMA_LAMBDA = 0.3

_SCORE_LABELS = ("wave", "side", "area", "area_name", "dimension", "dimension_title")
_ITEM_LABELS = (
    "wave",
    "side",
    "area",
    "area_name",
    "item",
    "item_no",
    "dimension",
    "reverse_keyed",
)
_GAP_LABELS = ("wave", "area", "area_name", "dimension", "dimension_title")
#: How a role cut of each table is cut into blocks, counted, and what a hidden row keeps.
_CUBE: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "scores": (("dimension",), "n", _SCORE_LABELS),
    "items": (("item",), "n", _ITEM_LABELS),
}


# ================================================================================ filters


@dataclass(frozen=True)
class Filters:
    """What a manager narrowed the view to: a side, a service area (key), a role level."""

    side: str | None = None
    area: str | None = None
    role: str | None = None

    @property
    def area_key(self) -> str:
        return self.area or AREA_ALL

    @property
    def sides(self) -> tuple[str, ...]:
        """The sides whose series are drawn: the chosen one, else client and supplier."""
        return (self.side,) if self.side else SIDES

    @property
    def heat_side(self) -> str:
        return self.side or "all"

    def query(self) -> dict[str, str]:
        """As GET parameters (for links that keep the filters)."""
        out = {"side": self.side, "area": self.area, "role_level": self.role}
        return {k: v for k, v in out.items() if v}

    def params(self) -> dict[str, str | None]:
        return {"side": self.side, "area": self.area, "role": self.role}


def area_choices(relationship: Relationship) -> list[tuple[str, str]]:
    """Service areas a filter may choose (key, name), "not stated" last."""
    return [(a.key, a.name) for a in relationship.service_areas] + [
        (AREA_NONE, "Service area not stated")
    ]


def parse_filters(
    relationship: Relationship,
    *,
    side: str | None = None,
    area: str | None = None,
    role: str | None = None,
) -> Filters:
    """Check filter values; raises ServiceError naming the first bad one."""
    if side and side not in SIDES:
        raise ServiceError(f"side must be client or supplier, not {side!r}")
    if area and area not in dict(area_choices(relationship)):
        known = ", ".join(k for k, _ in area_choices(relationship))
        raise ServiceError(f"there is no service area {area!r} (known: {known})")
    if role and role not in ROLE_LEVELS:
        raise ServiceError(f"role level must be one of {', '.join(ROLE_LEVELS)}, not {role!r}")
    return Filters(side or None, area or None, role or None)


# ================================================================================ waves


def latest_closed_wave(relationship: Relationship) -> Wave | None:
    waves = closed_waves(relationship)
    return waves[-1] if waves else None


def open_waves(relationship: Relationship) -> list[Wave]:
    return list(
        db.session.scalars(
            select(Wave)
            .where(Wave.relationship_id == relationship.id, Wave.state == "open")
            .order_by(Wave.opened_at, Wave.id)
        )
    )


def instrument_of(wave: Wave) -> Instrument:
    return frozen_instrument(wave.instrument_version)


def dimension_order(instrument: Instrument) -> list[tuple[str, str]]:
    """(key, title) of the index, then every dimension in instrument order."""
    return [(INDEX, INDEX_TITLE)] + [(d.key, d.title) for d in instrument.dimensions]


def scale_of(instrument: Instrument) -> charts.Scale:
    return charts.Scale(
        instrument.scale.points, instrument.bands.strength, instrument.bands.concern
    )


# ================================================================================ rows of a wave


def wave_rows(
    table: str,
    wave: Wave,
    role: str | None = None,
    *,
    dimension: str | None = None,
    cache: charts.ChartCache | None = None,
) -> list[dict[str, Any]]:
    """Suppressed rows of ``scores``, ``items`` or ``gaps`` of one closed wave.

    All role levels (the stored results) by default; ``role`` gives the role-level cut,
    suppressed as the side × area × role cube (see the module notes) and cached per wave.
    ``dimension`` narrows the rows (for ``items``, only that dimension's items are worked
    through the cube: suppression blocks are single items, so the result is the same).
    """
    if table not in ("scores", "items", "gaps"):
        raise ServiceError(f"no wave table {table!r}")
    if wave.state != "closed":
        raise ServiceError(f"wave {wave.label!r} is {wave.state}: only closed waves have results")
    relationship = wave.relationship
    if role is None:
        rows = published_rows(table, relationship, [wave])
    else:
        if role not in ROLE_LEVELS:
            raise ServiceError(f"role level must be one of {', '.join(ROLE_LEVELS)}, not {role!r}")
        rows = _role_rows(table, wave, cache or charts.ChartCache.of(relationship), dimension)[role]
    return rows if dimension is None else [r for r in rows if r["dimension"] == dimension]


def _role_rows(
    table: str, wave: Wave, cache: charts.ChartCache, dimension: str | None
) -> dict[str, list[dict[str, Any]]]:
    """Every role level's suppressed rows of ``table`` (cached per wave and k)."""
    k = min_cell_size()

    def cuts() -> dict[str, dict[str, list[dict[str, Any]]]]:
        return cache.payload(wave.id, "role-cuts", {}, lambda: _role_cuts(wave))

    if table == "gaps":
        scores = _role_rows("scores", wave, cache, None)
        return cache.payload(
            wave.id,
            "role-gaps",
            {},
            lambda: {
                role: _suppress_role_gaps(tables["gaps"], scores[role])
                for role, tables in cuts().items()
            },
        )
    # Items are worked through the cube one dimension at a time (a drill-down needs only
    # its own); scores always whole.
    narrow = dimension if table == "items" else None
    return cache.payload(
        wave.id,
        f"role-{table}",
        {"dimension": narrow},
        lambda: _suppressed_role_cube(table, wave, cuts(), k, narrow),
    )


def _role_cuts(wave: Wave) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Scores, items and gaps of the wave for each role level (and "not stated"), unsuppressed."""
    answers = load_answers([wave])[0]
    layout = Layout.of(wave.relationship)
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    codes = [(i, key) for i, key in enumerate(ROLE_KEYS)] + [(-1, ROLE_NONE)]
    for code, key in codes:
        mask = answers.role == code
        if not mask.any():
            out[key] = {"scores": [], "items": [], "gaps": []}
            continue
        part = dataclasses.replace(
            answers,
            x=answers.x[mask],
            dont_know=answers.dont_know[mask],
            side=answers.side[mask],
            area=answers.area[mask],
            role=answers.role[mask],
        )
        tables = compute_wave_tables(score_wave(part, layout, wave.label)).tables
        out[key] = {name: _records(tables[name]) for name in ("scores", "items", "gaps")}
    return out


def _records(columns: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _suppressed_role_cube(
    table: str,
    wave: Wave,
    cuts: Mapping[str, Mapping[str, list[dict[str, Any]]]],
    k: int,
    dimension: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Every role cut of ``table`` suppressed together with the all-roles margins.

    The all-roles cells are shown as the stored results publish them; if the cube's rule
    would hide one of them that is published, every role cell of that block is hidden.
    """
    block_columns, count, labels = _CUBE[table]
    _, stored = stored_rows(table, wave.relationship, [wave])
    if dimension is not None:
        stored = [r for r in stored if r["dimension"] == dimension]
        cuts = {
            role: {table: [r for r in tables[table] if r["dimension"] == dimension]}
            for role, tables in cuts.items()
        }
    published = {
        (r["side"], r["area"], *(r[c] for c in block_columns)): r[SUPPRESSED]
        for r in suppress_rows(table, stored, k)
    }
    entries: list[tuple[str, dict[str, Any]]] = [(ROLE_ALL, r) for r in stored]
    for role, tables in cuts.items():
        entries.extend((role, r) for r in tables[table])
    blocks: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, (_, row) in enumerate(entries):
        blocks[tuple(row[c] for c in block_columns)].append(i)
    reasons: list[str | None] = [None] * len(entries)
    for block, members in blocks.items():
        cells = [(entries[i][1]["side"], entries[i][1]["area"], entries[i][0]) for i in members]
        partitions, totals = cube_partitions(cells, ("all", AREA_ALL, ROLE_ALL))
        counts = [entries[i][1][count] or 0 for i in members]
        found = suppression_reasons(counts, partitions, totals, k)
        conflict = any(
            role == ROLE_ALL and reason is not None and published.get((side, area, *block)) is None
            for (side, area, role), reason in zip(cells, found, strict=True)
        )
        for i, reason in zip(members, found, strict=True):
            if entries[i][0] != ROLE_ALL:
                reasons[i] = reason or (SECONDARY if conflict else None)
    out: dict[str, list[dict[str, Any]]] = {role: [] for role in cuts}
    for (role, row), reason in zip(entries, reasons, strict=True):
        if role != ROLE_ALL:
            out[role].append(blank(row, reason, labels))
    return out


def _suppress_role_gaps(
    gaps: Iterable[Mapping[str, Any]], scores: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """A role cut's gaps, hidden wherever either side's scores of the cut are."""
    reason_of = {(r["side"], r["area"], r["dimension"]): r[SUPPRESSED] for r in scores}
    out = []
    for row in gaps:
        sides = [reason_of.get((s, row["area"], row["dimension"]), PRIMARY) for s in SIDES]
        reason = PRIMARY if PRIMARY in sides else SECONDARY if any(sides) else None
        out.append(blank(row, reason, _GAP_LABELS))
    return out


# ================================================================================ the pages


@dataclass(frozen=True)
class Headline:
    """The health index (or a dimension) of one side in the latest closed wave."""

    side: str
    label: str
    n: int | None
    mean: float | None
    score100: float | None
    band: str | None
    status: str | None
    status_summary: str | None
    suppressed: str | None
    suppressed_text: str


@dataclass(frozen=True)
class Alert:
    """A group getting worse (``deteriorating``) or two sides drifting apart (``gap_widening``)."""

    kind: str
    dimension: str
    dimension_title: str
    side: str | None
    area: str
    area_name: str
    summary: str
    evidence: tuple[str, ...]
    latest_wave: str | None


@dataclass(frozen=True)
class AlertGroup:
    dimension: str
    title: str
    overall: tuple[Alert, ...]
    by_area: tuple[Alert, ...]


@dataclass(frozen=True)
class MaterialGap:
    dimension: str
    title: str
    area: str
    area_name: str
    mean_client: float
    mean_supplier: float
    difference: float
    p_adjusted: float | None
    g: float | None


@dataclass(frozen=True)
class DimensionLink:
    key: str
    title: str
    description: str
    mean: float | None
    band: str | None
    status: str | None
    suppressed_text: str


@dataclass(frozen=True)
class ResponseRates:
    wave: Wave
    rows: tuple[charts.RateRow, ...]
    chart: charts.Chart | None


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
    index_charts: list[charts.Chart] = field(default_factory=list)
    gap_chart: charts.Chart | None = None
    material_gaps: list[MaterialGap] = field(default_factory=list)
    heat_map: charts.Chart | None = None
    alert_groups: list[AlertGroup] = field(default_factory=list)
    gap_alerts: list[Alert] = field(default_factory=list)
    watch: list[Alert] = field(default_factory=list)
    dimensions: list[DimensionLink] = field(default_factory=list)
    response_rates: list[ResponseRates] = field(default_factory=list)

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
    charts: list[charts.Chart]
    actions: list[charts.ActionMarker]
    items: list[ItemRow]
    item_sides: tuple[str, ...]
    gaps_by_area: list[dict[str, Any]]
    alerts: list[Alert]


@dataclass(frozen=True)
class RelationshipCard:
    relationship: Relationship
    wave: Wave | None
    headline: Headline | None
    n_alerts: int
    open_waves: tuple[Wave, ...]


def overview() -> list[RelationshipCard]:
    """Every relationship with its latest index (both sides, all areas) and alert count."""
    cards = []
    for relationship in db.session.scalars(select(Relationship).order_by(Relationship.name)):
        wave = latest_closed_wave(relationship)
        headline, n_alerts = None, 0
        if wave is not None:
            rows = published_rows("scores", relationship, [wave])
            headline = _headline(rows, "all", AREA_ALL, INDEX, min_cell_size())
            n_alerts = len(relationship_alerts(relationship))
        cards.append(
            RelationshipCard(
                relationship, wave, headline, n_alerts, tuple(open_waves(relationship))
            )
        )
    return cards


def relationship_page(relationship: Relationship, filters: Filters) -> RelationshipPage:
    """Everything the relationship's dashboard shows, for the filters given."""
    k = min_cell_size()
    waves = closed_waves(relationship)
    wave = waves[-1] if waves else None
    page = RelationshipPage(
        relationship,
        filters,
        k,
        wave,
        len(waves),
        names=_party_names(relationship),
        area_name=_area_name(relationship, filters.area_key),
    )
    page.response_rates = [
        ResponseRates(w, tuple(rows), _rate_chart(relationship, w, rows) if rows else None)
        for w in open_waves(relationship)
        for rows in [response_rates(w)]
    ]
    if wave is None:
        return page
    cache = charts.ChartCache.of(relationship)
    instrument = instrument_of(wave)
    scale = scale_of(instrument)
    scores = wave_rows("scores", wave, filters.role, cache=cache)
    gaps = wave_rows("gaps", wave, filters.role, cache=cache)
    sides = (*filters.sides, "all") if not filters.side else filters.sides
    page.headlines = [_headline(scores, s, filters.area_key, INDEX, k) for s in sides]
    names = page.names
    index_actions = actions_for(relationship, INDEX)
    page.index_charts = [
        _trend_chart(
            cache, relationship, waves, side, filters.area_key, INDEX, scale, k, index_actions
        )
        for side in filters.sides
    ]
    page.gap_chart = cache.chart(
        wave.id,
        "gaps",
        {"area": filters.area_key, "role": filters.role},
        lambda: _gap_chart(relationship, wave, gaps, filters, instrument, scale, names, k),
    )
    page.material_gaps = _material_gaps(gaps, instrument)
    page.heat_map = cache.chart(
        wave.id,
        "heat",
        {"side": filters.heat_side, "role": filters.role},
        lambda: _heat_map(relationship, wave, scores, filters, instrument, scale, k),
    )
    found = relationship_alerts(relationship, side=filters.side, area=filters.area)
    page.alert_groups = _group_alerts([a for a in found if a.kind == "deteriorating"], instrument)
    page.gap_alerts = [a for a in found if a.kind == "gap_widening"]
    page.watch = relationship_alerts(
        relationship, side=filters.side, area=filters.area, status="watch"
    )
    by_key = {
        r["dimension"]: r
        for r in scores
        if r["side"] == filters.heat_side and r["area"] == filters.area_key
    }
    page.dimensions = [
        DimensionLink(
            d.key,
            d.title,
            d.description,
            by_key.get(d.key, {}).get("mean"),
            by_key.get(d.key, {}).get("band"),
            by_key.get(d.key, {}).get("status"),
            charts.suppressed_text(by_key.get(d.key, {}).get(SUPPRESSED), k),
        )
        for d in instrument.dimensions
    ]
    return page


def dimension_page(relationship: Relationship, key: str, filters: Filters) -> DimensionPage:
    """A dimension's drill-down: its score per side over time, its items, its gaps by area."""
    waves = closed_waves(relationship)
    if not waves:
        raise LookupError("no closed wave")
    wave = waves[-1]
    instrument = instrument_of(wave)
    try:
        dimension = instrument.dimension(key)
    except KeyError:
        raise LookupError(f"no dimension {key!r}") from None
    k = min_cell_size()
    scale = scale_of(instrument)
    cache = charts.ChartCache.of(relationship)
    scores = wave_rows("scores", wave, filters.role, cache=cache)
    sides = (*filters.sides, "all") if not filters.side else filters.sides
    headlines = [_headline(scores, s, filters.area_key, key, k) for s in sides]
    actions = actions_for(relationship, key)
    chart_list = [
        _trend_chart(cache, relationship, waves, side, filters.area_key, key, scale, k, actions)
        for side in filters.sides
    ]
    items = wave_rows("items", wave, filters.role, dimension=key, cache=cache)
    at = {(r["item"], r["side"]): r for r in items if r["area"] == filters.area_key}
    names = _party_names(relationship)
    item_rows = []
    for item in instrument.items_in(key):
        item_rows.append(
            ItemRow(
                item.key,
                item.text("client", partner=names["supplier"], partner_side="supplier"),
                item.text("supplier", partner=names["client"], partner_side="client"),
                item.reverse,
                tuple((s, at.get((item.key, s), {})) for s in sides),
            )
        )
    gaps = wave_rows("gaps", wave, filters.role, dimension=key, cache=cache)
    return DimensionPage(
        relationship=relationship,
        filters=filters,
        k=k,
        wave=wave,
        names=names,
        area_name=_area_name(relationship, filters.area_key),
        key=key,
        title=dimension.title,
        description=dimension.description,
        headlines=headlines,
        charts=chart_list,
        actions=list(actions),
        items=item_rows,
        item_sides=sides,
        gaps_by_area=gaps,
        alerts=[
            a
            for a in relationship_alerts(relationship, side=filters.side, area=filters.area)
            if a.dimension == key
        ],
    )


def actions_for(relationship: Relationship, dimension: str) -> tuple[charts.ActionMarker, ...]:
    """Agreed actions on a dimension (or ``index``), to mark on its trend chart.

    From :func:`survey_app.services.actions.actions_for` (issue 6): each action is drawn at
    the wave after which it was agreed (its baseline), labelled with what was agreed, and
    listed under the chart with its owner, due date and status. The markers are part of the
    chart's cache key, so a new or changed action redraws the chart.
    """

    markers = []
    for action in actions.actions_for(relationship, dimension):
        wave = action.marker_wave_label
        if wave is None:
            continue
        status = action.status.replace("_", " ")
        markers.append(
            charts.ActionMarker(
                wave,
                f"{action.what} (owner {action.owner}, due "
                f"{action.due_on.strftime('%-d %B %Y')}, {status})",
            )
        )
    return tuple(markers)


# ------------------------------------------------------------------------------ pieces


def _party_names(relationship: Relationship) -> dict[str, str]:
    return {p.side: p.name for p in relationship.parties}


def _headline(
    rows: Iterable[Mapping[str, Any]], side: str, area: str, dimension: str, k: int
) -> Headline:
    row = next(
        (
            r
            for r in rows
            if r["side"] == side and r["area"] == area and r["dimension"] == dimension
        ),
        {},
    )
    reason = row.get(SUPPRESSED) if row else None
    return Headline(
        side=side,
        label=SIDE_WORDS[side],
        n=row.get("n"),
        mean=row.get("mean"),
        score100=row.get("score100"),
        band=row.get("band"),
        status=row.get("status"),
        status_summary=row.get("status_summary"),
        suppressed=reason,
        suppressed_text=charts.suppressed_text(reason, k) if row else "No responses",
    )


def score_series(
    relationship: Relationship,
    waves: Sequence[Wave],
    side: str,
    area: str,
    dimension: str,
    *,
    series_start: str | None = None,
) -> list[charts.SeriesPoint]:
    """One cell's published means over the closed waves, with the EWMA through them.

    The EWMA (λ = 0.3, baseline the first :data:`CHART_BASELINE_WAVES` observed waves, as
    the scoring service) runs from ``series_start`` (the first comparable wave) over the
    means as published: a suppressed wave is a gap in it, so the line cannot give it away.
    """
    k = min_cell_size()
    _, rows = stored_rows("scores", relationship, waves)
    block = [r for r in rows if r["dimension"] == dimension]
    shown = {
        r["wave"]: r
        for r in suppress_rows("scores", block, k)
        if r["side"] == side and r["area"] == area
    }
    labels = [w.label for w in waves]
    start = labels.index(series_start) if series_start in labels else 0
    y = np.array(
        [
            np.nan if shown.get(label, {}).get("mean") is None else shown[label]["mean"]
            for label in labels[start:]
        ],
        dtype=float,
    )
    chart = trends.ewma(y, lam=EWMA_LAMBDA, n_baseline=CHART_BASELINE_WAVES) if y.size else None
    points = []
    for i, label in enumerate(labels):
        row = shown.get(label, {})
        j = i - start
        has = chart is not None and not chart.reason and j >= 0 and not np.isnan(chart.z[j])
        points.append(
            charts.SeriesPoint(
                wave=label,
                n=row.get("n"),
                mean=row.get("mean"),
                ci_low=row.get("ci_low"),
                ci_high=row.get("ci_high"),
                score100=row.get("score100"),
                band=row.get("band"),
                suppressed=row.get(SUPPRESSED) if row else None,
                ewma=float(chart.z[j]) if has else None,
                ewma_lower=float(chart.lower[j]) if has else None,
                ewma_upper=float(chart.upper[j]) if has else None,
            )
        )
    return points


def _trend_chart(
    cache: charts.ChartCache,
    relationship: Relationship,
    waves: Sequence[Wave],
    side: str,
    area: str,
    dimension: str,
    scale: charts.Scale,
    k: int,
    markers: Sequence[charts.ActionMarker],
) -> charts.Chart:
    area_name = _area_name(relationship, area)
    title_of = dict(dimension_order(instrument_of(waves[-1])))
    title = (
        f"{title_of.get(dimension, dimension)} over time: {SIDE_WORDS[side].lower()}, {area_name}"
    )
    params = {
        "side": side,
        "area": area,
        "dimension": dimension,
        "markers": [dataclasses.astuple(m) for m in markers],
    }

    def render() -> charts.Chart:
        start = _series_start(relationship, side, area, dimension)
        points = score_series(relationship, waves, side, area, dimension, series_start=start)
        return charts.index_chart(
            f"trend-{side}-{_slug(area)}-{dimension}",
            title=title,
            subject=f"{title_of.get(dimension, dimension)}, {SIDE_WORDS[side].lower()}, {area_name}",
            points=points,
            side=side,
            scale=scale,
            markers=markers,
            k=k,
        )

    return cache.chart(waves[-1].id, "trend", params, render)


def _series_start(relationship: Relationship, side: str, area: str, dimension: str) -> str | None:
    _, rows = stored_rows("trends", relationship)
    for r in rows:
        if r["side"] == side and r["area"] == area and r["dimension"] == dimension:
            return r.get("series_start")
    return None


def _gap_chart(
    relationship: Relationship,
    wave: Wave,
    gaps: Sequence[Mapping[str, Any]],
    filters: Filters,
    instrument: Instrument,
    scale: charts.Scale,
    names: Mapping[str, str],
    k: int,
) -> charts.Chart:
    at = {r["dimension"]: r for r in gaps if r["area"] == filters.area_key}
    points = []
    for key, title in dimension_order(instrument):
        r = at.get(key, {})
        points.append(
            charts.GapPoint(
                dimension=key,
                title=title,
                mean_client=r.get("mean_client"),
                mean_supplier=r.get("mean_supplier"),
                n_client=r.get("n_client"),
                n_supplier=r.get("n_supplier"),
                difference=r.get("difference"),
                g=r.get("g"),
                p_adjusted=r.get("p_adjusted"),
                material=r.get("material"),
                suppressed=r.get(SUPPRESSED) if r else PRIMARY,
            )
        )
    where = _area_name(relationship, filters.area_key)
    role = f", {ROLE_LEVELS[filters.role].lower()} level" if filters.role else ""
    return charts.gap_chart(
        f"gaps-{_slug(filters.area_key)}",
        title=f"How each side sees the partnership, {wave.label}: {where}{role}",
        subject=f"{wave.label}, {where}{role}",
        gaps=points,
        client_name=names.get("client", "client"),
        supplier_name=names.get("supplier", "supplier"),
        scale=scale,
        k=k,
    )


def _heat_map(
    relationship: Relationship,
    wave: Wave,
    scores: Sequence[Mapping[str, Any]],
    filters: Filters,
    instrument: Instrument,
    scale: charts.Scale,
    k: int,
) -> charts.Chart:
    side = filters.heat_side
    present = {r["area"] for r in scores if r["side"] == side}
    areas = [(a.key, a.name) for a in relationship.service_areas if a.key in present]
    if AREA_NONE in present:
        areas.append((AREA_NONE, "Not stated"))
    areas.append((AREA_ALL, "All service areas"))
    cells = {
        (r["dimension"], r["area"]): charts.HeatCell(r["mean"], r["n"], r["band"], r[SUPPRESSED])
        for r in scores
        if r["side"] == side
    }
    dims = [(d.key, d.title) for d in instrument.dimensions] + [(INDEX, INDEX_TITLE)]
    role = f", {ROLE_LEVELS[filters.role].lower()} level" if filters.role else ""
    title = f"Hot spots by service area, {wave.label}: {SIDE_WORDS[side].lower()}{role}"
    return charts.heat_map(
        f"heat-{side}",
        title=title,
        subject=f"{wave.label}, {SIDE_WORDS[side].lower()}{role}",
        dimensions=dims,
        areas=areas,
        cells=cells,
        scale=scale,
        k=k,
    )


def _material_gaps(gaps: Iterable[Mapping[str, Any]], instrument: Instrument) -> list[MaterialGap]:
    order = {key: i for i, (key, _) in enumerate(dimension_order(instrument))}
    found = [
        MaterialGap(
            r["dimension"],
            r["dimension_title"],
            r["area"],
            r["area_name"],
            r["mean_client"],
            r["mean_supplier"],
            r["difference"],
            r["p_adjusted"],
            r["g"],
        )
        for r in gaps
        if r.get("material") and r[SUPPRESSED] is None
    ]
    return sorted(
        found, key=lambda m: (m.area == AREA_ALL, -abs(m.difference), order.get(m.dimension, 99))
    )


def _area_name(relationship: Relationship, area: str) -> str:
    if area == AREA_ALL:
        return "all service areas"
    return dict(area_choices(relationship)).get(area, area)


def _slug(value: str) -> str:
    return value.strip("_").replace("_", "-") or "all"


# ================================================================================ alerts


def relationship_alerts(
    relationship: Relationship,
    *,
    side: str | None = None,
    area: str | None = None,
    dimension: str | None = None,
    status: str = "deteriorating",
) -> list[Alert]:
    """Alerts as of the latest closed wave, from the stored (suppressed) trends.

    ``status="deteriorating"`` gives every group getting worse and every perception gap
    widening; ``status="watch"`` the groups to watch. Each alert is the stored status sentence
    and its evidence, one line per piece. Filters narrow by side, service area (key) and
    dimension; a widening gap concerns both sides and stays whatever the side. Ordered by
    dimension (index first), then overall before service areas.
    """
    k = min_cell_size()
    _, rows = stored_rows("trends", relationship)
    shown = suppress_rows("trends", rows, k)
    found: list[Alert] = []
    for r in shown:
        if r[SUPPRESSED] is not None:
            continue
        if (area and r["area"] != area) or (dimension and r["dimension"] != dimension):
            continue
        if r["status"] == status and (not side or r["side"] == side):
            found.append(
                Alert(
                    "deteriorating" if status == "deteriorating" else status,
                    r["dimension"],
                    r["dimension_title"],
                    r["side"],
                    r["area"],
                    r["area_name"],
                    r["status_summary"] or "",
                    _lines(r["status_evidence"], r["status_summary"]),
                    r["latest_wave"],
                )
            )
        if status == "deteriorating" and r["side"] == "all" and r.get("gap_alert"):
            found.append(
                Alert(
                    "gap_widening",
                    r["dimension"],
                    r["dimension_title"],
                    None,
                    r["area"],
                    r["area_name"],
                    r["gap_alert_summary"] or "",
                    _lines(r["gap_alert_evidence"], r["gap_alert_summary"]),
                    r["latest_wave"],
                )
            )
    areas = {a.key: a.position for a in relationship.service_areas}
    side_rank = {"all": 0, "client": 1, "supplier": 2, None: 0}
    dims = _dimension_rank(relationship)
    return sorted(
        found,
        key=lambda a: (
            a.kind != "deteriorating" and a.kind != "watch",
            dims.get(a.dimension, 99),
            a.area != AREA_ALL,
            areas.get(a.area, 10_000),
            side_rank.get(a.side, 3),
        ),
    )


def _dimension_rank(relationship: Relationship) -> dict[str, int]:
    wave = latest_closed_wave(relationship)
    if wave is None:
        return {}
    return {key: i for i, (key, _) in enumerate(dimension_order(instrument_of(wave)))}


def _lines(text: str | None, summary: str | None) -> tuple[str, ...]:
    """Evidence, one piece a line, without the subject the summary already names."""
    subject = (summary or "").partition(": ")[0] + ": "
    out = []
    for line in (text or "").split("\n"):
        line = line.strip()
        if line.startswith(subject) and len(line) > len(subject):
            line = line[len(subject) :]
            line = line[0].upper() + line[1:]
        if line:
            out.append(line)
    return tuple(out)


def _group_alerts(alerts: Sequence[Alert], instrument: Instrument) -> list[AlertGroup]:
    groups: dict[str, list[Alert]] = defaultdict(list)
    for a in alerts:
        groups[a.dimension].append(a)
    out = []
    for key, title in dimension_order(instrument):
        if key in groups:
            members = groups[key]
            out.append(
                AlertGroup(
                    key,
                    title,
                    tuple(a for a in members if a.area == AREA_ALL),
                    tuple(a for a in members if a.area != AREA_ALL),
                )
            )
    return out


# ================================================================================ an open wave


def response_rates(wave: Wave) -> list[charts.RateRow]:
    """Invitations issued, started (a draft saved) and used, per party and service area.

    Counts only: nothing here links an invitation to a response or a person.
    """
    started = func.count(Draft.token_hash)
    rows = db.session.execute(
        select(
            Party.side,
            Party.name,
            ServiceArea.name,
            ServiceArea.position,
            func.count(Invitation.id),
            started,
            func.count(Invitation.used_on),
        )
        .join(Party, Party.id == Invitation.party_id)
        .outerjoin(ServiceArea, ServiceArea.id == Invitation.service_area_id)
        .outerjoin(Draft, Draft.token_hash == Invitation.token_hash)
        .where(Invitation.wave_id == wave.id)
        .group_by(Party.side, Party.name, ServiceArea.name, ServiceArea.position)
    ).all()
    ordered = sorted(
        rows, key=lambda r: (SIDES.index(r[0]), r[3] is None, r[3] if r[3] is not None else 0)
    )
    return [
        charts.RateRow(
            party=name,
            area=area or "No service area given",
            issued=int(issued),
            started=int(drafts),
            submitted=int(used),
        )
        for _side, name, area, _pos, issued, drafts, used in ordered
    ]


def _rate_chart(
    relationship: Relationship, wave: Wave, rows: Sequence[charts.RateRow]
) -> charts.Chart:
    """Not cached: an open wave's counts change with every response."""
    return charts.response_rate_chart(
        f"rates-{wave.id}",
        title=f"Response rate so far, wave {wave.label}",
        subject=f"Wave {wave.label} of {relationship.name}, still open",
        rows=rows,
    )


# ================================================================================ the API's reading


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
    """The relationship's published trends (empty before any wave closes)."""
    _, rows = stored_rows("trends", relationship)
    return suppress_rows("trends", rows, min_cell_size())


__all__ = [
    "ROLE_ALL",
    "Alert",
    "AlertGroup",
    "DimensionPage",
    "Filters",
    "Headline",
    "RelationshipCard",
    "RelationshipPage",
    "actions_for",
    "area_choices",
    "dimension_order",
    "dimension_page",
    "filter_rows",
    "instrument_of",
    "latest_closed_wave",
    "open_waves",
    "overview",
    "parse_filters",
    "relationship_alerts",
    "relationship_page",
    "response_rates",
    "score_series",
    "trend_rows",
    "wave_rows",
]
