"""Alerts: the groups of a closed wave getting worse or worth watching, and the perception gaps
widening between the sides, read from the wave's published results.

An alert is a cell of a wave's stored ``scores`` whose status is *deteriorating* or *watch*
(DESIGN §4.12), or a row of its stored ``gaps`` with ``gap_alert`` set (two sides drifting
apart). Both are read as published: a suppressed cell raises no alert, and a gap is hidden
wherever either side's scores are (:func:`~survey_app.services.results.suppress_rows`), so a
widening gap is never shown beside a side that is not. Any closed wave's alerts can be read
(:func:`wave_alerts`); the dashboard, the API and the actions pages show the latest closed
wave's (:func:`relationship_alerts`).

An alert is named by its :attr:`Alert.reference`, ``wave id:group:area:dimension``, where the
group is a side (``client``, ``supplier``), both sides (``all``) or the gap between them
(``gap``): an action on an alert stores the same four parts (``Action.alert_*``), and
:func:`find_alert` reads a reference back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from survey_app.extensions import db
from survey_app.models import Relationship, Wave
from survey_app.services import ServiceError, parse_id
from survey_app.services.results import (
    AREA_ALL,
    INDEX,
    SIDE_WORDS,
    SUPPRESSED,
    closed_waves,
    published_rows,
)

#: The kinds of alert, in the order they are listed.
ALERT_KINDS = ("deteriorating", "gap_widening", "watch")
#: The statuses of a scores cell that make it an alert (DESIGN §4.12).
ALERT_STATUSES = ("deteriorating", "watch")
#: The group a gap alert names in its reference and its actions: the gap between the sides.
GAP = "gap"


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert of a closed wave: a group getting worse (``deteriorating``), worth watching
    (``watch``), or two sides drifting apart (``gap_widening``).

    ``summary`` is the stored status sentence; ``evidence`` its evidence, one piece a line,
    without the subject the summary already names.
    """

    kind: str
    wave_id: int
    wave_label: str
    side: str | None  # client, supplier or all; None for a gap, which concerns both sides
    area: str  # a service area key, _none or _all
    area_name: str
    dimension: str
    dimension_title: str
    summary: str
    evidence: tuple[str, ...] = ()

    @property
    def group_key(self) -> str:
        """``client``, ``supplier``, ``all``, or ``gap`` for a gap alert."""
        return self.side or GAP

    @property
    def reference(self) -> str:
        """A compact, URL-safe name of the alert: ``wave id:group:area:dimension``."""
        return f"{self.wave_id}:{self.group_key}:{self.area}:{self.dimension}"

    @property
    def status(self) -> str:
        """The alert in words: deteriorating, watch, or gap widening."""
        return self.kind.replace("_", " ")

    @property
    def group(self) -> str:
        """Whose alert it is, in words: e.g. "Client staff, Contact centre"."""
        words = SIDE_WORDS[self.side].capitalize() if self.side else "Gap between the sides"
        return f"{words}, {self.area_name}"


def wave_alerts(wave: Wave) -> list[Alert]:
    """Every alert of a closed wave, from its published ``scores`` and ``gaps``.

    Ordered by kind (:data:`ALERT_KINDS`), then dimension (the index first, then the
    instrument's order), the group over all service areas before each area (in the
    relationship's order), both sides before each side. Raises ServiceError when the wave
    has no stored results.
    """
    relationship = wave.relationship
    scores = published_rows("scores", relationship, [wave])
    gaps = published_rows("gaps", relationship, [wave])
    found = [
        _alert(wave, r, r["status"], r["side"], "status")
        for r in scores
        if r[SUPPRESSED] is None and r.get("status") in ALERT_STATUSES
    ]
    found += [
        _alert(wave, r, "gap_widening", None, "gap_alert")
        for r in gaps
        if r[SUPPRESSED] is None and r.get("gap_alert")
    ]
    return sorted(found, key=_ranking(relationship, scores))


def relationship_alerts(
    relationship: Relationship,
    *,
    side: str | None = None,
    area: str | None = None,
    dimension: str | None = None,
    status: str | None = "deteriorating",
) -> list[Alert]:
    """Alerts of the relationship's latest closed wave (none before a wave closes).

    ``status="deteriorating"`` gives every group getting worse and every perception gap
    widening; ``status="watch"`` the groups to watch; ``None`` every alert. Filters narrow
    by side, service area (key) and dimension; a widening gap concerns both sides and stays
    whatever the side. Raises ServiceError when the wave's results are not stored.
    """
    waves = closed_waves(relationship)
    if not waves:
        return []
    kinds = {"deteriorating": ("deteriorating", "gap_widening"), "watch": ("watch",)}
    wanted = ALERT_KINDS if status is None else kinds.get(status, ())
    return [
        a
        for a in wave_alerts(waves[-1])
        if a.kind in wanted
        and (not side or a.side in (side, None))
        and (not area or a.area == area)
        and (not dimension or a.dimension == dimension)
    ]


def current_alerts(relationship: Relationship) -> list[Alert]:
    """Every alert of the latest closed wave, or none while its results are not stored."""
    try:
        return relationship_alerts(relationship, status=None)
    except ServiceError:
        return []  # results not stored (yet): no alerts to act on


def find_alert(relationship: Relationship, reference: str) -> Alert | None:
    """The alert a :attr:`Alert.reference` names, if that closed wave still shows it."""
    wave_id = parse_id((reference or "").partition(":")[0])
    if wave_id is None:
        return None
    wave = db.session.get(Wave, wave_id)
    if wave is None or wave.relationship_id != relationship.id or wave.state != "closed":
        return None
    try:
        found = wave_alerts(wave)
    except ServiceError:
        return None  # the wave's results are not stored: it shows no alert
    return next((a for a in found if a.reference == reference), None)


def _alert(wave: Wave, row: Mapping[str, Any], kind: str, side: str | None, column: str) -> Alert:
    """The alert of a published row; ``column`` names its summary and evidence columns."""
    summary = row.get(f"{column}_summary") or ""
    return Alert(
        kind=kind,
        wave_id=wave.id,
        wave_label=wave.label,
        side=side,
        area=row["area"],
        area_name=row["area_name"],
        dimension=row["dimension"],
        dimension_title=row["dimension_title"],
        summary=summary,
        evidence=_lines(row.get(f"{column}_evidence"), summary),
    )


def _ranking(
    relationship: Relationship, scores: Sequence[Mapping[str, Any]]
) -> Callable[[Alert], tuple[Any, ...]]:
    """The sort key of :func:`wave_alerts`: kind, dimension, overall first, area, side."""
    dimensions = {key: i for i, key in enumerate(dict.fromkeys(r["dimension"] for r in scores))}
    dimensions[INDEX] = -1
    areas = {a.key: a.position for a in relationship.service_areas}
    sides = {"all": 0, None: 0, "client": 1, "supplier": 2}
    return lambda a: (
        ALERT_KINDS.index(a.kind),
        dimensions.get(a.dimension, len(dimensions)),
        a.area != AREA_ALL,
        areas.get(a.area, 10_000),
        sides.get(a.side, 3),
    )


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
