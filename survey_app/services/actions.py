"""Actions: what a relationship's managers agree to do about an alert or a dimension, and what
has changed since.

This is the loop the best supplier-relationship programmes run — measure both sides, agree
actions on the gaps, re-measure. An action belongs to a relationship and a dimension (or the
health index, ``index``), optionally to an alert of a closed wave (its wave, side, service area
and dimension, as the results tables name them). Its **baseline** is the alert's wave, or else
the latest closed wave when it was agreed; once a later wave has closed,
:func:`change_since_action` gives the change of that dimension from the baseline to the latest
closed wave with the statistics of a change between waves (DESIGN §4.10: difference, Hedges' g
with its CI, Welch p), computed from the answers of those two waves read in bulk.

For the dashboard (stable signatures):

* :func:`actions_for` ``(relationship, dimension_key=None) -> list[Action]`` — oldest first;
  ``Action.marker_wave_label`` is the wave after which to mark it on a trend chart.
* :func:`change_since_action` ``(action) -> ActionChange``; :func:`changes_since_actions`
  ``(actions) -> dict[action id, ActionChange]`` loads each wave once for many actions.

The alerts an action answers are :mod:`survey_app.services.alerts`' (``Alert``,
``current_alerts`` and ``find_alert`` are named here too, for the actions pages).

Services flush; the request commits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from flask_babel import gettext
from sqlalchemy import select

from analysis import gaps
from survey_app.dates import utcnow
from survey_app.extensions import db
from survey_app.models import ACTION_STATUSES, Action, Relationship, User, Wave
from survey_app.services import ServiceError, audit
from survey_app.services.alerts import GAP, Alert, current_alerts, find_alert
from survey_app.services.instruments import frozen_instrument, shown_dimensions
from survey_app.services.results import (
    AREA_ALL,
    AREA_ALL_NAME,
    AREA_NONE,
    INDEX,
    INDEX_TITLE,
    SIDE_KEYS,
    SUPPRESSED,
    Layout,
    change_reason,
    closed_waves,
    load_answers,
    min_cell_size,
    published_rows,
    score_wave,
    version_changes,
)
from survey_app.services.results.wording import said
from survey_app.services.waves import instrument_in_use
from survey_app.texts import N_

MAX_WHAT = 2000
MAX_OWNER = 200


# ================================================================================= actions


def dimension_choices(relationship: Relationship) -> list[tuple[str, str]]:
    """(key, title) of the dimensions an action can be about: those of the relationship's
    latest wave's instrument (closed waves first), then the health index."""
    instrument = instrument_in_use(relationship)
    if instrument is None:
        return []
    return [*shown_dimensions(instrument), (INDEX, gettext(INDEX_TITLE))]


def dimension_title(relationship: Relationship, key: str) -> str:
    return dict(dimension_choices(relationship)).get(key, key)


def actions_for(relationship: Relationship, dimension_key: str | None = None) -> list[Action]:
    """The relationship's actions (of one dimension if given), oldest first."""
    query = select(Action).where(Action.relationship_id == relationship.id)
    if dimension_key is not None:
        query = query.where(Action.dimension_key == dimension_key)
    return list(db.session.scalars(query.order_by(Action.created_at, Action.id)))


def get_action(relationship: Relationship, action_id: int) -> Action | None:
    action = db.session.get(Action, action_id)
    if action is None or action.relationship_id != relationship.id:
        return None
    return action


def _check(
    relationship: Relationship, dimension_key: str, what: str, owner: str, status: str
) -> tuple[str, str]:
    what, owner = (what or "").strip(), (owner or "").strip()
    problems = []
    if dimension_key not in dict(dimension_choices(relationship)):
        problems.append(f"{dimension_key!r} is not a dimension of {relationship.name!r}")
    if not what:
        problems.append("the action needs a description")
    elif len(what) > MAX_WHAT:
        problems.append(f"the description must be {MAX_WHAT:,} characters or fewer")
    if not owner:
        problems.append("the action needs an owner")
    elif len(owner) > MAX_OWNER:
        problems.append(f"the owner must be {MAX_OWNER} characters or fewer")
    if status not in ACTION_STATUSES:
        problems.append(f"status must be one of {', '.join(ACTION_STATUSES)}")
    if problems:
        raise ServiceError("; ".join(problems))
    return what, owner


