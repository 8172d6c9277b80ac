"""Alerts: the groups of a closed wave getting worse, and the perception gaps widening between
the sides, read from the wave's published results.

An alert is a cell of a wave's stored ``scores`` whose status is *deteriorating* — the
calibrated detector of DESIGN §4.12 flagged a fall, the wave's series held to a false
discovery rate of 5% — or a row of its stored ``gaps`` with ``gap_alert`` set (two sides
drifting apart). *Watch* is weaker evidence: it shows as a status, never as an alert. Alerts
are ranked by strength of evidence × size of the change × people covered
(:attr:`Alert.weight`), and :func:`needs_attention` picks the few a manager reads first. Both are read as published: a suppressed cell raises no alert, and a gap is hidden
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

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from survey_app.extensions import db
from survey_app.models import Relationship, Wave
from survey_app.services import ServiceError, parse_id
from survey_app.services.instruments import shown_dimensions, wave_instrument
from survey_app.services.results import (
    AREA_ALL,
    AREA_NONE,
    INDEX,
    INDEX_TITLE,
    SIDE_WORDS,
    SUPPRESSED,
    closed_waves,
    published_rows,
)
from survey_app.texts import N_

#: The kinds of alert, in the order they are listed.
ALERT_KINDS = ("deteriorating", "gap_widening")
#: The statuses of a scores cell that make it an alert (DESIGN §4.12).
ALERT_STATUSES = ("deteriorating",)
#: The smallest p-value the ranking tells apart (below it, evidence is simply overwhelming).
RANK_P_FLOOR = 1e-12
#: The group a gap alert names in its reference and its actions: the gap between the sides.
GAP = "gap"


@dataclass(frozen=True, slots=True)
class MeasuredRate:
    """One error rate of the statuses, as ``benchmarks/alerts.py`` measured it end to end
    (texts marked ``N_``: the page translates them)."""

    what: str
    measured: str
    target: str


#: The statuses' error rates on simulated relationships whose truth is known, measured through
#: the service by ``benchmarks/alerts.py`` (figures, machine and date in benchmarks/README.md;
#: update both together). Shown on the "How we know" page.
ERROR_RATES = (
    MeasuredRate(
        N_("Series with no real change flagged getting worse or better, share of waves"),
        N_("under 0.01%"),
        N_("at most 5%"),
    ),
    MeasuredRate(
        N_("The same, when every wave also moves a little by chance (shocks of 0.05 scale points)"),
        "0.09%",
        N_("at most 5%"),
    ),
    MeasuredRate(
        N_("A side's total falling 0.12 scale points a wave: caught within 4 surveys"),
        "100%",
        N_("at least 95%"),
    ),
    MeasuredRate(
        N_("A group of 60 or more people falling 0.12 a wave: caught within 4 surveys"),
        "100%",
        N_("at least 95%"),
    ),
    MeasuredRate(
        N_("A smaller group (25 to 59 people) falling 0.12 a wave: caught within 4 surveys"),
        "96%",
        N_("reported as it is"),
    ),
)


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert of a closed wave: a group getting worse (``deteriorating``) or two sides
    drifting apart (``gap_widening``).

    ``summary`` is the stored status sentence; ``evidence`` its evidence, one piece a line,
    without the subject the summary already names; ``how`` the tests and limits behind it
    ("How we know"), one a line. ``p`` is the calibrated p-value of the series, ``points``
    the change its summary states (0–100 scale) and ``n`` the responses of its latest wave
    (None for a gap).
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
    how: tuple[str, ...] = ()
    p: float | None = None
    points: float | None = None
    n: int | None = None

    @property
    def weight(self) -> float:
        """Strength of evidence × size of the change × people covered: −log10 p (p floored at
        :data:`RANK_P_FLOOR`) × |change in points| × responses; 0 where one is unknown."""
        if self.p is None or self.points is None or not self.n:
            return 0.0
        return -math.log10(max(self.p, RANK_P_FLOOR)) * abs(self.points) * self.n

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
        """The alert in words: deteriorating or gap widening."""
        return self.kind.replace("_", " ")

    @property
    def group(self) -> str:
        """Whose alert it is, in words: e.g. "Client staff, Contact centre"."""
        if self.side:
            words = gettext(SIDE_WORDS[self.side]).capitalize()
        else:
            words = gettext("Gap between the sides")
        # the margins' names are the service's (marked N_), the areas' the relationship's
        area = gettext(self.area_name) if self.area in (AREA_ALL, AREA_NONE) else self.area_name
        return f"{words}, {area}"


def wave_alerts(wave: Wave) -> list[Alert]:
    """Every alert of a closed wave, from its published ``scores`` and ``gaps``.

    Ordered by kind (:data:`ALERT_KINDS`), then weight (:attr:`Alert.weight`, the heaviest
    first), then dimension (the index first, then the instrument's order), the group over
    all service areas before each area (in the relationship's order), both sides before each
    side. Raises ServiceError when the wave has no stored results.
    """
    relationship = wave.relationship
    scores = published_rows("scores", relationship, [wave])
    gaps = published_rows("gaps", relationship, [wave])
    # the titles in the reader's language (the stored ones are English)
    titles = {INDEX: gettext(INDEX_TITLE), **dict(shown_dimensions(wave_instrument(wave)))}
    found = [
        _alert(wave, r, r["status"], r["side"], "status", titles)
        for r in scores
        if r[SUPPRESSED] is None and r.get("status") in ALERT_STATUSES
    ]
    found += [
        _alert(wave, r, "gap_widening", None, "gap_alert", titles)
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
    wave: Wave | None = None,
) -> list[Alert]:
    """Alerts of the relationship's latest closed wave (none before a wave closes), or of
    ``wave`` (a closed wave of the relationship: its alerts as they stood then).

    ``status="deteriorating"`` (or ``None``) gives every group getting worse and every
    perception gap widening; any other status none (a *watch* is never an alert). Filters narrow
    by side, service area (key) and dimension; a widening gap concerns both sides and stays
    whatever the side. Raises ServiceError when the wave's results are not stored.
    """
    if wave is None:
        waves = closed_waves(relationship)
        if not waves:
            return []
        wave = waves[-1]
    kinds = {"deteriorating": ("deteriorating", "gap_widening")}
    wanted = ALERT_KINDS if status is None else kinds.get(status, ())
    return [
        a
        for a in wave_alerts(wave)
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


def _alert(
    wave: Wave,
    row: Mapping[str, Any],
    kind: str,
    side: str | None,
    column: str,
    titles: Mapping[str, str],
) -> Alert:
    """The alert of a published row; ``column`` names its summary and evidence columns."""
    summary = row.get(f"{column}_summary") or ""
    scored = column == "status"
    return Alert(
        kind=kind,
        wave_id=wave.id,
        wave_label=wave.label,
        side=side,
        area=row["area"],
        area_name=row["area_name"],
        dimension=row["dimension"],
        dimension_title=titles.get(row["dimension"], row["dimension_title"]),
        summary=summary,
        evidence=_lines(row.get(f"{column}_evidence"), summary),
        how=_lines(row.get(f"{column}_how"), ""),
        p=row.get("status_p") if scored else None,
        points=row.get("status_points") if scored else None,
        n=row.get("n") if scored else None,
    )


def needs_attention(alerts: Sequence[Alert]) -> list[Alert]:
    """What needs attention, for the top of a dashboard: of the groups getting worse, the
    heaviest alert of each dimension (:attr:`Alert.weight`), heaviest first. Perception gaps
    are listed apart (they are a level apart, not a fall)."""
    best: dict[str, Alert] = {}
    for a in alerts:
        if a.kind == "deteriorating" and (
            a.dimension not in best or a.weight > best[a.dimension].weight
        ):
            best[a.dimension] = a
    return sorted(best.values(), key=lambda a: -a.weight)


def _ranking(
    relationship: Relationship, scores: Sequence[Mapping[str, Any]]
) -> Callable[[Alert], tuple[Any, ...]]:
    """The sort key of :func:`wave_alerts`: kind, weight, dimension, overall first, area, side."""
    dimensions = {key: i for i, key in enumerate(dict.fromkeys(r["dimension"] for r in scores))}
    dimensions[INDEX] = -1
    areas = {a.key: a.position for a in relationship.service_areas}
    sides = {"all": 0, None: 0, "client": 1, "supplier": 2}
    return lambda a: (
        ALERT_KINDS.index(a.kind),
        -a.weight,
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
