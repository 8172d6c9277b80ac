"""Targets agreed by both sides, and the distance to them in the pack's wave (issue 15
item 3): each target of :mod:`survey_app.services.targets`, measured from the wave's
*published* mean of both sides over all service areas (a suppressed cell gives no distance),
rated red, amber or green by the rule printed beside the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext

from survey_app.models import Relationship, Wave
from survey_app.services.instruments import shown_dimensions, wave_instrument
from survey_app.services.results import INDEX, INDEX_TITLE
from survey_app.services.targets import RATING_RULE, distances


@dataclass(frozen=True)
class TargetRow:
    """A dimension's agreed target, the wave's published mean and the distance to it."""

    dimension_title: str
    side: str
    target: float
    agreed_on: date
    mean: float | None
    distance: float | None  # mean − target, on the 1–K scale; None where the mean is hidden
    rating: str | None  # red / amber / green, by the rule printed beside it
    rule: str


def target_rows(relationship: Relationship, wave: Wave) -> list[TargetRow]:
    """The relationship's agreed targets beside ``wave``'s published means, in the
    instrument's order (the health index first)."""
    found = distances(relationship, wave)
    titles = {INDEX: gettext(INDEX_TITLE), **dict(shown_dimensions(wave_instrument(wave)))}
    rows = []
    for key in sorted(found, key=lambda k: list(titles).index(k) if k in titles else 99):
        d = found[key]
        rows.append(
            TargetRow(
                titles.get(key, key),
                gettext("Both sides"),
                d.target,
                d.agreed_on,
                d.mean,
                d.distance,
                d.tag[1] if d.rating else None,
                RATING_RULE,
            )
        )
    return rows
