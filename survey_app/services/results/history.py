"""The closed waves of a relationship as the status over time sees them.

A :class:`History` holds each closed wave's ``scores`` and ``gaps`` columns in time order,
where an instrument change breaks a series (:func:`version_changes`), and the matrices of
published wave means that the trend rules read (cells hidden when published are gaps in a
series: :func:`~survey_app.services.results.publication.hidden_score_cells`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.noise import sampling_variance
from instruments import Instrument, changed_dimensions
from survey_app.services.results.layout import Design, Layout
from survey_app.services.results.publication import gap_hidden, hidden_score_cells
from survey_app.services.results.vocabulary import INDEX, TIE_DECIMALS, Columns


@dataclass(slots=True)
class WaveSummary:
    """What the status of later waves needs from one wave, read from its tables."""

    label: str
    design: Design
    scores: Columns
    gaps: Columns
    #: ``(side, area, dimension)`` of the scores cells its publication hides (set by
    #: :meth:`History.append`, once per wave).
    hidden: set[tuple[str, str, str]] = field(default_factory=set)


def version_changes(previous: Instrument, current: Instrument) -> dict[str, dict[str, Any]]:
    """Score keys (dimensions and ``index``) not comparable between two waves' versions, each
    with why, as facts (``{"key": ...}``, worded in the reader's language by
    :func:`~survey_app.services.results.wording.change_reason`).

    Uses :func:`instruments.changed_dimensions` for consecutive versions of one instrument;
    any other pair (another instrument, or versions that are not consecutive) makes every
    dimension incomparable. The index changes whenever a dimension does.
    """
    if previous.content_hash == current.content_hash:
        return {}
    keys = [d.key for d in current.dimensions]
    out: dict[str, dict[str, Any]]
    if previous.key != current.key:
        why = {"key": "instrument", "previous": previous.key, "current": current.key}
        out = {k: why for k in keys}
    elif current.version == previous.version + 1:
        changed = changed_dimensions(previous, current)
        out = {
            k: {"key": "changes", "changes": [c.as_dict() for c in v]}
            for k, v in changed.items()
            if k in keys
        }
    elif current.version == previous.version:
        out = {}
    else:
        why = {"key": "versions", "previous": previous.version, "current": current.version}
        out = {k: why for k in keys}
    if out:
        out[INDEX] = {"key": "dimensions", "dimensions": sorted(k for k in out if k != INDEX)}
    return out


@dataclass(slots=True)
class History:
    """The closed waves of a relationship in time order, as summaries for status over time.

    ``breaks[key]`` lists the wave positions where a score key's series restarts because the
    instrument changed it, with the reason; ``notes`` are the comparability notes.
    """

    layout: Layout
    min_cell_size: int
    waves: list[WaveSummary] = field(default_factory=list)
    breaks: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    _matrices: dict[str, Any] = field(default_factory=dict)

    def append(self, summary: WaveSummary) -> None:
        summary.hidden = hidden_score_cells(summary.scores, self.min_cell_size)
        t = len(self.waves)
        if t:
            prev = self.waves[-1].design.instrument
            curr = summary.design.instrument
            for key, reason in version_changes(prev, curr).items():
                self.breaks.setdefault(key, []).append((t, reason))
        self.waves.append(summary)
        self._matrices.clear()

    def segment_start(self, key: str, t: int) -> int:
        """First wave of the comparable series of ``key`` that ends at wave ``t``."""
        starts = [b for b, _ in self.breaks.get(key, []) if b <= t]
        return max(starts) if starts else 0

    def note(self, key: str, t: int) -> dict[str, Any] | None:
        """Comparability across instrument versions up to wave ``t``, as facts (worded in
        the reader's language by
        :func:`~survey_app.services.results.wording.comparability_note`)."""
        start = self.segment_start(key, t)
        versions = {self.waves[i].design.instrument.version for i in range(start, t + 1)}
        if start > 0:
            reason = next(r for b, r in self.breaks[key] if b == start)
            version = self.waves[start].design.instrument.version
            return {"key": "from", "wave": self.waves[start].label, "version": version,
                    "reason": reason}  # fmt: skip
        if len(versions) > 1:
            return {"key": "across", "first": min(versions), "last": max(versions)}
        return None


def _matrix(history: History, kind: str) -> tuple[dict[Any, int], np.ndarray, np.ndarray]:
    """Every cell's wave means (or gaps) over the whole history, built once per history.

    Returns the row of each key, the values (NaN where the cell is absent or hidden when
    published: below k, or suppressed to protect such a cell) and their sampling variances
    (:math:`sd^2/n`; for a gap, client − supplier, :math:`sd_c^2/n_c + sd_s^2/n_s`), each of
    shape (n_keys, n_waves).
    """
    cached = history._matrices.get(kind)
    if cached is not None:
        return cached
    k = history.min_cell_size
    where: dict[Any, int] = {}
    # (row, wave, value, sd, n[, sd, n of the supplier side for a gap])
    entries: list[tuple[Any, ...]] = []
    for w, summary in enumerate(history.waves):
        hidden = summary.hidden
        if kind == "scores":
            sc = summary.scores
            keys = zip(sc["side"], sc["area"], sc["dimension"], strict=True)
            for key, n, mean, sd in zip(keys, sc["n"], sc["mean"], sc["sd"], strict=True):
                u = where.setdefault(key, len(where))
                n = n or 0
                shown = mean is not None and n >= k and key not in hidden
                value = round(mean, TIE_DECIMALS) if shown else math.nan
                entries.append((u, w, value, _nan(sd), n, 0.0, 0))
        else:
            gp = summary.gaps
            keys = zip(gp["area"], gp["dimension"], strict=True)
            rows = zip(
                keys, gp["difference"], gp["n_client"], gp["n_supplier"], gp["sd_client"],
                gp["sd_supplier"], strict=True,
            )  # fmt: skip
            for key, diff, nc, ns, sdc, sds in rows:
                u = where.setdefault(key, len(where))
                nc, ns = nc or 0, ns or 0
                shown = diff is not None and nc >= k and ns >= k and not gap_hidden(hidden, *key)
                value = round(diff, TIE_DECIMALS) if shown else math.nan
                entries.append((u, w, value, _nan(sdc), nc, _nan(sds), ns))
    values = np.full((len(where), len(history.waves)), np.nan)
    variances = np.full(values.shape, np.nan)
    if entries:
        u, w, v, sd1, n1, sd2, n2 = (np.array(col) for col in zip(*entries, strict=True))
        var = sampling_variance(sd1, n1)
        if kind != "scores":
            var = var + sampling_variance(sd2, n2)
        rows, cols = u.astype(np.int64), w.astype(np.int64)
        values[rows, cols] = v
        variances[rows, cols] = np.where(np.isnan(v), np.nan, var)
    history._matrices[kind] = (where, values, variances)
    return where, values, variances


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def score_series(history: History, keys: Sequence[tuple[str, str, str]]):
    """Means (NaN below k) and their sampling variances of cells ``(side, area, key)`` over
    every wave of the history."""
    where, values, variances = _matrix(history, "scores")
    rows = np.array([where[key] for key in keys], dtype=np.int64)
    return values[rows], variances[rows]


def gap_series(history: History, keys: Sequence[tuple[str, str]]):
    """Client − supplier gaps ``(area, key)`` over the history (NaN where a side is below k or
    hidden) and their sampling variances."""
    where, values, variances = _matrix(history, "gaps")
    rows = np.array([where[key] for key in keys], dtype=np.int64)
    return values[rows], variances[rows]
