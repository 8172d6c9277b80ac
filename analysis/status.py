"""A status in plain words with the evidence behind it (DESIGN §4.12): the result types.

:class:`Evidence`, :class:`StatusResult` and :class:`GapAlert` hold what
:mod:`analysis.alert_evidence` says about a status of the calibrated detector
(:mod:`analysis.alerts`). The rules that came before it (``classify``) are kept as the
benchmarks' baseline in ``benchmarks/old_rules.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["STATUSES", "Evidence", "StatusResult", "GapAlert"]

STATUSES = ("deteriorating", "watch", "improving", "stable")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason behind a status, in words and numbers.

    Attributes
    ----------
    kind : str
        ``"trend"``, ``"drop"``, ``"rise"``, ``"change"``, ``"ewma"``, ``"cusum"``,
        ``"band"``, ``"gap_widening"`` or ``"gap_trend"``.
    text : str
        A plain-English sentence, starting with the subject, e.g.
        ``"Innovation, supplier staff, contact centre: down 9 points since 2011-Q4;
        Mann–Kendall p = 0.01 over 8 waves"``.
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
    detail : str
        The test and limits behind ``text``, for a "How we know" section (``""`` if none).
    """

    kind: str
    text: str
    supports: str = ""
    statistic: float = math.nan
    p: float = math.nan
    n_waves: int = 0
    from_label: str = ""
    to_label: str = ""
    points_change: float = math.nan
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StatusResult:
    """Status with its evidence.

    Attributes
    ----------
    status : str
        One of :data:`STATUSES`.
    evidence : tuple of Evidence
        Evidence for the status first, then other findings and methods that could not run.
    summary : str
        One sentence for a dashboard.
    how_we_know : str
        The tests and limits behind the status, one line per piece of evidence (``""``
        from :func:`classify`).
    """

    status: str
    evidence: tuple[Evidence, ...]
    summary: str
    how_we_know: str = ""


@dataclass(frozen=True, slots=True)
class GapAlert:
    """Alert for a client–supplier perception gap that is widening (DESIGN §4.12).

    Attributes
    ----------
    alert : bool
        Whether the gap widened significantly since the previous wave or trends wider.
    evidence : tuple of Evidence
    summary : str
    how_we_know : str
        The tests behind the alert (``""`` from :func:`gap_widening`).
    """

    alert: bool
    evidence: tuple[Evidence, ...]
    summary: str
    how_we_know: str = ""