def record_action(
    relationship: Relationship,
    *,
    dimension_key: str,
    what: str,
    owner: str,
    due_on: date,
    actor: User,
    status: str = "open",
    alert: Alert | None = None,
) -> Action:
    """Record an agreed action on a dimension, or on an alert (whose dimension it takes)."""
    if alert is not None:
        dimension_key = alert.dimension
    what, owner = _check(relationship, dimension_key, what, owner, status)
    closed = closed_waves(relationship)
    baseline = db.session.get(Wave, alert.wave_id) if alert else (closed[-1] if closed else None)
    action = Action(
        relationship_id=relationship.id,
        dimension_key=dimension_key,
        alert_wave_id=alert.wave_id if alert else None,
        alert_side=alert.group_key if alert else None,
        alert_area=alert.area if alert else None,
        baseline_wave_id=baseline.id if baseline else None,
        what=what,
        owner=owner,
        due_on=due_on,
        status=status,
        created_by_id=actor.id,
        created_by=actor.name or actor.email,
    )
    audit.created(
        action,
        "action.create",
        actor=actor,
        id_as="action_id",
        relationship=relationship.id,
        dimension=dimension_key,
        alert=alert.reference if alert else None,
        status=status,
    )
    return action


def alert_reference(action: Action, titles: Mapping[str, str]) -> str | None:
    """The alert an action answers, in names a manager reads: wave · group · service area ·
    dimension, e.g. "2012-Q3 · Council · All service areas · Innovation" (a side is named by its
    party, both sides and the gap between them in words); None for an action agreed on a
    dimension. ``titles`` are the dimensions' titles by key (:func:`dimension_choices`)."""
    if action.alert_side is None:
        return None
    rel = action.relationship
    wave = action.alert_wave.label if action.alert_wave is not None else gettext("(wave deleted)")
    parties = {p.side: p.name for p in rel.parties}
    group = parties.get(action.alert_side) or gettext(
        _GROUP_WORDS.get(action.alert_side, action.alert_side)
    )
    areas = {a.key: a.name for a in rel.service_areas}
    areas |= {AREA_ALL: gettext(AREA_ALL_NAME), AREA_NONE: gettext("Service area not stated")}
    area = areas.get(_area(action), _area(action))
    title = titles.get(action.dimension_key, action.dimension_key)
    return f"{wave} · {group} · {area} · {title}"


#: The groups of an alert that no party names (``Alert.group_key``).
_GROUP_WORDS = {"all": N_("Both sides"), GAP: N_("Gap between the sides")}


def update_action(
    action: Action, *, what: str, owner: str, due_on: date, status: str, actor: User
) -> Action:
    """Change an action's description, owner, due date or status (audited by field name)."""
    what, owner = _check(action.relationship, action.dimension_key, what, owner, status)
    new = {"what": what, "owner": owner, "due_on": due_on, "status": status}
    changed = sorted(name for name, value in new.items() if getattr(action, name) != value)
    if not changed:
        return action
    for name in changed:
        setattr(action, name, new[name])
    action.updated_at = utcnow()
    db.session.flush()
    audit.record("action.update", actor=actor, action_id=action.id, changed=changed, status=status)
    return action


# ========================================================================== change since


