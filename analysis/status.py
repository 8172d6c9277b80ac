"""A status with the evidence behind it (DESIGN §4.12): the result types.

:class:`Evidence`, :class:`StatusResult` and :class:`GapAlert` hold what
:mod:`analysis.alert_evidence` says about a status of the calibrated detector
(:mod:`analysis.alerts`). What they say is no language's prose: each sentence is a
:class:`Phrase`, the name of a wording and the numbers and labels it states, which the
service puts into the reader's language when it is shown
(``survey_app/services/results/wording.py``). The rules that came before it (``classify``)
are kept as the benchmarks' baseline in ``benchmarks/old_rules.py`` (whose evidence is
still plain English strings).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STATUSES", "Phrase", "Evidence", "StatusResult", "GapAlert"]

STATUSES = ("deteriorating", "watch", "improving", "stable")


@dataclass(frozen=True, slots=True)
class Phrase:
    """A sentence as facts: ``key`` names its wording, ``facts`` what it states.

    Facts are JSON-ready: numbers (floats may be NaN for "none"), wave labels, and keys
    such as a direction (``-1``/``1``) or a side (``"client"``). :meth:`as_dict` is the form
    stored with the results.
    """

    key: str
    facts: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """``{"key": key, **facts}``, NaN as None (JSON has no NaN)."""
        out: dict[str, Any] = {"key": self.key, **self.facts}
        for name, value in self.facts.items():
            if value != value and isinstance(value, float):  # NaN, the one value unequal to itself
                out[name] = None
        return out


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason behind a status, in words and numbers.

    Attributes
    ----------
    kind : str
        ``"trend"``, ``"drop"``, ``"rise"``, ``"change"``, ``"ewma"``, ``"cusum"``,
        ``"band"``, ``"gap_widening"`` or ``"gap_trend"``.
    text : Phrase
        What the evidence says, e.g. ``Phrase("change", {"change": -9.2, "prev": "2011-Q4"})``
        ("Since 2011-Q4: down 9 points.").
    supports : str
        The status this evidence argues for (``"deteriorating"``, ``"watch"``,
        ``"improving"``), or ``""`` for context that argues for none (including a method
        that had too few waves).
    statistic : float
        The number the rule looked at (Kendall's S, the EWMA value, the CUSUM sum, the
        change in scale points ...); NaN if none.
    p : float
        The p-value behind it (adjusted where the rule says so); NaN if none.
    n_waves : int
        Waves the method used.
    from_label, to_label : str
        The waves compared or the span of the series.
    points_change : float
        Change on the 0–100 scale over ``from_label``→``to_label``; NaN if none.
    detail : Phrase or None
        The test and limits behind ``text``, for a "How we know" section (None if none).
    """

    kind: str
    text: Phrase
    supports: str = ""
    statistic: float = math.nan
    p: float = math.nan
    n_waves: int = 0
    from_label: str = ""
    to_label: str = ""
    points_change: float = math.nan
    detail: Phrase | None = None


@dataclass(frozen=True, slots=True)
class StatusResult:
    """Status with its evidence.

    Attributes
    ----------
    status : str
        One of :data:`STATUSES`.
    evidence : tuple of Evidence
        Evidence for the status first, then other findings and methods that could not run.
    summary : Phrase
        What moved, for a dashboard's one sentence (after the subject and the status).
    how_we_know : tuple of Phrase
        The tests and limits behind the status, one per piece of evidence (empty from
        :func:`classify`).
    """

    status: str
    evidence: tuple[Evidence, ...]
    summary: Phrase
    how_we_know: tuple[Phrase, ...] = ()


@dataclass(frozen=True, slots=True)
class GapAlert:
    """Alert for a client–supplier perception gap that is widening (DESIGN §4.12).

    Attributes
    ----------
    alert : bool
        Whether the gap widened significantly since the previous wave or trends wider.
    evidence : tuple of Evidence
    summary : Phrase
        How far apart the sides are, which side is higher, and how that moved since the
        baseline (widened, narrowed or reversed).
    how_we_know : tuple of Phrase
        The tests behind the alert (empty from :func:`gap_widening`).
    """

    alert: bool
    evidence: tuple[Evidence, ...]
    summary: Phrase
    how_we_know: tuple[Phrase, ...] = ()
