"""Targets agreed by both sides, and the distance to them (issue 15 item 3): the seam.

No target is recorded anywhere yet, so :func:`target_rows` returns none and the board pack's
targets section says so. When targets arrive (a model per relationship and dimension, with
the score agreed and when), this is the one place to fill: return a :class:`TargetRow` per
target, its distance measured from the pack's wave's *published* mean (a suppressed cell
gives no distance), and the template already shows the table and the rating with its rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from survey_app.models import Relationship, Wave


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
    """The relationship's agreed targets as of ``wave`` — none are recorded yet (see the
    module)."""
    return []
