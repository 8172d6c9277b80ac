"""Read and check instrument definitions.

An instrument version lives in ``instruments/<key>/v<N>.yaml``. Loading checks every rule of
the format, collects *all* the faults it finds and raises one `InstrumentError` listing them,
each naming the file, the item or dimension and the fault, for example::

    instruments/partnership-health/v1.yaml: item 'tr3': unknown dimension 'trsut'

Each ``<key>/v<N>.<language>.yaml`` beside it (``v1.cy.yaml``) is a translation, loaded and
checked complete with it (`instruments.translations` explains the format and why translations
live apart from the hashed definition).

The same checks run on a definition rebuilt from the database (`instrument_from_dict`), so a
frozen definition and a file are held to one standard. Only ``yaml.SafeLoader`` is used.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from instruments._reading import (
    INSTRUMENT_KEY,
    NAME,
    Reader,
    describe,
    is_int,
    is_number,
    suggestion,
)
from instruments.schema import (
    SIDES,
    Bands,
    CommentQuestion,
    Dimension,
    Instrument,
    InstrumentError,
    Item,
    Scale,
    Wording,
)
from instruments.translations import (
    TranslationSource,
    attach_translations,
    translation_source_name,
    with_translations,
)

#: The folder holding the instrument definitions (``<key>/v<N>.yaml``).
INSTRUMENTS_DIR: Path = Path(__file__).resolve().parent

_PROJECT_ROOT = INSTRUMENTS_DIR.parent
_FILE_NAME = re.compile(r"v([1-9][0-9]*)\.yaml")

# Longest item or comment key: they become column names in downloads (SPSS allows 64).
_MAX_KEY_LENGTH = 64
# Item and comment keys become SPSS variable names, which may not be these words.
_SPSS_RESERVED = frozenset(
    {"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"}
)
_POINTS_RANGE = (3, 11)
_MAX_COMMENT_LENGTH = 20_000
_DEFAULT_BANDS = Bands()
# The default bands (4.0 / 3.0) are for a 5-point agreement scale only.
_DEFAULT_BANDS_POINTS = 5

_TOP_FIELDS = (
    "key",
    "version",
    "title",
    "description",
    "minutes",
    "scale",
    "bands",
    "placeholders",
    "dimensions",
    "items",
    "comments",
)
_SCALE_FIELDS = ("points", "labels", "favourable", "unfavourable", "dont_know_label")
_BAND_FIELDS = ("strength", "concern")
_DIMENSION_FIELDS = ("key", "title", "description", "weight", "outcome")
_ITEM_FIELDS = (
    "key",
    "dimension",
    "wording",
    "reverse",
    "dont_know",
    "per_service_area",
    "replaces",
)
_COMMENT_FIELDS = ("key", "wording", "max_length")


# --- public API -----------------------------------------------------------------------------


def load_instrument(path: str | Path) -> Instrument:
    """Load and check one instrument file, with every translation file beside it.

    When the file is named ``v<N>.yaml`` its `version` must be N and its `key` must be the
    name of the folder it sits in. Its translations are the files `translation_files` finds;
    each must be complete. Given a translation file (``v1.cy.yaml``) whose definition sits
    beside it, the definition is loaded instead, with all its translations: a translation is
    checked against what it translates.
    """
    path = _definition_of(Path(path))
    source = _display_name(path)
    text = _read(path, source)
    translations = tuple(
        (language, _display_name(file), _read(file, _display_name(file)))
        for language, file in translation_files(path)
    )
    expected: dict[str, Any] = {}
    match = _FILE_NAME.fullmatch(path.name)
    if match:
        expected = {"version": int(match[1]), "key": path.parent.name}
    return _load_text(text, source, expected, translations)


def load_instrument_text(
    text: str, source: str = "<string>", translations: Mapping[str, str] | None = None
) -> Instrument:
    """Load and check an instrument from YAML text; `source` names it in messages.

    `translations` maps a language to the YAML text of its translation file.
    """
    named = tuple(
        (language, translation_source_name(source, language), translated)
        for language, translated in (translations or {}).items()
    )
    return _load_text(text, source, {}, named)


def instrument_from_dict(
    definition: Mapping[str, Any],
    source: str = "<database>",
    translations: Mapping[str, Mapping[str, Any]] | None = None,
) -> Instrument:
    """Rebuild an instrument from `Instrument.to_dict()` output (e.g. frozen in the database).

    The definition is checked exactly as a file is, and the result has the same
    `content_hash` as the instrument that produced it. `translations`, when given, is what
    `Instrument.translations_to_dict` produced (e.g. frozen with a wave), checked complete
    and carried by the result with the same `translation_hash` per language.
    """
    instrument = _checked(_Checker(source), definition, {})
    if not translations:
        return instrument
    return with_translations(instrument, translations, source)


def available_instruments(root: str | Path = INSTRUMENTS_DIR) -> list[tuple[str, int, Path]]:
    """Every ``<key>/v<N>.yaml`` under `root` as (key, version, path), sorted.

    Only file names are read; loading (and checking) happens in `find_instrument`.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    found: list[tuple[str, int, Path]] = []
    for folder in root.iterdir():
        if not (folder.is_dir() and INSTRUMENT_KEY.fullmatch(folder.name)):
            continue
        for file in folder.iterdir():
            match = _FILE_NAME.fullmatch(file.name)
            if match and file.is_file():
                found.append((folder.name, int(match[1]), file))
    return sorted(found, key=lambda entry: (entry[0], entry[1]))


