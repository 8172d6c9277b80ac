"""The portfolio: every relationship a person may see, side by side — index, status, widest
perception gap, response rate — and the norms across the installation's relationships.

The list of relationships is :func:`survey_app.services.relationships.all_relationships` in the person's scope
(one place for per-relationship scopes). Norms come only from relationships both of whose
organisations agreed to contribute (``Party.in_norms``), only where at least
:data:`analysis.norms.MIN_CONTRIBUTORS` contribute, each figure a Harrell–Davis quartile
(:func:`analysis.norms.norms`: a weighted mean of every contributor, none weighing more than a
third) rounded to one decimal, so no other organisation's score can be read off them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from analysis.norms import MIN_CONTRIBUTORS, norms
from instruments import Instrument
from survey_app.models import Relationship, Wave
from survey_app.services.accounts.scope import AccessScope
from survey_app.services.alerts import relationship_alerts
from survey_app.services.dashboard.pages import Headline, headline_of
from survey_app.services.dashboard.rows import (
    dimension_order,
    instrument_of,
    latest_closed_wave,
    open_waves,
    shown_title,
)
from survey_app.services.monitoring import response_rates
from survey_app.services.relationships import all_relationships
from survey_app.services.results import (
    AREA_ALL,
    INDEX,
    INDEX_TITLE,
    SUPPRESSED,
    min_cell_size,
    published_rows,
)

#: Norms are shown to this many decimals (on the 1 to 5 scale).
NORM_DECIMALS = 1


@dataclass(frozen=True)
class WidestGap:
    """The widest shown perception gap of a wave over all service areas."""

    dimension: str
    title: str
    difference: float  # client minus supplier
    material: bool


@dataclass(frozen=True)
class PortfolioRow:
    relationship: Relationship
    wave: Wave | None  # the latest closed wave
    headline: Headline | None  # both sides, all service areas
    widest_gap: WidestGap | None
    invited: int
    submitted: int
    n_alerts: int
    open_waves: tuple[Wave, ...]

    @property
    def response_rate(self) -> float | None:
        """Submitted over invited in the latest closed wave (None without invitations, as
        for imported waves)."""
        return self.submitted / self.invited if self.invited else None


@dataclass(frozen=True)
class Norm:
    """A dimension's (or the index's) quartiles across the contributing relationships."""

    dimension: str
    title: str
    n: int
    lower_quartile: float | None
    median: float | None
    upper_quartile: float | None


@dataclass(frozen=True)
class Portfolio:
    rows: tuple[PortfolioRow, ...]
    norms: tuple[Norm, ...]
    contributors: int  # relationships in the norms
    min_contributors: int = MIN_CONTRIBUTORS

    @property
    def norm_of(self) -> dict[str, Norm]:
        return {n.dimension: n for n in self.norms}


def portfolio(scope: AccessScope) -> Portfolio:
    """The relationships in ``scope`` (what the person may see), with the installation's
    norms."""
    k = min_cell_size()
    rows = tuple(_row(r, k) for r in all_relationships(scope=scope))
    found, contributors = installation_norms()
    return Portfolio(rows, found, contributors)


def installation_norms() -> tuple[tuple[Norm, ...], int]:
    """The norm of the index and of each dimension, and how many relationships contribute.

    Each contributing relationship gives its latest closed wave's published mean of both
    sides over all service areas (a suppressed mean gives nothing). A dimension with fewer
    than :data:`MIN_CONTRIBUTORS` means has no figures (its quartiles are ``None``).
    """
    means: dict[str, list[float]] = defaultdict(list)
    titles: dict[str, str] = {INDEX: gettext(INDEX_TITLE)}
    contributors = 0
    for relationship in _contributing_relationships():
        wave = latest_closed_wave(relationship)
        if wave is None:
            continue
        contributors += 1
        titles.update(dimension_order(instrument_of(wave))[1:])
        for row in published_rows("scores", relationship, [wave]):
            if row["side"] == "all" and row["area"] == AREA_ALL and row["mean"] is not None:
                means[row["dimension"]].append(row["mean"])
    return tuple(_norm(key, titles[key], means[key]) for key in titles), contributors


def _contributing_relationships() -> list[Relationship]:
    """Every relationship of the installation both of whose organisations agreed."""
    return [r for r in all_relationships() if r.parties and all(p.in_norms for p in r.parties)]


def _norm(key: str, title: str, means: Sequence[float]) -> Norm:
    result = norms(means)
    if result.reason:
        return Norm(key, title, result.n, None, None, None)
    return Norm(
        key,
        title,
        result.n,
        *(
            round(v, NORM_DECIMALS)
            for v in (result.lower_quartile, result.median, result.upper_quartile)
        ),
    )


def _row(relationship: Relationship, k: int) -> PortfolioRow:
    wave = latest_closed_wave(relationship)
    headline, gap, invited, submitted, n_alerts = None, None, 0, 0, 0
    if wave is not None:
        headline = headline_of(
            published_rows("scores", relationship, [wave]), "all", AREA_ALL, INDEX, k
        )
        gap = _widest_gap(published_rows("gaps", relationship, [wave]), instrument_of(wave))
        total = response_rates(wave).total
        invited, submitted = total.invited, total.submitted
        n_alerts = len(relationship_alerts(relationship))
    return PortfolioRow(
        relationship,
        wave,
        headline,
        gap,
        invited,
        submitted,
        n_alerts,
        tuple(open_waves(relationship)),
    )


def _widest_gap(gaps: Sequence[Mapping[str, Any]], instrument: Instrument) -> WidestGap | None:
    shown = [
        r
        for r in gaps
        if r["area"] == AREA_ALL
        and r["dimension"] != INDEX
        and r[SUPPRESSED] is None
        and r.get("difference") is not None
        and not math.isnan(r["difference"])
    ]
    if not shown:
        return None
    widest = max(shown, key=lambda r: abs(r["difference"]))
    return WidestGap(
        widest["dimension"],
        shown_title(instrument, widest),
        widest["difference"],
        bool(widest.get("material")),
    )
