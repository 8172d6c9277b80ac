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


def version_changes(previous: Instrument, current: Instrument) -> dict[str, str]:
    """Score keys (dimensions and ``index``) not comparable between two waves' versions.

    Uses :func:`instruments.changed_dimensions` for consecutive versions of one instrument;
    any other pair (another instrument, or versions that are not consecutive) makes every
    dimension incomparable. The index changes whenever a dimension does.
    """
    if previous.content_hash == current.content_hash:
        return {}
    keys = [d.key for d in current.dimensions]
    if previous.key != current.key:
        reason = f"a different instrument ({previous.key} → {current.key})"
        out = dict.fromkeys(keys, reason)
    elif current.version == previous.version + 1:
        out = {k: v for k, v in changed_dimensions(previous, current).items() if k in keys}
    elif current.version == previous.version:
        out = {}
    else:
        reason = f"versions {previous.version} and {current.version} are not consecutive"
        out = dict.fromkeys(keys, reason)
    if out:
        out[INDEX] = "dimensions changed: " + ", ".join(sorted(k for k in out if k != INDEX))
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
    breaks: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    _chart_cache: dict[tuple[str, int, str], Any] = field(default_factory=dict)
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
        self._chart_cache.clear()
        self._matrices.clear()

    def segment_start(self, key: str, t: int) -> int:
        """First wave of the comparable series of ``key`` that ends at wave ``t``."""
        starts = [b for b, _ in self.breaks.get(key, []) if b <= t]
        return max(starts) if starts else 0

    def note(self, key: str, t: int) -> str | None:
        """Plain words on comparability across instrument versions up to wave ``t``."""
        start = self.segment_start(key, t)
        versions = {self.waves[i].design.instrument.version for i in range(start, t + 1)}
        if start > 0:
            reason = next(r for b, r in self.breaks[key] if b == start)
            design = self.waves[start].design.instrument
            return (
                f"Compared from {self.waves[start].label} only: version {design.version} of the "
                f"instrument changed this ({reason})"
            )
        if len(versions) > 1:
            return (
                f"Compared across instrument versions {min(versions)}–{max(versions)}: "
                "unchanged in them"
            )
        return None


def _matrix(history: History, kind: str) -> tuple[dict[Any, int], np.ndarray, np.ndarray]:
    """Every cell's wave means (or gaps) over the whole history, built once per history.

    Returns the row of each key, the values (NaN where the cell is absent or hidden when
    published: below k, or suppressed to protect such a cell) and the counts, each of shape
    (n_keys, n_waves).
    """
    cached = history._matrices.get(kind)
    if cached is not None:
        return cached
    k = history.min_cell_size
    where: dict[Any, int] = {}
    entries: list[tuple[int, int, float, float]] = []
    for w, summary in enumerate(history.waves):
        hidden = summary.hidden
        if kind == "scores":
            sc = summary.scores
            keys = zip(sc["side"], sc["area"], sc["dimension"], strict=True)
            for key, n, mean in zip(keys, sc["n"], sc["mean"], strict=True):
                u = where.setdefault(key, len(where))
                n = n or 0
                shown = mean is not None and n >= k and key not in hidden
                value = round(mean, TIE_DECIMALS) if shown else math.nan
                entries.append((u, w, value, n))
        else:
            gp = summary.gaps
            keys = zip(gp["area"], gp["dimension"], strict=True)
            for key, diff, nc, ns in zip(
                keys, gp["difference"], gp["n_client"], gp["n_supplier"], strict=True
            ):
                u = where.setdefault(key, len(where))
                shown = (
                    diff is not None
                    and (nc or 0) >= k
                    and (ns or 0) >= k
                    and not gap_hidden(hidden, *key)
                )
                entries.append((u, w, round(abs(diff), TIE_DECIMALS) if shown else math.nan, 0))
    values = np.full((len(where), len(history.waves)), np.nan)
    counts = np.zeros(values.shape)
    if entries:
        u, w, v, n = (np.array(col) for col in zip(*entries, strict=True))
        values[u.astype(np.int64), w.astype(np.int64)] = v
        counts[u.astype(np.int64), w.astype(np.int64)] = n
    history._matrices[kind] = (where, values, counts)
    return where, values, counts


def score_series(history: History, keys: Sequence[tuple[str, str, str]]):
    """Means (NaN below k) and n of cells ``(side, area, key)`` over every wave of the history."""
    where, values, counts = _matrix(history, "scores")
    rows = np.array([where[key] for key in keys], dtype=np.int64)
    return values[rows], counts[rows]


def gap_series(history: History, keys: Sequence[tuple[str, str]]) -> np.ndarray:
    """|client − supplier| of gaps ``(area, key)`` over the history (NaN where a side < k)."""
    where, values, _ = _matrix(history, "gaps")
    return values[np.array([where[key] for key in keys], dtype=np.int64)]