@dataclass(frozen=True, slots=True)
class GroupChange:
    """The change of one group (side × service area) from the baseline wave to the latest.

    Statistics are ``None`` when ``suppressed`` (a side had fewer than k responses in either
    wave — both sides and their total are then withheld, so no side can be worked out by
    subtraction — or either wave's published results hide one of the three groups to protect a
    smaller one) or when they cannot be computed (``reason``).
    """

    side: str
    area: str
    area_name: str
    n_before: int | None
    n_after: int | None
    mean_before: float | None
    mean_after: float | None
    difference: float | None  # after − before, on the 1–K scale
    difference_points: float | None  # the same on the 0–100 scale
    g: float | None
    g_ci_low: float | None
    g_ci_high: float | None
    welch_p: float | None
    p_adjusted: float | None  # Benjamini–Hochberg over the groups of this action
    suppressed: str | None = None
    reason: str | None = None

    @property
    def shown(self) -> bool:
        return self.suppressed is None and self.difference is not None

    def summary(self) -> str:
        """The change in plain words, with its evidence, in the reader's language."""
        if self.suppressed:
            return gettext("Not shown: %(reason)s", reason=self.suppressed)
        if not self.shown:
            return gettext("Not computed: %(reason)s", reason=said(self.reason or "no answers"))
        assert self.difference is not None and self.difference_points is not None
        size = {
            "scale": f"{abs(self.difference):.2f}",
            "points": f"{abs(self.difference_points):.0f}",
        }
        if self.difference > 0:
            parts = [gettext("Up %(scale)s on the scale (%(points)s points out of 100)", **size)]
        elif self.difference < 0:
            parts = [gettext("Down %(scale)s on the scale (%(points)s points out of 100)", **size)]
        else:
            parts = [
                gettext("No change: %(scale)s on the scale (%(points)s points out of 100)", **size)
            ]
        if self.g is not None and self.g_ci_low is not None and self.g_ci_high is not None:
            parts.append(
                gettext(
                    "Hedges' g %(g)s, 95%% CI %(low)s to %(high)s",
                    g=f"{self.g:.2f}",
                    low=f"{self.g_ci_low:.2f}",
                    high=f"{self.g_ci_high:.2f}",
                )
            )
        elif self.g is not None:
            parts.append(gettext("Hedges' g %(g)s", g=f"{self.g:.2f}"))
        if self.welch_p is not None:
            parts.append(gettext("Welch p %(p)s", p=_fmt_p(self.welch_p)))
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class ActionChange:
    """What changed in an action's dimension since it was agreed.

    ``available`` is False (and ``reason`` says why in plain words) until a wave closes after
    the baseline, or when the dimension cannot be compared across the instrument versions in
    between. ``groups`` are the sides (client, supplier, both) in the action's service area
    (its alert's area, else all areas); :attr:`headline` is the action's own group.
    """

    action_id: int
    dimension: str
    area: str
    before_wave: str | None
    after_wave: str | None
    available: bool
    reason: str | None
    groups: tuple[GroupChange, ...] = ()
    headline_side: str = "all"

    @property
    def headline(self) -> GroupChange | None:
        return next((g for g in self.groups if g.side == self.headline_side), None)

    def summary(self) -> str:
        """The change of the action's own group in plain words, in the reader's language."""
        if not self.available:
            return self.reason or gettext("Not available yet")
        head = self.headline
        return gettext(
            "Since %(before)s, as of %(after)s: %(change)s",
            before=self.before_wave,
            after=self.after_wave,
            change=head.summary() if head else gettext("Not computed"),
        )


_STATISTICS = (
    "n_before", "n_after", "mean_before", "mean_after", "difference", "difference_points",
    "g", "g_ci_low", "g_ci_high", "welch_p", "p_adjusted",
)  # fmt: skip