def translation_files(definition: str | Path) -> list[tuple[str, Path]]:
    """The translations of a definition file, as (language, path) sorted by language: each
    ``<name>.<language>.yaml`` beside ``<name>.yaml`` (``v1.cy.yaml`` beside ``v1.yaml``).

    Only file names are read; an unknown language is reported when the definition loads.
    """
    definition = Path(definition)
    if definition.suffix != ".yaml" or not definition.parent.is_dir():
        return []
    prefix = definition.name[: -len(".yaml")] + "."
    found: list[tuple[str, Path]] = []
    for file in definition.parent.iterdir():
        name = file.name
        language = name[len(prefix) : -len(".yaml")]
        if (
            name.startswith(prefix)
            and name.endswith(".yaml")
            and language
            and "." not in language
            and file.is_file()
        ):
            found.append((language, file))
    return sorted(found)


def find_instrument(key: str, version: int, root: str | Path = INSTRUMENTS_DIR) -> Instrument:
    """Load version `version` of instrument `key`; InstrumentError "no instrument ..." if absent."""
    root = Path(root)
    valid_key = isinstance(key, str) and INSTRUMENT_KEY.fullmatch(key)
    valid_version = isinstance(version, int) and not isinstance(version, bool) and version >= 1
    path = root / str(key) / f"v{version}.yaml"
    if not (valid_key and valid_version and path.is_file()):
        raise InstrumentError(f"no instrument {key!r} version {version!r} in {_display_name(root)}")
    return load_instrument(path)


# --- YAML -----------------------------------------------------------------------------------


