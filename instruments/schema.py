"""The shape of a questionnaire, as frozen dataclasses.

`instruments.loader` builds these from a YAML file (or from a definition frozen into the
database) after checking every rule of the format; nothing here validates. An `Instrument`
is immutable and hashable, so it is safe to share between requests and to cache.

Every text is written in English, the source language, and may be carried in other languages
too (`LANGUAGES`): each part holds its own translations (`Item.wording_in`,
`Dimension.title_in`, `Scale.labels_in`...), which take no part in equality or in the content
hash. `instruments.translations` explains why, and `Instrument.resolve_language` is the one
rule for falling back to English.

The comparison helpers at the end (`comparable_items`, `changed_dimensions`) say which items of
one version can be trended against the previous version's, and where a dimension changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from analysis.status import Phrase

#: The two seats a respondent can answer from: the council (client) or the supplier.
SIDES: tuple[str, str] = ("client", "supplier")

#: The language every instrument is written in. Its texts are the definition itself: the
#: content hash covers them, and every other language translates them.
SOURCE_LANGUAGE = "en"

#: The languages an instrument can carry, by ISO 639-1 code, each named in itself (as a
#: language switcher shows it), in the order they are listed.
LANGUAGES: Mapping[str, str] = MappingProxyType({"en": "English", "cy": "Cymraeg"})

_T = TypeVar("_T")

#: One part's texts in each language other than English, as ``((language, texts), ...)`` in
#: `LANGUAGES` order: a tuple of pairs rather than a dict keeps every part hashable.
Translations = tuple[tuple[str, _T], ...]


def _in_language(owner: str, language: str, english: _T, translations: Translations[_T]) -> _T:
    """`english` for the source language, else that language's texts from `translations`.

    There is no fallback here: a part asked for a language it does not carry raises
    ValueError, so a page is never silently half translated. Choose the language first with
    `Instrument.resolve_language`.
    """
    if language == SOURCE_LANGUAGE:
        return english
    for code, texts in translations:
        if code == language:
            return texts
    carried = ", ".join([SOURCE_LANGUAGE, *(code for code, _ in translations)])
    raise ValueError(f"{owner}: no {language!r} text (languages: {carried})")


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
class Heading:
    """A title and its description, in one language."""

    title: str
    description: str = ""


@dataclass(frozen=True)
class ScaleLabels:
    """The answer labels (low to high) and the "don't know" label, in one language."""

    labels: tuple[str, ...]
    dont_know_label: str


@dataclass(frozen=True)
class Scale:
    """The response scale: `points` labelled values 1..points, low to high."""

    points: int
    labels: tuple[str, ...]
    favourable: tuple[int, ...]
    unfavourable: tuple[int, ...]
    dont_know_label: str = "Don't know"
    #: The labels in each language other than English.
    translations: Translations[ScaleLabels] = field(default=(), compare=False, repr=False)

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(range(1, self.points + 1))

    @property
    def neutral(self) -> tuple[int, ...]:
        """The values counted neither favourable nor unfavourable."""
        counted = set(self.favourable) | set(self.unfavourable)
        return tuple(v for v in self.values if v not in counted)

    def label(self, value: int, language: str = SOURCE_LANGUAGE) -> str:
        return self.labels_in(language)[value - 1]

    def labels_in(self, language: str) -> tuple[str, ...]:
        """The answer labels in `language`, low to high; ValueError if it is not carried."""
        return self._words(language).labels

    def dont_know_label_in(self, language: str) -> str:
        """The "don't know" label in `language`; ValueError if it is not carried."""
        return self._words(language).dont_know_label

    def _words(self, language: str) -> ScaleLabels:
        english = ScaleLabels(self.labels, self.dont_know_label)
        return _in_language("scale", language, english, self.translations)

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
    #: The title and description in each language other than English.
    translations: Translations[Heading] = field(default=(), compare=False, repr=False)

    def title_in(self, language: str) -> str:
        """The title in `language`; ValueError if it is not carried."""
        return self._heading(language).title

    def description_in(self, language: str) -> str:
        """The description in `language` ("" when the English has none)."""
        return self._heading(language).description

    def _heading(self, language: str) -> Heading:
        owner = f"dimension {self.key!r}"
        return _in_language(
            owner, language, Heading(self.title, self.description), self.translations
        )

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
    #: The wording in each language other than English.
    translations: Translations[Wording] = field(default=(), compare=False, repr=False)

    def text(self, side: str, **placeholders: object) -> str:
        """The statement shown to `side` ("client" or "supplier"), placeholders filled in.

        >>> item.text("client", partner="Service Birmingham")  # doctest: +SKIP
        """
        return self.wording.render(side, placeholders, owner=f"item {self.key!r}")

    def wording_in(self, language: str) -> Wording:
        """Both sides' wording in `language`; ValueError if it is not carried."""
        return _in_language(f"item {self.key!r}", language, self.wording, self.translations)

    def text_in(self, side: str, language: str, /, **placeholders: object) -> str:
        """The statement shown to `side` in `language`, placeholders filled in.

        >>> item.text_in("supplier", "cy", partner="Cyngor Sir Ceredigion")  # doctest: +SKIP
        """
        return self.wording_in(language).render(side, placeholders, owner=f"item {self.key!r}")

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
    #: The question in each language other than English.
    translations: Translations[Wording] = field(default=(), compare=False, repr=False)

    def text(self, side: str, **placeholders: object) -> str:
        return self.wording.render(side, placeholders, owner=f"comment {self.key!r}")

    def wording_in(self, language: str) -> Wording:
        """Both sides' question in `language`; ValueError if it is not carried."""
        return _in_language(f"comment {self.key!r}", language, self.wording, self.translations)

    def text_in(self, side: str, language: str, /, **placeholders: object) -> str:
        """The question shown to `side` in `language`, placeholders filled in."""
        owner = f"comment {self.key!r}"
        return self.wording_in(language).render(side, placeholders, owner=owner)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "wording": self.wording.to_dict(), "max_length": self.max_length}