def _fmt_p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _float(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def change_since_action(action: Action) -> ActionChange:
    """The change in the action's dimension from its baseline wave to the latest closed wave."""
    return changes_since_actions([action])[action.id]


def changes_since_actions(
    actions: Iterable[Action], *, as_of: Wave | None = None
) -> dict[int, ActionChange]:
    """:func:`change_since_action` for many actions, loading each wave's answers once.

    ``as_of`` (a closed wave) measures each change up to that wave instead of the latest
    closed wave, as a report of that wave tells it.
    """
    actions = list(actions)
    out: dict[int, ActionChange] = {}
    plans: list[tuple[Action, Wave, Wave, Layout]] = []
    closed_of: dict[int, list[Wave]] = {}
    for action in actions:
        rel = action.relationship
        if rel.id not in closed_of:
            closed = closed_waves(rel)
            if as_of is not None and as_of in closed:
                closed = closed[: closed.index(as_of) + 1]
            closed_of[rel.id] = closed
        closed = closed_of[rel.id]
        plan_or_reason = _plan(action, closed)
        if isinstance(plan_or_reason, ActionChange):
            out[action.id] = plan_or_reason
        else:
            before, after = plan_or_reason
            plans.append((action, before, after, Layout.of(rel)))
    if not plans:
        return out
    waves = {w.id: w for _, before, after, _ in plans for w in (before, after)}
    loaded = dict(zip(waves, load_answers(list(waves.values())), strict=True))
    scored: dict[int, object] = {}
    hidden: dict[int, set[tuple[str, str, str]]] = {}
    k = min_cell_size()
    for action, before, after, layout in plans:
        for wave in (before, after):
            if wave.id not in scored:
                scored[wave.id] = score_wave(loaded[wave.id], layout, wave.label)
                hidden[wave.id] = _hidden_cells(wave)
        cells = {(side, _area(action), action.dimension_key) for side in SIDE_KEYS}
        out[action.id] = _change(
            action,
            scored[before.id],
            scored[after.id],
            layout,
            k,
            hidden_in_results=bool(cells & (hidden[before.id] | hidden[after.id])),
        )
    return out


def _hidden_cells(wave: Wave) -> set[tuple[str, str, str]]:
    """``(side, area, dimension)`` of the wave's scores cells that its published results hide:
    the pattern stored when the wave's results were computed, read as the dashboard reads it
    (:func:`~survey_app.services.results.published_rows`), so that an action never quotes a
    change for a cell the results hide (for a small group, a monitor's bounds or a sum)."""
    try:
        rows = published_rows("scores", wave.relationship, [wave])
    except ServiceError:
        return set()  # no stored results (yet): the small-group rule of _change still applies
    return {(r["side"], r["area"], r["dimension"]) for r in rows if r[SUPPRESSED] is not None}


def _plan(action: Action, closed: Sequence[Wave]) -> tuple[Wave, Wave] | ActionChange:
    def unavailable(reason: str, before: Wave | None = None, after: Wave | None = None):
        return ActionChange(
            action.id,
            action.dimension_key,
            _area(action),
            before.label if before else None,
            after.label if after else None,
            False,
            reason,
            headline_side=_headline_side(action),
        )

    baseline = action.baseline_wave
    if baseline is None or baseline not in closed:
        return unavailable(
            gettext("No closed wave came before this action, so there is nothing to compare with")
        )
    start = closed.index(baseline)
    if start == len(closed) - 1:
        return unavailable(
            gettext(
                "No wave has closed since %(wave)s: the change shows once one has",
                wave=baseline.label,
            ),
            baseline,
        )
    latest = closed[-1]
    for previous, current in zip(closed[start:-1], closed[start + 1 :], strict=True):
        changed = version_changes(
            frozen_instrument(previous.instrument_version),
            frozen_instrument(current.instrument_version),
        )
        if action.dimension_key in changed:
            return unavailable(
                gettext(
                    "Not comparable: between %(before)s and %(after)s the instrument changed "
                    "this (%(reason)s)",
                    before=previous.label,
                    after=current.label,
                    reason=change_reason(changed[action.dimension_key]),
                ),
                baseline,
                latest,
            )
    return baseline, latest


def _area(action: Action) -> str:
    return action.alert_area or AREA_ALL


def _headline_side(action: Action) -> str:
    return action.alert_side if action.alert_side in SIDE_KEYS else "all"


def _members(scored, side: str, area: str, layout: Layout) -> np.ndarray | None:  # type: ignore[no-untyped-def]
    answers = scored.answers
    mask = np.ones(answers.n, dtype=bool)
    if side != "all":
        mask &= answers.side == (1 if side == "supplier" else 0)
    if area == AREA_NONE:
        mask &= answers.area < 0
    elif area != AREA_ALL:
        if area not in layout.area_keys:
            return None
        mask &= answers.area == layout.area_keys.index(area)
    return mask


def _change(  # type: ignore[no-untyped-def]
    action: Action, before, after, layout: Layout, k: int, *, hidden_in_results: bool = False
) -> ActionChange:
    key, area = action.dimension_key, _area(action)
    headline = _headline_side(action)

    def result(groups: tuple[GroupChange, ...], reason: str | None = None) -> ActionChange:
        return ActionChange(
            action.id,
            key,
            area,
            before.label,
            after.label,
            reason is None,
            reason,
            groups,
            headline,
        )

    if key not in before.design.score_keys or key not in after.design.score_keys:
        return result((), f"The dimension {key!r} is not in both waves' instruments")
    if area not in (AREA_ALL, AREA_NONE) and area not in layout.area_keys:
        return result((), "That service area no longer exists")
    area_name = dict(zip(layout.level_keys, layout.level_names, strict=True)).get(area, area)
    res = gaps.change_between_waves(
        *_stacked(before, key, area, layout), *_stacked(after, key, area, layout), len(SIDE_KEYS)
    )
    # Below k on either side in either wave: withhold every group of this area, so that no
    # side can be recovered from the both-sides figure by subtraction.
    # Likewise when either wave's published results hide one of these groups (to protect a
    # smaller group elsewhere): a shown change next to a shown mean would give it away.
    small = any(int(n) < k for side in (0, 1) for n in (res.n_prev[side], res.n_curr[side]))
    withheld = (
        gettext("a side had fewer than %(k)s responses in one of the waves", k=k)
        if small
        else gettext("hidden in one of the waves' results, to protect a smaller group")
        if hidden_in_results
        else None
    )
    if withheld:
        return result(
            tuple(
                GroupChange(
                    side, area, area_name, **dict.fromkeys(_STATISTICS), suppressed=withheld
                )
                for side in SIDE_KEYS
            )
        )
    scale = 100.0 / (before.design.points - 1)
    return result(
        tuple(_group_change(res, i, area, area_name, scale) for i in range(len(SIDE_KEYS)))
    )


def _stacked(scored, key: str, area: str, layout: Layout) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """The dimension's scores of the area's respondents in a scored wave, stacked for each
    side and for both (codes 0, 1, 2 in :data:`SIDE_KEYS` order), with their codes."""
    column = scored.design.score_keys.index(key)
    values, codes = [], []
    for code, side in enumerate(SIDE_KEYS):
        mask = _members(scored, side, area, layout)
        assert mask is not None
        values.append(scored.scores[mask, column])
        codes.append(np.full(int(mask.sum()), code, dtype=np.int64))
    return np.concatenate(values), np.concatenate(codes)


def _group_change(  # type: ignore[no-untyped-def]
    res, i: int, area: str, area_name: str, scale: float
) -> GroupChange:
    """Group ``i`` (a side, or both) of a change between waves, shown."""
    difference = _float(res.difference[i])
    return GroupChange(
        side=SIDE_KEYS[i],
        area=area,
        area_name=area_name,
        n_before=int(res.n_prev[i]),
        n_after=int(res.n_curr[i]),
        mean_before=_float(res.mean_prev[i]),
        mean_after=_float(res.mean_curr[i]),
        difference=difference,
        difference_points=difference * scale if difference is not None else None,
        g=_float(res.g[i]),
        g_ci_low=_float(res.g_ci_low[i]),
        g_ci_high=_float(res.g_ci_high[i]),
        welch_p=_float(res.welch_p[i]),
        p_adjusted=_float(res.p_adjusted[i]),
        reason=res.reason[i] or None,
    )


__all__ = [
    "ActionChange",
    "Alert",
    "alert_reference",
    "GroupChange",
    "actions_for",
    "change_since_action",
    "changes_since_actions",
    "current_alerts",
    "dimension_choices",
    "find_alert",
    "get_action",
    "record_action",
    "update_action",
]
