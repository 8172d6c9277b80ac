"""The shape of a questionnaire, as frozen dataclasses.

`instruments.loader` builds these from a YAML file (or from a definition frozen into the
database) after checking every rule of the format; nothing here validates. An `Instrument`
is immutable and hashable, so it is safe to share between requests and to cache.

The comparison helpers at the end (`comparable_items`, `changed_dimensions`) say which items of
one version can be trended against the previous version's, and where a dimension changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The two seats a respondent can answer from: the council (client) or the supplier.
SIDES: tuple[str, str] = ("client", "supplier")


class InstrumentError(ValueError):
    """An instrument definition is wrong, or the instrument asked for does not exist.

    `problems` lists every fault found, one line each, and each line names the file, the part
    of the definition (item, dimension, scale...) and what is wrong with it. `str()` gives the
    same lines joined by newlines.
    """

    def __init__(self, problems: str | list[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class _PlaceholderValues(dict):
    """Values for `str.format_map` that name the owner when one is missing."""

    def __init__(self, values: Mapping[str, object], owner: str) -> None:
        super().__init__({name: str(value) for name, value in values.items()})
        self.owner = owner

    def __missing__(self, name: str) -> str:
        raise ValueError(f"{self.owner}: no value given for placeholder {{{name}}}")


@dataclass(frozen=True)
class Wording(Mapping[str, str]):
    """The same statement written for each side. Behaves as a read-only mapping side -> text."""

    client: str
    supplier: str

    def __getitem__(self, side: str) -> str:
        if side not in SIDES:
            raise KeyError(side)
        return getattr(self, side)

    def __iter__(self) -> Iterator[str]:
        return iter(SIDES)

    def __len__(self) -> int:
        return len(SIDES)

    def render(self, side: str, placeholders: Mapping[str, object], *, owner: str) -> str:
        """The text for `side` with its placeholders filled in (extra values are ignored)."""
        if side not in SIDES:
            raise ValueError(f"{owner}: side must be one of {', '.join(SIDES)}, not {side!r}")
        return self[side].format_map(_PlaceholderValues(placeholders, owner))

    def to_dict(self) -> dict[str, str]:
        return {"client": self.client, "supplier": self.supplier}


@dataclass(frozen=True)
class Scale:
    """The response scale: `points` labelled values 1..points, low to high."""

    points: int
    labels: tuple[str, ...]
    favourable: tuple[int, ...]
    unfavourable: tuple[int, ...]
    dont_know_label: str = "Don't know"

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(range(1, self.points + 1))

    @property
    def neutral(self) -> tuple[int, ...]:
        """The values counted neither favourable nor unfavourable."""
        counted = set(self.favourable) | set(self.unfavourable)
        return tuple(v for v in self.values if v not in counted)

    def label(self, value: int) -> str:
        return self.labels[value - 1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "labels": list(self.labels),
            "favourable": list(self.favourable),
            "unfavourable": list(self.unfavourable),
            "dont_know_label": self.dont_know_label,
        }


@dataclass(frozen=True)
class Bands:
    """Cut-offs on the 1..points mean: >= strength is a strength, < concern is a concern,
    anything between is borderline."""

    strength: float = 4.0
    concern: float = 3.0

    def to_dict(self) -> dict[str, float]:
        return {"strength": self.strength, "concern": self.concern}


@dataclass(frozen=True)
class Dimension:
    key: str
    title: str
    description: str = ""
    weight: float = 1.0
    #: True for the "commitment to continue" dimension(s) that driver analysis explains.
    outcome: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "description": self.description,
            "weight": self.weight,
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class Item:
    key: str
    dimension: str
    wording: Wording
    #: Reverse-keyed: scored as points + 1 - answer.
    reverse: bool = False
    #: Whether "don't know" is offered.
    dont_know: bool = False
    #: Asked about the respondent's own service area.
    per_service_area: bool = False
    #: Key of the previous version's item that this one continues, if its key changed.
    replaces: str | None = None

    def text(self, side: str, **placeholders: object) -> str:
        """The statement shown to `side` ("client" or "supplier"), placeholders filled in.

        >>> item.text("client", partner="Service Birmingham")  # doctest: +SKIP
        """
        return self.wording.render(side, placeholders, owner=f"item {self.key!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "dimension": self.dimension,
            "wording": self.wording.to_dict(),
            "reverse": self.reverse,
            "dont_know": self.dont_know,
            "per_service_area": self.per_service_area,
            "replaces": self.replaces,
        }


@dataclass(frozen=True)
class CommentQuestion:
    """An optional free-text question."""

    key: str
    wording: Wording
    max_length: int = 2000

    def text(self, side: str, **placeholders: object) -> str:
        return self.wording.render(side, placeholders, owner=f"comment {self.key!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "wording": self.wording.to_dict(), "max_length": self.max_length}


@dataclass(frozen=True)
class Instrument:
    """One version of a questionnaire. Build it with `instruments.loader`, which validates.

    `content_hash` is the SHA-256 of the canonical JSON of `to_dict()`: two instruments with
    the same hash ask the same questions in the same way. `source` (the file, or "<database>")
    is for messages only and takes no part in equality.
    """

    key: str
    version: int
    title: str
    description: str
    minutes: int
    scale: Scale
    bands: Bands
    placeholders: tuple[str, ...]
    dimensions: tuple[Dimension, ...]
    items: tuple[Item, ...]
    comments: tuple[CommentQuestion, ...] = ()
    content_hash: str = field(init=False)
    source: str = field(default="<string>", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "content_hash", _sha256_of(self.to_dict()))
        object.__setattr__(self, "_dimension_by_key", {d.key: d for d in self.dimensions})
        object.__setattr__(self, "_item_by_key", {i.key: i for i in self.items})
        object.__setattr__(self, "_comment_by_key", {c.key: c for c in self.comments})

    def dimension(self, key: str) -> Dimension:
        """The dimension called `key`; KeyError if there is none."""
        return self._dimension_by_key[key]

    def item(self, key: str) -> Item:
        """The item called `key`; KeyError if there is none."""
        return self._item_by_key[key]

    def comment(self, key: str) -> CommentQuestion:
        """The free-text question called `key`; KeyError if there is none."""
        return self._comment_by_key[key]

    def items_in(self, dimension_key: str) -> tuple[Item, ...]:
        """The items of one dimension, in file order; KeyError for an unknown dimension."""
        self.dimension(dimension_key)
        return tuple(i for i in self.items if i.dimension == dimension_key)

    @property
    def outcome_dimensions(self) -> tuple[Dimension, ...]:
        return tuple(d for d in self.dimensions if d.outcome)

    def to_dict(self) -> dict[str, Any]:
        """The whole definition as plain JSON-ready data, every default filled in.

        This is what a wave freezes into the database; `instruments.instrument_from_dict`
        rebuilds an equal `Instrument` (same `content_hash`) from it.
        """
        return {
            "key": self.key,
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "minutes": self.minutes,
            "scale": self.scale.to_dict(),
            "bands": self.bands.to_dict(),
            "placeholders": list(self.placeholders),
            "dimensions": [d.to_dict() for d in self.dimensions],
            "items": [i.to_dict() for i in self.items],
            "comments": [c.to_dict() for c in self.comments],
        }


def _sha256_of(definition: Mapping[str, Any]) -> str:
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- comparing versions ---------------------------------------------------------------------


def _check_same_instrument(previous: Instrument, current: Instrument) -> None:
    if previous.key != current.key:
        raise ValueError(
            f"cannot compare items of different instruments: {previous.key!r} and {current.key!r}"
        )


def comparable_items(previous: Instrument, current: Instrument) -> dict[str, str]:
    """Map each item of `current` that continues an item of `previous` to that item's key.

    An item continues a previous item when it names it in `replaces`, or, with no `replaces`,
    when the previous version has an item with the same key. Items new in `current` are left
    out. `replaces` refers to the version immediately before; chain the maps for longer spans.
    """
    _check_same_instrument(previous, current)
    before = {i.key for i in previous.items}
    matches: dict[str, str] = {}
    for item in current.items:
        earlier = item.replaces if item.replaces is not None else item.key
        if earlier in before:
            matches[item.key] = earlier
    return matches


def changed_dimensions(previous: Instrument, current: Instrument) -> dict[str, str]:
    """Name each dimension whose make-up changed between two versions, and say how.

    Returns {dimension key: reason}, reasons joined by "; ", for dimensions that are new,
    dropped, gained or lost items, had items replaced, reworded, moved in or out, or whose
    reverse-keying or service-area framing changed, and for every dimension when the answer
    scale changed. Dimensions that did not change are left out, so an empty result means
    the dimension scores are comparable as they stand.
    """
    matches = comparable_items(previous, current)
    continued_by = {earlier: now for now, earlier in matches.items()}
    scale_note = _scale_change(previous.scale, current.scale)
    changes: dict[str, str] = {}

    for dim in current.dimensions:
        if dim.key not in previous._dimension_by_key:
            changes[dim.key] = f"new dimension in version {current.version}"
            continue
        reasons: list[str] = [scale_note] if scale_note else []
        new = [i.key for i in current.items_in(dim.key) if i.key not in matches]
        if new:
            reasons.append("new items: " + ", ".join(new))
        for item in current.items_in(dim.key):
            earlier_key = matches.get(item.key)
            if earlier_key is None:
                continue
            earlier = previous.item(earlier_key)
            if earlier.dimension != dim.key:
                reasons.append(f"item {item.key!r} moved here from {earlier.dimension!r}")
            if earlier_key != item.key:
                reasons.append(f"item {item.key!r} replaces {earlier_key!r}")
            elif earlier.wording != item.wording:
                reasons.append(f"item {item.key!r} reworded")
            if earlier.reverse != item.reverse:
                now = "now" if item.reverse else "no longer"
                reasons.append(f"item {item.key!r} is {now} reverse-keyed")
            if earlier.per_service_area != item.per_service_area:
                now = "now" if item.per_service_area else "no longer"
                reasons.append(f"item {item.key!r} is {now} asked per service area")
        for earlier in previous.items_in(dim.key):
            now_key = continued_by.get(earlier.key)
            if now_key is None:
                reasons.append(f"item {earlier.key!r} dropped")
            elif current.item(now_key).dimension != dim.key:
                moved_to = current.item(now_key).dimension
                reasons.append(f"item {earlier.key!r} moved to {moved_to!r}")
        if reasons:
            changes[dim.key] = "; ".join(reasons)

    for dim in previous.dimensions:
        if dim.key not in current._dimension_by_key:
            changes[dim.key] = f"dropped in version {current.version}"
    return changes


def _scale_change(previous: Scale, current: Scale) -> str | None:
    if previous.points != current.points:
        return f"answer scale changed from {previous.points} to {current.points} points"
    if previous.labels != current.labels:
        return "answer scale labels changed"
    return None
