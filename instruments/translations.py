"""Instruments in more than one language: where translations live, how they are checked, and
how a wave keeps the wording it showed.

The decision
------------
A version's definition, ``<key>/v<N>.yaml``, is written in English (`SOURCE_LANGUAGE`), and
only the definition is hashed: `Instrument.content_hash` covers what is asked and how it is
scored, exactly as it did before instruments had languages. Each other language lives beside
it in a file of its own, ``<key>/v<N>.<language>.yaml`` (``v1.cy.yaml`` for Welsh), which the
loader finds and checks every time it loads ``v<N>.yaml``. So:

* Adding or correcting a language never touches the hashed file. ``v1.yaml`` stays byte for
  byte the file that waves froze, its content hash stays what it was (a test pins it), and a
  wave's frozen copy still loads and compares equal to the file's. The rule "never edit a
  used version" keeps no exceptions.
* A version's languages are English plus one file each. A file declares its language
  (``language: cy``, which must agree with its name) and must translate *everything*: the
  title and description, each dimension's title and description, the scale's labels and
  "don't know" label, and both sides of every item and free-text question, with the same
  placeholders as the English. Whatever is missing is named (file, part, key, side,
  language). A partial translation is refused rather than patched with English, so nothing
  falls back one string at a time and a respondent never sees a page switch language half
  way.
* A translation has its own hash (`Instrument.translation_hash`), and its frozen form travels
  apart from the definition: `Instrument.translations_to_dict` gives what a wave freezes for
  the languages it offers, and `with_translations` (or ``instrument_from_dict(...,
  translations=...)``) puts it back. A correction to ``v1.cy.yaml`` therefore changes what new
  waves show, never what an earlier wave showed. A translation may name the definition it
  translates (``translates:``, its content hash; optional in a file, always in the frozen
  form), and is refused against any other definition: a stale translation of a redrafted
  English text, or one version's Welsh attached to another version.

Rejected alternatives: a ``translations:`` block inside ``v<N>.yaml`` left out of the hash (one
file, but translating a used version would mean editing a file that must not change); a new
version per language, mapped by item keys (it would split trends and the comparison between
Welsh and English respondents over a change of language alone).

The fallback rule
-----------------
`Instrument.resolve_language(requested, offered)` is the only one: the requested language
when the instrument carries it and the wave offers it, else English. The text accessors
(`Instrument.title_in`, `Dimension.title_in`, `Scale.labels_in`, `Item.text_in`...) raise
ValueError for a language not carried instead of falling back.

A translation file
------------------
::

    language: cy
    translates: a9d77d35...        # optional: the content hash of v1.yaml
    title: ...
    description: ...               # only when the English has one
    scale:
      labels: [..., ..., ..., ..., ...]     # low to high, one per point
      dont_know_label: ...
    dimensions:
      trust: {title: ..., description: ...}
    items:
      tr1: {client: "...{partner}...", supplier: "...{partner}..."}
    comments:
      comment_improve: {client: ..., supplier: ...}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from instruments._reading import Reader, describe, placeholders_in, suggestion
from instruments.schema import (
    LANGUAGES,
    SIDES,
    SOURCE_LANGUAGE,
    Heading,
    Instrument,
    InstrumentError,
    ScaleLabels,
    Wording,
)

_TOP_FIELDS = (
    "language",
    "translates",
    "title",
    "description",
    "scale",
    "dimensions",
    "items",
    "comments",
)
_SCALE_FIELDS = ("labels", "dont_know_label")
_HEADING_FIELDS = ("title", "description")


@dataclass(frozen=True)
class TranslationSource:
    """One translation to check: its language (from its file name, or the key it is stored
    under), where it came from (for messages), its loaded data, and any problems already
    found while reading it (duplicate YAML keys)."""

    language: str
    source: str
    data: object
    problems: tuple[str, ...] = ()


def translation_source_name(source: str, language: str) -> str:
    """How messages name the `language` translation of a definition called `source`."""
    if source.endswith(".yaml"):
        return f"{source[: -len('.yaml')]}.{language}.yaml"
    return f"{source} ({language})"


def with_translations(
    instrument: Instrument,
    translations: Mapping[str, Mapping[str, Any]],
    source: str | None = None,
) -> Instrument:
    """`instrument` carrying exactly the given translations, each checked for completeness.

    `translations` maps a language to its texts in the shape of a translation file, e.g. what
    `Instrument.translations_to_dict` gave when a wave froze them. Any translations
    `instrument` already carried are replaced. InstrumentError lists every fault, each line
    naming `source` (by default the instrument's own) with the language, the part, the key
    and, for wording, the side.
    """
    base = instrument.source if source is None else source
    return attach_translations(
        instrument,
        [
            TranslationSource(language, translation_source_name(base, language), data)
            for language, data in translations.items()
        ],
    )


def attach_translations(
    instrument: Instrument, translations: Iterable[TranslationSource]
) -> Instrument:
    """`instrument` carrying exactly `translations`; InstrumentError lists every fault."""
    problems: list[str] = []
    checked: dict[str, _Texts] = {}
    for translation in translations:
        checker = _TranslationChecker(translation.source, instrument, translation.language)
        checker.problems.extend(translation.problems)
        texts = checker.translation(translation.data)
        if translation.language in checked:
            checker.problem("", f"a second {translation.language!r} translation")
        problems.extend(checker.problems)
        if texts is not None and not checker.problems:
            checked[translation.language] = texts
    if problems:
        raise InstrumentError(problems)
    order = [code for code in LANGUAGES if code in checked]
    return _with_texts(instrument, [(code, checked[code]) for code in order])


@dataclass(frozen=True)
class _Texts:
    """Every text of an instrument in one language, checked complete."""

    heading: Heading
    scale: ScaleLabels
    dimensions: dict[str, Heading]
    items: dict[str, Wording]
    comments: dict[str, Wording]


def _with_texts(instrument: Instrument, texts: list[tuple[str, _Texts]]) -> Instrument:
    replace = dataclasses.replace
    return replace(
        instrument,
        translations=tuple((code, t.heading) for code, t in texts),
        scale=replace(instrument.scale, translations=tuple((c, t.scale) for c, t in texts)),
        dimensions=tuple(
            replace(d, translations=tuple((c, t.dimensions[d.key]) for c, t in texts))
            for d in instrument.dimensions
        ),
        items=tuple(
            replace(i, translations=tuple((c, t.items[i.key]) for c, t in texts))
            for i in instrument.items
        ),
        comments=tuple(
            replace(q, translations=tuple((c, t.comments[q.key]) for c, t in texts))
            for q in instrument.comments
        ),
    )


class _TranslationChecker(Reader):
    """Checks one language's texts against the English definition they translate."""

    def __init__(self, source: str, instrument: Instrument, language: str) -> None:
        super().__init__(source)
        self.instrument = instrument
        self.language = language

    def translation(self, data: object) -> _Texts | None:
        if not self.language_ok():
            return None
        if data is None:
            self.problem("", "the translation is empty")
            return None
        top = self.fields("", data, _TOP_FIELDS, ("language",), "a mapping of translated texts")
        if top is None:
            return None
        declared = top.get("language")
        if declared is not None and declared != self.language:
            self.problem(
                "", f"'language' is {describe(declared)} but its name says {self.language!r}"
            )
        self.translates(top.get("translates"))
        english = self.instrument
        heading = self.heading("", top, Heading(english.title, english.description))
        scale = self.scale(top.get("scale"))
        dimensions = {
            key: self.heading(f"dimension {key!r}", fields, Heading(d.title, d.description))
            for key, fields, d in self.section(
                "dimensions", "dimension", top.get("dimensions"), english.dimensions
            )
        }
        items = {
            key: self.wording(f"item {key!r}", value, item.wording)
            for key, value, item in self.section("items", "item", top.get("items"), english.items)
        }
        comments = {
            key: self.wording(f"comment {key!r}", value, question.wording)
            for key, value, question in self.section(
                "comments", "comment", top.get("comments"), english.comments
            )
        }
        parts = [heading, scale, *dimensions.values(), *items.values(), *comments.values()]
        if self.problems or any(part is None for part in parts):
            return None
        return _Texts(heading, scale, dimensions, items, comments)

    def language_ok(self) -> bool:
        if self.language == SOURCE_LANGUAGE:
            self.problem(
                "",
                f"{SOURCE_LANGUAGE!r} is the language of the definition itself; "
                "only other languages are translations",
            )
            return False
        if self.language not in LANGUAGES:
            others = [code for code in LANGUAGES if code != SOURCE_LANGUAGE]
            self.problem(
                "",
                f"unknown language {describe(self.language)}"
                f"{suggestion(self.language, others)} (languages: {', '.join(others)})",
            )
            return False
        return True

    def translates(self, value: object) -> None:
        if value is None or value == self.instrument.content_hash:
            return
        if not isinstance(value, str):
            self.problem("", f"'translates' must be a content hash, not {describe(value)}")
            return
        self.problem(
            "",
            f"'translates' names definition {value[:12]}, but this definition is "
            f"{self.instrument.content_hash[:12]}: the English has changed since it was "
            "translated, or this translation belongs to another version. Check the "
            "translation against the English, then update 'translates'",
        )

    def section(
        self, name: str, kind: str, value: object, parts: Iterable[Any]
    ) -> list[tuple[str, Any, Any]]:
        """(key, entry, English part) for each of the definition's `parts`, in its order;
        reports entries whose key the definition does not have."""
        english = list(parts)
        keys = [part.key for part in english]
        if value is None:
            value = {}
        elif not isinstance(value, Mapping):
            self.problem(name, f"must map each {kind} key to its texts, not {describe(value)}")
            value = {}
        for key in value:
            if key not in keys:
                self.problem(
                    f"{kind} {key!r}",
                    f"no such {kind} in the definition{suggestion(key, keys)}",
                )
        return [(part.key, value.get(part.key), part) for part in english]

    def text_for(self, where: str, value: object, name: str, english: str) -> str | None:
        """The translation of one English text called `name` (e.g. "'title'")."""
        language = self.language
        blank = value is None or (isinstance(value, str) and not value.strip())
        if not english:
            if not blank:
                self.problem(where, f"has a {language} {name} but the English has none")
            return ""
        if value is None:
            self.problem(where, f"missing {language} {name}")
            return None
        if not isinstance(value, str) or blank:
            self.problem(where, f"{language} {name} must be non-empty text, not {describe(value)}")
            return None
        return " ".join(value.split())

    def heading(self, where: str, value: object, english: Heading) -> Heading | None:
        if value is not None and not isinstance(value, Mapping):
            self.problem(where, f"must be a mapping with the {self.language} title and description")
            return None
        fields = dict(value or {})
        if where:  # a dimension: only its title and description
            self.fields(where, fields, _HEADING_FIELDS, ())
        title = self.text_for(where, fields.get("title"), "'title'", english.title)
        description = self.text_for(
            where, fields.get("description"), "'description'", english.description
        )
        if title is None or description is None:
            return None
        return Heading(title, description)

    def scale(self, value: object) -> ScaleLabels | None:
        english = self.instrument.scale
        fields = {} if value is None else self.fields("scale", value, _SCALE_FIELDS, ())
        if fields is None:
            return None
        labels = self.labels(fields.get("labels"), english.points)
        dont_know = self.text_for(
            "scale", fields.get("dont_know_label"), "'dont_know_label'", english.dont_know_label
        )
        if labels is not None and dont_know is not None and dont_know in labels:
            self.problem(
                "scale", f"{self.language} 'dont_know_label' {dont_know!r} is also a scale label"
            )
            return None
        if labels is None or dont_know is None:
            return None
        return ScaleLabels(labels, dont_know)

    def labels(self, value: object, points: int) -> tuple[str, ...] | None:
        language = self.language
        if value is None:
            self.problem("scale", f"missing {language} 'labels'")
            return None
        if not isinstance(value, list) or not all(
            isinstance(label, str) and label.strip() for label in value
        ):
            self.problem("scale", f"{language} 'labels' must be a list of non-empty texts")
            return None
        labels = tuple(" ".join(label.split()) for label in value)
        if len(labels) != points:
            self.problem(
                "scale",
                f"{language} 'labels' has {len(labels)} entries but the scale has {points} points",
            )
            return None
        if len(set(labels)) != len(labels):
            self.problem("scale", f"{language} 'labels' must all be different")
            return None
        return labels

    def wording(self, where: str, value: object, english: Wording) -> Wording | None:
        language = self.language
        if value is not None and not isinstance(value, Mapping):
            self.problem(
                where, f"must give the {language} wording for each side ({', '.join(SIDES)})"
            )
            return None
        value = value or {}
        for side in value:
            if side not in SIDES:
                self.problem(where, f"unknown wording side {side!r}{suggestion(side, SIDES)}")
        texts: dict[str, str] = {}
        for side in SIDES:
            text = self.text_for(
                where, value.get(side), f"wording for side {side!r}", english[side]
            )
            if text is not None and self.same_placeholders(where, side, text, english[side]):
                texts[side] = text
        return Wording(**texts) if len(texts) == len(SIDES) else None

    def same_placeholders(self, where: str, side: str, text: str, english: str) -> bool:
        what = f"{self.language} {side} wording"
        if not self.placeholders_ok(where, what, text, self.instrument.placeholders):
            return False
        used, wanted = placeholders_in(text), placeholders_in(english)
        if used != wanted:
            self.problem(
                where,
                f"{what} must use the placeholders of the English ({_listed(wanted)}), "
                f"not ({_listed(used)})",
            )
            return False
        return True


def _listed(names: set[str]) -> str:
    return ", ".join("{" + name + "}" for name in sorted(names)) or "none"