@dataclass(frozen=True)
class Instrument:
    """One version of a questionnaire. Build it with `instruments.loader`, which validates.

    `content_hash` is the SHA-256 of the canonical JSON of `to_dict()`: two instruments with
    the same hash ask the same questions in the same way. `source` (the file, or "<database>")
    is for messages only and takes no part in equality.

    Equality and `content_hash` cover the English definition only: translations (each part's
    `translations`, and `translations` here for the title and description) are carried beside
    it, so adding a language leaves a version equal to the copy a wave froze before. Compare
    translations with `translation_hash`.
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
    #: The title and description in each language other than English.
    translations: Translations[Heading] = field(default=(), compare=False, repr=False)

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

    # --- languages ------------------------------------------------------------------------

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this instrument is carried in: English first, then `LANGUAGES` order.

        Each is complete: the loader refuses a translation that leaves any text out.
        """
        return (SOURCE_LANGUAGE, *(code for code, _ in self.translations))

    def resolve_language(self, requested: str | None, offered: Iterable[str] | None = None) -> str:
        """The language to show someone who asked for `requested`: the one fallback rule.

        `requested` when this instrument carries it and `offered` (the languages a wave
        offers; every language carried when None) includes it; otherwise English, the source
        language. So a wave that offers only English never shows Welsh, a wave whose frozen
        copy carries no Welsh never shows Welsh, and an unknown or missing request gets
        English. Every text accessor (`title_in`, `Item.text_in`...) then takes the resolved
        language; none of them falls back on its own, so one page is in one language.
        """
        allowed = self.languages if offered is None else set(offered) & set(self.languages)
        return requested if requested in allowed else SOURCE_LANGUAGE

    def title_in(self, language: str) -> str:
        """The title in `language`; ValueError if it is not carried."""
        return self._heading(language).title

    def description_in(self, language: str) -> str:
        """The description in `language` ("" when the English has none)."""
        return self._heading(language).description

    def _heading(self, language: str) -> Heading:
        english = Heading(self.title, self.description)
        return _in_language(f"instrument {self.key!r}", language, english, self.translations)

    def translations_to_dict(self, languages: Iterable[str] | None = None) -> dict[str, Any]:
        """The texts in each language other than English, as plain JSON-ready data.

        This is what a wave freezes beside the (English) definition, for the languages it
        offers (English, if listed, is left out: it is the definition itself). Rebuild with
        ``instrument_from_dict(definition, translations=...)`` or
        ``with_translations(instrument, ...)``. Each language's entry has the shape of a
        translation file (see `instruments.translations`), names the definition it translates
        (``translates``: the content hash) and hashes to `translation_hash`. ValueError for a
        language this instrument does not carry.
        """
        wanted = self.languages[1:] if languages is None else tuple(dict.fromkeys(languages))
        missing = [code for code in wanted if code not in self.languages]
        if missing:
            carried = ", ".join(self.languages)
            raise ValueError(
                f"instrument {self.key!r} v{self.version} has no {', '.join(map(repr, missing))} "
                f"translation (languages: {carried})"
            )
        return {code: self._translation_to_dict(code) for code in wanted if code != SOURCE_LANGUAGE}

    def translation_hash(self, language: str) -> str:
        """SHA-256 of the canonical JSON of one language's `translations_to_dict` entry."""
        return _sha256_of(self.translations_to_dict([language])[language])

    def _translation_to_dict(self, language: str) -> dict[str, Any]:
        heading = self._heading(language)
        return {
            "language": language,
            "translates": self.content_hash,
            "title": heading.title,
            "description": heading.description,
            "scale": {
                "labels": list(self.scale.labels_in(language)),
                "dont_know_label": self.scale.dont_know_label_in(language),
            },
            "dimensions": {
                d.key: {"title": d.title_in(language), "description": d.description_in(language)}
                for d in self.dimensions
            },
            "items": {i.key: i.wording_in(language).to_dict() for i in self.items},
            "comments": {c.key: c.wording_in(language).to_dict() for c in self.comments},
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


def changed_dimensions(previous: Instrument, current: Instrument) -> dict[str, tuple[Phrase, ...]]:
    """Name each dimension whose make-up changed between two versions, and say how.

    Returns {dimension key: changes}, each change a :class:`~analysis.status.Phrase` (the
    name of a wording and the item keys, dimension keys, versions or scale points it states;
    no language's prose: the service words them in the reader's language, see
    ``survey_app/services/results/wording.py``), for dimensions that are new (``new_dimension``),
    dropped (``dropped_dimension``), gained items (``new_items``) or lost them
    (``item_dropped``), had items replaced (``item_replaces``), reworded (``item_reworded``),
    moved in or out (``item_moved_here``, ``item_moved_to``), or whose reverse-keying
    (``item_reverse``) or service-area framing (``item_per_area``) changed, and for every
    dimension when the answer scale changed (``scale_points``, ``scale_labels``). Dimensions
    that did not change are left out, so an empty result means the dimension scores are
    comparable as they stand.
    """
    matches = comparable_items(previous, current)
    continued_by = {earlier: now for now, earlier in matches.items()}
    scale_note = _scale_change(previous.scale, current.scale)
    changes: dict[str, tuple[Phrase, ...]] = {}

    for dim in current.dimensions:
        if dim.key not in previous._dimension_by_key:
            changes[dim.key] = (Phrase("new_dimension", {"version": current.version}),)
            continue
        reasons: list[Phrase] = [scale_note] if scale_note else []
        new = [i.key for i in current.items_in(dim.key) if i.key not in matches]
        if new:
            reasons.append(Phrase("new_items", {"items": new}))
        for item in current.items_in(dim.key):
            earlier_key = matches.get(item.key)
            if earlier_key is None:
                continue
            earlier = previous.item(earlier_key)
            said = {"item": item.key}
            if earlier.dimension != dim.key:
                reasons.append(Phrase("item_moved_here", {**said, "dimension": earlier.dimension}))
            if earlier_key != item.key:
                reasons.append(Phrase("item_replaces", {**said, "previous": earlier_key}))
            elif earlier.wording != item.wording:
                reasons.append(Phrase("item_reworded", said))
            if earlier.reverse != item.reverse:
                reasons.append(Phrase("item_reverse", {**said, "now": item.reverse}))
            if earlier.per_service_area != item.per_service_area:
                reasons.append(Phrase("item_per_area", {**said, "now": item.per_service_area}))
        for earlier in previous.items_in(dim.key):
            now_key = continued_by.get(earlier.key)
            if now_key is None:
                reasons.append(Phrase("item_dropped", {"item": earlier.key}))
            elif current.item(now_key).dimension != dim.key:
                moved_to = current.item(now_key).dimension
                reasons.append(
                    Phrase("item_moved_to", {"item": earlier.key, "dimension": moved_to})
                )
        if reasons:
            changes[dim.key] = tuple(reasons)

    for dim in previous.dimensions:
        if dim.key not in current._dimension_by_key:
            changes[dim.key] = (Phrase("dropped_dimension", {"version": current.version}),)
    return changes


def _scale_change(previous: Scale, current: Scale) -> Phrase | None:
    if previous.points != current.points:
        return Phrase("scale_points", {"previous": previous.points, "current": current.points})
    if previous.labels != current.labels:
        return Phrase("scale_labels")
    return None
