"""Targets agreed by both sides, and the distance to them in the pack's wave (issue 15
item 3): each target the wave is read against (:func:`survey_app.services.targets.wave_targets`:
as it stood when the wave closed, today's for the latest wave), measured from the wave's
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
from survey_app.services.targets import RATING_RULE, RATING_TAGS, wave_target_rows


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
    """The targets ``wave`` is read against beside its published means of both sides, in
    the instrument's order (the health index first)."""
    # the titles in the pack's language (the rows carry the English ones)
    titles = {INDEX: gettext(INDEX_TITLE), **dict(shown_dimensions(wave_instrument(wave)))}
    return [
        TargetRow(
            titles.get(r["dimension"], r["dimension_title"]),
            gettext("Both sides"),
            r["target"],
            date.fromisoformat(r["agreed_on"]),
            r["mean"],
            r["distance"],
            RATING_TAGS[r["rating"]][1] if r["rating"] else None,
            RATING_RULE,
        )
        for r in wave_target_rows(relationship, [wave])
        if r["side"] == "all"
    ]