def _read(path: Path, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InstrumentError(f"{source}: not UTF-8 text") from None
    except OSError as error:
        raise InstrumentError(f"{source}: cannot read the file ({error.strerror})") from None


def _definition_of(path: Path) -> Path:
    """The definition a translation file translates, or `path` itself."""
    stem, dot, language = path.name.removesuffix(".yaml").rpartition(".")
    if path.suffix == ".yaml" and dot and stem and language:
        definition = path.with_name(f"{stem}.yaml")
        if definition.is_file():
            return definition
    return path


# (language, source, YAML text) of each translation of one definition
_TranslationTexts = tuple[tuple[str, str, str], ...]


def _load_text(
    text: str, source: str, expected: dict[str, Any], translations: _TranslationTexts = ()
) -> Instrument:
    return _load_text_once(text, source, tuple(sorted(expected.items())), translations)


@functools.lru_cache(maxsize=64)
def _load_text_once(
    text: str,
    source: str,
    expected_items: tuple[tuple[str, Any], ...],
    translations: _TranslationTexts,
) -> Instrument:
    """Parse and check each distinct text once per process: an Instrument is immutable, and a
    request, a wave or the demo may load the same version many times. (Keyed by the texts
    themselves, definition and translations, so an edited file is read afresh; a file that
    fails raises each time.)"""
    expected = dict(expected_items)
    data, yaml_problems = _parse_yaml(text, source)
    checker = _Checker(source)
    checker.problems.extend(yaml_problems)
    instrument = _checked(checker, data, expected)
    if not translations:
        return instrument
    checked = []
    for language, translation_source, translated in translations:
        translation, problems = _parse_yaml(translated, translation_source)
        checked.append(
            TranslationSource(language, translation_source, translation, tuple(problems))
        )
    return attach_translations(instrument, checked)


def _checked(checker: _Checker, data: object, expected: Mapping[str, Any]) -> Instrument:
    instrument = checker.instrument(data, expected=expected)
    if instrument is None or checker.problems:
        raise InstrumentError(checker.problems)
    return instrument


def _parse_yaml(text: str, source: str) -> tuple[Any, list[str]]:
    """Safe-load `text`, and list the mapping keys that appear twice (which PyYAML allows)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        problems = _duplicate_keys(node, source) if node is not None else []
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        detail = error.problem or error.context or "not valid YAML"
        if error.context and error.problem:
            started = error.context_mark
            at = f" at line {started.line + 1}" if started and started.line != mark.line else ""
            detail = f"{error.problem} ({error.context}{at})"
        raise InstrumentError(f"{source}: {where}YAML syntax error: {detail}") from None
    except yaml.YAMLError as error:
        raise InstrumentError(f"{source}: YAML syntax error: {error}") from None
    except RecursionError:
        raise InstrumentError(f"{source}: YAML is nested too deeply") from None
    finally:
        loader.dispose()
    return data, problems


_SECTION_NAMES = {"items": "item", "dimensions": "dimension", "comments": "comment"}


def _duplicate_keys(root: yaml.Node, source: str) -> list[str]:
    problems: list[str] = []
    visited: set[int] = set()

    def walk(node: yaml.Node, where: str) -> None:
        if id(node) in visited:  # aliases share nodes; visit each once
            return
        visited.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for child in node.value:
                walk(child, where)
        elif isinstance(node, yaml.MappingNode):
            first_line: dict[tuple[str, str], int] = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        walk(value_node, where)
                        continue
                    line = key_node.start_mark.line + 1
                    seen_at = first_line.setdefault((key_node.tag, key_node.value), line)
                    if seen_at != line:
                        prefix = f"{where}: " if where else ""
                        problems.append(
                            f"{source}: {prefix}duplicate field {key_node.value!r} "
                            f"at line {line} (first at line {seen_at})"
                        )
                    if node is root:
                        walk_section(key_node.value, value_node)
                        continue
                walk(value_node, where)

    def walk_section(name: str, node: yaml.Node) -> None:
        if name in _SECTION_NAMES and isinstance(node, yaml.SequenceNode):
            visited.add(id(node))
            for position, child in enumerate(node.value, start=1):
                walk(child, _node_label(_SECTION_NAMES[name], position, child))
        elif name in ("scale", "bands"):
            walk(node, name)
        else:
            walk(node, "")

    walk(root, "")
    return problems


def _node_label(kind: str, position: int, node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value == "key"
                and isinstance(value_node, yaml.ScalarNode)
            ):
                return f"{kind} {value_node.value!r}"
    return f"{kind} {position}"


def _display_name(path: Path) -> str:
    """A path as messages show it: relative to the project when it is inside it."""
    try:
        return path.resolve().relative_to(_PROJECT_ROOT).as_posix()
    except (ValueError, OSError):
        return str(path)


# --- checking -------------------------------------------------------------------------------


class _Checker(Reader):
    """Walks a loaded definition, records every problem and builds the dataclasses."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        # where each item or comment key was first seen, e.g. "item 3"
        self.key_positions: dict[str, str] = {}
        # every well-formed dimension key declared, even where the rest of the dimension is wrong
        self.dimension_keys: list[str] = []
        # how many items each entry names as its dimension, good or bad
        self.items_per_dimension: dict[str, int] = {}

    # the definition

    def instrument(
        self, data: object, expected: Mapping[str, Any] | None = None
    ) -> Instrument | None:
        expected = expected or {}
        if data is None:
            self.problem("", "the definition is empty")
            return None
        required = ("key", "version", "title", "minutes", "scale", "dimensions", "items")
        top = self.fields("", data, _TOP_FIELDS, required, "a YAML mapping of instrument fields")
        if top is None:
            return None

        key = None
        if top.get("key") is not None:
            key = self.slug("", top["key"], "key", INSTRUMENT_KEY)
        version = self.whole_number("", top, "version", 1)
        if key is not None and "key" in expected and key != expected["key"]:
            self.problem("", f"key {key!r} does not match the folder name {expected['key']!r}")
        if version is not None and "version" in expected and version != expected["version"]:
            self.problem("", f"version is {version} but the file name says v{expected['version']}")
        title = self.text("", top, "title")
        description = self.text("", top, "description", default="")
        minutes = self.whole_number("", top, "minutes", 1)

        scale = self.scale(top.get("scale"))
        bands = self.bands(top.get("bands"), scale)
        placeholders = self.placeholders(top.get("placeholders"))
        dimensions = self.dimensions(top.get("dimensions"))
        items = self.items(top.get("items"), set(self.dimension_keys), placeholders)
        comments = self.comments(top.get("comments"), placeholders)
        self.check_item_counts()

        if self.problems:
            return None
        return Instrument(
            key=key,
            version=version,
            title=title,
            description=description,
            minutes=minutes,
            scale=scale,
            bands=bands,
            placeholders=placeholders,
            dimensions=tuple(dimensions),
            items=tuple(items),
            comments=tuple(comments),
            source=self.source,
        )

    def scale(self, value: object) -> Scale | None:
        if value is None:
            return None  # reported as missing
        fields = self.fields(
            "scale", value, _SCALE_FIELDS, ("points", "labels", "favourable", "unfavourable")
        )
        if fields is None:
            return None
        points = self.whole_number("scale", fields, "points", *_POINTS_RANGE)
        labels = fields.get("labels")
        if labels is not None:
            if not isinstance(labels, list) or not all(
                isinstance(label, str) and label.strip() for label in labels
            ):
                self.problem("scale", "'labels' must be a list of non-empty texts, low to high")
                labels = None
            else:
                labels = tuple(label.strip() for label in labels)
                if points is not None and len(labels) != points:
                    self.problem(
                        "scale", f"'labels' has {len(labels)} entries but 'points' is {points}"
                    )
                    labels = None
                elif len(set(labels)) != len(labels):
                    self.problem("scale", "'labels' must all be different")
        favourable = self.scale_values(fields, "favourable", points)
        unfavourable = self.scale_values(fields, "unfavourable", points)
        if favourable and unfavourable:
            both = sorted(set(favourable) & set(unfavourable))
            if both:
                listed = ", ".join(map(str, both))
                verb = "is" if len(both) == 1 else "are"
                self.problem("scale", f"{listed} {verb} in both 'favourable' and 'unfavourable'")
            elif min(favourable) < max(unfavourable):
                self.problem(
                    "scale",
                    "every 'favourable' value must be above every 'unfavourable' value "
                    "(labels run low to high)",
                )
        dont_know_label = self.text("scale", fields, "dont_know_label", default="Don't know")
        if labels and dont_know_label in labels:
            self.problem("scale", f"'dont_know_label' {dont_know_label!r} is also a scale label")
        if None in (points, labels, favourable, unfavourable, dont_know_label):
            return None
        return Scale(points, labels, favourable, unfavourable, dont_know_label)

    def scale_values(
        self, fields: Mapping[str, Any], name: str, points: int | None
    ) -> tuple[int, ...] | None:
        value = fields.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not value or not all(is_int(v) for v in value):
            self.problem("scale", f"{name!r} must be a non-empty list of whole numbers")
            return None
        if len(set(value)) != len(value):
            self.problem("scale", f"{name!r} lists a value twice")
            return None
        if points is not None:
            outside = [v for v in value if not 1 <= v <= points]
            if outside:
                listed = ", ".join(map(str, outside))
                self.problem("scale", f"{name!r} value {listed} is outside 1..{points}")
                return None
        return tuple(sorted(value))

    def bands(self, value: object, scale: Scale | None) -> Bands | None:
        points = scale.points if scale else None
        if value is None:
            if points is not None and points != _DEFAULT_BANDS_POINTS:
                self.problem(
                    "bands",
                    f"the default bands suit a 5-point scale; give 'strength' and 'concern' "
                    f"for this {points}-point scale",
                )
                return None
            return _DEFAULT_BANDS
        fields = self.fields("bands", value, _BAND_FIELDS, ())
        if fields is None:
            return None
        cuts: dict[str, float] = {}
        for name in _BAND_FIELDS:
            cut = fields.get(name, getattr(_DEFAULT_BANDS, name))
            if not is_number(cut):
                self.problem("bands", f"{name!r} must be a number, not {describe(cut)}")
                continue
            if points is not None and not 1 <= cut <= points:
                self.problem("bands", f"{name!r} {cut} is outside 1..{points}")
                continue
            cuts[name] = float(cut)
        if len(cuts) < len(_BAND_FIELDS):
            return None
        if cuts["concern"] >= cuts["strength"]:
            self.problem(
                "bands",
                f"'concern' ({cuts['concern']}) must be below 'strength' ({cuts['strength']})",
            )
            return None
        return Bands(**cuts)

    def placeholders(self, value: object) -> tuple[str, ...]:
        names = ["partner"]
        if value is None:
            return tuple(names)
        if not isinstance(value, list):
            self.problem("placeholders", f"must be a list of names, not {describe(value)}")
            return tuple(names)
        seen: set[str] = set()
        for name in value:
            if self.slug("placeholders", name, "name", NAME) is None:
                continue
            if name in seen:
                self.problem("placeholders", f"{name!r} listed twice")
            seen.add(name)
            if name not in names:
                names.append(name)
        return tuple(names)

    def entries(
        self,
        section: str,
        value: object,
        kind: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...],
        *,
        may_be_empty: bool = False,
    ) -> Iterator[tuple[int, str, dict[str, Any]]]:
        """(position, label, fields) of each entry of a list section (``dimensions``,
        ``items``, ``comments``); a section that is not a list (or is empty, unless it
        ``may_be_empty``) and an entry that is not a mapping are reported and skipped."""
        if value is None:
            return
        if may_be_empty and not isinstance(value, list):
            self.problem(section, f"must be a list, not {describe(value)}")
            return
        if not may_be_empty and (not isinstance(value, list) or not value):
            self.problem(section, "must be a non-empty list")
            return
        for position, entry in enumerate(value, start=1):
            where = self.label(kind, position, entry)
            fields = self.fields(where, entry, allowed, required)
            if fields is not None:
                yield position, where, fields

    def dimensions(self, value: object) -> list[Dimension]:
        dimensions: list[Dimension] = []
        first_at: dict[str, int] = {}
        required = ("key", "title")
        for position, where, fields in self.entries(
            "dimensions", value, "dimension", _DIMENSION_FIELDS, required
        ):
            key = None
            if fields.get("key") is not None:
                key = self.slug(where, fields["key"], "key", NAME)
            if key is not None and key in first_at:
                self.problem(where, f"duplicate key (also at dimension {first_at[key]})")
                key = None
            elif key is not None:
                first_at[key] = position
                self.dimension_keys.append(key)
            title = self.text(where, fields, "title")
            description = self.text(where, fields, "description", default="")
            weight = fields.get("weight", 1.0)
            if weight is None:
                weight = 1.0
            if not is_number(weight) or not weight > 0 or weight == float("inf"):
                self.problem(where, f"'weight' must be a number above 0, not {describe(weight)}")
                weight = None
            outcome = self.boolean(where, fields, "outcome")
            if None not in (key, title, description, weight, outcome):
                dimensions.append(Dimension(key, title, description, float(weight), outcome))
        return dimensions

    def items(
        self, value: object, dimensions: set[str], placeholders: tuple[str, ...]
    ) -> list[Item]:
        items: list[Item] = []
        replaced_by: dict[str, str] = {}
        required = ("key", "dimension", "wording")
        for position, where, fields in self.entries("items", value, "item", _ITEM_FIELDS, required):
            key = self.question_key(where, fields, f"item {position}")
            dimension = fields.get("dimension")
            if isinstance(dimension, str):
                counts = self.items_per_dimension
                counts[dimension] = counts.get(dimension, 0) + 1
            if dimension is not None and dimension not in dimensions:
                if self.slug(where, dimension, "dimension", NAME) is not None:
                    hint = suggestion(dimension, sorted(dimensions))
                    self.problem(where, f"unknown dimension {dimension!r}{hint}")
                dimension = None
            wording = self.wording(where, fields.get("wording"), placeholders)
            reverse = self.boolean(where, fields, "reverse")
            dont_know = self.boolean(where, fields, "dont_know")
            per_service_area = self.boolean(where, fields, "per_service_area")
            replaces = fields.get("replaces")
            if replaces is not None:
                replaces = self.slug(where, replaces, "'replaces'", NAME)
                if replaces is not None and replaces == key:
                    self.problem(where, "'replaces' names the item itself; same keys match anyway")
                elif replaces is not None and replaces in replaced_by:
                    self.problem(
                        where,
                        f"'replaces' {replaces!r} is already replaced by "
                        f"item {replaced_by[replaces]!r}",
                    )
                elif replaces is not None:
                    replaced_by[replaces] = key or f"item {position}"
            built = (key, dimension, wording, reverse, dont_know, per_service_area)
            if None not in built:
                items.append(Item(*built, replaces=replaces))
        item_keys = {item.key for item in items}
        for replaced, by in replaced_by.items():
            if replaced in item_keys:
                self.problem(
                    f"item {by!r}",
                    f"'replaces' {replaced!r}, but this version still has an item {replaced!r}",
                )
        return items

    def comments(self, value: object, placeholders: tuple[str, ...]) -> list[CommentQuestion]:
        comments: list[CommentQuestion] = []
        for position, where, fields in self.entries(
            "comments", value, "comment", _COMMENT_FIELDS, ("key", "wording"), may_be_empty=True
        ):
            key = self.question_key(where, fields, f"comment {position}")
            wording = self.wording(where, fields.get("wording"), placeholders)
            max_length = 2000
            if fields.get("max_length") is not None:
                max_length = self.whole_number(where, fields, "max_length", 1, _MAX_COMMENT_LENGTH)
            if None not in (key, wording, max_length):
                comments.append(CommentQuestion(key, wording, max_length))
        return comments

    def question_key(self, where: str, fields: Mapping[str, Any], position: str) -> str | None:
        """An item or comment key: a name, unique across items and comments."""
        value = fields.get("key")
        if value is None:
            return None
        key = self.slug(where, value, "key", NAME)
        if key is None:
            return None
        if len(key) > _MAX_KEY_LENGTH:
            self.problem(where, f"key is longer than {_MAX_KEY_LENGTH} characters")
            return None
        if key in _SPSS_RESERVED:
            self.problem(where, f"key {key!r} is a reserved word in SPSS; choose another")
            return None
        if key in self.key_positions:
            self.problem(where, f"duplicate key (also at {self.key_positions[key]})")
            return None
        self.key_positions[key] = position
        return key

    def wording(self, where: str, value: object, placeholders: tuple[str, ...]) -> Wording | None:
        if value is None:
            return None  # reported as missing
        if not isinstance(value, Mapping):
            self.problem(where, f"'wording' must give the text for each side ({', '.join(SIDES)})")
            return None
        texts: dict[str, str] = {}
        for side in value:
            if side not in SIDES:
                self.problem(where, f"unknown wording side {side!r}{suggestion(side, SIDES)}")
        for side in SIDES:
            text = value.get(side)
            if text is None:
                self.problem(where, f"missing wording for side {side!r}")
            elif not isinstance(text, str) or not text.strip():
                self.problem(where, f"wording for side {side!r} must be non-empty text")
            elif self.placeholders_ok(where, f"{side} wording", text, placeholders):
                texts[side] = " ".join(text.split())
        if len(texts) != len(SIDES):
            return None
        return Wording(**texts)

    def check_item_counts(self) -> None:
        for key in self.dimension_keys:
            count = self.items_per_dimension.get(key, 0)
            if count < 2:
                plural = "" if count == 1 else "s"
                self.problem(
                    f"dimension {key!r}",
                    f"has {count} item{plural}; every dimension needs at least 2",
                )
