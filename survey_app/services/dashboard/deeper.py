"""The deeper results on a relationship's dashboard (issue 16): what moves commitment most,
which hot spots really differ from the rest, and how sure the results are (response rates
and margins of error). Read from the published (suppressed) ``relative_weights``,
``heat_map`` and ``margins`` tables of the wave shown; all role levels only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from survey_app.services.dashboard.rows import Reading, dimension_order, wave_rows
from survey_app.services.results import INDEX, SIDE_WORDS, SUPPRESSED


@dataclass(frozen=True)
class DriverWeight:
    """One dimension's share of what the dimensions explain of an outcome."""

    title: str
    share: float
    low: float | None
    high: float | None
    significant: bool


@dataclass(frozen=True)
class Drivers:
    """Relative weights of the dimensions on one outcome, in one group, largest first."""

    outcome: str
    group: str
    n: int | None
    r_squared: float | None
    weights: tuple[DriverWeight, ...]
    reason: str | None  # why there are no weights (too few responses, hidden)


@dataclass(frozen=True)
class Margin:
    """The health index of one side in the area shown, with its margin and response rate."""

    side: str
    n: int | None
    mean: float | None
    margin_points: float | None
    corrected: bool
    note: str | None
    low_response: bool
    suppressed: str | None


@dataclass(frozen=True)
class Deeper:
    """Everything the deeper sections show; ``by_role`` when a role level is chosen (these
    tables are for all role levels together, so nothing else is filled)."""

    drivers: tuple[Drivers, ...] = ()
    marked: tuple[Mapping[str, Any], ...] = ()
    n_compared: int = 0
    margins: tuple[Margin, ...] = ()
    by_role: bool = False


def deeper_sections(reading: Reading) -> Deeper:
    """The deeper sections for the reading's wave, side (both when none) and area."""
    filters = reading.filters
    if filters.role:
        return Deeper(by_role=True)
    side, area = filters.heat_side, filters.area_key
    compared = [
        r
        for r in wave_rows("heat_map", reading.wave)
        if r["side"] == side and r[SUPPRESSED] is None and not r.get("reason")
    ]
    return Deeper(
        drivers=_drivers(reading, side, area),
        marked=tuple(r for r in compared if r.get("marking")),
        n_compared=len(compared),
        margins=_margins(reading, area),
    )


def _drivers(reading: Reading, side: str, area: str) -> tuple[Drivers, ...]:
    rows = [
        r
        for r in wave_rows("relative_weights", reading.wave)
        if (r["side"], r["area"]) == (side, area)
    ]
    outcomes: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        outcomes.setdefault(r["outcome"], []).append(r)
    titles = dict(dimension_order(reading.instrument))
    group = gettext(SIDE_WORDS[side])
    found = []
    for outcome, own in outcomes.items():
        first = own[0]
        reason = first[SUPPRESSED] or first.get("reason")
        weights = tuple(
            sorted(
                (
                    DriverWeight(
                        titles.get(r["dimension"], r["dimension_title"]),
                        r["rescaled_weight"],
                        r["rescaled_ci_low"],
                        r["rescaled_ci_high"],
                        bool(r["significant"]),
                    )
                    for r in own
                    if r.get("rescaled_weight") is not None
                ),
                key=lambda w: -w.share,
            )
        )
        found.append(
            Drivers(
                titles.get(outcome, outcome), group, first.get("n"), first.get("r_squared"),
                weights, None if weights else (reason or gettext("not computed")),
            )
        )  # fmt: skip
    return tuple(found)


def _margins(reading: Reading, area: str) -> tuple[Margin, ...]:
    rows = {
        r["side"]: r
        for r in wave_rows("margins", reading.wave)
        if r["area"] == area and r["dimension"] == INDEX
    }
    return tuple(
        Margin(
            side,
            r.get("n"),
            r.get("mean"),
            r.get("margin_points"),
            bool(r.get("corrected")),
            r.get("note"),
            bool(r.get("low_response")),
            r[SUPPRESSED],
        )
        for side, r in rows.items()
    )
